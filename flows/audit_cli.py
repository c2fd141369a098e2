"""`joyflow audit`: verify the hash chains, export entries for auditors."""

from __future__ import annotations

from joyflow.settings import Settings
from warehouse.audit import chain
from warehouse.audit import export as audit_export
from warehouse.audit.chain import ChainProblem
from warehouse.audit.sync import warehouse_entries
from warehouse.audit.verify import verify as verify_log
from warehouse.engine import make_engine


def verify(settings: Settings) -> tuple[list[ChainProblem], int]:
    return verify_log(make_engine(settings.warehouse_url), settings.home / "audit")


def export(settings: Settings, period: str | None, fmt: str) -> str:
    entries = warehouse_entries(make_engine(settings.warehouse_url), period=period)
    if fmt == "jsonl":
        return "".join(chain.serialise(e) + "\n" for e in entries)
    return audit_export.to_csv(entries)
