"""The monthly run as plain function calls, without Prefect: the benchmark's orchestration floor,
and a fallback for machines where Prefect's local server cannot start."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flows import steps
from flows.backfill import load_history
from flows.publish import publish_reports
from warehouse import lock


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
    steps.prepare_warehouse(ctx)
    lock.acquire(ctx.engine, period, ctx.run_id, wait_seconds=wait_for_lock)
    try:
        steps.start_run(ctx, "backfill" if backfill else "monthly")
        outcomes, verdicts = [], []
        periods = steps.inbox_periods(ctx, period) if backfill else [period]
        if backfill:  # the earlier months through the bulk path, a month per transaction
            load_history(ctx, [p for p in periods if p != period])
            periods = [p for p in periods if p == period]
        for p in periods:
            o, v = steps.intake_period(ctx, p)
            if p == period:
                outcomes, verdicts = o, v
        stats = steps.derive(ctx)
        rendered = publish_reports(ctx, outcomes, verdicts) if render else []
        steps.finish_run(ctx, outcomes)
    except Exception as exc:
        steps.finish_run(ctx, [], status="failed", message=f"{exc.__class__.__name__}: {str(exc)[:500]}")
        raise
    finally:
        lock.release(ctx.engine, period, ctx.run_id)
    return steps.run_summary(ctx, outcomes, rendered, stats)
