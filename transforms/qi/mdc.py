"""Making Data Count point types, variation and assurance (NHSRplotthedots 0.2 rules).

Per part, in NHSRplotthedots' precedence (``ptd_special_cause_type``):
1. outside the 3-sigma limits (above / below by the side of the centre line);
2. part of a 7-point trend (each point strictly above / below its predecessor; a tie or a
   missing value breaks it), its direction taken from the neighbouring step;
3. part of "2 of 3": the point lies between the 2- and 3-sigma lines and is in a window of 3
   consecutive points, all on the same side of the centre line, with >= 2 such points;
4. part of a run of 7 points on one side of the centre line (a point on it breaks the run).
Direction up/down turns high/low into improvement/concern; no direction gives "neutral".
Our charts use their own limits (P, U, ... vary per point); NHSRplotthedots only draws XmR.
Run charts have no limits, so only rules 2 and 4 apply; MR charts only use rule 1.
"""

from __future__ import annotations

import polars as pl

from .constants import MDC_RUN, MDC_TREND, POINT_TYPES
from .frame import run_key, run_length


def _same(k: int) -> pl.Expr:
    """Row k places away (k>0 before, k<0 after) is in the same part."""
    return (pl.col("_gid") == pl.col("_gid").shift(k)).fill_null(False)


def _shifted(col: str, k: int, fill: object) -> pl.Expr:
    return pl.when(_same(k)).then(pl.col(col).shift(k)).otherwise(pl.lit(fill))


def add_point_types(df: pl.DataFrame) -> pl.DataFrame:
    """Add sigma_signal and point_type to the limits-bearing point frame (one lazy query)."""
    v, cl = pl.col("value"), pl.col("cl")
    is_mr, is_run = pl.col("chart") == "mr", pl.col("chart") == "run"
    outside = ((v > pl.col("ucl")) | (v < pl.col("lcl"))).fill_null(False)
    cols = ("_gid", "chart", "direction", "value", "cl", "lcl", "ucl", "lcl_2s", "ucl_2s")
    q = df.select(cols).rechunk().lazy()  # single chunks for run_length
    q = q.with_columns(
        outside.alias("sigma_signal"),
        (v - cl).sign().fill_null(0).cast(pl.Int8).alias("_rtm"),
        (~outside & ((v > pl.col("ucl_2s")) | (v < pl.col("lcl_2s")))).fill_null(False).alias("_close"),
        pl.when(_same(1)).then((v - v.shift(1)).sign()).cast(pl.Int8).alias("_d"),
    )
    # rule 4 (runs of one non-zero side) and rule 2 (monotone segments) as run ids within a part
    side_run = run_length(run_key("_gid", pl.col("_rtm")))
    step_run = run_length(run_key("_gid", pl.col("_d").fill_null(0)))
    q = q.with_columns(
        ((pl.col("_rtm") != 0) & (side_run >= MDC_RUN) & ~is_mr).alias("_run7"),
        # >= 6 strict steps (7 points) in one direction
        ((pl.col("_d") != 0) & (step_run >= MDC_TREND - 1)).fill_null(False).alias("_step"),
    )
    # rule 3 windows: 2 of 3 beyond 2 sigma, all three on the same side
    c0 = pl.col("_close").cast(pl.Int8)
    c1, c2 = _shifted("_close", -1, False).cast(pl.Int8), _shifted("_close", -2, False).cast(pl.Int8)
    r0 = pl.col("_rtm").cast(pl.Int8)
    r1, r2 = _shifted("_rtm", -1, 0).cast(pl.Int8), _shifted("_rtm", -2, 0).cast(pl.Int8)
    q = q.with_columns(
        # a trend segment's first point is the one before its first step
        ((pl.col("_step") | _shifted("_step", -1, False)) & ~is_mr).alias("_trend7"),
        (((c0 + c1 + c2) >= 2) & ((r0 + r1 + r2).abs() == 3)).alias("_win"),
    )
    in_window = pl.col("_win") | _shifted("_win", 1, False) | _shifted("_win", 2, False)
    # direction of a trend point: the step to the right when the next point is in the trend too
    trend_dir = (
        pl.when(pl.col("_trend7") & _shifted("_trend7", -1, False))
        .then(_shifted("_d", -1, 0))
        .otherwise(pl.col("_d").fill_null(0))
    )
    rtm = pl.col("_rtm")
    high_low = (
        pl.when(pl.col("sigma_signal"))
        .then(pl.when(rtm == 1).then(1).otherwise(-1))
        .when(pl.col("_trend7"))
        .then(trend_dir)
        .when((in_window & pl.col("_close") & ~is_mr & ~is_run) | pl.col("_run7"))
        .then(pl.when(rtm > 0).then(1).otherwise(-1))
        .otherwise(0)
    )
    direction = pl.col("direction")
    oriented = high_low * pl.when(direction == "down").then(-1).otherwise(1)
    # index into POINT_TYPES: improvement, concern, neutral, common cause
    code = (
        pl.when(high_low == 0)
        .then(3)
        .when(direction.is_null())
        .then(2)
        .when(oriented > 0)
        .then(0)
        .otherwise(1)
    )
    labels = pl.lit(pl.Series(POINT_TYPES, dtype=pl.Utf8))
    new = q.select("sigma_signal", labels.gather(code).alias("point_type")).collect()
    return df.with_columns(new.get_columns())


def assurance_expr() -> pl.Expr:
    """NHSRplotthedots ``ptd_calculate_assurance_type`` on the latest point's limits."""
    t, ucl, lcl, up = (
        pl.col("target"),
        pl.col("ucl_latest"),
        pl.col("lcl_latest"),
        pl.col("direction") == "up",
    )
    return (
        pl.when(t.is_null() | pl.col("direction").is_null() | ucl.is_null() | lcl.is_null())
        .then(None)
        .when(t > ucl)
        .then(pl.when(up).then(pl.lit("consistently_miss")).otherwise(pl.lit("consistently_hit")))
        .when(t < lcl)
        .then(pl.when(up).then(pl.lit("consistently_hit")).otherwise(pl.lit("consistently_miss")))
        .otherwise(pl.lit("hit_and_miss"))
    )
