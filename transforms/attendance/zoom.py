"""Zoom participant exports: an optional meeting block, then one row per join.

The meeting block (``Meeting ID, Topic, Start Time, End Time, User Email, Duration (Minutes),
Participants``) and a blank line come first when the host ticked "show unique users" off; the
participants table (``Name (Original Name), User Email, Join Time, Leave Time, Duration (Minutes),
Guest[, Recording Consent]``) follows. Each rejoin is another row. A device the host renamed reads
``Current (Original)``: the name is kept as shown, and the bracketed original also as
``original_name``, since it is usually the person's own account name. ``Guest`` = Yes means outside the host's account, even with an email.
"""

from __future__ import annotations

import re

import polars as pl

from schemas.attendance import SESSION_COLUMNS, AttendanceExport
from transforms.attendance.clock import date_order, parse_minutes, parse_timestamp
from transforms.attendance.text import canonical

_RENAMED = re.compile(r"^(?P<current>.*\S)\s*\((?P<original>[^()]+)\)\s*$")
_COLUMNS = {
    "name (original name)": "name",
    "name": "name",
    "user email": "email",
    "email": "email",
    "join time": "joined",
    "leave time": "left",
    "duration (minutes)": "minutes",
    "duration (minute)": "minutes",
    "guest": "guest",
}
_REPAIR = "Export the participants again from the Zoom web portal (Reports > Usage > Participants) and send it unchanged."


def is_zoom(rows: list[list[str]]) -> bool:
    for cells in rows[:5]:
        labels = {canonical(c) for c in cells}
        if (
            {"meeting id", "topic"} <= labels
            or {"join time", "leave time"} <= labels
            and ("name (original name)" in labels or "user email" in labels)
        ):
            return True
    return False


def read_zoom(export: AttendanceExport, rows: list[list[str]]) -> AttendanceExport:
    export.source = "zoom"
    meeting: dict[str, str] = {}
    header_at = None
    for i, cells in enumerate(rows):
        labels = [canonical(c) for c in cells]
        if "meeting id" in labels and i + 1 < len(rows):
            meeting = dict(zip(labels, rows[i + 1], strict=False))
        if "join time" in labels and "leave time" in labels:
            header_at = i
            break
    if header_at is None:
        return export.add(
            "zoom_participants_missing",
            "fatal",
            f"This Zoom export has no participants table (a header with 'Join Time' and 'Leave Time'). {_REPAIR}",
            part="participants",
        )
    index = {_COLUMNS[c]: k for k, c in enumerate(canonical(x) for x in rows[header_at]) if c in _COLUMNS}
    body = [(line, cells) for line, cells in enumerate(rows[header_at + 1 :], start=header_at + 2) if cells]
    cell = lambda cells, key: cells[index[key]] if key in index and index[key] < len(cells) else ""  # noqa: E731
    stamps = [meeting.get("start time", ""), meeting.get("end time", "")]
    stamps += [cell(c, k) for _, c in body for k in ("joined", "left")]
    order = date_order(stamps)
    if order.order is None:
        return export.add("zoom_dates", "fatal", f"This Zoom export cannot be read: {order.problem}")
    export.title = meeting.get("topic") or None
    export.started = parse_timestamp(meeting.get("start time"), order.order)
    export.ended = parse_timestamp(meeting.get("end time"), order.order)
    records = []
    for line, cells in body:
        shown = cell(cells, "name")
        m = _RENAMED.match(shown)
        name, original = shown, (m["original"] if m else None)
        joined, left = (
            parse_timestamp(cell(cells, "joined"), order.order),
            parse_timestamp(cell(cells, "left"), order.order),
        )
        for column, value in (("joined", joined), ("left", left)):
            if value is None and cell(cells, column):
                export.add(
                    "attendance_timestamp",
                    "error",
                    f"'{cell(cells, column)}' is not a date and time as Zoom writes them. {_REPAIR}",
                    part="participants",
                    row=line,
                    column=column,
                    value=cell(cells, column),
                )
        seconds = parse_minutes(cell(cells, "minutes"))
        if seconds is None and joined and left:
            seconds = int((left - joined).total_seconds())
        guest = canonical(cell(cells, "guest")) in ("yes", "true", "y")
        records.append(
            (line, name, original, cell(cells, "email") or None, joined, left, seconds, None, guest)
        )
    export.sessions = pl.DataFrame(records, schema=SESSION_COLUMNS, orient="row")
    return export
