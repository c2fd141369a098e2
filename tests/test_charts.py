"""Charts for the reports: valid, escaped, self-contained SVG with the right marks on it."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import polars as pl
import pytest

from reports.charts import (
    assurance_icon_svg,
    bar_chart_svg,
    chart_alt_text,
    distribution_svg,
    icon_label,
    icon_svg,
    nice_ticks,
    sparkline_svg,
    spc_chart_svg,
    variation_icon_svg,
)
from reports.charts.bars import SERIES_STYLES
from reports.charts.distribution import quantile
from reports.charts.spc import (
    _centre_line_layer,
    _limits_layer,
    _pdsa_flags_layer,
    _phase_rules_layer,
    _points_layer,
    _signal_bands_layer,
    _target_layer,
    chart_captions,
    chart_layout,
    draw_spc_chart,
    legend_entries_for,
    legend_svg,
    pdsa_key,
    spc_alt_text,
    spc_legend_entries,
    spc_pdsa_key,
)
from reports.charts.spec import PRINT as PRINT_OPTIONS
from reports.charts.spec import SpcChart, events_of
from reports.charts.svg import esc, fit, text_width, wrap
from tests.chart_gallery import (
    demo_i_chart,
    demo_lower_is_better,
    demo_p_chart,
    demo_run_chart,
    gallery_html,
)

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = "Ward <script>alert(\"x\")</script> & 'Team' ]]> <![CDATA[ x ]]> \x00\x07 end"


def months(start: str, n: int) -> list[str]:
    y, m = map(int, start.split("-"))
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def frame(n: int = 12, **cols) -> pl.DataFrame:
    data = {
        "x": cols.pop("x", months("2025-01", n)),
        "value": pl.Series(cols.pop("value", [5.0 + (i % 3) * 0.5 for i in range(n)]), dtype=pl.Float64),
        "cl": pl.Series(cols.pop("cl", [5.5] * n), dtype=pl.Float64),
        "lcl": pl.Series(cols.pop("lcl", [4.0] * n), dtype=pl.Float64),
        "ucl": pl.Series(cols.pop("ucl", [7.0] * n), dtype=pl.Float64),
        "part": pl.Series(cols.pop("part", [1] * n), dtype=pl.Int64),
        "sigma_signal": cols.pop("sigma_signal", [False] * n),
        "runs_signal": cols.pop("runs_signal", [False] * n),
        "shift_point": cols.pop("shift_point", [False] * n),
        "trend_point": cols.pop("trend_point", [False] * n),
        "point_type": cols.pop("point_type", ["common_cause"] * n),
    }
    data.update(cols)
    return pl.DataFrame(data)


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def by_class(root: ET.Element, cls: str) -> list[ET.Element]:
    return [e for e in root.iter() if cls in (e.get("class") or "").split()]


def texts(root: ET.Element) -> list[str]:
    return [e.text or "" for e in root.iter(f"{NS}text")]


def all_svgs() -> dict[str, str]:
    out = {}
    for name, maker in (
        ("i", demo_i_chart),
        ("p", demo_p_chart),
        ("run", demo_run_chart),
        ("down", demo_lower_is_better),
    ):
        df, kw = maker()
        out[name] = spc_chart_svg(df, **kw)
    out["small"] = spc_chart_svg(demo_p_chart()[0], **{**demo_p_chart()[1], "width": 300, "height": 180})
    out["empty"] = spc_chart_svg(frame(0), title="Nothing yet")
    out["spark"] = sparkline_svg([1, 2, None, 4, 5])
    out["spark_empty"] = sparkline_svg([None, None])
    for kind in (
        "special_cause_improvement",
        "special_cause_concern",
        "special_cause_neutral",
        "common_cause",
    ):
        out[kind] = variation_icon_svg(kind, direction="up")
    for kind in ("consistently_hit", "hit_and_miss", "consistently_miss", "none"):
        out[kind] = assurance_icon_svg(kind)
    cats = ["Meaning and purpose", "Camaraderie and teamwork", "Daily improvement"]
    series = {"Adopt": [1, 2, 3], "Adapt": [0, 1, 2], "Continue": [2, 0, 1], "Abandon": [1, 1, 0]}
    out["bars_h"] = bar_chart_svg(cats, series, title="PDSA", stacked=True)
    out["bars_v"] = bar_chart_svg(cats, series, title="PDSA", horizontal=False)
    periods = months("2025-01", 6)
    dist = {p: [0.5, 1.0, 1.5, 1.5, 2.0, 3.5 + i * 0.1] for i, p in enumerate(periods)}
    out["dist_box"] = distribution_svg(
        periods, dist, title="Progress", highlight=[1, 1.5, None, 2, 2, 2.5], target=3
    )
    out["dist_dots"] = distribution_svg(periods, dist, title="Progress", style="dots")
    return out


# --- validity, safety, accessibility -----------------------------------------------------------


@pytest.mark.parametrize(("name", "svg"), list(all_svgs().items()))
def test_every_svg_is_valid_accessible_and_self_contained(name, svg):
    root = parse(svg)
    assert root.get("role") == "img"
    title = root.find(f"{NS}title")
    assert title is not None and title.text
    labelled = (root.get("aria-labelledby") or "").split()
    ids = {e.get("id") for e in root.iter() if e.get("id")}
    assert labelled and set(labelled) <= ids
    assert root.get("viewBox") and root.get("width") and root.get("height")
    # nothing outside the SVG: no links, no url() (not even local), no images, no styles, no scripts
    low = svg.lower()
    for needle in (
        "href",
        "url(",
        "@import",
        "<image",
        "<use",
        "<script",
        "<style",
        "foreignobject",
        "<!entity",
    ):
        assert needle not in low, (name, needle)
    assert re.findall(r"https?://[^\s\"']+", svg) == ["http://www.w3.org/2000/svg"]
    for e in root.iter():
        ff = e.get("font-family")
        if ff:
            assert ff == "'DejaVu Sans', sans-serif"


def test_hostile_text_is_escaped_everywhere():
    df, kw = demo_i_chart()
    kw = {**kw, "title": HOSTILE, "unit": HOSTILE, "chart_label": "I <chart>"}
    kw["events"] = [
        {"x": "2025-07", "label": HOSTILE},
        {"x": "2025-08", "label": '<img src="file:///etc/passwd">'},
    ]
    svgs = [
        spc_chart_svg(df, **kw),
        bar_chart_svg([HOSTILE, "ok"], {HOSTILE: [1, 2], "b": [2, 1]}, title=HOSTILE, stacked=True),
        bar_chart_svg([HOSTILE], {"a": [1]}, title=HOSTILE, horizontal=False),
        distribution_svg(
            ["2025-01"], [[1.0, 2.0]], title=HOSTILE, unit=HOSTILE, highlight=[1], highlight_label=HOSTILE
        ),
        sparkline_svg([1, 2], label=HOSTILE),
        variation_icon_svg("common_cause", title=HOSTILE),
    ]
    expected = " ".join(HOSTILE.replace("\x00", "").replace("\x07", "").split())
    for svg in svgs:
        root = parse(svg)
        assert "<script" not in svg and "<img" not in svg and "]]>" not in svg and "<![CDATA[" not in svg
        assert root.find(f"{NS}title").text == expected
        assert not [e for e in root.iter() if e.tag.split("}")[1] in ("script", "img", "b")]
    # the full label survives in the description and the tooltip, the key shows it shortened
    root = parse(svgs[0])
    assert '<img src="file:///etc/passwd">' in root.find(f"{NS}desc").text
    assert any(expected == (t.text or "") for t in root.iter(f"{NS}title"))


def test_esc_and_text_helpers():
    assert esc("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&#39;"
    assert esc("x\x00\x1fy\ufffe") == "xy"
    assert esc("]]>") == "]]&gt;"
    assert text_width("", 10) == 0
    assert text_width("WWW", 10) > text_width("iii", 10)
    assert fit("short", 200, 10) == "short"
    long = fit("a very long label " * 10, 100, 10)
    assert long.endswith("\u2026") and text_width(long, 10) <= 100
    lines = wrap("Physical and psychological safety", 120, 9.5, 2)
    assert len(lines) == 2 and all(text_width(s, 9.5) <= 120 for s in lines)


# --- nice ticks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [
        (0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (0, 100, [0, 20, 40, 60, 80, 100]),
        (5.3, 7.9, [5, 6, 7, 8]),
        (0.62, 0.97, [0.6, 0.7, 0.8, 0.9, 1.0]),
        (12, 12, None),
        (-3.2, 4.1, [-4, -2, 0, 2, 4, 6]),
        (1234, 9876, [0, 2000, 4000, 6000, 8000, 10000]),
    ],
)
def test_nice_ticks(lo, hi, expected):
    ticks = nice_ticks(lo, hi, 6)
    if expected is not None:
        assert ticks == pytest.approx(expected)
    assert ticks[0] <= lo and ticks[-1] >= hi
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1
    step = steps.pop()
    mantissa = step / 10 ** __import__("math").floor(__import__("math").log10(step))
    assert round(mantissa, 6) in (1, 2, 5)
    assert len(ticks) <= 7


def test_nice_ticks_5_3_to_7_9_also_with_more_ticks():
    assert nice_ticks(5.3, 7.9, 10) == pytest.approx([5, 5.5, 6, 6.5, 7, 7.5, 8])


# --- the SPC chart ------------------------------------------------------------------------------


_MIXED_TYPES = ["common_cause"] * 8 + [
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral",
    "special_cause_concern",
]
_LAST_EXCLUDED = [False] * 11 + [True]


def test_markers_have_the_shape_of_their_point_type():
    types, excluded = _MIXED_TYPES, _LAST_EXCLUDED
    root = parse(
        spc_chart_svg(frame(12, point_type=types, excluded=excluded), title="t", chart_label="I chart")
    )
    pts = by_class(root, "pt")
    assert len(pts) == 12
    kinds = {
        cls: [e for e in pts if cls in e.get("class").split()]
        for cls in ("pt-common", "pt-improvement", "pt-concern", "pt-neutral")
    }
    assert len(kinds["pt-common"]) == 8 and all(e.tag == f"{NS}circle" for e in kinds["pt-common"])
    (imp,) = kinds["pt-improvement"]
    assert imp.tag == f"{NS}circle" and float(imp.get("r")) > float(kinds["pt-common"][0].get("r")) + 1
    assert imp.get("fill") == "#0072B2"
    assert all(e.tag == f"{NS}path" and e.get("d").count("L") == 3 for e in kinds["pt-concern"])  # diamond
    (neu,) = kinds["pt-neutral"]
    assert neu.tag == f"{NS}path" and neu.get("d").count("L") == 2  # triangle
    hollow = by_class(root, "pt-excluded")
    assert len(hollow) == 1 and hollow[0].get("fill") == "#FFFFFF" and "pt-concern" in hollow[0].get("class")
    legend = " ".join(texts(root))
    for word in ("Improvement", "Concern", "Special cause (neutral)", "Common cause", "Excluded"):
        assert word in legend


def _subpaths(d: str) -> int:
    return d.count("M")


def test_missing_value_and_missing_month_make_gaps():
    values = [5.0, 5.5, None, 6.0, 6.5, 6.0]
    root = parse(spc_chart_svg(frame(6, value=values), title="t"))
    (data,) = by_class(root, "data")
    assert _subpaths(data.get("d")) == 2
    assert len(by_class(root, "pt")) == 5
    # a month with no row at all is a gap too, and the axis keeps calendar spacing
    x = ["2025-01", "2025-02", "2025-04", "2025-05"]
    root = parse(spc_chart_svg(frame(4, x=x, value=[1.0, 2, 3, 4]), title="t"))
    (data,) = by_class(root, "data")
    assert _subpaths(data.get("d")) == 2
    cx = [float(e.get("cx")) for e in by_class(root, "pt")]
    assert cx[2] - cx[1] == pytest.approx(2 * (cx[1] - cx[0]), abs=0.2)
    assert "1 month missing" in root.find(f"{NS}desc").text


def test_varying_limits_are_stepped_and_constant_limits_are_straight():
    n = 8
    ucl = [0.9, 0.85, 0.95, 0.9, 0.9, 0.88, 0.92, 0.9]
    root = parse(spc_chart_svg(frame(n, value=[0.7] * n, cl=[0.7] * n, ucl=ucl, lcl=[0.5] * n), title="p"))
    (u,) = by_class(root, "ucl")
    (lo,) = by_class(root, "lcl")
    assert u.get("d").count("V") == 6  # a step wherever the limit changes
    assert "V" not in lo.get("d") and _subpaths(lo.get("d")) == 1
    assert u.get("stroke-dasharray") and not by_class(root, "cl")[0].get("stroke-dasharray")


def test_phases_break_lines_and_draw_a_rule():
    n = 12
    part = [1] * 6 + [2] * 6
    cl = [5.0] * 6 + [6.0] * 6
    df = frame(n, part=part, cl=cl, ucl=[c + 1.5 for c in cl], lcl=[c - 1.5 for c in cl])
    root = parse(spc_chart_svg(df, title="t", chart_label="I chart"))
    (c,) = by_class(root, "cl")
    assert _subpaths(c.get("d")) == 2 and "V" not in c.get("d")
    assert len(by_class(root, "phase")) == 1
    assert "New phase" in texts(root)
    alt = root.find(f"{NS}desc").text
    assert "2 phases; the latest from Jul 2025" in alt


def test_run_chart_legend_names_only_what_is_present():
    n = 10
    df = frame(n, ucl=[None] * n, lcl=[None] * n, shift_point=[False] * 4 + [True] * 6)
    root = parse(spc_chart_svg(df, title="t", chart_label="Run chart"))
    words = texts(root)
    assert "Median" in words and "Shift" in words and "Common cause" in words
    for absent in (
        "Control limits",
        "Target",
        "Centre line",
        "Network median",
        "Improvement",
        "Concern",
        "Trend",
    ):
        assert absent not in words
    assert not by_class(root, "ucl") and not by_class(root, "target")
    assert len(by_class(root, "run-band")) == 1


def test_target_network_median_and_events():
    df, kw = demo_i_chart()
    kw = {
        **kw,
        "events": [
            *kw["events"],
            {"x": "2019-01", "label": "long before"},
            {"x": "2025-09", "label": "same month"},
        ],
    }
    root = parse(spc_chart_svg(df, **kw))
    words = texts(root)
    assert "Target" in words and "Target 7.5" in words and "Network median" in words
    (t,) = by_class(root, "target")
    assert t.get("stroke-dasharray")
    assert len(by_class(root, "network-median")) == 1
    badges = by_class(root, "pdsa")
    assert [b.find(f"{NS}text").text for b in badges] == ["1", "2", "3", "4"]  # off-axis event dropped
    cx = [float(b.find(f"{NS}circle").get("cx")) for b in badges]
    assert all(b - a >= 12 for a, b in zip(cx, cx[1:], strict=False))  # same-month badges do not overlap
    key = by_class(root, "pdsa-key")[0]
    assert "Cycle 1: Daily safety huddle (adopt)" in [e.text for e in key.iter(f"{NS}text")]
    assert "long before" not in ET.tostring(root, encoding="unicode")


def test_alt_text_summarises_latest_value_and_signals():
    df, kw = demo_i_chart()
    alt = chart_alt_text(df, **{k: v for k, v in kw.items() if k != "network_median"})
    assert alt.startswith("Joy in work pulse score, I chart, 18 months to Oct 2026.")
    assert "Latest 7.1 (Oct 2026)" in alt
    assert "centre line 6.2" in alt and "control limits 4.9 to 7.6" in alt and "target 7.5" in alt
    assert "7 points of special-cause improvement" in alt and "a shift" in alt
    assert "Higher is better." in alt and "1 month missing." in alt and "3 PDSA cycles" in alt
    svg = spc_chart_svg(df, **kw)
    assert parse(svg).find(f"{NS}desc").text.startswith(alt)

    df, kw = demo_p_chart()
    alt = chart_alt_text(df, **kw)
    assert "1 point of special-cause improvement and 1 point of special-cause concern" in alt
    assert re.search(r"Latest \d+\.\d%", alt) and "1 point excluded" in alt

    alt = chart_alt_text(frame(5, point_type=["common_cause"] * 5), title="Calm", chart_label="I chart")
    assert "No special-cause variation." in alt
    alt = chart_alt_text(frame(3, value=[1.0, 2.0, None]), title="Gap")
    assert "Latest value 2.0 in Feb 2025; Mar 2025 missing" in alt


def test_multiplier_and_percent_unit():
    df = frame(6, value=[0.81, 0.85, 0.8, 0.9, 0.86, 0.85], cl=[0.85] * 6, lcl=[0.7] * 6, ucl=[1.0] * 6)
    root = parse(spc_chart_svg(df, title="Recommend", unit="%", multiplier=100, target=0.9))
    words = texts(root)
    assert "100%" in words and any(w.endswith("%") and w.startswith("8") for w in words)
    assert "Target 90%" in words
    assert "Latest 85%" in root.find(f"{NS}desc").text


def test_month_labels_are_thinned_and_never_overlap():
    df, kw = demo_lower_is_better()  # 36 months
    root = parse(spc_chart_svg(df, **kw))
    labels = [
        (float(e.get("x")), e.text)
        for e in root.iter(f"{NS}text")
        if e.text in {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
    ]
    labels = [lab for lab in labels if lab[1]]
    assert 6 <= len(labels) < 36
    for (x0, t0), (x1, t1) in zip(labels, labels[1:], strict=False):
        assert x1 - x0 > (text_width(t0, 9.5) + text_width(t1, 9.5)) / 2
    years = [e.text for e in root.iter(f"{NS}text") if e.text in {"2024", "2025", "2026", "2027"}]
    assert years == ["2024", "2025", "2026", "2027"]


def test_right_labels_are_spread_apart():
    n = 6
    df = frame(n, cl=[5.0] * n, ucl=[5.1] * n, lcl=[4.9] * n, value=[5.0] * n)
    root = parse(spc_chart_svg(df, title="t", target=5.05))
    (group,) = by_class(root, "line-labels")
    ys = sorted(float(e.get("y")) for e in group.iter(f"{NS}text"))
    assert len(ys) == 4 and all(b - a >= 10 for a, b in zip(ys, ys[1:], strict=False))


@pytest.mark.parametrize(
    "x",
    [
        [dt.date(2025, m, 1) for m in range(1, 7)],
        [dt.datetime(2025, m, 1) for m in range(1, 7)],
        [1, 2, 3, 4, 5, 6],
        ["wk1", "wk2", "wk3", "wk4", "wk5", "wk6"],
        [dt.date(2025, 1, d) for d in (3, 10, 17, 24, 31)] + [dt.date(2025, 2, 7)],
    ],
)
def test_x_types(x):
    df = frame(6, x=x).drop("runs_signal", "shift_point", "trend_point", "sigma_signal", "part")
    root = parse(spc_chart_svg(df, title="t", events=[{"x": x[2], "label": "here"}]))
    assert len(by_class(root, "pt")) == 6
    assert len(by_class(root, "pdsa")) == 1


def test_minimal_and_degenerate_frames():
    parse(spc_chart_svg(pl.DataFrame({"x": ["2025-01"], "value": [3.0]}), title="one"))
    parse(spc_chart_svg(frame(4, value=[None] * 4), title="none"))
    parse(spc_chart_svg(frame(5, value=[2.0] * 5, cl=[2.0] * 5, lcl=[2.0] * 5, ucl=[2.0] * 5), title="flat"))
    assert "no data" in chart_alt_text(frame(0), title="empty")


def test_height_grows_only_when_needed():
    df, kw = demo_i_chart()
    assert parse(spc_chart_svg(df, **kw)).get("height") == "260"
    many = [
        {"x": m, "label": f"Cycle {i}: a change idea with a fairly long description"}
        for i, m in enumerate(months("2025-05", 18))
    ]
    root = parse(spc_chart_svg(df, **{**kw, "events": many}))
    assert float(root.get("height")) > 260


# --- print mode: lean SVG for the PDF reports ---------------------------------------------------

PRINT = {"legend": False, "key": False, "caption": False, "tooltips": False}


def test_print_mode_merges_markers_by_kind_and_keeps_shape_and_colour():
    types, excluded = _MIXED_TYPES, _LAST_EXCLUDED
    root = parse(
        spc_chart_svg(
            frame(12, point_type=types, excluded=excluded), title="t", chart_label="I chart", **PRINT
        )
    )
    paths = {
        tuple(e.get("class").split()[1:]): e for e in by_class(root, "pts")
    }  # one path per kind (and hollowness)
    assert set(paths) == {
        ("pt-common",),
        ("pt-improvement",),
        ("pt-concern",),
        ("pt-neutral",),
        ("pt-concern", "pt-excluded"),
    }
    common = paths[("pt-common",)].get("d")
    assert _subpaths(common) == 8 and common.count("a") == 16  # 8 circles, two arcs each
    imp = paths[("pt-improvement",)]
    assert imp.get("fill") == "#0072B2" and imp.get("d").count("a") == 2
    r_imp = float(imp.get("d").split("a")[1].split()[0])
    assert r_imp > float(common.split("a")[1].split()[0]) + 1  # improvement circles are larger
    assert paths[("pt-concern",)].get("d").count("L") == 3  # diamond
    assert paths[("pt-neutral",)].get("d").count("L") == 2  # triangle
    hollow = paths[("pt-concern", "pt-excluded")]
    assert hollow.get("fill") == "#FFFFFF" and hollow.get("d").count("L") == 3
    # no per-point tooltips, no legend or caption text: the page prints those
    assert [e.text for e in root.iter(f"{NS}title")] == ["t"]
    words = texts(root)
    for absent in ("Improvement", "Concern", "Common cause", "Excluded", "Centre line", "I chart"):
        assert absent not in words
    assert "No special-cause" not in root.find(f"{NS}desc").text


def test_print_mode_badges_stay_and_the_desc_names_every_cycle():
    df, kw = demo_i_chart()
    full = parse(spc_chart_svg(df, **kw))
    lean = parse(spc_chart_svg(df, **kw, **PRINT))
    (discs,) = by_class(lean, "pdsa-badges")
    assert _subpaths(discs.get("d")) == 3
    (numbers,) = by_class(lean, "pdsa-numbers")
    assert [e.text for e in numbers.iter(f"{NS}text")] == ["1", "2", "3"]
    assert not by_class(lean, "pdsa-key") and not by_class(lean, "legend")
    desc = lean.find(f"{NS}desc").text
    assert desc == full.find(f"{NS}desc").text
    assert "1. Cycle 1: Daily safety huddle (adopt)" in desc and "3. Cycle 3: Protected breaks" in desc
    # the lean chart is much smaller for WeasyPrint to lay out
    assert len(list(lean.iter())) < len(list(full.iter())) / 2
    assert sum(map(len, texts(lean))) < sum(map(len, texts(full))) / 2  # SVG text is set letter by letter


def test_pdsa_key_numbers_cycles_as_the_badges_do():
    df, kw = demo_i_chart()
    events = [
        {"x": "2026-03", "label": "later"},
        {"x": "2019-01", "label": "off the axis"},
        {"x": "2025-09", "label": "first <b>"},
    ]
    assert pdsa_key(df, events) == [(1, "first <b>"), (2, "later")]
    assert pdsa_key(df, None) == []


def test_one_legend_for_many_charts():
    df, kw = demo_i_chart()
    entries = legend_entries_for(
        df,
        chart_label=kw["chart_label"],
        target=kw["target"],
        network_median=kw["network_median"],
        events=kw["events"],
    )
    labels = [lab for lab, _ in entries]
    assert labels[:4] == ["Centre line", "Control limits", "Target", "Network median"]
    assert "Improvement" in labels and "Common cause" in labels and "Shift" in labels
    assert labels[-1] == "PDSA cycle"
    run = legend_entries_for(frame(6, ucl=[None] * 6, lcl=[None] * 6), chart_label="Run chart")
    assert [lab for lab, _ in run] == ["Median", "Common cause"]
    root = parse(legend_svg(entries))
    assert root.find(f"{NS}title").text == "Key to the charts"
    assert [t for t in texts(root) if t != "1"] == labels  # "1": the PDSA badge swatch
    assert "Network median" in root.find(f"{NS}desc").text


def test_chart_captions():
    assert chart_captions("%", "P chart", "up") == ("", "P chart  \u00b7  \u2191 Higher is better")
    assert chart_captions("days <x>", "", "down") == ("days <x>", "\u2193 Lower is better")
    assert chart_captions("", "Run chart", None) == ("", "Run chart")


def test_text_anchors_are_resolved_without_text_anchor():
    from reports.charts.svg import text_svg

    e = ET.fromstring(
        text_svg(100, 20, "Oct", 9.5, anchor="middle").replace("<text", f'<text xmlns="{NS[1:-1]}"')
    )
    assert float(e.get("x")) == pytest.approx(100 - text_width("Oct", 9.5) / 2, abs=0.06)
    e = ET.fromstring(text_svg(100, 20, "7.6 \u2013 8", 9.5, anchor="end", bold=True))
    assert float(e.get("x")) == pytest.approx(100 - text_width("7.6 \u2013 8", 9.5, True), abs=0.06)
    assert e.get("font-weight") == "bold" and e.text == "7.6 \u2013 8"
    assert "&lt;b&gt;" in text_svg(0, 0, "<b>", 9)
    for name, svg in all_svgs().items():
        assert "text-anchor" not in svg, name  # WeasyPrint would draw each such text in its own group


def test_month_labels_fall_on_calendar_months_even_when_that_month_is_missing():
    x = [m for m in months("2025-05", 18) if m not in ("2025-10", "2026-01")]
    root = parse(spc_chart_svg(frame(len(x), x=x), title="gaps"))
    labels = [e.text for e in root.iter(f"{NS}text") if e.text in ("Jan", "Apr", "Jul", "Oct")]
    assert labels == ["Jul", "Oct", "Jan", "Apr", "Jul", "Oct"]  # quarterly, missing Oct/Jan kept
    years = [e.text for e in root.iter(f"{NS}text") if e.text in ("2025", "2026")]
    assert years == ["2025", "2026"]


# --- sparkline and icons ------------------------------------------------------------------------


def test_sparkline():
    root = parse(sparkline_svg([1.0, 2.0, None, 3.0, 4.5], width=90, height=22))
    (path,) = [e for e in root.iter(f"{NS}path")]
    assert _subpaths(path.get("d")) == 2
    assert len(by_class(root, "spark-last")) == 1
    assert root.get("width") == "90" and root.get("height") == "22"
    assert "latest 4.5" in root.find(f"{NS}title").text
    assert not by_class(parse(sparkline_svg([1, 2], highlight_last=False)), "spark-last")
    assert root.find(f"{NS}title").text != parse(sparkline_svg([None])).find(f"{NS}title").text
    parse(sparkline_svg([3.0]))
    parse(sparkline_svg([]))


@pytest.mark.parametrize(
    ("kind", "direction", "letter", "words"),
    [
        ("special_cause_improvement", "up", "H", "Special cause improvement (higher values)"),
        ("special_cause_improvement", "down", "L", "Special cause improvement (lower values)"),
        ("special_cause_concern", "up", "L", "Special cause concern (lower values)"),
        ("special_cause_concern", "down", "H", "Special cause concern (higher values)"),
        ("consistently_hit", None, "P", "Consistently hits the target"),
        ("consistently_miss", None, "F", "Consistently misses the target"),
        ("hit_and_miss", None, "?", "Hits and misses the target (random variation)"),
        ("none", None, "\u2013", "No target"),
    ],
)
def test_icons_carry_a_letter_and_words(kind, direction, letter, words):
    root = parse(icon_svg(kind, direction=direction, size=24))
    assert [e.text for e in root.iter(f"{NS}text")] == [letter]
    assert root.find(f"{NS}title").text == words == icon_label(kind, direction=direction)
    assert root.get("width") == "24" and root.get("viewBox") == "0 0 24 24"


def test_icon_shapes_differ_and_labels():
    shapes = {}
    for kind in (
        "special_cause_improvement",
        "special_cause_concern",
        "special_cause_neutral",
        "common_cause",
    ):
        root = parse(variation_icon_svg(kind, side="high"))
        shapes[kind] = (root[1].tag, (root[1].get("d") or "")[:6], root[1].get("fill"))
    assert len(set(shapes.values())) == 4
    assert [
        e.text for e in parse(variation_icon_svg("special_cause_neutral", side="low")).iter(f"{NS}text")
    ] == ["L"]
    assert not list(parse(variation_icon_svg("common_cause")).iter(f"{NS}text"))  # a wave, not a letter
    assert icon_label("common_cause") == "Common cause variation"
    assert icon_label(None) == "No target"
    with pytest.raises(ValueError):
        variation_icon_svg("consistently_hit")
    with pytest.raises(ValueError):
        assurance_icon_svg("special_cause_concern")


# --- bars and distributions ---------------------------------------------------------------------


def test_bar_series_read_in_greyscale():
    from reports.charts.svg import luminance

    solid = sorted(luminance(c) for c, hatched in SERIES_STYLES.values() if not hatched)
    assert all(b - a >= 40 for a, b in zip(solid, solid[1:], strict=False))
    assert sum(h for _, h in SERIES_STYLES.values()) >= 1
    cats = ["A", "B"]
    root = parse(bar_chart_svg(cats, {"adopt": [2, 3], "abandon": [1, 4]}, title="t", stacked=True))
    assert len(root.findall(f".//{NS}rect")) >= 5  # background + 4 segments (+ legend swatches)
    assert any(e.get("stroke") == "#FFFFFF" and e.get("d") for e in root.iter(f"{NS}path"))  # the hatch
    words = texts(root)
    assert "3" in words and "7" in words  # totals
    desc = root.find(f"{NS}desc").text
    assert "10 in total: adopt 5, abandon 5" in desc and "A 3 (adopt 2, abandon 1)" in desc


def test_bar_chart_orientations_and_long_labels():
    cats = ["Physical and psychological safety", "Participative management", "Real-time measurement"]
    for horizontal in (True, False):
        for stacked in (True, False):
            svg = bar_chart_svg(
                cats,
                {"Adopt": [1, 0, 3], "Adapt": [2, 2, 0]},
                title="x",
                stacked=stacked,
                horizontal=horizontal,
            )
            root = parse(svg)
            assert all(text_width(t, 9.5) <= 640 for t in texts(root))
    with pytest.raises(ValueError):
        bar_chart_svg(["a"], {"x": [1, 2]}, title="bad")


def test_quantile_matches_type_7():
    vals = [0.5, 1.0, 1.5, 2.0, 4.0]
    assert quantile(vals, 0.25) == 1.0 and quantile(vals, 0.5) == 1.5 and quantile(vals, 0.75) == 2.0
    assert quantile([1.0, 2.0], 0.25) == pytest.approx(1.25)


def test_distribution_summary_and_scale():
    periods = months("2025-01", 3)
    root = parse(distribution_svg(periods, {p: [1.0, 1.5, 2.0, 2.5, 3.0] for p in periods}, title="Progress"))
    desc = root.find(f"{NS}desc").text
    assert "Mar 2025: median 2.0, middle half 1.5 to 2.5, 5 values." in desc
    ticks = [e.text for e in root.iter(f"{NS}text") if e.text and re.fullmatch(r"\d\.\d", e.text)]
    assert ticks[0] == "0.5" and ticks[-1] == "5.0"
    assert len(by_class(root, "box")) == 3
    dots = parse(distribution_svg(periods, [[1.0, 1.0, 2.0]] * 3, title="d", style="dots"))
    assert len(by_class(dots, "median")) == 3


# --- rendering ----------------------------------------------------------------------------------


def test_charts_render_in_weasyprint_without_fetching_anything():
    weasyprint = pytest.importorskip("weasyprint")
    calls: list[str] = []

    class Refuse(weasyprint.URLFetcher):
        def fetch(self, url, headers=None):
            calls.append(url)
            raise ValueError("no fetching")

    body = "".join(f"<figure>{svg}</figure>" for svg in all_svgs().values())
    pdf = weasyprint.HTML(string=f"<html><body>{body}</body></html>", url_fetcher=Refuse()).write_pdf()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    assert calls == []


def test_gallery_page_builds():
    html, svgs = gallery_html()
    assert html.count("<svg") >= 20 and len(svgs) >= 10
    for svg in svgs.values():
        parse(svg)


def test_a_missing_month_splits_the_band_but_not_its_colour():
    """Jan–Mar concern points, April missing, May–Jul common-cause points: one shift, two bands."""
    n = 7
    value = [4.0, 4.1, 4.2, None, 4.3, 4.1, 4.2]
    ptype = ["special_cause_concern"] * 3 + ["common_cause"] * 4
    df = frame(n, value=value, point_type=ptype, shift_point=[True, True, True, False, True, True, True])
    root = parse(spc_chart_svg(df, title="t", chart_label="I chart"))
    bands = by_class(root, "run-band")
    assert len(bands) == 2
    assert {b.get("stroke") for b in bands} == {"#F6D68F"}  # both the concern colour
    entries = legend_entries_for(df, chart_label="I chart", target=None)
    assert [swatch for label, swatch in entries if label == "Shift"] == [("band", "#F6D68F")]


def test_runs_of_different_kinds_get_a_key_entry_each():
    n = 14
    ptype = ["special_cause_improvement"] * 6 + ["common_cause"] * 2 + ["special_cause_concern"] * 6
    shift = [True] * 6 + [False] * 2 + [True] * 6
    df = frame(n, point_type=ptype, shift_point=shift)
    entries = legend_entries_for(df, chart_label="I chart", target=None)
    assert [swatch for label, swatch in entries if label == "Shift"] == [
        ("band", "#A9CDE6"),
        ("band", "#F6D68F"),
    ]


def test_runs_on_either_side_of_a_missing_month_stay_apart():
    """Below the centre line, a month missing, then above it: two signals, each its own colour."""
    n = 7
    value = [4.0, 4.1, 4.2, None, 6.3, 6.1, 6.2]
    ptype = ["special_cause_concern"] * 3 + ["common_cause"] + ["special_cause_improvement"] * 3
    df = frame(n, value=value, point_type=ptype, shift_point=[True, True, True, False, True, True, True])
    bands = by_class(parse(spc_chart_svg(df, title="t", chart_label="I chart")), "run-band")
    assert [b.get("stroke") for b in bands] == ["#F6D68F", "#A9CDE6"]


def _spec(df: pl.DataFrame, kw: dict, **more) -> SpcChart:
    return SpcChart(
        df,
        **{k: v for k, v in kw.items() if k not in ("events", "network_median")},
        events=events_of(kw.get("events")),
        network_median=tuple(kw.get("network_median") or ()),
        **more,
    )


def test_a_declared_chart_draws_what_the_keyword_call_draws() -> None:
    df, kw = demo_i_chart()
    spec = _spec(df, kw, options=PRINT_OPTIONS)
    assert draw_spc_chart(spec) == spc_chart_svg(df, **kw, **PRINT_OPTIONS.__dict__)
    assert spc_alt_text(spec) == chart_alt_text(df, **kw)
    assert spc_pdsa_key(spec) == pdsa_key(df, kw["events"])
    assert [label for label, _ in spc_legend_entries(spec)][:4] == [
        "Centre line",
        "Control limits",
        "Target",
        "Network median",
    ]


def test_the_layout_places_the_plot_and_scales_once() -> None:
    """The layout maps every value into the plot area, ticks span it, and the right-hand labels
    name the latest limits, centre line and target with the data's decimals."""
    df, kw = demo_i_chart()
    layout = chart_layout(_spec(df, kw))
    assert 8 < layout.plot_left < layout.plot_right <= layout.width - 10
    assert layout.plot_top < layout.plot_bottom < layout.height
    assert layout.y(layout.ticks[0]) == pytest.approx(layout.plot_bottom)
    assert layout.y(layout.ticks[-1]) == pytest.approx(layout.plot_top)
    assert all(layout.plot_left <= x <= layout.plot_right for x in layout.point_xs)
    assert layout.point_xs == sorted(layout.point_xs)
    assert [r.text for r in layout.right_labels] == ["7.6", "4.9", "6.2", "Target 7.5"]
    assert [n for n, _ in spc_pdsa_key(_spec(df, kw))] == [1, 2, 3] and len(layout.events) == 3
    # without legend and key below the plot, the chart keeps the height asked for
    lean = chart_layout(_spec(df, kw, height=240, options=PRINT_OPTIONS))
    assert lean.height == 240 and not lean.legend_rows and not lean.key_rows


def test_each_layer_draws_only_its_own_marks() -> None:
    df, kw = demo_i_chart()
    layout = chart_layout(_spec(df, kw))
    assert 'class="ucl"' in _limits_layer(layout) and 'class="cl"' not in _limits_layer(layout)
    assert 'class="cl"' in _centre_line_layer(layout)
    assert 'class="target"' in _target_layer(layout)
    assert _signal_bands_layer(layout).count('class="run-band"') == 1  # the six-point shift
    assert _points_layer(layout).count("<title>") == sum(v is not None for v in df.get_column("value"))
    no_target = chart_layout(_spec(df, {**kw, "target": None}))
    assert _target_layer(no_target) == ""
    assert "Target" not in "".join(r.text for r in no_target.right_labels)
    calm = chart_layout(_spec(frame(6), {"title": "calm"}))
    assert (
        _signal_bands_layer(calm) == "" and _pdsa_flags_layer(calm) == "" and _phase_rules_layer(calm) == ""
    )
