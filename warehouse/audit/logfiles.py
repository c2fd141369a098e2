"""The JSONL copy of the audit log: append-only files, one writer at a time, torn tails cut off.

The warehouse is written first, in the same transaction as the data it describes; these files are
appended after each commit (``sync.write_audit_log``) and caught up at the start of the next run if
a crash intervened (``sync.catch_up_audit_log``).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from joyflow.errors import JoyflowError
from warehouse.audit.chain import serialise

log = logging.getLogger(__name__)


class AuditLogError(JoyflowError):
    """A line of the JSONL log is not an entry: damaged or edited by hand."""


def log_files(audit_dir: Path) -> list[Path]:
    return sorted(audit_dir.glob("audit-*.jsonl"))


def read_log(audit_dir: Path, damaged: list[str] | None = None) -> Iterator[dict]:
    """Every entry of the log files, in order. A last line without its newline is not an entry
    but an append a crash cut short (``torn_tail``), and is left out. A line that is not an entry
    raises ``AuditLogError``; or, given a ``damaged`` list (a verification that reports every
    problem), is named there and skipped."""
    for path in log_files(audit_dir):
        with path.open("rb") as fh:
            for n, line in enumerate(fh, 1):
                if not line.endswith(b"\n"):
                    break
                if not line.strip():
                    continue
                try:
                    entry = _parse(line, f"{path.name}, line {n},")
                except AuditLogError:
                    if damaged is None:
                        raise
                    damaged.append(
                        f"{path.name}, line {n}, is not a log entry: the file was damaged or edited"
                    )
                    continue
                yield entry


def _parse(line: bytes, where: str) -> dict:
    try:
        entry = json.loads(line)
    except ValueError:
        entry = None
    if isinstance(entry, dict) and isinstance(entry.get("seq"), int):
        return entry
    raise AuditLogError(
        f"The audit log file {where} is not a log entry: the file was damaged or edited. The warehouse "
        "holds every entry; `joyflow audit verify` compares the two."
    )


def torn_tail(path: Path, block: int = 8192) -> int:
    """Bytes after the file's last newline. Every entry is written with its newline, so these are
    an append a crash cut short (or, after a power cut, the zeros of blocks never written)."""
    with path.open("rb") as fh:
        end = pos = fh.seek(0, os.SEEK_END)
        while pos > 0:
            start = max(0, pos - block)
            fh.seek(start)
            newline = fh.read(pos - start).rfind(b"\n")
            if newline >= 0:
                return end - (start + newline + 1)
            pos = start
        return end


def torn_tails(audit_dir: Path) -> list[tuple[Path, int]]:
    return [(path, n) for path in log_files(audit_dir) if (n := torn_tail(path))]


def repair_torn_tails(audit_dir: Path) -> int:
    """Cut off what a crash left of an unfinished append, so the next append starts on a line of
    its own; the entries it held are in the warehouse, and the caller's catch-up copies them
    again. The caller holds ``log_lock``. Returns the bytes removed."""
    removed = 0
    for path, n in torn_tails(audit_dir):
        with path.open("r+b") as fh:
            fh.truncate(fh.seek(0, os.SEEK_END) - n)
            fh.flush()
            os.fsync(fh.fileno())
        log.warning("%s ended in %d bytes of an unfinished entry (a crash); removed", path.name, n)
        removed += n
    return removed


def _last_line(path: Path, block: int = 8192) -> bytes | None:
    """The file's last complete non-blank line, read from the end: the log grows to millions of lines."""
    with path.open("rb") as fh:
        end = fh.seek(0, os.SEEK_END) - torn_tail(path, block)
        tail = b""
        while end > 0:
            start = max(0, end - block)
            fh.seek(start)
            tail = fh.read(end - start) + tail
            end = start
            lines = [line for line in tail.splitlines() if line.strip()]
            if len(lines) > 1 or (lines and start == 0):
                return lines[-1]
    return None


def last_logged_seq(audit_dir: Path) -> int:
    for path in reversed(log_files(audit_dir)):
        line = _last_line(path)
        if line is not None:
            return _parse(line, f"{path.name}, last line,")["seq"]
    return 0


@contextmanager
def log_lock(audit_dir: Path) -> Iterator[None]:
    """One writer at a time: runs of different months may share a home and its log."""
    audit_dir.mkdir(parents=True, exist_ok=True)
    with (audit_dir / ".lock").open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def append_log(audit_dir: Path, entries: list[dict]) -> None:
    """Append entries to the log file of their first seq's block; fsync before returning.

    The caller holds ``log_lock`` and appends entries that continue the log (``seq`` one more
    than ``last_logged_seq``): ``warehouse.audit.sync.write_audit_log`` sees to both.
    """
    if not entries:
        return
    audit_dir.mkdir(parents=True, exist_ok=True)
    path = audit_dir / f"audit-{(entries[0]['seq'] - 1) // 100_000:06d}.jsonl"
    with path.open("a", encoding="utf-8") as fh:
        for e in entries:
            fh.write(serialise(e) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
