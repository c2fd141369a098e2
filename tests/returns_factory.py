"""Build monthly returns for tests: valid ones, broken ones and hostile ones, as xlsx, CSV folders and zips.

A return is first a set of *grids* (one per part: a list of rows, each a list of cells), so a
test can break it the way a team would (a title above the header, a blank row, an extra
column, a merged header, text in a number cell) and then write it in any format. The
hostile builders (zip bombs, lying zip headers, far cells, OLE files ...) are cheap: nothing
here writes more than a few hundred kilobytes to disk, except the zip bombs' *declared*
sizes.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import xlsxwriter

from schemas.contract import ABOUT, LEARNING, MEASURES, PDSA, PEOPLE_CHANGES

TEAMS = ("T01", "T02", "T03")
RUN_PERIOD = "2026-10"
TODAY = dt.date(2026, 11, 15)
FIRST_PERIOD = "2025-05"

Grid = list[list[object]]


@dataclass(frozen=True)
class Formula:
    """A formula cell with the value Excel cached when it last calculated."""

    formula: str
    cached: object


# --------------------------------------------------------------------------- network


def write_network(root: Path, teams: tuple[str, ...] = TEAMS) -> Path:
    """A network folder: registry.csv (teams T01..T03) and the default catalogue."""
    root.mkdir(parents=True, exist_ok=True)
    lines = ["team_id,team_name,organisation_id,organisation_name,coach_name,coach_email,cohort,first_period"]
    for i, team in enumerate(teams, start=1):
        lines.append(f"{team},Team {i},ORG,Test Trust,Coach {i},coach{i}@example.org,2025A,{FIRST_PERIOD}")
    (root / "registry.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


# --------------------------------------------------------------------------- the valid return


def valid_parts(team: str = "T01", period: str = RUN_PERIOD) -> dict[str, list[dict[str, object]]]:
    """A complete, valid return: every catalogue measure, two PDSA cycles, learning."""
    return {
        "about": [
            {
                "team_id": team,
                "period": period,
                "submitted_by": "Ward 7 lead",
                "submitted_on": dt.date(2026, 11, 5),
                "progress_score": 2.5,
            }
        ],
        "measures": [
            {"measure_id": "JOY_PULSE", "period": period, "value": 7.4},
            {"measure_id": "RECOMMEND", "period": period, "numerator": 9, "denominator": 12},
            {"measure_id": "SICKNESS", "period": period, "numerator": 222, "denominator": 4600},
            {"measure_id": "TURNOVER", "period": period, "numerator": 0, "denominator": 31},
            {"measure_id": "WMTY", "period": period, "value": 16},
            {"measure_id": "PEBBLES", "period": period, "value": 11},
            {"measure_id": "HUDDLES", "period": period, "numerator": 17, "denominator": 20},
            {"measure_id": "OVERTIME", "period": period, "numerator": 128.2, "denominator": 26.3},
        ],
        "pdsa": [
            {
                "change_idea": "Daily 10-minute joy huddle",
                "component": "camaraderie and teamwork",
                "cycle": 1,
                "start_date": dt.date(2026, 10, 2),
                "end_date": dt.date(2026, 10, 9),
                "prediction": "More staff speak up",
                "what_happened": "Night staff joined",
                "decision": "adapt",
                "linked_measure": "HUDDLES",
            },
            {
                "change_idea": "Daily 10-minute joy huddle",
                "component": "camaraderie and teamwork",
                "cycle": 2,
                "start_date": dt.date(2026, 10, 12),
                "end_date": dt.date(2026, 10, 20),
                "prediction": "Huddles held on 18 of 20 days",
                "what_happened": "Held on 17 days",
                "decision": "adopt",
                "linked_measure": "HUDDLES",
            },
        ],
        "learning": [
            {
                "went_well": "Huddles are now routine.",
                "challenges": "Agency staffing.",
                "help_wanted": "How do other teams keep huddles going?",
            }
        ],
    }


def grids(parts: dict[str, list[dict[str, object]]] | None = None) -> dict[str, Grid]:
    """The sheets as a team sees them: 'about' as label | value rows, the others as tables."""
    parts = parts if parts is not None else valid_parts()
    about = parts["about"][0]
    out: dict[str, Grid] = {
        "about": [["Field", "Value"], *[[c.label, about.get(c.name)] for c in ABOUT.columns]]
    }
    for part in (MEASURES, PDSA, LEARNING, PEOPLE_CHANGES):
        if part.optional and part.name not in parts:
            continue
        out[part.name] = [
            [c.label for c in part.columns],
            *[[row.get(c.name) for c in part.columns] for row in parts[part.name]],
        ]
    return out


def valid_grids(team: str = "T01", period: str = RUN_PERIOD) -> dict[str, Grid]:
    return grids(valid_parts(team, period))


def cell_of(grid: Grid, label: str, data_row: int = 1) -> tuple[int, int]:
    """(row index, column index) of a table's cell by its header label and 1-based data row
    (counted from the header, blank rows included)."""
    for h, row in enumerate(grid):
        if label in row:
            return h + data_row, row.index(label)
    raise KeyError(label)


def set_cell(
    sheets: dict[str, Grid], part: str, label: str, value: object, data_row: int = 1
) -> dict[str, Grid]:
    """Copy of the sheets with one cell changed; for 'about', label is the field's label."""
    sheets = copy.deepcopy(sheets)
    grid = sheets[part]
    if part == "about":
        for row in grid:
            if label in row:
                row[row.index(label) + 1] = value
                return sheets
        raise KeyError(label)
    r, c = cell_of(grid, label, data_row)
    grid[r][c] = value
    return sheets


def about_row(label: str) -> int:
    """The Excel row of an 'about' field in the standard layout (header 'Field | Value' on row 1)."""
    return 2 + [c.label for c in ABOUT.columns].index(label)


# --------------------------------------------------------------------------- writers


def write_xlsx(
    path: Path,
    sheets: dict[str, Grid],
    *,
    merges: dict[str, list[tuple]] | None = None,
    engine: str = "xlsxwriter",
    extra_members: dict[str, bytes] | None = None,
) -> Path:
    """Write the grids as a workbook; ``merges``: per sheet, (r1, c1, r2, c2) 0-based ranges to merge."""
    path.parent.mkdir(parents=True, exist_ok=True)
    merges = merges or {}
    if engine == "openpyxl":
        _write_openpyxl(path, sheets, merges)
    else:
        _write_xlsxwriter(path, sheets, merges)
    if extra_members:
        with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
            for name, data in extra_members.items():
                zf.writestr(name, data)
    return path


def _write_xlsxwriter(path: Path, sheets: dict[str, Grid], merges: dict[str, list[tuple]]) -> None:
    wb = xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    merge_fmt = wb.add_format({"bold": True, "align": "center"})
    for name, grid in sheets.items():
        ws = wb.add_worksheet(name)
        merged = {(r1, c1): (r1, c1, r2, c2) for r1, c1, r2, c2 in merges.get(name, [])}
        covered = {
            (r, c) for r1, c1, r2, c2 in merged.values() for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)
        }
        for r, row in enumerate(grid):
            for c, value in enumerate(row):
                if (r, c) in merged:
                    ws.merge_range(*merged[(r, c)], "" if value is None else value, merge_fmt)
                elif (r, c) in covered or value is None:
                    continue
                elif isinstance(value, Formula):
                    ws.write_formula(r, c, value.formula, None, value.cached)
                elif isinstance(value, dt.datetime | dt.date):
                    when = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
                    ws.write_datetime(r, c, when, date_fmt)
                elif isinstance(value, bool):
                    ws.write_boolean(r, c, value)
                elif isinstance(value, int | float):
                    ws.write_number(r, c, value)
                else:
                    ws.write_string(r, c, str(value))
    wb.close()


def _write_openpyxl(path: Path, sheets: dict[str, Grid], merges: dict[str, list[tuple]]) -> None:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, grid in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(grid, start=1):
            for c, value in enumerate(row, start=1):
                if value is None:
                    continue
                if isinstance(value, Formula):
                    value = value.formula  # openpyxl cannot store a cached value: fastexcel sees none
                cell = ws.cell(row=r, column=c, value=value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"  # keep text that looks like a formula as text
                if isinstance(value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
        for r1, c1, r2, c2 in merges.get(name, []):
            ws.merge_cells(start_row=r1 + 1, start_column=c1 + 1, end_row=r2 + 1, end_column=c2 + 1)
    wb.save(path)


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Formula):
        return _csv_cell(value.cached)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def csv_bytes(
    grid: Grid, *, encoding: str = "utf-8", bom: bool = False, delimiter: str = ",", newline: str = "\r\n"
) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    for row in grid:
        writer.writerow([_csv_cell(v) for v in row])
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def write_csv_folder(folder: Path, sheets: dict[str, Grid], **csv_options) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, grid in sheets.items():
        (folder / f"{name}.csv").write_bytes(csv_bytes(grid, **csv_options))
    return folder


def write_zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(
                zipfile.ZipInfo(name, date_time=(2026, 11, 1, 0, 0, 0)), data, compress_type=compression
            )
    return path


def valid_csv_members(sheets: dict[str, Grid] | None = None, **csv_options) -> dict[str, bytes]:
    sheets = sheets if sheets is not None else valid_grids()
    return {f"{name}.csv": csv_bytes(grid, **csv_options) for name, grid in sheets.items()}


def write_csv_zip(path: Path, sheets: dict[str, Grid], folder: str = "", **csv_options) -> Path:
    return write_zip(
        path, {f"{folder}{name}.csv": csv_bytes(grid, **csv_options) for name, grid in sheets.items()}
    )


def xlsx_bytes(sheets: dict[str, Grid] | None = None, tmp: Path | None = None, **options) -> bytes:
    """A workbook's bytes without keeping a file (written through a temporary path)."""
    import tempfile

    with tempfile.TemporaryDirectory(dir=tmp) as d:
        path = write_xlsx(Path(d) / "r.xlsx", sheets if sheets is not None else valid_grids(), **options)
        return path.read_bytes()


# --------------------------------------------------------------------------- hostile files


PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


def ole_bytes(encrypted: bool = False) -> bytes:
    """The start of an OLE compound file: a legacy .xls, or (with the stream name Excel uses) an
    encrypted workbook. Only the signature and the stream name matter to the reader."""
    body = bytearray(4096)
    body[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    name = ("EncryptedPackage" if encrypted else "Workbook").encode("utf-16-le")
    body[1024 : 1024 + len(name)] = name
    return bytes(body)


def zip_bomb_bytes(
    inflated: int = 20 * 1024 * 1024, name: str = "measures.csv", others: dict[str, bytes] | None = None
) -> bytes:
    """A zip whose member inflates to ``inflated`` bytes of zeros from about a thousandth of that."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for other, data in (others or {}).items():
            zf.writestr(other, data)
        with zf.open(name, "w") as member:
            chunk = b"0" * (1024 * 1024)
            for _ in range(inflated // len(chunk)):
                member.write(chunk)
    return buf.getvalue()


def lie_about_size(data: bytes, member: str, declared: int) -> bytes:
    """Rewrite a member's declared size (local header and central directory) to ``declared`` bytes, with a
    CRC that matches the first ``declared`` bytes: a reader trusting the header sees a small, valid file."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    info = zf.getinfo(member)
    crc = zlib.crc32(zf.read(member)[:declared])
    out = bytearray(data)
    struct.pack_into("<I", out, info.header_offset + 14, crc)
    struct.pack_into("<I", out, info.header_offset + 22, declared)
    encoded = member.encode()
    pos = out.find(b"PK\x01\x02")
    while pos != -1:
        name_len = struct.unpack_from("<H", out, pos + 28)[0]
        if bytes(out[pos + 46 : pos + 46 + name_len]) == encoded:
            struct.pack_into("<I", out, pos + 16, crc)
            struct.pack_into("<I", out, pos + 24, declared)
        pos = out.find(b"PK\x01\x02", pos + 4)
    return bytes(out)


def set_encrypted_flag(data: bytes) -> bytes:
    """Mark every member as encrypted (general-purpose flag bit 0), as a password-protected zip does."""
    out = bytearray(data)
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = out.find(sig)
        while pos != -1:
            flags = struct.unpack_from("<H", out, pos + offset)[0]
            struct.pack_into("<H", out, pos + offset, flags | 0x1)
            pos = out.find(sig, pos + 4)
    return bytes(out)


def replace_member(data: bytes, member: str, content: bytes) -> bytes:
    """The same zip with one member's content replaced (or added)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != member:
                dst.writestr(info, src.read(info))
        dst.writestr(member, content)
    return buf.getvalue()


def sheet_member(data: bytes, sheet_index: int = 1) -> str:
    return f"xl/worksheets/sheet{sheet_index}.xml"


def with_sheet_rows(data: bytes, fragment: str | bytes, sheet_index: int = 2) -> bytes:
    """A workbook with raw XML appended to one sheet's rows (sheet 1 is 'about', 2 'measures' ...)."""
    member = sheet_member(data, sheet_index)
    xml = zipfile.ZipFile(io.BytesIO(data)).read(member)
    extra = fragment.encode() if isinstance(fragment, str) else fragment
    return replace_member(data, member, xml.replace(b"</sheetData>", extra + b"</sheetData>"))


def with_far_cell(data: bytes, ref: str = "XFD1048576", sheet_index: int = 2) -> bytes:
    """A workbook with one more cell, far away: calamine would allocate rows x columns cells for it."""
    row = "".join(ch for ch in ref if ch.isdigit())
    return with_sheet_rows(data, f'<row r="{row}"><c r="{ref}"><v>1</v></c></row>', sheet_index)


def with_shared_string_count(data: bytes, count: int) -> bytes:
    """A workbook whose shared-string table declares ``count`` entries (calamine pre-allocates them)."""
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/sharedStrings.xml")
    import re

    xml = re.sub(rb'uniqueCount="\d+"', f'uniqueCount="{count}"'.encode(), xml)
    return replace_member(data, "xl/sharedStrings.xml", xml)


def with_date_cell_value(data: bytes, value: str, sheet_index: int = 1) -> bytes:
    """Put a raw value into the 'Submitted on' cell (B5, date-formatted) of the about sheet."""
    import re

    member = sheet_member(data, sheet_index)
    xml = zipfile.ZipFile(io.BytesIO(data)).read(member)
    xml, n = re.subn(rb'(<c r="B5"[^>]*>)<v>[^<]*</v>', rb"\g<1><v>" + value.encode() + rb"</v>", xml)
    assert n == 1, "the about sheet has no date in B5"
    return replace_member(data, member, xml)


def flip_bytes(data: bytes, positions: list[int]) -> bytes:
    out = bytearray(data)
    for p in positions:
        out[p % len(out)] ^= 0xFF
    return bytes(out)
