"""Read a monthly return (xlsx workbook, CSV folder or zip of CSVs) into text-only frames.

Every cell is read as text so that nothing a team typed is lost or silently coerced;
typing happens later, in ``normalise``, where a failure can be reported per cell. Each
frame carries ``_row``: the row number as the team sees it in Excel (or the CSV record,
which is the row Excel shows when the CSV is opened). The key/value 'about' part also
carries ``_row_<field>``: the row of each field's label.

Hostile files are stopped here, before any parser sees them. The order matters:

1. size cap, read with a bounded read (a device or a growing file cannot exhaust memory);
2. what the bytes really are (the extension is only a hint): OLE (legacy .xls or an
   encrypted workbook), zip (xlsx or a zip of CSVs), or text;
3. for any zip: member count, declared sizes and ratio, unsafe names, encryption and
   compression method; then every member is inflated here with a hard output bound and
   its size and CRC checked, so a member that lies about its size is caught before
   fastexcel (which reads the zip itself) ever sees it;
4. for a workbook: the sheet XML is scanned for the extent calamine would allocate
   (rows x columns of a dense grid: one cell at XFD1048576 aborts the process), for a
   shared-string table that declares more entries than it can hold (calamine pre-allocates
   it), and for negative date serials that make calamine panic.

Whatever still goes wrong inside calamine, fastexcel or Polars becomes a fatal issue:
``read_return`` never raises for bad content.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import stat
import struct
import zipfile
import zlib
from functools import cache, lru_cache
from pathlib import Path

import fastexcel
import polars as pl

from schemas.contract import PARTS, REQUIRED_PARTS, Part
from schemas.issues import REJECTING, short_value
from schemas.raw import RawReturn

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_ZIP_MEMBERS = 200
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
RATIO_FLOOR_BYTES = 1024 * 1024  # below this much unpacked data a zip cannot be a bomb, whatever its ratio
MAX_ROWS_PER_PART = 20_000
MAX_CSV_RECORDS = 5 * MAX_ROWS_PER_PART  # records read from one CSV, blank lines included
MAX_SHEET_CELLS = 2_000_000  # rows x columns of the dense grid calamine builds for one sheet
MAX_COLUMNS = 1_000
HEADER_SEARCH_ROWS = 20
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xltx", ".xltm", ".xlsb", ".xlam")
MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlam")

_SAVE_AS_XLSX = "Open it in Excel, choose File > Save As > Excel Workbook (.xlsx) and send it again."


class _Refused(Exception):
    def __init__(self, check: str, message: str, value: str | None = None, part: str | None = None):
        super().__init__(message)
        self.check, self.message, self.value, self.part = check, message, value, part


@lru_cache(maxsize=8192)
def _canonical_text(text: str) -> str:
    text = text.replace("\ufeff", "").strip().lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def canonical_label(label: object) -> str:
    """'Measure ID ' / 'measure_id' / 'MEASURE-ID' all mean measure_id."""
    if label is None:
        return ""
    text = str(label)
    return _canonical_text(text) if len(text) <= 200 else ""  # a narrative is never a label


@cache
def _label_map(part: Part) -> dict[str, str]:
    labels: dict[str, str] = {}
    for col in part.columns:
        labels[canonical_label(col.name)] = col.name
        labels[canonical_label(col.label)] = col.name
    return labels


def _is_rust_panic(exc: BaseException) -> bool:
    """pyo3 turns a Rust panic into PanicException, a BaseException (not an Exception)."""
    return type(exc).__module__ == "pyo3_runtime" or type(exc).__name__ == "PanicException"


# --------------------------------------------------------------------------- zip guards


def _damaged(what: str, detail: str = "") -> _Refused:
    extra = f" ({detail})" if detail else ""
    return _Refused(
        "file_unreadable",
        f"The file is damaged or incomplete and cannot be opened as {what}{extra}; it may have been cut off "
        "while it was sent. Save it again and resend it.",
    )


def _unsafe_name(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return (
        name.startswith(("/", "\\"))
        or "\\" in name
        or ".." in parts
        or "\x00" in name
        or bool(re.match(r"^[A-Za-z]:", name))
    )


def _open_zip(data: bytes, what: str) -> zipfile.ZipFile:
    """Open a zip without inflating anything, and refuse it on what its directory declares."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except Exception as exc:  # BadZipFile, EOFError, ValueError, struct.error, OverflowError ...
        raise _damaged(what, str(exc)[:120]) from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise _Refused(
            "zip_too_many_members",
            f"The file holds {len(infos):,} parts, more than the {MAX_ZIP_MEMBERS} a return can have; "
            "it was not opened. Send only the return.",
            value=str(len(infos)),
        )
    seen: set[str] = set()
    for info in infos:
        if _unsafe_name(info.filename):
            raise _Refused(
                "zip_unsafe_path",
                f"The file contains a part with an unsafe name ('{short_value(info.filename, 60)}': a path that "
                "points outside the archive); it was not opened. Zip only the return's files and send it again.",
                value=info.filename,
            )
        key = info.filename.lower()
        if key in seen:
            raise _Refused(
                "zip_duplicate_member",
                f"The file holds two parts named '{short_value(info.filename, 60)}'; it was not opened. "
                "Save or zip the return again and resend it.",
                value=info.filename,
            )
        seen.add(key)
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if total > MAX_UNCOMPRESSED_BYTES or (
        total > RATIO_FLOOR_BYTES and total / packed > MAX_COMPRESSION_RATIO
    ):
        raise _Refused(
            "zip_bomb",
            f"The file would unpack to {total:,} bytes from {packed:,} ({total / packed:,.0f}:1); returns are "
            "small, so this file was not opened. Save the return again and resend it.",
            value=str(total),
        )
    for info in infos:
        if info.flag_bits & 0x1:
            raise _Refused(
                "zip_encrypted",
                "The zip is password-protected, so it cannot be read. Zip the files again without a password "
                "and send them again.",
                value=info.filename,
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Refused(
                "zip_compression_unsupported",
                f"A part of the zip ('{short_value(info.filename, 60)}') uses a compression method "
                f"({info.compress_type}) that is not accepted. Zip the files with your computer's standard "
                "'compress' command and send them again.",
                value=info.filename,
            )
    return zf


def _inflate(data: bytes, info: zipfile.ZipInfo, what: str) -> bytes:
    """One member's bytes, never more than it declares: a lying size or a bad CRC is refused."""
    off = info.header_offset
    head = data[off : off + 30]
    if len(head) < 30 or head[:4] != ZIP_MAGIC:
        raise _damaged(what, f"part {info.filename} is missing")
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    try:
        expected = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
    except UnicodeEncodeError:
        expected = None
    if expected is not None and data[off + 30 : off + 30 + name_len] != expected:
        # the directory and the part disagree: two readers could see two different files
        raise _damaged(what, f"part {info.filename} is not where the directory says")
    start = off + 30 + name_len + extra_len
    packed = data[start : start + info.compress_size]
    if len(packed) != info.compress_size:
        raise _damaged(what, f"part {info.filename} is cut short")
    if info.compress_type == zipfile.ZIP_STORED:
        out = packed
    else:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            out = inflater.decompress(packed, info.file_size + 1)
        except zlib.error:
            raise _damaged(what, f"part {info.filename} does not unpack") from None
        if len(out) > info.file_size:
            raise _Refused(
                "zip_bomb",
                f"A part of the file ('{short_value(info.filename, 60)}') unpacks to more than the "
                f"{info.file_size:,} bytes it declares; the file was not opened. Save the return again and "
                "resend it.",
                value=info.filename,
            )
        if not inflater.eof:
            raise _damaged(what, f"part {info.filename} is cut short")
    if len(out) != info.file_size or zlib.crc32(out) != info.CRC:
        raise _damaged(what, f"part {info.filename} fails its checksum")
    return out


# --------------------------------------------------------------------------- workbook guards

_PREFIX = rb"""(?:[^\s<>/:="']+:)?"""  # any namespace prefix: calamine matches local names
_ANY_CELL = re.compile(rb"<" + _PREFIX + rb"c[\s/>]")
_ANY_ROW = re.compile(rb"<" + _PREFIX + rb"row[\s/>]")
_CANONICAL_CELL = re.compile(rb'<c r="([A-Z]{1,3})([1-9][0-9]{0,6})"(?: (?:s|t|cm|vm|ph)="[^"<>]*")*\s*(/?)>')
_TAG_REST = re.compile(rb"""(?:[^>"']|"[^"]*"|'[^']*')*>""")
_R_ATTR = re.compile(rb"""(?:^|[\s:])r\s*=\s*["']?([^"'\s/>]*)""")
_ROW_NUMBER = re.compile(rb"[0-9]{1,7}")
_REF = re.compile(rb"([A-Za-z]{1,3})([0-9]{1,7})")
_SST_TAG = re.compile(rb"<" + _PREFIX + rb"sst\b([^>]*)>")
_UNIQUE_COUNT = re.compile(rb"""uniqueCount\s*=\s*["']?\s*\+?0*(\d+)""")
_NEGATIVE_VALUE = re.compile(rb"<" + _PREFIX + rb"v>\s*-\s*([0-9.]+(?:[eE][+-]?[0-9]+)?)\s*<")
DATE_PANIC_SERIAL = 1e10  # calamine panics on date-formatted cells below about -1.07e11


def _column_index(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ch - 64)
    return n


def _column_letters(n: int) -> str:
    out = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out or "A"


def _too_large(rows: int, cols: int) -> _Refused:
    return _Refused(
        "sheet_too_large",
        f"A sheet (or CSV file) of the return uses cells up to row {rows:,} and column "
        f"{_column_letters(cols)}: far more than a return needs, so it was not read. Delete the unused rows and "
        "columns (or copy the tables into the network's template) and send it again.",
        value=f"{_column_letters(cols)}{rows}",
    )


def _not_standard(detail: bytes) -> _Refused:
    return _Refused(
        "file_unreadable",
        f"The workbook is not a standard Excel file ({short_value(detail.decode(errors='replace'), 40)}). "
        + _SAVE_AS_XLSX,
    )


def _tags(content: bytes, start: re.Pattern) -> list[bytes]:
    """Every start tag the pattern finds, whole (quoted '>' respected); an unterminated tag is refused."""
    tags = []
    for m in start.finditer(content):
        rest = _TAG_REST.match(content, m.end() - 1)
        if rest is None:
            raise _not_standard(b"a cell is cut short")
        tags.append(content[m.start() : rest.end()])
    return tags


def _check_sheet_extent(content: bytes) -> None:
    """Bound the dense grid calamine will allocate for this XML part, should it be read as a sheet.

    Fast path: every cell tag is in the canonical form Excel, openpyxl and xlsxwriter write.
    Otherwise each tag is parsed on its own, and cells without a reference (placed after the
    previous one) are bounded generously. Either way the bound is never below calamine's grid.
    """
    if b"<" not in content:
        return
    n_cells = len(_ANY_CELL.findall(content))
    if n_cells == 0:
        return
    canonical = _CANONICAL_CELL.findall(content)
    refs: list[tuple[bytes, bytes]]
    positional = 0
    if len(canonical) == n_cells:
        refs = [(letters, digits) for letters, digits, empty in canonical if not empty]
    else:
        refs = []
        for tag in _tags(content, _ANY_CELL):
            if tag.endswith(b"/>"):
                continue  # an empty (formatted) cell: calamine does not place it in the grid
            found = _R_ATTR.findall(tag)
            if not found:
                positional += 1
            for ref in found:
                m = _REF.fullmatch(ref)
                if m is None:
                    raise _not_standard(b"a cell is named '" + ref[:20] + b"'")
                refs.append(m.groups())
    max_row = max((int(digits) for _, digits in refs), default=0)
    max_col = max((_column_index(letters) for letters in {letters for letters, _ in refs}), default=0)
    if positional:
        row_tags = [t for t in _tags(content, _ANY_ROW) if not t.endswith(b"/>")]
        numbers = [
            int(n.group()) for t in row_tags for a in _R_ATTR.findall(t) if (n := _ROW_NUMBER.match(a))
        ]
        max_row = max(max_row, max(numbers, default=0)) + len(row_tags) + 1
        max_col += positional
    if (
        max_row > EXCEL_MAX_ROWS
        or max_col > EXCEL_MAX_COLUMNS
        or max_col > MAX_COLUMNS
        or max_row * max_col > MAX_SHEET_CELLS
    ):
        raise _too_large(max_row, max_col)
    for match in _NEGATIVE_VALUE.finditer(content):
        try:
            magnitude = float(match.group(1))
        except ValueError:
            continue
        if magnitude > DATE_PANIC_SERIAL:
            value = "-" + match.group(1).decode(errors="replace")
            raise _Refused(
                "cell_value_out_of_range",
                f"A cell of the workbook holds {value}, a number far outside anything a return can hold "
                "(Excel cannot even show it as a date). Correct it and send the return again.",
                value=value,
            )


def _check_shared_strings(content: bytes) -> None:
    tag = _SST_TAG.search(content)
    if tag is None:
        return
    declared = _UNIQUE_COUNT.search(tag.group(1))
    if declared and (len(declared.group(1)) > 12 or int(declared.group(1)) > len(content) // 4 + 1024):
        raise _Refused(
            "file_unreadable",
            "The workbook is damaged: its list of texts declares far more entries than it holds. "
            + _SAVE_AS_XLSX,
            value=declared.group(1).decode(),
        )


def _inspect_workbook(data: bytes, zf: zipfile.ZipFile) -> None:
    """Inflate every member once, bounded, and scan what calamine would otherwise trust."""
    for info in zf.infolist():
        if info.is_dir():
            continue
        content = _inflate(data, info, "an Excel workbook")
        if b"<" not in content:
            continue
        _check_shared_strings(content)
        _check_sheet_extent(content)


# --------------------------------------------------------------------------- sniffing


def _looks_like(data: bytes) -> str:
    head = data[:16]
    if head.startswith(b"\x89PNG"):
        return "a PNG image"
    if head.startswith(b"\xff\xd8\xff"):
        return "a JPEG image"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "a GIF image"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    text = data[:512].lstrip().lower()
    if text.startswith((b"<html", b"<!doctype html", b"<table")) or b"<html" in text[:200]:
        return "a web page (HTML)"
    if text.startswith(b"<?xml"):
        return "an XML file"
    if b"\x00" not in data[:4096]:
        return "text, perhaps a CSV file"
    return "something else"


def _sniff(data: bytes, name: str) -> tuple[str, zipfile.ZipFile | None]:
    """Decide what a file really is from its bytes; the extension is only a hint."""
    lower = name.lower()
    if not data.strip():
        raise _Refused("file_empty", "The file is empty. Send the filled-in return.")
    if data.startswith(OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data:
            message = (
                "The workbook is password-protected, so it cannot be read. Remove the password "
                "(File > Info > Protect Workbook) and send it again."
            )
        else:
            message = "The workbook is in the old Excel 97-2003 (.xls) format. " + _SAVE_AS_XLSX
        raise _Refused("xlsx_encrypted_or_legacy", message)
    if data.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        named_workbook = lower.endswith(WORKBOOK_SUFFIXES)
        zf = _open_zip(data, "an Excel workbook" if named_workbook else "a zip")
        names = {n.lower() for n in zf.namelist()}
        if "[content_types].xml" in names or any(n.startswith("xl/") for n in names):
            if any(n.endswith("vbaproject.bin") for n in names) or lower.endswith(MACRO_SUFFIXES):
                raise _Refused(
                    "xlsx_macro_enabled",
                    "The workbook contains macros (.xlsm). Save it as an Excel Workbook (.xlsx) without macros "
                    "and send it again.",
                )
            if "xl/workbook.xml" in names:
                return "xlsx", zf
            if "xl/workbook.bin" in names:
                kind = "an Excel Binary Workbook (.xlsb)"
            elif any(n.startswith("word/") for n in names):
                kind = "a Word document"
            elif any(n.startswith("ppt/") for n in names):
                kind = "a PowerPoint presentation"
            else:
                kind = "an incomplete Office file"
            raise _Refused(
                "xlsx_not_a_workbook", f"The file is {kind}, not an Excel workbook. " + _SAVE_AS_XLSX
            )
        if "mimetype" in names and "content.xml" in names:
            raise _Refused(
                "xlsx_not_a_workbook",
                "The file is an OpenDocument spreadsheet (.ods), not an Excel workbook. " + _SAVE_AS_XLSX,
            )
        if named_workbook:
            raise _Refused(
                "xlsx_not_a_workbook",
                "The file is named like an Excel workbook but is a plain zip archive. " + _SAVE_AS_XLSX,
            )
        return "zip", zf
    if lower.endswith(WORKBOOK_SUFFIXES):
        raise _Refused(
            "xlsx_not_a_workbook",
            "The file is named like an Excel workbook but is not one: its content looks like "
            f"{_looks_like(data)}. " + _SAVE_AS_XLSX,
        )
    if lower.endswith(".zip"):
        raise _Refused(
            "file_type_unknown",
            f"The file is named like a zip archive but is not one: its content looks like {_looks_like(data)}. "
            "Zip the return's CSV files again, or send the workbook (.xlsx).",
        )
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _Refused(
            "file_not_text",
            f"The file is neither an Excel workbook nor a CSV text file (it looks like {_looks_like(data)}). "
            + _SAVE_AS_XLSX,
        )
    return "csv", None


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) first, UTF-16 with a BOM, then Windows-1252 as Excel's 'CSV' save uses."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


# --------------------------------------------------------------------------- grids to frames


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _find_header(rows: list[tuple], part: Part) -> int | None:
    labels = _label_map(part)
    required = set(part.required_columns)
    enough = max(2, len(part.columns) // 2)
    for i, row in enumerate(rows):
        hits = {labels[c] for c in map(canonical_label, row) if c in labels}
        if hits and (required <= hits or len(hits) >= enough):
            return i
    return None


def _find_key_column(rows: list[tuple], part: Part) -> tuple[int, dict[str, int]] | None:
    """The column holding the about part's labels (Team ID, Period ...): at least two of them."""
    labels = _label_map(part)
    best: tuple[int, dict[str, int]] | None = None
    width = max((len(r) for r in rows), default=0)
    for j in range(min(width, 6)):
        found: dict[str, int] = {}
        for i, row in enumerate(rows):
            if j < len(row):
                name = labels.get(canonical_label(row[j]))
                if name is not None and name not in found:
                    found[name] = i
        if len(found) >= 2 and (best is None or len(found) > len(best[1])):
            best = (j, found)
    return best


def _header_missing(part: Part, raw: RawReturn) -> None:
    labels = ", ".join(f"'{c.label}'" for c in part.columns)
    where = "sheet" if raw.file.lower().endswith(WORKBOOK_SUFFIXES) else "file"
    raw.fatal(
        "part_header_missing",
        f"The '{part.name}' {where} has no header row with the expected columns ({labels}) in its first "
        f"{HEADER_SEARCH_ROWS} rows. Use the network's template, or put these labels above the table.",
        part=part.name,
    )


Grid = list[tuple]  # a sheet or CSV as rows of cells (text or None); grid[i] is Excel row i + 1


def _key_value_frame(grid: Grid, part: Part, raw: RawReturn) -> pl.DataFrame | None:
    """The 'about' sheet is laid out as label | value rows; a one-row table is accepted too."""
    rows = grid[:200]
    located = _find_key_column(rows, part)
    if located is None:
        return _table_frame(grid, part, raw)
    j, found = located
    # the values sit in the first column right of the labels that holds any of them (labels may be merged)
    width = max(len(rows[i]) for i in found.values())
    value_col = j + 1
    for k in range(j + 1, min(j + 4, width)):
        if any(k < len(rows[i]) and _cell_text(rows[i][k]) for i in found.values()):
            value_col = k
            break
    record: dict[str, object] = {"_row": min(found.values()) + 1}
    for name in part.column_names:
        i = found.get(name)
        record[name] = _cell_text(rows[i][value_col]) if i is not None and value_col < len(rows[i]) else None
    for name in part.column_names:
        i = found.get(name)
        record[f"_row_{name}"] = None if i is None else i + 1
    schema = {
        "_row": pl.Int64,
        **dict.fromkeys(part.column_names, pl.String),
        **{f"_row_{n}": pl.Int64 for n in part.column_names},
    }
    raw.extra_columns[part.name] = []
    return pl.DataFrame([record], schema=schema)


def _table_frame(grid: Grid, part: Part, raw: RawReturn) -> pl.DataFrame | None:
    """Find the header row, name the columns, drop blank rows, attach Excel row numbers."""
    header_idx = _find_header(grid[:HEADER_SEARCH_ROWS], part)
    if header_idx is None and part.optional and not any(_cell_text(v) for row in grid for v in row):
        raw.extra_columns[part.name] = []
        return part.no_rows()  # an optional sheet left empty: nothing to report
    if header_idx is None:
        _header_missing(part, raw)
        return None
    labels = _label_map(part)
    source: dict[str, int] = {}  # contract column -> grid column
    duplicates: list[tuple[int, str, str]] = []
    extras: list[str] = []
    for j, cell in enumerate(grid[header_idx]):
        name = labels.get(canonical_label(cell))
        if name is None:
            if _cell_text(cell):
                extras.append(str(cell).strip())
        elif name in source:
            duplicates.append((j, name, str(cell).strip()))
        else:
            source[name] = j
    raw.extra_columns[part.name] = extras
    names = part.column_names
    picks = [source.get(n) for n in names]
    columns: list[list[str | None]] = [[] for _ in names]
    row_numbers: list[int] = []
    duplicate_used = [False] * len(duplicates)
    for number, row in enumerate(grid[header_idx + 1 :], start=header_idx + 2):
        width = len(row)
        values = [_cell_text(row[j]) if j is not None and j < width else None for j in picks]
        if values.count(None) == len(values):
            continue
        row_numbers.append(number)
        for column, value in zip(columns, values, strict=True):
            column.append(value)
        for k, (j, _, _) in enumerate(duplicates):
            if not duplicate_used[k] and j < width and _cell_text(row[j]):
                duplicate_used[k] = True
    for used, (_, name, label) in zip(duplicate_used, duplicates, strict=True):
        if used:
            raw.add(
                "column_duplicated",
                "error",
                f"The '{part.name}' table has two '{label}' columns. Keep one column per heading (the first was "
                "read, but the second holds values too) and send the return again.",
                part=part.name,
                row=header_idx + 1,
                column=name,
                value=label,
            )
    if len(row_numbers) > MAX_ROWS_PER_PART:
        raw.fatal(
            "part_too_many_rows",
            f"The '{part.name}' part has {len(row_numbers):,} rows; a monthly return has at most "
            f"{MAX_ROWS_PER_PART:,}.",
            part=part.name,
            value=str(len(row_numbers)),
        )
        return None
    data = {"_row": row_numbers, **dict(zip(names, columns, strict=True))}
    return pl.DataFrame(data, schema={"_row": pl.Int64, **dict.fromkeys(names, pl.String)})


def _add_part(grid: Grid, part: Part, raw: RawReturn) -> None:
    builder = _key_value_frame if part.key_value else _table_frame
    frame = builder(grid, part, raw)
    if frame is not None:
        raw.parts[part.name] = frame


def _exact(text: str | None, number: float | None) -> str | None:
    if number is None or text is None:
        return text
    try:
        if float(text) == number:
            return text
    except ValueError:
        return text
    return repr(number)


def _sheet_grid(text: pl.DataFrame, exact: pl.DataFrame) -> Grid:
    """The sheet's text, with exact numbers: fastexcel renders a number as text rounded to 9 decimals
    (1/3 becomes '0.333333333', 1e-12 becomes '0'), so a number whose text does not round-trip is
    replaced by its shortest exact form."""
    if text.width > MAX_COLUMNS:
        raise _too_large(text.height, text.width)
    rows = text.rows()
    if exact.shape != text.shape:
        return rows
    out = rows
    for i, numbers in enumerate(exact.iter_rows()):
        for j, n in enumerate(numbers):
            if n is not None and n != round(n, 9):
                exact_text = _exact(rows[i][j], n)
                if exact_text != rows[i][j]:
                    if out is rows:
                        out = list(rows)
                    out[i] = (*out[i][:j], exact_text, *out[i][j + 1 :])
    return out


def _read_xlsx(data: bytes, zf: zipfile.ZipFile, raw: RawReturn) -> None:
    _inspect_workbook(data, zf)
    try:
        reader = fastexcel.read_excel(data)
        sheet_names = list(reader.sheet_names)
    except Exception as exc:  # calamine raises its own types for broken workbooks
        raise _Refused(
            "file_unreadable",
            f"The workbook cannot be read ({str(exc).splitlines()[0][:160]}). " + _SAVE_AS_XLSX,
        ) from None
    sheets: dict[str, str] = {}
    for s in sheet_names:
        sheets.setdefault(canonical_label(s), s)
    for part in PARTS.values():
        sheet = sheets.get(part.name) or sheets.get(canonical_label(part.title))
        if sheet is None:
            if part.optional:
                raw.parts[part.name] = part.no_rows()
                continue
            raw.fatal(
                "part_missing",
                f"The workbook has no '{part.name}' sheet. Every return needs the sheets "
                f"{', '.join(REQUIRED_PARTS)}; use the network's template.",
                part=part.name,
            )
            continue
        try:
            text = reader.load_sheet(sheet, header_row=None, skip_rows=0, dtypes="string").to_polars()
            exact = reader.load_sheet(sheet, header_row=None, skip_rows=0, dtypes="float").to_polars()
        except Exception as exc:
            raw.fatal(
                "part_unreadable",
                f"The '{sheet}' sheet cannot be read ({str(exc).splitlines()[0][:160]}). "
                "Copy its table into the network's template and send it again.",
                part=part.name,
            )
            continue
        _add_part(_sheet_grid(text, exact), part, raw)


# --------------------------------------------------------------------------- csv


def _csv_records(text: str, delimiter: str, limit: int | None = None) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    rows: list[list[str]] = []
    for record in reader:
        rows.append(record)
        if len(record) > MAX_COLUMNS:
            raise _too_large(len(rows), len(record))
        if limit is not None and len(rows) >= limit:
            break
        if len(rows) > MAX_CSV_RECORDS:
            raise _Refused(
                "part_too_many_rows",
                f"The CSV file has more than {MAX_CSV_RECORDS:,} lines; a monthly return has at most "
                f"{MAX_ROWS_PER_PART:,} rows per part.",
            )
    return rows


def _layout_found(rows: list[list[str]], part: Part) -> bool:
    if part.key_value and _find_key_column([tuple(r) for r in rows], part) is not None:
        return True
    return _find_header([tuple(r) for r in rows], part) is not None


def _csv_grid(text: str, part: Part) -> Grid:
    """Parse CSV text into rows, one per record (the row Excel shows when it opens the file)."""
    text = text.replace("\x00", "")
    delimiter = ","
    for candidate in (",", ";", "\t"):  # Excel in many locales saves 'CSV' with semicolons
        if _layout_found(_csv_records(text, candidate, limit=HEADER_SEARCH_ROWS), part):
            delimiter = candidate
            break
    return [tuple(r) for r in _csv_records(text, delimiter)]


def _read_csv_part(data: bytes, part: Part, raw: RawReturn) -> None:
    try:
        grid = _csv_grid(decode_text(data), part)
    except csv.Error as exc:
        raw.fatal(
            "part_unreadable",
            f"The '{part.name}' CSV cannot be read ({exc}). Save it again from Excel as 'CSV UTF-8' and resend it.",
            part=part.name,
        )
        return
    _add_part(grid, part, raw)


def _part_of(file_name: str) -> str | None:
    """'measures.csv', 'Measures.CSV', 'T01_2026-10_measures.csv' and 'PDSA cycles.csv' all name a part."""
    stem = canonical_label(Path(file_name).stem)
    for part in PARTS.values():
        for key in (part.name, canonical_label(part.title)):
            if stem == key or stem.endswith("_" + key):
                return part.name
    return None


def _match_parts(names: list[str], where: str) -> dict[str, str]:
    chosen: dict[str, str] = {}
    for name in names:
        part = _part_of(name)
        if part is None:
            continue
        if part in chosen:
            raise _Refused(
                "part_duplicated",
                f"The {where} holds two files for the '{part}' part ('{Path(chosen[part]).name}' and "
                f"'{Path(name).name}'). Send exactly one file per part.",
                value=Path(name).name,
                part=part,
            )
        chosen[part] = name
    return chosen


def _missing_csv_parts(chosen: dict[str, str], raw: RawReturn, where: str) -> None:
    for part in PARTS:
        if part not in chosen and PARTS[part].optional:
            raw.parts[part] = PARTS[part].no_rows()
        elif part not in chosen:
            raw.fatal(
                "part_missing",
                f"No '{part}.csv' was found in the {where}. A CSV return needs "
                f"{', '.join(p + '.csv' for p in REQUIRED_PARTS)} together in a folder or a zip.",
                part=part,
            )


def _read_zip_csvs(data: bytes, zf: zipfile.ZipFile, raw: RawReturn) -> None:
    infos = [
        i
        for i in zf.infolist()
        if not i.is_dir()
        and i.filename.lower().endswith(".csv")
        and "__macosx" not in i.filename.lower()
        and not Path(i.filename).name.startswith("._")
    ]
    if not infos:
        raise _Refused(
            "file_empty",
            "The zip holds no CSV files. Send the workbook (.xlsx), or the four parts "
            f"({', '.join(p + '.csv' for p in REQUIRED_PARTS)}) in a zip.",
        )
    by_name = {i.filename: i for i in infos}
    chosen = _match_parts(list(by_name), "zip")
    _missing_csv_parts(chosen, raw, "zip")
    for part, name in chosen.items():
        info = by_name[name]
        if info.file_size > MAX_FILE_BYTES:
            raise _Refused(
                "file_too_large",
                f"'{name}' unpacks to {info.file_size:,} bytes; each part is limited to {MAX_FILE_BYTES:,} bytes.",
                part=part,
                value=str(info.file_size),
            )
        _read_csv_part(_inflate(data, info, "a zip"), PARTS[part], raw)


def _read_bounded(path: Path) -> bytes:
    """The file's bytes, refusing anything that is not a regular file or is over the size cap."""
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise _Refused(
            "file_unreadable", "This is not a regular file (a device, a pipe or a socket); it was not read."
        )
    if st.st_size > MAX_FILE_BYTES:
        raise _too_big(st.st_size)
    with path.open("rb") as fh:
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _too_big(len(data))
    return data


def _too_big(size: int) -> _Refused:
    return _Refused(
        "file_too_large",
        f"The file is {size:,} bytes; returns are limited to {MAX_FILE_BYTES:,} bytes (a return is usually "
        "well under 1 MB). Remove pictures and extra sheets, or use the network's template, and send it again.",
        value=str(size),
    )


def _read_folder(path: Path, raw: RawReturn) -> None:
    files = []
    for p in path.iterdir():
        if p.suffix.lower() == ".csv" and not p.is_symlink() and p.is_file():
            files.append(p)
            if len(files) > MAX_ZIP_MEMBERS:
                raise _Refused(
                    "folder_too_many_files",
                    f"The folder holds more than {MAX_ZIP_MEMBERS} CSV files; a return has four. "
                    "Put only the return's files in the folder.",
                )
    if not files:
        raise _Refused(
            "file_empty",
            "The folder holds no CSV files. A CSV return needs "
            f"{', '.join(p + '.csv' for p in REQUIRED_PARTS)} together in a folder or a zip.",
        )
    by_name = {p.name: p for p in sorted(files)}
    chosen = _match_parts(list(by_name), "folder")
    _missing_csv_parts(chosen, raw, "folder")
    for part, name in chosen.items():
        _read_csv_part(_read_bounded(by_name[name]), PARTS[part], raw)


def _read_single_csv(data: bytes, path: Path, raw: RawReturn) -> None:
    part = _part_of(path.name)
    if part is None:
        raise _Refused(
            "file_type_unknown",
            "A single CSV file is not a whole return. Send the workbook (.xlsx), or the four parts "
            f"({', '.join(p + '.csv' for p in REQUIRED_PARTS)}) in a folder or zip.",
        )
    _read_csv_part(data, PARTS[part], raw)
    for other in PARTS:
        if other != part and PARTS[other].optional:
            raw.parts[other] = PARTS[other].no_rows()
        elif other != part:
            raw.fatal(
                "part_missing",
                f"Only '{path.name}' was sent: a CSV return needs {', '.join(p + '.csv' for p in REQUIRED_PARTS)} "
                "together in a folder or a zip.",
                part=other,
            )


# --------------------------------------------------------------------------- entry point


def _log_failure(path: Path, exc: BaseException) -> None:
    """One line for operators (never a traceback on a user's terminal); the traceback at debug level."""
    log.warning("reader failed on %s: %s: %s", path.name, type(exc).__name__, str(exc)[:200])
    log.debug("reader failure on %s", path.name, exc_info=exc)


def read_return(path: Path, data: bytes | None = None, sha256: str | None = None) -> RawReturn:
    """Read one received file (or CSV folder). Never raises for bad content: findings are issues.

    The one exception that passes is ``PermissionError``: a path the caller cannot read at all
    is a usage problem to report (``joyflow validate`` exits 2), not a finding about a return.

    When no issue is fatal or an error, every part of the contract is in ``parts``.
    """
    raw = RawReturn(file=path.name, sha256=sha256)
    try:
        if data is None and path.is_dir():
            _read_folder(path, raw)
        else:
            if data is None:
                data = _read_bounded(path)
            if len(data) > MAX_FILE_BYTES:
                raise _too_big(len(data))
            kind, zf = _sniff(data, path.name)
            if kind == "xlsx":
                _read_xlsx(data, zf, raw)
            elif kind == "zip":
                _read_zip_csvs(data, zf, raw)
            else:
                _read_single_csv(data, path, raw)
    except _Refused as refusal:
        raw.fatal(refusal.check, refusal.message, part=refusal.part, value=refusal.value)
    except PermissionError:
        raise  # not a finding about the file: the caller cannot read the path at all (the CLI exits 2)
    except MemoryError:
        raw.fatal("file_too_large", "The file needs more memory to read than a return can; it was not read.")
    except Exception as exc:  # the last line of defence: a strange file must never become a traceback
        _log_failure(path, exc)
        raw.fatal("file_unreadable", f"The file cannot be read ({exc.__class__.__name__}). " + _SAVE_AS_XLSX)
    except BaseException as exc:
        if not _is_rust_panic(exc):
            raise
        _log_failure(path, exc)
        raw.fatal(
            "file_unreadable", "The workbook cannot be read (the Excel reader failed). " + _SAVE_AS_XLSX
        )
    if not any(i.severity in REJECTING for i in raw.issues):
        for part in PARTS:  # the promise to validation: no rejecting issue means every part is here
            if part not in raw.parts and PARTS[part].optional:
                raw.parts[part] = PARTS[part].no_rows()
            elif part not in raw.parts:
                raw.fatal("part_missing", f"The '{part}' part could not be found in the return.", part=part)
    return raw


class UnreadableWorkbook(Exception):
    """A workbook refused by the intake's guards, with the check's name and the sentence to show."""

    def __init__(self, check: str, message: str):
        super().__init__(message)
        self.check, self.message = check, message


def first_sheet_rows(data: bytes, name: str) -> list[list[str]]:
    """The first sheet of a workbook (a workshop's sign-in sheet) as rows of text, after the same
    guards a return's workbook passes (what the bytes are, zip bombs, calamine's allocations)."""
    try:
        kind, zf = _sniff(data, name)
        if kind != "xlsx" or zf is None:
            raise _Refused("xlsx_not_a_workbook", "The file is not an Excel workbook. " + _SAVE_AS_XLSX)
        _inspect_workbook(data, zf)
        frame = fastexcel.read_excel(data).load_sheet(0, header_row=None, dtypes="string").to_polars()
    except _Refused as refused:
        raise UnreadableWorkbook(refused.check, refused.message) from None
    except BaseException as exc:  # calamine's own errors, and Rust panics (BaseException)
        if not (isinstance(exc, Exception) or _is_rust_panic(exc)):
            raise
        raise UnreadableWorkbook(
            "file_unreadable",
            f"The workbook cannot be read ({str(exc).splitlines()[0][:160]}). " + _SAVE_AS_XLSX,
        ) from None
    return [[("" if v is None else str(v)).strip() for v in row] for row in frame.iter_rows()]
