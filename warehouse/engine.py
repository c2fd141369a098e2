"""Engines for the warehouse: SQLite by default, PostgreSQL at scale, configured by URL.

SQLite: WAL journal (readers never block the writer), foreign keys enforced, and every
transaction opened with ``BEGIN IMMEDIATE``. The immediate begin takes SQLite's single write
lock up front, so two processes loading at once queue on the busy timeout instead of both
reading ``max(version)`` and then failing with "database is locked" (a deferred transaction
that read before writing cannot wait: SQLite returns SQLITE_BUSY at once to avoid a deadlock).
Python's sqlite3 module would otherwise issue its own deferred ``BEGIN``; it is switched to
autocommit mode so that SQLAlchemy's ``begin`` event emits the only ``BEGIN``.

PostgreSQL: psycopg 3; loads serialise on a transaction-scoped advisory lock (see
``warehouse.load.lock_warehouse``).
"""

from __future__ import annotations

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
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql"):
        return create_engine(url, pool_pre_ping=True)
    raise ConfigError(f"Unsupported warehouse URL {url.split(':', 1)[0]}:…; use sqlite:/// or postgresql://")
