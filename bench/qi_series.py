"""Synthetic input for the benchmark harness, and a timing helper: ``analyse`` vs the loop."""

from __future__ import annotations

import time
from dataclasses import dataclass

import polars as pl

from bench.qi_loop import analyse_loop
from transforms.qi.analyse import analyse
from transforms.qi.constants import CHARTS
from transforms.qi.rulesets import DEFAULT_RULES, RuleSet


def bench_series(n_series: int = 100_000, n_points: int = 24, seed: int = 0) -> pl.DataFrame:
    """A long frame of ``n_series`` x ``n_points`` points with every chart type mixed in.

    Built with Polars' own random expressions (no numpy), so 2.4 M rows take well under a
    second and little memory. Series get a shift half-way in a third of cases, some
    excluded points, a baseline freeze, two parts or screening, targets and directions.
    """
    rows = n_series * n_points
    k = len(CHARTS)
    df = pl.DataFrame({"row": pl.int_range(rows, dtype=pl.Int64, eager=True)}).with_columns(
        (pl.col("row") // n_points).alias("series_id"),
        (pl.col("row") % n_points + 1).alias("x"),
    )

    def rnd(salt: int) -> pl.Expr:
        """Deterministic uniform [0, 1) from a hash of (row, salt, seed)."""
        return (pl.col("row") * 7919 + salt * 104_729 + seed).hash(seed) % 1_000_003 / 1_000_003

    def srnd(salt: int) -> pl.Expr:
        """Same, constant per series."""
        return (pl.col("series_id") * 7919 + salt * 104_729 + seed).hash(seed) % 1_000_003 / 1_000_003

    chart = pl.lit(pl.Series(CHARTS)).gather((srnd(1) * k).cast(pl.Int64))
    gauss = (rnd(2) + rnd(3) + rnd(4) + rnd(5) - 2) * 1.7  # ~N(0, 1)
    shifted = (srnd(6) < 0.33) & (pl.col("x") > n_points // 2)
    n = (20 + rnd(7) * 180).floor()
    p = 0.2 + pl.when(shifted).then(0.1).otherwise(0.0)
    df = df.with_columns(
        chart.alias("chart"), gauss.alias("_g"), shifted.alias("_s"), n.alias("_n"), p.alias("_p")
    )
    level = 10 + pl.when(pl.col("_s")).then(3.0).otherwise(0.0)
    binom = (
        pl.col("_n") * pl.col("_p") + pl.col("_g") * (pl.col("_n") * pl.col("_p") * (1 - pl.col("_p"))).sqrt()
    )
    y = (
        pl.when(pl.col("chart").is_in(["p", "pp"]))
        .then(binom.round().clip(0, pl.col("_n")))
        .when(pl.col("chart").is_in(["u", "up"]))
        .then((pl.col("_n") * 0.3 + pl.col("_g") * (pl.col("_n") * 0.3).sqrt()).round().clip(0))
        .when(pl.col("chart") == "c")
        .then((level + pl.col("_g") * level.sqrt()).round().clip(0))
        .otherwise((level + pl.col("_g") * 2).round(1))
    )
    has_n = pl.col("chart").is_in(["p", "pp", "u", "up"])
    mode = srnd(8)
    df = df.with_columns(
        y.cast(pl.Float64).alias("y"),
        pl.when(has_n).then(pl.col("_n")).otherwise(None).cast(pl.Float64).alias("n"),
        pl.when(srnd(9) < 0.4)
        .then(pl.lit("up"))
        .when(srnd(9) < 0.8)
        .then(pl.lit("down"))
        .otherwise(None)
        .alias("direction"),
        pl.when(srnd(10) < 0.5).then(level * (0.8 + srnd(11) * 0.4)).otherwise(None).alias("target"),
        pl.when(mode < 0.2).then(pl.lit(n_points // 2)).otherwise(None).cast(pl.Int64).alias("freeze"),
        pl.when((mode >= 0.2) & (mode < 0.4) & (pl.col("x") > n_points // 2))
        .then(2)
        .otherwise(1)
        .cast(pl.Int64)
        .alias("part"),
        (rnd(12) < 0.03).alias("exclude"),
        (srnd(13) < 0.5).alias("screen"),
    )
    return df.select(
        "series_id", "x", "y", "n", "chart", "direction", "target", "freeze", "part", "exclude", "screen"
    )


@dataclass(frozen=True)
class BenchResult:
    n_series: int
    n_points: int
    vectorised_s: float
    loop_s: float  # extrapolated to n_series when the loop ran on a sample
    loop_sample: int
    rules: str = "default"

    @property
    def speedup(self) -> float:
        return self.loop_s / self.vectorised_s if self.vectorised_s else float("inf")


def time_analyse_vs_loop(
    n_series: int = 100_000,
    n_points: int = 24,
    loop_sample: int = 5_000,
    seed: int = 0,
    rules: RuleSet = DEFAULT_RULES,
    df: pl.DataFrame | None = None,
) -> BenchResult:
    """Time ``analyse`` on all series and the loop on a sample, extrapolated linearly, under one
    rule set (pass ``df`` to reuse one generated frame across rule sets)."""
    if df is None:
        df = bench_series(n_series, n_points, seed)
    t0 = time.perf_counter()
    analyse(df, rules=rules)
    vec = time.perf_counter() - t0
    sample = min(loop_sample, n_series)
    sub = df.filter(pl.col("series_id") < sample)
    t0 = time.perf_counter()
    analyse_loop(sub, rules=rules)
    loop = (time.perf_counter() - t0) * n_series / sample
    return BenchResult(n_series, n_points, vec, loop, sample, rules.name)
