"""Rule sets a network chooses (issue 16), each checked against its published source.

Sources: Perla, Provost & Murray 2011 (BMJ Qual Saf 20:46-51, IHI run-chart rules); Anhøj &
Olesen 2014 (PLoS ONE 9(11): e113825) and the qicharts2 vignette; NHSRplotthedots 0.2 (its
package tests and snapshots, ``ptd_spc`` with ``rebase`` and ``fix_after_n_points``) for Making
Data Count; Provost & Murray, The Health Care Data Guide (2011), for its Shewhart chart rules.
"""

from __future__ import annotations

import csv
import statistics
from pathlib import Path

import polars as pl
import pytest

from transforms.qi import analyse, analyse_one
from transforms.qi.constants import NHSR_I_FACTOR
from transforms.qi.rulesets import (
    DEFAULT_RULES,
    RULE_SETS,
    RuleSet,
    RuleSetError,
    rule_set,
    rule_set_from_mapping,
)

REF = Path(__file__).parent / "qi_reference"
ALL_SETS = {"default": DEFAULT_RULES, **RULE_SETS}


def read_y(name: str) -> list[float]:
    with (REF / name).open() as f:
        return [float(r["y"]) for r in csv.DictReader(f)]


def one(y: list[float], rules: RuleSet, chart: str = "i", **kw: object) -> dict:
    return analyse_one(y, chart=chart, rules=rules, summary=True, **kw)  # type: ignore[arg-type]


def rule_of(res: dict) -> list[str | None]:
    return [p["signal_rule"] for p in res["points"]]


# --- thresholds as data ----------------------------------------------------------------------


def test_published_thresholds() -> None:
    ihi, anhoej, mdc, hcdg = (RULE_SETS[k] for k in ("ihi", "anhoej", "mdc", "healthcare-data-guide"))
    assert (ihi.shift, ihi.trend, ihi.runs_test, ihi.two_of_three) == (6, 5, "ihi", False)  # Perla 2011
    assert (anhoej.shift, anhoej.trend, anhoej.longest_run, anhoej.runs_test) == (None, None, True, "anhoej")
    assert (mdc.shift, mdc.trend, mdc.two_of_three, mdc.beyond_limits) == (
        7,
        7,
        True,
        True,
    )  # NHSRplotthedots
    assert (hcdg.shift, hcdg.trend, hcdg.two_of_three, hcdg.inner_third) == (
        8,
        6,
        True,
        15,
    )  # Provost & Murray
    # centre-line points and ties: IHI/HCDG neither count nor break; NHSRplotthedots breaks
    assert {r.on_centre_line for r in (ihi, anhoej, hcdg)} == {"ignore"} and mdc.on_centre_line == "break"
    assert {r.ties for r in (ihi, hcdg)} == {"ignore"} and mdc.ties == "break"
    assert mdc.precedence == ("beyond_limits", "trend", "two_of_three", "shift")  # ptd_special_cause_type
    assert mdc.min_points == 12 and mdc.min_baseline == 12  # MDC guidance; fix_after_n_points >= 12


def test_overrides_and_mapping() -> None:
    excel_v5 = rule_set_from_mapping({"rules": "mdc", "shift": 6, "trend": 6, "baseline": 12})
    assert (excel_v5.name, excel_v5.shift, excel_v5.trend, excel_v5.baseline) == ("mdc", 6, 6, 12)
    assert rule_set_from_mapping({"rules": "HCDG"}).name == "healthcare-data-guide"
    assert rule_set("ihi", shift=8).shift == 8 and RULE_SETS["ihi"].shift == 6  # frozen: copies
    # a baseline length needs no rule-set change: today's rules, limits fixed on 12 points
    fixed = rule_set_from_mapping({"baseline": 12})
    assert (fixed.name, fixed.baseline, fixed.shift) == ("default", 12, DEFAULT_RULES.shift)


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"rules": "anhoej", "trend": 5}, "no trend rule"),
        ({"rules": "anhoej", "shift": 8}, "grows with the number of points"),
        ({"rules": "mdc", "shift": 5}, "shift = 6 or shift = 7"),
        ({"rules": "mdc", "baseline": 10}, "at least 12 points"),
        ({"rules": "ihi", "inner_third": 15}, "does not define 'inner_third'"),
        ({"rules": "ihi", "shift": True}, "whole number"),
        ({"rules": "ihi", "shift": "6"}, "whole number"),
        ({"rules": "western-electric"}, "Unknown rule set"),
        ({"rules": 6}, "name in quotes"),
        ({"rules": "mdc", "shfit": 6}, "Unknown setting(s) shfit"),
        ({"shift": 6}, "named rule set"),
        ({"rules": "ihi", "min_points": 0}, "at least 1"),
    ],
)
def test_refusals_say_what_to_change(table: dict, words: str) -> None:
    with pytest.raises(RuleSetError, match=None) as err:
        rule_set_from_mapping(table)
    assert isinstance(err.value, ValueError)  # the config layer turns it into a JoyflowError
    assert words in str(err.value)


# --- IHI (Perla, Provost & Murray 2011) ------------------------------------------------------


def test_ihi_shift_and_trend_with_median_points_and_repeats() -> None:
    """Perla et al.: a point on the median neither adds to nor breaks a shift; a repeated value
    is counted once in a trend; shift >= 6, trend >= 5."""
    ihi = RULE_SETS["ihi"]
    # median 5: six points above it with one on the median in between -> a shift
    y = [1, 2, 3, 4, 6, 7, 5, 8, 9, 6, 7, 1, 2]
    res = one(y, ihi, chart="run")
    assert rule_of(res)[4:11] == ["shift", "shift", None, "shift", "shift", "shift", "shift"]
    assert res["points"][6]["point_type"] == "common_cause"  # on the median: not part of it
    # 1, 2, 2, 3, 4, 5: five distinct rising values -> trend; points above the median are shift
    # points first (IHI precedence here: shift before trend)
    res = one([9, 1, 2, 2, 3, 4, 5, 0, 9, 1], ihi, chart="run")
    assert [p["trend_point"] for p in res["points"]] == [False] + [True] * 6 + [False] * 3
    assert rule_of(res)[1:7] == ["trend"] * 6
    assert not any(p["trend_point"] for p in one([3, 1, 2, 2, 3, 4, 1, 3, 2, 3], ihi, chart="run")["points"])


def test_ihi_runs_rule_sets_runs_signal() -> None:
    """Too few runs: 2 runs in 20 useful points (the runs table's lower limit is 7 there).
    Too many: 20 runs (upper limit 15). Under Anhøj only the too-few case signals."""
    few = [1.0] * 10 + [9.0] * 10
    many = [1.0, 9.0] * 10
    assert one(few, RULE_SETS["ihi"], chart="run")["series"]["runs_signal"] is True
    assert one(many, RULE_SETS["ihi"], chart="run")["series"]["runs_signal"] is True
    assert one(many, RULE_SETS["anhoej"], chart="run")["series"]["runs_signal"] is False
    assert one(many, RULE_SETS["mdc"], chart="run")["series"]["runs_signal"] is False  # no runs test


# --- Anhøj & Olesen 2014 / qicharts2 ---------------------------------------------------------


def test_anhoej_on_the_qicharts2_vignette_i_chart() -> None:
    """qicharts2 vignette 'The Anhøj rules': longest run 13 > 8, crossings 4 < 8, no sigma signal.

    Under ``anhoej`` the 13 points of the long run carry ``longest_run``; no trend rule exists,
    so the vignette's rising stretch is not flagged. ``ihi`` flags the same 13 as a shift.
    """
    y = read_y("qicharts2_vignette_i_chart.csv")
    res = one(y, RULE_SETS["anhoej"], screen=True)
    part = res["parts"][0]
    assert (part["longest_run"], part["longest_run_max"], part["crossings"], part["crossings_min"]) == (
        13,
        8,
        4,
        8,
    )
    assert res["series"]["runs_signal"] is True
    flagged = [i for i, r in enumerate(rule_of(res)) if r is not None]
    assert len(flagged) == 13 and set(rule_of(res)) == {None, "longest_run"}
    assert not any(p["trend_point"] for p in res["points"])
    ihi = one(y, RULE_SETS["ihi"], screen=True)  # shift >= 6: the 13 and a shorter run of 6
    assert set(flagged) < {i for i, p in enumerate(ihi["points"]) if p["shift_point"]}


def test_anhoej_run_limit_grows_with_n() -> None:
    """round(log2 n) + 3: a run of 7 above the mean signals among 10 points (limit 6), not among 24 (limit 8)."""
    run7 = [9.0, 9.5, 10.0, 9.0, 9.5, 10.0, 9.2]
    res10 = one([0.0, 0.5, 1.0, *run7], RULE_SETS["anhoej"])
    assert res10["parts"][0]["longest_run_max"] == 6
    assert rule_of(res10)[3:] == ["longest_run"] * 7
    res24 = one([0.0, 12.0] * 4 + [0.0] + run7 + [0.0, 12.0] * 4, RULE_SETS["anhoej"])
    assert (res24["parts"][0]["n_useful"], res24["parts"][0]["longest_run_max"]) == (24, 8)
    assert "longest_run" not in rule_of(res24)


# --- Making Data Count / NHSRplotthedots ------------------------------------------------------

TYPE_TO_RULE = {
    "Common Cause": None,
    "Above UCL": "beyond_limits",
    "Below LCL": "beyond_limits",
    "7 Point Trend (Increasing)": "trend",
    "2 in 3 Above CL": "two_of_three",
    "7 Points Below CL": "shift",
}


def test_mdc_signal_rule_matches_nhsrplotthedots_special_cause_type() -> None:
    """The worked example (NHSRplotthedots' own rule functions): the rule named per point is
    ``special_cause_type`` point by point, and the types match in every direction."""
    with (REF / "nhsrplotthedots_mdc_example.csv").open() as f:
        rows = list(csv.DictReader(f))
    y = [float(r["y"]) for r in rows]
    for direction, column in (("up", "point_type_increase"), ("down", "point_type_decrease")):
        df = pl.DataFrame(
            {
                "series_id": 1,
                "x": list(range(len(y))),
                "y": y,
                "chart": "i",
                "direction": direction,
                "screen": True,
            }
        )
        res = analyse(df, i_factor=NHSR_I_FACTOR, rules=RULE_SETS["mdc"])
        assert res.points["signal_rule"].to_list() == [TYPE_TO_RULE[r["special_cause_type"]] for r in rows]
        assert res.points["point_type"].to_list() == [r[column] for r in rows]
        assert res.series["variation_rule"][0] == "two_of_three"  # the latest point sets the icon


def test_mdc_excel_tool_six_point_shift_and_trend() -> None:
    """MDC Excel tool v5: 6 points one side / 6 rising is special cause; NHSRplotthedots needs 7."""
    base = [10.0, 12.0, 9.0, 11.0, 10.5, 9.5, 12.5, 8.5, 11.5, 10.0, 9.0, 12.0]
    six_below = base + [9.8, 9.7, 9.9, 9.6, 9.8, 9.7] + [12.0, 8.0]
    seven, six = RULE_SETS["mdc"], rule_set("mdc", shift=6, trend=6)
    assert rule_of(one(six_below, six))[12:18] == ["shift"] * 6
    assert rule_of(one(six_below, seven))[12:18] == [None] * 6
    rising = base + [8.0, 9.0, 10.0, 11.0, 11.5, 11.8] + [9.0, 12.0]
    assert rule_of(one(rising, six))[12:18] == ["trend"] * 6
    assert set(rule_of(one(rising, seven))[12:18]) <= {None, "shift"}


def test_centre_line_points_and_ties_per_rule_set() -> None:
    """A point exactly on the mean breaks a run under MDC (NHSRplotthedots) but neither counts nor
    breaks one under IHI/HCDG (Perla et al.); a tie breaks an MDC trend but is skipped by IHI."""
    on_mean = [1.0] * 6 + [0.0] + [1.0] * 6 + [-12.0]  # mean exactly 0
    assert "shift" not in rule_of(one(on_mean, RULE_SETS["mdc"]))
    ihi = rule_of(one(on_mean, RULE_SETS["ihi"]))
    assert ihi[:6] == ["shift"] * 6 and ihi[6] is None and ihi[7:13] == ["shift"] * 6
    assert rule_of(one(on_mean, RULE_SETS["healthcare-data-guide"]))[7:13] == ["shift"] * 6
    tie = [4.0, 9.0, 1.0, 2.0, 3.0, 3.0, 4.0, 5.0, 6.0, 7.0, 1.0, 9.0]
    assert "trend" not in rule_of(one(tie, RULE_SETS["mdc"], chart="run"))  # 1 2 3 | 3 4 5 6 7
    assert [p["trend_point"] for p in one(tie, RULE_SETS["ihi"], chart="run")["points"]][2:10] == [True] * 8


def test_mdc_rebase_published_facet_numbers_and_minimum() -> None:
    """ptd_spc snapshot, seed 123, split into 10 + 10 points: 0.0746 [-2.60, 2.75], 0.209 [-3.28, 3.70].

    A rebase at point 11 gives each phase its own limits exactly like those facets -- with
    NHSRplotthedots' trial limits (``min_points`` lowered). Under the MDC minimum of 12 the
    10-point phases give "too few points for limits" instead.
    """
    y = read_y("nhsrplotthedots_rnorm20_seed123.csv")
    df = pl.DataFrame(
        {
            "series_id": 1,
            "x": list(range(20)),
            "y": y,
            "chart": "i",
            "part": [1] * 10 + [2] * 10,
            "screen": True,
        }
    )
    trial = analyse(df, i_factor=NHSR_I_FACTOR, rules=rule_set("mdc", min_points=2))
    first, second = trial.points.row(0, named=True), trial.points.row(19, named=True)
    assert round(first["cl"], 4) == 0.0746 and round(second["cl"], 3) == 0.209
    assert (round(first["lcl"], 2), round(first["ucl"], 2)) == (-2.60, 2.75)
    assert (round(second["lcl"], 2), round(second["ucl"], 2)) == (-3.28, 3.70)
    strict = analyse(df, i_factor=NHSR_I_FACTOR, rules=RULE_SETS["mdc"])
    assert strict.points["ucl"].null_count() == 20 and strict.points["cl"].null_count() == 0
    assert strict.series["too_few_points"][0] is True and strict.series["assurance"][0] is None
    whole = analyse(df.drop("part"), i_factor=NHSR_I_FACTOR, rules=RULE_SETS["mdc"])  # 20 >= 12
    assert whole.series["too_few_points"][0] is False
    assert round(whole.points["ucl"][0], 6) == 3.294627  # ptd_spc_standard.md snapshot


def test_fix_after_n_points_per_rebase_group() -> None:
    """NHSRplotthedots ``fix_after_n_points`` applies within each rebase group: the mean and
    average moving range come from each phase's first k points (2.66 x AMR)."""
    y = read_y("nhsrplotthedots_rnorm20_seed123.csv") * 2  # 40 points: two phases of 20
    df = pl.DataFrame(
        {"series_id": 1, "x": list(range(40)), "y": y, "chart": "i", "part": [1] * 20 + [2] * 20}
    )
    res = analyse(df, i_factor=NHSR_I_FACTOR, rules=rule_set("mdc", baseline=12)).points
    k = y[:12]
    mean = statistics.fmean(k)
    amr = statistics.fmean(abs(b - a) for a, b in zip(k, k[1:], strict=False))
    for row in (0, 19, 20, 39):  # the same first 12 values start both phases
        assert res["cl"][row] == pytest.approx(mean, abs=1e-12)
        assert res["ucl"][row] == pytest.approx(mean + 2.66 * amr, abs=1e-12)
    assert res["baseline"].to_list() == ([True] * 12 + [False] * 8) * 2
    # a per-phase baseline length (re-baselined phase with its own length) via fix_after
    own = analyse(
        df.with_columns(fix_after=pl.Series([12] * 20 + [15] * 20)),
        i_factor=NHSR_I_FACTOR,
        rules=RULE_SETS["mdc"],
    ).points
    assert own["baseline"].to_list() == [True] * 12 + [False] * 8 + [True] * 15 + [False] * 5
    assert own["cl"][39] == pytest.approx(statistics.fmean(y[:15]), abs=1e-12)


# --- The Health Care Data Guide (Provost & Murray) -------------------------------------------


def test_health_care_data_guide_rules() -> None:
    """Shift 8 (7 is not enough), trend 6 (5 is not), 15 consecutive points in the inner third;
    limits fixed on a 12-point baseline (mean exactly 10)."""
    hcdg = RULE_SETS["healthcare-data-guide"]
    noise = [10.0, 11.0, 9.0, 10.5, 9.5, 11.0, 9.0, 10.0, 10.5, 9.5, 11.0, 9.0]
    above = [10.5, 11.0, 10.8, 11.2, 10.6, 11.1, 10.9]
    res = one([*noise, *above, 10.7, 9.0, 11.0], hcdg, freeze=12)
    assert res["points"][0]["cl"] == 10.0
    assert rule_of(res)[12:20] == ["shift"] * 8
    assert "shift" not in rule_of(one([*noise, *above, 9.0, 9.0, 11.0], hcdg, freeze=12))
    assert (
        rule_of(one([*noise, 8.0, 8.5, 9.0, 9.5, 10.5, 11.0, 9.0, 10.0], hcdg, freeze=12))[12:18]
        == ["trend"] * 6
    )
    assert "trend" not in rule_of(one([*noise, 8.0, 8.5, 9.0, 9.5, 10.5, 9.0, 10.0, 9.5], hcdg, freeze=12))
    # 15 consecutive points hugging the centre line after a baseline that swings widely
    wide = [4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 14.0, 12.0, 10.0, 8.0, 6.0]
    res = one(wide + [10.1, 9.9] * 7 + [10.0], hcdg, freeze=12)
    assert rule_of(res)[12:27] == ["inner_third"] * 15
    assert {p["point_type"] for p in res["points"][12:27]} == {"special_cause_neutral"}
    assert "inner_third" not in rule_of(one(wide + [10.1, 9.9] * 7, hcdg, freeze=12))  # only 14


# --- phases: no rule runs across a break ------------------------------------------------------


@pytest.mark.parametrize("chart", ["run", "i"])
@pytest.mark.parametrize("name", list(ALL_SETS))
def test_no_rule_runs_across_a_phase_break(name: str, chart: str) -> None:
    """Four rising points each side of a break make an 8-point trend in one phase; split into two
    phases (each with its own centre line), no shift, run or trend rule spans the break."""
    rules = rule_set(name, min_points=1) if name != "default" else DEFAULT_RULES
    phase1 = [3.0, 7.0, 2.0, 8.0, 3.0, 7.0, 2.0, 8.0, 3.0, 7.0, 2.0, 8.0, 5.5, 6.0, 6.5, 7.0]
    phase2 = [7.5, 8.0, 8.5, 9.0, 4.0, 6.0, 3.0, 7.0, 4.0, 6.0, 3.0, 7.0, 4.0, 6.0, 3.0, 7.0]
    joined = one(phase1 + phase2, rules, chart=chart)
    split = one(phase1 + phase2, rules, chart=chart, part=[16])
    assert len(split["parts"]) == 2
    assert not {r for r in rule_of(split)[12:20]} & {"shift", "trend", "longest_run"}
    assert not any(p["shift_point"] or p["trend_point"] for p in split["points"][12:20])
    if rules.trend is not None:  # without the break, the same data do signal
        assert "trend" in rule_of(joined)[12:20]


def test_every_rule_set_flags_with_its_own_rules_only() -> None:
    """``signal_rule`` only names rules the set defines (e.g. never 'trend' under Anhøj)."""
    from bench.qi_series import bench_series

    df = bench_series(400, 24, seed=3)
    for name, rules in ALL_SETS.items():
        named = set(analyse(df, rules=rules).points["signal_rule"].drop_nulls().unique().to_list())
        assert named <= set(rules.rules_used()), name
        assert named, name  # something fires on 400 series with shifts
