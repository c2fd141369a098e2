"""Receiving the network's participation files: archive first, then read, check, import and log.

Used by the monthly run's participation stage and by ``joyflow attendance import``. The network
folder holds ``people.csv``, ``meetings.csv``, ``enrolment.csv`` (with the letters in ``letters/``),
``coach_scores.csv``, ``aliases.csv``, ``readiness/*.csv|xlsx`` (optionally ``readiness_items.csv``,
else the default instrument) and ``attendance/<YYYY-MM>/*``. Files are imported in that order —
people before the aliases that name them, the calendar before the attendance assigned to it — and
each one in its own transaction; a re-run skips what is already in (by SHA-256).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy import Engine

from schemas.attendance import AttendanceExport
from schemas.participation_files import FILE_NAMES, Context, load_readiness_items
from transforms.attendance.assign import Calendar, assign_meeting
from transforms.attendance.match import match_sessions
from transforms.attendance.read import MAX_ATTENDANCE_BYTES, read_attendance_files
from transforms.intake.archive import archive
from transforms.participation.files import read_participation, read_readiness
from warehouse import participation as wp
from warehouse.audit.sync import write_audit_log

READINESS_SUFFIXES = (".csv", ".xlsx", ".xlsm")


@dataclass(frozen=True)
class Attended:
    """What ``joyflow attendance import`` prints for one file."""

    outcome: wp.ImportOutcome
    reason: str  # how its meeting was found, or why not
    matched: pl.DataFrame  # name, email, person_id, matched_by
    unmatched: pl.DataFrame  # name, email
    problems: list[str] = field(default_factory=list)


def _files(folder: Path, suffixes: tuple[str, ...] | None = None) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and not p.name.startswith((".", "~$"))
        and (suffixes is None or p.suffix.lower() in suffixes)
    )


def import_network_files(
    engine: Engine,
    root: Path,
    archive_dir: Path,
    audit_dir: Path,
    run_id: str,
    team_ids: list[str],
    period: str | None = None,
) -> list[wp.ImportOutcome]:
    """Import every participation file of the network folder that is new (by content)."""
    outcomes: list[wp.ImportOutcome] = []

    def one(
        kind: str, path: Path, context: Context, subject: str | None = None, items: pl.DataFrame | None = None
    ):
        received, data = archive(path, archive_dir)
        if wp.participation_received(engine, received.sha256):
            # The monthly run meets the same files every month: read, check and log them once.
            outcomes.append(wp.ImportOutcome(received.name, received.sha256, kind, wp.DUPLICATE, None, []))
            return
        if items is None:
            checked = read_participation(kind, path.name, data or b"", received.sha256, context)
        else:
            checked = read_readiness(path.name, data or b"", received.sha256, context, items)
        extra = {}
        if kind == "enrolment" and checked.frame.height:
            extra["letter_sha256"] = _letters(checked.frame, root / "letters", archive_dir)
        if kind == "readiness" and checked.frame.height:
            domains = dict(zip(items["item_id"], items["domain"], strict=True))
            extra["domain"] = checked.frame.get_column("item_id").replace_strict(domains, default=None)
        outcome = wp.import_participation(
            engine, received, checked, run_id, subject=subject, period=period, extra=extra
        )
        write_audit_log(engine, audit_dir, outcome.audit_entries)
        outcomes.append(outcome)

    letters = tuple(p.name for p in _files(root / "letters"))
    for letter in _files(root / "letters"):  # every letter received is kept, named in a file or not yet
        archive(letter, archive_dir)
    for kind in ("people", "meetings", "enrolment", "coach_scores", "aliases"):
        path = root / FILE_NAMES[kind]
        if path.is_file():
            person_ids = (
                tuple(wp.people(engine).get_column("person_id").to_list()) if kind == "aliases" else ()
            )
            one(kind, path, Context(tuple(team_ids), person_ids, letters))
    answers = _files(root / "readiness", READINESS_SUFFIXES)
    if answers:
        custom = root / "readiness_items.csv"
        items = load_readiness_items(custom if custom.is_file() else None)
        for path in answers:
            one("readiness", path, Context(tuple(team_ids)), subject=f"readiness/{path.name}", items=items)
    return outcomes


def _letters(rows: pl.DataFrame, folder: Path, archive_dir: Path) -> pl.Series:
    """Each letter of support archived by SHA-256, like every file received."""
    shas = []
    for name in rows.get_column("letter_file").to_list():
        path = folder / name if name else None
        shas.append(archive(path, archive_dir)[0].sha256 if path and path.is_file() else None)
    return pl.Series("letter_sha256", shas, dtype=pl.String)


FILES_PER_CHECK = 250  # files read and checked together: one Pandera validation, bounded memory


def import_attendance_files(
    engine: Engine,
    paths: list[Path],
    archive_dir: Path,
    audit_dir: Path,
    run_id: str,
    meeting: str | None = None,
    *,
    report: bool = True,
) -> list[Attended]:
    """Archive, read, check, assign to a meeting and import each attendance file, in order. With
    ``report``, each file's attendees are matched for the data manager to read (the warehouse
    matches when it is read, so the monthly run skips this).

    Files are archived and read a few hundred at a time and their rows checked in one validation
    (``read_attendance_files``); each file is then imported in its own transaction, as before, so
    an interrupted import re-runs file by file."""
    calendar = Calendar.of(wp.meetings(engine))
    people, aliases = (wp.people(engine), wp.aliases(engine)) if report else (None, None)
    out = []
    for start in range(0, len(paths), FILES_PER_CHECK):
        chunk = paths[start : start + FILES_PER_CHECK]
        # Bytes past the largest attendance export are archived without being loaded to be read.
        received = [archive(path, archive_dir, max_bytes=MAX_ATTENDANCE_BYTES) for path in chunk]
        exports = read_attendance_files(
            [(path, data, rec.sha256, rec.size) for path, (rec, data) in zip(chunk, received, strict=True)]
        )
        for path, (rec, _), export in zip(chunk, received, exports, strict=True):
            found = assign_meeting(
                calendar,
                export.started,
                export.title,
                meeting,
                file_name=path.name,
                first_join=export.sessions.get_column("joined").min() if export.sessions.height else None,
            )
            outcome = wp.import_attendance(engine, rec, export, found.meeting_id, found.reason, run_id)
            write_audit_log(engine, audit_dir, outcome.audit_entries)
            team = calendar.team_of(found.meeting_id) if report else None
            hits, misses = _matched(export, team, people, aliases) if report else _nobody()
            problems = [f"{i.severity}: {i.where()}: {i.message}" for i in export.issues]
            out.append(Attended(outcome, found.reason, hits, misses, problems))
    return out


def _nobody() -> tuple[pl.DataFrame, pl.DataFrame]:
    # Built when needed, not at import: a query run at import starts Polars' thread pool in the
    # process the tests' forkserver forks from (tests/warehouse_support/procs.py).
    return (
        pl.DataFrame(
            schema={"name": pl.String, "email": pl.String, "person_id": pl.String, "matched_by": pl.String}
        ),
        pl.DataFrame(schema={"name": pl.String, "email": pl.String}),
    )


def _matched(
    export: AttendanceExport, team_id: str | None, people: pl.DataFrame, aliases: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The file's attendees matched to participants (one row a person), and those nobody matched;
    ``team_id``: the team whose meeting it is (names are looked for among its people first)."""
    if not export.sessions.height:
        return _nobody()
    sessions = export.sessions.with_columns(pl.lit(team_id, pl.String).alias("team_id"))
    matched = match_sessions(sessions, people, aliases)
    hits = (
        matched.filter(pl.col("person_id").is_not_null())
        .select("name", "email", "person_id", "matched_by")
        .unique("person_id", maintain_order=True)
    )
    misses = (
        matched.filter(pl.col("person_id").is_null() & pl.col("name").is_not_null())
        .select("name", "email")
        .unique(maintain_order=True)
    )
    return hits, misses


def attendance_paths(root: Path, period: str) -> list[Path]:
    return _files(root / "attendance" / period)
