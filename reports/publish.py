"""Produce the month's reports: build contexts once, skip reports whose inputs did not change,
render the rest in parallel, and record each in the warehouse."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from sqlalchemy import Engine, select

from reports.context import (
    content_key,
    feedback_contexts,
    load_run_data,
    network_context,
    team_contexts,
    validation_context,
)
from reports.render import Rendered, render_many
from warehouse.models import Report

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_stem(text: str) -> str:
    return _UNSAFE.sub("_", text)[:80]


def report_jobs(
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
) -> list[dict]:
    data = load_run_data(engine, period, network_name, start_period, months, representatives)
    jobs = []
    for ctx in team_contexts(data):
        tid = ctx["team"]["team_id"]
        jobs.append(
            {
                "kind": "team",
                "context": ctx,
                "out": str(out_dir / f"team_{safe_stem(tid)}_{period}"),
                "report_id": f"{period}:team:{tid}",
                "team_id": tid,
            }
        )
    net = network_context(data) | {"due_day": due_day}
    jobs.append(
        {
            "kind": "network",
            "context": net,
            "out": str(out_dir / f"network_{period}"),
            "report_id": f"{period}:network:",
            "team_id": None,
        }
    )
    val = validation_context(engine, period, network_name, run_id)
    jobs.append(
        {
            "kind": "validation",
            "context": val,
            "out": str(out_dir / f"validation_{period}"),
            "report_id": f"{period}:validation:",
            "team_id": None,
        }
    )
    for fb in feedback_contexts(engine, period, network_name):
        stem = f"feedback_{fb['sha256'][:12]}_{safe_stem(Path(fb['file']).stem)}"
        jobs.append(
            {
                "kind": "feedback",
                "context": fb,
                "out": str(out_dir / "feedback" / stem),
                "report_id": f"{period}:feedback:{fb['sha256'][:16]}",
                "team_id": fb["team_id"],
            }
        )
    for job in jobs:
        job["variant"] = variant
        # the run id only names the run on the validation report; it must not force a re-render
        job["content_key"] = content_key(
            {k: v for k, v in job["context"].items() if k not in ("run_id", "generated_on")}
        )
    return jobs


def unchanged(engine: Engine, jobs: list[dict]) -> set[str]:
    """Reports already rendered from the same inputs, whose PDF is still on disk."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Report.report_id, Report.content_key, Report.pdf_path).where(
                Report.report_id.in_([j["report_id"] for j in jobs])
            )
        ).all()
    known = {r.report_id: (r.content_key, r.pdf_path) for r in rows}
    return {
        j["report_id"]
        for j in jobs
        if j["report_id"] in known
        and known[j["report_id"]][0] == j["content_key"]
        and Path(known[j["report_id"]][1]).exists()
    }


def record(engine: Engine, jobs: list[dict], rendered: list[Rendered], period: str, run_id: str) -> None:
    from warehouse.load import _upsert

    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "report_id": job["report_id"],
            "period": period,
            "kind": job["kind"],
            "team_id": job["team_id"],
            "pdf_path": r.pdf_path,
            "html_path": r.html_path,
            "sha256": r.sha256,
            "content_key": job["content_key"],
            "pages": r.pages,
            "rendered_at": now,
            "run_id": run_id,
        }
        for job, r in zip(jobs, rendered, strict=True)
    ]
    with engine.begin() as conn:
        _upsert(conn, Report, rows, ["report_id"])


def jobs_to_render(
    engine: Engine, period: str, out_dir: Path, *, force: bool = False, **kwargs
) -> list[dict]:
    """The month's report jobs, less those whose inputs did not change since they were rendered."""
    jobs = report_jobs(engine, period, out_dir, **kwargs)
    skip = set() if force else unchanged(engine, jobs)
    return [j for j in jobs if j["report_id"] not in skip]


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
    workers: int | None = None,
    on_done=None,
) -> list[Rendered]:
    todo = jobs_to_render(
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
    )
    rendered = render_many(todo, workers=workers, on_done=on_done)
    record(engine, todo, rendered, period, run_id)
    return rendered
