"""A page of every chart and icon, for looking at them as a reader would.

    python -m tests.chart_gallery OUTDIR

writes OUTDIR/gallery.html, OUTDIR/gallery.pdf (WeasyPrint) and OUTDIR/svg/*.svg (standalone
files). View the pages with e.g. ``pdftoppm -png -r 80 OUTDIR/gallery.pdf OUTDIR/page`` (add
``-gray`` to check greyscale). The demo data are synthetic and deterministic.
"""

from __future__ import annotations

import base64
import random
import sys
from pathlib import Path

import polars as pl

from reports.charts import (
    assurance_icon_svg,
    bar_chart_svg,
    chart_alt_text,
    distribution_svg,
    icon_label,
    sparkline_svg,
    spc_chart_svg,
    variation_icon_svg,
)
from reports.charts.svg import esc

COMPONENTS = [
    "Physical and psychological safety",
    "Meaning and purpose",
    "Choice and autonomy",
    "Recognition and rewards",
    "Participative management",
    "Camaraderie and teamwork",
    "Daily improvement",
    "Wellness and resilience",
    "Real-time measurement",
]


def months(start: str, n: int) -> list[str]:
    y, m = map(int, start.split("-"))
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def frame(x: list, value: list, **cols) -> pl.DataFrame:
    n = len(x)
    base = {
        "x": x,
        "value": pl.Series(value, dtype=pl.Float64),
        "cl": pl.Series(cols.pop("cl", [None] * n), dtype=pl.Float64),
        "lcl": pl.Series(cols.pop("lcl", [None] * n), dtype=pl.Float64),
        "ucl": pl.Series(cols.pop("ucl", [None] * n), dtype=pl.Float64),
        "part": pl.Series(cols.pop("part", [1] * n), dtype=pl.Int64),
        "sigma_signal": cols.pop("sigma_signal", [False] * n),
        "runs_signal": cols.pop("runs_signal", [False] * n),
        "shift_point": cols.pop("shift_point", [False] * n),
        "trend_point": cols.pop("trend_point", [False] * n),
        "point_type": cols.pop("point_type", ["common_cause"] * n),
    }
    base.update(cols)
    return pl.DataFrame(base)


def demo_i_chart() -> tuple[pl.DataFrame, dict]:
    x = months("2025-05", 18)
    v = [6.0, 6.3, 5.9, 6.1, 6.4, None, 6.0, 6.2, 6.5, 6.9, 7.0, 7.2, 7.1, 7.4, 7.3, 7.6, 8.9, 7.1]
    pt = ["common_cause"] * 10 + ["special_cause_improvement"] * 7 + ["common_cause"]
    df = frame(
        x, v, cl=[6.2] * 18, lcl=[4.9] * 18, ucl=[7.6] * 18, runs_signal=[True] * 18,
        shift_point=[False] * 10 + [True] * 6 + [False] * 2, point_type=pt,
        sigma_signal=[False] * 16 + [True, False],
    )  # fmt: skip
    kw = dict(
        title="Joy in work pulse score",
        unit="Mean score (0\u201310)",
        target=7.5,
        direction="up",
        chart_label="I chart",
        events=[
            {"x": "2025-09", "label": "Cycle 1: Daily safety huddle (adopt)"},
            {"x": "2025-10-14", "label": "Cycle 2: Pebble board for impediments (adapt)"},
            {"x": "2026-03", "label": "Cycle 3: Protected breaks (abandon)"},
        ],
        network_median=[(m, 5.8 + 0.03 * i) for i, m in enumerate(x)],
    )
    return df, kw


def demo_p_chart() -> tuple[pl.DataFrame, dict]:
    rnd = random.Random(3)
    x = months("2025-01", 24)
    den = [rnd.randint(18, 60) for _ in x]
    p1, p2 = 0.62, 0.78
    vals, cl, lcl, ucl, part = [], [], [], [], []
    for i, n in enumerate(den):
        p = p1 if i < 12 else p2
        se = (p * (1 - p) / n) ** 0.5
        vals.append(min(1.0, max(0.0, rnd.gauss(p, se * 0.9))))
        cl.append(p)
        lcl.append(max(0.0, p - 3 * se))
        ucl.append(min(1.0, p + 3 * se))
        part.append(1 if i < 12 else 2)
    vals[5] = 0.25
    vals[20] = 0.99
    pt = ["common_cause"] * 24
    pt[5] = "special_cause_concern"
    pt[20] = "special_cause_improvement"
    exc = [i == 5 for i in range(24)]
    df = frame(x, vals, cl=cl, lcl=lcl, ucl=ucl, part=part, point_type=pt, excluded=exc)
    kw = dict(
        title="Would recommend as a place to work",
        unit="%",
        multiplier=100,
        target=0.8,
        direction="up",
        chart_label="P chart",
        events=[{"x": "2025-12", "label": "Cycle 4: Listening sessions with the ward manager (adopt)"}],
    )
    return df, kw


def demo_run_chart() -> tuple[pl.DataFrame, dict]:
    x = months("2025-03", 20)
    v = [4, 6, 5, 7, 5, 6, 4, 6, 7, 8, 9, 11, 12, 10, 12, 13, 12, 14, 13, 12]
    trend = [False] * 8 + [True] * 5 + [False] * 7
    shift = [False] * 10 + [True] * 10
    df = frame(
        x, [float(a) for a in v], cl=[7.5] * 20, trend_point=trend, shift_point=shift, runs_signal=[True] * 20
    )
    kw = dict(
        title="\u201cWhat matters to you\u201d conversations held",
        unit="Conversations per month",
        chart_label="Run chart",
        events=[
            {"x": m, "label": f"Cycle {k}: Conversation prompt cards v{k} (adapt)"}
            for k, m in enumerate(x[7:13], 1)
        ],
    )
    return df, kw


def demo_lower_is_better() -> tuple[pl.DataFrame, dict]:
    rnd = random.Random(11)
    x = months("2024-05", 36)
    v = [max(0.0, round(rnd.gauss(4.2, 1.0), 1)) for _ in x]
    v[30], v[31] = 8.6, 9.1
    pt = ["common_cause"] * 36
    pt[30] = pt[31] = "special_cause_concern"
    df = frame(x, v, cl=[4.2] * 36, lcl=[1.3] * 36, ucl=[7.1] * 36, point_type=pt)
    kw = dict(
        title="Sickness absence",
        unit="Days lost per FTE",
        target=3.5,
        direction="down",
        chart_label="I chart",
    )
    return df, kw


def demo_neutral() -> tuple[pl.DataFrame, dict]:
    x = months("2025-11", 12)
    v = [31.0, 35, 29, 33, 30, 48, 32, 34, 30, 12, 33, 31]
    pt = ["common_cause"] * 12
    pt[5] = pt[9] = "special_cause_neutral"
    df = frame(x, v, cl=[32.0] * 12, lcl=[20.5] * 12, ucl=[43.5] * 12, point_type=pt)
    kw = dict(title="Overtime hours (balancing)", unit="Hours per week", chart_label="I chart")
    return df, kw


def demo_hostile() -> tuple[pl.DataFrame, dict]:
    df, kw = demo_i_chart()
    kw = dict(kw)
    kw["title"] = (
        "Ward <script>alert(\"x\")</script> & 'Team' ]]> <b>bold</b> with a very long name that keeps going"
    )
    kw["events"] = [{"x": "2025-07", "label": '<img src="file:///etc/passwd"> & "quotes"'}]
    return df, kw


def demo_stress() -> tuple[pl.DataFrame, dict]:
    """60 months, three phases, clustered PDSA cycles, large numbers: the layout's worst case."""
    rnd = random.Random(7)
    x = months("2021-11", 60)
    part = [1] * 20 + [2] * 22 + [3] * 18
    level = {1: 12500.0, 2: 10400.0, 3: 8900.0}
    v = [round(rnd.gauss(level[p], 600)) for p in part]
    v[33] = None  # type: ignore[call-overload]
    cl = [level[p] for p in part]
    pt = ["common_cause"] * 60
    pt[50] = "special_cause_improvement"
    v[50] = 6500
    df = frame(x, v, cl=cl, lcl=[c - 1800 for c in cl], ucl=[c + 1800 for c in cl], part=part, point_type=pt)
    events = [
        {
            "x": m,
            "label": f"Cycle {k}: rota redesign with self-rostering and protected study time, iteration {k}",
        }
        for k, m in enumerate(
            ["2023-05", "2023-05", "2023-06", "2023-06", "2023-07", "2026-10", "2026-10"], 1
        )
    ]
    kw = dict(
        title="Overtime cost (balancing measure) for the whole directorate, all staff groups",
        unit="\u00a3 per month",
        target=9000,
        direction="down",
        chart_label="I chart",
        events=events,
        width=560,
    )
    return df, kw


def gallery_html() -> tuple[str, dict[str, str]]:
    svgs: dict[str, str] = {}
    sections: list[str] = []

    def fig(name: str, svg: str, caption: str) -> str:
        svgs[name] = svg
        return f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>"

    for name, maker in (
        ("i_chart", demo_i_chart),
        ("p_chart", demo_p_chart),
        ("run_chart", demo_run_chart),
        ("lower_is_better_36_months", demo_lower_is_better),
        ("neutral", demo_neutral),
        ("hostile_text", demo_hostile),
        ("stress", demo_stress),
    ):
        df, kw = maker()
        svg = spc_chart_svg(df, **kw)
        alt = chart_alt_text(df, **kw)
        sections.append(fig(name, svg, f"{name}: {alt}"))

    df, kw = demo_neutral()
    small = [
        fig("small_a", spc_chart_svg(df, **kw, width=320, height=200), "320 \u00d7 200"),
        fig(
            "small_b",
            spc_chart_svg(demo_p_chart()[0], **{**demo_p_chart()[1], "width": 320, "height": 200}),
            "",
        ),
    ]
    sections.append(f'<div class="two">{"".join(small)}</div>')

    # the at-a-glance table
    rows = [
        ("Joy in work pulse score", "7.1", "special_cause_improvement", "up", "hit_and_miss", [6.0, 6.3, 5.9, 6.1, 6.4, None, 6.0, 6.2, 6.5, 6.9, 7.0, 7.2, 7.1, 7.4, 7.3, 7.6, 8.9, 7.1]),
        ("Would recommend (%)", "81%", "common_cause", "up", "consistently_hit", [80, 82, 79, 84, 81, 83, 80, 85, 82, 81]),
        ("Sickness absence (days/FTE)", "9.1", "special_cause_concern", "down", "consistently_miss", [4.1, 4.5, 3.9, 4.8, 5.2, 6.1, 8.6, 9.1]),
        ("Overtime hours", "31", "special_cause_neutral", None, "none", [31, 35, 29, 33, 30, 48, 32, 34, 30, 12, 33, 31]),
        ("Impediments removed", "\u2014", "common_cause", "up", "none", [None, None, None]),
    ]  # fmt: skip
    trs = []
    for measure, latest, var, direction, assurance, series in rows:
        side = "high" if var == "special_cause_neutral" else None
        trs.append(
            f"<tr><td>{esc(measure)}</td><td class=num>{esc(latest)}</td>"
            f'<td class="ic">{variation_icon_svg(var, direction=direction, side=side)}'
            f"<span>{esc(icon_label(var, direction=direction, side=side))}</span></td>"
            f'<td class="ic">{assurance_icon_svg(assurance)}<span>{esc(icon_label(assurance))}</span></td>'
            f"<td>{sparkline_svg(series)}</td></tr>"
        )
    sections.append(
        "<h2>At a glance</h2><table><thead><tr><th>Measure</th><th>Latest</th><th>Variation</th>"
        f"<th>Assurance</th><th>Trend</th></tr></thead><tbody>{''.join(trs)}</tbody></table>"
    )

    icons = []
    for kind in ("special_cause_improvement", "special_cause_concern"):
        for direction in ("up", "down"):
            icons.append(
                (
                    variation_icon_svg(kind, direction=direction, size=32),
                    icon_label(kind, direction=direction),
                )
            )
    for side in ("high", "low", None):
        icons.append(
            (
                variation_icon_svg("special_cause_neutral", side=side, size=32),
                icon_label("special_cause_neutral", side=side),
            )
        )
    icons.append((variation_icon_svg("common_cause", size=32), icon_label("common_cause")))
    for kind in ("consistently_hit", "hit_and_miss", "consistently_miss", "none"):
        icons.append((assurance_icon_svg(kind, size=32), icon_label(kind)))
    svgs["icon_improvement_up"] = icons[0][0]
    cells = "".join(f'<div class="icon">{svg}<span>{esc(label)}</span></div>' for svg, label in icons)
    sections.append(f'<h2>Icons</h2><div class="icons">{cells}</div>')

    rnd = random.Random(5)
    decisions = {
        d: [rnd.randint(0, 6) for _ in COMPONENTS] for d in ("Adopt", "Adapt", "Continue", "Abandon")
    }
    sections.append(
        fig(
            "pdsa_stacked",
            bar_chart_svg(
                COMPONENTS,
                decisions,
                title="PDSA cycles by Joy in Work component",
                stacked=True,
                unit="PDSA cycles (cumulative)",
            ),
            "stacked, horizontal",
        )
    )
    sections.append(
        fig(
            "pdsa_grouped_vertical",
            bar_chart_svg(
                ["Q1 2026", "Q2 2026", "Q3 2026", "Q4 2026"],
                {"Adopt": [3, 5, 8, 9], "Adapt": [6, 4, 5, 3], "Abandon": [2, 1, 2, 0]},
                title="Decisions per quarter",
                horizontal=False,
                height=220,
            ),
            "grouped, vertical",
        )
    )
    periods = months("2025-01", 18)
    dist = {}
    for i, p in enumerate(periods):
        mean = 1.2 + i * 0.1
        dist[p] = [min(5.0, max(0.5, round(rnd.gauss(mean, 0.6) * 2) / 2)) for _ in range(120)]
    team = [min(5.0, 1.0 + 0.5 * (i // 3)) for i in range(18)]
    team[4] = None  # type: ignore[call-overload]
    sections.append(
        fig(
            "progress_box",
            distribution_svg(
                periods, dist, title="Progress score across the network", highlight=team, target=3.5
            ),
            "box",
        )
    )
    sections.append(
        fig(
            "progress_dots",
            distribution_svg(periods, dist, title="Progress score across the network (dots)", style="dots"),
            "dots",
        )
    )

    standalone = base64.b64encode(svgs["i_chart"].encode()).decode()
    sections.append(
        "<h2>Standalone .svg (as an &lt;img&gt;)</h2>"
        f'<figure><img alt="standalone" src="data:image/svg+xml;base64,{standalone}" width="640"></figure>'
    )
    css = """
    @page { size: A4; margin: 14mm 14mm 16mm; }
    body { font-family: 'DejaVu Sans', sans-serif; font-size: 9pt; color: #1f1f1f; }
    h1 { font-size: 15pt; } h2 { font-size: 11pt; margin: 14px 0 6px; }
    figure { margin: 0 0 14px; break-inside: avoid; }
    figcaption { font-size: 7.5pt; color: #595959; margin-top: 2px; }
    .two { display: flex; gap: 10px; } .two figure { flex: 1; }
    table { border-collapse: collapse; width: 100%; break-inside: avoid; }
    th, td { text-align: left; border-bottom: 1px solid #ddd; padding: 3px 6px; vertical-align: middle; }
    td.num { text-align: right; }
    td.ic svg { vertical-align: middle; margin-right: 4px; } td.ic span { font-size: 7.5pt; }
    .icons { display: flex; flex-wrap: wrap; gap: 8px; }
    .icon { width: 150px; display: flex; align-items: center; gap: 6px; font-size: 7.5pt; }
    """
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>joyflow chart gallery</title>'
        f"<style>{css}</style></head><body><h1>joyflow chart gallery</h1>{''.join(sections)}</body></html>"
    )
    return html, svgs


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m tests.chart_gallery OUTDIR", file=sys.stderr)
        return 2
    out = Path(args[0])
    (out / "svg").mkdir(parents=True, exist_ok=True)
    html, svgs = gallery_html()
    (out / "gallery.html").write_text(html, encoding="utf-8")
    for name, svg in svgs.items():
        (out / "svg" / f"{name}.svg").write_text(svg, encoding="utf-8")
    import weasyprint

    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(out / "gallery.pdf")
    print(f"wrote {out / 'gallery.html'}, {out / 'gallery.pdf'} and {len(svgs)} SVG files in {out / 'svg'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
