"""The monthly run as plain function calls, without Prefect: ``joyflow run --no-prefect``, the
benchmark's orchestration floor, the tests, and a fallback for machines where Prefect's local
server cannot start. The sequence itself is ``flows.sequence.run_month``, shared with the flow."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flows import steps
from flows.backfill import load_history
from flows.publish import publish_reports
from flows.sequence import Stages, intake, run_month
from schemas.returns import FileVerdict
from warehouse.load import LoadOutcome

PLAIN_STAGES = Stages(
    prepare=steps.prepare_warehouse,
    receive=steps.receive_batch,
    validate=steps.validate,
    load=steps.load_batch,
    derive=steps.derive,
    render=publish_reports,
    history=load_history,
    participation=steps.import_participation,
)


def monthly_run_plain(
    period: str,
    network_dir: Path,
    warehouse_url: str | None = None,
    backfill: bool = False,
    render: bool = True,
    wait_for_lock: float = 0.0,
    today: dt.date | None = None,
) -> dict:
    ctx = steps.RunContext.create(Path(network_dir), period, warehouse_url=warehouse_url, today=today)
    return run_month(ctx, PLAIN_STAGES, backfill=backfill, render=render, wait_for_lock=wait_for_lock)


def intake_period(
    ctx: steps.RunContext, period: str | None = None
) -> tuple[list[LoadOutcome], list[FileVerdict]]:
    """Receive, validate and load one inbox folder with plain calls (no lock, no run record)."""
    return intake(ctx, PLAIN_STAGES, period or ctx.period)
