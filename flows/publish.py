"""Glue between a run's context and report publishing (kept out of the flow module so tests can call it)."""

from __future__ import annotations

from collections.abc import Callable

from flows import progress
from flows.steps import RunContext
from reports.publish import publish
from reports.render import Rendered, render_many


def publish_reports(
    ctx: RunContext,
    outcomes: list | None = None,
    verdicts: list | None = None,
    *,
    force: bool = False,
    variant: str = "ua",
    render: Callable[..., list[Rendered]] = render_many,
) -> list[Rendered]:
    """Render the run period's reports with the network's configuration (unchanged ones are skipped),
    in local worker processes or with the given ``render`` (Dask)."""
    cfg = ctx.network.config
    progress.start("render", 0, f"Rendering reports for {ctx.period}")
    return publish(
        ctx.engine,
        ctx.period,
        ctx.settings.reports_dir / ctx.period,
        network_name=cfg.name,
        start_period=cfg.start_period,
        months=cfg.months,
        due_day=cfg.due_day,
        run_id=ctx.run_id,
        representatives=cfg.representatives,
        participation=cfg.participation,
        force=force,
        variant=variant,
        on_done=lambda _r: progress.advance("render"),
        render=render,
    )
