"""Read a monthly return (xlsx workbook, CSV folder or zip of CSVs) into text-only frames.

Every cell is read as text so that nothing a team typed is lost or silently coerced;
typing happens later, in ``normalise``, where a failure can be reported per cell. Each
frame carries ``_row``: the row number as the team sees it in Excel (or the CSV line).
Hostile files are stopped here, before any parser sees them: size caps, zip-bomb caps,
macro-enabled and encrypted workbooks, files that are not what they claim to be.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import polars as pl

from schemas.contract import PARTS, Part
from transforms.intake.issues import Issue

MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_ZIP_MEMBERS = 200
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
MAX_ROWS_PER_PART = 20_000
HEADER_SEARCH_ROWS = 15

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"


@dataclass
class RawReturn:
    """What was read from one file: text frames per part, plus any fatal findings."""

    file: str
    sha256: str | None = None
    parts: dict[str, pl.DataFrame] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    # Labels of extra columns the team added: kept for the feedback sheet, never loaded.
    extra_columns: dict[str, list[str]] = field(default_factory=dict)

    def fatal(self, check: str, message: str, part: str | None = None, value: str | None = None) -> RawReturn:
        self.issues.append(Issue(self.file, part, None, None, check, "fatal", value, message, self.sha256))
        return self


class _Refused(Exception):
    def __init__(self, check: str, message: str, value: str | None = None):
        super().__init__(message)
        self.check, self.message, self.value = check, message, value


def canonical_label(label: object) -> str:
    """'Measure ID ' / 'measure_id' / 'MEASURE-ID' all mean measure_id."""
    text = str(label or "").replace("\ufeff", "").strip().lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _label_map(part: Part) -> dict[str, str]:
    labels: dict[str, str] = {}
    for col in part.columns:
        labels[canonical_label(col.name)] = col.name
        labels[canonical_label(col.label)] = col.name
    return labels


def _guard_zip(data: bytes, what: str) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise _Refused(
            "file_unreadable", f"The file is damaged or incomplete and cannot be opened as {what} ({exc})."
        ) from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise _Refused(
            "zip_too_many_members",
            f"The file holds {len(infos)} parts, more than the {MAX_ZIP_MEMBERS} a return can have.",
        )
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if total > MAX_UNCOMPRESSED_BYTES or total / packed > MAX_COMPRESSION_RATIO:
        raise _Refused(
            "zip_bomb",
            f"The file would unpack to {total:,} bytes from {packed:,} ({total / packed:.0f}:1); "
            "returns are small, so this file was not opened. Save the return again and resend it.",
        )
    for info in infos:
        name = info.filename
        if name.startswith("/") or ".." in Path(name).parts or "\\" in name:
            raise _Refused(
                "zip_unsafe_path",
                "The file contains a part with an unsafe path; it was not opened.",
                value=name,
            )
    return zf


def _sniff(data: bytes, name: str) -> str:
    """Decide what a file really is from its bytes; the extension is only a hint."""
    if not data.strip():
        raise _Refused("file_empty", "The file is empty.")
    if data.startswith(OLE_MAGIC):
        raise _Refused(
            "xlsx_encrypted_or_legacy",
            "The workbook is password-protected or in the old .xls format. "
            "Remove the password and save it as an Excel Workbook (.xlsx).",
        )
    if data.startswith(ZIP_MAGIC) or data.startswith(EMPTY_ZIP_MAGIC):
        zf = _guard_zip(data, "a workbook or zip")
        names = set(zf.namelist())
        if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
            if any(n.lower().endswith("vbaproject.bin") for n in names) or name.lower().endswith(".xlsm"):
                raise _Refused(
                    "xlsx_macro_enabled",
                    "The workbook contains macros (.xlsm). Save it as an Excel Workbook (.xlsx) without macros.",
                )
            return "xlsx"
        return "zip"
    if name.lower().endswith((".xlsx", ".xlsm", ".xls")):
        raise _Refused(
            "xlsx_not_a_workbook",
            "The file is named like an Excel workbook but is not one (its content is something else). "
            "Open the return in Excel and save it as an Excel Workbook (.xlsx).",
        )
    if b"\x00" in data[:4096]:
        raise _Refused("file_not_text", "The file is neither an Excel workbook nor a CSV text file.")
    return "csv"


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) first, then Windows-1252 as Excel's 'CSV' save uses."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _frame_from_grid(grid: pl.DataFrame, part: Part, first_row: int, raw: RawReturn) -> pl.DataFrame | None:
    """Find the header row, name the columns, drop blank rows, attach Excel row numbers."""
    labels = _label_map(part)
    cols = grid.columns
    header_idx = None
    for i in range(min(HEADER_SEARCH_ROWS, grid.height)):
        row = [canonical_label(v) for v in grid.row(i)]
        hits = {labels[c] for c in row if c in labels}
        if hits and (set(part.required_columns) <= hits or len(hits) >= max(2, len(part.columns) // 2)):
            header_idx = i
            break
    if header_idx is None:
        raw.fatal(
            "part_header_missing",
            f"The '{part.name}' part has no header row with the expected columns "
            f"({', '.join(part.column_names)}). Use the network's template.",
            part=part.name,
        )
        return None
    header = [canonical_label(v) for v in grid.row(header_idx)]
    rename: dict[str, str] = {}
    extras: list[str] = []
    for col, label in zip(cols, header, strict=True):
        name = labels.get(label)
        if name and name not in rename.values():
            rename[col] = name
        elif label:
            extras.append(label)
    raw.extra_columns[part.name] = extras
    body = (
        grid.slice(header_idx + 1)
        .with_row_index("_row", offset=first_row + header_idx + 1)
        .select(["_row", *rename.keys()])
        .rename(rename)
    )
    for name in part.column_names:
        if name not in body.columns:
            body = body.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    text_cols = part.column_names
    body = body.with_columns(pl.col(text_cols).str.strip_chars().replace("", None))
    body = body.filter(~pl.all_horizontal(pl.col(text_cols).is_null()))
    if body.height > MAX_ROWS_PER_PART:
        raw.fatal(
            "part_too_many_rows",
            f"The '{part.name}' part has {body.height:,} rows; a monthly return has at most "
            f"{MAX_ROWS_PER_PART:,}.",
            part=part.name,
        )
        return None
    return body.select(["_row", *text_cols]).with_columns(pl.col("_row").cast(pl.Int64))


def _key_value_frame(grid: pl.DataFrame, part: Part, first_row: int, raw: RawReturn) -> pl.DataFrame | None:
    """The 'about' sheet is laid out as label | value rows; a one-row table is accepted too."""
    labels = _label_map(part)
    if grid.width >= 2:
        keys = [canonical_label(v) for v in grid.get_column(grid.columns[0]).to_list()]
        found = {labels[k]: i for i, k in reversed(list(enumerate(keys))) if k in labels}
        if len(found) >= 2:
            values = grid.get_column(grid.columns[1])
            record: dict[str, object] = {"_row": first_row + min(found.values())}
            for name in part.column_names:
                i = found.get(name)
                v = values[i] if i is not None else None
                record[name] = v.strip() or None if isinstance(v, str) else v
            rows = {name: first_row + i for name, i in found.items()}
            raw.extra_columns["about_rows"] = [f"{k}={v}" for k, v in rows.items()]
            return pl.DataFrame([record], schema={"_row": pl.Int64, **dict.fromkeys(part.column_names, pl.String)})
    return _frame_from_grid(grid, part, first_row, raw)


def _read_xlsx(data: bytes, raw: RawReturn) -> None:
    try:
        reader = fastexcel.read_excel(data)
        sheets = {canonical_label(s): s for s in reader.sheet_names}
    except Exception as exc:  # calamine raises its own types for broken workbooks
        raise _Refused("file_unreadable", f"The workbook cannot be read: {str(exc)[:200]}") from None
    for part in PARTS.values():
        sheet = sheets.get(part.name) or sheets.get(canonical_label(part.title))
        if sheet is None:
            raw.fatal(
                "part_missing",
                f"The workbook has no '{part.name}' sheet. Every return needs the sheets "
                f"{', '.join(PARTS)}; use the network's template.",
                part=part.name,
            )
            continue
        try:
            grid = reader.load_sheet(sheet, header_row=None, skip_rows=0, dtypes="string").to_polars()
        except Exception as exc:
            raw.fatal("part_unreadable", f"The '{sheet}' sheet cannot be read: {str(exc)[:200]}", part=part.name)
            continue
        builder = _key_value_frame if part.key_value else _frame_from_grid
        frame = builder(grid, part, 1, raw)
        if frame is not None:
            raw.parts[part.name] = frame


def _read_csv_text(text: str, part: Part, raw: RawReturn) -> None:
    try:
        grid = pl.read_csv(
            io.StringIO(text), has_header=False, infer_schema=False, truncate_ragged_lines=True,
            quote_char='"',
        )
    except Exception as exc:
        raw.fatal("part_unreadable", f"The '{part.name}' CSV cannot be read: {str(exc)[:200]}", part=part.name)
        return
    builder = _key_value_frame if part.key_value else _frame_from_grid
    frame = builder(grid, part, 1, raw)
    if frame is not None:
        raw.parts[part.name] = frame


def _read_csv_members(members: dict[str, bytes], raw: RawReturn) -> None:
    by_part = {canonical_label(Path(n).stem): n for n in members}
    for part in PARTS.values():
        name = by_part.get(part.name)
        if name is None:
            raw.fatal(
                "part_missing",
                f"No '{part.name}.csv' was found. A CSV return needs {', '.join(p + '.csv' for p in PARTS)}.",
                part=part.name,
            )
            continue
        _read_csv_text(decode_text(members[name]), part, raw)


def read_return(path: Path, data: bytes | None = None, sha256: str | None = None) -> RawReturn:
    """Read one received file (or CSV folder). Never raises for bad content: findings are issues."""
    raw = RawReturn(file=path.name, sha256=sha256)
    try:
        if path.is_dir():
            members = {p.name: p.read_bytes() for p in sorted(path.glob("*.csv")) if p.is_file()}
            if not members:
                return raw.fatal("file_empty", "The folder holds no CSV files.")
            _read_csv_members(members, raw)
            return raw
        if data is None:
            if path.stat().st_size > MAX_FILE_BYTES:
                return raw.fatal(
                    "file_too_large",
                    f"The file is {path.stat().st_size:,} bytes; returns are limited to {MAX_FILE_BYTES:,} bytes.",
                )
            data = path.read_bytes()
        if len(data) > MAX_FILE_BYTES:
            return raw.fatal(
                "file_too_large", f"The file is {len(data):,} bytes; returns are limited to {MAX_FILE_BYTES:,} bytes."
            )
        kind = _sniff(data, path.name)
        if kind == "xlsx":
            _read_xlsx(data, raw)
        elif kind == "zip":
            zf = _guard_zip(data, "a zip")
            members = {
                Path(i.filename).name: zf.read(i)
                for i in zf.infolist()
                if not i.is_dir() and i.filename.lower().endswith(".csv") and "__macosx" not in i.filename.lower()
            }
            if not members:
                return raw.fatal("file_empty", "The zip holds no CSV files.")
            _read_csv_members(members, raw)
        else:
            text = decode_text(data)
            stem = canonical_label(path.stem)
            part = PARTS.get(stem)
            if part is None:
                return raw.fatal(
                    "file_type_unknown",
                    "A single CSV file is not a whole return. Send the workbook (.xlsx), or the four parts "
                    f"({', '.join(p + '.csv' for p in PARTS)}) in a folder or zip.",
                )
            _read_csv_text(text, part, raw)
    except _Refused as refusal:
        raw.fatal(refusal.check, refusal.message, value=refusal.value)
    except (OSError, MemoryError) as exc:
        raw.fatal("file_unreadable", f"The file cannot be read: {exc.__class__.__name__}.")
    return raw
