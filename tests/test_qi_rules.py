"""Run-chart rules, phases/freeze/exclusion semantics and the public contract, by hand computation."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import statistics
from fractions import Fraction

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from bench.qi_series import bench_series
from transforms.qi import analyse, analyse_one, parts_from_splits
from transforms.qi.tables import crossings_min, ihi_runs_limits, longest_run_max, qbinom_half


def brute_qbinom(p: Fraction, size: int) -> int:
    """Smallest x with P(Binomial(size, 1/2) <= x) >= p, by exact fractions."""
    cum = Fraction(0)
    for k in range(size + 1):
        cum += Fraction(math.comb(size, k), 2**size)
        if cum >= p:
            return k
    return size


def test_qbinom_exact_against_brute_force() -> None:
    for size in range(0, 120):
        assert qbinom_half(1, 20, size) == brute_qbinom(Fraction(1, 20), size), size
    assert crossings_min(1) == 0 and longest_run_max(1) == 3


def runs_distribution(n: int) -> dict[int, int]:
    """Number of runs over all arrangements of n//2 and n - n//2 symbols (brute force)."""
    n1 = n // 2
    dist: dict[int, int] = {}
    for ones in itertools.combinations(range(n), n1):
        seq = [i in ones for i in range(n)]
        r = 1 + sum(a != b for a, b in zip(seq, seq[1:], strict=False))
        dist[r] = dist.get(r, 0) + 1
    return dist


@pytest.mark.parametrize("n", [10, 11, 12, 15, 16])
def test_ihi_runs_limits_match_enumeration(n: int) -> None:
    """Fewer than `lower` or more than `upper` runs has <= 2.5 % probability in each tail."""
    lower, upper = ihi_runs_limits(n)
    dist = runs_distribution(n)
    total = sum(dist.values())
    below = sum(c for r, c in dist.items() if r < lower)
    above = sum(c for r, c in dist.items() if r > upper)
    assert below / total <= 0.025 < (below + dist[lower]) / total
    assert above / total <= 0.025 < (above + dist[upper]) / total


def test_ihi_runs_limits_swed_eisenhart_table() -> None:
    """Swed & Eisenhart critical values: n1 = n2 = 5 -> 2 and 10; n1 = n2 = 10 -> 6 and 16 (two-sided 5 %)."""
    assert ihi_runs_limits(10) == (3, 9)  # signal if <= 2 or >= 10 runs
    assert ihi_runs_limits(20) == (7, 15)  # signal if <= 6 or >= 16 runs
    assert ihi_runs_limits(9) is None


def run_chart(y: list[float], **kw: object) -> tuple[dict, pl.DataFrame, pl.DataFrame]:
    df = pl.DataFrame({"series_id": 1, "x": list(range(1, len(y) + 1)), "y": y, "chart": "run", **kw})
    res = analyse(df)
    return res.parts.row(0, named=True), res.points, res.parts


def test_ihi_shift_points_on_median_neither_count_nor_break() -> None:
    # median 5; six points above it with a point on the median in between -> shift
    y = [1, 2, 3, 4, 6, 7, 5, 8, 9, 6, 7, 1, 2]
    part, pts, _ = run_chart(y)
    assert part["cl"] == statistics.median(y) == 5
    assert part["ihi_shift"] and part["longest_run"] == 6
    assert (
        pts["shift_point"].to_list()
        == [False] * 4 + [True, True, False, True, True, True, True] + [False] * 2
    )
    part, _, _ = run_chart([1, 2, 3, 4, 6, 7, 5, 8, 9, 1, 2, 3, 4])  # median 4: only five above
    assert not part["ihi_shift"]


def test_ihi_trend_ignores_repeated_values() -> None:
    # 1, 2, 2, 3, 4, 5: five distinct rising values (the repeat is skipped) -> trend
    part, pts, _ = run_chart([9, 1, 2, 2, 3, 4, 5, 0, 9, 1])
    assert part["ihi_trend"]
    assert pts["trend_point"].to_list() == [False] + [True] * 6 + [False] * 3
    part, pts, _ = run_chart([3, 1, 2, 2, 3, 4, 1, 3, 2, 3])  # only four distinct rising values
    assert not part["ihi_trend"] and not pts["trend_point"].any()


def test_ihi_too_few_runs() -> None:
    y = [1.0] * 10 + [9.0] * 10  # 2 runs in 20 useful points; lower limit 7
    part, _, _ = run_chart(y)
    assert part["crossings"] == 1 and part["ihi_runs"] and part["ihi_runs_min"] == 7
    alternating = [1.0, 9.0] * 10  # 20 runs > 15: too many
    part, _, _ = run_chart(alternating)
    assert part["ihi_runs"] and part["crossings"] == 19 and not part["runs_signal"]


def test_parts_are_independent() -> None:
    y = [10, 12, 11, 13, 12, 30, 31, 29, 32, 30]
    res = analyse_one(y, chart="i", part=[5])
    assert [p["cl"] for p in res["parts"]] == [statistics.fmean(y[:5]), statistics.fmean(y[5:])]
    mr1 = statistics.fmean(abs(b - a) for a, b in zip(y[:5], y[1:5], strict=False))
    assert res["points"][0]["ucl"] == pytest.approx(statistics.fmean(y[:5]) + 3 * mr1 / 1.128, abs=1e-12)
    assert parts_from_splits([12, 24], 30) == [1] * 12 + [2] * 12 + [3] * 6
    assert parts_from_splits([0, 40, 12], 20) == [1] * 12 + [2] * 8


def test_freeze_uses_first_points_only() -> None:
    y = [5.0, 6, 5, 7, 6, 20, 21, 22, 23, 24]
    res = analyse_one(y, chart="i", freeze=5)
    base = y[:5]
    amr = statistics.fmean(abs(b - a) for a, b in zip(base, base[1:], strict=False))
    assert res["parts"][0]["cl"] == pytest.approx(statistics.fmean(base), abs=1e-12)
    assert all(
        p["ucl"] == pytest.approx(statistics.fmean(base) + 3 * amr / 1.128, abs=1e-12) for p in res["points"]
    )
    assert [p["sigma_signal"] for p in res["points"]] == [False] * 5 + [True] * 5
    full = analyse(
        pl.DataFrame({"series_id": 1, "x": list(range(10)), "y": y, "chart": "i", "freeze": 5})
    ).points
    assert full["baseline"].to_list() == [True] * 5 + [False] * 5


def test_exclude_bridges_moving_ranges_like_qicharts2() -> None:
    y = [10.0, 11, 50, 12, 11, 10, 12]
    res = analyse_one(y, chart="i", exclude=[3])
    kept = [v for i, v in enumerate(y) if i != 2]
    amr = statistics.fmean(abs(b - a) for a, b in zip(kept, kept[1:], strict=False))  # 11 -> 12 bridged
    p = res["points"][0]
    assert res["parts"][0]["cl"] == pytest.approx(statistics.fmean(kept), abs=1e-12)
    assert p["ucl"] == pytest.approx(statistics.fmean(kept) + 3 * amr / 1.128, abs=1e-12)
    assert res["points"][2]["sigma_signal"]  # still classified
    # left out of the runs analysis too; the two 11s sit on the centre line (66 / 6 = 11)
    assert res["parts"][0]["n_useful"] == 4


def test_missing_values_break_moving_ranges() -> None:
    y = [10.0, 11, None, 12, 11, 10, 12]
    res = analyse_one(y, chart="i")
    mrs = [1, 1, 1, 2]  # 10-11, 12-11, 11-10, 10-12: the gap yields no range
    assert res["points"][0]["ucl"] == pytest.approx(
        statistics.fmean([10, 11, 12, 11, 10, 12]) + 3 * 1.25 / 1.128
    )
    assert statistics.fmean(mrs) == 1.25
    assert res["points"][2]["y"] is None and res["points"][2]["point_type"] == "common_cause"


def test_run_and_i_charts_plot_y_over_n_when_n_given() -> None:
    res = analyse_one([1, 2, 3, 4], [10, 10, 20, 10], chart="run")
    assert [p["y"] for p in res["points"]] == [0.1, 0.2, 0.15, 0.4]
    c = analyse_one([3, 4, 5], [10, 10, 10], chart="c")
    assert [p["y"] for p in c["points"]] == [3, 4, 5]  # C charts plot the count (qicharts2 qic.c)


def test_analyse_one_json_contract() -> None:
    res = analyse_one([3, 5, 4, 6, 5, 7, 6, 8, 7, 9, 8, 10], chart="i", part=[6], target=7.0, direction="up")
    assert set(res) == {"parts", "points"}
    assert [set(p) for p in res["parts"]] == [
        {"n_useful", "longest_run", "longest_run_max", "crossings", "crossings_min", "runs_signal", "cl"}
    ] * 2
    assert set(res["points"][0]) == {"x", "y", "cl", "lcl", "ucl", "sigma_signal", "point_type"}
    json.dumps(res)  # JSON-able as is
    dated = analyse_one([1, 2, 3], x=[dt.date(2024, m, 1) for m in (1, 2, 3)])
    assert dated["points"][0]["x"] == "2024-01-01"
    json.dumps(dated)


def test_many_series_at_once_equal_one_at_a_time() -> None:
    df = bench_series(40, 15, seed=3)
    together = analyse(df)
    for sid in (0, 7, 21, 39):
        alone = analyse(df.filter(pl.col("series_id") == sid))
        for name in ("points", "parts", "series"):  # sums may be ordered differently: ulp tolerance
            both = getattr(together, name).filter(pl.col("series_id") == sid)
            assert_frame_equal(both, getattr(alone, name), check_exact=False, rel_tol=1e-12)


def test_unsorted_input_and_composite_keys() -> None:
    df = pl.DataFrame(
        {
            "team": ["b", "a", "b", "a", "a", "b"],
            "measure": [1, 1, 1, 1, 1, 1],
            "x": [2, 3, 1, 1, 2, 3],
            "y": [5.0, 7, 4, 6, 8, 6],
            "chart": ["I", "run", "I", "run", "run", "I"],
        }
    )
    res = analyse(df, ["team", "measure"])
    assert res.points.select("team", "x").rows() == [
        ("a", 1),
        ("a", 2),
        ("a", 3),
        ("b", 1),
        ("b", 2),
        ("b", 3),
    ]
    assert res.series["chart"].to_list() == ["run", "i"]
    assert res.series["latest_value"].to_list() == [7.0, 6.0]
    assert res.parts.columns[:2] == ["team", "measure"]


def test_invalid_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="chart"):
        analyse(pl.DataFrame({"series_id": [1], "x": [1], "y": [1.0], "chart": ["xbar"]}))
    with pytest.raises(ValueError, match="direction"):
        analyse(
            pl.DataFrame({"series_id": [1], "x": [1], "y": [1.0], "chart": ["i"], "direction": ["sideways"]})
        )
    with pytest.raises(ValueError, match="missing"):
        analyse(pl.DataFrame({"series_id": [1], "y": [1.0], "chart": ["i"]}))


def test_degenerate_series() -> None:
    one = analyse_one([4.0], chart="i")
    assert one["points"][0]["ucl"] is None and one["parts"][0]["n_useful"] == 0  # on its own mean
    flat = analyse_one([2.0] * 5, chart="run")
    assert flat["parts"][0]["n_useful"] == 0 and flat["parts"][0]["longest_run"] is None
    assert flat["parts"][0]["runs_signal"] is False
    p_all_zero = analyse_one([0, 0, 0], [10, 10, 10], chart="pp")
    assert p_all_zero["points"][0]["cl"] == 0.0 and p_all_zero["points"][0]["ucl"] is None


def test_empty_input() -> None:
    empty = pl.DataFrame(schema={"series_id": pl.Int64, "x": pl.Int64, "y": pl.Float64, "chart": pl.Utf8})
    res = analyse(empty)
    assert (res.points.height, res.parts.height, res.series.height) == (0, 0, 0)
    assert "point_type" in res.points.columns and "assurance" in res.series.columns
