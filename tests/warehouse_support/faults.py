"""Crash injection for the process-level warehouse tests, installed from outside the loader.

``install(Fault(...))`` hooks SQLAlchemy's engine events (for every engine of this process) and
the audit log's append, so a test can SIGKILL a pipeline run at a precise point of a load —
whether it goes through ``warehouse.load.load_file`` (one transaction per file) or
``warehouse.batch.load_batch`` (many files per transaction) — or make every loading transaction
hold the write lock a while. Nothing of this exists in the production code: the points are
recognised by the statements the loaders run.

Points, each reached once this process has committed at least ``after_files`` new files:

* ``before_data``: inside a loading transaction, its ``received_file`` rows (or a participation or
  attendance import's row) written, nothing else;
* ``mid_data``: the measure rows of the submissions written, their PDSA, learning and audit rows
  not yet (the first such statement after the ``submission`` rows);
* ``before_commit``: everything written, the commit about to be sent;
* ``after_commit``: committed, its entries not yet appended to the JSONL audit log.

``sleep``: seconds to sleep before the commit of every loading transaction, holding the write lock.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

POINTS = ("before_data", "mid_data", "before_commit", "after_commit")
_AFTER_MEASURES = ("pdsa_cycle", "learning_note", "people_change", "validation_issue")
# a row in one of these is a file the load has taken in: a return, a participation file, an attendance export
_FILE_TABLES = ("received_file", "participation_import", "attendance_import")


@dataclass(frozen=True)
class Fault:
    after_files: int | None = None  # None: never kill
    at: str = "before_commit"
    sleep: float = 0.0

    def __post_init__(self) -> None:
        if self.at not in POINTS:
            raise ValueError(f"unknown fault point {self.at!r}: one of {POINTS}")


class _State:
    committed = 0  # new files this process has committed
    before_last = 0  # ... before its last loading transaction committed
    pending_commit = False  # a loading transaction committed, its audit append still to come


def _inserts_into(statement: str, tables: tuple[str, ...]) -> bool:
    head = statement.lstrip()[:80].lower()
    return head.startswith("insert into") and any(
        head.startswith(f"insert into {t} ") or head.startswith(f'insert into "{t}"') for t in tables
    )


def install(fault: Fault) -> None:
    """Hook this process's engines and audit appends (call once, before the run starts)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from warehouse.audit import logfiles

    def reached(point: str, committed: int | None = None) -> None:
        committed = _State.committed if committed is None else committed
        if fault.after_files is not None and fault.at == point and committed >= fault.after_files:
            os.kill(os.getpid(), signal.SIGKILL)

    @event.listens_for(Engine, "after_cursor_execute")
    def after_execute(conn, cursor, statement, parameters, context, executemany) -> None:
        if _inserts_into(statement, _FILE_TABLES):
            # rowcount: PostgreSQL's insertmanyvalues runs an executemany as multi-row statements
            rows = cursor.rowcount if cursor.rowcount > 0 else (len(parameters) if executemany else 1)
            conn.info["fault_files"] = conn.info.get("fault_files", 0) + rows
            reached("before_data")
        elif _inserts_into(statement, ("submission",)):
            conn.info["fault_submissions"] = True

    @event.listens_for(Engine, "before_cursor_execute")
    def before_execute(conn, cursor, statement, parameters, context, executemany) -> None:
        if conn.info.get("fault_submissions") and _inserts_into(statement, _AFTER_MEASURES):
            conn.info["fault_submissions"] = False
            reached("mid_data")

    @event.listens_for(Engine, "commit")
    def before_commit(conn) -> None:
        files = conn.info.pop("fault_files", 0)
        conn.info.pop("fault_submissions", None)
        if not files:
            return
        if fault.sleep:
            time.sleep(fault.sleep)
        reached("before_commit")
        _State.before_last = _State.committed
        _State.committed += files
        _State.pending_commit = True

    @event.listens_for(Engine, "rollback")
    def after_rollback(conn) -> None:
        conn.info.pop("fault_files", None)
        conn.info.pop("fault_submissions", None)

    append = logfiles.append_log

    def append_log(*args, **kwargs):
        if _State.pending_commit:
            _State.pending_commit = False
            reached("after_commit", _State.before_last)
        return append(*args, **kwargs)

    logfiles.append_log = append_log
