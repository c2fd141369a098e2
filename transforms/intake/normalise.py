"""Turn the text a team typed into typed columns, the way a person would read it.

Numbers stored as text, thousand separators, percentages, dates as Excel serials or as
text (day first, as in the UK), periods written as dates: all are understood here with
Polars expressions. A cell that cannot be understood becomes a null plus a ``type`` issue
naming the cell, so validation can go on and report every problem of the file at once.
Nothing is guessed: an ambiguous or impossible value ('2026.1', '31/02/2026', 'NaN') is
reported, never coerced.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from transforms.intake.issues import Issue, short_value

EXCEL_EPOCH = pl.date(1899, 12, 30)
_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"
_SERIAL_MIN, _SERIAL_MAX = 20_000, 80_000  # 1954-10-03 .. 2119-01-10: a plausible date as an Excel serial


def number_expr(col: str) -> pl.Expr:
    """'1,234', ' 42 ', '1 234', '85%' (0.85), '−3' (a typographic minus); never NaN or infinity."""
    text = (
        pl.col(col)
        .str.strip_chars()
        .str.replace_all(r"[\s\u00a0\u202f]", "")
        .str.replace_all("\u2212", "-")
    )
    percent = text.str.ends_with("%")
    body = pl.when(percent).then(text.str.strip_suffix("%")).otherwise(text)
    cleaned = pl.when(body.str.contains(_THOUSANDS)).then(body.str.replace_all(",", "")).otherwise(body)
    number = cleaned.cast(pl.Float64, strict=False)
    number = pl.when(percent).then(number / 100).otherwise(number)
    return pl.when(number.is_finite()).then(number).alias(col)


def integer_expr(col: str) -> pl.Expr:
    num = number_expr(col)
    whole = num.is_between(-(2.0**53), 2.0**53) & (num == num.round(0))
    return pl.when(whole).then(num).cast(pl.Int64, strict=False).alias(col)


def _iso(text: pl.Expr, pattern: str, replacement: str) -> pl.Expr:
    """Rewrite a recognised shape to YYYY-MM-DD and parse it; other shapes give null (never a misreading)."""
    return pl.when(text.str.contains(pattern)).then(
        text.str.replace(pattern, replacement).str.to_date("%Y-%m-%d", strict=False)
    )


def _named(text: pl.Expr, shape: str, formats: tuple[str, ...]) -> pl.Expr:
    return pl.when(text.str.contains(shape)).then(
        pl.coalesce([text.str.to_date(f, strict=False) for f in formats])
    )


def date_expr(col: str) -> pl.Expr:
    """2026-03-05, 2026/03/05 (with or without a time), 05/03/2026, 5.3.26, 5 Mar 2026, March 5, 2026, 46086."""
    text = pl.col(col).str.strip_chars()
    words = text.str.replace_all(r"[-/.,\s]+", " ")
    serial = text.cast(pl.Float64, strict=False)
    from_serial = pl.when((serial > _SERIAL_MIN) & (serial < _SERIAL_MAX)).then(
        EXCEL_EPOCH + pl.duration(days=serial.floor().cast(pl.Int64))
    )
    return pl.coalesce(
        _iso(text, r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$", "${1}-${2}-${3}"),
        _iso(text, r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$", "${3}-${2}-${1}"),
        _iso(text, r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2})$", "20${3}-${2}-${1}"),
        _named(words, r"^\d{1,2} [A-Za-z]+ \d{4}$", ("%d %b %Y", "%d %B %Y")),
        _named(words, r"^\d{1,2} [A-Za-z]+ \d{2}$", ("%d %b %y", "%d %B %y")),
        _named(words, r"^[A-Za-z]+ \d{1,2} \d{4}$", ("%b %d %Y", "%B %d %Y")),
        from_serial,
    ).alias(col)


def period_expr(col: str) -> pl.Expr:
    """Periods are YYYY-MM; '2026-3', '03/2026', '202603', 'Mar 2026', 'Mar-26' or a date are understood too.

    '2026.1' is not: it is what Excel makes of 2026.10 typed as a number, so it cannot be read safely.
    """
    text = pl.col(col).str.strip_chars()
    words = text.str.replace_all(r"[-/.,\s]+", " ")

    def month(pattern: str, replacement: str) -> pl.Expr:
        iso = text.str.replace(pattern, replacement) + "-01"
        return pl.when(text.str.contains(pattern)).then(
            iso.str.to_date("%Y-%m-%d", strict=False).dt.strftime("%Y-%m")
        )

    named = pl.coalesce(
        _named("1 " + words, r"^1 [A-Za-z]+ \d{4}$", ("%d %b %Y", "%d %B %Y")),
        _named("1 " + words, r"^1 [A-Za-z]+ \d{2}$", ("%d %b %y", "%d %B %y")),
    ).dt.strftime("%Y-%m")
    return pl.coalesce(
        month(r"^(\d{4})[-/](\d{1,2})$", "${1}-${2}"),
        month(r"^(\d{1,2})[-/](\d{4})$", "${2}-${1}"),
        month(r"^(\d{4})(\d{2})$", "${1}-${2}"),
        named,
        date_expr(col).dt.strftime("%Y-%m"),
    ).alias(col)


def lower_text(col: str) -> pl.Expr:
    """Coded text (components, decisions): case, typographic dashes and repeated spaces do not matter."""
    return (
        pl.col(col)
        .str.strip_chars()
        .str.to_lowercase()
        .str.replace_all(r"[\u2010-\u2015\u2212]", "-")
        .str.replace_all(r"\s+", " ")
        .alias(col)
    )


def upper_id(col: str) -> pl.Expr:
    return pl.col(col).str.strip_chars().str.to_uppercase().alias(col)


# How each column of each part is typed; columns not listed stay text.
PART_TYPES: dict[str, dict[str, tuple[str, Callable[[str], pl.Expr]]]] = {
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
    "date": "a date written as YYYY-MM-DD or DD/MM/YYYY, for example 2026-03-31",
    "number": "a number, for example 42 or 0.85",
    "whole number": "a whole number, for example 3",
}


def normalise_part(part: str, frame: pl.DataFrame, file: str, sha256: str | None = None) -> tuple[pl.DataFrame, list[Issue]]:
    """Type a part's text frame; cells that cannot be typed are reported, not guessed.

    The row of an issue is the cell's Excel row: ``_row`` for tables, and for the key/value
    'about' part the row of the field's own label (``_row_<field>``, set by the reader).
    """
    types = {col: spec for col, spec in PART_TYPES.get(part, {}).items() if col in frame.columns}
    if not types:
        return frame, []
    typed = frame.with_columns([fn(col) for col, (_, fn) in types.items()])
    issues: list[Issue] = []
    for col, (kind, _) in types.items():
        if kind == "text":
            continue
        bad = frame.get_column(col).is_not_null() & typed.get_column(col).is_null()
        if not bad.any():
            continue
        row_col = f"_row_{col}" if f"_row_{col}" in frame.columns else "_row"
        rows = frame.select(pl.coalesce(row_col, "_row"), pl.col(col)).filter(bad)
        for row, value in rows.iter_rows():
            issues.append(
                Issue(
                    file, part, row, col, f"{col}_type", "error", short_value(value),
                    f"'{short_value(value, 40)}' in {col} is not understood: expected {_EXPECTED[kind]}.",
                    sha256,
                )
            )
    return typed, issues
