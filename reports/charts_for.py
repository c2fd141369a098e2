"""The charts and icons of a report, drawn from its context (in the render worker: the parent
builds the contexts, the workers draw).

Each chart is declared first (``reports.charts.spec``) and then drawn; the drawings come back as
a frozen ``TeamCharts`` / ``NetworkCharts`` the templates read as ``charts``, beside the context.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from markupsafe import Markup

from reports.charts import svg as S
from reports.charts.bars import draw_bar_chart, draw_distribution
from reports.charts.icons import assurance_icon_svg, variation_icon_svg
from reports.charts.spark import sparkline_svg
from reports.charts.spc import (
    chart_captions,
    draw_spc_chart,
    legend_svg,
    spc_alt_text,
    spc_legend_entries,
    spc_pdsa_key,
)
from reports.charts.spec import PRINT, BarChart, ChartOptions, DistributionChart, SpcChart
from reports.report_types import (
    ComponentCount,
    MeasureRow,
    NetworkContext,
    NetworkMeasure,
    ReportContext,
    TeamContext,
)

CHART_KEY = (
    "Each chart shows the monthly value (line with points), the centre line (solid), the control limits "
    "(dashed; none on run charts), and the target (dotted). Larger shapes mark special-cause points: a "
    "circle for improvement, a diamond for concern; numbered flags on the time axis are the team's PDSA "
    "cycles linked to the measure, listed under each chart; the grey line is the network median."
)

# Team report charts are drawn lean (``PRINT``): one legend for the whole report, and the caption
# and the PDSA cycle list as page text around each chart -- WeasyPrint lays SVG text out letter
# by letter, page text line by line. Per-point tooltips mean nothing on paper.
# A band takes the colour of its run's special-cause points; a grey band marks a shift or trend
# by the IHI run-chart rules (6 on one side of the median, 5 rising) whose points the control
# chart's own rules do not call special cause.
_BAND_KIND = {
    S.IMPROVEMENT_LIGHT: "improvement",
    S.CONCERN_LIGHT: "concern",
    S.NEUTRAL_LIGHT: "neutral",
    S.COMMON_LIGHT: "run-chart rules only",
}
_DECISIONS = ("adopt", "adapt", "continue", "abandon")


def inline_svg(svg: str) -> Markup:
    """Charts are built by our own code with every label escaped: safe to mark up."""
    return Markup(svg)


@dataclass(frozen=True)
class MeasureCharts:
    """The drawings of one measure of a team report: its chart and the at-a-glance row's marks."""

    chart_svg: Markup
    alt: str
    caption_left: str
    caption_right: str
    pdsa_key: tuple[tuple[int, str], ...]
    spark_svg: Markup
    variation_svg: Markup | str
    assurance_svg: Markup


@dataclass(frozen=True)
class TeamCharts:
    """Every drawing of a team report; ``measures`` in the order of the context's measures."""

    measures: tuple[MeasureCharts, ...]
    key: str
    legend_svg: Markup | str
    pdsa_chart_svg: Markup
    progress_chart_svg: Markup


@dataclass(frozen=True)
class NetworkMeasureCharts:
    """The run chart of one network measure (the teams' monthly median)."""

    chart_svg: Markup | str
    alt: str


@dataclass(frozen=True)
class NetworkCharts:
    """Every drawing of the network report; ``measures`` in the order of the context's measures."""

    measures: tuple[NetworkMeasureCharts, ...]
    pdsa_chart_svg: Markup
    progress_chart_svg: Markup


def draw_charts(context: ReportContext) -> TeamCharts | NetworkCharts | None:
    """The drawings a report's template needs (validation reports and feedback sheets have none)."""
    if isinstance(context, TeamContext):
        return _team(context)
    if isinstance(context, NetworkContext):
        return _network(context)
    return None


def _direction(direction: str) -> str | None:
    return None if direction == "none" else direction


def measure_chart(measure: MeasureRow) -> SpcChart:
    """The chart of one of a team's measures, as the coaching report draws it."""
    unit = (
        measure.unit if measure.multiplier == 1 else ("%" if measure.kind == "proportion" else measure.unit)
    )
    return SpcChart(
        measure.points.rename({"period": "x"}),
        title=measure.name,
        unit=unit,
        multiplier=measure.multiplier,
        target=measure.target,
        direction=_direction(measure.direction),
        chart_label=measure.chart_label,
        rules=measure.rules_label,
        events=measure.events,
        network_median=measure.network_median_series,
        height=240,
        options=PRINT,
    )


def _measure_charts(measure: MeasureRow, legend: dict[str, tuple]) -> MeasureCharts:
    """Draw one measure's chart and marks; add what its chart shows to the report's ``legend``."""
    spec = measure_chart(measure)
    has_data = spec.points.height > 0
    if has_data:
        for label, swatch in spc_legend_entries(spec):
            if swatch[0] == "band":  # one entry per colour of highlighted run, across charts
                kind = _BAND_KIND.get(swatch[1])
                label = f"Shift / trend ({kind})" if kind else "Shift / trend"
            legend.setdefault(label, swatch)
    caption_left, caption_right = chart_captions(spec.unit, spec.chart_label, spec.direction, spec.rules)
    spark = [None if v is None else v * measure.multiplier for v in measure.spark]
    return MeasureCharts(
        chart_svg=inline_svg(draw_spc_chart(spec) if has_data else '<p class="muted">No data yet.</p>'),
        alt=spc_alt_text(spec) if has_data else f"{measure.name}: no data yet.",
        caption_left=caption_left,
        caption_right=caption_right,
        pdsa_key=tuple(spc_pdsa_key(spec)) if has_data else (),
        spark_svg=inline_svg(sparkline_svg(spark)),
        variation_svg=inline_svg(variation_icon_svg(measure.variation, direction=spec.direction))
        if measure.variation
        else "",
        assurance_svg=inline_svg(assurance_icon_svg(measure.assurance, title=measure.assurance_text)),
    )


def pdsa_chart(counts: tuple[ComponentCount, ...], *, tooltips: bool) -> BarChart | None:
    """PDSA cycles by Joy in Work component, stacked by decision (None: no cycles yet)."""
    by_component: dict[str, dict[str, float]] = {}
    for row in counts:
        by_component.setdefault(row.component, {})[row.decision] = row.count
    components = sorted(by_component)
    if not components:
        return None
    return BarChart(
        tuple(components),
        {d: [by_component[c].get(d, 0) for c in components] for d in _DECISIONS},
        title="PDSA cycles by component",
        stacked=True,
        width=340,  # it sits in a half-width column: drawn for it, its labels stay legible
        tooltips=tooltips,
    )


def progress_chart(context: TeamContext) -> SpcChart:
    """The team's progress score over time beside the network median."""
    points = pl.DataFrame(
        {"x": [p.period for p in context.progress], "value": [p.score for p in context.progress]},
        schema={"x": pl.String, "value": pl.Float64},
    )
    network = {p.period: p.score for p in context.network_progress}
    return SpcChart(
        points,
        title="Progress score",
        chart_label="IHI Assessment Scale",
        network_median=tuple((p, v) for p, v in sorted(network.items()) if v is not None),
        height=190,
        options=PRINT,
    )


def _team(context: TeamContext) -> TeamCharts:
    legend: dict[str, tuple] = {}
    measures = tuple(_measure_charts(m, legend) for m in context.measures)
    pdsa = pdsa_chart(context.pdsa_by_component, tooltips=False)
    progress = progress_chart(context)
    return TeamCharts(
        measures=measures,
        key=CHART_KEY + (f" Special-cause rules: {context.rules_label}." if context.rules_label else ""),
        legend_svg=inline_svg(legend_svg(_legend_order(legend))) if legend else "",
        pdsa_chart_svg=inline_svg(
            draw_bar_chart(pdsa) if pdsa else '<p class="muted">No PDSA cycles reported yet.</p>'
        ),
        progress_chart_svg=inline_svg(
            draw_spc_chart(progress)
            if progress.points.height
            else '<p class="muted">No progress scores yet.</p>'
        ),
    )


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


def network_measure_chart(measure: NetworkMeasure) -> SpcChart:
    """The teams' monthly median of a measure as a run chart with its own median."""
    points = measure.medians.rename({"period": "x"})
    median = points.get_column("value").median() if points.height else None
    return SpcChart(
        points.with_columns(pl.lit(median, dtype=pl.Float64).alias("cl")),
        title=f"{measure.name} — network median",
        unit="%" if measure.kind == "proportion" else measure.unit,
        multiplier=measure.multiplier,
        target=measure.target,
        direction=_direction(measure.direction),
        chart_label="Run chart",
        height=210,
        options=ChartOptions(show_title=False),
    )


def _network_measure_charts(measure: NetworkMeasure) -> NetworkMeasureCharts:
    spec = network_measure_chart(measure)
    if not spec.points.height:
        return NetworkMeasureCharts(chart_svg="", alt="No data.")
    return NetworkMeasureCharts(chart_svg=inline_svg(draw_spc_chart(spec)), alt=spc_alt_text(spec))


def _network(context: NetworkContext) -> NetworkCharts:
    pdsa = pdsa_chart(context.pdsa_counts, tooltips=True)
    scores = DistributionChart(
        tuple(d.period for d in context.progress_by_period),
        tuple(d.scores for d in context.progress_by_period),
        title="Progress scores by month",
    )
    return NetworkCharts(
        measures=tuple(_network_measure_charts(m) for m in context.measures),
        pdsa_chart_svg=inline_svg(
            draw_bar_chart(pdsa) if pdsa else '<p class="muted">No PDSA cycles yet.</p>'
        ),
        progress_chart_svg=inline_svg(
            draw_distribution(scores) if scores.periods else '<p class="muted">No progress scores yet.</p>'
        ),
    )
