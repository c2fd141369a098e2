"""`joyflow rebase`: record, list and withdraw re-baselining decisions (issue 16).

Thin: the warehouse keeps the records and their audit entries (``warehouse.rebase_log``); here the
committed entries are appended to the JSONL log, as a run does after loading a file.
"""

from __future__ import annotations

import getpass

from joyflow.settings import Settings
from warehouse.audit.sync import write_audit_log
from warehouse.engine import make_engine
from warehouse.migrate import upgrade
from warehouse.rebase_log import RebaseEntry, rebase_entries, record_rebase, withdraw_rebase


def _who(by: str | None) -> str:
    return (by or "").strip() or getpass.getuser()


def record(
    settings: Settings, team: str, measure: str, from_period: str, reason: str, by: str | None
) -> tuple[int, bool]:
    """The record's id, and whether it is new (the same recalculation in force is not recorded twice)."""
    engine = make_engine(settings.warehouse_url)
    upgrade(engine)
    record_id, entries = record_rebase(engine, team, measure, from_period, reason, _who(by))
    write_audit_log(engine, settings.home / "audit", entries)
    return record_id, bool(entries)


def withdraw(settings: Settings, record_id: int, reason: str, by: str | None) -> int:
    engine = make_engine(settings.warehouse_url)
    upgrade(engine)
    new_id, entries = withdraw_rebase(engine, record_id, reason, _who(by))
    write_audit_log(engine, settings.home / "audit", entries)
    return new_id


def listing(settings: Settings, team: str | None) -> list[RebaseEntry]:
    engine = make_engine(settings.warehouse_url)
    upgrade(engine)
    return rebase_entries(engine, team)


def describe(e: RebaseEntry) -> str:
    """One line of ``joyflow rebase list``."""
    when = e.recorded_at.strftime("%Y-%m-%d %H:%M")
    if e.action == "withdraw":
        return f"{e.record_id:>4}  withdraws {e.withdraws}  {e.team_id} {e.measure_id}  {when} by {e.recorded_by}: {e.reason}"
    state = "in force" if e.active else f"withdrawn by {e.withdrawn_by}"
    return (
        f"{e.record_id:>4}  {e.team_id} {e.measure_id} from {e.from_period} ({state})  "
        f"{when} by {e.recorded_by}: {e.reason}"
    )
