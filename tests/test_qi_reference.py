"""QI statistics against published reference numbers (qicharts2, NHSRplotthedots, Montgomery).

Each test names its source; ``tests/qi_reference/README.md`` documents the data files. Where a
source prints fewer than 4 decimals, the test also recomputes the number by hand from the
published formula with plain Python, independently of the engine, and compares to 1e-9.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import statistics
from pathlib import Path

import polars as pl
import pytest

from transforms.qi import analyse, analyse_one
from transforms.qi.constants import NHSR_I_FACTOR
from transforms.qi.tables import crossings_min, longest_run_max

REF = Path(__file__).parent / "qi_reference"


def close_to(ours: float | None, published: float, decimals: int) -> bool:
    """Agreement to the published number of decimals (half a unit in the last place)."""
    return ours is not None and abs(ours - published) <= 0.5 * 10.0**-decimals + 1e-12


def read_xy(name: str) -> list[float]:
    with (REF / name).open() as f:
        return [float(r["y"]) for r in csv.DictReader(f)]


def golden(name: str) -> dict:
    return json.loads((REF / name).read_text())["cases"]


def only_part(res: dict) -> dict:
    assert len(res["parts"]) == 1
    return res["parts"][0]


# --- Anhøj rules -----------------------------------------------------------------------------


def test_anhoej_critical_values_match_published_table() -> None:
    """qicharts2 vignette, Appendix 2 (Anhøj & Olesen 2014): n = 10..100."""
    with (REF / "anhoej_critical_values.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 91
    for r in rows:
        n = int(r["n_useful"])
        assert longest_run_max(n) == int(r["longest_run_max"]), n
        assert crossings_min(n) == int(r["crossings_min"]), n
    # the values quoted in the brief / Anhøj & Olesen 2014, Table 1
    assert [(longest_run_max(n), crossings_min(n)) for n in (10, 20, 24, 30)] == [
        (6, 2),
        (7, 6),
        (8, 8),
        (8, 10),
    ]


# --- qicharts2 -------------------------------------------------------------------------------


def test_qicharts2_vignette_i_chart() -> None:
    """qicharts2 vignette 'The Anhøj rules': summary(qic(y, chart = 'i')) printed values."""
    y = read_xy("qicharts2_vignette_i_chart.csv")
    res = analyse_one(y, chart="i", screen=True)  # library(qicharts2) switches screening on
    part = only_part(res)
    assert (part["n_useful"], part["longest_run"], part["longest_run_max"]) == (24, 13, 8)
    assert (part["crossings"], part["crossings_min"], part["runs_signal"]) == (4, 8, True)
    p0 = res["points"][0]
    assert close_to(part["cl"], 1.057091, 6)
    assert close_to(p0["lcl"], -2.114884, 6)
    assert close_to(p0["ucl"], 4.229067, 6)
    assert not any(p["sigma_signal"] for p in res["points"])  # sigma.signal 0
    full = analyse(
        pl.DataFrame(
            {
                "series_id": [1] * 24,
                "x": list(range(1, 25)),
                "y": y,
                "chart": ["i"] * 24,
                "screen": [True] * 24,
            }
        )
    ).points
    assert close_to(full["lcl_2s"][0], -1.057559, 6)  # aLCL.95
    assert close_to(full["ucl_2s"][0], 3.171742, 6)  # aUCL.95


@pytest.mark.parametrize("screen", [True, False])
def test_qicharts2_i_chart_gtt_harm_rate(screen: bool) -> None:
    """qicharts2 0.8.1 I chart of gtt harms/days (PowerBI-SPC golden fixture); no range is screened."""
    case = golden("qicharts2_golden_powerbi_spc.json")["i_gtt_harm_rate"]
    rates = [a / b for a, b in zip(case["y"], case["n"], strict=True)]
    res = analyse(
        pl.DataFrame(
            {
                "series_id": 1,
                "x": list(range(17)),
                "y": case["y"],
                "n": case["n"],
                "chart": "i",
                "screen": screen,
            }
        )
    ).points
    for col in ("cl", "ucl", "ucl_2s", "lcl_2s", "lcl"):
        assert close_to(res[col][0], case["expected"][col], 4), col
        assert close_to(res[col][0], case["expected"][col], 6), col  # the fixture has 6 decimals
    assert res["value"].to_list() == pytest.approx(rates, abs=1e-15)  # y/n plotted, as qicharts2


def test_qicharts2_p_chart_cabg_readmissions() -> None:
    """qicharts2 0.8.1 P chart of cabg readmissions: limits vary with each month's n."""
    case = golden("qicharts2_golden_powerbi_spc.json")["p_cabg_readmissions"]
    res = analyse_one(case["y"], case["n"], chart="p")
    for key in ("cl", "ucl", "lcl"):
        ours = [p[key] for p in res["points"]]
        for i, (o, e) in enumerate(zip(ours, case["expected"][key], strict=True)):
            assert close_to(o, e, 4), (key, i, o, e)
    full = analyse(
        pl.DataFrame({"series_id": 1, "x": list(range(36)), "y": case["y"], "n": case["n"], "chart": "p"})
    ).points
    for key in ("ucl_2s", "lcl_2s"):
        for i, (o, e) in enumerate(zip(full[key].to_list(), case["expected"][key], strict=True)):
            assert close_to(o, e, 4), (key, i, o, e)
    # hand computation: p-bar = sum(y)/sum(n), sigma_i = sqrt(p(1-p)/n_i)
    pbar = sum(case["y"]) / sum(case["n"])
    assert res["points"][0]["ucl"] == pytest.approx(pbar + 3 * math.sqrt(pbar * (1 - pbar) / 52), abs=1e-12)


def test_qicharts2_u_chart_hospital_infections() -> None:
    """qicharts2 0.8.1 U chart of all hospital infections per risk day (8 significant digits)."""
    case = golden("qicharts2_golden_powerbi_spc.json")["u_hospital_infections"]
    res = analyse_one(case["y"], case["n"], chart="u")
    for key in ("cl", "ucl", "lcl"):
        for i, (p, e) in enumerate(zip(res["points"], case["expected"][key], strict=True)):
            assert close_to(p[key], e, 8), (key, i)
    assert only_part(res)["runs_signal"] is False


def test_qicharts2_c_chart_cdi() -> None:
    """qicharts2 0.8.1 C chart of the 24 pre-intervention cdi months."""
    case = golden("qicharts2_golden_powerbi_spc.json")["c_cdi_baseline"]
    full = analyse(pl.DataFrame({"series_id": 1, "x": list(range(24)), "y": case["y"], "chart": "c"})).points
    for col in ("cl", "ucl", "ucl_2s", "lcl_2s", "lcl"):
        assert close_to(full[col][0], case["expected"][col], 4), col
    assert full["sigma_signal"].sum() == 0  # 6 infections in June 2014 is above 5.73


def test_qicharts2_run_chart_median_and_runs() -> None:
    """qicharts2 0.8.1 run chart centre = median 14; runs counted by hand (points on 14 skipped)."""
    case = golden("qicharts2_golden_powerbi_spc.json")["run_basic"]
    res = analyse_one(case["y"])
    part = only_part(res)
    assert part["cl"] == case["expected"]["cl"]
    useful = [v for v in case["y"] if v != 14]
    sides = [v > 14 for v in useful]
    run_lengths = [len(list(g)) for _, g in itertools.groupby(sides)]
    runs, longest = len(run_lengths), max(run_lengths)
    assert part["n_useful"] == len(useful) == 15
    assert part["crossings"] == runs - 1
    assert part["longest_run"] == longest
    assert part["crossings_min"] == crossings_min(15) == 4
    assert all(p["lcl"] is None and p["ucl"] is None for p in res["points"])


@pytest.mark.parametrize("chart", ["pp", "up"])
def test_laney_prime_charts_nhs_accidents(chart: str) -> None:
    """Laney P'/U' on qicharts2's nhs_accidents (PowerBI-SPC published fixture, 6 decimals)."""
    case = golden("laney_mr_powerbi_spc.json")[f"{chart}_nhs_accidents"]
    for screen in (False, True):
        full = analyse(
            pl.DataFrame(
                {
                    "series_id": 1,
                    "x": list(range(20)),
                    "y": case["y"],
                    "n": case["n"],
                    "chart": chart,
                    "screen": screen,
                }
            )
        ).points
        for col in ("ucl", "ucl_2s", "lcl_2s", "lcl", "value"):
            for i, (o, e) in enumerate(zip(full[col].to_list(), case["expected"][col], strict=True)):
                assert close_to(o, e, 6), (col, i, o, e)
    # hand computation of Laney's sigma_z for the first point
    y, n = case["y"], case["n"]
    pbar = sum(y) / sum(n)
    s = [math.sqrt(pbar * (1 - pbar) / m) for m in n]
    z = [(a / m - pbar) / si for a, m, si in zip(y, n, s, strict=True)]
    sigma_z = statistics.fmean(abs(b - a) for a, b in zip(z, z[1:], strict=False)) / 1.128
    if chart == "pp":
        assert full["ucl"][0] == pytest.approx(pbar + 3 * s[0] * sigma_z, abs=1e-12)


def test_mr_chart_gtt_harm_rate() -> None:
    """MR chart: CL = mean moving range, UCL = 3.267 CL, LCL = 0 (PowerBI-SPC fixture; qicharts2 qic.mr)."""
    case = golden("laney_mr_powerbi_spc.json")["mr_gtt_harm_rate"]
    full = analyse(
        pl.DataFrame({"series_id": 1, "x": list(range(17)), "y": case["y"], "n": case["n"], "chart": "mr"})
    ).points
    exp = case["expected"]
    assert full["value"][0] is None
    for o, e in zip(full["value"].to_list()[1:], exp["value"][1:], strict=True):
        assert close_to(o, e, 6)
    for col in ("cl", "ucl", "ucl_2s", "lcl"):
        assert close_to(full[col][5], exp[col], 6), col


# --- Montgomery textbook examples (also in qicharts2's test_montgomery.R) ---------------------

MORTGAGE_COST = [
    310,
    288,
    297,
    298,
    307,
    303,
    294,
    297,
    308,
    306,
    294,
    299,
    297,
    299,
    314,
    295,
    293,
    306,
    301,
    304,
]
OJ_PHASE1 = [
    12,
    15,
    8,
    10,
    4,
    7,
    16,
    9,
    14,
    10,
    5,
    6,
    17,
    12,
    22,
    8,
    10,
    5,
    13,
    11,
    20,
    18,
    24,
    15,
    9,
    12,
    7,
    13,
    9,
    6,
]
OJ_PHASE2 = [9, 6, 12, 5, 6, 4, 6, 3, 7, 6, 2, 4, 3, 6, 5, 4, 8, 5, 6, 7, 5, 6, 3, 5]
PCB_NONCONFORMITIES = [
    21,
    24,
    16,
    12,
    15,
    5,
    28,
    20,
    31,
    25,
    20,
    24,
    16,
    19,
    10,
    17,
    13,
    22,
    18,
    39,
    30,
    24,
    16,
    19,
    17,
    15,
]
PC_NONCONFORMITIES = [10, 12, 8, 14, 10, 16, 11, 7, 10, 15, 9, 5, 7, 11, 12, 6, 8, 10, 7, 5]


def test_montgomery_6_5_individuals_and_moving_range() -> None:
    """Montgomery Ex. 6.5: x-bar 300.5, MR-bar 7.79, I limits 279.78 / 321.22, MR UCL 25.45."""
    i_res = analyse_one(MORTGAGE_COST, chart="i", screen=True)
    mr_res = analyse_one(MORTGAGE_COST, chart="mr")
    p = i_res["points"][0]
    assert close_to(only_part(i_res)["cl"], 300.5, 2)
    assert close_to(p["lcl"], 279.78, 2) and close_to(p["ucl"], 321.22, 2)
    assert close_to(only_part(mr_res)["cl"], 7.79, 2)
    assert close_to(mr_res["points"][1]["ucl"], 25.45, 2)
    assert mr_res["points"][1]["lcl"] == 0.0
    # hand computation to full precision
    mr = [abs(b - a) for a, b in zip(MORTGAGE_COST, MORTGAGE_COST[1:], strict=False)]
    assert p["ucl"] == pytest.approx(
        statistics.fmean(MORTGAGE_COST) + 3 * statistics.fmean(mr) / 1.128, abs=1e-9
    )
    assert mr_res["points"][1]["ucl"] == pytest.approx(3.267 * statistics.fmean(mr), abs=1e-9)
    assert not any(q["sigma_signal"] for q in i_res["points"])


def test_montgomery_7_1_p_chart_exclusions_and_phases() -> None:
    """Montgomery Ex. 7.1 + Table 7.2 (qicharts2 test ex_7.1_5: exclude = c(15, 23), part = 30).

    Revised Phase I limits without samples 15 and 23: p-bar 0.2150, UCL 0.3893, LCL 0.0407;
    Phase II (samples 31-54) recomputed: p-bar 0.1108, UCL 0.2440, LCL 0 (-0.0224 clamped).
    """
    res = analyse_one(OJ_PHASE1 + OJ_PHASE2, [50] * 54, chart="p", exclude=[15, 23], part=[30])
    p1, p2 = res["parts"]
    assert close_to(p1["cl"], 0.2150, 4) and close_to(p2["cl"], 0.1108, 4)
    first, last = res["points"][0], res["points"][-1]
    assert close_to(first["ucl"], 0.3893, 4) and close_to(first["lcl"], 0.0407, 4)
    assert close_to(last["ucl"], 0.2440, 4) and last["lcl"] == 0.0
    # excluded samples are still plotted and still signal (15: 0.44, 23: 0.48 > 0.3893); as Montgomery
    # notes, sample 21 (0.40) also exceeds the revised UCL
    assert [i + 1 for i, q in enumerate(res["points"]) if q["sigma_signal"]] == [15, 21, 23]
    # hand computation
    pbar = (sum(OJ_PHASE1) - 22 - 24) / (28 * 50)
    assert p1["cl"] == pytest.approx(301 / 1400, abs=1e-15) == pbar
    assert p2["cl"] == pytest.approx(133 / 1200, abs=1e-15)
    assert p1["n_useful"] == 28  # excluded points are left out of the runs analysis too


def test_montgomery_7_1_frozen_phase_one_limits() -> None:
    """Montgomery Fig. 7.4: the revised Phase I limits (0.2150, 0.3893, 0.0407) applied to samples 31-54."""
    res = analyse_one(OJ_PHASE1 + OJ_PHASE2, [50] * 54, chart="p", exclude=[15, 23], freeze=30)
    part = only_part(res)
    assert close_to(part["cl"], 0.2150, 4)
    for q in res["points"]:
        assert close_to(q["ucl"], 0.3893, 4) and close_to(q["lcl"], 0.0407, 4)
    # the process has moved down: a long run below the centre line (Anhøj signal) ...
    assert part["runs_signal"] and part["longest_run"] > part["longest_run_max"]
    # ... and samples below the frozen LCL (2/50 = 0.04 at sample 41)
    assert res["points"][40]["sigma_signal"]
    assert part["n_useful"] == 52


def test_montgomery_7_3_c_chart_with_exclusions() -> None:
    """Montgomery Ex. 7.3: c-bar 19.85, limits 6.48 / 33.22; without samples 6 and 20: 19.67, 6.36 / 32.97."""
    trial = analyse_one(PCB_NONCONFORMITIES, chart="c")
    assert close_to(only_part(trial)["cl"], 19.85, 2)
    # the book rounds c-bar to 19.85 before adding 3 sqrt(c-bar): 33.22 vs 33.2109 exact
    assert abs(trial["points"][0]["ucl"] - 33.22) < 0.01 and close_to(trial["points"][0]["lcl"], 6.48, 2)
    assert trial["points"][0]["ucl"] == pytest.approx(516 / 26 + 3 * math.sqrt(516 / 26), abs=1e-12)
    assert [i + 1 for i, q in enumerate(trial["points"]) if q["sigma_signal"]] == [6, 20]
    revised = analyse_one(PCB_NONCONFORMITIES, chart="c", exclude=[6, 20])
    cbar = 472 / 24
    assert only_part(revised)["cl"] == pytest.approx(cbar, abs=1e-12)
    assert close_to(only_part(revised)["cl"], 19.67, 2)
    assert close_to(revised["points"][0]["ucl"], 32.97, 2) and close_to(revised["points"][0]["lcl"], 6.36, 2)
    assert revised["points"][0]["ucl"] == pytest.approx(cbar + 3 * math.sqrt(cbar), abs=1e-12)


def test_montgomery_7_4_u_chart() -> None:
    """Montgomery Ex. 7.4: 20 samples of n = 5 computers, u-bar 1.93, UCL 3.79, LCL 0.07."""
    res = analyse_one(PC_NONCONFORMITIES, [5] * 20, chart="u")
    q = res["points"][0]
    assert only_part(res)["cl"] == pytest.approx(1.93, abs=1e-12)
    assert close_to(q["ucl"], 3.79, 2) and close_to(q["lcl"], 0.07, 2)
    assert q["ucl"] == pytest.approx(1.93 + 3 * math.sqrt(1.93 / 5), abs=1e-12)


# --- NHSRplotthedots --------------------------------------------------------------------------


def nhsr_series(y: list[float], screen: bool = True, series_id: int = 1) -> pl.DataFrame:
    return pl.DataFrame(
        {"series_id": series_id, "x": list(range(1, len(y) + 1)), "y": y, "chart": "i", "screen": screen}
    )


def test_nhsrplotthedots_limits_snapshot() -> None:
    """NHSRplotthedots snapshot (ptd_spc_standard.md): mean 0.1416238, lpl -3.01138, upl 3.294627."""
    y = read_xy("nhsrplotthedots_rnorm20_seed123.csv")
    pts = analyse(nhsr_series(y), i_factor=NHSR_I_FACTOR).points
    assert close_to(pts["cl"][0], 0.1416238, 7)
    assert close_to(pts["lcl"][0], -3.01138, 5)
    assert close_to(pts["ucl"][0], 3.294627, 6)
    # the 2-sigma ("close to limits") lines are 2/3 of the way: mean +/- 2/3 * 2.66 * AMR
    assert pts["ucl_2s"][0] == pytest.approx(pts["cl"][0] + 2 / 3 * (pts["ucl"][0] - pts["cl"][0]), abs=1e-12)


def test_nhsrplotthedots_outlier_screening_snapshot() -> None:
    """Same snapshot with y[15] <- 10: screened lpl -2.383666 / upl 3.722497, unscreened -4.596625 / 5.935457."""
    y = read_xy("nhsrplotthedots_rnorm20_seed123.csv")
    y[14] = 10.0
    screened = analyse(nhsr_series(y, screen=True), i_factor=NHSR_I_FACTOR).points
    raw = analyse(nhsr_series(y, screen=False), i_factor=NHSR_I_FACTOR).points
    assert close_to(screened["cl"][0], 0.6694159, 7) and close_to(raw["cl"][0], 0.6694159, 7)
    assert close_to(screened["lcl"][0], -2.383666, 6) and close_to(screened["ucl"][0], 3.722497, 6)
    assert close_to(raw["lcl"][0], -4.596625, 6) and close_to(raw["ucl"][0], 5.935457, 6)
    assert screened["sigma_signal"][14] and raw["sigma_signal"][14]  # 10 is outside both
    # hand computation of the screening (Nelson 1982): drop ranges >= 3.267 x AMR, re-average
    mr = [abs(b - a) for a, b in zip(y, y[1:], strict=False)]
    kept = [m for m in mr if m < 3.267 * statistics.fmean(mr)]
    assert len(kept) == len(mr) - 2
    assert screened["ucl"][0] == pytest.approx(statistics.fmean(y) + 2.66 * statistics.fmean(kept), abs=1e-12)


def test_nhsrplotthedots_facets_in_one_call() -> None:
    """Snapshot ptd_spc.md with facet = first/last 10 points: 0.0746 [-2.60, 2.75], 0.209 [-3.28, 3.70]."""
    y = read_xy("nhsrplotthedots_rnorm20_seed123.csv")
    df = pl.concat([nhsr_series(y[:10], series_id=0), nhsr_series(y[10:], series_id=1)])
    series = analyse(df, i_factor=NHSR_I_FACTOR).series.sort("series_id")
    assert close_to(series["cl_latest"][0], 0.0746, 4) and close_to(series["cl_latest"][1], 0.209, 3)
    assert series["lcl_latest"].round(2).to_list() == [-2.60, -3.28]
    assert series["ucl_latest"].round(2).to_list() == [2.75, 3.70]
    # published summary: 10 common-cause points in each facet
    pts = analyse(df.with_columns(direction=pl.lit("up")), i_factor=NHSR_I_FACTOR).points
    assert pts.group_by("series_id").agg((pl.col("point_type") == "common_cause").sum())[
        "point_type"
    ].to_list() == [10, 10]
