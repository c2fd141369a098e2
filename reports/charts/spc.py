"""Control and run charts as hand-built SVG (one chart in well under a millisecond).

A chart is declared as an ``SpcChart`` (``reports.charts.spec``: one series' rows of the QI
statistics output, limits, target, direction, PDSA events, labels, options) and drawn by
``draw_spc_chart``: ``chart_layout`` computes the size, plot area and scales once into a
``ChartLayout``, then one small layer function per kind of mark (limits, centre line, target,
signal bands, points, axes, PDSA flags, legend, ...) returns its SVG fragment, in paint order.
``spc_chart_svg`` is the same with keyword arguments. Signals are shown by shape *and* colour
(Okabe-Ito), so they read in greyscale and for colour-blind readers; every text is escaped;
nothing outside the SVG is referenced.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import polars as pl

from . import svg as S
from ._legend import flow as _flow
from .spec import ChartEvent, ChartOptions, SpcChart, events_of
from .svg import clean, esc, f1, fit, fmt_num, text_svg, text_width, with_unit
from .xaxis import XAxis, build_axis, label_indices, month_slots

__all__ = [
    "MARKERS",
    "chart_alt_text",
    "chart_captions",
    "draw_spc_chart",
    "legend_entries",
    "legend_entries_for",
    "legend_svg",
    "pdsa_key",
    "spc_alt_text",
    "spc_chart_svg",
    "spc_legend_entries",
    "spc_pdsa_key",
]

IMPROVEMENT, CONCERN, NEUTRAL, COMMON = (
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral",
    "common_cause",
)


@dataclass(frozen=True, slots=True)
class Marker:
    shape: str  # circle | diamond | triangle
    size: float  # radius-like, px
    fill: str
    edge: str
    band: str  # light colour of a highlighted shift/trend run
    css: str  # class name on the SVG element
    legend: str


MARKERS: dict[str, Marker] = {
    IMPROVEMENT: Marker(
        "circle", 4.6, S.IMPROVEMENT, S.IMPROVEMENT, S.IMPROVEMENT_LIGHT, "pt-improvement", "Improvement"
    ),
    CONCERN: Marker("diamond", 5.8, S.CONCERN, S.CONCERN_EDGE, S.CONCERN_LIGHT, "pt-concern", "Concern"),
    NEUTRAL: Marker(
        "triangle", 5.6, S.NEUTRAL, S.NEUTRAL_EDGE, S.NEUTRAL_LIGHT, "pt-neutral", "Special cause (neutral)"
    ),
    COMMON: Marker("circle", 2.6, S.COMMON, S.COMMON, S.COMMON_LIGHT, "pt-common", "Common cause"),
}

_TITLE_SIZE = 13.0
_AXIS_SIZE = 9.5
_LEGEND_SIZE = 9.5
_KEY_SIZE = 9.0
_BADGE_R = 6.0
_MAX_MONTH_LABELS = 7  # e.g. 18 months are labelled quarterly (every month has a tick)


# --- input ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Series:
    axis: XAxis
    value: list[float | None]
    cl: list[float | None]
    lcl: list[float | None]
    ucl: list[float | None]
    part: list[int]
    ptype: list[str]
    shift: list[bool]
    trend: list[bool]
    runs: list[bool]
    excluded: list[bool]
    rule: list[str | None]  # the rule that flagged each point (issue 16), or None
    phase_start: list[str | None]  # on a phase's first point: "recorded" or "auto"


def _num_list(df: pl.DataFrame, name: str, multiplier: float) -> list[float | None]:
    if name not in df.columns:
        return [None] * df.height
    out: list[float | None] = []
    for value in df.get_column(name).to_list():
        if value is None or not isinstance(value, int | float) or not math.isfinite(value):
            out.append(None)
        else:
            out.append(float(value) * multiplier)
    return out


def _bool_list(df: pl.DataFrame, *names: str) -> list[bool]:
    for name in names:
        if name in df.columns:
            return [bool(value) for value in df.get_column(name).to_list()]
    return [False] * df.height


def _load(points: pl.DataFrame, multiplier: float) -> _Series:
    count = points.height
    xs = points.get_column("x").to_list() if "x" in points.columns else list(range(1, count + 1))
    if "part" in points.columns:
        parts = points.get_column("part").to_list()
        part, last = [], 1
        for number in parts:
            last = int(number) if number is not None else last
            part.append(last)
    else:
        part = [1] * count
    ptype = (
        [kind if kind in MARKERS else COMMON for kind in points.get_column("point_type").to_list()]
        if "point_type" in points.columns
        else [COMMON] * count
    )
    return _Series(
        axis=build_axis(xs),
        value=_num_list(points, "value", multiplier),
        cl=_num_list(points, "cl", multiplier),
        lcl=_num_list(points, "lcl", multiplier),
        ucl=_num_list(points, "ucl", multiplier),
        part=part,
        ptype=ptype,
        shift=_bool_list(points, "shift_point"),
        trend=_bool_list(points, "trend_point"),
        runs=_bool_list(points, "runs_signal"),
        excluded=_bool_list(points, "excluded", "exclude"),
        rule=_text_list(points, "signal_rule"),
        phase_start=_text_list(points, "phase_start"),
    )


def _text_list(df: pl.DataFrame, name: str) -> list[str | None]:
    return df.get_column(name).to_list() if name in df.columns else [None] * df.height


RULE_WORDS = {
    "beyond_limits": "a point beyond the limits",
    "trend": "a trend",
    "two_of_three": "2 of 3 points near a limit",
    "shift": "a shift",
    "longest_run": "a long run",
    "inner_third": "15 points hugging the centre line",
}
"""How a chart's text names the rule that flagged a point (``signal_rule``)."""


def phase_label(source: str | None) -> str:
    """The label of a phase break: a recorded decision, the network's automatic policy, or a
    phase asked for directly."""
    return {"auto": "Recalculated (automatic)", "recorded": "Recalculated"}.get(source or "", "New phase")


def _last(values: list[float | None], start: int = 0) -> int | None:
    for i in range(len(values) - 1, start - 1, -1):
        if values[i] is not None:
            return i
    return None


def _is_run_chart(chart_label: str, series: _Series) -> bool:
    return chart_label.strip().lower().startswith("run") or (
        not chart_label and all(v is None for v in series.ucl) and all(v is None for v in series.lcl)
    )


# --- text alternative -------------------------------------------------------------------------


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _plural(k: int, one: str, many: str | None = None) -> str:
    return f"{k} {one if k == 1 else (many or one + 's')}"


def _alt_text(
    series: _Series,
    *,
    title: str,
    unit: str,
    target: float | None,
    direction: str | None,
    chart_label: str,
    n_events: int,
    decimals: int,
    rules: str = "",
) -> str:
    axis = series.axis
    n_points = len(axis.pos)
    title = clean(title)
    head = f"{title}, {chart_label}" if chart_label else title
    if n_points == 0:
        return f"{head}: no data."

    def num(v: float) -> str:
        return with_unit(fmt_num(v, decimals), unit if unit == "%" else "")

    if axis.mode == "month":
        months = int(round(axis.span)) + 1
        head += f", {_plural(months, 'month')} to {axis.long[-1]}."
    elif axis.mode == "date":
        head += f", {_plural(n_points, 'point')} to {axis.long[-1]}."
    else:
        head += f", {_plural(n_points, 'point')}."
    sentences = [head]

    facts: list[str] = []
    latest = _last(series.value)
    if latest is None:
        facts.append("No values recorded")
    elif latest == n_points - 1:
        facts.append(f"Latest {num(series.value[latest])} ({axis.long[latest]})")  # type: ignore[arg-type]
    else:
        value: float = series.value[latest]  # type: ignore[assignment]
        facts.append(f"Latest value {num(value)} in {axis.long[latest]}; {axis.long[-1]} missing")
    run_chart = _is_run_chart(chart_label, series)
    last = _last(series.cl)
    if last is not None:
        facts.append(f"{'median' if run_chart else 'centre line'} {num(series.cl[last])}")  # type: ignore[arg-type]
    last = _last(series.ucl)
    if last is not None and series.lcl[last] is not None:
        facts.append(f"control limits {num(series.lcl[last])} to {num(series.ucl[last])}")  # type: ignore[arg-type]
    elif last is not None:
        facts.append(f"upper control limit {num(series.ucl[last])}")  # type: ignore[arg-type]
    if target is not None and math.isfinite(target):
        facts.append(f"target {num(target)}")
    sentences.append("; ".join(facts) + ".")
    if direction in ("up", "down"):
        sentences.append("Higher is better." if direction == "up" else "Lower is better.")

    signals: list[str] = []
    for kind, words in (
        (IMPROVEMENT, "special-cause improvement"),
        (CONCERN, "special-cause concern"),
        (NEUTRAL, "special-cause variation"),
    ):
        count = sum(1 for t in series.ptype if t == kind)
        if count:
            signals.append(f"{_plural(count, 'point')} of {words}")
    if any(series.shift):
        signals.append("a shift")
    if any(series.trend):
        signals.append("a trend")
    if not signals and any(series.runs):
        signals.append("non-random runs")
    sentence = _join(signals) if signals else "no special-cause variation"
    sentences.append(sentence[0].upper() + sentence[1:] + ".")
    flagged = [r for r, v in zip(series.rule, series.value, strict=True) if r and v is not None]
    if flagged:
        counts = {r: flagged.count(r) for r in dict.fromkeys(flagged)}
        sentences.append(
            "Flagged by "
            + _join(
                [
                    f"{RULE_WORDS.get(r, r.replace('_', ' '))} ({_plural(k, 'point')})"
                    for r, k in counts.items()
                ]
            )
            + "."
        )
    if rules:
        sentences.append(f"Special-cause rules: {clean(rules)}.")

    missing = sum(1 for v in series.value if v is None)
    if axis.mode == "month":
        missing += int(round(axis.span)) + 1 - n_points
    if missing:
        sentences.append(f"{_plural(missing, 'month' if axis.mode == 'month' else 'value')} missing.")
    parts = sorted(set(series.part))
    if len(parts) > 1:
        first = series.part.index(parts[-1])
        source = series.phase_start[first]
        if source is None:  # phases asked for directly (joyflow chart --part)
            sentences.append(f"{len(parts)} phases; the latest from {axis.long[first]}.")
        else:
            how = "automatically" if source == "auto" else "by a recorded decision"
            sentences.append(
                f"{len(parts)} phases; limits recalculated {how} from {axis.long[first]}, each phase with "
                "its own centre line and limits."
            )
    n_ex = sum(series.excluded)
    if n_ex:
        sentences.append(f"{_plural(n_ex, 'point')} excluded from the calculations.")
    if n_events:
        sentences.append(f"{_plural(n_events, 'PDSA cycle')} marked on the time axis.")
    return " ".join(sentences)


def chart_alt_text(
    points: pl.DataFrame,
    *,
    title: str,
    unit: str = "",
    multiplier: float = 1.0,
    target: float | None = None,
    direction: str | None = None,
    chart_label: str = "",
    events: list[dict] | None = None,
    network_median: list[tuple[Any, float]] | None = None,
    width: int = 640,
    height: int = 260,
) -> str:
    """The text alternative of ``spc_chart_svg``, called with the same arguments (for a caption,
    an ``alt`` or a table summary); it is also the chart's ``<desc>``. ``network_median``,
    ``width`` and ``height`` are accepted for symmetry and do not change the text."""
    del network_median, width, height
    return spc_alt_text(
        SpcChart(
            points,
            title=title,
            unit=unit,
            multiplier=multiplier,
            target=target,
            direction=direction,
            chart_label=chart_label,
            events=events_of(events),
        )
    )


def spc_alt_text(spec: SpcChart) -> str:
    """The text alternative of the chart ``spec`` declares (its ``<desc>``, less the cycle list)."""
    series = _load(spec.points, spec.multiplier)
    n_events = sum(1 for e in spec.events if series.axis.locate(e.x) is not None)
    target = spec.target * spec.multiplier if spec.target is not None else None
    return _alt_text(
        series,
        title=spec.title,
        unit=spec.unit,
        target=target,
        direction=spec.direction,
        chart_label=spec.chart_label,
        n_events=n_events,
        decimals=S.value_decimals([*series.value, *series.cl, target]),
        rules=spec.rules,
    )


# --- drawing helpers --------------------------------------------------------------------------


def _marker_d(shape: str, radius: float, x: float, y: float, below: bool = False) -> str:
    """Path data of one marker: circles as two arcs, so that many can share one ``<path>``."""
    if shape == "circle":
        return f"M{f1(x - radius)} {f1(y)}a{radius} {radius} 0 1 0 {f1(2 * radius)} 0a{radius} {radius} 0 1 0 {f1(-2 * radius)} 0Z"
    if shape == "diamond":
        return f"M{f1(x)} {f1(y - radius)}L{f1(x + radius)} {f1(y)}L{f1(x)} {f1(y + radius)}L{f1(x - radius)} {f1(y)}Z"
    side = -1 if below else 1  # point the triangle towards the side of the signal
    return (
        f"M{f1(x)} {f1(y - side * radius)}L{f1(x + 0.95 * radius)} {f1(y + side * 0.65 * radius)}"
        f"L{f1(x - 0.95 * radius)} {f1(y + side * 0.65 * radius)}Z"
    )


def _marker_style(marker: Marker, hollow: bool) -> str:
    fill = "#FFFFFF" if hollow else marker.fill
    stroke_width = "1.4" if hollow else ("0.9" if marker.edge != marker.fill else "0")
    return f'fill="{fill}" stroke="{marker.edge}" stroke-width="{stroke_width}"'


def merged_markers_svg(points: list[tuple[str, float, float, bool, bool]]) -> str:
    """All markers of one kind (and hollowness) as one ``<path>`` each: (kind, x, y, hollow, below).

    Print needs no per-point tooltip, and one element per kind is much cheaper for WeasyPrint
    to draw than one per point; shape and colour still tell the kinds apart."""
    groups: dict[tuple[str, bool], list[str]] = {}
    for kind, x, y, hollow, below in points:
        marker = MARKERS.get(kind, MARKERS[COMMON])
        groups.setdefault((kind if kind in MARKERS else COMMON, hollow), []).append(
            _marker_d(marker.shape, marker.size, x, y, below)
        )
    out = []
    for (kind, hollow), paths in groups.items():
        marker = MARKERS[kind]
        cls = f"pts {marker.css}{' pt-excluded' if hollow else ''}"
        out.append(f'<path class="{cls}" d="{"".join(paths)}" {_marker_style(marker, hollow)}/>')
    return "".join(out)


def marker_svg(
    kind: str,
    x: float,
    y: float,
    *,
    hollow: bool = False,
    below: bool = False,
    tip: str = "",
    legend: bool = False,
) -> str:
    """One point marker: shape and colour by point type; hollow when excluded."""
    marker = MARKERS.get(kind, MARKERS[COMMON])
    fill = "#FFFFFF" if hollow else marker.fill
    stroke_width = "1.4" if hollow else ("0.9" if marker.edge != marker.fill else "0")
    cls = "legend-pt" if legend else f"pt {marker.css}{' pt-excluded' if hollow else ''}"
    radius = marker.size
    if marker.shape == "circle":
        shape = f'<circle class="{cls}" cx="{f1(x)}" cy="{f1(y)}" r="{radius}" fill="{fill}" stroke="{marker.edge}" stroke-width="{stroke_width}"'
    elif marker.shape == "diamond":
        path = f"M{f1(x)} {f1(y - radius)}L{f1(x + radius)} {f1(y)}L{f1(x)} {f1(y + radius)}L{f1(x - radius)} {f1(y)}Z"
        shape = f'<path class="{cls}" d="{path}" fill="{fill}" stroke="{marker.edge}" stroke-width="{stroke_width}"'
    else:
        side = -1 if below else 1  # point the triangle towards the side of the signal
        path = (
            f"M{f1(x)} {f1(y - side * radius)}L{f1(x + 0.95 * radius)} {f1(y + side * 0.65 * radius)}"
            f"L{f1(x - 0.95 * radius)} {f1(y + side * 0.65 * radius)}Z"
        )
        shape = f'<path class="{cls}" d="{path}" fill="{fill}" stroke="{marker.edge}" stroke-width="{stroke_width}"'
    if tip:
        return f"{shape}><title>{esc(tip)}</title></{'circle' if marker.shape == 'circle' else 'path'}>"
    return shape + "/>"


def _step_path(xs: list[float], ys: list[float | None], part: list[int], half: float) -> str:
    """A line through per-point levels, stepping half-way between points where the level changes,
    broken where a level is missing or a new part (phase) starts."""
    out: list[str] = []
    n = len(xs)
    i = 0
    while i < n:
        if ys[i] is None:
            i += 1
            continue
        j = i
        while j + 1 < n and ys[j + 1] is not None and part[j + 1] == part[i]:
            j += 1
        if i == j:
            out.append(f"M{f1(xs[i] - half)} {f1(ys[i])}H{f1(xs[i] + half)}")  # type: ignore[arg-type]
        else:
            cur = f1(ys[i])  # type: ignore[arg-type]
            seg = [f"M{f1(xs[i])} {cur}"]
            for k in range(i + 1, j + 1):
                yk = f1(ys[k])  # type: ignore[arg-type]
                if yk != cur:
                    seg.append(f"H{f1((xs[k - 1] + xs[k]) / 2)}V{yk}")
                    cur = yk
            seg.append(f"H{f1(xs[j])}")
            out.append("".join(seg))
        i = j + 1
    return "".join(out)


def _poly_path(xs: list[float], ys: list[float | None], breaks: list[bool]) -> str:
    """Polyline with a gap wherever a value is missing (or ``breaks[i]`` says a slot is missing)."""
    out: list[str] = []
    pen = False
    for i, y in enumerate(ys):
        if y is None:
            pen = False
            continue
        cmd = "L" if pen and not breaks[i] else "M"
        out.append(f"{cmd}{f1(xs[i])} {f1(y)}")
        pen = True
    return "".join(out)


def _spread(items: list[list[Any]], gap: float, lo: float, hi: float) -> None:
    """Move label centres (item[0]) apart vertically by at least ``gap`` within [lo, hi]."""
    items.sort(key=lambda it: it[0])
    for k in range(1, len(items)):
        if items[k][0] - items[k - 1][0] < gap:
            items[k][0] = items[k - 1][0] + gap
    if items and items[-1][0] > hi:
        items[-1][0] = hi
        for k in range(len(items) - 2, -1, -1):
            if items[k + 1][0] - items[k][0] < gap:
                items[k][0] = items[k + 1][0] - gap
    if items and items[0][0] < lo:
        items[0][0] = lo


def _legend_swatch(kind: tuple[Any, ...], x: float, y: float) -> str:
    """An 18 px wide legend swatch centred vertically on ``y``."""
    tag = kind[0]
    if tag == "line":
        _, colour, width, dash = kind
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        return (
            f'<path d="M{f1(x)} {f1(y)}h18" stroke="{colour}" stroke-width="{width}" fill="none"{dash_attr}/>'
        )
    if tag == "marker":
        return marker_svg(kind[1], x + 9, y, hollow=kind[2], legend=True)
    if tag == "band":
        return (
            f'<path d="M{f1(x + 2)} {f1(y)}h14" stroke="{kind[1]}" stroke-width="7" stroke-linecap="round"/>'
            f'<path d="M{f1(x)} {f1(y)}h18" stroke="{S.DATA_LINE}" stroke-width="1.4"/>'
        )
    if tag == "rule":
        return f'<path d="M{f1(x + 9)} {f1(y - 6)}v12" stroke="#9A9A9A" stroke-width="1" stroke-dasharray="3 2"/>'
    if tag == "badge":
        return f'<path d="{_marker_d("circle", _BADGE_R - 0.5, x + 9, y)}" fill="{S.BADGE}"/>' + text_svg(
            x + 9, y + 2.6, "1", 7.5, anchor="middle", bold=True, attrs=' fill="#FFFFFF" font-size="7.5"'
        )
    return ""


def _band_runs(series: _Series) -> list[tuple[int, int, str]]:
    """The shift / trend runs to highlight, as drawn segments: (first, last) point and colour.

    A run's colour is that of its special-cause points (improvement before concern before
    neutral), else grey, judged over the whole run: a missing month splits the band that is
    drawn, not the signal (the run rules skip missing values), so both halves of a run on one
    side of the centre line share a colour.
    """
    flagged = [
        (k, series.axis.gap_before(k))
        for k, (shift, trend, value) in enumerate(zip(series.shift, series.trend, series.value, strict=True))
        if (shift or trend) and value is not None
    ]
    segments: list[tuple[int, int, str]] = []
    run: list[tuple[int, int]] = []  # the run's segments, (first, last)
    last = None
    for k, gap in flagged:
        # a run on the other side of the centre line is another run
        missing_between = (
            last is not None
            and all(series.value[m] is None for m in range(last + 1, k))
            and _side(series, k) == _side(series, last)
        )
        if last is not None and k == last + 1 and not gap:
            run[-1] = (run[-1][0], k)
        elif last is not None and missing_between:
            run.append((k, k))
        else:
            segments.extend(_coloured(series, run))
            run = [(k, k)]
        last = k
    segments.extend(_coloured(series, run))
    return segments


def _side(series: _Series, k: int) -> int:
    """Which side of the centre line point ``k`` lies: 1 above, -1 below, 0 on it or unknown."""
    value, centre = series.value[k], series.cl[k]
    return 0 if value is None or centre is None or value == centre else (1 if value > centre else -1)


def _coloured(series: _Series, run: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    kinds = {series.ptype[k] for i, j in run for k in range(i, j + 1)}
    colour = next(
        (MARKERS[k].band for k in (IMPROVEMENT, CONCERN, NEUTRAL) if k in kinds), MARKERS[COMMON].band
    )
    return [(i, j, colour) for i, j in run]


def legend_entries(
    series: _Series, *, run_chart: bool, has_target: bool, has_median: bool, has_events: bool = False
) -> list[tuple[str, tuple[Any, ...]]]:
    """(label, swatch) for what a chart shows, in the legend's order."""
    count = len(series.axis.pos)
    present = {t for t, v in zip(series.ptype, series.value, strict=True) if v is not None}
    out: list[tuple[str, tuple[Any, ...]]] = []
    if any(v is not None for v in series.cl):
        out.append(("Median" if run_chart else "Centre line", ("line", S.CENTRE, 1.3, "")))
    if any(v is not None for v in series.ucl) or any(v is not None for v in series.lcl):
        out.append(("Control limits", ("line", S.LIMIT, 1.1, "5 3")))
    if has_target:
        out.append(("Target", ("line", S.TARGET, 1.8, "2 2")))
    if has_median:
        out.append(("Network median", ("line", S.NETWORK, 1.6, "")))
    for kind in (IMPROVEMENT, CONCERN, NEUTRAL, COMMON):
        if kind in present:
            out.append((MARKERS[kind].legend, ("marker", kind, False)))
    if any(e and v is not None for e, v in zip(series.excluded, series.value, strict=True)):
        first_ex = next(i for i in range(count) if series.excluded[i] and series.value[i] is not None)
        out.append(("Excluded", ("marker", series.ptype[first_ex], True)))
    if any(series.shift) or any(series.trend):
        label = "Shift" if not any(series.trend) else ("Trend" if not any(series.shift) else "Shift / trend")
        for colour in dict.fromkeys(colour for _, _, colour in _band_runs(series)):  # each colour drawn, once
            out.append((label, ("band", colour)))
    if len(set(series.part)) > 1:
        out.append(("New phase", ("rule",)))
    if has_events:
        out.append(("PDSA cycle", ("badge",)))
    return out


def legend_entries_for(
    points: pl.DataFrame,
    *,
    multiplier: float = 1.0,
    chart_label: str = "",
    target: float | None = None,
    network_median: list[tuple[Any, float]] | None = None,
    events: list[dict] | None = None,
) -> list[tuple[str, tuple[Any, ...]]]:
    """``legend_entries`` of the chart ``spc_chart_svg`` draws with these arguments, plus a
    "PDSA cycle" entry when a cycle falls on its axis: to build one legend for many charts."""
    return spc_legend_entries(
        SpcChart(
            points,
            title="",
            multiplier=multiplier,
            chart_label=chart_label,
            target=target,
            network_median=tuple(network_median or ()),
            events=events_of(events),
        )
    )


def spc_legend_entries(spec: SpcChart) -> list[tuple[str, tuple[Any, ...]]]:
    """What the chart ``spec`` declares shows, as legend entries (see ``legend_entries_for``)."""
    series = _load(spec.points, spec.multiplier)
    axis = series.axis
    has_median = any(
        axis.locate(x) is not None and value is not None and math.isfinite(value)
        for x, value in spec.network_median
    )
    return legend_entries(
        series,
        run_chart=_is_run_chart(clean(spec.chart_label), series),
        has_target=spec.target is not None and math.isfinite(spec.target),
        has_median=has_median,
        has_events=bool(_placed_events(axis, spec.events)),
    )


def _placed_events(axis: XAxis, events: tuple[ChartEvent, ...]) -> list[tuple[float, str]]:
    """The PDSA cycles that fall on the axis, as (position, label), in time order."""
    placed: list[tuple[float, str]] = []
    for event in events:
        position = axis.locate(event.x)
        if position is not None:
            placed.append((position, clean(event.label)))
    placed.sort(key=lambda e: e[0])
    return placed


def pdsa_key(points: pl.DataFrame, events: list[dict] | None) -> list[tuple[int, str]]:
    """The numbered PDSA cycles of a chart, as its badges number them: [(1, label), ...]."""
    return spc_pdsa_key(SpcChart(points, title="", events=events_of(events)))


def spc_pdsa_key(spec: SpcChart) -> list[tuple[int, str]]:
    """The numbered PDSA cycles of the chart ``spec`` declares, as its badges number them."""
    points = spec.points
    axis = build_axis(
        points.get_column("x").to_list() if "x" in points.columns else list(range(1, points.height + 1))
    )
    return [(number, label) for number, (_, label) in enumerate(_placed_events(axis, spec.events), 1)]


def chart_captions(unit: str, chart_label: str, direction: str | None, rules: str = "") -> tuple[str, str]:
    """The chart's caption as (left, right): the unit (not for %), and the chart type (with the
    network's rule set, when named) and the improvement direction -- drawn above the plot, or
    printed by the page when it heads the chart."""
    unit, chart_label = clean(unit), clean(chart_label)
    left = "" if unit == "%" else unit
    right = f"{chart_label}  \u00b7  {clean(rules)} rules" if rules and chart_label else chart_label
    if direction in ("up", "down"):
        arrow = "\u2191 Higher is better" if direction == "up" else "\u2193 Lower is better"
        right = f"{right}  \u00b7  {arrow}" if right else arrow
    return left, right


def legend_svg(
    entries: list[tuple[str, tuple[Any, ...]]], *, width: int = 640, title: str = "Key to the charts"
) -> str:
    """One legend for several charts (e.g. once per report instead of once per chart)."""
    svg_width = float(width)
    rows = _flow([(22 + text_width(lab, _LEGEND_SIZE), (lab, sw)) for lab, sw in entries], 0, svg_width, 14)
    svg_height = 15.0 * len(rows) + 3
    desc = "; ".join(lab for lab, _ in entries)
    uid = S.svg_id("legend", desc)
    out = [S.svg_open(svg_width, svg_height, title=title, desc=desc, uid=uid, cls="jf-legend")]
    out.extend(_legend_group(rows, 11.0))
    out.append("</svg>")
    return "".join(out)


def _legend_group(rows: list, y: float) -> list[str]:
    """Legend rows (from ``_flow``) as one group of swatches and labels, the first row's baseline at y."""
    out = [f'<g class="legend" font-size="{_LEGEND_SIZE}" fill="{S.INK}">']
    for row in rows:
        for x, (lab, sw) in row:
            out.append(_legend_swatch(sw, x, y - 3.3))
            out.append(text_svg(x + 22, y, lab, _LEGEND_SIZE))
        y += 15
    out.append("</g>")
    return out


# --- the chart --------------------------------------------------------------------------------


def spc_chart_svg(
    points: pl.DataFrame,
    *,
    title: str,
    unit: str = "",
    multiplier: float = 1.0,
    target: float | None = None,
    direction: str | None = None,
    chart_label: str = "",
    events: list[dict] | None = None,
    network_median: list[tuple[Any, float]] | None = None,
    width: int = 640,
    height: int = 260,
    show_title: bool = True,
    legend: bool = True,
    key: bool = True,
    caption: bool = True,
    tooltips: bool = True,
    rules: str = "",
) -> str:
    """A run or control chart of one series as an SVG string.

    ``show_title=False`` leaves the title out of the drawing (it stays the SVG's accessible
    ``<title>``) for pages that already head the chart with the measure's name.

    For print pages that carry these themselves (cheaper to lay out as page text than as SVG
    text): ``legend=False`` leaves out the legend (see ``legend_entries``/``legend_svg``),
    ``key=False`` the list of numbered PDSA cycles under the chart (see ``pdsa_key``; the
    numbered badges stay on the time axis), ``caption=False`` the unit and chart type above the
    plot (see ``chart_captions``), and ``tooltips=False`` the per-point ``<title>`` tooltips:
    the markers of each kind are then drawn as one path. The text alternative (``<desc>``)
    always names every PDSA cycle.

    ``points``: one series' rows, sorted by ``x``, with ``x`` ('YYYY-MM', a date or a number),
    ``value``, ``cl``, ``lcl``, ``ucl`` (nullable; limits may vary per point and per part),
    ``part``, ``sigma_signal``, ``runs_signal``, ``shift_point``, ``trend_point``,
    ``point_type`` and optionally ``excluded``/``exclude``. Missing columns are tolerated.

    ``multiplier`` scales everything drawn (values, lines, ``target`` and ``network_median``
    are all given in the data's own scale), e.g. 100 with ``unit="%"`` for proportions.
    ``events`` are PDSA cycles ``{"x": ..., "label": ...}``, numbered on the time axis with a
    key below the chart. The total height grows beyond ``height`` only if the legend and the
    key would leave the plot too little room.
    """
    return draw_spc_chart(
        SpcChart(
            points,
            title=title,
            unit=unit,
            multiplier=multiplier,
            target=target,
            direction=direction,
            chart_label=chart_label,
            events=events_of(events),
            network_median=tuple(network_median or ()),
            width=width,
            height=height,
            options=ChartOptions(show_title, legend, key, caption, tooltips),
            rules=rules or "",
        )
    )


def draw_spc_chart(spec: SpcChart) -> str:
    """The chart ``spec`` declares, as an SVG string (see ``spc_chart_svg`` for what it draws).

    The layout (size, plot area, scales, texts around the plot) is computed once; each layer
    then draws one kind of mark, in paint order: later layers lie on top."""
    layout = chart_layout(spec)
    layers = (
        _background_layer,
        _title_layer,
        _caption_layer,
        _grid_layer,
        _phase_rules_layer,
        _pdsa_guides_layer,
        _network_median_layer,
        _limits_layer,
        _centre_line_layer,
        _target_layer,
        _signal_bands_layer,
        _data_line_layer,
        _points_layer,
        _x_axis_layer,
        _pdsa_flags_layer,
        _line_labels_layer,
        _legend_layer,
        _pdsa_key_layer,
    )
    return "".join(layer(layout) for layer in layers) + "</svg>"


# --- layout -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RightLabel:
    """A label at the plot's right edge naming the latest level of a line (limits, centre, target)."""

    y: float
    text: str
    colour: str
    bold: bool


@dataclass(frozen=True)
class ChartLayout:
    """Where everything of one SPC chart goes, computed once from its spec.

    Values are already scaled by the spec's ``multiplier``; ``y()`` and ``x()`` map a value and an
    axis position to SVG coordinates. The plot is the rectangle ``plot_left``..``plot_right`` by
    ``plot_top``..``plot_bottom``; under it come the PDSA badges, the month (and year) labels, the
    legend and the PDSA key."""

    spec: SpcChart
    series: _Series
    title: str
    chart_label: str
    unit: str
    target: float | None
    events: list[tuple[float, str]]  # PDSA cycles on the axis: (position, label), numbered from 1
    network_median: list[tuple[float, float]]  # (position, value)
    decimals: int  # of values written on the chart
    suffix: str  # written after tick and line values: % or ‰
    desc: str
    width: float
    height: float
    legend_rows: list
    key_rows: list
    caption_left: str
    caption_right: str
    title_room: float  # height left out at the top when the title is not drawn
    plot_top: float
    plot_bottom: float
    plot_left: float
    plot_right: float
    badge_height: float
    by_month: bool  # month axis: two rows of labels (months, then years)
    ticks: list[float]
    tick_text: list[str]
    y_origin: float
    y_scale: float
    x_pad: float
    x_step: float  # SVG units per axis unit
    right_labels: tuple[RightLabel, ...]

    @property
    def axis(self) -> XAxis:
        return self.series.axis

    def y(self, value: float) -> float:
        return self.plot_bottom - (value - self.y_origin) * self.y_scale

    def x(self, position: float) -> float:
        axis = self.axis
        if axis.span > 0:
            return self.plot_left + self.x_pad + (position - axis.pos[0]) * self.x_step
        return (self.plot_left + self.plot_right) / 2

    @cached_property
    def point_xs(self) -> list[float]:
        return [self.x(p) for p in self.axis.pos]

    @cached_property
    def value_ys(self) -> list[float | None]:
        return [self.y(v) if v is not None else None for v in self.series.value]

    @cached_property
    def event_xs(self) -> list[float]:
        return [self.x(p) for p, _ in self.events]

    @property
    def label_y(self) -> float:
        """Baseline of the month labels under the axis."""
        return self.plot_bottom + self.badge_height + _AXIS_SIZE + 3

    def value_text(self, value: float) -> str:
        return fmt_num(value, self.decimals) + self.suffix


def _scaled_median(axis: XAxis, network_median: tuple[tuple[Any, float], ...], multiplier: float):
    """The network median's points that fall on the axis, as (position, scaled value), in order."""
    median: list[tuple[float, float]] = []
    for x, value in network_median:
        position = axis.locate(x)
        if position is not None and value is not None and math.isfinite(value):
            median.append((position, float(value) * multiplier))
    median.sort()
    return median


def _legend_and_key_rows(
    series: _Series,
    spec: SpcChart,
    events: list[tuple[float, str]],
    *,
    run_chart: bool,
    has_target: bool,
    has_median: bool,
    width: float,
) -> tuple[list, list]:
    """The legend's and the PDSA key's rows under the plot (empty when the options leave them out)."""
    entries = (
        legend_entries(series, run_chart=run_chart, has_target=has_target, has_median=has_median)
        if spec.options.legend
        else []
    )
    legend_rows = _flow(
        [(22 + text_width(label, _LEGEND_SIZE), (label, swatch)) for label, swatch in entries],
        8,
        width - 8,
        14,
    )
    key_items = []
    for number, (_, label) in enumerate(events if spec.options.key else [], 1):
        text = fit(label, width * 0.46 - 18, _KEY_SIZE)
        key_items.append((16 + text_width(text, _KEY_SIZE), (number, text, label)))
    return legend_rows, _flow(key_items, 8, width - 8, 14)


def chart_layout(spec: SpcChart) -> ChartLayout:
    """Lay the chart out: heights top to bottom, then the y scale, the right-hand labels (they set
    the plot's right edge), the tick labels (its left edge) and the x scale."""
    width = float(spec.width)
    multiplier = spec.multiplier
    series = _load(spec.points, multiplier)
    axis = series.axis
    n = len(axis.pos)
    target = spec.target * multiplier if spec.target is not None and math.isfinite(spec.target) else None
    title, chart_label, unit = clean(spec.title), clean(spec.chart_label), clean(spec.unit)
    run_chart = _is_run_chart(chart_label, series)
    events = _placed_events(axis, spec.events)
    median = _scaled_median(axis, spec.network_median, multiplier)

    decimals = S.value_decimals([*series.value, *series.cl, target])
    desc = _alt_text(
        series,
        title=title,
        unit=unit,
        target=target,
        direction=spec.direction,
        chart_label=chart_label,
        n_events=len(events),
        decimals=decimals,
        rules=spec.rules,
    )
    if events:
        desc += " PDSA cycles: " + "; ".join(f"{k}. {label}" for k, (_, label) in enumerate(events, 1)) + "."
    legend_rows, key_rows = _legend_and_key_rows(
        series,
        spec,
        events,
        run_chart=run_chart,
        has_target=target is not None,
        has_median=bool(median),
        width=width,
    )

    # heights, top to bottom
    caption_left, caption_right = (
        chart_captions(unit, chart_label, spec.direction, spec.rules) if spec.options.caption else ("", "")
    )
    has_caption = bool(caption_left or caption_right)
    title_room = 0.0 if spec.options.show_title else 16.0
    plot_top = (44.0 if has_caption else 30.0) - title_room
    by_month = axis.mode == "month"
    badge_height = 2 * _BADGE_R + 6 if events else 0.0
    labels_height = (_AXIS_SIZE + 4) * (2 if by_month else 1) + 2
    below_plot = badge_height + labels_height + (6 + 15 * len(legend_rows) if legend_rows else 0)
    below_plot += (13 * len(key_rows) + 3 if key_rows else 0) + 4
    height = max(float(spec.height), plot_top + 90 + below_plot)
    plot_bottom = height - below_plot
    plot_height = plot_bottom - plot_top

    # y scale: every value, line and the target in view, on round ticks
    in_view = [v for v in (*series.value, *series.cl, *series.lcl, *series.ucl) if v is not None]
    in_view += [v for _, v in median]
    if target is not None:
        in_view.append(target)
    low, high = (min(in_view), max(in_view)) if in_view else (0.0, 1.0)
    ticks = S.nice_ticks(low, high, max(3, min(7, int(plot_height // 26))))
    tick_decimals = S.step_decimals(ticks[1] - ticks[0]) if len(ticks) > 1 else 0
    suffix = unit if unit in ("%", "\u2030") else ""
    tick_text = [fmt_num(t, tick_decimals) + suffix for t in ticks]
    y_origin, y_top = ticks[0], ticks[-1]
    y_scale = plot_height / (y_top - y_origin) if y_top > y_origin else 1.0

    def y_of(value: float) -> float:
        return plot_bottom - (value - y_origin) * y_scale

    # right-hand labels of the latest limits, centre line and target (the latest phase's only)
    last_part = series.part[-1] if n else 1
    right: list[RightLabel] = []
    for values, colour in ((series.ucl, S.LIMIT), (series.lcl, S.LIMIT), (series.cl, S.CENTRE)):
        k = _last(values)
        if k is not None and series.part[k] == last_part:
            level: float = values[k]  # type: ignore[assignment]
            right.append(RightLabel(y_of(level), fmt_num(level, decimals) + suffix, colour, False))
    if target is not None:
        right.append(RightLabel(y_of(target), "Target " + fmt_num(target, decimals) + suffix, S.TARGET, True))
    right_width = max((text_width(r.text, _AXIS_SIZE, r.bold) for r in right), default=0.0)
    plot_right = width - max(10.0, right_width + 12)
    plot_left = 8 + max(text_width(t, _AXIS_SIZE) for t in tick_text) + 7

    # x scale: half a slot of padding at each end, at least 4 and at most 12 px
    plot_width = plot_right - plot_left
    span = axis.span
    x_pad = min(12.0, max(4.0, plot_width / (span + 1) / 2)) if n else 0.0
    x_step = (plot_width - 2 * x_pad) / span if span > 0 else 0.0

    return ChartLayout(
        spec=spec,
        series=series,
        title=title,
        chart_label=chart_label,
        unit=unit,
        target=target,
        events=events,
        network_median=median,
        decimals=decimals,
        suffix=suffix,
        desc=desc,
        width=width,
        height=height,
        legend_rows=legend_rows,
        key_rows=key_rows,
        caption_left=caption_left,
        caption_right=caption_right,
        title_room=title_room,
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        plot_left=plot_left,
        plot_right=plot_right,
        badge_height=badge_height,
        by_month=by_month,
        ticks=ticks,
        tick_text=tick_text,
        y_origin=y_origin,
        y_scale=y_scale,
        x_pad=x_pad,
        x_step=x_step,
        right_labels=tuple(right),
    )


# --- layers, in paint order -------------------------------------------------------------------


def _background_layer(layout: ChartLayout) -> str:
    """The ``<svg>`` element (with its title and description) and a white ground."""
    uid = S.svg_id("spc", layout.title, layout.desc, len(layout.axis.pos))
    opening = S.svg_open(
        layout.width, layout.height, title=layout.title, desc=layout.desc, uid=uid, cls="jf-chart jf-spc"
    )
    return opening + f'<rect width="{f1(layout.width)}" height="{f1(layout.height)}" fill="#FFFFFF"/>'


def _title_layer(layout: ChartLayout) -> str:
    if not layout.spec.options.show_title:
        return ""
    return text_svg(
        8,
        17,
        fit(layout.title, layout.width - 16, _TITLE_SIZE, True),
        _TITLE_SIZE,
        bold=True,
        attrs=f' font-size="{_TITLE_SIZE}" fill="{S.INK}"',
    )


def _caption_layer(layout: ChartLayout) -> str:
    """The unit at the left above the plot, the chart type and direction at the right; the unit
    gives way when the line is too short for both."""
    left, right = layout.caption_left, layout.caption_right
    if not (left or right):
        return ""
    width, baseline = layout.width, 33 - layout.title_room
    out = []
    right_width = 0.0
    if right:
        right = fit(right, width - 16, _AXIS_SIZE)
        right_width = text_width(right, _AXIS_SIZE)
        out.append(
            text_svg(
                width - 8,
                baseline,
                right,
                _AXIS_SIZE,
                anchor="end",
                attrs=f' font-size="{_AXIS_SIZE}" fill="{S.MUTED}"',
            )
        )
    if left:
        room = width - 16 - (right_width + 16 if right else 0)
        if room > 40:
            out.append(
                f'<text x="8" y="{f1(baseline)}" font-size="{_AXIS_SIZE}" fill="{S.MUTED}">'
                f"{esc(fit(left, room, _AXIS_SIZE))}</text>"
            )
    return "".join(out)


def _grid_layer(layout: ChartLayout) -> str:
    """Horizontal grid lines at the y ticks (but the lowest) and the tick labels left of the plot."""
    grid = "".join(
        f"M{f1(layout.plot_left)} {f1(layout.y(t))}H{f1(layout.plot_right)}" for t in layout.ticks[1:]
    )
    out = [f'<path class="grid" d="{grid}" stroke="{S.GRID}" stroke-width="1" fill="none"/>']
    out.append(f'<g font-size="{_AXIS_SIZE}" fill="{S.MUTED}">')
    for tick, text in zip(layout.ticks, layout.tick_text, strict=True):
        out.append(text_svg(layout.plot_left - 6, layout.y(tick) + 3.4, text, _AXIS_SIZE, anchor="end"))
    out.append("</g>")
    return "".join(out)


def _phase_rules_layer(layout: ChartLayout) -> str:
    """A dashed vertical rule half-way between the last point of a phase and the first of the next."""
    xs, part = layout.point_xs, layout.series.part
    breaks = [i for i in range(1, len(xs)) if part[i] != part[i - 1]]
    if not breaks:
        return ""
    rules = [(xs[i - 1] + xs[i]) / 2 for i in breaks]
    path = "".join(f"M{f1(x)} {f1(layout.plot_top - 4)}V{f1(layout.plot_bottom)}" for x in rules)
    out = [f'<path class="phase" d="{path}" stroke="#9A9A9A" stroke-width="1" stroke-dasharray="3 2"/>']
    out.append(f'<g class="phase-label" font-size="{_AXIS_SIZE}" fill="{S.MUTED}">')
    for x, i in zip(rules, breaks, strict=True):
        out.append(
            text_svg(x + 3, layout.plot_top + 6, phase_label(layout.series.phase_start[i]), _AXIS_SIZE)
        )
    out.append("</g>")
    return "".join(out)


def _pdsa_guides_layer(layout: ChartLayout) -> str:
    """A dotted vertical guide up the plot at each PDSA cycle."""
    if not layout.event_xs:
        return ""
    path = "".join(f"M{f1(x)} {f1(layout.plot_top)}V{f1(layout.plot_bottom)}" for x in layout.event_xs)
    return f'<path class="pdsa-guide" d="{path}" stroke="#BDBDBD" stroke-width="1" stroke-dasharray="1 2.5"/>'


def _network_median_layer(layout: ChartLayout) -> str:
    median = layout.network_median
    if not median:
        return ""
    path = _poly_path(
        [layout.x(p) for p, _ in median], [layout.y(v) for _, v in median], [False] * len(median)
    )
    return (
        f'<path class="network-median" d="{path}" stroke="{S.NETWORK}" stroke-width="1.6" fill="none" '
        f'stroke-linejoin="round"/>'
    )


def _level_path(layout: ChartLayout, values: list[float | None], cls: str, style: str) -> str:
    """A line through per-point levels (limits, centre line), stepping where they change."""
    if all(v is None for v in values):
        return ""
    step_half = min(8.0, layout.x_step * 0.4) if layout.x_step else 8.0
    ys = [layout.y(v) if v is not None else None for v in values]
    path = _step_path(layout.point_xs, ys, layout.series.part, step_half)
    return f'<path class="{cls}" d="{path}" fill="none" {style}/>'


def _limits_layer(layout: ChartLayout) -> str:
    limit = f'stroke="{S.LIMIT}" stroke-width="1.1" stroke-dasharray="5 3"'
    return _level_path(layout, layout.series.ucl, "ucl", limit) + _level_path(
        layout, layout.series.lcl, "lcl", limit
    )


def _centre_line_layer(layout: ChartLayout) -> str:
    return _level_path(layout, layout.series.cl, "cl", f'stroke="{S.CENTRE}" stroke-width="1.3"')


def _target_layer(layout: ChartLayout) -> str:
    xs = layout.point_xs
    if layout.target is None or not xs:
        return ""
    return (
        f'<path class="target" d="M{f1(xs[0])} {f1(layout.y(layout.target))}H{f1(xs[-1])}" stroke="{S.TARGET}" '
        f'stroke-width="1.8" stroke-dasharray="2 2" fill="none"/>'
    )


def _signal_bands_layer(layout: ChartLayout) -> str:
    """Shift and trend runs as a light band under the data line, in the colour of the run's signal."""
    xs, ys = layout.point_xs, layout.value_ys
    out = []
    for first, last, colour in _band_runs(layout.series):
        if last > first:
            band = "".join(
                f"{'M' if k == first else 'L'}{f1(xs[k])} {f1(ys[k])}"  # type: ignore[arg-type]
                for k in range(first, last + 1)
            )
        else:
            band = f"M{f1(xs[first] - 0.1)} {f1(ys[first])}L{f1(xs[first] + 0.1)} {f1(ys[first])}"  # type: ignore[arg-type]
        out.append(
            f'<path class="run-band" d="{band}" stroke="{colour}" stroke-width="9" stroke-linecap="round" '
            f'stroke-linejoin="round" fill="none"/>'
        )
    return "".join(out)


def _data_line_layer(layout: ChartLayout) -> str:
    """The values joined by a line, broken where a value or a month is missing."""
    ys = layout.value_ys
    if all(v is None for v in ys):
        return ""
    breaks = [layout.axis.gap_before(i) for i in range(len(ys))]
    return (
        f'<path class="data" d="{_poly_path(layout.point_xs, ys, breaks)}" stroke="{S.DATA_LINE}" stroke-width="1.4" '
        f'fill="none" stroke-linejoin="round"/>'
    )


def _points_layer(layout: ChartLayout) -> str:
    """A marker per value, shaped and coloured by its point type, hollow when excluded; with a
    tooltip each, or (for print) all markers of a kind as one path."""
    series, xs, ys = layout.series, layout.point_xs, layout.value_ys
    tooltips = layout.spec.options.tooltips
    out = ['<g class="markers">']
    merged: list[tuple[str, float, float, bool, bool]] = []
    for i, y in enumerate(ys):
        if y is None:
            continue
        kind = series.ptype[i]
        below = series.cl[i] is not None and series.value[i] < series.cl[i]  # type: ignore[operator]
        if not tooltips:
            merged.append((kind, xs[i], y, series.excluded[i], below))
            continue
        tip = f"{layout.axis.long[i]}: {layout.value_text(series.value[i])}"  # type: ignore[arg-type]
        if kind != COMMON:
            tip += f" ({MARKERS[kind].legend.lower()})"
        out.append(marker_svg(kind, xs[i], y, hollow=series.excluded[i], below=below, tip=tip))
    if merged:
        out.append(merged_markers_svg(merged))
    out.append("</g>")
    return "".join(out)


def _x_axis_layer(layout: ChartLayout) -> str:
    """The time axis: its line, a tick per slot (longer where labelled), the labels and, for
    months, the years under them."""
    axis, bottom = layout.axis, layout.plot_bottom
    out = [
        f'<path class="x-axis" d="M{f1(layout.plot_left)} {f1(bottom)}H{f1(layout.plot_right)}" stroke="{S.AXIS}" stroke-width="1"/>'
    ]
    room = layout.x_step if layout.x_step else layout.plot_right - layout.plot_left
    if layout.by_month:  # a tick for every calendar month, labels on calendar boundaries
        slots, month_labels = month_slots(axis, room, _AXIS_SIZE, _MAX_MONTH_LABELS)
        labelled = {p for p, _, _ in month_labels}
        ticks = [(layout.x(p), p in labelled) for p in slots]
        labels = [(layout.x(p), short, year) for p, short, year in month_labels]
    else:
        xs = layout.point_xs
        shown = label_indices(axis, room, _AXIS_SIZE) if xs else []
        ticks = [(xs[i], i in set(shown)) for i in range(len(xs))]
        labels = [(xs[i], axis.short[i], axis.year[i]) for i in shown]
    tick_path = "".join(f"M{f1(x)} {f1(bottom)}v{3.5 if long else 2}" for x, long in ticks)
    out.append(f'<path d="{tick_path}" stroke="{S.AXIS}" stroke-width="1"/>')
    label_y = layout.label_y
    out.append(f'<g font-size="{_AXIS_SIZE}" fill="{S.MUTED}">')
    for x, short, _ in labels:
        out.append(text_svg(x, label_y, short, _AXIS_SIZE, anchor="middle"))
    if layout.by_month and labels:
        out.extend(_year_labels(labels, label_y + _AXIS_SIZE + 3))
    out.append("</g>")
    return "".join(out)


def _year_labels(labels: list[tuple[float, str, Any]], baseline: float) -> list[str]:
    """Each year once, under its first labelled month, where it does not run into the previous one."""
    out = []
    previous_year, previous_end = None, -1e9
    for x, _, year in labels:
        if year == previous_year:
            continue
        text = str(year)
        half_width = text_width(text, _AXIS_SIZE) / 2
        if x - half_width > previous_end + 4:
            out.append(text_svg(x, baseline, text, _AXIS_SIZE, anchor="middle", bold=True))
            previous_end = x + half_width
        previous_year = year
    return out


def _badge_xs(layout: ChartLayout) -> list[float]:
    """Where the numbered PDSA badges go: under their cycles, nudged apart when cycles fall in
    the same or adjacent months, and back inside the chart's right edge."""
    badges: list[float] = []
    for x in layout.event_xs:
        badges.append(max(x, badges[-1] + 2 * _BADGE_R + 1) if badges else x)
    overflow = badges[-1] - (layout.width - _BADGE_R - 2)
    if overflow > 0:
        badges = [b - overflow for b in badges]
        for k in range(len(badges) - 2, -1, -1):
            badges[k] = min(badges[k], badges[k + 1] - 2 * _BADGE_R - 1)
    return badges


def _pdsa_flags_layer(layout: ChartLayout) -> str:
    """Numbered badges under the axis, one per PDSA cycle, led to their month when nudged aside."""
    if not layout.events:
        return ""
    bottom = layout.plot_bottom
    centre_y = bottom + _BADGE_R + 3
    badges = _badge_xs(layout)
    out = []
    if layout.spec.options.tooltips:
        for number, ((_, label), x, badge) in enumerate(
            zip(layout.events, layout.event_xs, badges, strict=True), 1
        ):
            lead = (
                f'<path d="M{f1(x)} {f1(bottom)}L{f1(badge)} {f1(centre_y)}" stroke="{S.BADGE}" stroke-width="0.8"/>'
                if abs(badge - x) > 0.5
                else ""
            )
            size = 8 if number < 10 else 7
            out.append(
                f'<g class="pdsa">{lead}<circle cx="{f1(badge)}" cy="{f1(centre_y)}" r="{_BADGE_R}" fill="{S.BADGE}"/>'
                + text_svg(
                    badge,
                    centre_y + 2.9,
                    str(number),
                    size,
                    anchor="middle",
                    bold=True,
                    attrs=f' font-size="{size}" fill="#FFFFFF"',
                )
                + f"<title>{esc(f'{number}. {label}')}</title></g>"
            )
        return "".join(out)
    # for print: one path for the leads, one for the discs, the numbers on top
    leads = "".join(
        f"M{f1(x)} {f1(bottom)}L{f1(badge)} {f1(centre_y)}"
        for x, badge in zip(layout.event_xs, badges, strict=True)
        if abs(badge - x) > 0.5
    )
    if leads:
        out.append(f'<path d="{leads}" stroke="{S.BADGE}" stroke-width="0.8"/>')
    discs = "".join(_marker_d("circle", _BADGE_R, badge, centre_y) for badge in badges)
    out.append(f'<path class="pdsa-badges" d="{discs}" fill="{S.BADGE}"/>')
    out.append('<g class="pdsa-numbers" font-weight="bold" fill="#FFFFFF">')
    for number, badge in enumerate(badges, 1):
        size = 8 if number < 10 else 7
        out.append(
            text_svg(
                badge,
                centre_y + 2.9,
                str(number),
                size,
                anchor="middle",
                bold=True,
                attrs=f' font-size="{size}"',
            )
        )
    out.append("</g>")
    return "".join(out)


def _line_labels_layer(layout: ChartLayout) -> str:
    """The right-hand labels, moved apart where they would overlap."""
    if not layout.right_labels:
        return ""
    labels = [[r.y, r.text, r.colour, r.bold] for r in layout.right_labels]
    _spread(labels, _AXIS_SIZE + 1.5, layout.plot_top, layout.plot_bottom)
    out = [f'<g class="line-labels" font-size="{_AXIS_SIZE}">']
    for y, text, colour, bold in labels:
        out.append(
            text_svg(layout.plot_right + 6, y + 3.4, text, _AXIS_SIZE, bold=bold, attrs=f' fill="{colour}"')
        )
    out.append("</g>")
    return "".join(out)


def _legend_top(layout: ChartLayout) -> float:
    """Baseline of the legend's first row, under the axis labels."""
    return layout.label_y + (_AXIS_SIZE + 3 if layout.by_month else 0) + 15


def _legend_layer(layout: ChartLayout) -> str:
    if not layout.legend_rows:
        return ""
    return "".join(_legend_group(layout.legend_rows, _legend_top(layout)))


def _pdsa_key_layer(layout: ChartLayout) -> str:
    """The numbered PDSA cycles listed under the legend."""
    if not layout.key_rows:
        return ""
    y = _legend_top(layout) + 15 * len(layout.legend_rows) + 1
    out = [f'<g class="pdsa-key" font-size="{_KEY_SIZE}" fill="{S.INK}">']
    for row in layout.key_rows:
        for x, (number, text, full) in row:
            out.append(
                f'<g><circle cx="{f1(x + 5.5)}" cy="{f1(y - 3.2)}" r="5.5" fill="{S.BADGE}"/>'
                + text_svg(
                    x + 5.5,
                    y - 0.6,
                    str(number),
                    7,
                    anchor="middle",
                    bold=True,
                    attrs=' font-size="7" fill="#FFFFFF"',
                )
                + text_svg(x + 15, y, text, _KEY_SIZE)
                + f"<title>{esc(full)}</title></g>"
            )
        y += 13
    out.append("</g>")
    return "".join(out)
