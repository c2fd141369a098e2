"""160 random one-series cases against qicharts2's own algorithm (oracle, not published numbers).

``qi_reference/qicharts2_oracle_cases.csv`` holds the output of qicharts2 0.8's helper functions
(qic.run/i/mr/p/pp/u/up/c, runs.analysis, part/freeze/exclude handling of qic.agg), transcribed to
a standalone R script and run under R 4.2.2, for every chart type with missing values, outliers,
freezes, phases, exclusions and screening on or off. qicharts2 ignores ``freeze`` when ``part`` is
given, so those cases are run without the freeze here.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from polars.testing import assert_series_equal

from transforms.qi import analyse, parts_from_splits

CASES = Path(__file__).parent / "qi_reference" / "qicharts2_oracle_cases.csv"


def load() -> pl.DataFrame:
    return pl.read_csv(
        CASES,
        schema_overrides={
            "y": pl.Float64,
            "n": pl.Float64,
            "part": pl.Utf8,
            "exclude": pl.Utf8,
            "freeze": pl.Int64,
            **{c: pl.Float64 for c in ("cl", "lcl", "ucl", "lcl_2s", "ucl_2s")},
        },
    )


def to_input(ref: pl.DataFrame) -> pl.DataFrame:
    frames = []
    for _, g in ref.group_by(["case"], maintain_order=True):
        g = g.sort("x")
        size = g.height
        spec = g.row(0, named=True)
        splits = [int(s) for s in spec["part"].split(";")] if spec["part"] else None
        excluded = {int(s) for s in spec["exclude"].split(";")} if spec["exclude"] else set()
        frames.append(
            g.select("case", "x", "y", "n", "chart").with_columns(
                pl.lit(None if splits else spec["freeze"], dtype=pl.Int64).alias("freeze"),
                pl.Series("part", parts_from_splits(splits, size), dtype=pl.Int64),
                pl.Series("exclude", [i + 1 in excluded for i in range(size)]),
                pl.lit(spec["screen"] == 1).alias("screen"),
            )
        )
    return pl.concat(frames)


def test_engine_matches_qicharts2_algorithm_on_random_cases() -> None:
    ref = load()
    res = analyse(to_input(ref), ["case"])
    got = res.points.join(
        res.parts.select("case", "part", "n_useful", "longest_run", "crossings"), on=["case", "part"]
    )
    got = got.sort("case", "x")
    ref = ref.sort("case", "x")
    assert got.height == ref.height == 2535
    for col in ("cl", "lcl", "ucl", "lcl_2s", "ucl_2s"):
        assert_series_equal(got[col], ref[col], check_exact=False, rel_tol=1e-9, abs_tol=1e-9)
    for col in ("sigma_signal", "runs_signal"):
        assert_series_equal(got[col], ref[col].cast(pl.Boolean), check_names=False)
    # qicharts2 reports NA (not 0) when no point is useful
    assert_series_equal(got["n_useful"].cast(pl.Int64), ref["n_useful"].cast(pl.Int64), check_names=False)
    for col in ("longest_run", "crossings"):
        assert_series_equal(got[col].cast(pl.Int64), ref[col].cast(pl.Int64), check_names=False)
