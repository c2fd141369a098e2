"""The monthly run's one stage sequence: lock → start → participation → intake → derive → render → finish.

The Prefect flow (``flows.monthly``) runs it with its tasks as the stages; the plain path
(``flows.plain``: ``joyflow run --no-prefect``, the bench, the tests) with the plain stage
functions of ``flows.steps``. Failure recording, progress and the run lock are therefore the
same on both paths.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flows import progress, steps
from schemas.raw import RawReturn
from schemas.returns import FileVerdict
from transforms.intake.archive import Received
from warehouse import lock
from warehouse.load import LoadOutcome

# Files are received and loaded in batches: a Prefect task per batch, not per file (at 1,000 files
# a task each cost ~20 s of overhead against a 6 s run, a task per 50 files still ~1 s). A batch
# retried after an I/O error is safe: files it already received or loaded are recognised by their
# SHA-256 and skipped.
FILES_PER_BATCH = 250

Pair = tuple[Received, FileVerdict]


@dataclass(frozen=True)
class Stages:
    """How each stage is run: plain calls (``flows.plain.PLAIN_STAGES``) or Prefect tasks."""

    prepare: Callable[[steps.RunContext], None]
    receive: Callable[[steps.RunContext, list[Path]], list[tuple[Received, RawReturn]]]
    validate: Callable[[steps.RunContext, list[RawReturn], str], list[FileVerdict]]
    load: Callable[[steps.RunContext, list[Pair], str], list[LoadOutcome]]
    derive: Callable[[steps.RunContext], dict[str, int]]
    render: Callable[[steps.RunContext, list[LoadOutcome], list[FileVerdict]], list]
    # A backfill's earlier months, oldest first; None: each through ``intake`` like the run's month.
    history: Callable[[steps.RunContext, list[str]], list[LoadOutcome]] | None = None
    # Participation (issue 15): the network's people, calendar, ... and the months' attendance.
    participation: Callable[[steps.RunContext, list[str]], dict] | None = None


def batches(items: list, size: int = FILES_PER_BATCH) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def intake(ctx: steps.RunContext, stages: Stages, period: str) -> tuple[list[LoadOutcome], list[FileVerdict]]:
    """Receive, validate and load one inbox folder."""
    files = steps.inbox_files(ctx, period)
    progress.start("receive", len(files), f"Receiving {period}")
    # One batch after another: reading a workbook is Python-bound, and threads reading at once
    # only contend for the GIL (19 batches in threads took 4.5 s where one after another take 1.8 s).
    received = [r for b in batches(files) for r in stages.receive(ctx, b)]
    verdicts = stages.validate(ctx, [raw for _, raw in received], period)
    progress.start("load", len(files), f"Loading {period}")
    # Loads run one after another in file order: that order fixes versions and the audit chain.
    pairs = [(rec, v) for (rec, _), v in zip(received, verdicts, strict=True)]
    outcomes = [o for b in batches(pairs) for o in stages.load(ctx, b, period)]
    return outcomes, verdicts


def run_month(
    ctx: steps.RunContext,
    stages: Stages,
    *,
    backfill: bool = False,
    render: bool = True,
    wait_for_lock: float = 0.0,
) -> dict:
    """Receive, validate and load the period's returns (with ``backfill``, every earlier inbox first),
    rebuild the statistics and render the reports, under the period's run lock. Every run is logged
    in ``pipeline_run``; a failed one with its error. Returns the run summary."""
    stages.prepare(ctx)
    lock.acquire(ctx.engine, ctx.period, ctx.run_id, wait_seconds=wait_for_lock)
    try:
        steps.start_run(ctx, "backfill" if backfill else "monthly")
        periods = steps.inbox_periods(ctx, ctx.period) if backfill else [ctx.period]
        earlier = [p for p in periods if p != ctx.period]
        taken = None
        if stages.participation is not None:
            # Before the returns: a return's people changes are checked against the team's people.
            taken = stages.participation(ctx, periods if ctx.period in periods else [*periods, ctx.period])
        if stages.history is not None and earlier:
            stages.history(ctx, earlier)
        else:
            for p in earlier:
                intake(ctx, stages, p)
        outcomes: list[LoadOutcome] = []
        verdicts: list[FileVerdict] = []
        if ctx.period in periods:  # a backfill may run up to a month whose inbox is not there yet
            outcomes, verdicts = intake(ctx, stages, ctx.period)
        stats = stages.derive(ctx)
        rendered = stages.render(ctx, outcomes, verdicts) if render else []
        steps.finish_run(ctx, outcomes)
    except Exception as exc:
        steps.finish_run(ctx, [], status="failed", message=f"{exc.__class__.__name__}: {str(exc)[:500]}")
        raise
    finally:
        lock.release(ctx.engine, ctx.period, ctx.run_id)
    return steps.run_summary(ctx, outcomes, rendered, stats, taken)
