"""Attach the SVG charts and icons a template needs to a report context (runs in the render worker)."""

from __future__ import annotations

import polars as pl

from reports.render import inline_svg

CHART_KEY = (
    "Each chart shows the monthly value (line with points), the centre line (solid), the control limits "
    "(dashed; none on run charts), and the target (dotted). Larger shapes mark special-cause points: a "
    "circle for improvement, a diamond for concern; numbered flags on the time axis are the team's PDSA "
    "cycles linked to the measure; the grey line is the network median."
)

_POINT_COLS = {
    "period": pl.String,
    "value": pl.Float64,
    "cl": pl.Float64,
    "lcl": pl.Float64,
    "ucl": pl.Float64,
    "sigma_signal": pl.Boolean,
    "runs_signal": pl.Boolean,
    "point_type": pl.String,
}


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
    from reports.charts.spc import chart_alt_text, spc_chart_svg

    measures = []
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
            spc_chart_svg(pts, network_median=m["network_median_series"], show_title=False, **args)
            if pts.height
            else ""
        )
        measures.append(
            {
                **m,
                "chart_svg": inline_svg(svg) if svg else inline_svg('<p class="muted">No data yet.</p>'),
                "alt": chart_alt_text(pts, **args) if pts.height else f"{m['name']}: no data yet.",
                "spark_svg": inline_svg(
                    sparkline_svg([None if v is None else v * m["multiplier"] for v in m["spark"]])
                ),
                "variation_svg": inline_svg(variation_icon_svg(m["variation"] or "none", direction=direction))
                if m["variation"]
                else "",
                "assurance_svg": inline_svg(assurance_icon_svg(m["assurance"])),
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
        )
        if prog_pts.height
        else '<p class="muted">No progress scores yet.</p>'
    )
    return {
        **ctx,
        "measures": measures,
        "chart_key": CHART_KEY,
        "pdsa_chart_svg": inline_svg(pdsa_svg or '<p class="muted">No PDSA cycles reported yet.</p>'),
        "progress_chart_svg": inline_svg(prog_svg),
    }


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
