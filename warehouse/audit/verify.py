"""`joyflow audit verify`: both copies of the log checked link by link, and against each other."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from warehouse.audit import logfiles
from warehouse.audit.chain import ChainProblem, verify_entries
from warehouse.audit.sync import warehouse_entries


def verify(engine: Engine, audit_dir: Path) -> tuple[list[ChainProblem], int]:
    """Every problem found in the log files and the warehouse's copy, and how many entries were read."""
    damaged: list[str] = []
    file_entries = list(logfiles.read_log(audit_dir, damaged))
    problems = [ChainProblem("log files", None, d) for d in damaged]
    problems += verify_entries(file_entries, "log files")
    problems += [
        ChainProblem(
            "log files",
            None,
            f"{path.name} ends in {n} bytes of an entry a crash cut short; the next run removes them "
            "and copies the entry again from the warehouse",
        )
        for path, n in logfiles.torn_tails(audit_dir)
    ]
    db_entries = warehouse_entries(engine)
    problems += verify_entries(db_entries, "warehouse")
    # The two copies must agree entry for entry (a rewrite of both would need the same hashes).
    file_hashes = {e.get("seq"): e.get("entry_hash") for e in file_entries}
    for e in db_entries:
        if e["seq"] in file_hashes and file_hashes[e["seq"]] != e["entry_hash"]:
            problems.append(ChainProblem("warehouse", e["seq"], "differs from the log files"))
    return problems, max(len(file_entries), len(db_entries))
