"""Warnings that need the team's own history: a value far outside its limits, a denominator jump.

These load (a real change can look like an error) but are flagged, so a coach can ask.
"""

from __future__ import annotations

import polars as pl

from schemas.issues import Issue, short_value

MIN_HISTORY = 6
HISTORY_WINDOW = 12
DENOMINATOR_JUMP = 2.0  # a denominator more than doubling or halving month to month


def history_warnings(
    measures: pl.DataFrame, about: pl.DataFrame, history: pl.DataFrame
) -> list[tuple[int, Issue]]:
    """``history``: team_id, measure_id, period, value, denominator (current values before this run)."""
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
        .with_columns(
            # Natural process limits widened to 4 sigma: only values far outside the team's own history.
            (pl.col("_mean") - 4 * pl.col("_mr_mean") / 1.128).alias("_lo"),
            (pl.col("_mean") + 4 * pl.col("_mr_mean") / 1.128).alias("_hi"),
        )
    )
    last_den = (
        history.filter(pl.col("denominator").is_not_null())
        .sort("period")
        .group_by("team_id", "measure_id")
        .agg(pl.col("denominator").last().alias("_prev_den"), pl.col("period").last().alias("_prev_period"))
    )
    new = measures.select(
        "_file",
        "_row",
        pl.col("_team_id").alias("team_id"),
        "measure_id",
        "period",
        "denominator",
        pl.col("_computed").alias("value"),
    ).filter(pl.col("team_id").is_not_null())
    checked = new.join(limits, on=["team_id", "measure_id"], how="left").join(
        last_den, on=["team_id", "measure_id"], how="left"
    )
    out: list[tuple[int, Issue]] = []
    far = checked.filter(
        pl.col("_lo").is_not_null()
        & (pl.col("_mr_mean") > 0)
        & ((pl.col("value") < pl.col("_lo")) | (pl.col("value") > pl.col("_hi")))
    )
    for r in far.iter_rows(named=True):
        out.append(
            (
                r["_file"],
                Issue(
                    "",
                    "measures",
                    r["_row"],
                    "value",
                    "value_far_from_history",
                    "warning",
                    short_value(round(r["value"], 6)),
                    f"{r['measure_id']} for {r['period']} is {r['value']:.4g}, far outside your team's recent range "
                    f"({max(r['_lo'], 0):.4g} to {r['_hi']:.4g}). Please check it; if it is right, say why in the comment.",
                ),
            )
        )
    jump = checked.filter(
        pl.col("_prev_den").is_not_null()
        & pl.col("denominator").is_not_null()
        & (pl.col("_prev_den") > 0)
        & (pl.col("period") > pl.col("_prev_period"))
        & (
            (pl.col("denominator") / pl.col("_prev_den") > DENOMINATOR_JUMP)
            | (pl.col("denominator") / pl.col("_prev_den") < 1 / DENOMINATOR_JUMP)
        )
    )
    for r in jump.iter_rows(named=True):
        out.append(
            (
                r["_file"],
                Issue(
                    "",
                    "measures",
                    r["_row"],
                    "denominator",
                    "denominator_jump",
                    "warning",
                    short_value(r["denominator"]),
                    f"The denominator of {r['measure_id']} for {r['period']} is {r['denominator']:g}, against "
                    f"{r['_prev_den']:g} in {r['_prev_period']}. Please check it counts the same thing.",
                ),
            )
        )
    return out
