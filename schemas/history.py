"""What the history rules compare a return with: the team's own recent values of each measure.

The rules themselves (``value_far_from_history``, ``denominator_jump``) are in ``schemas.rules``;
this module joins the history they need onto the measures rows, as ``_``-prefixed columns.
"""

from __future__ import annotations

import polars as pl

MIN_HISTORY = 6
HISTORY_WINDOW = 12
DENOMINATOR_JUMP = 2.0  # a denominator more than doubling or halving month to month


def history_context(measures: pl.DataFrame, history: pl.DataFrame) -> pl.DataFrame:
    """The measures rows (``_team_id``, ``measure_id`` ...) with the team's history beside each.

    ``history``: team_id, measure_id, period, value, denominator (current values before this run).
    Adds ``_lo``/``_hi`` (the natural process limits of the last 12 values, widened to 4 sigma: only
    values far outside the team's own history fail), ``_range_lo`` (``_lo``, not below 0),
    ``_mr_mean``, and ``_prev_den``/``_prev_period`` (the last denominator before this run).
    """
    recent = (
        history.sort("team_id", "measure_id", "period")
        .group_by("team_id", "measure_id", maintain_order=True)
        .tail(HISTORY_WINDOW)
    )
    limits = (
        recent.with_columns(pl.col("value").diff().abs().over("team_id", "measure_id").alias("_mr"))
        .group_by("team_id", "measure_id")
        .agg(
            pl.col("value").count().alias("_n"),
            pl.col("value").mean().alias("_mean"),
            pl.col("_mr").mean().alias("_mr_mean"),
        )
        .filter(pl.col("_n") >= MIN_HISTORY)
        .select(
            pl.col("team_id").alias("_team_id"),
            "measure_id",
            "_mr_mean",
            (pl.col("_mean") - 4 * pl.col("_mr_mean") / 1.128).alias("_lo"),
            (pl.col("_mean") + 4 * pl.col("_mr_mean") / 1.128).alias("_hi"),
        )
        .with_columns(pl.max_horizontal("_lo", pl.lit(0.0)).alias("_range_lo"))
    )
    last_den = (
        history.filter(pl.col("denominator").is_not_null())
        .sort("period")
        .group_by("team_id", "measure_id")
        .agg(pl.col("denominator").last().alias("_prev_den"), pl.col("period").last().alias("_prev_period"))
        .rename({"team_id": "_team_id"})
    )
    keys = ["_team_id", "measure_id"]
    return (
        measures.join(limits, on=keys, how="left", maintain_order="left")
        .join(last_den, on=keys, how="left", maintain_order="left")
        .with_columns(  # the types the history schema declares, whatever the warehouse handed over
            pl.col("_lo", "_hi", "_range_lo", "_mr_mean", "_prev_den").cast(pl.Float64),
            pl.col("_prev_period").cast(pl.String),
        )
    )
