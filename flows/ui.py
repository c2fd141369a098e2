"""What the data manager sees in the terminal: progress per stage, verdicts, summaries, the status grid."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

STATUS_STYLE = {
    "accepted": "green",
    "accepted_with_warnings": "yellow",
    "rejected": "bold red",
    "duplicate": "dim",
}
GRID_CELL = {
    "on_time": "[green]✓[/green]",
    "late": "[yellow]L[/yellow]",
    "rejected": "[bold red]R[/bold red]",
    "missing": "[dim]–[/dim]",
    "not_due": " ",
}


class StageProgress:
    """One progress bar per stage; stages report through flows.progress."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
            disable=not console.is_terminal,
        )
        self.tasks: dict[str, int] = {}

    def __enter__(self) -> StageProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def start(self, stage: str, total: int, label: str) -> None:
        if stage in self.tasks:
            self.progress.update(self.tasks[stage], total=total or None, completed=0, description=label)
        else:
            self.tasks[stage] = self.progress.add_task(label, total=total or None)

    def advance(self, stage: str, n: int = 1) -> None:
        if stage in self.tasks:
            self.progress.advance(self.tasks[stage], n)


def print_summary(out: Console, summary: dict) -> None:
    table = Table(title=f"monthly-run {summary['period']} — files", show_lines=False)
    for col in ("File", "Team", "Outcome", "Errors", "Warnings"):
        table.add_column(col, justify="right" if col in ("Errors", "Warnings") else "left")
    for f in summary["files"]:
        style = STATUS_STYLE.get(f["status"], "")
        table.add_row(
            f["file"],
            f["team_id"] or "—",
            f"[{style}]{f['status'].replace('_', ' ')}[/{style}]",
            str(f["errors"]),
            str(f["warnings"]),
        )
    out.print(table)
    c = summary["counts"]
    out.print(
        f"{c['files']} files: {c['accepted'] - c['accepted_with_warnings']} accepted, "
        f"{c['accepted_with_warnings']} with warnings, "
        f"{c['rejected']} rejected, {c['duplicates']} already received. {c['reports']} report(s) rendered."
    )
    folder = summary.get("reports_dir")
    if folder:
        from pathlib import Path

        pdfs = len(list(Path(folder).glob("*.pdf")))
        out.print(f"Reports: {folder}/ ({pdfs} PDFs; unchanged reports are not rendered again)")
    if c["rejected"]:
        out.print("Feedback sheets for rejected files are in the reports folder under feedback/.")
    print_participation_files(out, summary.get("participation_files", []))


def print_participation_files(out: Console, files: list[dict]) -> None:
    """The participation and attendance files the run took in: counted, and each one that needs the
    data manager (refused, errors, or no meeting found) on a line with what to do."""
    if not files:
        return
    refused = sum(f["status"] == "rejected" for f in files)
    unassigned = sum(f["status"] == "unassigned" for f in files)
    attendance = sum(f["kind"] == "attendance" for f in files)
    out.print(
        f"Participation: {len(files) - attendance} network file(s) and {attendance} attendance file(s) new; "
        f"{refused} refused, {unassigned} waiting for a meeting.",
        highlight=False,
    )
    for f in files:
        if f["status"] in ("rejected", "unassigned") or f["errors"]:
            what = {"rejected": "refused", "unassigned": "no meeting"}.get(f["status"], f["status"])
            out.print(f"  {what:<10} {f['file']}: {f['note']}", highlight=False, markup=False)
    if unassigned:
        out.print("Assign a file to its meeting with: joyflow attendance import FILE --meeting ID")


def print_verdicts(out: Console, verdicts: list) -> None:
    for v in verdicts:
        style = STATUS_STYLE.get(v.status, "")
        out.print(
            f"[{style}]{v.status.replace('_', ' ').upper()}[/{style}]  {v.file}"
            + (f"  (team {v.team_id}, {v.period})" if v.team_id else "")
        )
        for i in v.issues:
            where = i.where()
            out.print(f"  {i.severity:<7} {where}: {i.message}", highlight=False, markup=False)


def print_status(out: Console, engine, period: str | None, months: int) -> None:
    from warehouse.queries import status_grid

    grid = status_grid(engine, period, months)
    if grid is None:
        out.print("The warehouse has no teams yet: run `joyflow run` first.")
        return
    table = Table(title=f"Submissions to {grid.last}")
    table.add_column("Team")
    for p in grid.periods:
        table.add_column(p[2:], justify="center")
    for tid, name, cells in grid.teams:
        table.add_row(f"{tid} {name}", *[GRID_CELL[c] for c in cells])
    out.print(table)
    out.print("✓ on time   L late   R rejected   – missing")


def print_chart(out: Console, result: dict) -> None:
    for i, part in enumerate(result["parts"], start=1):
        out.print(
            f"Part {i}: centre {part['cl']:.4g}; useful points {part['n_useful']}; longest run "
            f"{part['longest_run']} (max {part['longest_run_max']}); crossings {part['crossings']} "
            f"(min {part['crossings_min']}); {'NON-RANDOM VARIATION' if part['runs_signal'] else 'random variation'}"
        )
    table = Table()
    for col in ("x", "y", "cl", "lcl", "ucl", "signal", "type"):
        table.add_column(col)
    fmt = lambda v: "" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))  # noqa: E731
    for p in result["points"]:
        table.add_row(
            fmt(p["x"]),
            fmt(p["y"]),
            fmt(p["cl"]),
            fmt(p["lcl"]),
            fmt(p["ucl"]),
            "●" if p["sigma_signal"] else "",
            (p["point_type"] or "").replace("_", " "),
        )
    out.print(table)


# --- participation (issue 15) ---


def print_participation(out: Console, figures) -> None:
    """``joyflow participation`` without --json: one row per team, then the unmatched attendees."""
    from transforms.participation.roles import ROLE_WORDS

    table = Table(title=f"Participation to {figures.on:%-d %B %Y}")
    for col in ("Team", "Roles missing", "Meetings", "With two", "Rate", "Watch: reasons"):
        table.add_column(col)
    for row in figures.teams.iter_rows(named=True):
        rate = row["attendance_rate"]
        table.add_row(
            row["team_id"],
            ", ".join(ROLE_WORDS[r] for r in row["roles_missing"] or []) or "—",
            str(row["meetings_held"]),
            str(row["meetings_with_two"]),
            "—" if rate is None else f"{rate:.0%}",
            "; ".join(row["reasons"]) if row["on_watch"] else "",
        )
    out.print(table)
    if figures.unmatched.height:
        out.print(f"{figures.unmatched.height} attendee(s) matched to nobody — add an alias in aliases.csv:")
        for r in figures.unmatched.iter_rows(named=True):
            email = f" <{r['email']}>" if r["email"] else ""
            out.print(f"  {r['meeting_id']} ({r['held_on']}): {r['name']}{email}")
    if figures.unapplied.height:
        out.print(
            f"{figures.unapplied.height} people change(s) from returns name nobody of their team — "
            "add the person to people.csv, or ask the team to correct its return:"
        )
        for r in figures.unapplied.iter_rows(named=True):
            email = f" <{r['email']}>" if r["email"] else ""
            out.print(
                f"  {r['team_id']} ({r['period']} return): {r['change']} {r['effective_on']}: {r['name']}{email}"
            )
