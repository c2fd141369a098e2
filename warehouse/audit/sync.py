"""Keeping the JSONL log in step with the warehouse, whose ``validation_issue`` table is the master copy.

Entries are committed to the warehouse with the data they describe, then appended to the files.
A run that dies between the two (or in the middle of an append) leaves the files behind, never
ahead; the next append or the next run's catch-up copies what is missing, in ``seq`` order.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select

from warehouse.audit import logfiles
from warehouse.models import ValidationIssue


def warehouse_entries(engine: Engine, *, after_seq: int = 0, period: str | None = None) -> list[dict]:
    """The warehouse's entries in chain order (all, those after ``after_seq``, or one period's)."""
    stmt = select(*ValidationIssue.__table__.columns).order_by(ValidationIssue.seq)
    if after_seq:
        stmt = stmt.where(ValidationIssue.seq > after_seq)
    if period:
        stmt = stmt.where(ValidationIssue.period == period)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def write_audit_log(engine: Engine, audit_dir: Path, entries: list[dict]) -> int:
    """Append a commit's audit entries to the JSONL log, keeping the log in ``seq`` order.

    Usually they continue the log and are appended as they are. When they do not — another
    run sharing this home committed entries it has not appended yet, or a run died between
    its commit and its append — every committed entry the log lacks is copied from the
    warehouse, in order, ours included. Returns how many entries were appended.
    """
    if not entries:
        return 0
    with logfiles.log_lock(audit_dir):
        logfiles.repair_torn_tails(audit_dir)
        logged = logfiles.last_logged_seq(audit_dir)
        fresh = [e for e in entries if e["seq"] > logged]
        if not fresh:
            return 0  # another run's catch-up already wrote them
        if fresh[0]["seq"] == logged + 1:
            logfiles.append_log(audit_dir, fresh)
            return len(fresh)
        return _append_from_warehouse(engine, audit_dir, logged)


def catch_up_audit_log(engine: Engine, audit_dir: Path) -> int:
    """If a run died between a commit and its JSONL append, or in the middle of one, copy the
    missing entries now."""
    with logfiles.log_lock(audit_dir):
        logfiles.repair_torn_tails(audit_dir)
        return _append_from_warehouse(engine, audit_dir, logfiles.last_logged_seq(audit_dir))


def _append_from_warehouse(engine: Engine, audit_dir: Path, logged: int) -> int:
    with engine.connect() as conn:
        top = conn.execute(select(func.max(ValidationIssue.seq))).scalar() or 0
    if top <= logged:
        return 0
    entries = warehouse_entries(engine, after_seq=logged)
    logfiles.append_log(audit_dir, entries)
    return len(entries)
