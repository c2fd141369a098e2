"""The ``joyflow`` command line: one entry point for data managers, teams, analysts and auditors.

Commands import what they need lazily, so ``joyflow validate`` answers in about a second
and never starts Prefect. No traceback ever reaches the user: known problems print their
message, unexpected ones a short note and the path of the log holding the details.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import traceback
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from joyflow.errors import JoyflowError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="joyflow — the monthly data pipeline of a Joy in Work learning network.",
)
audit_app = typer.Typer(no_args_is_help=True, help="Check and export the tamper-evident validation log.")
db_app = typer.Typer(no_args_is_help=True, help="Manage the warehouse schema and roles.")
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")
rebase_app = typer.Typer(no_args_is_help=True, help="Record, list and withdraw re-baselining decisions.")
app.add_typer(rebase_app, name="rebase")

console = Console(stderr=True)
out = Console(soft_wrap=True)

DEFAULT_NETWORK = Path("var/demo")


def _settings():
    from joyflow.settings import Settings

    return Settings.from_env()


def _default_period() -> str:
    from schemas.periods import previous_month

    return previous_month()


def _check_period(period: str) -> str:
    from schemas.periods import check_period

    return check_period(period)


# --------------------------------------------------------------------------- demo


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the demo network")] = DEFAULT_NETWORK,
    teams: Annotated[int, typer.Option(min=1, max=20000)] = 12,
    months: Annotated[int, typer.Option(min=1, max=120)] = 18,
    end: Annotated[str | None, typer.Option(help="Last period, YYYY-MM (default: last month)")] = None,
    seed: int = 20251,
) -> None:
    """Generate a demo network: registry, catalogue and 18 months of returns (a few deliberately broken)."""
    from transforms.demo import generate

    info = generate(out_dir, teams=teams, months=months, end=end, seed=seed)
    out.print(
        f"Demo network: {info['teams']} teams, {len(info['periods'])} months "
        f"({info['periods'][0]} to {info['periods'][-1]}), {info['files']} files in {out_dir}/inbox"
    )


# --------------------------------------------------------------------------- run


@app.command()
def run(
    period: Annotated[str | None, typer.Option(help="Month to run, YYYY-MM (default: last month)")] = None,
    network: Annotated[Path, typer.Option(help="Network folder (registry.csv, inbox/)")] = DEFAULT_NETWORK,
    backfill: Annotated[bool, typer.Option(help="Load every earlier inbox month first")] = False,
    render: Annotated[bool, typer.Option(help="Render the reports")] = True,
    prefect: Annotated[bool, typer.Option(help="Run as a Prefect flow (off: plain function calls)")] = True,
    wait: Annotated[float, typer.Option(help="Seconds to wait if another run holds the period")] = 0.0,
) -> None:
    """Run the month: receive, validate, load, analyse and report."""
    from flows import progress
    from flows.ui import StageProgress, print_summary

    period = _check_period(period or _latest_inbox(network) or _default_period())
    if not (network / "inbox" / period).is_dir() and not backfill:
        raise JoyflowError(
            f"No inbox for {period}: expected the month's files in {network / 'inbox' / period}/"
        )
    with StageProgress(console) as bars:
        progress.set_reporter(bars.start, bars.advance)
        try:
            if prefect:
                from flows.local_engine import in_process_run
                from flows.monthly import monthly_run

                with in_process_run():
                    summary = monthly_run(
                        period=period,
                        network_dir=str(network),
                        backfill=backfill,
                        render=render,
                        wait_for_lock=wait,
                    )
            else:
                from flows.plain import monthly_run_plain

                summary = monthly_run_plain(
                    period=period, network_dir=network, backfill=backfill, render=render, wait_for_lock=wait
                )
        finally:
            progress.set_reporter(None, None)
    print_summary(out, summary)
    raise typer.Exit(0)


def _latest_inbox(network: Path) -> str | None:
    from schemas.periods import inbox_periods

    periods = inbox_periods(network / "inbox")
    return periods[-1] if periods else None


# --------------------------------------------------------------------------- validate


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Return files (xlsx, zip) or CSV folders")],
    registry: Annotated[
        Path | None, typer.Option(help="Registry CSV (teams); without it team IDs are not checked")
    ] = None,
    catalogue: Annotated[
        Path | None, typer.Option(help="Measure catalogue CSV (default: the built-in one)")
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="The month being collected; checks each return is for it")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array of issues")] = False,
) -> None:
    """Check returns before sending them. Exit 0: all accepted; 1: any rejected; 2: usage or unreadable path."""
    import polars as pl

    from schemas.config import Network, load_catalogue, load_registry
    from schemas.returns import validate_returns
    from transforms.intake.read import read_return

    missing = [p for p in paths if not p.exists()]
    if missing:
        raise JoyflowError("Not found: " + ", ".join(str(p) for p in missing))
    if period:
        _check_period(period)
    reg = load_registry(registry) if registry else None
    net = Network(
        registry=reg
        if reg is not None
        else pl.DataFrame(schema={"team_id": pl.String, "first_period": pl.String}),
        catalogue=load_catalogue(catalogue),
        registry_known=reg is not None,
    )
    raws = []
    for p in paths:
        try:
            raws.append(read_return(p))
        except PermissionError:
            raise JoyflowError(f"Cannot read {p}: permission denied.") from None
    verdicts = validate_returns(raws, net, period)
    issues = [i for v in verdicts for i in v.issues]
    if as_json:
        keys = ("file", "part", "row", "column", "check", "severity", "value", "message")
        out.print_json(json.dumps([{k: getattr(i, k) for k in keys} for i in issues], ensure_ascii=False))
    else:
        from flows.ui import print_verdicts

        print_verdicts(out, verdicts)
    raise typer.Exit(1 if any(not v.accepted for v in verdicts) else 0)


# --------------------------------------------------------------------------- template


@app.command()
def template(
    team: Annotated[str, typer.Option(help="Team ID")],
    period: Annotated[str, typer.Option(help="Month, YYYY-MM")],
    catalogue: Annotated[Path | None, typer.Option(help="Measure catalogue CSV")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Workbook to write")] = None,
) -> None:
    """Write a blank monthly-return workbook for a team, with drop-downs and the measures pre-listed."""
    from schemas.config import load_catalogue
    from transforms.workbook import write_template

    _check_period(period)
    target = out_file or Path(f"{team.upper()}_{period}.xlsx")
    write_template(target, team.upper(), period, load_catalogue(catalogue))
    out.print(f"Wrote {target}")


# --------------------------------------------------------------------------- chart


class ChartType(StrEnum):
    run = "run"
    i = "i"
    mr = "mr"
    p = "p"
    u = "u"
    c = "c"
    pp = "pp"
    up = "up"


@app.command()
def chart(
    csv_file: Annotated[Path, typer.Argument(help="CSV with a y column, optional n (denominators) and x")],
    chart_type: Annotated[ChartType, typer.Option("--chart", help="Chart type")] = ChartType.run,
    freeze: Annotated[
        int | None, typer.Option(help="Baseline: compute limits from the first N points")
    ] = None,
    part: Annotated[
        list[int] | None, typer.Option(help="Start a new phase after point N (repeatable)")
    ] = None,
    exclude: Annotated[
        list[int] | None, typer.Option(help="Leave point I (1-based) out of the limits (repeatable)")
    ] = None,
    screen: Annotated[bool, typer.Option(help="Screen moving ranges (I charts)")] = False,
    target: Annotated[float | None, typer.Option(help="Target value")] = None,
    direction: Annotated[str | None, typer.Option(help="Improvement direction: up or down")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the analysis as JSON")] = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Draw the chart: .svg, .pdf or .png")] = None,
    rules: Annotated[
        str | None,
        typer.Option(help="Rule set: ihi, anhoej, mdc or healthcare-data-guide (default: today's)"),
    ] = None,
    baseline: Annotated[
        int | None, typer.Option(help="Points of each phase that fix its limits (MDC: 12-20)")
    ] = None,
    rebase: Annotated[
        list[str] | None, typer.Option(help="Start a new phase at this x, e.g. 2026-04 (repeatable)")
    ] = None,
) -> None:
    """Analyse one series as the reports do: centre line, limits, run and sigma signals."""
    from flows.chart_cli import chart_command

    result = chart_command(
        csv_file,
        chart_type.value,
        freeze,
        part or [],
        exclude or [],
        screen,
        target,
        direction,
        out_file,
        rules=rules,
        baseline=baseline,
        rebase=rebase or [],
    )
    if as_json:
        out.print_json(json.dumps(result))
    elif out_file is None:
        from flows.ui import print_chart

        print_chart(out, result)
    if out_file is not None and not as_json:
        out.print(f"Wrote {out_file}")


# --------------------------------------------------------------------------- audit


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the hash chain of the JSONL log and of the warehouse's copy; exit 1 on any break."""
    from flows.audit_cli import verify

    problems, n = verify(_settings())
    if problems:
        for p in problems[:50]:
            out.print(f"[red]✗[/red] {p}")
        out.print(f"[red]Audit log check FAILED[/red]: {len(problems)} problem(s) in {n} entries.")
        raise typer.Exit(1)
    out.print(
        f"[green]✓[/green] Audit log intact: {n} entries, chain and hashes verified (files and warehouse)."
    )


class ExportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


@audit_app.command("export")
def audit_export(
    period: Annotated[str | None, typer.Option(help="Only entries for this period")] = None,
    fmt: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.csv,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: standard output)")
    ] = None,
) -> None:
    """Export the validation log for auditors (CSV is safe to open in a spreadsheet)."""
    from flows.audit_cli import export

    text = export(_settings(), period, fmt.value)
    if out_file:
        out_file.write_text(text, encoding="utf-8")
        out.print(f"Wrote {out_file}")
    else:
        sys.stdout.write(text)


# --------------------------------------------------------------------------- rebase (issue 16)


@rebase_app.command("record")
def rebase_record(
    team: Annotated[str, typer.Option(help="Team ID, e.g. T01")],
    measure: Annotated[str, typer.Option(help="Measure ID, e.g. HUDDLE")],
    from_period: Annotated[str, typer.Option("--from", help="First month of the new phase, YYYY-MM")],
    reason: Annotated[str, typer.Option(help="Why the limits are recalculated")],
    by: Annotated[str | None, typer.Option(help="Who decided (default: your user name)")] = None,
) -> None:
    """Recalculate a series' limits from a month on; the next run draws the new phase."""
    from flows.rebase_cli import record

    record_id, new = record(_settings(), team, measure, _check_period(from_period), reason, by)
    what = "Recorded rebase" if new else "Already recorded as rebase"
    out.print(f"{what} {record_id}: {team.upper()} {measure.upper()} from {from_period}.")


@rebase_app.command("list")
def rebase_list(team: Annotated[str | None, typer.Option(help="Only this team's records")] = None) -> None:
    """Every re-baselining record and withdrawal, oldest first."""
    from flows.rebase_cli import describe, listing

    entries = listing(_settings(), team)
    if not entries:
        out.print("No rebases recorded.")
    for e in entries:
        out.print(describe(e), markup=False, highlight=False)


@rebase_app.command("withdraw")
def rebase_withdraw(
    record_id: Annotated[int, typer.Argument(help="The record to withdraw (see joyflow rebase list)")],
    reason: Annotated[str, typer.Option(help="Why the recalculation is withdrawn")],
    by: Annotated[str | None, typer.Option(help="Who decided (default: your user name)")] = None,
) -> None:
    """Undo a recorded rebase by a later record (nothing is deleted)."""
    from flows.rebase_cli import withdraw

    new_id = withdraw(_settings(), record_id, reason, by)
    out.print(f"Rebase {record_id} withdrawn (record {new_id}).")


# --------------------------------------------------------------------------- db


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the warehouse schema to the latest revision (Alembic)."""
    from warehouse.engine import make_engine
    from warehouse.migrate import current_revision, upgrade

    engine = make_engine()
    upgrade(engine)
    out.print(
        f"Warehouse at revision {current_revision(engine)} ({engine.url.render_as_string(hide_password=True)})"
    )


@db_app.command("grant-readonly")
def db_grant_readonly(
    role: Annotated[str, typer.Argument(help="Existing PostgreSQL role for auditors")],
) -> None:
    """Let a PostgreSQL role read (only read) every warehouse table and view."""
    from warehouse.engine import make_engine
    from warehouse.roles import grant_readonly

    grant_readonly(make_engine(), role)
    out.print(f"Role {role} can now read the warehouse, and nothing more.")


# --------------------------------------------------------------------------- status / unlock / reports


@app.command()
def status(
    period: Annotated[
        str | None, typer.Option(help="Last month to show (default: latest in the warehouse)")
    ] = None,
    months: Annotated[int, typer.Option(help="How many months to show")] = 6,
) -> None:
    """The submission grid in the terminal: teams × months, on time / late / rejected / missing."""
    from flows.ui import print_status
    from warehouse.engine import make_engine

    print_status(out, make_engine(), period, months)


@app.command()
def unlock(period: Annotated[str, typer.Option(help="Period whose run lock to clear")]) -> None:
    """Clear a run lock left by a run that died on another machine."""
    from warehouse.engine import make_engine
    from warehouse.lock import force_release

    n = force_release(make_engine(), _check_period(period))
    out.print(f"Cleared {n} lock(s) for {period}.")


@app.command()
def reports(
    period: Annotated[str, typer.Option(help="Month, YYYY-MM")],
    network: Annotated[Path, typer.Option(help="Network folder")] = DEFAULT_NETWORK,
    force: Annotated[bool, typer.Option(help="Render even if the inputs did not change")] = False,
    archival: Annotated[bool, typer.Option(help="PDF/A-3u for archiving instead of tagged PDF/UA")] = False,
) -> None:
    """Render (again) the month's reports from the warehouse."""
    from flows.publish import publish_reports
    from flows.steps import RunContext

    ctx = RunContext.create(network, _check_period(period))
    done = publish_reports(ctx, force=force, variant="a" if archival else "ua")
    out.print(f"Rendered {len(done)} report(s) into {ctx.settings.reports_dir / period}")


# --------------------------------------------------------------------------- participation (issue 15)

attendance_app = typer.Typer(
    no_args_is_help=True, help="Import meeting attendance (Teams, Zoom, sign-in sheets)."
)
app.add_typer(attendance_app, name="attendance")


@attendance_app.command("import")
def attendance_import(
    files: Annotated[list[Path], typer.Argument(help="Attendance files (Teams, Zoom, sign-in CSV/xlsx)")],
    meeting: Annotated[
        str | None, typer.Option(help="The meeting ID (meetings.csv) the files are for")
    ] = None,
    network: Annotated[
        Path | None, typer.Option(help="Network folder: import its people, calendar and aliases first")
    ] = None,
) -> None:
    """Archive, check and import attendance files; print each file's meeting, matched and unmatched.
    Exit 0: every file imported; 1: any refused (what to fix is printed)."""
    from flows.participation_cli import attendance_import as run_import

    refused = 0
    for done in run_import(_settings(), files, meeting, network):
        o = done.outcome
        if o.status == "rejected":
            refused += 1
            out.print(f"[bold]{o.file}[/bold]: refused, nothing imported:", highlight=False)
            for problem in done.problems[:20]:
                out.print(f"  {problem}", highlight=False, markup=False)
            continue
        if o.status == "duplicate":
            out.print(
                f"[bold]{o.file}[/bold]: already received (the same bytes); nothing new", highlight=False
            )
            continue
        where = f"meeting {o.meeting_id}" if o.meeting_id else "no meeting (unassigned)"
        out.print(f"[bold]{o.file}[/bold]: {o.status.replace('_', ' ')} — {where}: {done.reason}")
        for problem in done.problems[:20]:
            out.print(f"  {problem}", highlight=False, markup=False)
        out.print(f"  matched {done.matched.height}:")
        for name, email, person, how in done.matched.iter_rows():
            out.print(f"    {person}  {name or ''} {f'<{email}>' if email else ''}  (by {how})", markup=False)
        out.print(
            f"  unmatched {done.unmatched.height} (confirm them in aliases.csv, or add them to people.csv):"
        )
        for name, email in done.unmatched.iter_rows():
            out.print(f"    {name} {f'<{email}>' if email else ''}", highlight=False, markup=False)
    if refused:
        raise typer.Exit(1)


@app.command()
def participation(
    period: Annotated[str | None, typer.Option(help="Month, YYYY-MM (default: last month)")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per team, and the unmatched")
    ] = False,
    network: Annotated[
        Path, typer.Option(help="Network folder (registry.csv, network.toml)")
    ] = DEFAULT_NETWORK,
    unmatched_csv: Annotated[
        Path | None,
        typer.Option(help="Also write the unmatched attendees to this CSV (safe in a spreadsheet)"),
    ] = None,
) -> None:
    """Per team: roles covered and missing, meetings with two named participants, the watch list."""
    from flows.participation_cli import as_json as figures_json
    from flows.participation_cli import participation as figures_of
    from flows.participation_cli import unmatched_csv as to_unmatched_csv
    from flows.ui import print_participation

    figures = figures_of(_settings(), network, _check_period(period or _default_period()))
    if unmatched_csv is not None:
        unmatched_csv.write_text(to_unmatched_csv(figures), encoding="utf-8")
        console.print(f"Wrote {figures.unmatched.height} unmatched attendee(s) to {unmatched_csv}")
    if as_json:
        sys.stdout.write(json.dumps(figures_json(figures), indent=2, ensure_ascii=False) + "\n")
    else:
        print_participation(out, figures)


# --------------------------------------------------------------------------- deliver


@app.command()
def deliver(
    period: Annotated[str, typer.Option(help="Month whose reports to send, YYYY-MM")],
    network: Annotated[
        Path, typer.Option(help="Network folder (registry.csv, network.toml)")
    ] = DEFAULT_NETWORK,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Write each message as an .eml file to the outbox instead of sending"),
    ] = False,
    resend: Annotated[bool, typer.Option("--resend", help="Send again what was already sent")] = False,
    to: Annotated[list[str] | None, typer.Option("--to", help="Only this recipient (repeatable)")] = None,
    prefect: Annotated[
        bool,
        typer.Option(
            help="Run as the Prefect flow deliver-reports (off: plain function calls, no Prefect server)"
        ),
    ] = False,
    wait: Annotated[float, typer.Option(help="Seconds to wait if a run holds the period")] = 0.0,
) -> None:
    """Email each coach the PDFs of their own teams, and the network report to the representatives.

    Each report set goes once to each recipient; every attempt is logged in the warehouse.
    Exit 0: all sent (or nothing new to send); 5: some messages failed (listed).
    """
    from reports.deliver import DeliveryFailedError, summary_lines

    period = _check_period(period)
    try:
        if prefect:
            from flows.deliver import deliver_reports

            summary = deliver_reports(
                period=period,
                network_dir=str(network),
                dry_run=dry_run,
                resend=resend,
                recipients=to,
                wait_for_lock=wait,
            )
        else:
            from reports.deliver import deliver_period

            summary = deliver_period(
                period, network, dry_run=dry_run, resend=resend, recipients=to, wait_for_lock=wait
            )
    except DeliveryFailedError as exc:  # the Prefect flow ends Failed and carries the summary
        summary = exc.summary
    for line in summary_lines(summary):
        out.print(line, highlight=False, markup=False)
    if summary["failed"]:
        out.print(
            "What was sent is recorded and will not be sent twice: fix the problem and run "
            f"`joyflow deliver --period {period}` again.",
            highlight=False,
            markup=False,
        )
        raise typer.Exit(5)


# --------------------------------------------------------------------------- entry point


def _log_path() -> Path:
    return _settings().home / "logs" / "joyflow.log"


def main() -> None:
    """Console entry point: every failure becomes a sentence and an exit code, never a traceback."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    try:
        code = app(standalone_mode=False)  # click returns the exit code of typer.Exit here
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        console.print("Interrupted. A re-run continues where this one stopped.")
        sys.exit(130)
    except JoyflowError as exc:
        console.print(f"[red]joyflow:[/red] {exc}", highlight=False, markup=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if hasattr(exc, "show") and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()  # a usage error (click or typer's vendored click): its own message and exit code
            sys.exit(exc.exit_code)
        nested = _find_joyflow_error(exc)
        if nested is not None:
            console.print(f"[red]joyflow:[/red] {nested}")
            sys.exit(nested.exit_code)
        path = _log_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write(
                    f"--- {dt.datetime.now().isoformat()} {' '.join(sys.argv)}\n{traceback.format_exc()}\n"
                )
            where = f" Details are in {path}."
        except OSError:
            where = ""
        console.print(
            f"[red]joyflow:[/red] something went wrong ({exc.__class__.__name__}: {str(exc)[:300]}).{where}"
        )
        sys.exit(4)


def _find_joyflow_error(exc: BaseException) -> JoyflowError | None:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, JoyflowError):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


logging.getLogger("fontTools").setLevel(logging.ERROR)
logging.getLogger("weasyprint").setLevel(logging.ERROR)

if __name__ == "__main__":
    main()
