"""Run-chart rules for every part at once: Anhøj (longest run, crossings) and IHI (shift, trend, runs).

Runs are counted like qicharts2's ``runs.analysis``: over the part's non-excluded, non-missing
points (baseline or not), relative to the part's centre line; points on the centre line neither
count nor break a run. Consecutive equal (group, side) pairs are found with ``rle_id`` so no
per-series loop is needed.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from .constants import IHI_SHIFT, IHI_TREND
from .frame import add, run_key, run_length
from .tables import crossings_min, ihi_runs_limits, longest_run_max


def _scatter(n_rows: int, rows: pl.Series, flags: pl.Series) -> pl.Series:
    """Full-length boolean column that is ``flags`` at ``rows`` and False elsewhere."""
    out = pl.repeat(False, n_rows, dtype=pl.Boolean, eager=True)
    return out.scatter(rows, flags.fill_null(False)) if rows.len() else out


def _lookup(values: pl.Series, fn: Callable[[int], int]) -> pl.Series:
    """Apply a cached scalar table function to the (few) distinct values of ``values``."""
    distinct = [v for v in values.unique().to_list() if v is not None]
    mapping = {v: fn(v) for v in distinct}
    return values.replace_strict(mapping, default=None, return_dtype=pl.Int64)


def _anhoej(df: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """Per-group useful points, runs and longest run; plus the IHI shift flag per row."""
    side = (pl.col("value") - pl.col("cl")).sign()
    keep = pl.col("_inc") & pl.col("value").is_not_null() & pl.col("cl").is_not_null()
    useful = df.lazy().filter(keep).select("_gid", "_row", side.alias("_side")).filter(pl.col("_side") != 0)
    useful = useful.collect().rechunk().lazy()  # single chunks for run_length
    key = run_key("_gid", pl.col("_side"))
    useful = useful.with_columns(key.rle_id().alias("_run"), run_length(key).alias("_run_len")).collect()
    stats = (
        useful.with_columns(pl.col("_gid").set_sorted())
        .group_by("_gid")
        .agg(
            pl.len().alias("n_useful"),
            (pl.col("_run").max() - pl.col("_run").min()).alias("crossings"),  # rle ids are consecutive
            pl.col("_run_len").max().alias("longest_run"),
        )
    )
    shift_flag = _scatter(df.height, useful["_row"], useful["_run_len"] >= IHI_SHIFT)
    return stats, shift_flag


def _ihi_trend(df: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """IHI trend: >= 5 points all going up or all going down; repeated values are skipped."""
    pts = (
        df.lazy()
        .filter(pl.col("_inc") & pl.col("value").is_not_null())
        .select(
            "_gid",
            "_row",
            "value",
            # plateaus of equal values, numbered densely from 0
            (
                ((pl.col("_gid") != pl.col("_gid").shift(1)) | (pl.col("value") != pl.col("value").shift(1)))
                .fill_null(True)
                .cast(pl.Int64)
                .cum_sum()
                - 1
            ).alias("_rep"),
        )
        .collect()
    )
    gid = pl.col("_gid")
    same_prev, same_next = (gid == gid.shift(1)).fill_null(False), (gid == gid.shift(-1)).fill_null(False)
    # one row per plateau of equal values; a "step" is the move into the next plateau
    reps = (
        pts.lazy()
        .filter((pl.col("_rep") != pl.col("_rep").shift(1)).fill_null(True))
        .with_columns(
            pl.when(same_prev).then((pl.col("value") - pl.col("value").shift(1)).sign()).alias("_d")
        )
        .collect()
        .rechunk()  # single chunks for run_length
        .lazy()
        .with_columns(
            (pl.col("_d").is_not_null() & (run_length(run_key("_gid", pl.col("_d"))) >= IHI_TREND - 1)).alias(
                "_in_trend"
            )
        )
        .with_columns(
            # the plateau before a trend's first step belongs to the trend too
            (pl.col("_in_trend") | (same_next & pl.col("_in_trend").shift(-1).fill_null(False))).alias("_tp")
        )
        .select("_gid", "_in_trend", "_tp")
        .collect()
    )
    stats = reps.lazy().group_by("_gid").agg(pl.col("_in_trend").any().alias("ihi_trend")).collect()
    # every repeated value inherits the flag of its plateau (_rep is dense from 0, one reps row each)
    tp = reps["_tp"].gather(pts["_rep"])
    return stats, _scatter(df.height, pts["_row"], tp)


def add_runs(df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return (points with runs_signal/shift_point/trend_point, one row per part)."""
    anhoej, shift_flag = _anhoej(df)
    trend, trend_flag = _ihi_trend(df)
    # the frame is sorted by _gid: a part's first and last rows carry everything (no group-by)
    gid = pl.col("_gid")
    inc_run = pl.col("_inc").cast(pl.Int64).cum_sum()
    ends = (
        df.lazy()
        .select("_gid", "_sid", "_part", "chart", "cl", "x", "_inc")
        .with_columns(
            (gid != gid.shift(1)).fill_null(True).alias("_is_first"),
            (gid != gid.shift(-1)).fill_null(True).alias("_is_last"),
            inc_run.alias("_inc_run"),
            (inc_run - pl.col("_inc").cast(pl.Int64)).alias("_inc_before"),
        )
        .filter(pl.col("_is_first") | pl.col("_is_last"))
        .collect()
    )
    firsts, lasts = ends.filter(pl.col("_is_first")), ends.filter(pl.col("_is_last"))
    parts = firsts.select(
        "_gid",
        "_sid",
        pl.col("_part").alias("part"),
        "chart",
        (lasts["_inc_run"] - pl.col("_inc_before")).alias("n_obs"),
        "cl",
        pl.col("x").alias("x_first"),
        lasts["x"].alias("x_last"),
    )
    parts = parts.join(anhoej, on="_gid", how="left").join(trend, on="_gid", how="left").sort("_gid")
    parts = add(
        parts,
        pl.col("n_useful").fill_null(0).cast(pl.Int64),
        pl.col("crossings").cast(pl.Int64),
        pl.col("longest_run").cast(pl.Int64),
        pl.col("ihi_trend").fill_null(False),
    )
    nu = parts["n_useful"].replace(0, None)
    ihi = {n: ihi_runs_limits(n) for n in nu.unique().to_list() if n is not None}
    parts = add(
        parts,
        _lookup(nu, longest_run_max).alias("longest_run_max"),
        _lookup(nu, crossings_min).alias("crossings_min"),
        nu.replace_strict({k: v[0] for k, v in ihi.items() if v}, default=None, return_dtype=pl.Int64).alias(
            "ihi_runs_min"
        ),
        nu.replace_strict({k: v[1] for k, v in ihi.items() if v}, default=None, return_dtype=pl.Int64).alias(
            "ihi_runs_max"
        ),
    )
    n_runs = pl.col("crossings") + 1
    parts = add(
        parts,
        (
            (pl.col("chart") != "mr")
            & (
                (pl.col("longest_run") > pl.col("longest_run_max"))
                | (pl.col("crossings") < pl.col("crossings_min"))
            ).fill_null(False)
        ).alias("runs_signal"),
        (pl.col("longest_run") >= IHI_SHIFT).fill_null(False).alias("ihi_shift"),
        ((n_runs < pl.col("ihi_runs_min")) | (n_runs > pl.col("ihi_runs_max")))
        .fill_null(False)
        .alias("ihi_runs"),
    )
    not_mr = df["chart"] != "mr"
    df = add(
        df,
        parts["runs_signal"].gather(df["_gid"]).alias("runs_signal"),
        (shift_flag & not_mr).alias("shift_point"),
        (trend_flag & not_mr).alias("trend_point"),
    )
    # runs are meaningless on moving ranges (neighbouring ranges share a point): no IHI flags either
    parts = add(
        parts, [pl.col(c) & (pl.col("chart") != "mr") for c in ("ihi_shift", "ihi_trend", "ihi_runs")]
    )
    return df, parts
