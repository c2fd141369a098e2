"""Control and run charts as hand-built SVG (one chart in well under a millisecond).

Input is one series' rows of the QI statistics output (see ``spc_chart_svg``). Signals are
shown by shape *and* colour (Okabe-Ito), so they read in greyscale and for colour-blind
readers; every text is escaped; nothing outside the SVG is referenced.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import polars as pl

from . import _svg as S
from ._legend import flow as _flow
from ._svg import clean, esc, f1, fit, fmt_num, text_svg, text_width, with_unit
from .spec import ChartEvent, ChartOptions, SpcChart, events_of
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
class _Data:
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


def _num_list(df: pl.DataFrame, name: str, k: float) -> list[float | None]:
    if name not in df.columns:
        return [None] * df.height
    out: list[float | None] = []
    for v in df.get_column(name).to_list():
        if v is None or not isinstance(v, int | float) or not math.isfinite(v):
            out.append(None)
        else:
            out.append(float(v) * k)
    return out


def _bool_list(df: pl.DataFrame, *names: str) -> list[bool]:
    for name in names:
        if name in df.columns:
            return [bool(v) for v in df.get_column(name).to_list()]
    return [False] * df.height


def _load(points: pl.DataFrame, multiplier: float) -> _Data:
    n = points.height
    xs = points.get_column("x").to_list() if "x" in points.columns else list(range(1, n + 1))
    if "part" in points.columns:
        raw = points.get_column("part").to_list()
        part, last = [], 1
        for p in raw:
            last = int(p) if p is not None else last
            part.append(last)
    else:
        part = [1] * n
    ptype = (
        [p if p in MARKERS else COMMON for p in points.get_column("point_type").to_list()]
        if "point_type" in points.columns
        else [COMMON] * n
    )
    return _Data(
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
    )


def _last(values: list[float | None], start: int = 0) -> int | None:
    for i in range(len(values) - 1, start - 1, -1):
        if values[i] is not None:
            return i
    return None


def _is_run_chart(chart_label: str, d: _Data) -> bool:
    return chart_label.strip().lower().startswith("run") or (
        not chart_label and all(v is None for v in d.ucl) and all(v is None for v in d.lcl)
    )


# --- text alternative -------------------------------------------------------------------------


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _plural(k: int, one: str, many: str | None = None) -> str:
    return f"{k} {one if k == 1 else (many or one + 's')}"


def _alt_text(
    d: _Data,
    *,
    title: str,
    unit: str,
    target: float | None,
    direction: str | None,
    chart_label: str,
    n_events: int,
    decimals: int,
) -> str:
    ax = d.axis
    n = len(ax.pos)
    title = clean(title)
    head = f"{title}, {chart_label}" if chart_label else title
    if n == 0:
        return f"{head}: no data."

    def num(v: float) -> str:
        return with_unit(fmt_num(v, decimals), unit if unit == "%" else "")

    if ax.mode == "month":
        months = int(round(ax.span)) + 1
        head += f", {_plural(months, 'month')} to {ax.long[-1]}."
    elif ax.mode == "date":
        head += f", {_plural(n, 'point')} to {ax.long[-1]}."
    else:
        head += f", {_plural(n, 'point')}."
    sentences = [head]

    facts: list[str] = []
    j = _last(d.value)
    if j is None:
        facts.append("No values recorded")
    elif j == n - 1:
        facts.append(f"Latest {num(d.value[j])} ({ax.long[j]})")  # type: ignore[arg-type]
    else:
        facts.append(f"Latest value {num(d.value[j])} in {ax.long[j]}; {ax.long[-1]} missing")  # type: ignore[arg-type]
    run_chart = _is_run_chart(chart_label, d)
    k = _last(d.cl)
    if k is not None:
        facts.append(f"{'median' if run_chart else 'centre line'} {num(d.cl[k])}")  # type: ignore[arg-type]
    k = _last(d.ucl)
    if k is not None and d.lcl[k] is not None:
        facts.append(f"control limits {num(d.lcl[k])} to {num(d.ucl[k])}")  # type: ignore[arg-type]
    elif k is not None:
        facts.append(f"upper control limit {num(d.ucl[k])}")  # type: ignore[arg-type]
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
        c = sum(1 for t in d.ptype if t == kind)
        if c:
            signals.append(f"{_plural(c, 'point')} of {words}")
    if any(d.shift):
        signals.append("a shift")
    if any(d.trend):
        signals.append("a trend")
    if not signals and any(d.runs):
        signals.append("non-random runs")
    sentence = _join(signals) if signals else "no special-cause variation"
    sentences.append(sentence[0].upper() + sentence[1:] + ".")

    missing = sum(1 for v in d.value if v is None)
    if ax.mode == "month":
        missing += int(round(ax.span)) + 1 - n
    if missing:
        sentences.append(f"{_plural(missing, 'month' if ax.mode == 'month' else 'value')} missing.")
    parts = sorted(set(d.part))
    if len(parts) > 1:
        first = d.part.index(parts[-1])
        sentences.append(f"{len(parts)} phases; the latest from {ax.long[first]}.")
    n_ex = sum(d.excluded)
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
    )


# --- drawing helpers --------------------------------------------------------------------------


def _marker_d(shape: str, r: float, x: float, y: float, below: bool = False) -> str:
    """Path data of one marker: circles as two arcs, so that many can share one ``<path>``."""
    if shape == "circle":
        return f"M{f1(x - r)} {f1(y)}a{r} {r} 0 1 0 {f1(2 * r)} 0a{r} {r} 0 1 0 {f1(-2 * r)} 0Z"
    if shape == "diamond":
        return f"M{f1(x)} {f1(y - r)}L{f1(x + r)} {f1(y)}L{f1(x)} {f1(y + r)}L{f1(x - r)} {f1(y)}Z"
    s = -1 if below else 1  # point the triangle towards the side of the signal
    return (
        f"M{f1(x)} {f1(y - s * r)}L{f1(x + 0.95 * r)} {f1(y + s * 0.65 * r)}"
        f"L{f1(x - 0.95 * r)} {f1(y + s * 0.65 * r)}Z"
    )


def _marker_style(m: Marker, hollow: bool) -> str:
    fill = "#FFFFFF" if hollow else m.fill
    sw = "1.4" if hollow else ("0.9" if m.edge != m.fill else "0")
    return f'fill="{fill}" stroke="{m.edge}" stroke-width="{sw}"'


def merged_markers_svg(points: list[tuple[str, float, float, bool, bool]]) -> str:
    """All markers of one kind (and hollowness) as one ``<path>`` each: (kind, x, y, hollow, below).

    Print needs no per-point tooltip, and one element per kind is much cheaper for WeasyPrint
    to draw than one per point; shape and colour still tell the kinds apart."""
    groups: dict[tuple[str, bool], list[str]] = {}
    for kind, x, y, hollow, below in points:
        m = MARKERS.get(kind, MARKERS[COMMON])
        groups.setdefault((kind if kind in MARKERS else COMMON, hollow), []).append(
            _marker_d(m.shape, m.size, x, y, below)
        )
    out = []
    for (kind, hollow), ds in groups.items():
        m = MARKERS[kind]
        cls = f"pts {m.css}{' pt-excluded' if hollow else ''}"
        out.append(f'<path class="{cls}" d="{"".join(ds)}" {_marker_style(m, hollow)}/>')
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
    m = MARKERS.get(kind, MARKERS[COMMON])
    fill = "#FFFFFF" if hollow else m.fill
    sw = "1.4" if hollow else ("0.9" if m.edge != m.fill else "0")
    cls = "legend-pt" if legend else f"pt {m.css}{' pt-excluded' if hollow else ''}"
    r = m.size
    if m.shape == "circle":
        shape = f'<circle class="{cls}" cx="{f1(x)}" cy="{f1(y)}" r="{r}" fill="{fill}" stroke="{m.edge}" stroke-width="{sw}"'
    elif m.shape == "diamond":
        d = f"M{f1(x)} {f1(y - r)}L{f1(x + r)} {f1(y)}L{f1(x)} {f1(y + r)}L{f1(x - r)} {f1(y)}Z"
        shape = f'<path class="{cls}" d="{d}" fill="{fill}" stroke="{m.edge}" stroke-width="{sw}"'
    else:
        s = -1 if below else 1  # point the triangle towards the side of the signal
        d = (
            f"M{f1(x)} {f1(y - s * r)}L{f1(x + 0.95 * r)} {f1(y + s * 0.65 * r)}"
            f"L{f1(x - 0.95 * r)} {f1(y + s * 0.65 * r)}Z"
        )
        shape = f'<path class="{cls}" d="{d}" fill="{fill}" stroke="{m.edge}" stroke-width="{sw}"'
    if tip:
        return f"{shape}><title>{esc(tip)}</title></{'circle' if m.shape == 'circle' else 'path'}>"
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
        d = f' stroke-dasharray="{dash}"' if dash else ""
        return f'<path d="M{f1(x)} {f1(y)}h18" stroke="{colour}" stroke-width="{width}" fill="none"{d}/>'
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


def _band_runs(d: _Data) -> list[tuple[int, int, str]]:
    """The shift / trend runs to highlight, as drawn segments: (first, last) point and colour.

    A run's colour is that of its special-cause points (improvement before concern before
    neutral), else grey, judged over the whole run: a missing month splits the band that is
    drawn, not the signal (the run rules skip missing values), so both halves of a run on one
    side of the centre line share a colour.
    """
    flagged = [
        (k, d.axis.gap_before(k))
        for k, (a, b, v) in enumerate(zip(d.shift, d.trend, d.value, strict=True))
        if (a or b) and v is not None
    ]
    segments: list[tuple[int, int, str]] = []
    run: list[tuple[int, int]] = []  # the run's segments, (first, last)
    last = None
    for k, gap in flagged:
        missing_between = (
            last is not None
            and all(d.value[m] is None for m in range(last + 1, k))
            and _side(d, k) == _side(d, last)  # a run on the other side of the centre line is another run
        )
        if last is not None and k == last + 1 and not gap:
            run[-1] = (run[-1][0], k)
        elif last is not None and missing_between:
            run.append((k, k))
        else:
            segments.extend(_coloured(d, run))
            run = [(k, k)]
        last = k
    segments.extend(_coloured(d, run))
    return segments


def _side(d: _Data, k: int) -> int:
    v, cl = d.value[k], d.cl[k]
    return 0 if v is None or cl is None or v == cl else (1 if v > cl else -1)


def _coloured(d: _Data, run: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    kinds = {d.ptype[k] for i, j in run for k in range(i, j + 1)}
    colour = next(
        (MARKERS[k].band for k in (IMPROVEMENT, CONCERN, NEUTRAL) if k in kinds), MARKERS[COMMON].band
    )
    return [(i, j, colour) for i, j in run]


def legend_entries(
    d: _Data, *, run_chart: bool, has_target: bool, has_median: bool, has_events: bool = False
) -> list[tuple[str, tuple[Any, ...]]]:
    """(label, swatch) for what a chart shows, in the legend's order."""
    n = len(d.axis.pos)
    present = {t for t, v in zip(d.ptype, d.value, strict=True) if v is not None}
    out: list[tuple[str, tuple[Any, ...]]] = []
    if any(v is not None for v in d.cl):
        out.append(("Median" if run_chart else "Centre line", ("line", S.CENTRE, 1.3, "")))
    if any(v is not None for v in d.ucl) or any(v is not None for v in d.lcl):
        out.append(("Control limits", ("line", S.LIMIT, 1.1, "5 3")))
    if has_target:
        out.append(("Target", ("line", S.TARGET, 1.8, "2 2")))
    if has_median:
        out.append(("Network median", ("line", S.NETWORK, 1.6, "")))
    for kind in (IMPROVEMENT, CONCERN, NEUTRAL, COMMON):
        if kind in present:
            out.append((MARKERS[kind].legend, ("marker", kind, False)))
    if any(e and v is not None for e, v in zip(d.excluded, d.value, strict=True)):
        first_ex = next(i for i in range(n) if d.excluded[i] and d.value[i] is not None)
        out.append(("Excluded", ("marker", d.ptype[first_ex], True)))
    if any(d.shift) or any(d.trend):
        label = "Shift" if not any(d.trend) else ("Trend" if not any(d.shift) else "Shift / trend")
        for colour in dict.fromkeys(colour for _, _, colour in _band_runs(d)):  # each colour drawn, once
            out.append((label, ("band", colour)))
    if len(set(d.part)) > 1:
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


def chart_captions(unit: str, chart_label: str, direction: str | None) -> tuple[str, str]:
    """The chart's caption as (left, right): the unit (not for %), and the chart type with the
    improvement direction -- drawn above the plot, or printed by the page when it heads the chart."""
    unit, chart_label = clean(unit), clean(chart_label)
    left = "" if unit == "%" else unit
    right = chart_label
    if direction in ("up", "down"):
        arrow = "\u2191 Higher is better" if direction == "up" else "\u2193 Lower is better"
        right = f"{right}  \u00b7  {arrow}" if right else arrow
    return left, right


def legend_svg(
    entries: list[tuple[str, tuple[Any, ...]]], *, width: int = 640, title: str = "Key to the charts"
) -> str:
    """One legend for several charts (e.g. once per report instead of once per chart)."""
    W = float(width)
    rows = _flow([(22 + text_width(lab, _LEGEND_SIZE), (lab, sw)) for lab, sw in entries], 0, W, 14)
    H = 15.0 * len(rows) + 3
    desc = "; ".join(lab for lab, _ in entries)
    uid = S.svg_id("legend", desc)
    o = [S.svg_open(W, H, title=title, desc=desc, uid=uid, cls="jf-legend")]
    o.extend(_legend_group(rows, 11.0))
    o.append("</svg>")
    return "".join(o)


def _legend_group(rows: list, y: float) -> list[str]:
    """Legend rows (from ``_flow``) as one group of swatches and labels, the first row's baseline at y."""
    o = [f'<g class="legend" font-size="{_LEGEND_SIZE}" fill="{S.INK}">']
    for row in rows:
        for x, (lab, sw) in row:
            o.append(_legend_swatch(sw, x, y - 3.3))
            o.append(text_svg(x + 22, y, lab, _LEGEND_SIZE))
        y += 15
    o.append("</g>")
    return o


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
        )
    )


def draw_spc_chart(spec: SpcChart) -> str:
    """The chart ``spec`` declares, as an SVG string (see ``spc_chart_svg`` for what it draws)."""
    points, title, unit, multiplier = spec.points, spec.title, spec.unit, spec.multiplier
    target, direction, chart_label, events = spec.target, spec.direction, spec.chart_label, spec.events
    network_median, width, height = spec.network_median, spec.width, spec.height
    show_title, legend, key = spec.options.show_title, spec.options.legend, spec.options.key
    caption, tooltips = spec.options.caption, spec.options.tooltips
    W = float(width)
    d = _load(points, multiplier)
    ax = d.axis
    n = len(ax.pos)
    tgt = target * multiplier if target is not None and math.isfinite(target) else None
    title = clean(title)
    chart_label = clean(chart_label)
    unit = clean(unit)
    run_chart = _is_run_chart(chart_label, d)

    # events: placed, sorted and numbered
    placed = _placed_events(ax, events)

    med: list[tuple[float, float]] = []
    for mx, mv in network_median or []:
        p = ax.locate(mx)
        if p is not None and mv is not None and math.isfinite(mv):
            med.append((p, float(mv) * multiplier))
    med.sort()

    decimals = S.value_decimals([*d.value, *d.cl, tgt])
    alt = _alt_text(
        d,
        title=title,
        unit=unit,
        target=tgt,
        direction=direction,
        chart_label=chart_label,
        n_events=len(placed),
        decimals=decimals,
    )
    desc = alt
    if placed:
        desc += " PDSA cycles: " + "; ".join(f"{k}. {lab}" for k, (_, lab) in enumerate(placed, 1)) + "."

    entries = (
        legend_entries(d, run_chart=run_chart, has_target=tgt is not None, has_median=bool(med))
        if legend
        else []
    )
    legend_rows = _flow(
        [(22 + text_width(lab, _LEGEND_SIZE), (lab, sw)) for lab, sw in entries], 8, W - 8, 14
    )
    key_items = []
    for k, (_, lab) in enumerate(placed if key else [], 1):
        text = fit(lab, W * 0.46 - 18, _KEY_SIZE)
        key_items.append((16 + text_width(text, _KEY_SIZE), (k, text, lab)))
    key_rows = _flow(key_items, 8, W - 8, 14)

    # vertical layout
    caption_left, cap_right = chart_captions(unit, chart_label, direction) if caption else ("", "")
    has_caption = bool(caption_left or cap_right)
    title_h = 0.0 if show_title else 16.0  # room the drawn title would take
    plot_top = (44.0 if has_caption else 30.0) - title_h
    two_row = ax.mode == "month"
    badge_h = 2 * _BADGE_R + 6 if placed else 0.0
    labels_h = (_AXIS_SIZE + 4) * (2 if two_row else 1) + 2
    bottom = badge_h + labels_h + (6 + 15 * len(legend_rows) if legend_rows else 0)
    bottom += (13 * len(key_rows) + 3 if key_rows else 0) + 4
    H = max(float(height), plot_top + 90 + bottom)
    plot_bottom = H - bottom
    plot_h = plot_bottom - plot_top

    # y scale
    ys_all = [v for v in (*d.value, *d.cl, *d.lcl, *d.ucl) if v is not None]
    ys_all += [v for _, v in med]
    if tgt is not None:
        ys_all.append(tgt)
    lo, hi = (min(ys_all), max(ys_all)) if ys_all else (0.0, 1.0)
    ticks = S.nice_ticks(lo, hi, max(3, min(7, int(plot_h // 26))))
    tick_dec = S.step_decimals(ticks[1] - ticks[0]) if len(ticks) > 1 else 0
    suffix = unit if unit in ("%", "\u2030") else ""
    tick_text = [fmt_num(t, tick_dec) + suffix for t in ticks]
    t0, t1 = ticks[0], ticks[-1]
    scale = plot_h / (t1 - t0) if t1 > t0 else 1.0

    def Y(v: float) -> float:
        return plot_bottom - (v - t0) * scale

    # right-hand labels of the latest centre line, limits and target
    last_part = d.part[-1] if n else 1
    right: list[list[Any]] = []
    fmt = lambda v: fmt_num(v, decimals) + suffix  # noqa: E731
    for vals, colour, prefix in ((d.ucl, S.LIMIT, ""), (d.lcl, S.LIMIT, ""), (d.cl, S.CENTRE, "")):
        k = _last(vals)
        if k is not None and d.part[k] == last_part:
            right.append([Y(vals[k]), prefix + fmt(vals[k]), colour, False])  # type: ignore[arg-type]
    if tgt is not None:
        right.append([Y(tgt), "Target " + fmt(tgt), S.TARGET, True])
    right_w = max((text_width(r[1], _AXIS_SIZE, r[3]) for r in right), default=0.0)
    plot_right = W - max(10.0, right_w + 12)
    plot_left = 8 + max(text_width(t, _AXIS_SIZE) for t in tick_text) + 7

    # x scale
    plot_w = plot_right - plot_left
    span = ax.span
    pad = min(12.0, max(4.0, plot_w / (span + 1) / 2)) if n else 0.0
    dx = (plot_w - 2 * pad) / span if span > 0 else 0.0

    def X(p: float) -> float:
        return plot_left + pad + (p - ax.pos[0]) * dx if span > 0 else (plot_left + plot_right) / 2

    xs = [X(p) for p in ax.pos]
    vy = [Y(v) if v is not None else None for v in d.value]
    breaks = [ax.gap_before(i) for i in range(n)]
    half = min(8.0, dx * 0.4) if dx else 8.0

    uid = S.svg_id("spc", title, desc, n)
    o: list[str] = [S.svg_open(W, H, title=title, desc=desc, uid=uid, cls="jf-chart jf-spc")]
    o.append(f'<rect width="{f1(W)}" height="{f1(H)}" fill="#FFFFFF"/>')

    # title and caption
    if show_title:
        o.append(
            text_svg(
                8,
                17,
                fit(title, W - 16, _TITLE_SIZE, True),
                _TITLE_SIZE,
                bold=True,
                attrs=f' font-size="{_TITLE_SIZE}" fill="{S.INK}"',
            )
        )
    if has_caption:
        rw = text_width(cap_right, _AXIS_SIZE) if cap_right else 0.0
        if cap_right:
            cap_right = fit(cap_right, W - 16, _AXIS_SIZE)
            rw = text_width(cap_right, _AXIS_SIZE)
            o.append(
                text_svg(
                    W - 8,
                    33 - title_h,
                    cap_right,
                    _AXIS_SIZE,
                    anchor="end",
                    attrs=f' font-size="{_AXIS_SIZE}" fill="{S.MUTED}"',
                )
            )
        if caption_left:
            room = W - 16 - (rw + 16 if cap_right else 0)
            if room > 40:
                o.append(
                    f'<text x="8" y="{f1(33 - title_h)}" font-size="{_AXIS_SIZE}" fill="{S.MUTED}">'
                    f"{esc(fit(caption_left, room, _AXIS_SIZE))}</text>"
                )

    # grid and y labels
    grid = "".join(f"M{f1(plot_left)} {f1(Y(t))}H{f1(plot_right)}" for t in ticks[1:])
    o.append(f'<path class="grid" d="{grid}" stroke="{S.GRID}" stroke-width="1" fill="none"/>')
    o.append(f'<g font-size="{_AXIS_SIZE}" fill="{S.MUTED}">')
    for t, s in zip(ticks, tick_text, strict=True):
        o.append(text_svg(plot_left - 6, Y(t) + 3.4, s, _AXIS_SIZE, anchor="end"))
    o.append("</g>")

    # phase rules
    rules = [(xs[i - 1] + xs[i]) / 2 for i in range(1, n) if d.part[i] != d.part[i - 1]]
    if rules:
        rd = "".join(f"M{f1(xr)} {f1(plot_top - 4)}V{f1(plot_bottom)}" for xr in rules)
        o.append(f'<path class="phase" d="{rd}" stroke="#9A9A9A" stroke-width="1" stroke-dasharray="3 2"/>')

    # PDSA cycle guides
    ev_x = [X(p) for p, _ in placed]
    if ev_x:
        gd = "".join(f"M{f1(x)} {f1(plot_top)}V{f1(plot_bottom)}" for x in ev_x)
        o.append(
            f'<path class="pdsa-guide" d="{gd}" stroke="#BDBDBD" stroke-width="1" stroke-dasharray="1 2.5"/>'
        )

    # network median
    if med:
        md = _poly_path([X(p) for p, _ in med], [Y(v) for _, v in med], [False] * len(med))
        o.append(
            f'<path class="network-median" d="{md}" stroke="{S.NETWORK}" stroke-width="1.6" fill="none" '
            f'stroke-linejoin="round"/>'
        )

    # limits, centre line, target
    for vals, cls, style in (
        (d.ucl, "ucl", f'stroke="{S.LIMIT}" stroke-width="1.1" stroke-dasharray="5 3"'),
        (d.lcl, "lcl", f'stroke="{S.LIMIT}" stroke-width="1.1" stroke-dasharray="5 3"'),
        (d.cl, "cl", f'stroke="{S.CENTRE}" stroke-width="1.3"'),
    ):
        if any(v is not None for v in vals):
            path = _step_path(xs, [Y(v) if v is not None else None for v in vals], d.part, half)
            o.append(f'<path class="{cls}" d="{path}" fill="none" {style}/>')
    if tgt is not None and n:
        o.append(
            f'<path class="target" d="M{f1(xs[0])} {f1(Y(tgt))}H{f1(xs[-1])}" stroke="{S.TARGET}" '
            f'stroke-width="1.8" stroke-dasharray="2 2" fill="none"/>'
        )

    # shift / trend runs: a light band under the data line
    for i, j, colour in _band_runs(d):
        if j > i:
            band = "".join(f"{'M' if k == i else 'L'}{f1(xs[k])} {f1(vy[k])}" for k in range(i, j + 1))  # type: ignore[arg-type]
        else:
            band = f"M{f1(xs[i] - 0.1)} {f1(vy[i])}L{f1(xs[i] + 0.1)} {f1(vy[i])}"  # type: ignore[arg-type]
        o.append(
            f'<path class="run-band" d="{band}" stroke="{colour}" stroke-width="9" stroke-linecap="round" '
            f'stroke-linejoin="round" fill="none"/>'
        )

    # the data
    if any(v is not None for v in vy):
        o.append(
            f'<path class="data" d="{_poly_path(xs, vy, breaks)}" stroke="{S.DATA_LINE}" stroke-width="1.4" '
            f'fill="none" stroke-linejoin="round"/>'
        )
    o.append('<g class="markers">')
    merged: list[tuple[str, float, float, bool, bool]] = []
    for i in range(n):
        y = vy[i]
        if y is None:
            continue
        kind = d.ptype[i]
        below = d.cl[i] is not None and d.value[i] < d.cl[i]  # type: ignore[operator]
        if not tooltips:
            merged.append((kind, xs[i], y, d.excluded[i], below))
            continue
        tip = f"{ax.long[i]}: {fmt(d.value[i])}"  # type: ignore[arg-type]
        if kind != COMMON:
            tip += f" ({MARKERS[kind].legend.lower()})"
        o.append(marker_svg(kind, xs[i], y, hollow=d.excluded[i], below=below, tip=tip))
    if merged:
        o.append(merged_markers_svg(merged))
    o.append("</g>")

    # x axis
    o.append(
        f'<path class="x-axis" d="M{f1(plot_left)} {f1(plot_bottom)}H{f1(plot_right)}" stroke="{S.AXIS}" stroke-width="1"/>'
    )
    if two_row:  # months: a tick for every calendar month, labels on calendar boundaries
        slots, month_labels = month_slots(ax, dx if dx else plot_w, _AXIS_SIZE, _MAX_MONTH_LABELS)
        labelled = {p for p, _, _ in month_labels}
        tick_at = [(X(p), p in labelled) for p in slots]
        labels = [(X(p), short, year) for p, short, year in month_labels]
    else:
        shown = label_indices(ax, dx if dx else plot_w, _AXIS_SIZE) if n else []
        tick_at = [(xs[i], i in set(shown)) for i in range(n)]
        labels = [(xs[i], ax.short[i], ax.year[i]) for i in shown]
    ticks_d = "".join(f"M{f1(x)} {f1(plot_bottom)}v{3.5 if big else 2}" for x, big in tick_at)
    o.append(f'<path d="{ticks_d}" stroke="{S.AXIS}" stroke-width="1"/>')
    label_y = plot_bottom + badge_h + _AXIS_SIZE + 3
    o.append(f'<g font-size="{_AXIS_SIZE}" fill="{S.MUTED}">')
    for x, short, _ in labels:
        o.append(text_svg(x, label_y, short, _AXIS_SIZE, anchor="middle"))
    if two_row and labels:
        prev_year, prev_end = None, -1e9
        year_y = label_y + _AXIS_SIZE + 3
        for x, _, yr in labels:
            if yr == prev_year:
                continue
            s = str(yr)
            w = text_width(s, _AXIS_SIZE)
            if x - w / 2 > prev_end + 4:
                o.append(text_svg(x, year_y, s, _AXIS_SIZE, anchor="middle", bold=True))
                prev_end = x + w / 2
            prev_year = yr
    o.append("</g>")

    # PDSA badges under the axis, nudged apart when cycles fall in the same or adjacent months
    if placed:
        cy = plot_bottom + _BADGE_R + 3
        bx: list[float] = []
        for x in ev_x:
            bx.append(max(x, bx[-1] + 2 * _BADGE_R + 1) if bx else x)
        overflow = bx[-1] - (W - _BADGE_R - 2)
        if overflow > 0:
            bx = [b - overflow for b in bx]
            for k in range(len(bx) - 2, -1, -1):
                bx[k] = min(bx[k], bx[k + 1] - 2 * _BADGE_R - 1)
        if tooltips:
            for k, ((_, lab), x, b) in enumerate(zip(placed, ev_x, bx, strict=True), 1):
                lead = (
                    f'<path d="M{f1(x)} {f1(plot_bottom)}L{f1(b)} {f1(cy)}" stroke="{S.BADGE}" stroke-width="0.8"/>'
                    if abs(b - x) > 0.5
                    else ""
                )
                size = 8 if k < 10 else 7
                o.append(
                    f'<g class="pdsa">{lead}<circle cx="{f1(b)}" cy="{f1(cy)}" r="{_BADGE_R}" fill="{S.BADGE}"/>'
                    + text_svg(
                        b,
                        cy + 2.9,
                        str(k),
                        size,
                        anchor="middle",
                        bold=True,
                        attrs=f' font-size="{size}" fill="#FFFFFF"',
                    )
                    + f"<title>{esc(f'{k}. {lab}')}</title></g>"
                )
        else:  # one path for the leads, one for the discs, the numbers on top
            leads = "".join(
                f"M{f1(x)} {f1(plot_bottom)}L{f1(b)} {f1(cy)}"
                for x, b in zip(ev_x, bx, strict=True)
                if abs(b - x) > 0.5
            )
            if leads:
                o.append(f'<path d="{leads}" stroke="{S.BADGE}" stroke-width="0.8"/>')
            discs = "".join(_marker_d("circle", _BADGE_R, b, cy) for b in bx)
            o.append(f'<path class="pdsa-badges" d="{discs}" fill="{S.BADGE}"/>')
            o.append('<g class="pdsa-numbers" font-weight="bold" fill="#FFFFFF">')
            for k, b in enumerate(bx, 1):
                size = 8 if k < 10 else 7
                o.append(
                    text_svg(
                        b, cy + 2.9, str(k), size, anchor="middle", bold=True, attrs=f' font-size="{size}"'
                    )
                )
            o.append("</g>")

    # right-hand labels
    if right:
        _spread(right, _AXIS_SIZE + 1.5, plot_top, plot_bottom)
        o.append(f'<g class="line-labels" font-size="{_AXIS_SIZE}">')
        for y, text, colour, bold in right:
            o.append(
                text_svg(plot_right + 6, y + 3.4, text, _AXIS_SIZE, bold=bold, attrs=f' fill="{colour}"')
            )
        o.append("</g>")

    # legend
    y = label_y + (_AXIS_SIZE + 3 if two_row else 0) + 15
    if legend_rows:
        o.extend(_legend_group(legend_rows, y))
        y += 15 * len(legend_rows)

    # PDSA key
    if key_rows:
        y += 1
        o.append(f'<g class="pdsa-key" font-size="{_KEY_SIZE}" fill="{S.INK}">')
        for row in key_rows:
            for x, (k, text, full) in row:
                o.append(
                    f'<g><circle cx="{f1(x + 5.5)}" cy="{f1(y - 3.2)}" r="5.5" fill="{S.BADGE}"/>'
                    + text_svg(
                        x + 5.5,
                        y - 0.6,
                        str(k),
                        7,
                        anchor="middle",
                        bold=True,
                        attrs=' font-size="7" fill="#FFFFFF"',
                    )
                    + text_svg(x + 15, y, text, _KEY_SIZE)
                    + f"<title>{esc(full)}</title></g>"
                )
            y += 13
        o.append("</g>")

    o.append("</svg>")
    return "".join(o)
