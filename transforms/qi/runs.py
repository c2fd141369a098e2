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
from .rulesets import RuleSet
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


def _scatter_int(n_rows: int, rows: pl.Series, values: pl.Series) -> pl.Series:
    """Full-length integer column that is ``values`` at ``rows`` and 0 elsewhere."""
    out = pl.repeat(0, n_rows, dtype=pl.Int64, eager=True)
    return out.scatter(rows, values.cast(pl.Int64).fill_null(0)) if rows.len() else out


def _anhoej(df: pl.DataFrame, per_row: bool) -> tuple[pl.DataFrame, pl.Series | None]:
    """Per-group useful points, runs and longest run; plus each row's run length (0: not useful).

    Points on the centre line, excluded and missing points neither count nor break a run.
    """
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
    return stats, _scatter_int(df.height, useful["_row"], useful["_run_len"]) if per_row else None


def _ihi_trend(
    df: pl.DataFrame, lengths: tuple[int, ...]
) -> tuple[pl.DataFrame, dict[int, pl.Series], pl.Series | None]:
    """Trends with repeated values skipped (IHI): per part, whether a 5-point trend exists;
    per row, for each length k in ``lengths``, whether it is in a trend of >= k points; and the
    trend's direction (+1/-1) per row. Excluded and missing points are skipped too."""
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
        .with_columns(run_length(run_key("_gid", pl.col("_d"))).alias("_steps"))
        .collect()
    )

    def in_trend(k: int) -> pl.Expr:
        return pl.col("_d").is_not_null() & (pl.col("_steps") >= k - 1)

    def points_in(k: int) -> pl.Expr:
        # the plateau before a trend's first step belongs to the trend too
        return in_trend(k) | (same_next & in_trend(k).shift(-1).fill_null(False))

    ks = tuple(dict.fromkeys((IHI_TREND, *lengths)))
    k_dir = lengths[0] if lengths else IHI_TREND
    # a trend point's direction: the step to its right when that step is in the trend (as
    # NHSRplotthedots colours a point between two trends), else its own step
    right = same_next & in_trend(k_dir).shift(-1).fill_null(False)
    flags = (
        reps.lazy()
        .select(
            "_gid",
            *(points_in(k).alias(f"_tp{k}") for k in ks),
            in_trend(IHI_TREND).alias("_in_trend"),
            pl.when(right).then(pl.col("_d").shift(-1)).otherwise(pl.col("_d")).fill_null(0).alias("_tdir"),
        )
        .collect()
    )
    stats = flags.lazy().group_by("_gid").agg(pl.col("_in_trend").any().alias("ihi_trend")).collect()
    # every repeated value inherits the flag of its plateau (_rep is dense from 0, one reps row each)
    if not lengths:  # only the per-part IHI flag is wanted
        return stats, {}, None
    out = {k: _scatter(df.height, pts["_row"], flags[f"_tp{k}"].gather(pts["_rep"])) for k in lengths}
    direction = _scatter_int(df.height, pts["_row"], flags["_tdir"].gather(pts["_rep"]))
    return stats, out, direction


def add_runs(df: pl.DataFrame, rules: RuleSet) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return (points with runs_signal and the skip-mode rule flags, one row per part).

    Adds ``runs_signal`` (the rule set's runs test, per part) and the internal per-point flags
    of the rules that skip centre-line points and repeated values: ``_band_shift``/
    ``_band_trend`` (the legacy IHI bands), ``_skip_shift``, ``_long_run``, ``_skip_trend`` and
    ``_skip_tdir`` (a trend point's direction). ``add_point_types`` turns them into point types.
    """
    skip_shift = rules.shift if rules.on_centre_line == "ignore" else None
    anhoej, run_len = _anhoej(df, per_row=bool(rules.bands or skip_shift or rules.longest_run))
    skip_trend = rules.trend if rules.ties == "ignore" else None
    band_shift, band_trend = rules.bands or (None, None)
    lengths = tuple(k for k in (skip_trend, band_trend) if k is not None)
    trend, trend_flags, trend_dir = _ihi_trend(df, lengths)
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
    # runs are meaningless on moving ranges (neighbouring ranges share a point): no IHI flags either
    parts = add(
        parts, [pl.col(c) & (pl.col("chart") != "mr") for c in ("ihi_shift", "ihi_trend", "ihi_runs")]
    )
    if rules.runs_test == "ihi":
        parts = parts.with_columns(pl.col("ihi_runs").alias("runs_signal"))
    elif rules.runs_test is None:
        parts = parts.with_columns(pl.lit(False).alias("runs_signal"))
    not_mr = df["chart"] != "mr"
    new: list[pl.Series] = [parts["runs_signal"].gather(df["_gid"]).alias("runs_signal")]
    if band_shift is not None and band_trend is not None and run_len is not None:
        new += [(run_len >= band_shift).alias("_band_shift"), trend_flags[band_trend].alias("_band_trend")]
    if skip_shift is not None and run_len is not None:
        new.append(((run_len >= skip_shift) & not_mr).alias("_skip_shift"))
    if rules.longest_run and run_len is not None:
        limit = parts["longest_run_max"].gather(df["_gid"])
        new.append(((run_len > limit).fill_null(False) & not_mr).alias("_long_run"))
    if skip_trend is not None and trend_dir is not None:
        new += [(trend_flags[skip_trend] & not_mr).alias("_skip_trend"), trend_dir.alias("_skip_tdir")]
    return df.with_columns(new), parts
