"""Microsoft Teams attendance reports, in both layouts Teams has written.

* **Sectioned** (2021 on): ``1. Summary`` (label/value rows: meeting title, start and end time),
  ``2. Participants`` (one row per person: ``Name, First Join, Last Leave, In-Meeting Duration,
  Email, Participant ID (UPN), Role``) and ``3. In-Meeting Activities`` (one row per join:
  ``Name, Join Time, Leave Time, Duration, Email, Role``). Header case varies by year (``First join``
  in 2022). The activities give each join; where a report has none, each person's first join to
  last leave stands for one session with the in-meeting duration Teams counted.
* **2020** (``meetingAttendanceList.csv``): ``Full Name, User Action, Timestamp``, one row per event
  (``Joined``, ``Joined before``, ``Left``); joins and leaves are paired per person in time order, and
  a join with no leave lasts until the last event of the file (the report is downloaded after the
  meeting).

Guests carry ``(Guest)``, ``(External)`` or ``(Unverified)`` after their name: the mark is removed
from the name and kept as ``guest``.
"""

from __future__ import annotations

import re

import polars as pl

from schemas.attendance import SESSION_COLUMNS, AttendanceExport
from transforms.attendance.clock import date_order, parse_duration, parse_timestamp
from transforms.attendance.text import canonical

_SECTION = re.compile(r"^(\d)\.\s+(.+)$")
_GUEST = re.compile(r"\s*\((guest|external|unverified)\)\s*$", re.IGNORECASE)

_SUMMARY_KEYS = {"meeting title": "title", "title": "title", "start time": "start", "end time": "end"}
PARTICIPANT_COLUMNS = {
    "name": "name",
    "first join": "joined",
    "last leave": "left",
    "in meeting duration": "duration",
    "email": "email",
    "participant id (upn)": "upn",
    "role": "role",
}
ACTIVITY_COLUMNS = {
    "name": "name",
    "join time": "joined",
    "leave time": "left",
    "duration": "duration",
    "email": "email",
    "role": "role",
}
_REPAIR = (
    "Download the attendance report again from Teams (the meeting's Attendance tab) and send it unchanged."
)


def is_sectioned(rows: list[list[str]]) -> bool:
    first = next((r for r in rows if r), [])
    return bool(first) and _SECTION.match(first[0]) is not None and canonical(first[0]).endswith("summary")


def is_2020_layout(rows: list[list[str]]) -> bool:
    header = {canonical(c) for c in next((r for r in rows if r), [])}
    return {"full name", "user action", "timestamp"} <= header


def _sections(rows: list[list[str]]) -> dict[str, list[tuple[int, list[str]]]]:
    """Section number → its (line, cells) rows, blank lines left out."""
    out: dict[str, list[tuple[int, list[str]]]] = {}
    current = None
    for line, cells in enumerate(rows, start=1):
        if len(cells) == 1 and (m := _SECTION.match(cells[0])):
            current = m.group(1)
            out[current] = []
        elif current is not None and cells:
            out[current].append((line, cells))
    return out


def _table(
    export: AttendanceExport, part: str, body: list[tuple[int, list[str]]], columns: dict[str, str]
) -> list[tuple[int, dict[str, str]]]:
    """The section's rows keyed by field, or [] with a fatal issue if its header is not Teams'."""
    if not body:
        return []
    header_line, header = body[0]
    index = {columns[canonical(c)]: i for i, c in enumerate(header) if canonical(c) in columns}
    missing = [
        label for label, key in columns.items() if key in ("name", "joined", "left") and key not in index
    ]
    if missing:
        export.add(
            "teams_columns",
            "fatal",
            f"The '{part}' section has no '{missing[0]}' column in its header (line {header_line}). {_REPAIR}",
            part=part,
            row=header_line,
        )
        return []
    return [
        (line, {k: cells[i] if i < len(cells) else "" for k, i in index.items()}) for line, cells in body[1:]
    ]


def _guest(name: str) -> tuple[str, bool]:
    stripped = _GUEST.sub("", name)
    return stripped, stripped != name


def read_sectioned(export: AttendanceExport, rows: list[list[str]]) -> AttendanceExport:
    export.source = "teams"
    sections = _sections(rows)
    summary = {
        _SUMMARY_KEYS[canonical(cells[0])]: (cells[1] if len(cells) > 1 else "")
        for _, cells in sections.get("1", [])
        if canonical(cells[0]) in _SUMMARY_KEYS
    }
    participants = _table(export, "participants", sections.get("2", []), PARTICIPANT_COLUMNS)
    activities = _table(export, "in-meeting activities", sections.get("3", []), ACTIVITY_COLUMNS)
    if "2" not in sections:
        export.add(
            "teams_participants_missing",
            "fatal",
            f"This Teams attendance report has no '2. Participants' section, so nobody's attendance can be "
            f"read from it. {_REPAIR}",
            part="participants",
        )
    elif not participants and not export.rejected:
        export.add(
            "teams_participants_empty",
            "fatal",
            f"The '2. Participants' section of this Teams attendance report lists nobody. {_REPAIR}",
            part="participants",
        )
    if export.rejected:
        return export
    stamps = [summary.get("start", ""), summary.get("end", "")]
    stamps += [r[k] for _, r in participants + activities for k in ("joined", "left")]
    order = date_order(stamps)
    if order.order is None:
        return export.add("teams_dates", "fatal", f"This Teams report cannot be read: {order.problem}")
    export.title = summary.get("title") or None
    export.started = parse_timestamp(summary.get("start"), order.order)
    export.ended = parse_timestamp(summary.get("end"), order.order)
    # Each join when Teams lists them; else each person's first join to last leave.
    part, body = ("in-meeting activities", activities) if activities else ("participants", participants)
    records = []
    for line, r in body:
        name, guest = _guest(r.get("name", ""))
        joined, left = (
            parse_timestamp(r.get("joined"), order.order),
            parse_timestamp(r.get("left"), order.order),
        )
        seconds = parse_duration(r.get("duration"))
        for column, text, value in (("joined", r.get("joined"), joined), ("left", r.get("left"), left)):
            if value is None and text:
                export.add(
                    "attendance_timestamp",
                    "error",
                    f"'{text}' is not a date and time as Teams writes them. {_REPAIR}",
                    part=part,
                    row=line,
                    column=column,
                    value=text,
                )
        if seconds is None and joined and left:
            seconds = int((left - joined).total_seconds())
        email = r.get("email") or r.get("upn") or None
        records.append((line, name, None, email, joined, left, seconds, r.get("role") or None, guest))
    export.sessions = pl.DataFrame(records, schema=SESSION_COLUMNS, orient="row")
    return export


def read_2020(export: AttendanceExport, rows: list[list[str]]) -> AttendanceExport:
    export.source = "teams-2020"
    header = [canonical(c) for c in rows[0]]
    at = {k: header.index(k) for k in ("full name", "user action", "timestamp")}
    events = [
        (line, cells[at["full name"]], canonical(cells[at["user action"]]), cells[at["timestamp"]])
        for line, cells in enumerate(rows[1:], start=2)
        if len(cells) > max(at.values())
    ]
    order = date_order([e[3] for e in events])
    if order.order is None:
        return export.add(
            "teams_dates", "fatal", f"This Teams attendance list cannot be read: {order.problem}"
        )
    timed = []
    for line, name, action, text in events:
        when = parse_timestamp(text, order.order)
        if when is None:
            export.add(
                "attendance_timestamp",
                "error",
                f"'{text}' is not a date and time as Teams writes them. {_REPAIR}",
                part="attendance",
                row=line,
                column="timestamp",
                value=text,
            )
            continue
        timed.append((when, line, name, action))
    timed.sort()
    end = timed[-1][0] if timed else None
    export.started, export.ended = (timed[0][0], end) if timed else (None, None)
    open_since: dict[str, tuple[int, object]] = {}
    records = []
    for when, line, raw_name, action in timed:
        name, guest = _guest(raw_name)
        if action.startswith("joined"):
            open_since.setdefault(raw_name, (line, when))
        elif action == "left" and raw_name in open_since:
            start_line, start = open_since.pop(raw_name)
            records.append(
                (start_line, name, None, None, start, when, int((when - start).total_seconds()), None, guest)
            )
    for raw_name, (line, start) in open_since.items():
        name, guest = _guest(raw_name)
        records.append((line, name, None, None, start, end, int((end - start).total_seconds()), None, guest))
    export.sessions = pl.DataFrame(sorted(records, key=lambda r: r[0]), schema=SESSION_COLUMNS, orient="row")
    return export
