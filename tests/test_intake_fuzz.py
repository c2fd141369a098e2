"""Property-based fuzzing of the readers: whatever the bytes, ``read_return`` answers with findings or frames,
never an exception, and ``validate_returns`` never raises on whatever ``read_return`` gave.

Also the properties a team relies on: the row numbers of a table are the Excel rows, wherever the
team put blank rows and titles, in a workbook and in a CSV.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import zipfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.config import load_network
from schemas.contract import PARTS
from schemas.issues import REJECTING, SEVERITIES
from schemas.raw import RawReturn
from schemas.returns import validate_returns
from schemas.rules import RULES
from tests import returns_factory as rf
from transforms.intake.read import read_return

# Bounded so the whole file runs in well under a minute: validating one file costs ~50 ms (Pandera).
CHEAP = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FUZZ = settings(CHEAP, max_examples=120)
SLOW = settings(CHEAP, max_examples=80)  # each example writes a workbook and validates it, often with errors
ROWS = settings(CHEAP, max_examples=50)

NAMES = [
    "T01_2026-10.xlsx",
    "T01_2026-10.zip",
    "measures.csv",
    "T01_2026-10.csv",
    "return",
    "T01_2026-10.xlsm",
]
READER_CHECKS = {
    "file_empty",
    "file_unreadable",
    "file_not_text",
    "file_too_large",
    "file_type_unknown",
    "xlsx_not_a_workbook",
    "xlsx_encrypted_or_legacy",
    "xlsx_macro_enabled",
    "zip_bomb",
    "zip_too_many_members",
    "zip_unsafe_path",
    "zip_duplicate_member",
    "zip_encrypted",
    "zip_compression_unsupported",
    "sheet_too_large",
    "cell_value_out_of_range",
    "part_missing",
    "part_unreadable",
    "part_header_missing",
    "part_too_many_rows",
    "part_duplicated",
    "column_duplicated",
    "folder_too_many_files",
}
KNOWN_CHECKS = (
    READER_CHECKS
    | {r.name for r in RULES}
    | {
        "about_one_record",
        "measure_missing",
        "value_far_from_history",
        "denominator_jump",
    }
    | {
        f"{c}_type"
        for c in (
            "period",
            "submitted_on",
            "progress_score",
            "numerator",
            "denominator",
            "value",
            "cycle",
            "start_date",
            "end_date",
        )
    }
)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory):
    return load_network(rf.write_network(tmp_path_factory.mktemp("fuzz") / "network"))


@pytest.fixture(scope="module")
def workbook() -> bytes:
    return rf.xlsx_bytes()


@pytest.fixture(scope="module")
def csv_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in rf.valid_csv_members().items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture(autouse=True)
def _no_unexpected_failures(caplog: pytest.LogCaptureFixture):
    """The reader's last line of defence logs 'reader failed': a fuzz case reaching it is a bug to fix."""
    caplog.set_level(logging.WARNING, logger="transforms.intake.read")
    yield
    failures = [
        r.getMessage()
        for r in caplog.records
        if r.name == "transforms.intake.read" and "reader failed" in r.getMessage()
    ]
    assert not failures, failures


def check_contract(raw: RawReturn, network) -> None:
    """What read_return promises, and validate_returns surviving it."""
    assert isinstance(raw, RawReturn)
    for issue in raw.issues:
        assert issue.severity in SEVERITIES and issue.check in READER_CHECKS, issue
        assert issue.message and issue.file == raw.file
    if not any(i.severity in REJECTING for i in raw.issues):
        assert set(raw.parts) == set(PARTS)
        for name, frame in raw.parts.items():
            assert frame.get_column("_row").dtype == pl.Int64
            assert all(frame.get_column(c).dtype == pl.String for c in PARTS[name].column_names)
            rows = frame.get_column("_row").to_list()
            assert rows == sorted(rows) and (not rows or rows[0] >= 1)
    verdict = validate_returns([raw], network, rf.RUN_PERIOD, today=rf.TODAY)[0]
    assert verdict.status in ("accepted", "accepted_with_warnings", "rejected")
    for issue in verdict.issues:
        assert issue.check in KNOWN_CHECKS and issue.severity in SEVERITIES, issue
        assert issue.row is None or issue.row >= 1


# --------------------------------------------------------------------------- arbitrary and mutated bytes


@CHEAP
@given(data=st.binary(max_size=2048), name=st.sampled_from(NAMES))
def test_arbitrary_bytes(network, data: bytes, name: str) -> None:
    check_contract(read_return(Path(name), data), network)


@CHEAP
@given(
    prefix=st.sampled_from(
        [
            b"PK\x03\x04",
            b"PK\x05\x06",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
            b"\xef\xbb\xbf",
            b"\xff\xfe",
            b"<?xml",
            b"Measure ID,Period\n",
        ]
    ),
    rest=st.binary(max_size=1024),
    name=st.sampled_from(NAMES),
)
def test_bytes_with_magic_numbers(network, prefix: bytes, rest: bytes, name: str) -> None:
    check_contract(read_return(Path(name), prefix + rest), network)


@CHEAP
@given(
    flips=st.lists(st.tuples(st.integers(0, 10**9), st.integers(1, 255)), min_size=1, max_size=8),
    cut=st.one_of(st.none(), st.integers(0, 10**9)),
)
def test_mutated_workbook_bytes(network, workbook: bytes, flips, cut) -> None:
    data = bytearray(workbook)
    for pos, mask in flips:
        data[pos % len(data)] ^= mask
    if cut is not None:
        data = data[: cut % len(data)]
    check_contract(read_return(Path("T01_2026-10.xlsx"), bytes(data)), network)


@FUZZ
@given(
    member=st.sampled_from(
        [
            "xl/worksheets/sheet1.xml",
            "xl/worksheets/sheet2.xml",
            "xl/worksheets/sheet3.xml",
            "xl/sharedStrings.xml",
            "xl/workbook.xml",
            "xl/styles.xml",
            "xl/_rels/workbook.xml.rels",
            "[Content_Types].xml",
        ]
    ),
    edits=st.lists(
        st.tuples(
            st.integers(0, 10**9),
            st.integers(0, 40),
            st.sampled_from(
                [
                    b"",
                    b"<",
                    b">",
                    b'"',
                    b"-",
                    b"9999999",
                    b"&#0;",
                    b"</sheetData>",
                    b'<c r="B2"><v>1</v></c>',
                    b'<row r="3">',
                    b't="s"',
                    b't="e"',
                    b's="1"',
                    b"<si><t>x</t></si>",
                    b"\xff\xfe",
                    b"<v>-1e300</v>",
                ]
            ),
        ),
        min_size=1,
        max_size=5,
    ),
)
def test_mutated_workbook_xml(network, workbook: bytes, member: str, edits) -> None:
    """Valid zips with broken XML inside: these reach calamine itself."""
    xml = bytearray(zipfile.ZipFile(io.BytesIO(workbook)).read(member))
    for pos, length, insert in edits:
        p = pos % (len(xml) + 1)
        xml[p : p + length] = insert
    check_contract(
        read_return(Path("T01_2026-10.xlsx"), rf.replace_member(workbook, member, bytes(xml))), network
    )


@CHEAP
@given(
    flips=st.lists(st.tuples(st.integers(0, 10**9), st.integers(1, 255)), min_size=1, max_size=8),
    cut=st.one_of(st.none(), st.integers(0, 10**9)),
)
def test_mutated_csv_zip_bytes(network, csv_zip: bytes, flips, cut) -> None:
    data = bytearray(csv_zip)
    for pos, mask in flips:
        data[pos % len(data)] ^= mask
    if cut is not None:
        data = data[: cut % len(data)]
    check_contract(read_return(Path("T01_2026-10.zip"), bytes(data)), network)


# --------------------------------------------------------------------------- random CSV text

cell_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
csv_cell = st.one_of(
    cell_text,
    st.sampled_from(
        [
            "",
            " ",
            '"',
            '""',
            ",",
            ";",
            "\n",
            "\r\n",
            "1,234",
            "2026-10",
            "JOY_PULSE",
            "=1+1",
            "NaN",
            "-0",
            "1e309",
            "31/02/2026",
        ]
    ),
)


@FUZZ
@given(
    measures=st.lists(st.lists(csv_cell, max_size=8), max_size=8),
    pdsa=st.lists(st.lists(csv_cell, max_size=10), max_size=5),
    header=st.booleans(),
    encoding=st.sampled_from(["utf-8", "cp1252", "utf-16"]),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_random_csv_text(network, tmp_path_factory, measures, pdsa, header, encoding, delimiter) -> None:
    grids = rf.valid_grids()
    grids["measures"] = ([grids["measures"][0]] if header else []) + measures
    grids["pdsa"] = [grids["pdsa"][0], *pdsa]
    folder = tmp_path_factory.mktemp("csv")
    for name, grid in grids.items():
        try:
            data = rf.csv_bytes(grid, encoding=encoding, delimiter=delimiter)
        except UnicodeEncodeError:
            data = rf.csv_bytes(grid, encoding="utf-8", delimiter=delimiter)
        (folder / f"{name}.csv").write_bytes(data)
    check_contract(read_return(folder), network)


@CHEAP
@given(text=st.text(max_size=600), name=st.sampled_from(["measures.csv", "about.csv", "pdsa.csv", "x.csv"]))
def test_random_text_as_a_lone_csv(network, text: str, name: str) -> None:
    check_contract(read_return(Path(name), text.encode("utf-8", "surrogatepass")), network)


# --------------------------------------------------------------------------- random cells in a workbook

xlsx_cell = st.one_of(
    st.none(),
    cell_text,
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(dt.date(1900, 3, 1), dt.date(2100, 1, 1)),
    st.sampled_from(["1,234", "85%", "2026-10", "Oct 2026"]),
)


@SLOW
@given(
    cells=st.lists(
        st.tuples(
            st.sampled_from(["measures", "pdsa", "about"]), st.integers(1, 8), st.integers(0, 8), xlsx_cell
        ),
        min_size=1,
        max_size=12,
    )
)
def test_random_cells_in_a_valid_workbook(network, tmp_path_factory, cells) -> None:
    sheets = rf.valid_grids()
    for part, r, c, value in cells:
        grid = sheets[part]
        r = r % len(grid) or 1
        row = grid[r]
        row.extend([None] * (c + 1 - len(row)))
        row[c] = value
    path = rf.write_xlsx(tmp_path_factory.mktemp("x") / "T01_2026-10.xlsx", sheets)
    check_contract(read_return(path), network)


# --------------------------------------------------------------------------- row numbers are Excel's


layout = st.fixed_dictionaries(
    {
        "title": st.lists(
            st.sampled_from([["Ward 7 return"], [], [None, "   "], ["Notes:", None, "see below"]]), max_size=4
        ),
        "gaps": st.lists(st.integers(0, 3), min_size=8, max_size=8),  # blank rows before each data row
        "trailing": st.integers(0, 5),
    }
)


def _laid_out(spec) -> tuple[dict[str, rf.Grid], list[int]]:
    """The measures table with a title, blank rows between data rows, and the Excel row of each data row."""
    sheets = rf.valid_grids()
    header, *data = sheets["measures"]
    grid = [*spec["title"], header]
    expected = []
    for gap, row in zip(spec["gaps"], data, strict=True):
        grid.extend([[]] * gap)
        grid.append(row)
        expected.append(len(grid))  # the Excel row of the row just added (rows count from 1)
    grid.extend([[None, " "]] * spec["trailing"])
    sheets["measures"] = grid
    return sheets, expected


@ROWS
@given(spec=layout, engine=st.sampled_from(["xlsxwriter", "openpyxl"]))
def test_workbook_rows_are_excel_rows(network, tmp_path_factory, spec, engine) -> None:
    sheets, expected = _laid_out(spec)
    path = rf.write_xlsx(tmp_path_factory.mktemp("rows") / "T01_2026-10.xlsx", sheets, engine=engine)
    raw = read_return(path)
    assert raw.parts["measures"].get_column("_row").to_list() == expected
    # and an issue on the third measure (SICKNESS) names its Excel row
    raw.parts["measures"] = raw.parts["measures"].with_columns(
        pl.when(pl.col("measure_id") == "SICKNESS")
        .then(pl.lit("lots"))
        .otherwise(pl.col("value"))
        .alias("value")
    )
    v = validate_returns([raw], network, rf.RUN_PERIOD, today=rf.TODAY)[0]
    assert [(i.check, i.row) for i in v.issues] == [("value_type", expected[2])]


@ROWS
@given(spec=layout, delimiter=st.sampled_from([",", ";"]), bom=st.booleans())
def test_csv_rows_are_excel_rows(tmp_path_factory, spec, delimiter: str, bom: bool) -> None:
    sheets, expected = _laid_out(spec)
    folder = rf.write_csv_folder(tmp_path_factory.mktemp("rows"), sheets, delimiter=delimiter, bom=bom)
    raw = read_return(folder)
    assert not raw.issues
    assert raw.parts["measures"].get_column("_row").to_list() == expected
