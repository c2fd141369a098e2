"""`joyflow audit`: verify the hash chains, export entries for auditors."""

from __future__ import annotations

import json

from sqlalchemy import select

from joyflow import audit
from joyflow.settings import Settings
from warehouse.engine import make_engine
from warehouse.models import ValidationIssue


def _warehouse_entries(settings: Settings, period: str | None = None) -> list[dict]:
    engine = make_engine(settings.warehouse_url)
    stmt = select(*ValidationIssue.__table__.columns).order_by(ValidationIssue.seq)
    if period:
        stmt = stmt.where(ValidationIssue.period == period)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def verify(settings: Settings) -> tuple[list[audit.ChainProblem], int]:
    audit_dir = settings.home / "audit"
    damaged: list[str] = []
    file_entries = list(audit.read_log(audit_dir, damaged))
    problems = [audit.ChainProblem("log files", None, d) for d in damaged]
    problems += audit.verify_entries(file_entries, "log files")
    problems += [
        audit.ChainProblem(
            "log files",
            None,
            f"{path.name} ends in {n} bytes of an entry a crash cut short; the next run removes them "
            "and copies the entry again from the warehouse",
        )
        for path, n in audit.torn_tails(audit_dir)
    ]
    db_entries = _warehouse_entries(settings)
    problems += audit.verify_entries(db_entries, "warehouse")
    # The two copies must agree entry for entry (a rewrite of both would need the same hashes).
    file_hashes = {e.get("seq"): e.get("entry_hash") for e in file_entries}
    for e in db_entries:
        if e["seq"] in file_hashes and file_hashes[e["seq"]] != e["entry_hash"]:
            problems.append(audit.ChainProblem("warehouse", e["seq"], "differs from the log files"))
    return problems, max(len(file_entries), len(db_entries))


def export(settings: Settings, period: str | None, fmt: str) -> str:
    entries = _warehouse_entries(settings, period)
    if fmt == "jsonl":
        return "".join(audit.serialise(e) + "\n" for e in entries)
    return audit.to_csv(entries)


def dumps(entries: list[dict]) -> str:
    return json.dumps(entries, default=str)
