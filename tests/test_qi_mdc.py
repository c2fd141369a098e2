"""Making Data Count point types, variation and assurance, against NHSRplotthedots.

The rule tests mirror the package's published unit tests (tests/testthat/
test-ptd_calculate_point_type.R, test-ptd_calculate_assurance_type.R, test-ptd_spc_standard.R);
the worked example was computed with the package's own rule functions (see qi_reference/README).
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest

from transforms.qi import analyse
from transforms.qi.constants import NHSR_I_FACTOR
from transforms.qi.mdc import add_point_types, assurance_expr

REF = Path(__file__).parent / "qi_reference"
SPECIAL = {"special_cause_improvement", "special_cause_concern", "special_cause_neutral"}


def classify(
    values: list[float], cl: float = 0.0, sigma: float = 1.0, direction: str | None = "up"
) -> list[str]:
    """Point types for one part with fixed centre line and limits (cl +/- 2, 3 sigma)."""
    n = len(values)
    df = pl.DataFrame(
        {
            "_gid": [0] * n,
            "chart": ["i"] * n,
            "value": [float(v) for v in values],
            "cl": [cl] * n,
            "lcl": [cl - 3 * sigma] * n,
            "ucl": [cl + 3 * sigma] * n,
            "lcl_2s": [cl - 2 * sigma] * n,
            "ucl_2s": [cl + 2 * sigma] * n,
            "direction": pl.Series([direction] * n, dtype=pl.Utf8),
        }
    )
    return add_point_types(df)["point_type"].to_list()


def flags(types: list[str]) -> list[int]:
    return [int(t in SPECIAL) for t in types]


def test_seven_points_one_side_of_the_mean() -> None:
    """ptd_seven_point_one_side_mean(c(rep(1, 8), -1)) flags points 7-8; part-of marks 1-8."""
    assert flags(classify([1.0] * 8 + [-1.0])) == [1] * 8 + [0]
    assert flags(classify([1.0] * 6 + [-1.0])) == [0] * 7  # rep(1, 6), -1: no run of 7
    assert classify([-1.0] * 8 + [1.0])[:8] == ["special_cause_concern"] * 8  # below, direction up
    assert classify([1.0] * 7 + [0.0] + [1.0] * 6)[7] == "common_cause"  # a point on the mean breaks it


def test_seven_point_trend() -> None:
    """ptd_seven_point_trend(c(2, 1:7, 3)) flags point 8; part-of marks points 2-8. Ties break trends."""
    types = classify([2, 1, 2, 3, 4, 5, 6, 7, 3], cl=4.0, sigma=10)
    assert flags(types) == [0, 1, 1, 1, 1, 1, 1, 1, 0]
    assert set(types[1:8]) == {"special_cause_improvement"}  # increasing, direction up
    assert flags(classify([1, 2, 3, 3, 4, 5, 6], cl=3.5, sigma=10)) == [0] * 7  # c(1:3, 3:6)
    falling = classify([2, 7, 6, 5, 4, 3, 2, 1, 3], cl=4.0, sigma=10, direction="up")
    assert set(falling[1:8]) == {"special_cause_concern"}  # c(2, 7:1, 3), decreasing


def test_trend_colour_follows_its_direction_not_the_mean() -> None:
    """NHSRplotthedots 0.2 fix (#171): a rising trend that starts below the mean is all 'increasing'."""
    types = classify([-3, -2, -1, 0.5, 1, 1.5, 2, 0], cl=0.0, sigma=10, direction="down")
    assert types[:7] == ["special_cause_concern"] * 7


@pytest.mark.parametrize(
    ("close", "side", "expected"),
    [
        ([0, 0, 1, 0, 1, 0, 0], [-1, -1, 1, 1, 1, -1, -1], [0, 0, 1, 0, 1, 0, 0]),  # fv / fa
        ([0, 0, 1, 1, 0, 0, 0], [-1, 1, 1, 1, -1, -1, -1], [0, 0, 1, 1, 0, 0, 0]),  # gv / ga
        ([1, 0, 0, 1], [1, 1, 1, 1], [0, 0, 0, 0]),  # hv / ha
        ([1, 0, 0, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 1, 1]),  # iv / ia
        ([1, 0, 1], [1, 1, 1], [1, 0, 1]),  # cv / ca
    ],
)
def test_two_in_three_beyond_two_sigma(close: list[int], side: list[int], expected: list[int]) -> None:
    """ptd_part_of_two_in_three(ptd_two_in_three(v), v) cases (sides keep 7-point runs away)."""
    values = [(2.5 if c else 0.5) * s for c, s in zip(close, side, strict=True)]  # 2.5 sigma: between 2 and 3
    assert flags(classify(values)) == expected


def test_two_in_three_needs_the_same_side() -> None:
    """test-ptd_spc_standard.R: 5.5 then -5.5 on symmetric data are both common cause."""
    y = [1.0, -1.0] * 8
    y[14], y[15] = 5.5, -5.5
    df = pl.DataFrame(
        {"series_id": 1, "x": list(range(16)), "y": y, "chart": "i", "direction": "up", "screen": True}
    )
    pts = analyse(df, i_factor=NHSR_I_FACTOR).points
    assert pts["point_type"].tail(2).to_list() == ["common_cause", "common_cause"]


def test_outside_limits_takes_precedence() -> None:
    types = classify([0.5, 0.5, 4.0, 0.5], direction="down")
    assert types == ["common_cause", "common_cause", "special_cause_concern", "common_cause"]
    assert classify([-4.0], direction=None) == ["special_cause_neutral"]


@pytest.mark.parametrize(
    ("direction", "expected"),
    [
        ("up", ["consistently_miss", "consistently_hit", "hit_and_miss"]),
        ("down", ["consistently_hit", "consistently_miss", "hit_and_miss"]),
        (None, [None, None, None]),
    ],
)
def test_assurance_published_cases(direction: str | None, expected: list[str | None]) -> None:
    """test-ptd_calculate_assurance_type.R: lpl (1, 5, 1), upl (3, 7, 5), target 4."""
    df = pl.DataFrame(
        {
            "lcl_latest": [1.0, 5.0, 1.0],
            "ucl_latest": [3.0, 7.0, 5.0],
            "target": [4.0] * 3,
            "direction": pl.Series([direction] * 3, dtype=pl.Utf8),
        }
    )
    assert df.select(assurance_expr().alias("a"))["a"].to_list() == expected


def test_assurance_needs_a_target() -> None:
    df = pl.DataFrame({"lcl_latest": [1.0], "ucl_latest": [3.0], "target": [None], "direction": ["up"]})
    assert df.select(assurance_expr().alias("a"))["a"].to_list() == [None]


def test_nhsrplotthedots_summary_example() -> None:
    """ptd_spc.md summary (seed 123, increase, target 0.5): 20 common cause, 0 improvement, 0 concern.

    The latest limits are -3.01 / 3.29 (published), so target 0.5 lies inside: 'inconsistent'.
    """
    with (REF / "nhsrplotthedots_rnorm20_seed123.csv").open() as f:
        y = [float(r["y"]) for r in csv.DictReader(f)]
    df = pl.DataFrame(
        {
            "series_id": 1,
            "x": list(range(20)),
            "y": y,
            "chart": "i",
            "direction": "up",
            "target": 0.5,
            "screen": True,
        }
    )
    res = analyse(df, i_factor=NHSR_I_FACTOR)
    assert res.points["point_type"].value_counts().rows() == [("common_cause", 20)]
    assert res.series.select("variation", "assurance").row(0) == ("common_cause", "hit_and_miss")


def read_example() -> list[dict[str, str]]:
    with (REF / "nhsrplotthedots_mdc_example.csv").open() as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize(
    ("direction", "column"),
    [("up", "point_type_increase"), ("down", "point_type_decrease"), (None, "point_type_neutral")],
)
def test_mdc_worked_example_point_types(direction: str | None, column: str) -> None:
    """Every rule fires in the example; types match NHSRplotthedots' own functions point by point."""
    rows = read_example()
    df = pl.DataFrame(
        {
            "series_id": 1,
            "x": [int(r["x"]) for r in rows],
            "y": [float(r["y"]) for r in rows],
            "chart": "i",
            "direction": pl.Series([direction] * len(rows), dtype=pl.Utf8),
            "screen": True,
        }
    )
    res = analyse(df, i_factor=NHSR_I_FACTOR)
    expected = [r[column].replace("_high", "").replace("_low", "") for r in rows]
    assert res.points["point_type"].to_list() == expected
    assert res.points["cl"][0] == pytest.approx(float(rows[0]["mean"]), abs=1e-9)
    assert res.points["lcl"][0] == pytest.approx(float(rows[0]["lpl"]), abs=1e-4)
    assert res.points["ucl"][0] == pytest.approx(float(rows[0]["upl"]), abs=1e-4)
    assert res.series["variation"][0] == expected[-1]  # the latest point: 2 in 3 above the mean


@pytest.mark.parametrize(
    ("target", "direction", "assurance"),
    [
        (40.0, "up", "consistently_hit"),  # target below the lower limit 41.52
        (40.0, "down", "consistently_miss"),
        (50.0, "up", "hit_and_miss"),
        (60.0, "up", "consistently_miss"),  # above the upper limit 58.08
        (60.0, "down", "consistently_hit"),
        (60.0, None, None),
    ],
)
def test_mdc_worked_example_assurance(target: float, direction: str | None, assurance: str | None) -> None:
    rows = read_example()
    df = pl.DataFrame(
        {
            "series_id": 1,
            "x": [int(r["x"]) for r in rows],
            "y": [float(r["y"]) for r in rows],
            "chart": "i",
            "direction": pl.Series([direction] * len(rows), dtype=pl.Utf8),
            "target": target,
            "screen": True,
        }
    )
    assert analyse(df, i_factor=NHSR_I_FACTOR).series["assurance"][0] == assurance
