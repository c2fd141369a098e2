"""Re-baselining as a recorded decision (issue 16): ``rebase_record`` rows and their audit entries.

A record says "recalculate team T's limits for measure M from period P, because ...". It is never
updated: a withdrawal is a later record naming the one it undoes. Each record and withdrawal is
written with its hash-chained audit entry in one transaction, like a loaded file's issues
(``warehouse.load``); the caller appends the returned entries to the JSONL log after the commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, Engine, func, select

from joyflow.errors import JoyflowError
from schemas.periods import check_period
from warehouse.audit.chain import GENESIS, chain
from warehouse.load import fit_row
from warehouse.lock import lock_warehouse
from warehouse.models import Measure, RebaseRecord, Team, ValidationIssue

RECORD, WITHDRAW = "record", "withdraw"
CHECKS = {RECORD: "rebase_recorded", WITHDRAW: "rebase_withdrawn"}


class RebaseError(JoyflowError):
    """A rebase that cannot be recorded or withdrawn; the message says why."""


@dataclass(frozen=True)
class RebaseEntry:
    """One row of ``rebase_record`` as ``joyflow rebase list`` shows it."""

    record_id: int
    action: str
    team_id: str
    measure_id: str
    from_period: str
    reason: str
    recorded_by: str
    recorded_at: dt.datetime
    withdraws: int | None
    withdrawn_by: int | None = None

    @property
    def active(self) -> bool:
        return self.action == RECORD and self.withdrawn_by is None


def _chain_head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(
        select(ValidationIssue.seq, ValidationIssue.entry_hash).order_by(ValidationIssue.seq.desc()).limit(1)
    ).first()
    return (row.seq + 1, row.entry_hash) if row else (1, GENESIS)


def _write(conn: Connection, row: dict, message: str) -> list[dict]:
    """Insert the record and its chained audit entry; return the entry for the JSONL log."""
    seq, prev = _chain_head(conn)
    entry = fit_row(
        ValidationIssue,
        {
            "run_id": f"rebase:{row['record_id']}",
            "logged_at": row["recorded_at"].isoformat(),
            "sha256": None,
            "file": "joyflow rebase",
            "team_id": row["team_id"],
            "period": row["from_period"],
            "part": None,
            "row": row["record_id"],
            "column": row["measure_id"],
            "check": CHECKS[row["action"]],
            "severity": "info",
            "value": row["recorded_by"],
            "message": message,
        },
    )
    (entry,) = chain([entry], prev, seq)
    conn.execute(ValidationIssue.__table__.insert(), [entry])
    conn.execute(RebaseRecord.__table__.insert(), [fit_row(RebaseRecord, {**row, "audit_seq": entry["seq"]})])
    return [entry]


def _next_id(conn: Connection) -> int:
    return (conn.execute(select(func.max(RebaseRecord.record_id))).scalar() or 0) + 1


def record_rebase(
    engine: Engine,
    team_id: str,
    measure_id: str,
    from_period: str,
    reason: str,
    recorded_by: str,
    now: dt.datetime | None = None,
) -> tuple[int, list[dict]]:
    """Record a recalculation; returns its id and the audit entry written with it (none if the
    same recalculation is already in force: its id is returned)."""
    team_id, measure_id = team_id.strip().upper(), measure_id.strip().upper()
    from_period = check_period(from_period)
    if not reason.strip():
        raise RebaseError('Say why the limits are recalculated: --reason "...".')
    now = now or dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        lock_warehouse(conn)
        if conn.execute(select(Team.team_id).where(Team.team_id == team_id)).first() is None:
            raise RebaseError(f"Team {team_id} is not in the warehouse's registry.")
        if conn.execute(select(Measure.measure_id).where(Measure.measure_id == measure_id)).first() is None:
            raise RebaseError(f"Measure {measure_id} is not in the warehouse's catalogue.")
        same = [
            e
            for e in _entries(conn, team_id)
            if e.active and e.measure_id == measure_id and e.from_period == from_period
        ]
        if same:  # the same decision twice is one decision: nothing new to record or log
            return same[0].record_id, []
        record_id = _next_id(conn)
        row = {
            "record_id": record_id,
            "action": RECORD,
            "team_id": team_id,
            "measure_id": measure_id,
            "from_period": from_period,
            "reason": reason.strip(),
            "recorded_by": recorded_by,
            "recorded_at": now,
            "withdraws": None,
        }
        message = (
            f"Rebase {record_id} recorded by {recorded_by}: recalculate {team_id} {measure_id} "
            f"from {from_period}. Reason: {reason.strip()}"
        )
        return record_id, _write(conn, row, message)


def withdraw_rebase(
    engine: Engine, record_id: int, reason: str, recorded_by: str, now: dt.datetime | None = None
) -> tuple[int, list[dict]]:
    """Undo record ``record_id`` by a later record; returns the withdrawal's id and audit entry."""
    if not reason.strip():
        raise RebaseError('Say why the recalculation is withdrawn: --reason "...".')
    now = now or dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        lock_warehouse(conn)
        target = next((e for e in _entries(conn) if e.record_id == record_id), None)
        if target is None or target.action != RECORD:
            raise RebaseError(f"There is no rebase record {record_id} (see joyflow rebase list).")
        if target.withdrawn_by is not None:
            raise RebaseError(f"Rebase {record_id} was already withdrawn by record {target.withdrawn_by}.")
        new_id = _next_id(conn)
        row = {
            "record_id": new_id,
            "action": WITHDRAW,
            "team_id": target.team_id,
            "measure_id": target.measure_id,
            "from_period": target.from_period,
            "reason": reason.strip(),
            "recorded_by": recorded_by,
            "recorded_at": now,
            "withdraws": record_id,
        }
        message = (
            f"Rebase {record_id} withdrawn by {recorded_by} (record {new_id}): {target.team_id} "
            f"{target.measure_id} no longer recalculated from {target.from_period}. Reason: {reason.strip()}"
        )
        return new_id, _write(conn, row, message)


def _entries(conn: Connection, team_id: str | None = None) -> list[RebaseEntry]:
    cols = [c for c in RebaseRecord.__table__.columns if c.name != "audit_seq"]
    stmt = select(*cols).order_by(RebaseRecord.record_id)
    rows = conn.execute(stmt).all()
    withdrawn = {r.withdraws: r.record_id for r in rows if r.action == WITHDRAW}
    out = [RebaseEntry(*r, withdrawn_by=withdrawn.get(r.record_id)) for r in rows]
    return [e for e in out if team_id is None or e.team_id == team_id]


def rebase_entries(engine: Engine, team_id: str | None = None) -> list[RebaseEntry]:
    """Every record and withdrawal, oldest first (one team's, if given)."""
    with engine.connect() as conn:
        return _entries(conn, team_id.strip().upper() if team_id else None)


def active_rebases(engine: Engine) -> pl.DataFrame:
    """The recalculations in force: team_id, measure_id, from_period (one row each)."""
    rows = [(e.team_id, e.measure_id, e.from_period) for e in rebase_entries(engine) if e.active]
    return pl.DataFrame(
        rows, schema={"team_id": pl.String, "measure_id": pl.String, "from_period": pl.String}, orient="row"
    ).unique(maintain_order=True)
