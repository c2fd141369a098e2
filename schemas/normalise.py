"""Turn the text a team typed into typed columns, the way a person would read it: the parsing half
of validation, reading each cell as the kind the contract declares for its column (``schemas.contract``).

Numbers stored as text, thousand separators, percentages, dates as Excel serials or as
text (day first, as in the UK), periods written as dates: all are understood here. A cell
that cannot be understood becomes a null plus a ``type`` issue naming the cell, so
validation can go on and report every problem of the file at once. Nothing is guessed: an
ambiguous or impossible value ('2026.1', '31/02/2026', 'NaN', '1,23') is reported, never
coerced.

Each distinct text is parsed once (the parsers are cached): a run's returns repeat the same
periods, dates and small numbers, and a return has a few dozen typed cells, so this costs
microseconds per file where a Polars expression would cost a query plan per column. The
``*_expr`` functions expose the same parsers as Polars expressions.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Sequence
from functools import lru_cache, partial

import polars as pl

from schemas.contract import PARTS, Kind, column_label
from schemas.issues import Issue, short_value

EXCEL_EPOCH = dt.date(1899, 12, 30)
_SERIAL_MIN, _SERIAL_MAX = 20_000, 80_000  # 1954-10-03 .. 2119-01-10: a plausible date as an Excel serial
_LONGEST = 64  # no number, date or period is longer: longer texts are not understood (and not cached)

_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_THOUSANDS = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
_ISO_DATE = re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})(?:[ T].*)?")
_DAY_FIRST = re.compile(r"([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4}|[0-9]{2})")
_DAY_MONTH_YEAR = re.compile(r"([0-9]{1,2}) ([A-Za-z]+) ([0-9]{4}|[0-9]{2})")
_MONTH_DAY_YEAR = re.compile(r"([A-Za-z]+) ([0-9]{1,2}) ([0-9]{4})")
_YEAR_MONTH = re.compile(r"([0-9]{4})[-/]([0-9]{1,2})")
_MONTH_YEAR = re.compile(r"([0-9]{1,2})[-/]([0-9]{4})")
_COMPACT_PERIOD = re.compile(r"([0-9]{4})([0-9]{2})")
_NAMED_PERIOD = re.compile(r"([A-Za-z]+) ([0-9]{4}|[0-9]{2})")
_SEPARATORS = re.compile(r"[-/.,\s]+")
_MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}


# --------------------------------------------------------------------------- parsers (text -> value)


@lru_cache(maxsize=65536)
def _parse_number(text: str) -> float | None:
    t = _SPACES.sub("", text).replace("\u2212", "-")
    percent = t.endswith("%")
    if percent:
        t = t[:-1]
    if "," in t:
        if not _THOUSANDS.fullmatch(t):
            return None  # '1,23' or '12,3': a decimal comma or a typo, not a thousand separator
        t = t.replace(",", "")
    if not _NUMBER.fullmatch(t):
        return None  # also refuses what float() would take: 'nan', 'inf', '1_000', Arabic-Indic digits
    x = float(t)
    if not math.isfinite(x):
        return None  # '1e999'
    return x / 100 if percent else x


def parse_number(text: str | None) -> float | None:
    """'42', ' 1,234.5 ', '1 234', '85%' (0.85), '−3' (a typographic minus), '1e-3'; else None."""
    return None if text is None or len(text) > _LONGEST else _parse_number(text)


def parse_integer(text: str | None) -> int | None:
    x = parse_number(text)
    if x is None or x != math.floor(x) or abs(x) > 2**53:
        return None
    return int(x)


YES_NO = {
    "yes": True,
    "y": True,
    "true": True,
    "1": True,
    "no": False,
    "n": False,
    "false": False,
    "0": False,
}


def parse_flag(text: str | None) -> bool | None:
    """'Yes' / 'y' / 'TRUE' / '1' and 'No' / 'n' / 'false' / '0' (a spreadsheet's TRUE is text here)."""
    if text is None:
        return None
    return YES_NO.get(text.strip().lower())


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None  # 31/02/2026, month 13 ...


@lru_cache(maxsize=65536)
def _parse_date(text: str) -> dt.date | None:
    t = text.strip()
    if m := _ISO_DATE.fullmatch(t):
        return _date(int(m[1]), int(m[2]), int(m[3]))
    if m := _DAY_FIRST.fullmatch(t):
        year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
        return _date(year, int(m[2]), int(m[1]))
    words = _SEPARATORS.sub(" ", t).strip()
    if m := _DAY_MONTH_YEAR.fullmatch(words):
        month = _MONTHS.get(m[2].lower())
        year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
        return None if month is None else _date(year, month, int(m[1]))
    if m := _MONTH_DAY_YEAR.fullmatch(words):
        month = _MONTHS.get(m[1].lower())
        return None if month is None else _date(int(m[3]), month, int(m[2]))
    serial = _parse_number(t) if _NUMBER.fullmatch(t) else None
    if serial is not None and _SERIAL_MIN < serial < _SERIAL_MAX:
        return EXCEL_EPOCH + dt.timedelta(days=math.floor(serial))
    return None


def parse_date(text: str | None) -> dt.date | None:
    """2026-03-05, 2026/03/05 (with or without a time), 05/03/2026, 5.3.26, 5 Mar 2026, March 5, 2026, 46086."""
    return None if text is None or len(text) > _LONGEST else _parse_date(text)


def _month(year: int, month: int) -> str | None:
    return f"{year:04d}-{month:02d}" if 1 <= month <= 12 and year >= 1 else None


@lru_cache(maxsize=65536)
def _parse_period(text: str) -> str | None:
    t = text.strip()
    if m := _YEAR_MONTH.fullmatch(t):
        return _month(int(m[1]), int(m[2]))
    if m := _MONTH_YEAR.fullmatch(t):
        return _month(int(m[2]), int(m[1]))
    if m := _COMPACT_PERIOD.fullmatch(t):
        return _month(int(m[1]), int(m[2]))
    if m := _NAMED_PERIOD.fullmatch(_SEPARATORS.sub(" ", t).strip()):
        month = _MONTHS.get(m[1].lower())
        return None if month is None else _month(int(m[2]) + (2000 if len(m[2]) == 2 else 0), month)
    date = _parse_date(t)
    return None if date is None else f"{date:%Y-%m}"


def parse_period(text: str | None) -> str | None:
    """Periods are YYYY-MM; '2026-3', '03/2026', '202603', 'Mar 2026', 'Mar-26' or a date are understood too.

    '2026.1' is not: it is what Excel makes of 2026.10 typed as a number, so it cannot be read safely.
    """
    return None if text is None or len(text) > _LONGEST else _parse_period(text)


def _texts(series: pl.Series) -> list[str | None]:
    return (series if series.dtype == pl.String else series.cast(pl.String)).to_list()


def _typed(series: pl.Series, parse: Callable[[str | None], object], dtype: pl.DataType) -> pl.Series:
    return pl.Series(series.name, [parse(v) for v in _texts(series)], dtype=dtype)


# --------------------------------------------------------------------------- the same as Polars expressions


def _expr(col: str, parse: Callable[[str | None], object], dtype: pl.DataType) -> pl.Expr:
    return pl.col(col).map_batches(partial(_typed, parse=parse, dtype=dtype), return_dtype=dtype).alias(col)


def number_expr(col: str) -> pl.Expr:
    return _expr(col, parse_number, pl.Float64)


def integer_expr(col: str) -> pl.Expr:
    return _expr(col, parse_integer, pl.Int64)


def date_expr(col: str) -> pl.Expr:
    return _expr(col, parse_date, pl.Date)


def period_expr(col: str) -> pl.Expr:
    return _expr(col, parse_period, pl.String)


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


# How a cell of each kind of the contract is read: text kinds are tidied with an expression,
# the others parsed (text -> value; None when the text cannot be understood).
_TIDY: dict[str, Callable[[str], pl.Expr]] = {"id": upper_id, "code": lower_text}
_PARSERS: dict[str, Callable[[str | None], object]] = {
    "period": parse_period,
    "date": parse_date,
    "number": parse_number,
    "whole number": parse_integer,
    "yes/no": parse_flag,
}

_EXPECTED = {
    "period": "a month written as YYYY-MM, for example 2026-03",
    "date": "a date written as YYYY-MM-DD or DD/MM/YYYY, for example 2026-03-31",
    "number": "a number, for example 42 or 0.85",
    "whole number": "a whole number, for example 3",
    "yes/no": "yes or no",
}

# Each part's columns that are not kept as typed, with their kind — from the contract.
PART_TYPES: dict[str, dict[str, Kind]] = {
    part.name: {col.name: col.kind for col in part.columns if col.kind.name in _TIDY.keys() | _PARSERS.keys()}
    for part in PARTS.values()
}


def _word_key(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"[\s_-]+", " ").str.strip_chars()


# Each part's coded columns that accept words for their codes ('Role change' for role_change).
PART_WORDS: dict[str, dict[str, dict[str, str]]] = {
    part.name: {
        col.name: {word: code for code, words in col.words for word in (code.replace("_", " "), *words)}
        for col in part.columns
        if col.words
    }
    for part in PARTS.values()
}


def read_words(col: str, words: dict[str, str]) -> pl.Expr:
    """A tidied code column with each known word read as its code; other text is left as written
    (a rule then names it)."""
    key = _word_key(pl.col(col))
    return (
        pl.when(key.is_in(list(words)))
        .then(key.replace_strict(words, default=None, return_dtype=pl.String))
        .otherwise(pl.col(col))
        .alias(col)
    )


def normalise_part(
    part: str, frame: pl.DataFrame, file: str, sha256: str | None = None
) -> tuple[pl.DataFrame, list[Issue]]:
    """Type one file's part; see ``normalise_stacked``."""
    typed, issues = normalise_stacked(part, frame.with_columns(pl.lit(0).alias("_file")), [(file, sha256)])
    return typed.drop("_file"), [issue for _, issue in issues]


def normalise_stacked(
    part: str, frame: pl.DataFrame, sources: Sequence[tuple[str, str | None]]
) -> tuple[pl.DataFrame, list[tuple[int, Issue]]]:
    """Type a part's text frame; cells that cannot be typed are reported, not guessed.

    ``frame`` holds the part of many files stacked, ``_file`` indexing ``sources`` (each
    file's name and SHA-256): one pass per column for a whole run instead of a Polars query
    per file, which cost a second for a month of 1,000 returns. Issues come back with their
    file's index, in file order. The row of an issue is the cell's Excel row: ``_row`` for
    tables, and for the key/value 'about' part the row of the field's own label
    (``_row_<field>``, set by the reader).
    """
    types = {col: kind for col, kind in PART_TYPES.get(part, {}).items() if col in frame.columns}
    if not types:
        return frame, []
    text_exprs = [_TIDY[kind.name](col) for col, kind in types.items() if kind.name in _TIDY]
    typed_cols: list[pl.Series] = []
    found: list[tuple[int, int, Issue]] = []  # (file index, column order, issue)
    file_of = frame.get_column("_file").to_list()
    for order, (col, kind) in enumerate(types.items()):
        if kind.name in _TIDY:
            continue
        parse = _PARSERS[kind.name]
        texts = _texts(frame.get_column(col))
        values = [parse(t) for t in texts]
        typed_cols.append(pl.Series(col, values, dtype=kind.dtype))
        bad = [i for i, (t, v) in enumerate(zip(texts, values, strict=True)) if t is not None and v is None]
        if not bad:
            continue
        row_col = f"_row_{col}" if f"_row_{col}" in frame.columns else "_row"
        rows = frame.get_column(row_col).to_list()
        fallback = frame.get_column("_row").to_list()
        for i in bad:
            value = texts[i]
            file, sha256 = sources[file_of[i]]
            issue = Issue(
                file,
                part,
                rows[i] if rows[i] is not None else fallback[i],
                col,
                f"{col}_type",
                "error",
                short_value(value),
                f"'{short_value(value, 40)}' in {column_label(part, col)} is not understood: "
                f"expected {_EXPECTED[kind.name]}.",
                sha256,
            )
            found.append((file_of[i], order, issue))
    typed = frame.with_columns(*text_exprs, *typed_cols)
    words = {col: w for col, w in PART_WORDS.get(part, {}).items() if col in typed.columns}
    if words:
        typed = typed.with_columns(read_words(col, w) for col, w in words.items())
    # A file's issues in the order one file alone would give: column by column, rows in order.
    found.sort(key=lambda f: (f[0], f[1]))
    return typed, [(idx, issue) for idx, _, issue in found]
