"""The default rule set reproduces what joyflow computed before rule sets existed (issue 16).

``qi_reference/default_rules_points.csv`` and ``default_rules_series.csv`` were written by the
engine of commit 12b9beb (the last one without rule sets) from ``snapshot_input()``: the 160
qicharts2 oracle cases (every chart type, parts, freezes, exclusions, screening; a direction and a
target added per case), the NHSRplotthedots worked example in all three directions, and 60
synthetic series from ``bench.qi_series``. Networks that choose no rule set must see exactly these.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from bench.qi_series import bench_series
from tests.test_qi_oracle import load, to_input
from transforms.qi import analyse
from transforms.qi.rulesets import DEFAULT_RULES, rule_set, rule_set_from_mapping

REF = Path(__file__).parent / "qi_reference"
POINT_COLS = (
    "value",
    "cl",
    "lcl",
    "ucl",
    "lcl_2s",
    "ucl_2s",
    "sigma_signal",
    "runs_signal",
    "shift_point",
    "trend_point",
    "baseline",
    "point_type",
)
SERIES_COLS = (
    "n_points",
    "latest_value",
    "cl_latest",
    "lcl_latest",
    "ucl_latest",
    "variation",
    "assurance",
    "runs_signal",
)
SCHEMA = {"case": pl.Int64, "x": pl.Int64, **{c: pl.Float64 for c in POINT_COLS[:6]}}


def snapshot_input() -> pl.DataFrame:
    """Every case as one long frame keyed by an integer ``case``."""
    oracle = to_input(load()).with_columns(
        pl.col("case").cast(pl.Int64),
        pl.lit(None, dtype=pl.Int64).alias("fix_after"),
    )
    oracle = oracle.with_columns(
        pl.when(pl.col("case") % 3 == 0)
        .then(pl.lit("up"))
        .when(pl.col("case") % 3 == 1)
        .then(pl.lit("down"))
        .otherwise(None)
        .alias("direction"),
        pl.when(pl.col("case") % 2 == 0)
        .then(pl.col("y").mean().over("case"))
        .otherwise(None)
        .alias("target"),
    )
    mdc = pl.read_csv(REF / "nhsrplotthedots_mdc_example.csv").select("x", pl.col("y").cast(pl.Float64))
    mdc_cases = [
        mdc.with_columns(
            pl.lit(1000 + k, dtype=pl.Int64).alias("case"),
            pl.lit("i").alias("chart"),
            pl.lit(d, dtype=pl.Utf8).alias("direction"),
            pl.lit(50.0).alias("target"),
            pl.lit(True).alias("screen"),
        )
        for k, d in enumerate(["up", "down", None])
    ]
    synthetic = bench_series(60, 24, seed=5).rename({"series_id": "case"}).with_columns(pl.col("case") + 2000)
    frames = [oracle, *mdc_cases, synthetic]
    cols = ["case", "x", "y", "n", "chart", "direction", "target", "freeze", "part", "exclude", "screen"]
    return pl.concat([f.select([c for c in cols if c in f.columns]) for f in frames], how="diagonal_relaxed")


def _check(rules: object) -> None:
    res = analyse(snapshot_input(), ["case"], **({} if rules is None else {"rules": rules}))
    points = pl.read_csv(REF / "default_rules_points.csv", schema_overrides=SCHEMA)
    series = pl.read_csv(REF / "default_rules_series.csv", infer_schema_length=None)
    got_points = res.points.select("case", "x", *POINT_COLS)
    assert got_points.height == points.height == 2535 + 90 + 1440
    assert_frame_equal(got_points, points, check_exact=False, rel_tol=1e-12, abs_tol=1e-12)
    got_series = res.series.select("case", *SERIES_COLS)
    assert_frame_equal(got_series, series.cast(dict(got_series.schema)), check_exact=False, rel_tol=1e-12)


def test_default_rules_reproduce_the_engine_before_rule_sets() -> None:
    _check(None)


def test_every_spelling_of_the_default_is_the_same_rule_set() -> None:
    assert rule_set() is DEFAULT_RULES
    assert rule_set("default") is DEFAULT_RULES
    assert rule_set_from_mapping({}) is DEFAULT_RULES
    assert rule_set_from_mapping(None) is DEFAULT_RULES
    _check(rule_set_from_mapping({"rules": "default"}))


def test_default_adds_only_new_columns() -> None:
    """New outputs are extra columns; no column the reports read changes name or disappears."""
    res = analyse(snapshot_input(), ["case"])
    assert set(POINT_COLS) | {"signal_rule"} <= set(res.points.columns)
    assert {"variation_rule", "too_few_points"} <= set(res.series.columns)
    # the rule named per point agrees with the point's type: special cause exactly when named
    special = res.points["point_type"] != "common_cause"
    assert (special == res.points["signal_rule"].is_not_null()).all()
    assert not res.series["too_few_points"].any()  # the default never withholds limits
