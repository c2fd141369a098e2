"""The stages of a monthly run as plain functions: Prefect tasks wrap them, tests and benchmarks call them.

No business rules live here — each stage only calls into transforms/, schemas/, warehouse/
and reports/ in order and passes results along.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from flows import progress
from joyflow.settings import Settings
from schemas import periods
from schemas.config import Network, load_network
from schemas.raw import RawReturn
from schemas.returns import REJECTED, FileVerdict, validate_returns
from schemas.rules import RULES_BY_PART
from transforms.aggregate import network_rules
from transforms.intake.archive import Received, archive, discover, quarantine
from transforms.intake.read import read_return
from transforms.qi import RuleSet
from warehouse import participation, queries, runs
from warehouse.audit.sync import catch_up_audit_log, write_audit_log
from warehouse.derived import rebuild_derived, statistics_choice
from warehouse.engine import make_engine
from warehouse.load import LoadOutcome, load_file, sync_config
from warehouse.migrate import upgrade
from warehouse.participation_intake import attendance_paths, import_attendance_files, import_network_files

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
    rules: RuleSet = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Built now so a rule set the network cannot have stops the run before anything is loaded.
        stats = self.network.config.statistics
        self.rules = network_rules(stats.rule_table, stats.source)

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
        run_id = run_id or runs.new_run_id(period)
        return cls(network_dir, period, run_id, settings, today or dt.date.today(), network, make_engine(url))

    @property
    def audit_dir(self) -> Path:
        return self.settings.home / "audit"


def prepare_warehouse(ctx: RunContext) -> None:
    """Bring the schema to the latest migration and mirror the registry and catalogue."""
    upgrade(ctx.engine)
    sync_config(ctx.engine, ctx.network)
    catch_up_audit_log(ctx.engine, ctx.audit_dir)


def start_run(ctx: RunContext, kind: str = "monthly") -> None:
    runs.start_run(ctx.engine, ctx.run_id, ctx.period, kind)


def finish_run(
    ctx: RunContext, outcomes: list[LoadOutcome], status: str = "completed", message: str | None = None
) -> None:
    runs.finish_run(
        ctx.engine, ctx.run_id, runs.OutcomeCounts.of(o.status for o in outcomes), status, message
    )


def inbox_files(ctx: RunContext, period: str | None = None) -> list[Path]:
    return discover(ctx.network.inbox(period or ctx.period))


def inbox_periods(ctx: RunContext, until: str | None = None) -> list[str]:
    """Periods with an inbox folder, oldest first, up to ``until``."""
    return periods.inbox_periods(ctx.network_dir / "inbox", until)


def receive(ctx: RunContext, path: Path) -> tuple[Received, RawReturn]:
    """Archive first (nothing received is ever lost), then read."""
    received, data = archive(path, ctx.settings.archive_dir, max_bytes=ctx.settings.max_file_bytes)
    return received, read_return(path, None if path.is_dir() else data, received.sha256)


def validate(ctx: RunContext, raws: list[RawReturn], period: str | None = None) -> list[FileVerdict]:
    team_ids = list(ctx.network.team_ids)
    # History as it was before this batch: a re-run after a crash must not validate a file against
    # values its own batch already loaded (a v2 against the v1 beside it changes its warnings).
    batch = [r.sha256 for r in raws if r.sha256]
    history = queries.current_values(ctx.engine, team_ids, exclude_sha256=batch)
    people = participation.people(ctx.engine, exclude_sha256=batch)
    return validate_returns(
        raws, ctx.network, period or ctx.period, today=ctx.today, history=history, people=people
    )


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


def receive_batch(ctx: RunContext, paths: list[Path]) -> list[tuple[Received, RawReturn]]:
    out = []
    for path in paths:
        out.append(receive(ctx, path))
        progress.advance("receive")
    return out


def load_batch(
    ctx: RunContext, pairs: list[tuple[Received, FileVerdict]], period: str | None = None
) -> list[LoadOutcome]:
    """Load files one after another, in order: that order fixes versions and the audit chain."""
    out = []
    for received, verdict in pairs:  # one transaction per file
        out.append(load(ctx, received, verdict, period))
        progress.advance("load")
    return out


def derive(ctx: RunContext) -> dict[str, int]:
    """Rebuild series statistics and the network's compliance summary from the current values."""
    stats = ctx.network.config.statistics
    choice = statistics_choice(ctx.engine, ctx.rules, stats.rebase, ctx.network.targets)
    return rebuild_derived(ctx.engine, ctx.period, ctx.network.config.start_period, choice)


# --- participation (issue 15) ---


def import_participation(ctx: RunContext, periods_: list[str]) -> dict:
    """The network's participation files, then each month's attendance files: archived, checked,
    imported (a file already in is skipped by its SHA-256) and logged. Returns the counts of new
    files and, for the run's summary, each new file (``runs.participation_outcome``)."""
    outcomes = import_network_files(
        ctx.engine,
        ctx.network_dir,
        ctx.settings.archive_dir,
        ctx.audit_dir,
        ctx.run_id,
        list(ctx.network.team_ids),
        ctx.period,
    )
    paths = [p for month in periods_ for p in attendance_paths(ctx.network_dir, month)]
    attended = import_attendance_files(
        ctx.engine, paths, ctx.settings.archive_dir, ctx.audit_dir, ctx.run_id, report=False
    )
    return {
        "participation_files": sum(o.status != "duplicate" for o in outcomes),
        "attendance_files": sum(a.outcome.status != "duplicate" for a in attended),
        "files": [runs.participation_outcome(o) for o in outcomes if o.status != "duplicate"]
        + [
            runs.participation_outcome(a.outcome, a.reason)
            for a in attended
            if a.outcome.status != "duplicate"
        ],
    }


def run_summary(
    ctx: RunContext, outcomes: list[LoadOutcome], rendered: list, stats: dict, taken: dict | None = None
) -> dict:
    """What the data manager (and the Prefect artifact) sees at the end of a run; ``taken``: what
    the participation stage imported (``import_participation``)."""
    counts = runs.OutcomeCounts.of(o.status for o in outcomes)
    return {
        "period": ctx.period,
        "run_id": ctx.run_id,
        "counts": {
            "files": counts.files,
            "accepted": counts.accepted,  # every loaded file; ``accepted_with_warnings`` are some of them
            "accepted_with_warnings": counts.with_warnings,
            "rejected": counts.rejected,
            "duplicates": counts.duplicates,
            "reports": len(rendered),
            **stats,
        },
        "files": [runs.file_outcome(o) for o in outcomes],
        "issues_by_check": runs.issues_by_check(outcomes),
        "participation_files": (taken or {}).get("files", []),
        "reports": [r.pdf_path for r in rendered],
        "reports_dir": str(ctx.settings.reports_dir / ctx.period),
    }
