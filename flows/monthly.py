"""The monthly run as a Prefect flow: coarse tasks (per file, per stage, reports fanned out to processes).

The flow only orders the stages in ``flows.steps`` and records artifacts; it holds no rules.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from flows import progress, steps
from flows.backfill import load_history
from flows.publish import publish_reports
from joyflow.errors import JoyflowError
from transforms.demo import previous_month
from warehouse import lock
from warehouse.load import LoadOutcome


# Re-runs are idempotent through the warehouse (a received SHA-256 is a no-op; reports are keyed by
# their content), so task caching is off: it could not hash the run context anyway.
@task(name="prepare-warehouse", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def prepare_task(ctx: steps.RunContext) -> None:
    steps.prepare_warehouse(ctx)


# Big arguments (the run context, returns, verdicts with their frames) are passed quote()d: Prefect
# would otherwise walk every object inside them, twice per task, looking for futures to wait on
# and inputs to track — over a second at 1,000 files. None of them holds a future.

# Tasks are per batch of files, not per file: at 1,000 files a task each cost Prefect ~20 s of
# overhead against a 6 s run, and a task per 50 files still ~1 s. A batch retried after an I/O
# error is safe: files it already received or loaded are recognised by their SHA-256 and skipped.
FILES_PER_TASK = 250


def batches(items: list, size: int = FILES_PER_TASK) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


@task(
    name="receive-files",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[1, 5],
    task_run_name="receive {paths[0].name} (+{n_more})",
)
def receive_task(ctx: steps.RunContext, paths: list[Path], n_more: int = 0) -> list:
    out = []
    for path in paths:
        out.append(steps.receive(ctx, path))
        progress.advance("receive")
    return out


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
    out = []
    for received, verdict in pairs:  # one transaction per file, in file order
        out.append(steps.load(ctx, received, verdict, period))
        progress.advance("load")
    return out


@task(name="derive-statistics", cache_policy=NO_CACHE, retries=1)
def derive_task(ctx: steps.RunContext) -> dict:
    return steps.derive(ctx)


@task(name="render-reports", cache_policy=NO_CACHE, retries=1)
def render_task(ctx: steps.RunContext, outcomes: list[LoadOutcome], verdicts: list) -> list:
    return publish_reports(ctx, outcomes, verdicts)


def _intake(ctx: steps.RunContext, period: str) -> tuple[list[LoadOutcome], list]:
    files = steps.inbox_files(ctx, period)
    progress.start("receive", len(files), f"Receiving {period}")
    # One batch after another: reading a workbook is Python-bound, and threads reading at once
    # only contend for the GIL (19 batches in threads took 4.5 s where one after another take 1.8 s).
    received = [r for b in batches(files) for r in receive_task(quote(ctx), b, len(b) - 1)]
    verdicts = validate_task(quote(ctx), quote([raw for _, raw in received]), period)
    progress.start("load", len(files), f"Loading {period}")
    # Loads run one after another in file order: that order fixes versions and the audit chain.
    pairs = [(rec, v) for (rec, _), v in zip(received, verdicts, strict=True)]
    outcomes = [
        o for b in batches(pairs) for o in load_task(quote(ctx), quote(b), period, b[0][0].name, len(b) - 1)
    ]
    return outcomes, verdicts


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
    period = period or previous_month()
    ctx = steps.RunContext.create(
        Path(network_dir),
        period,
        warehouse_url=warehouse_url,
        today=dt.date.fromisoformat(today) if today else None,
    )
    prepare_task(quote(ctx))
    lock.acquire(ctx.engine, period, ctx.run_id, wait_seconds=wait_for_lock)
    try:
        steps.start_run(ctx, "backfill" if backfill else "monthly")
        periods = steps.inbox_periods(ctx, period) if backfill else [period]
        if backfill:  # the earlier months through the bulk path, a month per transaction
            load_history(ctx, [p for p in periods if p != period])
            periods = [p for p in periods if p == period]
        outcomes: list[LoadOutcome] = []
        verdicts: list = []
        for p in periods:
            o, v = _intake(ctx, p)
            if p == period:
                outcomes, verdicts = o, v
        stats = derive_task(quote(ctx))
        if not render:
            rendered = []
        elif render_on == "dask":
            from flows.render_dask import render_on_dask

            rendered = render_on_dask(
                period, network_dir, warehouse_url, n_workers=dask_workers, address=dask_address
            )
        else:
            rendered = render_task(quote(ctx), quote(outcomes), quote(verdicts))
        steps.finish_run(ctx, outcomes)
    except JoyflowError:
        steps.finish_run(ctx, [], status="failed")
        raise
    except Exception as exc:
        steps.finish_run(ctx, [], status="failed", message=f"{exc.__class__.__name__}: {str(exc)[:500]}")
        raise
    finally:
        lock.release(ctx.engine, period, ctx.run_id)
    summary = steps.run_summary(ctx, outcomes, rendered, stats)
    _artifacts(summary)
    logger.info("monthly-run %s: %s", period, summary["counts"])
    if deliver and render:
        summary["delivery"] = _deliver(period, network_dir, warehouse_url)
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
