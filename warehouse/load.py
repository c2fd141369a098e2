"""Loading validated returns: one database transaction per file — all of it or none of it.

Loads are serialised across processes (PostgreSQL advisory lock / SQLite's write lock) so
versions, load order and the audit chain are assigned without races, and a load that
dies half-way leaves nothing behind: re-running finds the files it did load as duplicates
and loads the rest in the same order, ending exactly where a clean run ends.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, Engine, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from joyflow.audit import GENESIS, chain
from schemas.config import Network
from schemas.returns import DUPLICATE, FileVerdict
from transforms.intake.archive import Received
from warehouse.models import (
    Coach,
    LearningNote,
    Measure,
    MeasureValue,
    Organisation,
    PdsaCycle,
    ReceivedFile,
    Submission,
    Team,
    ValidationIssue,
)

LOAD_LOCK_KEY = 7_300_613  # arbitrary constant: the advisory lock all warehouse loads share


@dataclass(frozen=True)
class LoadOutcome:
    file: str
    sha256: str
    status: str  # accepted | accepted_with_warnings | rejected | duplicate
    submission_id: str | None
    version: int | None
    audit_entries: list[dict]


def _upsert(conn: Connection, model: type, rows: list[dict], key: list[str]) -> None:
    if not rows:
        return
    table = model.__table__
    dialect = conn.dialect.name
    stmt = (postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)).values(rows)
    updates = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in key}
    conn.execute(stmt.on_conflict_do_update(index_elements=key, set_=updates))


def sync_config(engine: Engine, network: Network) -> None:
    """The registry and catalogue are configuration: the warehouse mirrors the validated files."""
    reg = network.registry
    with engine.begin() as conn:
        _lock_loads(conn)
        _upsert(conn, Organisation, reg.select(pl.col("organisation_id"), pl.col("organisation_name").alias("name"))
                .unique("organisation_id", keep="first", maintain_order=True).to_dicts(), ["organisation_id"])
        _upsert(conn, Coach, reg.select(pl.col("coach_email").alias("email"), pl.col("coach_name").alias("name"))
                .unique("email", keep="first", maintain_order=True).to_dicts(), ["email"])
        _upsert(conn, Team, reg.select("team_id", pl.col("team_name").alias("name"), "organisation_id",
                                       pl.col("coach_email"), "cohort", "first_period").to_dicts(), ["team_id"])
        cols = [c.name for c in Measure.__table__.columns]
        _upsert(conn, Measure, network.catalogue.select([c for c in cols if c in network.catalogue.columns])
                .to_dicts(), ["measure_id"])


def _lock_loads(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOAD_LOCK_KEY})
    # SQLite: the engine opens every transaction with BEGIN IMMEDIATE, which takes the write lock.


def _chain_head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(
        select(ValidationIssue.seq, ValidationIssue.entry_hash).order_by(ValidationIssue.seq.desc()).limit(1)
    ).first()
    return (row.seq + 1, row.entry_hash) if row else (1, GENESIS)


def due_date(period: str, due_day: int) -> dt.date:
    year, month = map(int, period.split("-"))
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return dt.date(year, month, min(due_day, 28))


def _audit_entries(verdict: FileVerdict, received: Received, run_id: str, now: dt.datetime,
                   status: str, checks_run: int) -> list[dict]:
    base = {"run_id": run_id, "logged_at": now.isoformat(), "sha256": received.sha256, "file": received.name,
            "team_id": verdict.team_id, "period": verdict.period}
    entries = [
        {**base, "part": i.part, "row": i.row, "column": i.column, "check": i.check, "severity": i.severity,
         "value": i.value, "message": i.message}
        for i in verdict.issues
    ]
    counts = {s: sum(1 for i in verdict.issues if i.severity == s) for s in ("fatal", "error", "warning")}
    summary = (f"{status.replace('_', ' ')}: {checks_run} rules checked; {counts['fatal']} fatal, "
               f"{counts['error']} errors, {counts['warning']} warnings. File {received.size:,} bytes.")
    entries.append({**base, "part": None, "row": None, "column": None, "check": "file_outcome",
                    "severity": "info", "value": status, "message": summary})
    return entries


def load_file(engine: Engine, received: Received, verdict: FileVerdict, run_id: str, *,
              period_folder: str | None, due_day: int = 10, checks_run: int = 0,
              now: dt.datetime | None = None) -> LoadOutcome:
    """Record one received file, its issues and (if accepted) its data, atomically."""
    now = now or dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        _lock_loads(conn)
        if conn.execute(select(ReceivedFile.sha256).where(ReceivedFile.sha256 == received.sha256)).first():
            return LoadOutcome(received.name, received.sha256, DUPLICATE, None, None, [])
        status = verdict.status
        conn.execute(insert(ReceivedFile).values(
            sha256=received.sha256, original_name=received.name[:255], size_bytes=received.size,
            period_folder=period_folder, first_seen_at=now, first_run_id=run_id,
            archive_path=str(received.archive_path), outcome=status, team_id=verdict.team_id,
            period=verdict.period, issue_count=len(verdict.issues),
        ))
        submission_id = version = None
        if verdict.accepted:
            submission_id, version = _load_submission(conn, received, verdict, run_id, due_day)
        seq, prev = _chain_head(conn)
        entries = chain(_audit_entries(verdict, received, run_id, now, status, checks_run), prev, seq)
        conn.execute(insert(ValidationIssue), entries)
    return LoadOutcome(received.name, received.sha256, status, submission_id, version, entries)


def _load_submission(conn: Connection, received: Received, verdict: FileVerdict, run_id: str,
                     due_day: int) -> tuple[str, int]:
    team, period = verdict.team_id, verdict.period
    version = (conn.execute(
        select(func.max(Submission.version)).where(Submission.team_id == team, Submission.period == period)
    ).scalar() or 0) + 1
    load_seq = (conn.execute(select(func.max(Submission.load_seq))).scalar() or 0) + 1
    sid = f"{team}:{period}:v{version}"
    conn.execute(
        update(Submission)
        .where(Submission.team_id == team, Submission.period == period, Submission.superseded_by.is_(None))
        .values(superseded_by=sid)
    )
    about = verdict.about
    submitted_on = about.get("submitted_on")
    conn.execute(insert(Submission).values(
        submission_id=sid, team_id=team, period=period, version=version, load_seq=load_seq,
        sha256=received.sha256, run_id=run_id, status=verdict.status, superseded_by=None,
        submitted_by=(about.get("submitted_by") or "")[:200] or None, submitted_on=submitted_on,
        progress_score=about.get("progress_score"),
        on_time=None if submitted_on is None else submitted_on <= due_date(period, due_day),
        warning_count=sum(1 for i in verdict.issues if i.severity == "warning"),
    ))
    frames = verdict.frames
    measures = frames["measures"].select(
        pl.lit(sid).alias("submission_id"), "measure_id", "period", pl.lit(team).alias("team_id"),
        "numerator", "denominator", "value", "comment", pl.col("_row").alias("source_row"),
    )
    if measures.height:
        conn.execute(insert(MeasureValue), measures.to_dicts())
    pdsa = frames["pdsa"]
    if pdsa.height:
        conn.execute(insert(PdsaCycle), pdsa.select(
            pl.lit(sid).alias("submission_id"), pl.col("_row").alias("source_row"), pl.lit(team).alias("team_id"),
            pl.lit(period).alias("period"), "change_idea", "component", "cycle", "start_date", "end_date",
            "prediction", "what_happened", "decision", "linked_measure",
        ).to_dicts())
    learning = frames["learning"]
    if learning.height:
        conn.execute(insert(LearningNote), learning.select(
            pl.lit(sid).alias("submission_id"), pl.col("_row").alias("source_row"), pl.lit(team).alias("team_id"),
            pl.lit(period).alias("period"), "went_well", "challenges", "help_wanted",
        ).to_dicts())
    return sid, version
