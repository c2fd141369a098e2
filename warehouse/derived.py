"""The derived tables (series statistics, the network's monthly summary), rebuilt from the current values.

Replaced in one transaction: readers see the old set or the new, never half. NaN statistics (a
limit that cannot be computed) are stored as NULL on both dialects.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Engine, delete, insert

from schemas.periods import reporting_window
from transforms.aggregate import (
    StatisticsChoice,
    compliance_grid,
    network_summary,
    phase_starts,
    series_statistics,
)
from transforms.qi import DEFAULT_RULES, RuleSet
from warehouse import queries
from warehouse.load import fit_frame
from warehouse.lock import lock_warehouse
from warehouse.models import NetworkPeriod, SeriesPhase, SeriesPoint, SeriesSummary
from warehouse.rebase_log import active_rebases

_CHUNK = 20_000


def _rows(frame: pl.DataFrame, model: type) -> list[dict]:
    cols = [c.name for c in model.__table__.columns]
    return fit_frame(frame.select([c for c in cols if c in frame.columns])).to_dicts()


def replace_derived(
    engine: Engine,
    points: pl.DataFrame,
    summaries: pl.DataFrame,
    network: pl.DataFrame,
    phases: pl.DataFrame | None = None,
) -> None:
    tables = [(SeriesPoint, points), (SeriesSummary, summaries), (NetworkPeriod, network)]
    tables.append((SeriesPhase, phases if phases is not None else phase_starts(points)))
    with engine.begin() as conn:
        lock_warehouse(conn)
        for model, data in tables:
            conn.execute(delete(model))
            for start in range(0, data.height, _CHUNK):
                rows = _rows(data.slice(start, _CHUNK), model)
                if rows:
                    conn.execute(insert(model), rows)


def statistics_choice(
    engine: Engine,
    rules: RuleSet = DEFAULT_RULES,
    rebase_policy: str = "recorded",
    targets: pl.DataFrame | None = None,
) -> StatisticsChoice:
    """The network's statistics settings with what the warehouse holds: recorded rebases in force
    and (for the "suggest"/"auto" policies) the PDSA cycles."""
    return StatisticsChoice(
        rules=rules,
        rebase_policy=rebase_policy,
        rebases=active_rebases(engine),
        targets=targets,
        pdsa=queries.current_pdsa(engine) if rebase_policy != "recorded" else None,
    )


def rebuild_derived(
    engine: Engine, period: str, start_period: str | None = None, choice: StatisticsChoice | None = None
) -> dict[str, int]:
    """Recompute the series statistics and the network's compliance summary from the current values.

    ``choice``: the network's rule set, rebase policy and team targets (``statistics_choice``);
    None reads the recorded rebases and applies today's default rules. The summary covers the network's reporting window up to the latest month the warehouse knows
    (at least ``period``), so re-running an earlier month never shrinks it.
    """
    values = queries.current_values(engine)
    catalogue = queries.catalogue(engine).with_columns(pl.col("target").cast(pl.Float64))
    points, summaries = series_statistics(values, catalogue, choice or statistics_choice(engine))
    teams = queries.teams(engine)
    subs = queries.current_submissions(engine)
    latest = subs.get_column("period").max() if subs.height else None
    periods = reporting_window(
        max(period, latest or period),
        start=start_period,
        earliest_team=teams.get_column("first_period").min() if teams.height else None,
    )
    grid = compliance_grid(teams, subs, queries.received_files(engine), periods)
    summary = network_summary(grid, subs.filter(pl.col("period").is_in(periods)))
    replace_derived(engine, points, summaries, summary)
    return {"series_points": points.height, "series": summaries.height, "periods": summary.height}
