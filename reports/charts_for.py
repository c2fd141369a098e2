"""Attach the SVG charts and icons a template needs to a report context (runs in the render worker)."""

from __future__ import annotations

import polars as pl

from reports.charts import _svg as S
from reports.render import inline_svg
from transforms.aggregate import POINT_SCHEMA

CHART_KEY = (
    "Each chart shows the monthly value (line with points), the centre line (solid), the control limits "
    "(dashed; none on run charts), and the target (dotted). Larger shapes mark special-cause points: a "
    "circle for improvement, a diamond for concern; numbered flags on the time axis are the team's PDSA "
    "cycles linked to the measure, listed under each chart; the grey line is the network median."
)

# Team report charts are drawn lean: one legend for the whole report, and the caption and the
# PDSA cycle list as page text around each chart -- WeasyPrint lays SVG text out letter by
# letter, page text line by line. Per-point tooltips mean nothing on paper.
_PRINT = {"legend": False, "key": False, "caption": False, "tooltips": False}
# A band takes the colour of its run's special-cause points; a grey band marks a shift or trend
# by the IHI run-chart rules (6 on one side of the median, 5 rising) whose points the control
# chart's own rules do not call special cause.
_BAND_KIND = {
    S.IMPROVEMENT_LIGHT: "improvement",
    S.CONCERN_LIGHT: "concern",
    S.NEUTRAL_LIGHT: "neutral",
    S.COMMON_LIGHT: "run-chart rules only",
}

_POINT_COLS = POINT_SCHEMA


def _points_frame(points: list[dict]) -> pl.DataFrame:
    frame = pl.DataFrame(points, schema=_POINT_COLS) if points else pl.DataFrame(schema=_POINT_COLS)
    return frame.rename({"period": "x"})


def attach_charts(kind: str, context: dict) -> dict:
    if kind == "team":
        return _team(context)
    if kind == "network":
        return _network(context)
    return context


def _team(ctx: dict) -> dict:
    from reports.charts.bars import bar_chart_svg
    from reports.charts.icons import assurance_icon_svg, variation_icon_svg
    from reports.charts.spark import sparkline_svg
    from reports.charts.spc import (
        chart_alt_text,
        chart_captions,
        legend_entries_for,
        legend_svg,
        pdsa_key,
        spc_chart_svg,
    )

    measures = []
    legend: dict[str, tuple] = {}
    for m in ctx["measures"]:
        pts = _points_frame(m["points"])
        direction = None if m["direction"] == "none" else m["direction"]
        args = {
            "title": m["name"],
            "unit": m["unit"] if m["multiplier"] == 1 else ("%" if m["kind"] == "proportion" else m["unit"]),
            "multiplier": m["multiplier"],
            "target": m["target"],
            "direction": direction,
            "chart_label": m["chart_label"],
            "events": m["events"],
        }
        svg = (
            spc_chart_svg(
                pts, network_median=m["network_median_series"], show_title=False, height=240, **_PRINT, **args
            )
            if pts.height
            else ""
        )
        key = pdsa_key(pts, m["events"]) if pts.height else []
        if pts.height:
            entries = legend_entries_for(
                pts,
                multiplier=m["multiplier"],
                chart_label=m["chart_label"],
                target=m["target"],
                network_median=m["network_median_series"],
                events=m["events"],
            )
            for label, swatch in entries:
                if swatch[0] == "band":  # one entry per colour of highlighted run, across charts
                    kind = _BAND_KIND.get(swatch[1])
                    label = f"Shift / trend ({kind})" if kind else "Shift / trend"
                legend.setdefault(label, swatch)
        caption_left, caption_right = chart_captions(args["unit"], m["chart_label"], direction)
        measures.append(
            {
                **m,
                "caption_left": caption_left,
                "caption_right": caption_right,
                "pdsa_key": key,
                "chart_svg": inline_svg(svg) if svg else inline_svg('<p class="muted">No data yet.</p>'),
                "alt": chart_alt_text(pts, **args) if pts.height else f"{m['name']}: no data yet.",
                "spark_svg": inline_svg(
                    sparkline_svg([None if v is None else v * m["multiplier"] for v in m["spark"]])
                ),
                "variation_svg": inline_svg(variation_icon_svg(m["variation"] or "none", direction=direction))
                if m["variation"]
                else "",
                "assurance_svg": inline_svg(
                    assurance_icon_svg(m["assurance"], title=m.get("assurance_text"))
                ),
            }
        )
    by_comp: dict[str, dict[str, float]] = {}
    for row in ctx["pdsa_by_component"]:
        by_comp.setdefault(row["component"], {})[row["decision"]] = row["len"]
    comps = sorted(by_comp)
    decisions = ["adopt", "adapt", "continue", "abandon"]
    pdsa_svg = (
        bar_chart_svg(
            comps,
            {d: [by_comp[c].get(d, 0) for c in comps] for d in decisions},
            title="PDSA cycles by component",
            stacked=True,
            width=340,
            tooltips=False,
        )
        if comps
        else ""
    )
    progress = ctx["progress"]
    net = {r["period"]: r["median_progress"] for r in ctx["network_progress"]}
    prog_pts = pl.DataFrame(
        {"x": [p["period"] for p in progress], "value": [p["progress_score"] for p in progress]},
        schema={"x": pl.String, "value": pl.Float64},
    )
    prog_svg = (
        spc_chart_svg(
            prog_pts,
            title="Progress score",
            chart_label="IHI Assessment Scale",
            network_median=[(p, v) for p, v in sorted(net.items()) if v is not None],
            height=190,
            show_title=False,
            **_PRINT,
        )
        if prog_pts.height
        else '<p class="muted">No progress scores yet.</p>'
    )
    return {
        **ctx,
        "measures": measures,
        "chart_key": CHART_KEY,
        "chart_legend_svg": inline_svg(legend_svg(_legend_order(legend))) if legend else "",
        "pdsa_chart_svg": inline_svg(pdsa_svg or '<p class="muted">No PDSA cycles reported yet.</p>'),
        "progress_chart_svg": inline_svg(prog_svg),
    }


_LEGEND_ORDER = (
    "Centre line",
    "Median",
    "Control limits",
    "Target",
    "Network median",
    "Improvement",
    "Concern",
    "Special cause (neutral)",
    "Common cause",
    "Excluded",
)


def _legend_order(entries: dict[str, tuple]) -> list[tuple[str, tuple]]:
    """One legend for all of a report's charts, in the order a single chart would list them."""
    rank = {label: i for i, label in enumerate(_LEGEND_ORDER)}
    return sorted(entries.items(), key=lambda e: rank.get(e[0], len(rank)))


def _network(ctx: dict) -> dict:
    from reports.charts import bar_chart_svg, distribution_svg
    from reports.charts.spc import chart_alt_text, spc_chart_svg

    measures = []
    for m in ctx["measures"]:
        pts = pl.DataFrame(m["medians"], schema={"period": pl.String, "value": pl.Float64}).rename(
            {"period": "x"}
        )
        median = pts.get_column("value").median() if pts.height else None
        pts = pts.with_columns(pl.lit(median, dtype=pl.Float64).alias("cl"))
        direction = None if m["direction"] == "none" else m["direction"]
        args = {
            "title": f"{m['name']} — network median",
            "unit": "%" if m["kind"] == "proportion" else m["unit"],
            "multiplier": m["multiplier"],
            "target": m["target"],
            "direction": direction,
            "chart_label": "Run chart",
        }
        measures.append(
            {
                **m,
                "chart_svg": inline_svg(spc_chart_svg(pts, height=210, show_title=False, **args))
                if pts.height
                else "",
                "alt": chart_alt_text(pts, **args) if pts.height else "No data.",
            }
        )
    by_comp: dict[str, dict[str, float]] = {}
    for row in ctx["pdsa_counts"]:
        by_comp.setdefault(row["component"], {})[row["decision"]] = row["len"]
    comps = sorted(by_comp)
    decisions = ["adopt", "adapt", "continue", "abandon"]
    pdsa_svg = (
        bar_chart_svg(
            comps,
            {d: [by_comp[c].get(d, 0) for c in comps] for d in decisions},
            title="PDSA cycles by component",
            stacked=True,
            width=340,  # it sits in a half-width column: drawn for it, its labels stay legible
        )
        if comps
        else ""
    )
    dist = ctx["progress_by_period"]
    dist_svg = (
        distribution_svg(
            [d["period"] for d in dist], [d["scores"] for d in dist], title="Progress scores by month"
        )
        if dist
        else ""
    )
    return {
        **ctx,
        "measures": measures,
        "pdsa_chart_svg": inline_svg(pdsa_svg or '<p class="muted">No PDSA cycles yet.</p>'),
        "progress_chart_svg": inline_svg(dist_svg or '<p class="muted">No progress scores yet.</p>'),
    }
