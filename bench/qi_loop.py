"""Per-series plain-Python implementation of the same statistics: test oracle and benchmark floor.

Written independently of the Polars engine (lists, ``statistics``/``math``), following the R
sources of qicharts2 and NHSRplotthedots line by line, so the property test comparing the two
catches mistakes in either. Not used on the production path.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import polars as pl

from transforms.qi.analyse import PART_OUTPUT, POINT_OUTPUT, QIResult
from transforms.qi.constants import (
    D2,
    D4,
    IHI_SHIFT,
    IHI_TREND,
    NONNEG_CHARTS,
    PROPORTION_CHARTS,
    QICHARTS2_I_FACTOR,
    RATIO_CHARTS,
)
from transforms.qi.prepare import OPTIONAL_COLUMNS, with_defaults
from transforms.qi.rulesets import DEFAULT_RULES, RuleSet
from transforms.qi.tables import crossings_min, ihi_runs_limits, longest_run_max


def _sign(v: float) -> int:
    return (v > 0) - (v < 0)


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _mean2(xs: list[float]) -> float | None:
    """Two-pass mean (R's mean(), and the engine's centre line): m0 + mean(x - m0)."""
    if not xs:
        return None
    m0 = sum(xs) / len(xs)
    return m0 + sum(x - m0 for x in xs) / len(xs)


def _amr(seq: list[float | None], screen: bool) -> float | None:
    """Average moving range over a sequence; a missing value breaks its two ranges."""
    mrs = [abs(b - a) for a, b in zip(seq, seq[1:], strict=False) if a is not None and b is not None]
    amr = _mean(mrs)
    if screen and amr is not None:
        amr = _mean([m for m in mrs if m < D4 * amr])
    return amr


def _part_limits(p: dict[str, Any]) -> None:
    """Centre line and limits for one part, in place (qicharts2 helper functions)."""
    chart, vals, use = p["chart"], p["value"], p["use"]
    used = [v for v, u in zip(vals, use, strict=True) if u]
    if not used:
        cl = None
    elif chart == "run":
        cl = statistics.median(used)
    elif chart in ("i", "mr", "c"):
        cl = _mean2(used)
    else:
        sy = sum(y for y, u in zip(p["y"], use, strict=True) if u)
        sn = sum(n for n, u in zip(p["n"], use, strict=True) if u)
        cl = sy / sn
    size = len(vals)
    sd: list[float | None] = [None] * size
    if cl is not None and chart != "run":
        if chart in PROPORTION_CHARTS:
            sig = [
                math.sqrt(cl * (1 - cl) / n) if n is not None and cl * (1 - cl) >= 0 else math.nan
                for n in p["n"]
            ]
        elif chart in ("u", "up"):
            sig = [math.sqrt(cl / n) if n is not None and cl >= 0 else math.nan for n in p["n"]]
        elif chart == "c":
            sig = [math.sqrt(cl) if cl >= 0 else math.nan] * size
        else:
            sig = [None] * size
        bi_idx = [i for i in range(size) if p["bi"][i]]
        if chart == "i":
            amr = _amr([vals[i] for i in bi_idx], p["screen"])
            sd = [amr * (p["i_factor"] / 3) if amr is not None else None] * size
        elif chart in ("pp", "up"):
            z = [
                (vals[i] - cl) / sig[i] if vals[i] is not None and sig[i] not in (None, 0.0) else None
                for i in bi_idx
            ]
            amr = _amr(z, p["screen"])
            sd = [s * amr / D2 if amr is not None and s is not None else None for s in sig]
        elif chart != "mr":
            sd = sig
    lines: dict[str, list[float | None]] = {k: [None] * size for k in ("lcl", "ucl", "lcl_2s", "ucl_2s")}
    if chart == "mr":  # qicharts2 sets LCL = 0 even when there is no centre line
        lines["lcl"], lines["lcl_2s"] = [0.0] * size, [0.0] * size
        if cl is not None:
            lines["ucl"], lines["ucl_2s"] = [D4 * cl] * size, [D4 / 3 * 2 * cl] * size
    elif cl is not None and chart != "run":
        for i, s in enumerate(sd):
            if s is None:
                continue
            lines["lcl"][i], lines["ucl"][i] = _finite(cl - 3 * s), _finite(cl + 3 * s)
            lines["lcl_2s"][i], lines["ucl_2s"][i] = _finite(cl - 2 * s), _finite(cl + 2 * s)
    for i in range(size):
        for k in ("lcl", "lcl_2s"):
            if chart in NONNEG_CHARTS and lines[k][i] is not None and lines[k][i] < 0:
                lines[k][i] = 0.0
        for k in ("ucl", "ucl_2s"):
            if chart in PROPORTION_CHARTS and lines[k][i] is not None and lines[k][i] > 1:
                lines[k][i] = 1.0
    p["cl"] = cl
    p.update(lines)


def _trend_plateaus(p: dict[str, Any], obs: list[int], length: int) -> tuple[list[bool], list[int], bool]:
    """Trends of >= ``length`` points with repeated values counted once (IHI; Provost & Murray).

    Returns per point: in such a trend, its direction (+1/-1; the later trend wins at a point
    shared by two), and whether any trend exists.
    """
    size = len(p["value"])
    reps: list[list[int]] = []  # plateaus of equal values: [i, ...]
    for i in obs:
        if reps and p["value"][reps[-1][0]] == p["value"][i]:
            reps[-1].append(i)
        else:
            reps.append([i])
    flag, direction = [False] * size, [0] * size
    any_trend = False
    rv = [p["value"][rep[0]] for rep in reps]
    steps = [_sign(rv[k] - rv[k - 1]) for k in range(1, len(rv))]  # steps[k-1]: into plateau k
    k = 0
    while k < len(steps):
        j = k
        while j + 1 < len(steps) and steps[j + 1] == steps[k]:
            j += 1
        if j - k + 1 >= length - 1:  # plateaus k..j+1 are strictly monotone
            any_trend = True
            for rep in reps[k : j + 2]:
                for i in rep:
                    flag[i] = True
                    direction[i] = steps[k]
        k = j + 1
    return flag, direction, any_trend


def _part_runs(p: dict[str, Any], rules: RuleSet) -> dict[str, Any]:
    """Anhøj and IHI rules for one part (qicharts2 runs.analysis; IHI run-chart rules), and the
    rule set's rules that skip centre-line points and repeated values."""
    cl, size = p["cl"], len(p["value"])
    obs = [i for i in range(size) if p["inc"][i] and p["value"][i] is not None]
    useful = [(i, _sign(p["value"][i] - cl)) for i in obs if cl is not None and p["value"][i] != cl]
    runs: list[list[int]] = []
    for i, s in useful:
        if runs and s == runs[-1][0]:
            runs[-1].append(i)
        else:
            runs.append([s, i])
    run_len = [0] * size
    for r in runs:
        for i in r[1:]:
            run_len[i] = len(r) - 1
    n_useful = len(useful)
    longest = max((len(r) - 1 for r in runs), default=None)
    crossings = len(runs) - 1 if runs else None
    lr_max = longest_run_max(n_useful) if n_useful else None
    cr_min = crossings_min(n_useful) if n_useful else None
    signal = (
        p["chart"] != "mr" and n_useful > 0 and (longest > lr_max or crossings < cr_min)  # type: ignore[operator]
    )
    _, _, any_trend = _trend_plateaus(p, obs, IHI_TREND)
    not_mr = p["chart"] != "mr"
    if rules.bands:
        p["band_shift"] = [not_mr and n >= rules.bands[0] for n in run_len]
        p["band_trend"] = [not_mr and t for t in _trend_plateaus(p, obs, rules.bands[1])[0]]
    if rules.shift is not None and rules.on_centre_line == "ignore":
        p["rule_shift"] = [not_mr and n >= rules.shift for n in run_len]
    if rules.longest_run:
        p["rule_longest_run"] = [not_mr and lr_max is not None and n > lr_max for n in run_len]
    if rules.trend is not None and rules.ties == "ignore":
        flag, p["trend_dir"], _ = _trend_plateaus(p, obs, rules.trend)
        p["rule_trend"] = [not_mr and t for t in flag]
    limits = ihi_runs_limits(n_useful)
    n_runs = len(runs)
    ihi_runs = not_mr and bool(limits) and (n_runs < limits[0] or n_runs > limits[1])  # type: ignore[index]
    part_signal = {"anhoej": signal, "ihi": ihi_runs, None: False}[rules.runs_test]
    p["runs_signal"] = part_signal
    return {
        "n_obs": sum(p["inc"]),
        "n_useful": n_useful,
        "longest_run": longest,
        "longest_run_max": lr_max,
        "crossings": crossings,
        "crossings_min": cr_min,
        "runs_signal": part_signal,
        "cl": cl,
        "ihi_shift": not_mr and longest is not None and longest >= IHI_SHIFT,
        "ihi_trend": not_mr and any_trend,
        "ihi_runs": ihi_runs,
        "ihi_runs_min": limits[0] if limits else None,
        "ihi_runs_max": limits[1] if limits else None,
    }


def _runs_of(values: list[Any], flagged: Any, length: int) -> list[bool]:
    """Points in a run of >= ``length`` consecutive equal values for which ``flagged(value)``."""
    out = [False] * len(values)
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[i]:
            j += 1
        if flagged(values[i]) and j - i + 1 >= length:
            for k in range(i, j + 1):
                out[k] = True
        i = j + 1
    return out


def _part_point_types(p: dict[str, Any], direction: str | None, rules: RuleSet) -> None:
    """Point rules of the rule set for one part, in its precedence (NHSRplotthedots
    ptd_special_cause_type / ptd_point_type for the MDC rules)."""
    v, cl, size, chart = p["value"], p["cl"], len(p["value"]), p["chart"]
    outside, rtm, close, inner = [False] * size, [0] * size, [False] * size, [False] * size
    for i in range(size):
        if v[i] is None:
            continue
        ucl, lcl = p["ucl"][i], p["lcl"][i]
        outside[i] = (ucl is not None and v[i] > ucl) or (lcl is not None and v[i] < lcl)
        rtm[i] = _sign(v[i] - cl) if cl is not None else 0
        u2, l2 = p["ucl_2s"][i], p["lcl_2s"][i]
        close[i] = not outside[i] and ((u2 is not None and v[i] > u2) or (l2 is not None and v[i] < l2))
        if cl is not None and ucl is not None and lcl is not None:
            inner[i] = cl - (cl - lcl) / 3 < v[i] < cl + (ucl - cl) / 3
    limited = chart not in ("mr", "run")
    not_mr = chart != "mr"
    flags: dict[str, list[bool]] = {"beyond_limits": outside}
    tdir = [0] * size
    if rules.shift is not None and rules.on_centre_line == "break":
        flags["shift"] = [not_mr and f for f in _runs_of(rtm, lambda s: s != 0, rules.shift)]
    elif "rule_shift" in p:
        flags["shift"] = p["rule_shift"]
    if "rule_longest_run" in p:
        flags["longest_run"] = p["rule_longest_run"]
    d = [0] + [
        _sign(v[k] - v[k - 1]) if v[k] is not None and v[k - 1] is not None else 0 for k in range(1, size)
    ]
    if rules.trend is not None and rules.ties == "break":
        trend = [False] * size
        i = 1
        while i < size:
            j = i
            while j + 1 < size and d[j + 1] == d[i]:
                j += 1
            if d[i] != 0 and j - i + 1 >= rules.trend - 1 and not_mr:
                for k in range(i - 1, j + 1):
                    trend[k] = True
            i = j + 1
        flags["trend"] = trend
        tdir = [d[i + 1] if i + 1 < size and trend[i + 1] else d[i] for i in range(size)]
    elif "rule_trend" in p:
        flags["trend"] = p["rule_trend"]
        tdir = p["trend_dir"]
    if rules.two_of_three:
        win = [
            sum(close[k] for k in range(j, min(j + 3, size))) >= 2 and abs(sum(rtm[j : j + 3])) == 3
            for j in range(size)
        ]
        flags["two_of_three"] = [
            limited and close[i] and any(win[j] for j in (i - 2, i - 1, i) if j >= 0) for i in range(size)
        ]
    if rules.inner_third is not None:
        flags["inner_third"] = [limited and f for f in _runs_of(inner, bool, rules.inner_third)]
    types, which = [], []
    for i in range(size):
        rule = next((r for r in rules.rules_used() if flags[r][i]), None)
        if rule is None or rule == "inner_third":
            hl = 0
        elif rule == "beyond_limits":
            hl = 1 if rtm[i] == 1 else -1
        elif rule == "trend":
            hl = tdir[i]
        else:
            hl = 1 if rtm[i] > 0 else -1
        if hl == 0 and rule != "inner_third":
            rule = None
        which.append(rule)
        if rule is None:
            types.append("common_cause")
        elif direction is None or hl == 0:
            types.append("special_cause_neutral")
        else:
            types.append(
                "special_cause_improvement"
                if hl * (1 if direction == "up" else -1) > 0
                else "special_cause_concern"
            )
    if rules.bands:
        shift, trend_pts = p["band_shift"], p["band_trend"]
    else:
        shift = flags.get("shift", flags.get("longest_run", [False] * size))
        trend_pts = flags.get("trend", [False] * size)
    p["sigma_signal"] = outside
    p["point_type"] = types
    p["signal_rule"] = which
    p["shift_point"] = list(shift)
    p["trend_point"] = list(trend_pts)


def analyse_series(
    s: dict[str, list[Any]], i_factor: float = QICHARTS2_I_FACTOR, rules: RuleSet = DEFAULT_RULES
) -> tuple[list, list, dict]:
    """One series (columns as lists, sorted by x) -> (point rows, part rows, series row)."""
    size = len(s["y"])
    chart = s["chart"][0]
    has_n = any(n is not None for n in s["n"])
    n_pos = [n if n is not None and n > 0 else None for n in s["n"]]
    v0: list[float | None] = []
    for y, n in zip(s["y"], n_pos, strict=True):
        if chart == "c":
            v0.append(y)
        elif chart in RATIO_CHARTS or has_n:
            v0.append(y / n if y is not None and n is not None else None)
        else:
            v0.append(y)
    v0 = [None if v is not None and math.isnan(v) else v for v in v0]
    part_seq, cur = [], 1
    for i in range(size):
        if i > 0 and s["part"][i] != s["part"][i - 1]:
            cur += 1
        part_seq.append(cur)
    freeze = s["freeze"][0]
    screen = bool(s["screen"][0])
    point_rows, part_rows = [], []
    for pnum in sorted(set(part_seq)):
        idx = [i for i in range(size) if part_seq[i] == pnum]
        vals = [v0[i] for i in idx]
        if chart == "mr":
            vals = [None] + [
                abs(b - a) if a is not None and b is not None else None
                for a, b in zip(vals, vals[1:], strict=False)
            ]
        base = []
        for k, i in enumerate(idx):
            fix = s["fix_after"][i]
            if fix is None and pnum == 1:
                fix = freeze
            if fix is None:
                fix = rules.baseline
            base.append(fix is None or k + 1 <= fix)
        inc = [not bool(s["exclude"][i]) for i in idx]
        bi = [b and c for b, c in zip(base, inc, strict=True)]
        p: dict[str, Any] = {
            "chart": chart,
            "value": vals,
            "y": [s["y"][i] for i in idx],
            "n": [n_pos[i] if chart in RATIO_CHARTS and s["y"][i] is not None else None for i in idx],
            "inc": inc,
            "bi": bi,
            "use": [b and v is not None for b, v in zip(bi, vals, strict=True)],
            "screen": screen,
            "i_factor": i_factor,
        }
        _part_limits(p)
        few = rules.min_points > 1 and chart != "run" and sum(p["use"]) < rules.min_points
        if few:  # too few points for limits: the centre line stays
            for c in ("lcl", "ucl", "lcl_2s", "ucl_2s"):
                p[c] = [None] * len(vals)
        stats = _part_runs(p, rules)
        _part_point_types(p, s["direction"][0], rules)
        part_rows.append(
            {"part": pnum, "chart": chart, "x_first": s["x"][idx[0]], "x_last": s["x"][idx[-1]], **stats}
        )
        for k, i in enumerate(idx):
            point_rows.append(
                {
                    "_i": i,
                    "value": vals[k],
                    "cl": p["cl"],
                    **{c: p[c][k] for c in ("lcl", "ucl", "lcl_2s", "ucl_2s")},
                    "sigma_signal": p["sigma_signal"][k],
                    "runs_signal": p["runs_signal"],
                    "shift_point": p["shift_point"][k],
                    "trend_point": p["trend_point"][k],
                    "baseline": p["use"][k],
                    "point_type": p["point_type"][k],
                    "signal_rule": p["signal_rule"][k],
                    "few": few,
                }
            )
    last = point_rows[-1]
    target, direction = s["target"][0], s["direction"][0]
    assurance = None
    if target is not None and direction is not None and last["ucl"] is not None and last["lcl"] is not None:
        if target > last["ucl"]:
            assurance = "consistently_miss" if direction == "up" else "consistently_hit"
        elif target < last["lcl"]:
            assurance = "consistently_hit" if direction == "up" else "consistently_miss"
        else:
            assurance = "hit_and_miss"
    series_row = {
        "chart": chart,
        "direction": direction,
        "target": target,
        "n_points": size,
        "latest_x": s["x"][-1],
        "latest_value": last["value"],
        "cl_latest": last["cl"],
        "lcl_latest": last["lcl"],
        "ucl_latest": last["ucl"],
        "variation": last["point_type"],
        "assurance": assurance,
        "runs_signal": last["runs_signal"],
        "variation_rule": last["signal_rule"],
        "too_few_points": last["few"],
    }
    return point_rows, part_rows, series_row


def analyse_loop(
    points: pl.DataFrame,
    series_keys: list[str] | None = None,
    *,
    i_factor: float = QICHARTS2_I_FACTOR,
    rules: RuleSet = DEFAULT_RULES,
) -> QIResult:
    """Same contract as ``analyse`` but one series at a time in a Python loop."""
    keys = list(series_keys or ["series_id"])
    input_cols = list(dict.fromkeys([*points.columns, *OPTIONAL_COLUMNS]))
    df = with_defaults(points, keys, keep_raw=True).sort([*keys, "x"])
    cols = df.to_dict(as_series=False)
    key_tuples = list(zip(*(cols[k] for k in keys), strict=True))
    out_points: dict[str, list[Any]] = {c: [] for c in (*POINT_OUTPUT,)}
    part_rows, series_rows = [], []
    start = 0
    total = df.height
    while start < total:
        end = start + 1
        while end < total and key_tuples[end] == key_tuples[start]:
            end += 1
        s = {
            c: cols[c][start:end]
            for c in (
                "x",
                "y",
                "n",
                "chart",
                "direction",
                "target",
                "freeze",
                "fix_after",
                "part",
                "exclude",
                "screen",
            )
        }
        pts, parts, series = analyse_series(s, i_factor, rules)
        key_vals = dict(zip(keys, key_tuples[start], strict=True))
        for r in pts:
            for c in POINT_OUTPUT:
                out_points[c].append(r[c])
        part_rows.extend({**key_vals, **r} for r in parts)
        series_rows.append({**key_vals, **series})
        start = end
    raw = {
        "chart": pl.col("_chart_raw").alias("chart"),
        "direction": pl.col("_direction_raw").alias("direction"),
    }
    base = df.select(*(raw.get(c, c) for c in input_cols if c not in POINT_OUTPUT))
    pts_df = base.with_columns(
        pl.Series(
            c, out_points[c], dtype=pl.Utf8 if c in ("point_type", "signal_rule") else None, strict=False
        )
        for c in POINT_OUTPUT
    )
    pts_df = pts_df.with_columns(
        pl.col(c).cast(pl.Float64) for c in ("value", "cl", "lcl", "ucl", "lcl_2s", "ucl_2s")
    )
    parts_df = pl.DataFrame(part_rows, infer_schema_length=None).select(*keys, *PART_OUTPUT)
    series_df = pl.DataFrame(series_rows, infer_schema_length=None)
    return QIResult(points=pts_df, parts=parts_df, series=series_df)
