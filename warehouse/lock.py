"""Locks: one run per period at a time, and one writer at a time inside the warehouse.

* ``acquire``/``release`` — the *run lock*: a row in ``run_lock`` per period. A second run for
  the same period waits up to ``wait_seconds`` and then raises :class:`RunLockedError` naming the
  holder. A holder that died on this machine (process gone, or a zombie) is taken over, and its
  ``pipeline_run`` row, still marked running, is closed as failed.
* ``lock_warehouse`` — the *write lock*, taken first thing in every loading transaction so that
  versions, ``load_seq`` and the audit chain's ``seq`` are assigned without races: a
  transaction-scoped advisory lock on PostgreSQL (keyed by the schema, so two warehouses in one
  database do not wait for each other); on SQLite the database's single write lock, taken by a
  first, no-op write (see ``warehouse.engine`` for why it must come first).

Checking a lock never takes the write lock: a run that finds its period held by a live run
says so at once, however busy the other run keeps the database.
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
    """Serialise writers for the rest of this transaction (released by COMMIT/ROLLBACK).

    Call it as the transaction's first statement: on SQLite it must be (``warehouse.engine``).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:k, hashtext(coalesce(current_schema(), '')))"),
            {"k": WAREHOUSE_LOCK_KEY},
        )
    elif conn.dialect.name == "sqlite":
        # A write as the first statement takes SQLite's write lock, waiting on the busy timeout,
        # exactly as BEGIN IMMEDIATE would. user_version is unused by the warehouse: always 0.
        conn.exec_driver_sql("PRAGMA user_version = 0")


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


def _held_by_live_run(engine: Engine, period: str):
    """The period's lock row if a live run holds it: a plain read, no write lock."""
    with engine.connect() as conn:
        # Core rows (a Connection, not a Session): columns by name, no ORM entity.
        row = conn.execute(select(RunLock.__table__).where(RunLock.period == period)).first()
    return row if row is not None and _holder_alive(row.holder) else None


def acquire(engine: Engine, period: str, run_id: str, wait_seconds: float = 0.0, poll: float = 0.5) -> None:
    """Take the period's lock, waiting up to ``wait_seconds``; raises RunLockedError with who holds it."""
    deadline = time.monotonic() + wait_seconds
    me = holder_id()
    while True:
        holder = _held_by_live_run(engine, period)
        if holder is None:
            try:
                with engine.begin() as conn:
                    lock_warehouse(conn)
                    row = conn.execute(select(RunLock.__table__).where(RunLock.period == period)).first()
                    if row is not None and not _holder_alive(row.holder):
                        conn.execute(delete(RunLock).where(RunLock.period == period))
                        conn.execute(
                            update(PipelineRun)
                            .where(PipelineRun.run_id == row.run_id, PipelineRun.status == "running")
                            .values(
                                status="failed",
                                finished_at=dt.datetime.now(dt.UTC),
                                message=f"abandoned: its process ({row.holder}) died; "
                                f"lock taken over by {run_id}",
                            )
                        )
                        row = None
                    if row is None:
                        conn.execute(
                            insert(RunLock).values(
                                period=period, run_id=run_id, holder=me, acquired_at=dt.datetime.now(dt.UTC)
                            )
                        )
                        return
                    holder = row
            except IntegrityError:
                holder = None  # another run inserted the row between our read and write
        if time.monotonic() >= deadline:
            who = (
                f"run {holder.run_id} ({holder.holder}, since {holder.acquired_at:%Y-%m-%d %H:%M})"
                if holder
                else "another run"
            )
            raise RunLockedError(
                f"Period {period} is being processed by {who}. Wait for it to finish, "
                "or if it crashed on another machine, run `joyflow unlock --period "
                f"{period}`."
            )
        time.sleep(poll)


def release(engine: Engine, period: str, run_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(RunLock).where(RunLock.period == period, RunLock.run_id == run_id))


def force_release(engine: Engine, period: str) -> int:
    with engine.begin() as conn:
        return conn.execute(delete(RunLock).where(RunLock.period == period)).rowcount
