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

That is the default and ``mdc`` rule set; other rule sets (``rulesets``) change the lengths,
drop or add rules (Anhøj's longest run, Provost & Murray's 15 points in the inner third, which
gives "neutral": less variation is neither better nor worse) and the precedence. The first rule
in precedence order that flags a point is its ``signal_rule``.
"""

from __future__ import annotations

import polars as pl

from .constants import POINT_TYPES
from .frame import run_key, run_length
from .rulesets import DEFAULT_RULES, RuleSet

# Making Data Count's words for a series' variation and assurance (its icons' names).
MDC_VARIATION_WORDS: dict[str, str] = {
    "special_cause_improvement": "improvement",
    "special_cause_concern": "concern",
    "special_cause_neutral": "neither improvement nor concern",
    "common_cause": "common cause",
}
MDC_ASSURANCE_WORDS: dict[str, str] = {
    "consistently_hit": "consistently passing",
    "consistently_miss": "consistently failing",
    "hit_and_miss": "inconsistent",
}


def _same(k: int) -> pl.Expr:
    """Row k places away (k>0 before, k<0 after) is in the same part."""
    return (pl.col("_gid") == pl.col("_gid").shift(k)).fill_null(False)


def _shifted(col: str, k: int, fill: object) -> pl.Expr:
    return pl.when(_same(k)).then(pl.col(col).shift(k)).otherwise(pl.lit(fill))


def add_point_types(df: pl.DataFrame, rules: RuleSet = DEFAULT_RULES) -> pl.DataFrame:
    """Add sigma_signal, point_type, signal_rule, shift_point and trend_point (one lazy query).

    Break-mode rules (a centre-line point, a tie or a missing value ends a run/trend) are
    computed here over every row of a part; skip-mode flags come from ``runs.add_runs``.
    """
    v, cl = pl.col("value"), pl.col("cl")
    is_mr, is_run = pl.col("chart") == "mr", pl.col("chart") == "run"
    outside = ((v > pl.col("ucl")) | (v < pl.col("lcl"))).fill_null(False)
    skip = [
        c
        for c in ("_band_shift", "_band_trend", "_skip_shift", "_long_run", "_skip_trend", "_skip_tdir")
        if c in df.columns
    ]
    cols = ("_gid", "chart", "direction", "value", "cl", "lcl", "ucl", "lcl_2s", "ucl_2s", *skip)
    q = df.select(cols).rechunk().lazy()  # single chunks for run_length
    q = q.with_columns(
        outside.alias("sigma_signal"),
        (v - cl).sign().fill_null(0).cast(pl.Int8).alias("_rtm"),
        (~outside & ((v > pl.col("ucl_2s")) | (v < pl.col("lcl_2s")))).fill_null(False).alias("_close"),
        pl.when(_same(1)).then((v - v.shift(1)).sign()).cast(pl.Int8).alias("_d"),
    )
    flags: dict[str, pl.Expr] = {"beyond_limits": pl.col("sigma_signal")}
    shift_b = rules.shift if rules.on_centre_line == "break" else None
    trend_b = rules.trend if rules.ties == "break" else None
    if shift_b is not None:
        # runs of one non-zero side, as run ids within a part
        side_run = run_length(run_key("_gid", pl.col("_rtm")))
        q = q.with_columns(((pl.col("_rtm") != 0) & (side_run >= shift_b) & ~is_mr).alias("_shiftb"))
        flags["shift"] = pl.col("_shiftb")
    elif "_skip_shift" in skip:
        flags["shift"] = pl.col("_skip_shift")
    if "_long_run" in skip:
        flags["longest_run"] = pl.col("_long_run")
    if trend_b is not None:
        step_run = run_length(run_key("_gid", pl.col("_d").fill_null(0)))
        # >= trend - 1 strict steps in one direction; a segment's first point precedes its first step
        q = q.with_columns(((pl.col("_d") != 0) & (step_run >= trend_b - 1)).fill_null(False).alias("_step"))
        q = q.with_columns(((pl.col("_step") | _shifted("_step", -1, False)) & ~is_mr).alias("_trendb"))
        flags["trend"] = pl.col("_trendb")
        # direction of a trend point: the step to the right when the next point is in the trend too
        trend_dir = (
            pl.when(pl.col("_trendb") & _shifted("_trendb", -1, False))
            .then(_shifted("_d", -1, 0))
            .otherwise(pl.col("_d").fill_null(0))
        )
    elif "_skip_trend" in skip:
        flags["trend"] = pl.col("_skip_trend")
        trend_dir = pl.col("_skip_tdir")
    else:
        trend_dir = pl.lit(0)
    if rules.two_of_three:
        # windows of 3 consecutive points with >= 2 beyond 2 sigma, all three on the same side
        c0 = pl.col("_close").cast(pl.Int8)
        c1, c2 = _shifted("_close", -1, False).cast(pl.Int8), _shifted("_close", -2, False).cast(pl.Int8)
        r0 = pl.col("_rtm").cast(pl.Int8)
        r1, r2 = _shifted("_rtm", -1, 0).cast(pl.Int8), _shifted("_rtm", -2, 0).cast(pl.Int8)
        q = q.with_columns((((c0 + c1 + c2) >= 2) & ((r0 + r1 + r2).abs() == 3)).alias("_win"))
        in_window = pl.col("_win") | _shifted("_win", 1, False) | _shifted("_win", 2, False)
        flags["two_of_three"] = in_window & pl.col("_close") & ~is_mr & ~is_run
    if rules.inner_third is not None:
        # inside the middle third of the drawn limits (Provost & Murray's "inner one-third")
        inner = ((v < cl + (pl.col("ucl") - cl) / 3) & (v > cl - (cl - pl.col("lcl")) / 3)).fill_null(False)
        q = q.with_columns(inner.alias("_inner"))
        inner_run = run_length(run_key("_gid", pl.col("_inner").cast(pl.Int8)))
        flags["inner_third"] = pl.col("_inner") & (inner_run >= rules.inner_third) & ~is_mr & ~is_run
    used = rules.rules_used()
    rule = pl.lit(None, dtype=pl.Utf8)
    for name in reversed(used):  # the first rule in precedence order wins
        rule = pl.when(flags[name]).then(pl.lit(name)).otherwise(rule)
    q = q.with_columns(rule.alias("signal_rule"), trend_dir.alias("_tdir"))
    rtm, sr = pl.col("_rtm"), pl.col("signal_rule")
    side = pl.when(rtm > 0).then(1).otherwise(-1)
    high_low = (
        pl.when(sr.is_null() | (sr == "inner_third"))
        .then(0)
        .when(sr == "beyond_limits")
        .then(pl.when(rtm == 1).then(1).otherwise(-1))
        .when(sr == "trend")
        .then(pl.col("_tdir"))
        .otherwise(side)
    )
    # a trend point between two trends with a tie has no direction: common cause (NHSRplotthedots)
    q = q.with_columns(high_low.alias("_hl")).with_columns(
        pl.when((pl.col("_hl") == 0) & (sr != "inner_third")).then(None).otherwise(sr).alias("signal_rule")
    )
    high_low = pl.col("_hl")
    direction = pl.col("direction")
    oriented = high_low * pl.when(direction == "down").then(-1).otherwise(1)
    # index into POINT_TYPES: improvement, concern, neutral, common cause
    code = (
        pl.when(sr.is_null())
        .then(3)
        .when(direction.is_null() | (high_low == 0))
        .then(2)
        .when(oriented > 0)
        .then(0)
        .otherwise(1)
    )
    labels = pl.lit(pl.Series(POINT_TYPES, dtype=pl.Utf8))
    if rules.bands is not None and "_band_shift" in skip:  # absent when called on its own
        shift_point = pl.col("_band_shift") & ~is_mr
        trend_point = pl.col("_band_trend") & ~is_mr
    else:
        shift_point = flags.get("shift", flags.get("longest_run", pl.lit(False)))
        trend_point = flags.get("trend", pl.lit(False))
    new = q.select(
        "sigma_signal",
        labels.gather(code).alias("point_type"),
        "signal_rule",
        shift_point.fill_null(False).alias("shift_point"),
        trend_point.fill_null(False).alias("trend_point"),
    ).collect()
    return df.drop(skip).with_columns(new.get_columns())


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
