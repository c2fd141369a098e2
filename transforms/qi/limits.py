"""Centre lines and 2-/3-sigma limits for every chart type, all groups at once.

Follows qicharts2's helper functions (qic.run, qic.i, qic.mr, qic.p, qic.pp, qic.u, qic.up,
qic.c): statistics come from the part's baseline, non-excluded points; moving ranges are taken
over the sequence of baseline, non-excluded points (so an excluded point is bridged, while a
missing value breaks the range), optionally screened (Nelson 1982) by dropping ranges
>= 3.267 x their mean before re-averaging.
"""

from __future__ import annotations

import polars as pl

from .constants import D2, D4, MR_SIGMA_CHARTS, NONNEG_CHARTS, PROPORTION_CHARTS
from .frame import add


def _broadcast(df: pl.DataFrame, gids: pl.Series, values: pl.Series, n_groups: int) -> pl.Series:
    """Per-group values (for the groups present) onto every row, by the dense ``_gid``."""
    full = pl.repeat(None, n_groups, dtype=values.dtype, eager=True).scatter(gids, values)
    return full.gather(df["_gid"])


def _centre(df: pl.DataFrame, n_groups: int) -> pl.DataFrame:
    """Median (run), mean (I, MR, C) or pooled ratio (P, P', U, U') of each part's baseline."""
    base = (
        df.lazy()
        .select(pl.col("_gid").set_sorted(), "chart", "value", "y", "_n", "_use")
        .filter(pl.col("_use"))
    )
    medians = (
        base.filter(pl.col("chart") == "run").group_by("_gid").agg(pl.col("value").median().alias("_median"))
    )
    first_pass = base.group_by("_gid").agg(pl.col("value").mean().alias("_m0"))
    # Two-pass mean, as R's mean(): m0 + mean(x - m0). A one-pass float sum depends on how the
    # rows happen to be chunked, so a point lying exactly on the mean (10 values averaging 11.0)
    # could land on either side of it from one batch to the next; the correction removes that.
    stats = (
        base.join(first_pass, on="_gid", how="left")
        .group_by("_gid")
        .agg(
            pl.col("chart").first(),
            pl.len().cast(pl.Int64).alias("_n_base"),  # baseline points: the "too few points" count
            (pl.col("_m0").first() + (pl.col("value") - pl.col("_m0")).mean()).alias("_mean"),
            (pl.col("y").sum() / pl.col("_n").sum()).alias("_ratio"),
        )
    )
    chart = pl.col("chart")
    cl = (
        pl.when(chart == "run")
        .then(pl.col("_median"))
        .when(chart.is_in(["i", "mr", "c"]))
        .then(pl.col("_mean"))
        .otherwise(pl.col("_ratio"))
    )
    stats = (
        stats.join(medians, on="_gid", how="left")
        .select("_gid", cl.cast(pl.Float64).alias("cl"), "_n_base")
        .collect()
    )
    return df.with_columns(
        _broadcast(df, stats["_gid"], stats["cl"], n_groups).alias("cl"),
        _broadcast(df, stats["_gid"], stats["_n_base"], n_groups).fill_null(0).alias("_n_base"),
    )


def _binomial_poisson_sigma() -> pl.Expr:
    """Per-point sigma of the attribute charts (None for run, i, mr)."""
    chart, cl, n = pl.col("chart"), pl.col("cl"), pl.col("_n")
    return (
        pl.when(chart.is_in(PROPORTION_CHARTS))
        .then((cl * (1 - cl) / n).sqrt())
        .when(chart.is_in(["u", "up"]))
        .then((cl / n).sqrt())
        .when(chart == "c")
        .then(cl.sqrt())
        .otherwise(None)
    )


def _average_moving_range(df: pl.DataFrame, n_groups: int) -> pl.DataFrame:
    """AMR of values (I) or of z-scores (P', U') over baseline, included points."""
    src = (
        pl.when(pl.col("chart") == "i")
        .then(pl.col("value"))
        .otherwise((pl.col("value") - pl.col("cl")) / pl.col("_sig"))
    )
    seq = (
        df.lazy()
        .filter(pl.col("_bi") & pl.col("chart").is_in(MR_SIGMA_CHARTS))
        .select("_gid", "_screen", src.alias("_src"))
        .collect()
    )
    same_prev = (pl.col("_gid") == pl.col("_gid").shift(1)).fill_null(False)
    seq = add(seq, pl.when(same_prev).then((pl.col("_src") - pl.col("_src").shift(1)).abs()).alias("_mr"))
    mr = pl.col("_mr")
    # Nelson (1982) screening: drop ranges >= 3.267 x their average, then re-average
    kept = pl.when(~pl.col("_screen") | (mr < D4 * mr.mean().over("_gid"))).then(mr)
    stats = (
        seq.lazy()
        .with_columns(pl.col("_gid").set_sorted())
        .group_by("_gid")
        .agg(kept.mean().alias("_amr"))
        .collect()
    )
    return df.with_columns(_broadcast(df, stats["_gid"], stats["_amr"], n_groups).alias("_amr"))


def add_limits(df: pl.DataFrame, i_factor: float) -> pl.DataFrame:
    """Add cl, lcl, ucl, lcl_2s, ucl_2s; ``i_factor`` is the I chart's 3-sigma multiple of AMR."""
    n_groups = int(df["_gid"].max()) + 1 if df.height else 0
    df = _centre(df, n_groups)
    # non-finite sigmas (sqrt of a negative p(1-p) when y > n, 0/0 z-scores) give missing limits,
    # as qicharts2's is.finite() clean-up does
    df = add(df, _binomial_poisson_sigma().fill_nan(None).alias("_sig"))
    df = _average_moving_range(df, n_groups)
    chart, cl = pl.col("chart"), pl.col("cl")
    # sigma such that the 3-sigma limit is cl +/- 3 * sigma (missing for run and MR charts)
    sd = (
        pl.when(chart == "i")
        .then(pl.col("_amr") * (i_factor / 3))
        .when(chart.is_in(["pp", "up"]))
        .then(pl.col("_sig") * pl.col("_amr") / D2)
        .otherwise(pl.col("_sig"))
        .fill_nan(None)
    )
    is_mr = chart == "mr"
    nonneg, prop = chart.is_in(NONNEG_CHARTS), chart.is_in(PROPORTION_CHARTS)

    def lower(k: int) -> pl.Expr:
        raw = pl.when(is_mr).then(pl.lit(0.0)).otherwise(cl - k * sd)
        return pl.when(nonneg & (raw < 0)).then(0.0).otherwise(raw)

    def upper(k: int) -> pl.Expr:
        raw = pl.when(is_mr).then(D4 / 3 * k * cl).otherwise(cl + k * sd)
        return pl.when(prop & (raw > 1)).then(1.0).otherwise(raw)

    df = add(
        df, lower(3).alias("lcl"), upper(3).alias("ucl"), lower(2).alias("lcl_2s"), upper(2).alias("ucl_2s")
    )
    return df.drop("_sig", "_amr")


def too_few_points(df: pl.DataFrame, min_points: int) -> pl.DataFrame:
    """Drop the limits of parts whose baseline has fewer than ``min_points`` useful points.

    The one place that decides "too few points for limits": adds ``_few`` (True on every
    point of such a control-chart part) and nulls its 3- and 2-sigma lines; the centre line
    stays. ``min_points`` <= 1 changes nothing (limits exist whenever they can be computed).
    """
    if min_points <= 1:
        return df.drop("_n_base").with_columns(pl.lit(False).alias("_few"))
    few = (pl.col("_n_base") < min_points) & (pl.col("chart") != "run")
    df = add(df, few.alias("_few")).drop("_n_base")
    lines = ("lcl", "ucl", "lcl_2s", "ucl_2s")
    return add(df, [pl.when(pl.col("_few")).then(None).otherwise(pl.col(c)).alias(c) for c in lines])
