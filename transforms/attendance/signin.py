"""Sign-in sheets of the in-person workshops: a table with at least a name column.

Columns are recognised by their label in any case: ``Name`` (or ``Full name``), ``Email``, ``Team``
and ``Signed in`` (a time, or a mark). Everyone listed was there for the whole workshop: a
sign-in sheet records presence, not minutes.
"""

from __future__ import annotations

import polars as pl

from schemas.attendance import SESSION_COLUMNS, AttendanceExport
from transforms.attendance.text import canonical

_NAME = ("name", "full name", "participant", "attendee")
_EMAIL = ("email", "e mail", "email address")


def is_signin(rows: list[list[str]]) -> bool:
    return any(canonical(c) in _NAME for c in next((r for r in rows if r), []))


def read_signin(export: AttendanceExport, rows: list[list[str]]) -> AttendanceExport:
    export.source = "sign-in"
    header_line = next(i for i, r in enumerate(rows) if r)
    labels = [canonical(c) for c in rows[header_line]]
    name_at = next(i for i, c in enumerate(labels) if c in _NAME)
    email_at = next((i for i, c in enumerate(labels) if c in _EMAIL), None)
    records = []
    for line, cells in enumerate(rows[header_line + 1 :], start=header_line + 2):
        name = cells[name_at].strip() if name_at < len(cells) else ""
        if not name:
            continue
        email = cells[email_at].strip() if email_at is not None and email_at < len(cells) else ""
        records.append((line, name, None, email or None, None, None, None, None, False))
    export.sessions = pl.DataFrame(records, schema=SESSION_COLUMNS, orient="row")
    return export
