"""How the text a team typed is read: numbers, dates, periods; and what is refused rather than guessed."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.normalise import (
    date_expr,
    integer_expr,
    normalise_part,
    number_expr,
    parse_date,
    parse_integer,
    parse_number,
    parse_period,
    period_expr,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42.0),
        (" 7.4 ", 7.4),
        ("1,234", 1234.0),
        ("1,234,567.25", 1234567.25),
        ("1 234", 1234.0),
        ("1\u00a0234", 1234.0),
        ("85%", 0.85),
        ("\u22123", -3.0),
        ("+2", 2.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("1e-12", 1e-12),
        ("1e+21", 1e21),
        ("-0", -0.0),
        # refused: not a number a person would write, or ambiguous
        ("nan", None),
        ("NaN", None),
        ("inf", None),
        ("-Infinity", None),
        ("1e999", None),
        ("1_000", None),
        ("12,34", None),
        ("1,23", None),
        ("1.2.3", None),
        ("12 staff", None),
        ("\u0661\u0662", None),
        ("0x10", None),
        ("", None),
        ("x" * 100, None),
        ("1" * 65, None),
    ],
)
def test_parse_number(text: str, expected: float | None) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"), [("3", 3), ("3.0", 3), ("3.5", None), ("1e20", None), ("-1", -1)]
)
def test_parse_integer(text: str, expected: int | None) -> None:
    assert parse_integer(text) == expected


D = dt.date(2026, 11, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-02", D),
        ("2026-11-02 00:00:00", D),
        ("2026-11-02T13:45:00", D),
        ("2026/11/02", D),
        ("2026.11.02", D),
        ("2026-11-2", D),
        ("02/11/2026", D),
        ("2/11/2026", D),
        ("02/11/26", D),
        ("02.11.2026", D),
        ("02-11-2026", D),
        ("2 Nov 2026", D),
        ("2-Nov-2026", D),
        ("2-Nov-26", D),
        ("2 NOVEMBER 2026", D),
        ("Nov 2, 2026", D),
        ("November 2 2026", D),
        ("46328", D),
        ("46328.75", D),
        ("3 Sept 2026", dt.date(2026, 9, 3)),
        # refused
        ("31/02/2026", None),
        ("2026-13-01", None),
        ("2 Foo 2026", None),
        ("46", None),
        ("999999", None),
        ("02/11", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_parse_date(text: str, expected: dt.date | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10", "2026-10"),
        ("2026-3", "2026-03"),
        ("2026/03", "2026-03"),
        ("03/2026", "2026-03"),
        ("3-2026", "2026-03"),
        ("202603", "2026-03"),
        ("Mar 2026", "2026-03"),
        ("March 2026", "2026-03"),
        ("Mar-26", "2026-03"),
        ("2026-10-01 00:00:00", "2026-10"),
        ("01/10/2026", "2026-10"),
        ("46296", "2026-10"),
        # refused: '2026.1' is Excel's rendering of 2026.10 typed as a number
        ("2026.1", None),
        ("2026.10", None),
        ("2026-13", None),
        ("13/2026", None),
        ("202613", None),
        ("Octember 2026", None),
        ("", None),
    ],
)
def test_parse_period(text: str, expected: str | None) -> None:
    assert parse_period(text) == expected


def test_expressions_match_the_parsers() -> None:
    texts = ["1,234", "85%", "2026-11-02", "02/11/26", "2026-3", "nan", None, "3"]
    frame = pl.DataFrame({"t": texts}, schema={"t": pl.String})
    out = frame.select(
        number_expr("t").alias("n"),
        integer_expr("t").alias("i"),
        date_expr("t").alias("d"),
        period_expr("t").alias("p"),
    )
    assert out.get_column("n").to_list() == [None if t is None else parse_number(t) for t in texts]
    assert out.get_column("i").to_list() == [None if t is None else parse_integer(t) for t in texts]
    assert out.get_column("d").to_list() == [None if t is None else parse_date(t) for t in texts]
    assert out.get_column("p").to_list() == [None if t is None else parse_period(t) for t in texts]
    assert out.schema == {"n": pl.Float64, "i": pl.Int64, "d": pl.Date, "p": pl.String}


def test_normalise_reports_each_cell_it_cannot_read() -> None:
    frame = pl.DataFrame(
        {
            "_row": [2, 5],
            "measure_id": [" joy_pulse", "WMTY"],
            "period": ["2026-10", "2026.1"],
            "numerator": [None, "1,2"],
            "denominator": [None, None],
            "value": ["7.4", "lots"],
            "comment": [None, "x"],
        },
        schema_overrides={"denominator": pl.String, "numerator": pl.String, "comment": pl.String},
    )
    typed, issues = normalise_part("measures", frame, "f.xlsx", "abc")
    assert typed.get_column("measure_id").to_list() == ["JOY_PULSE", "WMTY"]
    assert typed.get_column("value").to_list() == [7.4, None]
    assert sorted((i.check, i.row, i.column, i.value, i.severity) for i in issues) == [
        ("numerator_type", 5, "numerator", "1,2", "error"),
        ("period_type", 5, "period", "2026.1", "error"),
        ("value_type", 5, "value", "lots", "error"),
    ]
    assert all(i.sha256 == "abc" and i.file == "f.xlsx" for i in issues)


def test_about_issues_use_the_field_row() -> None:
    frame = pl.DataFrame(
        {
            "_row": [2],
            "team_id": ["t01"],
            "period": ["2026-10"],
            "submitted_by": ["x"],
            "submitted_on": ["soon"],
            "progress_score": ["3"],
            "_row_submitted_on": [5],
        }
    )
    _, issues = normalise_part("about", frame, "f.xlsx")
    assert [(i.check, i.row) for i in issues] == [("submitted_on_type", 5)]


@settings(max_examples=300, deadline=None, database=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_float_written_by_excel_reads_back_exactly(x: float) -> None:
    assert parse_number(repr(x)) == x


@settings(max_examples=300, deadline=None, database=None)
@given(st.dates(dt.date(1955, 1, 1), dt.date(2118, 12, 31)))
def test_dates_in_every_accepted_spelling(d: dt.date) -> None:
    serial = (d - dt.date(1899, 12, 30)).days
    for text in (
        d.isoformat(),
        d.strftime("%d/%m/%Y"),
        d.strftime("%d %b %Y"),
        d.strftime("%B %d, %Y"),
        f"{d.isoformat()} 00:00:00",
        str(serial),
    ):
        assert parse_date(text) == d, text
    assert parse_period(d.strftime("%b %Y")) == d.strftime("%Y-%m")


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=30))
def test_parsers_never_raise(text: str) -> None:
    for parse in (parse_number, parse_integer, parse_date, parse_period):
        parse(text)
