"""`joyflow attendance import` and `joyflow participation`: no orchestration, so no Prefect."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from joyflow.errors import JoyflowError
from joyflow.settings import Settings
from schemas.config import load_network, load_network_config
from transforms.participation.summary import ParticipationInputs, team_figures
from warehouse import runs
from warehouse.audit.export import to_csv
from warehouse.engine import make_engine
from warehouse.load import sync_config
from warehouse.migrate import upgrade
from warehouse.participation import figure_inputs, people_applied
from warehouse.participation_intake import Attended, import_attendance_files, import_network_files


def _prepared(settings: Settings, network: Path | None):
    """The warehouse at the latest schema, mirroring the network's registry when a folder is given."""
    engine = make_engine(settings.warehouse_url)
    upgrade(engine)
    if network is not None:
        sync_config(engine, load_network(network))
    return engine


def attendance_import(
    settings: Settings, files: list[Path], meeting: str | None, network: Path | None
) -> list[Attended]:
    """With ``network``, its participation files (people, calendar, aliases ...) are imported first."""
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise JoyflowError(f"No such file: {missing[0]}")
    engine = _prepared(settings, network)
    period = dt.date.today().strftime("%Y-%m")
    run_id = runs.new_run_id(period, "attendance")
    audit = settings.home / "audit"
    if network is not None:
        net = load_network(network)
        import_network_files(engine, network, settings.archive_dir, audit, run_id, net.team_ids, None)
    return import_attendance_files(engine, files, settings.archive_dir, audit, run_id, meeting)


@dataclass(frozen=True)
class Figures:
    period: str
    on: dt.date
    teams: pl.DataFrame  # transforms.participation.summary.FIGURE_COLUMNS
    unmatched: pl.DataFrame  # meeting_id, name, email, team_id, held_on
    inputs: ParticipationInputs
    # people changes from returns that name nobody of their team: team_id, period, change, name,
    # email, effective_on
    unapplied: pl.DataFrame


def participation(settings: Settings, network: Path, period: str, today: dt.date | None = None) -> Figures:
    """The per-team figures as of the end of ``period`` (or today, if that is earlier)."""
    config = load_network_config(network / "network.toml").participation
    engine = _prepared(settings, network)
    year, month = map(int, period.split("-"))
    on = min(dt.date(year, month, calendar.monthrange(year, month)[1]), today or dt.date.today())
    inputs, unmatched = figure_inputs(engine, period, config.min_minutes * 60, staff=config.staff)
    unapplied = people_applied(engine).unapplied
    return Figures(period, on, team_figures(inputs, on, config), unmatched, inputs, unapplied)


def as_json(figures: Figures) -> dict:
    teams = figures.teams.with_columns(
        pl.col("vacant_since").cast(pl.String), pl.col("attendance_rate").round(3)
    )
    return {
        "period": figures.period,
        "as_of": figures.on.isoformat(),
        "teams": teams.to_dicts(),
        "unmatched": figures.unmatched.with_columns(pl.col("held_on").cast(pl.String)).to_dicts(),
        "unapplied_changes": figures.unapplied.with_columns(
            pl.col("effective_on").cast(pl.String)
        ).to_dicts(),
    }


UNMATCHED_FIELDS = ("meeting_id", "held_on", "team_id", "name", "email", "person_id")


def unmatched_csv(figures: Figures) -> str:
    """The unmatched attendees as CSV for the data manager to fill ``person_id`` in and copy into
    aliases.csv; formula-safe (an attendee named '=HYPERLINK(...)' stays text)."""
    rows = figures.unmatched.with_columns(pl.lit(None, pl.String).alias("person_id")).to_dicts()
    return to_csv(rows, UNMATCHED_FIELDS)
