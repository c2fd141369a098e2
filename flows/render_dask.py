"""Report rendering fanned out on Dask: one Prefect task per report, on a local cluster of processes
or on a Dask cluster spanning machines (``dask_address``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect_dask import DaskTaskRunner

from flows.publish import publish_reports
from flows.steps import RunContext
from reports.render import Rendered, RenderJob, render_one


@task(name="render-report", cache_policy=NO_CACHE, retries=1, task_run_name="render {job.report_id}")
def render_report_task(job: RenderJob) -> Rendered:
    return render_one(job)


@flow(name="render-reports-dask", flow_run_name="render-reports-dask {period}")
def render_reports_dask(
    period: str, network_dir: str = "var/demo", warehouse_url: str | None = None, force: bool = False
) -> list[Rendered]:
    ctx = RunContext.create(Path(network_dir), period, warehouse_url=warehouse_url)

    def on_dask(jobs: Iterable[RenderJob], workers: int | None = None, on_done=None) -> list[Rendered]:
        return [f.result() for f in render_report_task.map(list(jobs))]

    return publish_reports(ctx, force=force, render=on_dask)


def dask_runner(n_workers: int = 2, address: str | None = None) -> DaskTaskRunner:
    """A local cluster of single-threaded worker processes, or an existing scheduler's address."""
    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": n_workers,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,
        }
    )


def render_on_dask(
    period: str,
    network_dir: str,
    warehouse_url: str | None = None,
    force: bool = False,
    n_workers: int = 2,
    address: str | None = None,
) -> list[Rendered]:
    return render_reports_dask.with_options(task_runner=dask_runner(n_workers, address))(
        period=period, network_dir=network_dir, warehouse_url=warehouse_url, force=force
    )
