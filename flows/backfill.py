"""The backfill stage: a network's earlier months, month by month, through the bulk loader.

Per month, exactly what the monthly path does per file — archive and read every file, validate
the month as one batch against the history of the months before it, load, append the audit
log, quarantine what was rejected — but the files are read in worker processes (the next month
while this one loads: ``transforms.intake.receive``) and each month is loaded in one transaction
(``warehouse.batch``), so a crash leaves whole months and the audit log is appended (and
fsynced) once a month instead of once a file. The monthly run itself keeps one transaction per file.
"""

from __future__ import annotations

from contextlib import closing

from flows import progress, steps
from schemas.raw import RawReturn
from schemas.returns import REJECTED, validate_returns
from transforms.intake.archive import Received, quarantine
from transforms.intake.receive import receive_months
from warehouse import participation, queries
from warehouse.audit.sync import write_audit_log
from warehouse.batch import load_batch
from warehouse.load import LoadOutcome


def load_history(ctx: steps.RunContext, periods: list[str]) -> list[LoadOutcome]:
    """Receive, validate and load each of ``periods`` (oldest first), a month per transaction."""
    months = [steps.inbox_files(ctx, p) for p in periods]
    settings = ctx.settings
    outcomes: list[LoadOutcome] = []
    values = queries.ValueLog.read(ctx.engine)
    # closing(): after an error the reading workers stop now, not when the generator is collected.
    with closing(receive_months(months, settings.archive_dir, settings.max_file_bytes)) as received_months:
        for period, received in zip(periods, received_months, strict=True):
            values = values.refresh(ctx.engine)  # only the rows loaded since the month before
            outcomes += _load_month(ctx, period, received, values)
    return outcomes


def _load_month(
    ctx: steps.RunContext, period: str, received: list[tuple[Received, RawReturn]], values: queries.ValueLog
) -> list[LoadOutcome]:
    """One month, as steps.validate and steps.load do it file by file: validated against the
    history before its files, loaded in one transaction, the audit log appended once, what was
    rejected quarantined."""
    n = len(received)
    progress.start("receive", n, f"Receiving {period}")
    progress.advance("receive", n)
    raws = [raw for _, raw in received]
    batch = [r.sha256 for r in raws if r.sha256]
    history = values.current(list(ctx.network.team_ids), batch)
    people = participation.people(ctx.engine, exclude_sha256=batch)
    verdicts = validate_returns(raws, ctx.network, period, today=ctx.today, history=history, people=people)
    progress.start("load", n, f"Loading {period}")
    loaded = load_batch(
        ctx.engine,
        [(rec, v) for (rec, _), v in zip(received, verdicts, strict=True)],
        ctx.run_id,
        period_folder=period,
        due_day=ctx.network.config.due_day,
        checks_run=steps.CHECKS_PER_FILE,
    )
    write_audit_log(ctx.engine, ctx.audit_dir, [e for o in loaded for e in o.audit_entries])
    for (rec, _), o in zip(received, loaded, strict=True):
        if o.status == REJECTED:
            quarantine(rec, ctx.settings.quarantine_dir / period)
    progress.advance("load", n)
    return loaded
