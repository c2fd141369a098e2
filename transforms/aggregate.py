"""Build the derived tables from the warehouse's current values, all series at once.

Pure functions from frames to frames: the same inputs give the same derived tables,
which is what lets a re-run end exactly like a clean run.
"""

from __future__ import annotations

import polars as pl

from transforms.qi import analyse

SERIES_KEYS = ["team_id", "measure_id"]


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


def series_statistics(values: pl.DataFrame, catalogue: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Points with limits and signals, and one summary row per series (variation, assurance)."""
    points_in = series_input(values, catalogue)
    if points_in.is_empty():
        return _empty_points(), _empty_summary()
    result = analyse(points_in.drop("kind"), series_keys=SERIES_KEYS)
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
    ).join(
        points_in.select(*SERIES_KEYS, pl.col("x").alias("period"), "numerator", "denominator"),
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
    )
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
