"""Participation in the warehouse: versioned imports of the network's files and of attendance,
audited in the same hash chain as the returns, and the reads the participation figures need.

One transaction per file, under the warehouse lock: its import record, its rows (if accepted) and
its audit entries commit together or not at all; the caller appends the entries to the JSONL log
after the commit (``warehouse.audit.sync.write_audit_log``). The same bytes imported again do
nothing. A new file of a kind (or a corrected attendance file for the same meeting) is the next
version; the current rows are those of the latest version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, Engine, and_, func, select

from schemas.attendance import AttendanceExport
from schemas.issues import Issue
from schemas.participation_files import ParticipationFile
from schemas.periods import reporting_window
from transforms.aggregate import compliance_grid
from transforms.attendance.match import match_sessions
from transforms.attendance.presence import time_present
from transforms.intake.archive import Received
from transforms.participation.changes import AppliedChanges, apply_people_changes
from transforms.participation.summary import ParticipationInputs
from warehouse import queries
from warehouse.audit.chain import chain
from warehouse.load import chain_head, clean_text, fit_frame, fit_row, insert_rows
from warehouse.lock import lock_warehouse
from warehouse.models import (
    AttendanceImport,
    AttendanceSession,
    CoachScore,
    Enrolment,
    Meeting,
    ParticipationImport,
    PeopleChange,
    Person,
    PersonAlias,
    ReadinessAnswer,
    Submission,
    ValidationIssue,
)

DUPLICATE = "duplicate"
IMPORTED = "imported"
REJECTED = "rejected"
UNASSIGNED = "unassigned"

ROWS: dict[str, type] = {
    "people": Person,
    "meetings": Meeting,
    "enrolment": Enrolment,
    "coach_scores": CoachScore,
    "aliases": PersonAlias,
    "readiness": ReadinessAnswer,
}


@dataclass(frozen=True)
class ImportOutcome:
    file: str
    sha256: str
    kind: str
    status: str  # imported | rejected | unassigned | duplicate
    version: int | None
    audit_entries: list[dict]
    meeting_id: str | None = None


def _entries(
    issues: list[Issue],
    received: Received,
    kind: str,
    run_id: str,
    now: dt.datetime,
    period: str | None,
    status: str,
    summary: str,
) -> list[dict]:
    base = {
        "run_id": run_id,
        "logged_at": now.isoformat(),
        "sha256": received.sha256,
        "file": received.name,
        "team_id": None,
        "period": period,
    }
    rows = [
        {
            **base,
            "part": i.part,
            "row": i.row,
            "column": i.column,
            "check": i.check,
            "severity": i.severity,
            "value": i.value,
            "message": i.message,
        }
        for i in issues
    ]
    rows.append(
        {
            **base,
            "part": kind,
            "row": None,
            "column": None,
            "check": f"{kind}_import"[:64],
            "severity": "info",
            "value": status,
            "message": summary,
        }
    )
    return [fit_row(ValidationIssue, e) for e in rows]


def _append_audit(conn: Connection, entries: list[dict]) -> list[dict]:
    seq, prev = chain_head(conn)
    chained = chain(entries, prev, seq)
    conn.execute(ValidationIssue.__table__.insert(), chained)
    return chained


def participation_received(engine: Engine, sha256: str) -> bool:
    """Whether these bytes were imported (or refused) before: the same file again does nothing,
    so it need not be read or checked again."""
    with engine.connect() as conn:
        return (
            conn.execute(
                select(ParticipationImport.sha256).where(ParticipationImport.sha256 == sha256)
            ).first()
            is not None
        )


def import_participation(
    engine: Engine,
    received: Received,
    checked: ParticipationFile,
    run_id: str,
    *,
    subject: str | None = None,
    period: str | None = None,
    extra: dict[str, pl.Series] | None = None,
    now: dt.datetime | None = None,
) -> ImportOutcome:
    """Record one participation file: a new version of its subject if it has no error, else only
    the audit entries that say why it was refused. ``extra``: columns added to its rows (the
    letters' SHA-256, the readiness items' domains)."""
    now = now or dt.datetime.now(dt.UTC)
    kind, subject = checked.kind, subject or checked.kind
    with engine.begin() as conn:
        lock_warehouse(conn)
        if conn.execute(
            select(ParticipationImport.sha256).where(ParticipationImport.sha256 == received.sha256)
        ).first():
            return ImportOutcome(received.name, received.sha256, kind, DUPLICATE, None, [])
        version = None
        status = REJECTED if checked.rejected else IMPORTED
        if status == IMPORTED:
            last = conn.execute(
                select(func.max(ParticipationImport.version)).where(
                    ParticipationImport.kind == kind, ParticipationImport.subject == subject
                )
            ).scalar()
            version = (last or 0) + 1
        rows = checked.frame
        conn.execute(
            ParticipationImport.__table__.insert(),
            [
                fit_row(
                    ParticipationImport,
                    dict(
                        sha256=received.sha256,
                        kind=kind,
                        subject=subject,
                        version=version,
                        status=status,
                        file=received.name,
                        archive_path=str(received.archive_path),
                        run_id=run_id,
                        imported_at=now,
                        row_count=rows.height,
                    ),
                )
            ],
        )
        if status == IMPORTED and rows.height:
            model = ROWS[kind]
            cols = [c.name for c in model.__table__.columns if c.name not in ("import_sha256", "source_row")]
            data = rows.with_columns(**(extra or {})) if extra else rows
            data = data.select(
                pl.lit(received.sha256).alias("import_sha256"),
                pl.col("_row").alias("source_row"),
                *[c for c in cols if c in data.columns],
            )
            insert_rows(conn, model, data.to_dicts())
        counts = {s: sum(1 for i in checked.issues if i.severity == s) for s in ("fatal", "error", "warning")}
        summary = (
            f"{kind.replace('_', ' ')} file {status}"
            + (f" as version {version} of {subject}" if version else ": the version before stays current")
            + f"; {rows.height} rows; {counts['fatal']} fatal, {counts['error']} errors, {counts['warning']} warnings."
        )
        entries = _append_audit(
            conn, _entries(checked.issues, received, kind, run_id, now, period, status, summary)
        )
    return ImportOutcome(received.name, received.sha256, kind, status, version, entries)


def import_attendance(
    engine: Engine,
    received: Received,
    export: AttendanceExport,
    meeting_id: str | None,
    reason: str,
    run_id: str,
    *,
    now: dt.datetime | None = None,
) -> ImportOutcome:
    """Record one attendance file as the next version of its meeting's attendance (or as unassigned,
    or rejected), with its sessions and audit entries, in one transaction."""
    now = now or dt.datetime.now(dt.UTC)
    key = meeting_id or ""
    with engine.begin() as conn:
        lock_warehouse(conn)
        done = conn.execute(
            select(AttendanceImport.sha256).where(
                AttendanceImport.sha256 == received.sha256, AttendanceImport.meeting_id == key
            )
        ).first()
        if done:
            return ImportOutcome(
                received.name, received.sha256, "attendance", DUPLICATE, None, [], meeting_id
            )
        if export.rejected:
            status, version = REJECTED, None
        elif meeting_id is None:
            status, version = UNASSIGNED, None
        else:
            status = IMPORTED
            last = conn.execute(
                select(func.max(AttendanceImport.version)).where(AttendanceImport.meeting_id == key)
            ).scalar()
            version = (last or 0) + 1
        sessions = export.sessions
        conn.execute(
            AttendanceImport.__table__.insert(),
            [
                fit_row(
                    AttendanceImport,
                    dict(
                        sha256=received.sha256,
                        meeting_id=key,
                        version=version,
                        status=status,
                        file=received.name,
                        source=export.source,
                        title=clean_text(export.title, 255)
                        if export.title
                        else None,  # a meeting tool's title, cut to fit
                        started=export.started,
                        ended=export.ended,
                        archive_path=str(received.archive_path),
                        run_id=run_id,
                        imported_at=now,
                        session_count=sessions.height,
                    ),
                )
            ],
        )
        stored = conn.execute(
            select(func.count())
            .select_from(AttendanceSession)
            .where(AttendanceSession.sha256 == received.sha256)
        ).scalar()
        if status != REJECTED and sessions.height and not stored:
            # Sessions are kept by file: assigning the same file later reuses them.
            _insert_sessions(conn, _session_rows(received.sha256, sessions))
        period = export.started.strftime("%Y-%m") if export.started else None
        summary = (
            f"attendance file {status}"
            + (f" as version {version} of meeting {meeting_id} ({reason})" if version else f" ({reason})")
            + f"; {sessions.height} sessions."
        )
        entries = _append_audit(
            conn, _entries(export.issues, received, "attendance", run_id, now, period, status, summary)
        )
    return ImportOutcome(received.name, received.sha256, "attendance", status, version, entries, meeting_id)


_STORED_SESSION = (
    "sha256",
    "n",
    "source_row",
    "name",
    "original_name",
    "email",
    "joined",
    "left",
    "seconds",
    "guest",
)


def _session_rows(sha256: str, sessions: pl.DataFrame) -> pl.DataFrame:
    cols = ["name", "original_name", "email", "joined", "left", "seconds", "guest"]
    data = sessions.with_columns(pl.lit(None, pl.String).alias(c) for c in cols if c not in sessions.columns)
    data = (
        data.with_row_index("n")
        .select(
            pl.lit(sha256).alias("sha256"),
            pl.col("n").cast(pl.Int64),
            pl.col("_row").alias("source_row"),
            *cols,
        )
        .with_columns(
            pl.col("guest").fill_null(False),
            pl.col("joined", "left").cast(pl.Datetime("us")),
            # made to fit as ``fit_row`` would, for the whole frame at once (a file's text, cut to fit)
            *[pl.col(c).str.slice(0, n) for c, n in (("name", 160), ("original_name", 160), ("email", 254))],
        )
    )
    return fit_frame(data).select(_STORED_SESSION)


# The sessions' INSERT in each driver's own paramstyle: a year at 1,000 teams is 100,000 rows, and
# SQLAlchemy's per-value processing cost more than the writes. Timestamps go to SQLite as the text
# SQLAlchemy's DateTime writes there ("YYYY-MM-DD HH:MM:SS.ffffff"), so every read sees the same.
_INSERT_SESSIONS = {
    "qmark": 'INSERT INTO attendance_session (sha256, n, source_row, name, original_name, email, joined, "left", '
    "seconds, guest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "pyformat": 'INSERT INTO attendance_session (sha256, n, source_row, name, original_name, email, joined, "left", '
    "seconds, guest) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
}
_INSERT_SESSIONS["format"] = _INSERT_SESSIONS["pyformat"]


def _insert_sessions(conn: Connection, rows: pl.DataFrame) -> None:
    if conn.dialect.name == "sqlite":
        rows = rows.with_columns(pl.col("joined", "left").dt.strftime("%Y-%m-%d %H:%M:%S%.6f"))
    conn.exec_driver_sql(_INSERT_SESSIONS[conn.dialect.paramstyle], rows.rows())


# --------------------------------------------------------------------------- reads


def _current(kind: str):
    """The sha256 of each subject's latest imported version of ``kind``."""
    latest = (
        select(ParticipationImport.subject, func.max(ParticipationImport.version).label("v"))
        .where(ParticipationImport.kind == kind, ParticipationImport.status == IMPORTED)
        .group_by(ParticipationImport.subject)
        .subquery()
    )
    return (
        select(ParticipationImport.sha256)
        .join(
            latest,
            and_(ParticipationImport.subject == latest.c.subject, ParticipationImport.version == latest.c.v),
        )
        .where(ParticipationImport.kind == kind)
    )


def _rows(engine: Engine, model: type, kind: str, schema: dict) -> pl.DataFrame:
    stmt = select(*[model.__table__.c[n] for n in schema]).where(model.import_sha256.in_(_current(kind)))
    out = queries.frame(engine, stmt)
    if out.is_empty():
        return pl.DataFrame(schema=schema)
    return out.cast(schema)


PEOPLE_SCHEMA = {
    "person_id": pl.String,
    "team_id": pl.String,
    "name": pl.String,
    "email": pl.String,
    "role": pl.String,
    "steering_committee": pl.Boolean,
    "joined_on": pl.Date,
    "left_on": pl.Date,
}
MEETINGS_SCHEMA = {
    "meeting_id": pl.String,
    "kind": pl.String,
    "team_id": pl.String,
    "held_on": pl.Date,
    "starts_at": pl.String,
    "title": pl.String,
}


def people_file(engine: Engine) -> pl.DataFrame:
    """The data manager's current people file: person_id, team_id, name, email, role,
    steering_committee, joined_on, left_on."""
    return _rows(engine, Person, "people", PEOPLE_SCHEMA).sort("team_id", "person_id")


CHANGE_SCHEMA = {
    "team_id": pl.String,
    "period": pl.String,
    "source_row": pl.Int64,
    "change": pl.String,
    "name": pl.String,
    "email": pl.String,
    "role": pl.String,
    "steering_committee": pl.Boolean,
    "effective_on": pl.Date,
}


def people_changes(engine: Engine, exclude_sha256: list[str] = ()) -> pl.DataFrame:
    """The people changes of the current submissions (``CHANGE_SCHEMA``); ``exclude_sha256``: the
    files of a batch being validated, as for ``queries.current_values``."""
    stmt = (
        select(*[PeopleChange.__table__.c[n] for n in CHANGE_SCHEMA])
        .join(Submission, Submission.submission_id == PeopleChange.submission_id)
        .where(Submission.superseded_by.is_(None))
    )
    if exclude_sha256:
        stmt = stmt.where(Submission.sha256.not_in(list(exclude_sha256)))
    out = queries.frame(
        engine, stmt.order_by(PeopleChange.team_id, PeopleChange.period, PeopleChange.source_row)
    )
    return pl.DataFrame(schema=CHANGE_SCHEMA) if out.is_empty() else out.cast(CHANGE_SCHEMA)


def people_applied(engine: Engine, exclude_sha256: list[str] = ()) -> AppliedChanges:
    """The people file with the current returns' changes applied, and the changes that named nobody."""
    return apply_people_changes(people_file(engine), people_changes(engine, exclude_sha256))


def people(engine: Engine, exclude_sha256: list[str] = ()) -> pl.DataFrame:
    """The teams' participants as the people file and the returns' changes tell it: one row per
    spell in a role (person_id, team_id, name, email, role, steering_committee, joined_on, left_on)."""
    return people_applied(engine, exclude_sha256).people


def meetings(engine: Engine) -> pl.DataFrame:
    """The current calendar: meeting_id, kind, team_id (null: every team), held_on, starts_at, title."""
    return _rows(engine, Meeting, "meetings", MEETINGS_SCHEMA).sort("held_on", "meeting_id")


def aliases(engine: Engine) -> pl.DataFrame:
    return _rows(engine, PersonAlias, "aliases", {"alias": pl.String, "person_id": pl.String})


def enrolment(engine: Engine) -> pl.DataFrame:
    return _rows(
        engine,
        Enrolment,
        "enrolment",
        {
            "team_id": pl.String,
            "letter_received_on": pl.Date,
            "letter_file": pl.String,
            "letter_sha256": pl.String,
        },
    )


def coach_scores(engine: Engine) -> pl.DataFrame:
    return _rows(
        engine,
        CoachScore,
        "coach_scores",
        {
            "team_id": pl.String,
            "period": pl.String,
            "score": pl.Float64,
            "justification": pl.String,
            "scored_by": pl.String,
        },
    ).sort("team_id", "period")


def readiness_results(engine: Engine) -> pl.DataFrame:
    """Per team, occasion and domain: the mean score and how many answered (current readiness files)."""
    answers = _rows(
        engine,
        ReadinessAnswer,
        "readiness",
        {
            "team_id": pl.String,
            "occasion": pl.String,
            "domain": pl.String,
            "respondent": pl.String,
            "answered_on": pl.Date,
            "score": pl.Int64,
        },
    )
    return (
        answers.drop_nulls("score")
        .group_by("team_id", "occasion", "domain")
        .agg(
            pl.col("score").mean().alias("mean"),
            pl.col("respondent").n_unique().alias("respondents"),
            pl.col("answered_on").max(),
        )
        .sort("team_id", "occasion", "domain")
    )


SESSION_SCHEMA = {
    "meeting_id": pl.String,
    "name": pl.String,
    "original_name": pl.String,
    "email": pl.String,
    "joined": pl.Datetime("us"),
    "left": pl.Datetime("us"),
    "seconds": pl.Int64,
}


def current_sessions(engine: Engine) -> pl.DataFrame:
    """Every session of each meeting's latest attendance file, with its meeting_id.

    Driven from the few imports to their sessions by key (a join against a grouped latest-version
    subquery was planned by SQLite as a scan per file: ~20 s for a year at 1,000 teams), and read
    as the driver returns it — SQLite's timestamps as text, parsed by Polars at once: SQLAlchemy's
    per-value processing and row-wise frame building were most of the read at 100,000 rows."""
    with engine.connect() as conn:
        result = conn.exec_driver_sql(_SESSIONS_SQL)
        names, values = list(result.keys()), result.fetchall()
    if not values:
        return pl.DataFrame(schema=SESSION_SCHEMA)
    stamp = pl.String if engine.dialect.name == "sqlite" else SESSION_SCHEMA["joined"]
    as_read = {**SESSION_SCHEMA, "joined": stamp, "left": stamp}
    rows = pl.DataFrame(values, schema=[(n, as_read[n]) for n in names], orient="row")
    stamps = [
        pl.col(c).str.to_datetime(time_unit="us") for c in ("joined", "left") if rows.schema[c] == pl.String
    ]
    return rows.with_columns(stamps).cast(SESSION_SCHEMA).select(list(SESSION_SCHEMA))


_SESSIONS_SQL = """
SELECT ai.meeting_id, s.name, s.original_name, s.email, s.joined, s."left", s.seconds
FROM attendance_import ai JOIN attendance_session s ON s.sha256 = ai.sha256
WHERE ai.status = 'imported' AND ai.version = (
    SELECT max(a2.version) FROM attendance_import a2 WHERE a2.meeting_id = ai.meeting_id AND a2.status = 'imported'
)
"""  # 'imported' is IMPORTED; no parameters, so one text for both drivers' paramstyles


def matched_sessions(
    engine: Engine, people_: pl.DataFrame | None = None, calendar: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Current sessions matched to the current people and aliases (``person_id``, ``matched_by``):
    matched when read, so an alias confirmed later counts for the meetings before it too. Each
    distinct attendee (name, original name, email) is matched once, then joined to its sessions.
    ``people_`` and ``calendar``: ``people()`` and ``meetings()`` when the caller has read them."""
    calendar = (meetings(engine) if calendar is None else calendar).select("meeting_id", "team_id")
    sessions = current_sessions(engine).join(calendar, on="meeting_id", how="left")
    who = ["name", "original_name", "email", "team_id"]  # team_id: the meeting's team, for names
    attendees = sessions.select(who).unique()
    found = match_sessions(attendees, people(engine) if people_ is None else people_, aliases(engine))
    return sessions.join(found, on=who, how="left", nulls_equal=True).drop("team_id")


def presence(matched: pl.DataFrame, min_seconds: int) -> pl.DataFrame:
    """meeting_id, person_id, seconds — one person's time in one meeting (the union of their
    sessions). A session with no times (a sign-in sheet) counts as the minimum that attends."""
    rows = matched.filter(pl.col("person_id").is_not_null())
    pairs = rows.select("meeting_id", "person_id").unique().with_row_index("_pair")
    keyed = rows.join(pairs, on=["meeting_id", "person_id"]).with_columns(pl.col("_pair").alias("person_id"))
    per = time_present(keyed.drop("meeting_id"), min_seconds)
    return (
        per.rename({"person_id": "_pair"})
        .join(pairs.with_columns(pl.col("_pair").cast(per.schema["person_id"])), on="_pair")
        .select("meeting_id", "person_id", "seconds")
        .sort("meeting_id", "person_id")
    )


def unmatched(matched: pl.DataFrame, meetings_: pl.DataFrame, staff_emails: list[str] = ()) -> pl.DataFrame:
    """The attendees no participant or confirmed alias matched: meeting, name, email, for the data
    manager. The network's own staff — the coaches of the registry, by email — run the meetings and
    are not a team's participants: they are not listed."""
    staff = pl.Series([e.lower() for e in staff_emails], dtype=pl.String)
    return (
        matched.filter(
            pl.col("person_id").is_null()
            & pl.col("name").is_not_null()
            & ~pl.col("email").str.to_lowercase().is_in(staff.implode()).fill_null(False)
        )
        .select("meeting_id", "name", "email")
        .unique()
        .join(meetings_.select("meeting_id", "team_id", "held_on"), on="meeting_id", how="left")
        .sort("held_on", "meeting_id", "name", nulls_last=True)
    )


# --------------------------------------------------------------------------- the per-team figures


def figure_inputs(
    engine: Engine, period: str, min_seconds: int, months: int = 6, staff: tuple[str, ...] = ()
) -> tuple[ParticipationInputs, pl.DataFrame]:
    """The frames ``transforms.participation.summary.team_figures`` takes, as of ``period``'s end,
    and the unmatched attendees (meeting_id, name, email, team_id, held_on) — neither the coaches
    nor the network's other ``staff`` (emails) among them."""
    teams = queries.teams(engine).select(
        "team_id", "first_period", (pl.col("first_period") + "-01").str.to_date().alias("joined_on")
    )
    subs = queries.current_submissions(engine)
    window = (
        reporting_window(
            period, start=None, earliest_team=teams.get_column("first_period").min(), months=months
        )
        if teams.height
        else []
    )
    grid = (
        compliance_grid(teams, subs, queries.received_files(engine), window)
        if teams.height
        else pl.DataFrame(schema={"team_id": pl.String, "period": pl.String, "status": pl.String})
    )
    cal, people_ = meetings(engine), people(engine)
    matched = matched_sessions(engine, people_, cal)
    inputs = ParticipationInputs(
        teams=teams,
        people=people_,
        meetings=cal,
        presence=presence(matched, min_seconds),
        grid=grid.select("team_id", "period", "status"),
        scores=subs.filter(pl.col("period") <= period).select("team_id", "period", "progress_score"),
    )
    coaches = queries.teams(engine).get_column("coach_email").drop_nulls().unique().to_list()
    return inputs, unmatched(matched, cal, [*coaches, *staff])


def report_frames(engine: Engine, min_seconds: int) -> dict[str, pl.DataFrame] | None:
    """The frames ``transforms.participation.view.participation_data`` takes from the warehouse
    (people, meetings, presence, enrolment, readiness, coach_scores); None for a network that has
    sent no people and no calendar, whose reports then stay as they were."""
    people_ = people(engine)
    calendar = meetings(engine)
    if people_.is_empty() and calendar.is_empty():
        return None
    return {
        "people": people_,
        "meetings": calendar,
        "presence": presence(matched_sessions(engine, people_, calendar), min_seconds),
        "enrolment": enrolment(engine).select("team_id", "letter_received_on"),
        "readiness": readiness_results(engine).select(
            "team_id", "occasion", "domain", "answered_on", pl.col("mean").alias("score")
        ),
        "coach_scores": coach_scores(engine),
    }
