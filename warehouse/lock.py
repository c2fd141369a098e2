"""One run per period at a time: a row in ``run_lock`` is the lock; a crashed holder's lock is taken over."""

from __future__ import annotations

import datetime as dt
import os
import socket
import time

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from joyflow.errors import RunLockedError
from warehouse.models import RunLock


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


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
    return True


def acquire(engine: Engine, period: str, run_id: str, wait_seconds: float = 0.0, poll: float = 0.5) -> None:
    """Take the period's lock, waiting up to ``wait_seconds``; raises RunLockedError with who holds it."""
    deadline = time.monotonic() + wait_seconds
    me = holder_id()
    while True:
        try:
            with engine.begin() as conn:
                row = conn.execute(select(RunLock).where(RunLock.period == period)).first()
                if row is not None and not _holder_alive(row.RunLock.holder):
                    conn.execute(delete(RunLock).where(RunLock.period == period))
                    row = None
                if row is None:
                    conn.execute(insert(RunLock).values(period=period, run_id=run_id, holder=me,
                                                        acquired_at=dt.datetime.now(dt.UTC)))
                    return
                holder = row.RunLock
        except IntegrityError:
            holder = None
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
