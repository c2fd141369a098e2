"""The stages of a monthly run as plain functions: Prefect tasks wrap them, tests and benchmarks call them.

No business rules live here — each stage only calls into transforms/, schemas/, warehouse/
and reports/ in order and passes results along.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy import Engine, insert, update

from joyflow.settings import Settings
from schemas.config import Network, load_network
from schemas.raw import RawReturn
from schemas.returns import DUPLICATE, REJECTED, FileVerdict, validate_returns
from schemas.rules import RULES_BY_PART
from transforms.aggregate import compliance_grid, network_summary, period_range, series_statistics
from transforms.intake.archive import Received, archive, discover, quarantine
from transforms.intake.read import read_return
from warehouse import queries
from warehouse.audit.sync import catch_up_audit_log, write_audit_log
from warehouse.derived import replace_derived
from warehouse.engine import make_engine
from warehouse.load import LoadOutcome, load_file, sync_config
from warehouse.migrate import upgrade
from warehouse.models import PipelineRun

CHECKS_PER_FILE = sum(len(r) for r in RULES_BY_PART.values())


@dataclass
class RunContext:
    """What every stage of one run needs; cheap to rebuild in a worker from its plain fields."""

    network_dir: Path
    period: str
    run_id: str
    settings: Settings
    today: dt.date
    network: Network = field(repr=False)
    engine: Engine = field(repr=False)

    @classmethod
    def create(
        cls,
        network_dir: Path,
        period: str,
        run_id: str | None = None,
        warehouse_url: str | None = None,
        today: dt.date | None = None,
        settings: Settings | None = None,
    ) -> RunContext:
        settings = settings or Settings.from_env()
        url = warehouse_url or settings.warehouse_url
        network = load_network(network_dir)
        run_id = run_id or new_run_id(period)
        return cls(network_dir, period, run_id, settings, today or dt.date.today(), network, make_engine(url))

    @property
    def audit_dir(self) -> Path:
        return self.settings.home / "audit"


def new_run_id(period: str) -> str:
    return f"{period}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def prepare_warehouse(ctx: RunContext) -> None:
    """Bring the schema to the latest migration and mirror the registry and catalogue."""
    upgrade(ctx.engine)
    sync_config(ctx.engine, ctx.network)
    catch_up_audit_log(ctx.engine, ctx.audit_dir)


def start_run(ctx: RunContext, kind: str = "monthly") -> None:
    with ctx.engine.begin() as conn:
        conn.execute(
            insert(PipelineRun).values(
                run_id=ctx.run_id,
                period=ctx.period,
                kind=kind,
                started_at=dt.datetime.now(dt.UTC),
                status="running",
            )
        )


def finish_run(
    ctx: RunContext, outcomes: list[LoadOutcome], status: str = "completed", message: str | None = None
) -> None:
    counts = {"accepted": 0, "rejected": 0, "duplicates": 0}
    for o in outcomes:
        if o.status == DUPLICATE:
            counts["duplicates"] += 1
        elif o.status == REJECTED:
            counts["rejected"] += 1
        else:
            counts["accepted"] += 1
    with ctx.engine.begin() as conn:
        conn.execute(
            update(PipelineRun)
            .where(PipelineRun.run_id == ctx.run_id)
            .values(
                finished_at=dt.datetime.now(dt.UTC),
                status=status,
                files_seen=len(outcomes),
                message=message,
                **counts,
            )
        )


def inbox_files(ctx: RunContext, period: str | None = None) -> list[Path]:
    return discover(ctx.network.inbox(period or ctx.period))


def inbox_periods(ctx: RunContext, until: str | None = None) -> list[str]:
    """Periods with an inbox folder, oldest first, up to ``until``."""
    inbox = ctx.network_dir / "inbox"
    found = (
        sorted(p.name for p in inbox.iterdir() if p.is_dir() and len(p.name) == 7) if inbox.is_dir() else []
    )
    return [p for p in found if until is None or p <= until]


def receive(ctx: RunContext, path: Path) -> tuple[Received, RawReturn]:
    """Archive first (nothing received is ever lost), then read."""
    received, data = archive(path, ctx.settings.archive_dir, max_bytes=ctx.settings.max_file_bytes)
    return received, read_return(path, None if path.is_dir() else data, received.sha256)


def validate(ctx: RunContext, raws: list[RawReturn], period: str | None = None) -> list[FileVerdict]:
    team_ids = list(ctx.network.team_ids)
    # History as it was before this batch: a re-run after a crash must not validate a file against
    # values its own batch already loaded (a v2 against the v1 beside it changes its warnings).
    history = queries.current_values(
        ctx.engine, team_ids, exclude_sha256=[r.sha256 for r in raws if r.sha256]
    )
    return validate_returns(raws, ctx.network, period or ctx.period, today=ctx.today, history=history)


def load(ctx: RunContext, received: Received, verdict: FileVerdict, period: str | None = None) -> LoadOutcome:
    outcome = load_file(
        ctx.engine,
        received,
        verdict,
        ctx.run_id,
        period_folder=period or ctx.period,
        due_day=ctx.network.config.due_day,
        checks_run=CHECKS_PER_FILE,
    )
    write_audit_log(ctx.engine, ctx.audit_dir, outcome.audit_entries)
    if outcome.status == REJECTED:
        quarantine(received, ctx.settings.quarantine_dir / (period or ctx.period))
    return outcome


def intake_period(ctx: RunContext, period: str | None = None) -> tuple[list[LoadOutcome], list[FileVerdict]]:
    """Receive, validate and load one inbox folder (the plain-function path; the flow fans this out)."""
    period = period or ctx.period
    received = [receive(ctx, p) for p in inbox_files(ctx, period)]
    verdicts = validate(ctx, [raw for _, raw in received], period)
    outcomes = [load(ctx, rec, v, period) for (rec, _), v in zip(received, verdicts, strict=True)]
    return outcomes, verdicts


def derive(ctx: RunContext) -> dict[str, int]:
    """Rebuild series statistics and the network's compliance summary from the current values."""
    values = queries.current_values(ctx.engine)
    catalogue = queries.catalogue(ctx.engine).with_columns(pl.col("target").cast(pl.Float64))
    points, summaries = series_statistics(values, catalogue)
    teams = queries.teams(ctx.engine)
    subs = queries.current_submissions(ctx.engine)
    start = ctx.network.config.start_period or (
        teams.get_column("first_period").min() if teams.height else ctx.period
    )
    # Up to the latest month the warehouse knows, so re-running an earlier month never shrinks the summary.
    latest = subs.get_column("period").max() if subs.height else None
    periods = period_range(start, max(ctx.period, latest or ctx.period))
    grid = compliance_grid(teams, subs, queries.received_files(ctx.engine), periods)
    summary = network_summary(grid, subs.filter(pl.col("period").is_in(periods)))
    replace_derived(ctx.engine, points, summaries, summary)
    return {"series_points": points.height, "series": summaries.height, "periods": summary.height}


def run_summary(ctx: RunContext, outcomes: list[LoadOutcome], rendered: list, stats: dict) -> dict:
    """What the data manager (and the Prefect artifact) sees at the end of a run."""
    files = []
    by_check: dict[tuple[str, str], int] = {}
    for o in outcomes:
        issues = [e for e in o.audit_entries if e["check"] != "file_outcome"]
        for e in issues:
            by_check[(e["check"], e["severity"])] = by_check.get((e["check"], e["severity"]), 0) + 1
        team = next((e["team_id"] for e in o.audit_entries if e.get("team_id")), None)
        files.append(
            {
                "file": o.file,
                "status": o.status,
                "team_id": team,
                "sha256": o.sha256,
                "errors": sum(1 for e in issues if e["severity"] in ("fatal", "error")),
                "warnings": sum(1 for e in issues if e["severity"] == "warning"),
                "submission_id": o.submission_id,
            }
        )
    counts = {
        "files": len(outcomes),
        "accepted": sum(1 for f in files if f["status"] == "accepted"),
        "accepted_with_warnings": sum(1 for f in files if f["status"] == "accepted_with_warnings"),
        "rejected": sum(1 for f in files if f["status"] == REJECTED),
        "duplicates": sum(1 for f in files if f["status"] == DUPLICATE),
        "reports": len(rendered),
        **stats,
    }
    return {
        "period": ctx.period,
        "run_id": ctx.run_id,
        "counts": counts,
        "files": files,
        "issues_by_check": [
            {"check": c, "severity": s, "count": n}
            for (c, s), n in sorted(by_check.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "reports": [r.pdf_path for r in rendered],
        "reports_dir": str(ctx.settings.reports_dir / ctx.period),
    }
