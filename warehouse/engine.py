"""Engines for the warehouse: SQLite by default, PostgreSQL at scale, configured by URL.

SQLite: WAL journal (readers never block the writer, nor it them), foreign keys enforced, a
60 s busy timeout, and transactions begun by SQLAlchemy's ``begin`` event — Python's sqlite3
module is put in autocommit mode so that it issues no ``BEGIN`` of its own behind our back.

``synchronous=FULL``: a commit is on disk when it returns. The audit log's JSONL mirror is
appended (and fsynced) after each commit; with WAL's usual ``NORMAL`` a power cut could take
back commits the mirror already holds, and the log would then be *ahead* of the warehouse —
entries for checks whose data was rolled back, which a re-run would log again under the same
sequence numbers, and ``joyflow audit verify`` would report as a rewrite. A mirror that is only
ever behind is caught up from the warehouse at the next run. Cost: one WAL fsync per commit,
about 0.1–0.15 s over a month's 937 per-file loads (1.35 s), nothing measurable on a bulk load.

Transactions begin DEFERRED: one that only reads takes no lock and never waits, even while
another process loads (so a second run finds out at once that a period is locked). The rule
for writers: **a transaction that reads before it writes must start with**
``warehouse.lock.lock_warehouse(conn)``. In WAL mode a deferred transaction that has read and
then wants to write while another process has written meanwhile fails at once with
"database is locked" (SQLITE_BUSY_SNAPSHOT: waiting could not help), whereas a transaction
whose *first* statement writes waits on the busy timeout like ``BEGIN IMMEDIATE`` does. So
``lock_warehouse`` writes first (a no-op ``PRAGMA user_version = 0``: it takes the database's
write lock and holds it to the end of the transaction). Every loader in ``warehouse/`` starts
that way; transactions that begin with their write (an INSERT or UPDATE) are safe as they are.

PostgreSQL: psycopg 3; writers serialise on a transaction-scoped advisory lock taken by the
same ``lock_warehouse``.
"""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, event

from joyflow.errors import ConfigError
from joyflow.settings import Settings

SQLITE_BUSY_TIMEOUT = 60.0  # seconds a writer waits for another process's transaction


def normalise_url(url: str) -> str:
    """Accept the usual spellings; PostgreSQL goes through psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def sqlite_path(url: str) -> str | None:
    """The database file of a SQLite URL (None for in-memory databases)."""
    path = url.split("///", 1)[-1].split("?", 1)[0]
    return path if path and path != ":memory:" else None


def _switch_to_wal(cur: sqlite3.Cursor, path: str) -> None:
    """``PRAGMA journal_mode=WAL``, retried while other processes make the same switch.

    On a file still in rollback mode (a brand-new warehouse) the switch reads the header under a
    shared lock, then asks for the exclusive lock *while holding it*; SQLite answers a second
    connection doing the same with an immediate "database is locked" — the busy timeout is not
    consulted, as waiting could deadlock. Six processes opening a new file at once: 86 such
    refusals in 300 trials. A refused switch is tried again; by then the file is usually in WAL
    already and the pragma only confirms it.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT
    delay = 0.001
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                raise ConfigError(
                    f"The warehouse {path} stayed locked for {SQLITE_BUSY_TIMEOUT:.0f} s while "
                    "switching it to WAL mode: is another program holding it open?"
                ) from None
        time.sleep(delay * (0.5 + random.random()))  # jitter: the processes do not retry in step
        delay = min(delay * 2, 0.1)


def make_engine(url: str | None = None) -> Engine:
    url = normalise_url(url or Settings.from_env().warehouse_url)
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            dbapi_conn.isolation_level = None  # no implicit BEGIN from the driver: see _sqlite_begin
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if path:
                _switch_to_wal(cur, path)
            cur.execute("PRAGMA synchronous=FULL")  # durable at commit: see the module docstring
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:
            conn.exec_driver_sql("BEGIN")  # deferred: see the module docstring and lock_warehouse

        return engine
    if url.startswith("postgresql"):
        return create_engine(url, pool_pre_ping=True)
    raise ConfigError(f"Unsupported warehouse URL {url.split(':', 1)[0]}:…; use sqlite:/// or postgresql://")
