"""Produce the month's reports: build contexts once, skip reports whose inputs did not change,
render the rest in parallel, and record each in the warehouse."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import Engine

from reports.context import (
    feedback_contexts,
    load_run_data,
    network_context,
    team_contexts,
    validation_context,
)
from reports.render import Rendered, RenderJob, render_many
from reports.report_types import ReportContext, content_key
from schemas.participation import ParticipationSettings
from warehouse.report_log import record_reports, recorded_reports

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_stem(text: str) -> str:
    return _UNSAFE.sub("_", text)[:80]


def iter_report_jobs(
    engine: Engine,
    period: str,
    out_dir: Path,
    *,
    network_name: str,
    start_period: str | None,
    months: int,
    due_day: int,
    run_id: str,
    representatives: tuple[str, ...] = (),
    variant: str = "ua",
    participation: ParticipationSettings | None = None,
) -> Iterator[RenderJob]:
    """The month's report jobs, built one by one as the renderer asks for them, longest first:
    the network report (~30 team reports' time at 1,000 teams), the validation report, the
    team reports, the feedback sheets."""
    data = load_run_data(engine, period, network_name, start_period, months, representatives, participation)
    net = network_context(data, due_day)
    yield _job("network", net, out_dir / f"network_{period}", f"{period}:network:", None, variant)
    val = validation_context(engine, period, network_name, run_id)
    yield _job("validation", val, out_dir / f"validation_{period}", f"{period}:validation:", None, variant)
    for ctx in team_contexts(data):
        tid = ctx.team.team_id
        yield _job(
            "team", ctx, out_dir / f"team_{safe_stem(tid)}_{period}", f"{period}:team:{tid}", tid, variant
        )
    for fb in feedback_contexts(engine, period, network_name):
        stem = f"feedback_{fb.sha256[:12]}_{safe_stem(Path(fb.file).stem)}"
        yield _job(
            "feedback",
            fb,
            out_dir / "feedback" / stem,
            f"{period}:feedback:{fb.sha256[:16]}",
            fb.team_id,
            variant,
        )


def _job(
    kind: str, context: ReportContext, out: Path, report_id: str, team_id: str | None, variant: str
) -> RenderJob:
    return RenderJob(
        kind=kind,
        context=context,
        out=str(out),
        report_id=report_id,
        team_id=team_id,
        variant=variant,
        content_key=content_key(context),
    )


def rendered_before(engine: Engine, period: str) -> dict[str, tuple[str, str]]:
    """``{report_id: (content_key, pdf_path)}`` of the reports recorded for ``period``."""
    return {r.report_id: (r.content_key, r.pdf_path) for r in recorded_reports(engine, period)}


def is_unchanged(job: RenderJob, before: dict[str, tuple[str, str]]) -> bool:
    """Rendered before from the same inputs, and its PDF is still on disk."""
    known = before.get(job.report_id)
    return known is not None and known[0] == job.content_key and Path(known[1]).exists()


def record(engine: Engine, jobs: list[RenderJob], rendered: list[Rendered], period: str, run_id: str) -> None:
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "report_id": job.report_id,
            "period": period,
            "kind": job.kind,
            "team_id": job.team_id,
            "pdf_path": r.pdf_path,
            "html_path": r.html_path,
            "sha256": r.sha256,
            "content_key": job.content_key,
            "pages": r.pages,
            "rendered_at": now,
            "run_id": run_id,
        }
        for job, r in zip(jobs, rendered, strict=True)
    ]
    record_reports(engine, rows)


def iter_jobs_to_render(
    engine: Engine, period: str, out_dir: Path, *, force: bool = False, **kwargs
) -> Iterator[RenderJob]:
    """The month's report jobs, less those whose inputs did not change since they were rendered."""
    before = {} if force else rendered_before(engine, period)
    for job in iter_report_jobs(engine, period, out_dir, **kwargs):
        if not is_unchanged(job, before):
            yield job


def publish(
    engine: Engine,
    period: str,
    out_dir: Path,
    *,
    network_name: str,
    start_period: str | None,
    months: int,
    due_day: int,
    run_id: str,
    representatives: tuple[str, ...] = (),
    force: bool = False,
    variant: str = "ua",
    participation: ParticipationSettings | None = None,
    workers: int | None = None,
    on_done: Callable[[Rendered], None] | None = None,
    render: Callable[..., list[Rendered]] = render_many,
) -> list[Rendered]:
    """Render the month's reports and record them. Jobs are built while the first ones render
    (``render_many`` takes them from the generator as workers free up); ``render`` may instead
    fan them out elsewhere (``flows.render_dask``), called as ``render(jobs, workers=, on_done=)``."""
    taken: list[RenderJob] = []

    def todo() -> Iterator[RenderJob]:
        for job in iter_jobs_to_render(
            engine,
            period,
            out_dir,
            force=force,
            network_name=network_name,
            start_period=start_period,
            months=months,
            due_day=due_day,
            run_id=run_id,
            representatives=representatives,
            variant=variant,
            participation=participation,
        ):
            # what ``record`` needs, not the context: at 5,000 teams the contexts held to the end
            # of the run were 0.6 GB
            taken.append(dataclasses.replace(job, context=None))
            yield job

    rendered = render(todo(), workers=workers, on_done=on_done)
    record(engine, taken, rendered, period, run_id)
    return rendered
