"""Turn the text a team typed into typed columns, the way a person would read it.

Numbers stored as text, thousand separators, dates as Excel serials or as text, periods
written as dates: all are understood here with Polars expressions. A cell that cannot be
understood becomes a null plus a ``type`` issue naming the cell, so validation can go on
and report every problem of the file at once.
"""

from __future__ import annotations

import polars as pl

from transforms.intake.issues import Issue, short_value

EXCEL_EPOCH = pl.date(1899, 12, 30)
_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"


def number_expr(col: str) -> pl.Expr:
    text = pl.col(col).str.strip_chars().str.replace_all(r"[\s\u00a0]", "")
    cleaned = pl.when(text.str.contains(_THOUSANDS)).then(text.str.replace_all(",", "")).otherwise(text)
    return cleaned.cast(pl.Float64, strict=False).alias(col)


def integer_expr(col: str) -> pl.Expr:
    num = number_expr(col)
    return pl.when(num == num.round(0)).then(num).otherwise(None).cast(pl.Int64, strict=False).alias(col)


def date_expr(col: str) -> pl.Expr:
    text = pl.col(col).str.strip_chars()
    serial = text.cast(pl.Float64, strict=False)
    from_serial = pl.when((serial > 20000) & (serial < 80000)).then(
        EXCEL_EPOCH + pl.duration(days=serial.floor().cast(pl.Int64))
    )
    return pl.coalesce(
        text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False),
        text.str.to_date("%d/%m/%Y", strict=False),
        text.str.to_date("%d.%m.%Y", strict=False),
        text.str.to_date("%d %b %Y", strict=False),
        text.str.to_date("%d %B %Y", strict=False),
        from_serial,
    ).alias(col)


def period_expr(col: str) -> pl.Expr:
    """Periods are YYYY-MM; '2026-3', a first-of-month date or 'Mar 2026' are understood too."""
    text = pl.col(col).str.strip_chars()
    ym = text.str.extract(r"^(\d{4})[-/](\d{1,2})$", 1)
    mm = text.str.extract(r"^(\d{4})[-/](\d{1,2})$", 2)
    direct = pl.when(ym.is_not_null() & mm.cast(pl.Int32, strict=False).is_between(1, 12)).then(
        pl.concat_str([ym, mm.str.zfill(2)], separator="-")
    )
    named = pl.coalesce(
        ("1 " + text).str.to_date("%d %b %Y", strict=False),
        ("1 " + text).str.to_date("%d %B %Y", strict=False),
    ).dt.strftime("%Y-%m")
    as_date = date_expr(col).dt.strftime("%Y-%m")
    return pl.coalesce(direct, named, as_date).alias(col)


def lower_text(col: str) -> pl.Expr:
    return pl.col(col).str.strip_chars().str.to_lowercase().str.replace_all(r"\s+", " ").alias(col)


def upper_id(col: str) -> pl.Expr:
    return pl.col(col).str.strip_chars().str.to_uppercase().alias(col)


# How each column of each part is typed; columns not listed stay text.
PART_TYPES: dict[str, dict[str, tuple[str, callable]]] = {
    "about": {
        "team_id": ("text", upper_id),
        "period": ("period", period_expr),
        "submitted_on": ("date", date_expr),
        "progress_score": ("number", number_expr),
    },
    "measures": {
        "measure_id": ("text", upper_id),
        "period": ("period", period_expr),
        "numerator": ("number", number_expr),
        "denominator": ("number", number_expr),
        "value": ("number", number_expr),
    },
    "pdsa": {
        "component": ("text", lower_text),
        "cycle": ("whole number", integer_expr),
        "start_date": ("date", date_expr),
        "end_date": ("date", date_expr),
        "decision": ("text", lower_text),
        "linked_measure": ("text", upper_id),
    },
    "learning": {},
}

_EXPECTED = {
    "period": "a month written as YYYY-MM, for example 2026-03",
    "date": "a date, for example 2026-03-31",
    "number": "a number, for example 42 or 0.85",
    "whole number": "a whole number, for example 3",
}


def normalise_part(part: str, frame: pl.DataFrame, file: str, sha256: str | None = None) -> tuple[pl.DataFrame, list[Issue]]:
    """Type a part's text frame; cells that cannot be typed are reported, not guessed."""
    types = PART_TYPES.get(part, {})
    if not types:
        return frame, []
    typed = frame.with_columns([fn(col) for col, (_, fn) in types.items() if col in frame.columns])
    checks = [
        (col, kind)
        for col, (kind, _) in types.items()
        if kind != "text" and col in frame.columns
    ]
    issues: list[Issue] = []
    if checks:
        bad = pl.concat(
            [
                frame.select(
                    "_row",
                    pl.lit(col).alias("column"),
                    pl.lit(kind).alias("kind"),
                    pl.col(col).alias("value"),
                    (pl.col(col).is_not_null() & typed.get_column(col).is_null()).alias("bad"),
                ).filter("bad")
                for col, kind in checks
            ]
        )
        for row, col, kind, value, _ in bad.iter_rows():
            issues.append(
                Issue(
                    file, part, row, col, f"{col}_type", "error", short_value(value),
                    f"'{short_value(value, 40)}' in {col} is not understood: expected {_EXPECTED[kind]}.",
                    sha256,
                )
            )
    return typed, issues
