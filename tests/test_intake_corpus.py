"""A corpus of malformed and hostile monthly returns, generated here, each read and validated end to end.

Every case asserts the exact check and severity (and the row and column a team sees in Excel
where there is a cell to point at), plus the key words of the message a team acts on.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from pathlib import Path

import pytest

from schemas.config import load_network
from schemas.returns import ACCEPTED, ACCEPTED_WITH_WARNINGS, REJECTED, FileVerdict, validate_returns
from tests import returns_factory as rf
from transforms.intake import read as reader
from transforms.intake.read import read_return


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory):
    return load_network(rf.write_network(tmp_path_factory.mktemp("intake") / "network"))


def verdict_of(
    network, path: Path, data: bytes | None = None, run_period: str = rf.RUN_PERIOD
) -> FileVerdict:
    raw = read_return(path, data)
    return validate_returns([raw], network, run_period, today=rf.TODAY)[0]


def only(v: FileVerdict, check: str):
    found = [i for i in v.issues if i.check == check]
    assert found, f"no {check} among {[(i.check, i.severity, i.message) for i in v.issues]}"
    return found


def checks(v: FileVerdict) -> set[tuple[str, str]]:
    return {(i.check, i.severity) for i in v.issues}


def assert_single(
    v: FileVerdict,
    check: str,
    severity: str,
    *words: str,
    row: int | None = None,
    column: str | None = None,
    part: str | None = None,
    status: str = REJECTED,
):
    """The file's one finding (warnings aside) is ``check`` at ``severity``, with those words in its message."""
    assert v.status == status, [(i.check, i.message) for i in v.issues]
    serious = [i for i in v.issues if i.severity != "warning" or severity == "warning"]
    assert [(i.check, i.severity) for i in serious] == [(check, severity)], [
        (i.check, i.message) for i in serious
    ]
    issue = serious[0]
    for word in words:
        assert word.lower() in issue.message.lower(), issue.message
    if row is not None:
        assert issue.row == row, (issue.row, issue)
    if column is not None:
        assert issue.column == column
    if part is not None:
        assert issue.part == part
    return issue


def xlsx(tmp_path: Path, sheets=None, name: str = "T01_2026-10.xlsx", **options) -> Path:
    return rf.write_xlsx(tmp_path / name, sheets if sheets is not None else rf.valid_grids(), **options)


# =========================================================================== the baseline


@pytest.mark.parametrize("engine", ["xlsxwriter", "openpyxl"])
def test_valid_workbook_is_accepted_without_issues(network, tmp_path: Path, engine: str) -> None:
    v = verdict_of(network, xlsx(tmp_path, engine=engine))
    assert v.status == ACCEPTED, [(i.check, i.message) for i in v.issues]
    assert v.team_id == "T01" and v.period == "2026-10"
    assert v.frames["measures"].height == 8 and v.frames["pdsa"].height == 2
    assert v.frames["measures"].get_column("_row").to_list() == list(range(2, 10))


def test_valid_csv_folder_and_zip_are_accepted(network, tmp_path: Path) -> None:
    folder = rf.write_csv_folder(tmp_path / "T01_2026-10", rf.valid_grids())
    zipped = rf.write_csv_zip(tmp_path / "T01_2026-10.zip", rf.valid_grids(), folder="T01_2026-10/")
    for target in (folder, zipped):
        v = verdict_of(network, target)
        assert v.status == ACCEPTED, (target, [(i.check, i.message) for i in v.issues])
        assert v.frames["measures"].get_column("_row").to_list() == list(range(2, 10))


# =========================================================================== not a workbook at all


def test_zero_byte_file(network, tmp_path: Path) -> None:
    path = tmp_path / "T01_2026-10.xlsx"
    path.write_bytes(b"")
    assert_single(verdict_of(network, path), "file_empty", "fatal", "empty")


def test_whitespace_only_file(network, tmp_path: Path) -> None:
    path = tmp_path / "T01_2026-10.xlsx"
    path.write_bytes(b"  \r\n\t \n")
    assert_single(verdict_of(network, path), "file_empty", "fatal", "empty")


def test_empty_zip(network, tmp_path: Path) -> None:
    path = rf.write_zip(tmp_path / "T01_2026-10.zip", {})
    assert_single(verdict_of(network, path), "file_empty", "fatal", "no CSV files")


def test_random_bytes_named_xlsx(network, tmp_path: Path) -> None:
    path = tmp_path / "T01_2026-10.xlsx"
    path.write_bytes(bytes((i * 7919 + 13) % 256 for i in range(5000)))
    assert_single(verdict_of(network, path), "xlsx_not_a_workbook", "fatal", "not one", "Save As", ".xlsx")


def test_renamed_png(network, tmp_path: Path) -> None:
    path = tmp_path / "T01_2026-10.xlsx"
    path.write_bytes(rf.PNG_BYTES)
    assert_single(verdict_of(network, path), "xlsx_not_a_workbook", "fatal", "PNG image", "Save As")


def test_renamed_csv(network, tmp_path: Path) -> None:
    path = tmp_path / "T01_2026-10.xlsx"
    path.write_bytes(rf.csv_bytes(rf.valid_grids()["measures"]))
    assert_single(verdict_of(network, path), "xlsx_not_a_workbook", "fatal", "CSV", "Excel Workbook (.xlsx)")


def test_binary_file_named_csv(network, tmp_path: Path) -> None:
    path = tmp_path / "measures.csv"
    path.write_bytes(rf.PNG_BYTES)
    assert_single(verdict_of(network, path), "file_not_text", "fatal", "neither", "PNG")


def test_non_zip_named_zip(network, tmp_path: Path) -> None:
    path = tmp_path / "T01_2026-10.zip"
    path.write_bytes(b"team_id,period\nT01,2026-10\n")
    assert_single(verdict_of(network, path), "file_type_unknown", "fatal", "not one", "zip")


def test_truncated_workbook(network, tmp_path: Path) -> None:
    data = rf.xlsx_bytes(tmp=tmp_path)
    path = tmp_path / "T01_2026-10.xlsx"
    path.write_bytes(data[: len(data) // 2])
    assert_single(verdict_of(network, path), "file_unreadable", "fatal", "damaged or incomplete", "resend")


def test_workbook_with_a_corrupted_member(network, tmp_path: Path) -> None:
    data = rf.xlsx_bytes(tmp=tmp_path)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet2.xml")
    start = info.header_offset + 30 + len(info.filename) + 10
    path = tmp_path / "T01_2026-10.xlsx"
    path.write_bytes(rf.flip_bytes(data, [start, start + 1, start + 2]))
    assert_single(verdict_of(network, path), "file_unreadable", "fatal", "damaged", "sheet2.xml")


def test_word_document_renamed_xlsx(network, tmp_path: Path) -> None:
    path = rf.write_zip(
        tmp_path / "T01_2026-10.xlsx",
        {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"},
    )
    assert_single(verdict_of(network, path), "xlsx_not_a_workbook", "fatal", "Word document")


def test_opendocument_spreadsheet(network, tmp_path: Path) -> None:
    path = rf.write_zip(
        tmp_path / "T01_2026-10.ods",
        {
            "mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
            "content.xml": b"<office:document-content/>",
        },
    )
    assert_single(verdict_of(network, path), "xlsx_not_a_workbook", "fatal", "OpenDocument", ".xlsx")


def test_binary_workbook_xlsb(network, tmp_path: Path) -> None:
    path = rf.write_zip(
        tmp_path / "T01_2026-10.xlsb", {"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\x00\x01"}
    )
    assert_single(verdict_of(network, path), "xlsx_not_a_workbook", "fatal", ".xlsb")


# =========================================================================== macros, passwords, legacy


def test_macro_enabled_workbook_with_vba_project(network, tmp_path: Path) -> None:
    path = xlsx(tmp_path, extra_members={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 not really vba"})
    assert_single(verdict_of(network, path), "xlsx_macro_enabled", "fatal", "macros", "without macros")


def test_xlsm_extension_is_refused(network, tmp_path: Path) -> None:
    path = xlsx(tmp_path, name="T01_2026-10.xlsm")
    assert_single(verdict_of(network, path), "xlsx_macro_enabled", "fatal", ".xlsm")


def test_legacy_xls(network, tmp_path: Path) -> None:
    path = tmp_path / "T01_2026-10.xls"
    path.write_bytes(rf.ole_bytes(encrypted=False))
    assert_single(
        verdict_of(network, path), "xlsx_encrypted_or_legacy", "fatal", "97-2003", "Excel Workbook (.xlsx)"
    )


def test_password_protected_workbook(network, tmp_path: Path) -> None:
    # Excel encrypts a workbook by wrapping it in an OLE file with an 'EncryptedPackage' stream.
    path = tmp_path / "T01_2026-10.xlsx"
    path.write_bytes(rf.ole_bytes(encrypted=True))
    assert_single(
        verdict_of(network, path), "xlsx_encrypted_or_legacy", "fatal", "password", "Remove the password"
    )


def test_password_protected_zip(network, tmp_path: Path) -> None:
    zipped = rf.write_csv_zip(tmp_path / "T01_2026-10.zip", rf.valid_grids())
    path = tmp_path / "locked.zip"
    path.write_bytes(rf.set_encrypted_flag(zipped.read_bytes()))
    assert_single(verdict_of(network, path), "zip_encrypted", "fatal", "password")


# =========================================================================== bombs and caps


def test_zip_bomb_of_csvs(network, tmp_path: Path) -> None:
    path = tmp_path / "T01_2026-10.zip"
    path.write_bytes(rf.zip_bomb_bytes(20 * 1024 * 1024))
    assert path.stat().st_size < 100_000
    issue = assert_single(verdict_of(network, path), "zip_bomb", "fatal", "unpack", "not opened")
    assert issue.value == str(20 * 1024 * 1024)


def test_workbook_carrying_a_bomb_member(network, tmp_path: Path) -> None:
    bomb = rf.zip_bomb_bytes(8 * 1024 * 1024, name="xl/media/image1.png")
    inner = zipfile.ZipFile(io.BytesIO(bomb)).read("xl/media/image1.png")
    path = xlsx(tmp_path, extra_members={"xl/media/image1.png": inner})
    assert_single(verdict_of(network, path), "zip_bomb", "fatal", "unpack")


def test_member_lying_about_its_size(network, tmp_path: Path) -> None:
    """The central directory says 100 bytes (with a matching CRC); the data inflates to 2 MB."""
    others = {k: v for k, v in rf.valid_csv_members().items() if k != "measures.csv"}
    data = rf.lie_about_size(rf.zip_bomb_bytes(2 * 1024 * 1024, others=others), "measures.csv", 100)
    path = tmp_path / "T01_2026-10.zip"
    path.write_bytes(data)
    assert_single(verdict_of(network, path), "zip_bomb", "fatal", "more than the 100 bytes it declares")


def test_workbook_member_lying_about_its_size(network, tmp_path: Path) -> None:
    """fastexcel reads the zip itself: the lie must be caught before it does."""
    data = rf.xlsx_bytes(tmp=tmp_path)
    big = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet2.xml")
    padded = big.replace(b"</worksheet>", b"<!--" + b" " * 3_000_000 + b"--></worksheet>")
    data = rf.lie_about_size(
        rf.replace_member(data, "xl/worksheets/sheet2.xml", padded), "xl/worksheets/sheet2.xml", len(big)
    )
    path = tmp_path / "T01_2026-10.xlsx"
    path.write_bytes(data)
    assert_single(verdict_of(network, path), "zip_bomb", "fatal", "declares")


def test_too_many_zip_members(network, tmp_path: Path) -> None:
    members = {f"notes/{i:03d}.txt": b"x" for i in range(reader.MAX_ZIP_MEMBERS + 1)}
    path = rf.write_zip(tmp_path / "T01_2026-10.zip", {**rf.valid_csv_members(), **members})
    assert_single(verdict_of(network, path), "zip_too_many_members", "fatal", "more than the 200")


@pytest.mark.parametrize("name", ["../about.csv", "/etc/about.csv", "..\\..\\about.csv", "C:/about.csv"])
def test_zip_member_with_an_unsafe_path(network, tmp_path: Path, name: str) -> None:
    members = {**rf.valid_csv_members(), name: b"x"}
    path = rf.write_zip(tmp_path / "T01_2026-10.zip", members)
    issue = assert_single(verdict_of(network, path), "zip_unsafe_path", "fatal", "unsafe name", "not opened")
    assert issue.value == name


def test_zip_with_unsupported_compression(network, tmp_path: Path) -> None:
    path = rf.write_zip(tmp_path / "T01_2026-10.zip", rf.valid_csv_members(), compression=zipfile.ZIP_BZIP2)
    assert_single(verdict_of(network, path), "zip_compression_unsupported", "fatal", "compression method")


def test_huge_sparse_file_over_the_cap(network, tmp_path: Path) -> None:
    path = tmp_path / "T01_2026-10.xlsx"
    with path.open("wb") as fh:  # sparse: 26 MB on paper, nothing on disk
        fh.truncate(reader.MAX_FILE_BYTES + 1024 * 1024)
    issue = assert_single(verdict_of(network, path), "file_too_large", "fatal", "limited to", "send it again")
    assert issue.value == str(reader.MAX_FILE_BYTES + 1024 * 1024)


def test_size_cap_applies_to_bytes_handed_in(
    network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = rf.xlsx_bytes(tmp=tmp_path)
    monkeypatch.setattr(reader, "MAX_FILE_BYTES", len(data) - 1)
    assert_single(
        verdict_of(network, Path("T01_2026-10.xlsx"), data), "file_too_large", "fatal", "limited to"
    )
    monkeypatch.setattr(reader, "MAX_FILE_BYTES", len(data))
    assert verdict_of(network, Path("T01_2026-10.xlsx"), data).status == ACCEPTED


def test_csv_part_over_the_size_cap_in_a_folder(
    network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = rf.write_csv_folder(tmp_path / "T01_2026-10", rf.valid_grids())
    monkeypatch.setattr(reader, "MAX_FILE_BYTES", 300)
    assert_single(verdict_of(network, folder), "file_too_large", "fatal", "limited to")


def test_sheet_with_a_far_cell_is_refused(network, tmp_path: Path) -> None:
    data = rf.with_far_cell(rf.xlsx_bytes(tmp=tmp_path), ref="AZ1048576")
    issue = assert_single(
        verdict_of(network, Path("T01_2026-10.xlsx"), data),
        "sheet_too_large",
        "fatal",
        "row 1,048,576",
        "Delete the unused rows",
    )
    assert issue.value == "AZ1048576"


def test_stray_value_far_down_is_read_with_its_row(network, tmp_path: Path) -> None:
    """A stray value at A300000 (Ctrl+Down, then typing) is a 300,000-row grid: within the caps, read."""
    data = rf.with_far_cell(rf.xlsx_bytes(tmp=tmp_path), ref="A300000", sheet_index=4)  # the learning sheet
    v = verdict_of(network, Path("T01_2026-10.xlsx"), data)
    assert v.status == ACCEPTED
    assert v.frames["learning"].get_column("_row").to_list() == [2, 300000]


def test_stray_value_in_the_last_row_of_a_wide_sheet_is_refused(network, tmp_path: Path) -> None:
    data = rf.with_far_cell(rf.xlsx_bytes(tmp=tmp_path), ref="A1048576", sheet_index=4)
    issue = assert_single(
        verdict_of(network, Path("T01_2026-10.xlsx"), data),
        "sheet_too_large",
        "fatal",
        "up to row 1,048,576 and column C",
    )
    assert issue.value == "C1048576"


# =========================================================================== missing parts, headers, layout


def test_missing_sheet(network, tmp_path: Path) -> None:
    sheets = rf.valid_grids()
    del sheets["pdsa"]
    issue = assert_single(
        verdict_of(network, xlsx(tmp_path, sheets)),
        "part_missing",
        "fatal",
        "no 'pdsa' sheet",
        "template",
        part="pdsa",
    )
    assert issue.row is None


def test_missing_header(network, tmp_path: Path) -> None:
    sheets = rf.valid_grids()
    sheets["measures"] = sheets["measures"][1:]
    assert_single(
        verdict_of(network, xlsx(tmp_path, sheets)),
        "part_header_missing",
        "fatal",
        "'Measure ID'",
        "header row",
        part="measures",
    )


def test_missing_csv_part_in_a_folder(network, tmp_path: Path) -> None:
    sheets = rf.valid_grids()
    del sheets["learning"]
    v = verdict_of(network, rf.write_csv_folder(tmp_path / "T01_2026-10", sheets))
    assert_single(v, "part_missing", "fatal", "learning.csv", part="learning")


def test_single_part_csv_is_not_a_return(network, tmp_path: Path) -> None:
    path = tmp_path / "about.csv"
    path.write_bytes(rf.csv_bytes(rf.valid_grids()["about"]))
    v = verdict_of(network, path)
    assert v.status == REJECTED
    assert sorted((i.part, i.check, i.severity) for i in v.issues) == [
        ("learning", "part_missing", "fatal"),
        ("measures", "part_missing", "fatal"),
        ("pdsa", "part_missing", "fatal"),
    ]
    assert "folder or a zip" in v.issues[0].message


def test_lone_csv_that_is_no_part(network, tmp_path: Path) -> None:
    path = tmp_path / "T01_2026-10.csv"
    path.write_bytes(rf.csv_bytes(rf.valid_grids()["measures"]))
    assert_single(verdict_of(network, path), "file_type_unknown", "fatal", "not a whole return")


def test_two_files_for_one_part(network, tmp_path: Path) -> None:
    folder = rf.write_csv_folder(tmp_path / "T01_2026-10", rf.valid_grids())
    (folder / "T01_2026-10_measures.csv").write_bytes((folder / "measures.csv").read_bytes())
    assert_single(verdict_of(network, folder), "part_duplicated", "fatal", "two files", "exactly one")


def test_header_on_row_3_under_a_title(network, tmp_path: Path) -> None:
    sheets = rf.valid_grids()
    sheets["measures"] = [["Ward 7: monthly measures"], [], *sheets["measures"]]
    sheets = rf.set_cell(sheets, "measures", "Value", "lots", data_row=2)  # RECOMMEND row: Excel row 5
    issue = assert_single(
        verdict_of(network, xlsx(tmp_path, sheets)),
        "value_type",
        "error",
        "not understood",
        row=5,
        column="value",
        part="measures",
    )
    assert issue.value == "lots"
    sheets = rf.set_cell(sheets, "measures", "Value", None, data_row=2)
    sheets = rf.set_cell(sheets, "measures", "Numerator", 30, data_row=2)  # 30 of 12
    v = verdict_of(network, xlsx(tmp_path, sheets, name="T01_2026-10_b.xlsx"))
    assert {(i.check, i.severity, i.row, i.column) for i in v.issues} == {
        ("numerator_le_denominator", "error", 5, "numerator"),
        ("value_in_bounds", "error", 5, "value"),
    }


def test_blank_rows_above_and_inside_the_table(network, tmp_path: Path) -> None:
    sheets = rf.valid_grids()
    m = sheets["measures"]
    sheets["measures"] = [[], [], [], m[0], m[1], [], [], m[2], m[3], [None, "   "], *m[4:]]
    sheets = rf.set_cell(sheets, "measures", "Denominator", 0, data_row=5)  # SICKNESS, Excel row 9
    v = verdict_of(network, xlsx(tmp_path, sheets))
    assert v.status == REJECTED
    issue = only(v, "denominator_positive")[0]
    assert (issue.severity, issue.row, issue.column, issue.value) == ("error", 9, "denominator", "0")
    assert "must be above 0" in issue.message


def test_merged_header_cells(network, tmp_path: Path) -> None:
    """A merged title over the table, a merged group label over Numerator/Denominator, a merged header cell."""
    sheets = rf.valid_grids()
    m = sheets["measures"]
    sheets["measures"] = [
        ["Ward 7 measures", None, None, None, None, None],
        [None, None, "Proportions", None, None, None],
        *m,
    ]
    merges = {"measures": [(0, 0, 0, 5), (1, 2, 1, 3)]}
    v = verdict_of(network, xlsx(tmp_path, sheets, merges=merges))
    assert v.status == ACCEPTED, [(i.check, i.message) for i in v.issues]
    assert v.frames["measures"].get_column("_row").to_list() == list(range(4, 12))
    # a header cell merged down over two rows: the second row of the merge is empty and skipped
    sheets = rf.valid_grids()
    p = sheets["pdsa"]
    sheets["pdsa"] = [p[0], [None] * len(p[0]), *p[1:]]
    merges = {"pdsa": [(0, j, 1, j) for j in range(len(p[0]))]}
    v = verdict_of(network, xlsx(tmp_path, sheets, merges=merges, name="T01_2026-10_b.xlsx"))
    assert v.status == ACCEPTED, [(i.check, i.message) for i in v.issues]
    assert v.frames["pdsa"].get_column("_row").to_list() == [3, 4]


def test_extra_columns_are_accepted_and_ignored(network, tmp_path: Path) -> None:
    sheets = rf.valid_grids()
    for i, row in enumerate(sheets["measures"]):
        row.insert(0, "Ward notes" if i == 0 else f"note {i}")
        row.append("Checked by" if i == 0 else "AB")
    path = xlsx(tmp_path, sheets)
    raw = read_return(path)
    assert raw.extra_columns["measures"] == ["Ward notes", "Checked by"]
    v = validate_returns([raw], network, rf.RUN_PERIOD, today=rf.TODAY)[0]
    assert v.status == ACCEPTED
    assert "Ward notes" not in v.frames["measures"].columns


def test_duplicated_column_with_values_is_an_error(network, tmp_path: Path) -> None:
    sheets = rf.valid_grids()
    for i, row in enumerate(sheets["measures"]):
        row.append("Value" if i == 0 else (5 if i == 1 else None))
    raw = read_return(xlsx(tmp_path, sheets))
    v = validate_returns([raw], network, rf.RUN_PERIOD, today=rf.TODAY)[0]
    assert_single(
        v, "column_duplicated", "error", "two 'Value' columns", row=1, column="value", part="measures"
    )


def test_trailing_blank_rows(network, tmp_path: Path) -> None:
    sheets = rf.valid_grids()
    for part in ("measures", "pdsa", "learning"):
        sheets[part] += [[None, " "], [], ["\u00a0", None, "  "], []]
    v = verdict_of(network, xlsx(tmp_path, sheets))
    assert v.status == ACCEPTED
    assert v.frames["pdsa"].height == 2 and v.frames["learning"].height == 1


def test_about_sheet_with_labels_in_column_b_and_merged_label_cells(network, tmp_path: Path) -> None:
    sheets = rf.valid_grids()
    sheets["about"] = [
        ["About this return"],
        [],
        *[[None, label, None, value] for label, value in sheets["about"]],
    ]
    merges = {"about": [(r, 1, r, 2) for r in range(2, 2 + len(rf.valid_grids()["about"]))]}
    v = verdict_of(network, xlsx(tmp_path, sheets, merges=merges))
    assert v.status == ACCEPTED, [(i.check, i.message) for i in v.issues]
    assert v.about["progress_score"] == 2.5


# =========================================================================== real-world cell contents


def test_numbers_stored_as_text(network, tmp_path: Path) -> None:
    sheets = rf.valid_grids()
    for row in sheets["measures"][1:]:
        row[2:5] = [None if x is None else f" {x} " for x in row[2:5]]
    sheets = rf.set_cell(sheets, "about", "Progress score", "2.5")
    v = verdict_of(network, xlsx(tmp_path, sheets))
    assert v.status == ACCEPTED
    assert v.frames["measures"].get_column("numerator").to_list()[1:3] == [9.0, 222.0]


def test_thousand_separators_and_percentages(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "measures", "Denominator", "4,600", data_row=3)
    sheets = rf.set_cell(sheets, "measures", "Numerator", "1,234.5", data_row=8)
    sheets = rf.set_cell(sheets, "measures", "Denominator", "1,300", data_row=8)
    v = verdict_of(network, xlsx(tmp_path, sheets))
    assert v.status == ACCEPTED, [(i.check, i.message) for i in v.issues]
    m = v.frames["measures"]
    assert m.get_column("denominator").to_list()[2] == 4600.0
    assert m.get_column("numerator").to_list()[7] == 1234.5


def test_dates_as_excel_serials_and_as_text(network, tmp_path: Path) -> None:
    sheets = rf.valid_grids()
    sheets = rf.set_cell(sheets, "pdsa", "Start date", 46297, data_row=1)  # serial for 2026-10-02
    sheets = rf.set_cell(sheets, "pdsa", "End date", "09/10/2026", data_row=1)  # UK day first
    sheets = rf.set_cell(sheets, "pdsa", "Start date", "12 Oct 2026", data_row=2)
    sheets = rf.set_cell(sheets, "pdsa", "End date", "2026/10/20", data_row=2)
    sheets = rf.set_cell(sheets, "about", "Submitted on", "5-Nov-26")
    v = verdict_of(network, xlsx(tmp_path, sheets))
    assert v.status == ACCEPTED, [(i.check, i.message) for i in v.issues]
    p = v.frames["pdsa"]
    assert p.get_column("start_date").to_list() == [dt.date(2026, 10, 2), dt.date(2026, 10, 12)]
    assert p.get_column("end_date").to_list() == [dt.date(2026, 10, 9), dt.date(2026, 10, 20)]
    assert v.about["submitted_on"] == dt.date(2026, 11, 5)


def test_impossible_date_is_a_type_error(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "pdsa", "End date", "31/02/2026", data_row=2)
    assert_single(
        verdict_of(network, xlsx(tmp_path, sheets)),
        "end_date_type",
        "error",
        "not understood",
        "YYYY-MM-DD",
        row=3,
        column="end_date",
        part="pdsa",
    )


def test_formula_cells_use_cached_values(network, tmp_path: Path) -> None:
    sheets = rf.valid_grids()
    sheets = rf.set_cell(sheets, "measures", "Numerator", rf.Formula("=4+5", 9), data_row=2)
    sheets = rf.set_cell(sheets, "measures", "Value", rf.Formula("=C3/D3", 0.75), data_row=2)
    sheets = rf.set_cell(sheets, "measures", "Value", rf.Formula("=ROUND(7.44,1)", 7.4), data_row=1)
    v = verdict_of(network, xlsx(tmp_path, sheets))
    assert v.status == ACCEPTED, [(i.check, i.message) for i in v.issues]
    m = v.frames["measures"]
    assert m.get_column("numerator").to_list()[1] == 9.0
    assert m.get_column("value").to_list()[:2] == [7.4, 0.75]


def test_numbers_keep_full_precision(network, tmp_path: Path) -> None:
    """fastexcel renders numbers as text with 9 decimals; the exact value is what gets loaded."""
    sheets = rf.set_cell(rf.valid_grids(), "measures", "Value", 2 / 3, data_row=2)
    sheets = rf.set_cell(sheets, "measures", "Value", 7.123456789012, data_row=1)
    v = verdict_of(network, xlsx(tmp_path, sheets))
    assert v.frames["measures"].get_column("value").to_list()[:2] == [7.123456789012, 2 / 3]


def test_narrative_starting_with_a_formula_is_plain_text(network, tmp_path: Path) -> None:
    text = '=HYPERLINK("http://evil.example/x","click")'
    sheets = rf.set_cell(rf.valid_grids(), "learning", "What went well", text)
    sheets = rf.set_cell(sheets, "pdsa", "What happened", "+cmd|' /C calc'!A0", data_row=1)
    for engine in ("xlsxwriter", "openpyxl"):
        v = verdict_of(network, xlsx(tmp_path, sheets, engine=engine, name=f"T01_2026-10_{engine}.xlsx"))
        assert v.status == ACCEPTED, [(i.check, i.message) for i in v.issues]
        assert v.frames["learning"].get_column("went_well").to_list() == [text]
        assert v.frames["pdsa"].get_column("what_happened").to_list()[0] == "+cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", True), ("utf-8", False), ("cp1252", False), ("utf-16", False)]
)
def test_csv_encodings(network, tmp_path: Path, encoding: str, bom: bool) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "learning", "What went well", "Café rota saved £120 – “great”")
    if encoding == "cp1252":
        sheets = rf.set_cell(sheets, "learning", "What went well", "Café rota saved £120 – great")
    folder = rf.write_csv_folder(tmp_path / "T01_2026-10", sheets, encoding=encoding, bom=bom)
    v = verdict_of(network, folder)
    assert v.status == ACCEPTED, [(i.check, i.message) for i in v.issues]
    assert v.frames["learning"].get_column("went_well").to_list() == [sheets["learning"][1][0]]


def test_semicolon_csv_and_title_line_above_the_header(network, tmp_path: Path) -> None:
    sheets = rf.valid_grids()
    sheets["measures"] = [["Monthly measures"], [], *sheets["measures"]]
    sheets = rf.set_cell(sheets, "measures", "Comment", "late; counted twice", data_row=4)
    sheets = rf.set_cell(sheets, "measures", "Value", 1001, data_row=5)  # WMTY on row 8: above 1000
    path = rf.write_csv_zip(tmp_path / "T01_2026-10.zip", sheets, delimiter=";")
    v = verdict_of(network, path)
    issue = assert_single(
        v,
        "value_in_bounds",
        "error",
        "outside the plausible range 0 to 1000",
        row=8,
        column="value",
        part="measures",
    )
    assert issue.value == "1001"
    assert verdict_of(network, path).frames == {}
    raw = read_return(path)
    assert raw.parts["measures"].get_column("comment").to_list()[3] == "late; counted twice"


def test_csv_row_numbers_count_records_not_lines(network, tmp_path: Path) -> None:
    """A narrative with line breaks is one row in Excel: the next row's number must not shift."""
    sheets = rf.set_cell(
        rf.valid_grids(), "pdsa", "What happened", "line one\nline two\nline three", data_row=1
    )
    sheets = rf.set_cell(sheets, "pdsa", "Decision", "maybe", data_row=2)
    v = verdict_of(network, rf.write_csv_folder(tmp_path / "T01_2026-10", sheets))
    assert_single(v, "decision_known", "error", "adopt, adapt, abandon or continue", row=3, column="decision")


# =========================================================================== the rules, end to end


def test_wrong_team(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "about", "Team ID", "T99")
    v = verdict_of(network, xlsx(tmp_path, sheets, name="T99_2026-10.xlsx"))
    issue = assert_single(
        v,
        "team_registered",
        "fatal",
        "not in the network's registry",
        "coach",
        column="team_id",
        part="about",
    )
    assert issue.value == "T99"


def test_team_id_missing(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "about", "Team ID", None)
    v = verdict_of(network, xlsx(tmp_path, sheets, name="return.xlsx"))
    assert_single(v, "team_id_required", "fatal", "team ID is missing", column="team_id", part="about")


def test_wrong_period(network, tmp_path: Path) -> None:
    sheets = rf.valid_grids(period="2026-09")
    v = verdict_of(network, xlsx(tmp_path, sheets, name="T01_2026-09.xlsx"))
    assert ("period_matches_run", "fatal") in checks(v)
    issue = only(v, "period_matches_run")[0]
    assert issue.value == "2026-09" and "this run collects 2026-10" in issue.message


def test_period_written_as_a_date(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "about", "Period", dt.date(2026, 10, 1))
    sheets = rf.set_cell(sheets, "measures", "Period", "Oct 2026", data_row=1)
    sheets = rf.set_cell(sheets, "measures", "Period", "10/2026", data_row=2)
    v = verdict_of(network, xlsx(tmp_path, sheets))
    assert v.status == ACCEPTED, [(i.check, i.message) for i in v.issues]
    assert v.period == "2026-10"
    assert set(v.frames["measures"].get_column("period").to_list()) == {"2026-10"}


def test_period_that_is_not_a_month(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "measures", "Period", "2026.1", data_row=4)
    assert_single(
        verdict_of(network, xlsx(tmp_path, sheets)),
        "period_type",
        "error",
        "YYYY-MM",
        row=5,
        column="period",
        part="measures",
    )


def test_score_not_on_the_half_point_scale(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "about", "Progress score", 2.3)
    issue = assert_single(
        verdict_of(network, xlsx(tmp_path, sheets)),
        "progress_score_scale",
        "error",
        "IHI Assessment Scale",
        "0.5, 1.0, 1.5",
        column="progress_score",
        part="about",
    )
    assert issue.value == "2.3"


def test_numerator_above_denominator(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "measures", "Numerator", 31, data_row=7)  # HUDDLES 31 of 20
    v = verdict_of(network, xlsx(tmp_path, sheets))
    assert v.status == REJECTED
    issue = only(v, "numerator_le_denominator")[0]
    assert (issue.severity, issue.row, issue.column, issue.value) == ("error", 8, "numerator", "31")
    assert "HUDDLES" in issue.message and "cannot exceed 100%" in issue.message
    # 31/20 is also outside the plausible 0..1: the same cell, named as a second finding
    assert {i.check for i in v.issues} == {"numerator_le_denominator", "value_in_bounds"}


def test_denominator_zero(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "measures", "Denominator", 0, data_row=2)
    sheets = rf.set_cell(sheets, "measures", "Numerator", 0, data_row=2)
    assert_single(
        verdict_of(network, xlsx(tmp_path, sheets)),
        "denominator_positive",
        "error",
        "above 0",
        row=3,
        column="denominator",
    )


def test_negative_numerator(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "measures", "Numerator", "-2", data_row=4)  # TURNOVER
    v = verdict_of(network, xlsx(tmp_path, sheets))
    assert v.status == REJECTED
    issue = only(v, "numerator_not_negative")[0]
    assert (issue.severity, issue.row, issue.column, issue.value) == ("error", 5, "numerator", "-2")
    assert {i.check for i in v.issues} <= {"numerator_not_negative", "value_in_bounds"}


def test_unknown_measure(network, tmp_path: Path) -> None:
    sheets = rf.valid_grids()
    sheets["measures"].append(["HAPPINESS", "2026-10", None, None, 3, None])
    v = verdict_of(network, xlsx(tmp_path, sheets))
    issue = assert_single(
        v, "measure_known", "error", "not a measure in the network's catalogue", row=10, column="measure_id"
    )
    assert issue.value == "HAPPINESS"


def test_duplicate_measure_and_period(network, tmp_path: Path) -> None:
    sheets = rf.valid_grids()
    sheets["measures"].append(["joy_pulse ", "2026-10", None, None, 7.1, "typed twice"])
    v = verdict_of(network, xlsx(tmp_path, sheets))
    assert v.status == REJECTED
    found = only(v, "unique_measure_period")
    assert sorted(i.row for i in found) == [2, 10]
    assert {i.severity for i in found} == {"error"} and {i.check for i in v.issues} == {
        "unique_measure_period"
    }
    assert "one row per measure per month" in found[0].message


def test_correction_of_an_earlier_month_is_not_a_duplicate(network, tmp_path: Path) -> None:
    sheets = rf.valid_grids()
    sheets["measures"].append(["JOY_PULSE", "2026-09", None, None, 7.0, "Corrected"])
    assert verdict_of(network, xlsx(tmp_path, sheets)).status == ACCEPTED


def test_value_outside_plausible_bounds(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "measures", "Value", 12, data_row=1)  # pulse is 0..10
    assert_single(
        verdict_of(network, xlsx(tmp_path, sheets)),
        "value_in_bounds",
        "error",
        "outside the plausible range 0 to 10",
        row=2,
        column="value",
    )


def test_count_not_whole(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "measures", "Value", 3.5, data_row=6)  # PEBBLES
    assert_single(
        verdict_of(network, xlsx(tmp_path, sheets)),
        "count_whole",
        "error",
        "not a whole number",
        row=7,
        column="value",
    )


def test_text_in_a_number_cell(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "measures", "Value", "about seven", data_row=1)
    issue = assert_single(
        verdict_of(network, xlsx(tmp_path, sheets)),
        "value_type",
        "error",
        "not understood",
        "a number",
        row=2,
        column="value",
        part="measures",
    )
    assert issue.value == "about seven"


@pytest.mark.parametrize("text", ["NaN", "inf", "1.2.3", "12 staff"])
def test_non_numbers_that_polars_would_parse_or_guess(network, tmp_path: Path, text: str) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "measures", "Denominator", text, data_row=2)
    assert_single(
        verdict_of(network, xlsx(tmp_path, sheets)),
        "denominator_type",
        "error",
        "not understood",
        row=3,
        column="denominator",
    )


def test_unknown_component(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "pdsa", "Joy in Work component", "Fun at work", data_row=1)
    issue = assert_single(
        verdict_of(network, xlsx(tmp_path, sheets)),
        "component_known",
        "error",
        "nine Joy in Work components",
        row=2,
        column="component",
    )
    assert issue.value == "fun at work"


def test_component_with_typographic_dash_and_case(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(
        rf.valid_grids(), "pdsa", "Joy in Work component", "Real\u2011Time  Measurement", data_row=1
    )
    assert verdict_of(network, xlsx(tmp_path, sheets)).status == ACCEPTED


def test_unknown_decision(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "pdsa", "Decision", "keep going", data_row=2)
    assert_single(
        verdict_of(network, xlsx(tmp_path, sheets)),
        "decision_known",
        "error",
        "adopt, adapt, abandon",
        row=3,
        column="decision",
    )


def test_pdsa_end_before_start(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "pdsa", "End date", dt.date(2026, 10, 1), data_row=1)
    issue = assert_single(
        verdict_of(network, xlsx(tmp_path, sheets)),
        "dates_in_order",
        "error",
        "ends (2026-10-01) before it starts (2026-10-02)",
        row=2,
        column="end_date",
    )
    assert issue.value == "2026-10-01"


def test_cycles_out_of_order(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "pdsa", "Cycle number", 3, data_row=1)  # cycle 3, then cycle 2
    assert_single(
        verdict_of(network, xlsx(tmp_path, sheets)),
        "cycle_in_order",
        "error",
        "not numbered in order",
        row=3,
        column="cycle",
    )


def test_cycle_not_whole(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "pdsa", "Cycle number", 1.5, data_row=1)
    assert_single(
        verdict_of(network, xlsx(tmp_path, sheets)),
        "cycle_type",
        "error",
        "a whole number",
        row=2,
        column="cycle",
    )


def test_file_name_hint_mismatch_is_only_a_warning(network, tmp_path: Path) -> None:
    v = verdict_of(network, xlsx(tmp_path, name="T02_2026-10.xlsx"))
    assert_single(
        v,
        "file_name_matches",
        "warning",
        "suggests team T02",
        "content was used",
        status=ACCEPTED_WITH_WARNINGS,
    )
    assert v.team_id == "T01"


def test_about_type_error_points_at_the_field_row(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "about", "Progress score", "two and a half")
    v = verdict_of(network, xlsx(tmp_path, sheets))
    assert v.status == REJECTED
    issue = only(v, "progress_score_type")[0]
    assert (issue.severity, issue.row, issue.column) == (
        "error",
        rf.about_row("Progress score"),
        "progress_score",
    )
    assert issue.row == 6 and "not understood" in issue.message and issue.value == "two and a half"


def test_about_rule_issue_points_at_the_field_row(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "about", "Progress score", 2.3)
    issue = only(verdict_of(network, xlsx(tmp_path, sheets)), "progress_score_scale")[0]
    assert issue.row == rf.about_row("Progress score")
    sheets = rf.set_cell(rf.valid_grids(), "about", "Progress score", "two and a half")
    v = verdict_of(network, xlsx(tmp_path, sheets, name="T01_2026-10_b.xlsx"))
    assert [i.check for i in v.issues] == ["progress_score_type"]  # not also 'progress_score_required'


def test_every_issue_names_file_and_a_sentence(network, tmp_path: Path) -> None:
    sheets = rf.set_cell(rf.valid_grids(), "measures", "Value", "x", data_row=1)
    sheets = rf.set_cell(sheets, "pdsa", "Decision", "??", data_row=1)
    v = verdict_of(network, xlsx(tmp_path, sheets))
    for issue in v.issues:
        assert issue.file == "T01_2026-10.xlsx"
        assert issue.message.endswith(".") and len(issue.message) > 30
        assert issue.team_id == "T01" and issue.period == "2026-10"


# =========================================================================== what the caller hands in


def test_device_and_pipe_are_not_read(network, tmp_path: Path) -> None:
    """A symlink to /dev/zero or a named pipe in the inbox must not hang the run or fill the memory."""
    fifo = tmp_path / "T01_2026-10.xlsx"
    os.mkfifo(fifo)
    assert_single(verdict_of(network, fifo), "file_unreadable", "fatal", "not a regular file")
    link = tmp_path / "T02_2026-10.xlsx"
    link.symlink_to("/dev/zero")
    assert_single(verdict_of(network, link), "file_unreadable", "fatal", "not a regular file")


def test_missing_path_is_a_finding(network, tmp_path: Path) -> None:
    assert_single(
        verdict_of(network, tmp_path / "gone.xlsx"), "file_unreadable", "fatal", "FileNotFoundError"
    )


def test_permission_error_reaches_the_caller(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`joyflow validate` turns an unreadable path into exit code 2, so the reader lets this one through."""

    def denied(path: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(reader, "_read_bounded", denied)
    with pytest.raises(PermissionError):
        read_return(tmp_path / "T01_2026-10.xlsx")


def test_folder_ignores_symlinked_csvs(network, tmp_path: Path) -> None:
    folder = rf.write_csv_folder(tmp_path / "T01_2026-10", rf.valid_grids())
    outside = tmp_path / "secret.csv"
    outside.write_text("Measure ID,Period\nSECRET,2026-10\n")
    (folder / "measures.csv").unlink()
    (folder / "measures.csv").symlink_to(outside)
    assert_single(verdict_of(network, folder), "part_missing", "fatal", "measures.csv", part="measures")
