"""Locks: one run per period at a time, and one writer at a time inside the warehouse.

* ``acquire``/``release`` — the *run lock*: a row in ``run_lock`` per period. A second run for
  the same period waits up to ``wait_seconds`` and then raises :class:`RunLockedError` naming the
  holder. A holder that died on this machine (process gone, or a zombie) is taken over, and its
  ``pipeline_run`` row, still marked running, is closed as failed.
* ``lock_warehouse`` — the *write lock*, taken first thing in every loading transaction so that
  versions, ``load_seq`` and the audit chain's ``seq`` are assigned without races: a
  transaction-scoped advisory lock on PostgreSQL (keyed by the schema, so two warehouses in one
  database do not wait for each other); on SQLite the engine's ``BEGIN IMMEDIATE`` already holds
  the database's single write lock (see ``warehouse.engine``).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time

from sqlalchemy import Connection, Engine, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from joyflow.errors import RunLockedError
from warehouse.models import PipelineRun, RunLock

WAREHOUSE_LOCK_KEY = 7_300_613  # arbitrary: the advisory lock class all warehouse writers share


def lock_warehouse(conn: Connection) -> None:
    """Serialise writers for the rest of this transaction (released by COMMIT/ROLLBACK)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k, hashtext(coalesce(current_schema(), '')))"),
                     {"k": WAREHOUSE_LOCK_KEY})
    # SQLite: the transaction began with BEGIN IMMEDIATE and already holds the write lock.


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _holder_alive(holder: str) -> bool:
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname():
        return True  # another machine: assume alive; an operator can `joyflow unlock`
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return not _is_zombie(int(pid))


def acquire(engine: Engine, period: str, run_id: str, wait_seconds: float = 0.0, poll: float = 0.5) -> None:
    """Take the period's lock, waiting up to ``wait_seconds``; raises RunLockedError with who holds it."""
    deadline = time.monotonic() + wait_seconds
    me = holder_id()
    while True:
        try:
            with engine.begin() as conn:
                # Core rows (a Connection, not a Session): columns by name, no ORM entity.
                row = conn.execute(select(RunLock.__table__).where(RunLock.period == period)).first()
                if row is not None and not _holder_alive(row.holder):
                    dead = row
                    conn.execute(delete(RunLock).where(RunLock.period == period))
                    conn.execute(
                        update(PipelineRun)
                        .where(PipelineRun.run_id == dead.run_id, PipelineRun.status == "running")
                        .values(status="failed", finished_at=dt.datetime.now(dt.UTC),
                                message=f"abandoned: its process ({dead.holder}) died; lock taken over by {run_id}")
                    )
                    row = None
                if row is None:
                    conn.execute(insert(RunLock).values(period=period, run_id=run_id, holder=me,
                                                        acquired_at=dt.datetime.now(dt.UTC)))
                    return
                holder = row
        except IntegrityError:
            holder = None  # PostgreSQL: another run inserted the row between our read and write
        if time.monotonic() >= deadline:
            who = f"run {holder.run_id} ({holder.holder}, since {holder.acquired_at:%Y-%m-%d %H:%M})" if holder else "another run"
            raise RunLockedError(f"Period {period} is being processed by {who}. Wait for it to finish, "
                                 "or if it crashed on another machine, run `joyflow unlock --period "
                                 f"{period}`.")
        time.sleep(poll)


def release(engine: Engine, period: str, run_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(RunLock).where(RunLock.period == period, RunLock.run_id == run_id))


def force_release(engine: Engine, period: str) -> int:
    with engine.begin() as conn:
        return conn.execute(delete(RunLock).where(RunLock.period == period)).rowcount
