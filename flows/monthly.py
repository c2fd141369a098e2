"""The monthly run as a Prefect flow: coarse tasks (per batch of files, per stage, reports fanned out
to processes).

The flow runs the one stage sequence (``flows.sequence.run_month``) with its tasks as the stages,
then records artifacts; it holds no rules and no sequence of its own.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from flows import steps
from flows.backfill import load_history
from flows.publish import publish_reports
from flows.sequence import Stages, run_month
from schemas.periods import previous_month
from warehouse.load import LoadOutcome


# Re-runs are idempotent through the warehouse (a received SHA-256 is a no-op; reports are keyed by
# their content), so task caching is off: it could not hash the run context anyway.
@task(name="prepare-warehouse", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def prepare_task(ctx: steps.RunContext) -> None:
    steps.prepare_warehouse(ctx)


# Big arguments (the run context, returns, verdicts with their frames) are passed quote()d: Prefect
# would otherwise walk every object inside them, twice per task, looking for futures to wait on
# and inputs to track — over a second at 1,000 files. None of them holds a future.
# Tasks are per batch of files (``flows.sequence.FILES_PER_BATCH``), not per file.


@task(
    name="receive-files",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[1, 5],
    task_run_name="receive {paths[0].name} (+{n_more})",
)
def receive_task(ctx: steps.RunContext, paths: list[Path], n_more: int = 0) -> list:
    return steps.receive_batch(ctx, paths)


@task(name="validate-batch", cache_policy=NO_CACHE)
def validate_task(ctx: steps.RunContext, raws: list, period: str):
    return steps.validate(ctx, raws, period)


@task(
    name="load-files",
    cache_policy=NO_CACHE,
    retries=3,
    retry_delay_seconds=[1, 5, 20],
    task_run_name="load {first} (+{n_more})",
)
def load_task(
    ctx: steps.RunContext, pairs: list, period: str, first: str = "", n_more: int = 0
) -> list[LoadOutcome]:
    return steps.load_batch(ctx, pairs, period)


@task(name="load-history", cache_policy=NO_CACHE)
def history_task(ctx: steps.RunContext, periods: list[str]) -> list[LoadOutcome]:
    """The earlier months of a backfill through the bulk path, a month per transaction."""
    return load_history(ctx, periods)


@task(name="derive-statistics", cache_policy=NO_CACHE, retries=1)
def derive_task(ctx: steps.RunContext) -> dict:
    return steps.derive(ctx)


@task(name="import-participation", cache_policy=NO_CACHE, retries=1)
def participation_task(ctx: steps.RunContext, periods: list[str]) -> dict:
    return steps.import_participation(ctx, periods)


@task(name="render-reports", cache_policy=NO_CACHE, retries=1)
def render_task(ctx: steps.RunContext, outcomes: list[LoadOutcome], verdicts: list) -> list:
    return publish_reports(ctx, outcomes, verdicts)


def task_stages(
    network_dir: str,
    warehouse_url: str | None,
    render_on: str = "processes",
    dask_address: str | None = None,
    dask_workers: int = 2,
) -> Stages:
    """The run's stages as this module's tasks; reports rendered in local processes or on Dask."""

    def render(ctx: steps.RunContext, outcomes: list[LoadOutcome], verdicts: list) -> list:
        if render_on == "dask":
            from flows.render_dask import render_on_dask

            return render_on_dask(
                ctx.period, network_dir, warehouse_url, n_workers=dask_workers, address=dask_address
            )
        return render_task(quote(ctx), quote(outcomes), quote(verdicts))

    return Stages(
        prepare=lambda ctx: prepare_task(quote(ctx)),
        receive=lambda ctx, paths: receive_task(quote(ctx), paths, len(paths) - 1),
        validate=lambda ctx, raws, period: validate_task(quote(ctx), quote(raws), period),
        load=lambda ctx, pairs, period: load_task(
            quote(ctx), quote(pairs), period, pairs[0][0].name, len(pairs) - 1
        ),
        derive=lambda ctx: derive_task(quote(ctx)),
        render=render,
        history=lambda ctx, earlier: history_task(quote(ctx), earlier),
        participation=lambda ctx, periods: participation_task(quote(ctx), periods),
    )


def _period_name() -> str:
    from prefect.runtime import flow_run

    return f"monthly-run {flow_run.parameters.get('period') or previous_month()}"


@flow(name="monthly-run", flow_run_name=_period_name, log_prints=True)
def monthly_run(
    period: str | None = None,
    network_dir: str = "var/demo",
    warehouse_url: str | None = None,
    backfill: bool = False,
    render: bool = True,
    wait_for_lock: float = 0.0,
    today: str | None = None,
    render_on: str = "processes",
    dask_address: str | None = None,
    dask_workers: int = 2,
    deliver: bool = False,
) -> dict:
    """Receive, validate and load the period's returns (with ``backfill``, every earlier inbox first),
    rebuild the statistics and render the reports — in local processes, or on Dask
    (``render_on="dask"``: a local cluster of ``dask_workers`` processes, or ``dask_address``).
    With ``deliver``, then email the reports (the ``deliver-reports`` subflow; sent once per recipient)."""
    logger = get_run_logger()
    ctx = steps.RunContext.create(
        Path(network_dir),
        period or previous_month(),
        warehouse_url=warehouse_url,
        today=dt.date.fromisoformat(today) if today else None,
    )
    summary = run_month(
        ctx,
        task_stages(network_dir, warehouse_url, render_on, dask_address, dask_workers),
        backfill=backfill,
        render=render,
        wait_for_lock=wait_for_lock,
    )
    _artifacts(summary)
    logger.info("monthly-run %s: %s", ctx.period, summary["counts"])
    if deliver and render:
        summary["delivery"] = _deliver(ctx.period, network_dir, warehouse_url)
    return summary


def _deliver(period: str, network_dir: str, warehouse_url: str | None) -> dict:
    """Email the reports as a subflow (after the run lock is released: delivery takes it itself).
    A message that fails shows in the subflow's Failed state and artifact; the month's data is fine."""
    from flows.deliver import deliver_reports
    from reports.deliver import DeliveryFailedError

    try:
        return deliver_reports(
            period=period, network_dir=network_dir, warehouse_url=warehouse_url, wait_for_lock=60.0
        )
    except DeliveryFailedError as exc:
        get_run_logger().error(str(exc))
        return exc.summary


def _artifacts(summary: dict) -> None:
    create_table_artifact(
        key=f"files-{summary['period']}".lower(),
        table=[
            {k: f[k] for k in ("file", "status", "team_id", "errors", "warnings", "sha256")}
            for f in summary["files"]
        ],
        description=f"Files received for {summary['period']} and their outcome",
    )
    lines = [f"# monthly-run {summary['period']}", "", f"Run `{summary['run_id']}`", ""]
    lines += [f"- **{k.replace('_', ' ')}**: {v}" for k, v in summary["counts"].items()]
    if summary["issues_by_check"]:
        lines += ["", "| check | severity | count |", "|---|---|---|"]
        lines += [f"| {c['check']} | {c['severity']} | {c['count']} |" for c in summary["issues_by_check"]]
    lines += ["", "## Reports", ""] + [f"- {r}" for r in summary["reports"]]
    create_markdown_artifact(
        key=f"summary-{summary['period']}".lower(), markdown="\n".join(lines), description="Run summary"
    )


@flow(name="rerun-period", flow_run_name="rerun-period {period}")
def rerun_period(
    period: str, network_dir: str = "var/demo", warehouse_url: str | None = None, wait_for_lock: float = 600.0
) -> dict:
    """After a team resubmits: pick up the new files of an earlier month (already-received files are
    no-ops), rebuild the statistics and re-render what changed."""
    return monthly_run(
        period=period, network_dir=network_dir, warehouse_url=warehouse_url, wait_for_lock=wait_for_lock
    )


@flow(name="render-reports", flow_run_name="render-reports {period}")
def render_reports(
    period: str, network_dir: str = "var/demo", warehouse_url: str | None = None, force: bool = False
) -> list[str]:
    """Render the month's reports from the warehouse as it is (no intake)."""
    ctx = steps.RunContext.create(Path(network_dir), period, warehouse_url=warehouse_url)
    rendered = publish_reports(ctx, [], [], force=force)
    return [r.pdf_path for r in rendered]
