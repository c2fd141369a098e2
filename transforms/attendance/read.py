"""Read one attendance file, whatever tool wrote it, into an ``AttendanceExport``.

The bytes are archived by the caller first (``transforms.intake.archive``); here they are decoded,
the layout is recognised from the content (the file name is only a hint), the rows are read and
checked against ``schemas.attendance``. Nothing raises for bad content: every problem becomes an
issue naming the file, the part, the row and what to do.
"""

from __future__ import annotations

from pathlib import Path

from schemas.attendance import AttendanceExport, check_exports
from transforms.attendance import signin, teams, zoom
from transforms.attendance.text import decode, rows, sniff_delimiter
from transforms.intake.read import UnreadableWorkbook, first_sheet_rows

MAX_ATTENDANCE_BYTES = 10 * 1024 * 1024
_WORKBOOK = (".xlsx", ".xlsm")


def read_attendance(path: Path, data: bytes, sha256: str | None = None) -> AttendanceExport:
    """One file, read and checked."""
    return read_attendance_files([(path, data, sha256, len(data))])[0]


def read_attendance_files(files: list[tuple[Path, bytes | None, str | None, int]]) -> list[AttendanceExport]:
    """Read each file (its path, bytes, SHA-256 and size), then check all their rows in one
    validation. A file's bytes are None when the archive kept them without loading them (too large)."""
    return check_exports([_read(path, data, sha256, size) for path, data, sha256, size in files])


def _read(path: Path, data: bytes | None, sha256: str | None, size: int) -> AttendanceExport:
    """The file's meeting and sessions, or the issue that stopped the reading; rows not yet checked."""
    export = AttendanceExport(path.name, sha256)
    if data is None or size > MAX_ATTENDANCE_BYTES:
        return export.add(
            "attendance_too_large",
            "fatal",
            f"The file is {size / 1e6:.1f} MB; an attendance export is never more than "
            f"{MAX_ATTENDANCE_BYTES / 1e6:.0f} MB. Check that it is the right file.",
        )
    if data.startswith(b"PK\x03\x04") or path.suffix.lower() in _WORKBOOK:
        table = _workbook_rows(export, data)
    else:
        decoded = decode(data)
        if decoded.text is None:
            return export.add(
                "attendance_encoding",
                "fatal",
                f"This file cannot be read as an attendance export: {decoded.problem}. Send the file as the "
                "meeting tool downloaded it (Teams: UTF-16; Zoom: UTF-8 CSV), not re-saved from another program.",
            )
        table = rows(decoded.text, sniff_delimiter(decoded.text))
    if export.rejected:
        return export
    if teams.is_sectioned(table):
        teams.read_sectioned(export, table)
    elif teams.is_2020_layout(table):
        teams.read_2020(export, table)
    elif zoom.is_zoom(table):
        zoom.read_zoom(export, table)
    elif signin.is_signin(table):
        signin.read_signin(export, table)
    else:
        return export.add(
            "attendance_layout",
            "fatal",
            "This file is not an attendance export joyflow knows: not a Teams attendance report, a Zoom "
            "participants export, nor a sign-in sheet with a 'Name' column.",
        )
    return export


def _workbook_rows(export: AttendanceExport, data: bytes) -> list[list[str]]:
    """A sign-in sheet kept in Excel: its first sheet, read through the intake's workbook guards."""
    try:
        return first_sheet_rows(data, export.file)
    except UnreadableWorkbook as refused:
        export.add(refused.check, "fatal", refused.message)
        return []
