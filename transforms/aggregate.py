"""Build the derived tables from the warehouse's current values, all series at once.

Pure functions from frames to frames: the same inputs give the same derived tables,
which is what lets a re-run end exactly like a clean run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from joyflow.errors import ConfigError
from transforms.qi import DEFAULT_RULES, RuleSet, RuleSetError, analyse, rule_set_from_mapping

SERIES_KEYS = ["team_id", "measure_id"]
REBASE_SCHEMA = {"team_id": pl.String, "measure_id": pl.String, "from_period": pl.String}


def network_rules(table: dict | None, source: str = "network.toml") -> RuleSet:
    """The network's rule set from its ``[statistics]`` table; a choice it cannot make is a
    ``ConfigError`` naming the file (schemas cannot build it: the engine is a layer above)."""
    try:
        return rule_set_from_mapping(table)
    except RuleSetError as exc:
        raise ConfigError(f"Network settings {source}: {exc}") from None


@dataclass(frozen=True)
class StatisticsChoice:
    """What the derive step needs besides the values: the network's rule set, its rebase policy,
    the recorded rebases in force, the teams' own targets and the PDSA cycles (for suggestions)."""

    rules: RuleSet = DEFAULT_RULES
    rebase_policy: str = "recorded"
    rebases: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REBASE_SCHEMA))
    targets: pl.DataFrame | None = None
    pdsa: pl.DataFrame | None = None


def series_input(values: pl.DataFrame, catalogue: pl.DataFrame) -> pl.DataFrame:
    """Current values joined to the catalogue's chart settings, in the statistics' input shape."""
    cat = catalogue.select(
        "measure_id",
        "kind",
        "chart",
        pl.when(pl.col("direction") == "none").then(None).otherwise(pl.col("direction")).alias("direction"),
        pl.col("target").cast(pl.Float64),
    )
    ratio = pl.col("kind").is_in(["proportion", "rate"])
    return (
        values.join(cat, on="measure_id", how="inner")
        .with_columns(
            pl.col("period").alias("x"),
            pl.when(ratio).then(pl.col("numerator")).otherwise(pl.col("value")).cast(pl.Float64).alias("y"),
            pl.when(ratio).then(pl.col("denominator")).otherwise(None).cast(pl.Float64).alias("n"),
        )
        .filter(pl.col("y").is_not_null())
        .sort(*SERIES_KEYS, "x")
    )


def with_team_targets(points: pl.DataFrame, targets: pl.DataFrame | None) -> pl.DataFrame:
    """Each point's target: the team's own (the latest whose ``from_period`` is not after the
    point; blank = always) over the catalogue's."""
    if targets is None or targets.is_empty():
        return points
    own = (
        points.select(*SERIES_KEYS, "x")
        .join(targets.select(*SERIES_KEYS, pl.col("target").alias("_own"), "from_period"), on=SERIES_KEYS)
        .filter(pl.col("from_period").is_null() | (pl.col("from_period") <= pl.col("x")))
        .sort(*SERIES_KEYS, "x", pl.col("from_period").fill_null(""))
        .group_by(*SERIES_KEYS, "x", maintain_order=True)
        .agg(pl.col("_own").last())
    )
    return (
        points.join(own, on=[*SERIES_KEYS, "x"], how="left")
        .with_columns(pl.coalesce("_own", "target").alias("target"))
        .drop("_own")
    )


def with_phases(points: pl.DataFrame, rebases: pl.DataFrame, at: str = "x") -> pl.DataFrame:
    """``part`` (1 + the rebases in force at or before the point's ``at`` period) and, on the first
    point of each later phase, ``phase_start`` (the rebase's ``source``: "recorded" or "auto").
    The derive step numbers the engine's input with it; the reports, the stored points."""
    if at != "x":
        return with_phases(points.rename({at: "x"}), rebases).rename({"x": at})
    if rebases.is_empty():
        return points.with_columns(
            pl.lit(1, pl.Int64).alias("part"), pl.lit(None, pl.String).alias("phase_start")
        )
    if "source" not in rebases.columns:
        rebases = rebases.with_columns(pl.lit("recorded").alias("source"))
    hits = (
        points.select(*SERIES_KEYS, "x")
        .join(rebases.select(*SERIES_KEYS, "from_period", "source"), on=SERIES_KEYS)
        .filter(pl.col("from_period") <= pl.col("x"))
        .group_by(*SERIES_KEYS, "x")
        .agg(pl.len().cast(pl.Int64).alias("_breaks"), pl.col("source").sort_by("from_period").last())
    )
    part = pl.col("part")
    return (
        points.join(hits, on=[*SERIES_KEYS, "x"], how="left")
        .sort(*SERIES_KEYS, "x")
        .with_columns((1 + pl.col("_breaks").fill_null(0)).alias("part"))
        .with_columns(
            pl.when(part.shift(1).over(SERIES_KEYS).is_not_null() & (part != part.shift(1).over(SERIES_KEYS)))
            .then(pl.col("source"))
            .otherwise(None)
            .alias("phase_start")
        )
        .drop("_breaks", "source")
    )


def phase_starts(points: pl.DataFrame) -> pl.DataFrame:
    """The phases the statistics applied, one row per later phase (stored as ``series_phase``)."""
    return points.filter(pl.col("phase_start").is_not_null()).select(
        *SERIES_KEYS, pl.col("period").alias("from_period"), pl.col("phase_start").alias("source")
    )


def rebase_suggestions(points: pl.DataFrame, pdsa: pl.DataFrame | None) -> pl.DataFrame:
    """Series where a sustained shift follows an adopted PDSA change linked to that measure.

    "Sustained": the run of shift points reaches the series' latest point. "Follows": the run
    starts in or after the month of the team's first adopted cycle for the measure, and after the
    start of the series' current phase (a phase already starting there needs no suggestion).
    Returns team_id, measure_id, suggested_from (the run's first month), change_idea.
    """
    empty = pl.DataFrame(schema={**REBASE_SCHEMA, "change_idea": pl.String}).rename(
        {"from_period": "suggested_from"}
    )
    if pdsa is None or pdsa.is_empty() or points.is_empty():
        return empty
    adopted = (
        pdsa.filter((pl.col("decision") == "adopt") & pl.col("linked_measure").is_not_null())
        .sort("period")
        .group_by("team_id", pl.col("linked_measure").alias("measure_id"))
        .agg(pl.col("period").first().alias("_adopted"), pl.col("change_idea").first())
    )
    if adopted.is_empty():
        return empty
    shift = pl.col("shift_point").fill_null(False)
    side = pl.col("value") > pl.col("cl")  # a shift below the centre line, then one above: two runs
    runs = (
        points.select(*SERIES_KEYS, "period", "part", shift.alias("_s"), side.alias("_side"))
        .sort(*SERIES_KEYS, "period")
        .with_columns(
            ((pl.col("_s") != pl.col("_s").shift(1)) | (pl.col("_side") != pl.col("_side").shift(1)))
            .fill_null(True)
            .cum_sum()
            .over(SERIES_KEYS)
            .alias("_run"),
            pl.col("period").first().over([*SERIES_KEYS, "part"]).alias("_phase_from"),
        )
        .group_by(*SERIES_KEYS, maintain_order=True)
        .agg(
            pl.col("_s").last().alias("_held"),
            pl.col("period").filter(pl.col("_run") == pl.col("_run").last()).first().alias("suggested_from"),
            pl.col("_phase_from").last(),
        )
        .filter(pl.col("_held") & (pl.col("suggested_from") > pl.col("_phase_from")))
    )
    return (
        runs.join(adopted, on=SERIES_KEYS)
        .filter(pl.col("suggested_from") >= pl.col("_adopted"))
        .select(*SERIES_KEYS, "suggested_from", "change_idea")
        .sort(*SERIES_KEYS)
    )


def _analyse(points_in: pl.DataFrame, choice: StatisticsChoice, rebases: pl.DataFrame):
    phased = with_phases(points_in, rebases)
    return phased, analyse(phased.drop("kind", "phase_start"), series_keys=SERIES_KEYS, rules=choice.rules)


def series_statistics(
    values: pl.DataFrame, catalogue: pl.DataFrame, choice: StatisticsChoice | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Points with limits and signals, and one summary row per series (variation, assurance).

    ``choice`` (default: today's rules, no rebases) sets the rule set, the phases from recorded
    rebases, the teams' own targets and, under the "suggest"/"auto" policies, the rebases the
    PDSA cycles suggest ("auto" applies them as phases labelled automatic).
    """
    choice = choice or StatisticsChoice()
    points_in = with_team_targets(series_input(values, catalogue), choice.targets)
    if points_in.is_empty():
        return _empty_points(), _empty_summary()
    rebases = choice.rebases.select(*REBASE_SCHEMA).with_columns(pl.lit("recorded").alias("source"))
    phased, result = _analyse(points_in, choice, rebases)
    suggested = None
    if choice.rebase_policy in ("suggest", "auto"):
        first = result.points.select(
            *SERIES_KEYS, pl.col("x").alias("period"), "part", "shift_point", "value", "cl"
        )
        suggested = rebase_suggestions(first, choice.pdsa)
        if choice.rebase_policy == "auto" and suggested.height:
            auto = suggested.select(
                *SERIES_KEYS, pl.col("suggested_from").alias("from_period"), pl.lit("auto").alias("source")
            )
            phased, result = _analyse(points_in, choice, pl.concat([rebases, auto]))
            suggested = suggested.clear()
    points = result.points.select(
        *SERIES_KEYS,
        pl.col("x").alias("period"),
        "value",
        "cl",
        "lcl",
        "ucl",
        pl.col("sigma_signal").fill_null(False),
        pl.col("runs_signal").fill_null(False),
        "point_type",
        pl.col("shift_point").fill_null(False),
        pl.col("trend_point").fill_null(False),
        pl.col("part").cast(pl.Int64),
        "signal_rule",
    ).join(
        phased.select(*SERIES_KEYS, pl.col("x").alias("period"), "numerator", "denominator", "phase_start"),
        on=[*SERIES_KEYS, "period"],
        how="left",
    )
    summary = result.series.select(
        *SERIES_KEYS,
        pl.col("n_points").cast(pl.Int64),
        pl.col("latest_x").alias("latest_period"),
        pl.col("latest_value"),
        "variation",
        "assurance",
        pl.col("runs_signal").fill_null(False),
        "variation_rule",
        pl.col("too_few_points").fill_null(False),
        pl.lit(choice.rules.name).alias("rules"),
        pl.col("target").cast(pl.Float64),
    )
    if suggested is not None and suggested.height:
        summary = summary.join(suggested.drop("change_idea"), on=SERIES_KEYS, how="left")
    else:
        summary = summary.with_columns(pl.lit(None, pl.String).alias("suggested_from"))
    return points.sort(*SERIES_KEYS, "period"), summary.sort(*SERIES_KEYS)


# What a chart needs of each point of a series (stored in ``series_point``, drawn by reports.charts).
POINT_SCHEMA: dict[str, pl.DataType] = {
    "period": pl.String,
    "value": pl.Float64,
    "cl": pl.Float64,
    "lcl": pl.Float64,
    "ucl": pl.Float64,
    "sigma_signal": pl.Boolean,
    "runs_signal": pl.Boolean,
    "point_type": pl.String,
    "shift_point": pl.Boolean,
    "trend_point": pl.Boolean,
    "part": pl.Int64,
    "signal_rule": pl.String,
    "phase_start": pl.String,
}


def _empty_points() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "team_id": pl.String,
            "measure_id": pl.String,
            **POINT_SCHEMA,
            "numerator": pl.Float64,
            "denominator": pl.Float64,
        }
    )


def _empty_summary() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "team_id": pl.String,
            "measure_id": pl.String,
            "n_points": pl.Int64,
            "latest_period": pl.String,
            "latest_value": pl.Float64,
            "variation": pl.String,
            "assurance": pl.String,
            "runs_signal": pl.Boolean,
            "variation_rule": pl.String,
            "too_few_points": pl.Boolean,
            "rules": pl.String,
            "target": pl.Float64,
            "suggested_from": pl.String,
        }
    )


def compliance_grid(
    teams: pl.DataFrame, submissions: pl.DataFrame, received: pl.DataFrame, periods: list[str]
) -> pl.DataFrame:
    """Team × month: on_time, late, rejected (only rejected files received), missing, or not_due
    (before the team joined)."""
    grid = teams.select("team_id", "first_period").join(pl.DataFrame({"period": periods}), how="cross")
    subs = submissions.group_by("team_id", "period").agg(pl.col("on_time").first())
    rejected = (
        received.filter((pl.col("outcome") == "rejected") & pl.col("team_id").is_not_null())
        .select("team_id", "period")
        .unique()
        .with_columns(pl.lit(True).alias("_rejected"))
    )
    return (
        grid.join(subs.with_columns(pl.lit(True).alias("_submitted")), on=["team_id", "period"], how="left")
        .join(rejected, on=["team_id", "period"], how="left")
        .select(
            "team_id",
            "period",
            pl.when(pl.col("period") < pl.col("first_period"))
            .then(pl.lit("not_due"))
            .when(pl.col("_submitted") & pl.col("on_time").fill_null(False))
            .then(pl.lit("on_time"))
            .when(pl.col("_submitted"))
            .then(pl.lit("late"))
            .when(pl.col("_rejected"))
            .then(pl.lit("rejected"))
            .otherwise(pl.lit("missing"))
            .alias("status"),
        )
        .sort("team_id", "period")
    )


def network_summary(grid: pl.DataFrame, submissions: pl.DataFrame) -> pl.DataFrame:
    """Per period: how many teams were expected, on time, late, rejected, missing; median progress score."""
    counts = (
        grid.filter(pl.col("status") != "not_due")
        .group_by("period")
        .agg(
            pl.len().alias("teams_expected"),
            (pl.col("status") == "on_time").sum().alias("on_time"),
            (pl.col("status") == "late").sum().alias("late"),
            (pl.col("status") == "rejected").sum().alias("rejected"),
            (pl.col("status") == "missing").sum().alias("missing"),
        )
    )
    progress = submissions.group_by("period").agg(pl.col("progress_score").median().alias("median_progress"))
    return (
        counts.join(progress, on="period", how="left")
        .with_columns(pl.col("teams_expected", "on_time", "late", "rejected", "missing").cast(pl.Int64))
        .sort("period")
    )
