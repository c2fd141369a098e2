"""Bar charts (PDSA cycles by Joy in Work component and decision) and, re-exported from
``distribution``, the network's progress-score distribution over time.

Series are told apart by lightness and, for every other series, a hatch drawn as plain
lines (no ``<pattern>``/``url()``), so they stay distinct in greyscale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from . import svg as S
from ._legend import draw_legend, legend_rows
from .distribution import distribution_svg
from .spec import BarChart, DistributionChart
from .svg import clean, esc, f1, fit, fmt_num, text_svg, text_width, wrap

__all__ = [
    "SERIES_STYLES",
    "bar_chart_svg",
    "distribution_svg",
    "draw_bar_chart",
    "draw_distribution",
    "series_style",
]

# name -> (fill, hatched). PDSA decisions have fixed styles; greyscale luma 87/158/213/119+hatch.
SERIES_STYLES: dict[str, tuple[str, bool]] = {
    "adopt": ("#0072B2", False),
    "adapt": ("#56B4E9", False),
    "continue": ("#F0E442", False),
    "abandon": ("#D55E00", True),
}
_CYCLE: tuple[tuple[str, bool], ...] = (
    ("#0072B2", False),
    ("#E69F00", True),
    ("#56B4E9", False),
    ("#009E73", True),
    ("#F0E442", False),
    ("#CC79A7", True),
    ("#D55E00", False),
    ("#6E6E6E", True),
)
_LABEL_SIZE = 9.5
_VALUE_SIZE = 8.5


def series_style(name: str, index: int) -> tuple[str, bool]:
    """(fill, hatched) of a series: fixed for the PDSA decisions, else from a lightness-spread cycle."""
    return SERIES_STYLES.get(name.strip().lower(), _CYCLE[index % len(_CYCLE)])


def _rect(x: float, y: float, w: float, h: float, fill: str, hatched: bool, tip: str = "") -> str:
    if w <= 0 or h <= 0:
        return ""
    edge = ' stroke="#6E6E6E" stroke-width="0.6"' if S.luminance(fill) > 185 else ""
    out = f'<rect x="{f1(x)}" y="{f1(y)}" width="{f1(w)}" height="{f1(h)}" fill="{fill}"{edge}/>'
    if hatched:
        out += f'<path d="{S.hatch_path(x, y, w, h, 4)}" stroke="#FFFFFF" stroke-width="1.3" opacity="0.85"/>'
    if tip:
        out = f"<g><title>{esc(tip)}</title>{out}</g>"
    return out


def _swatch(styles: list[tuple[str, bool]]):
    def draw(i: int, x: float, y: float) -> str:
        fill, hatched = styles[i]
        return _rect(x, y - 5, 14, 10, fill, hatched)

    return draw


def _clean(v: float | None) -> float:
    return float(v) if v is not None and math.isfinite(v) and v > 0 else 0.0


def _bar_desc(title: str, categories: list[str], names: list[str], data: list[list[float]], unit: str) -> str:
    def n(v: float) -> str:
        return fmt_num(v, 0 if float(v).is_integer() else 1)

    totals = [sum(col) for col in zip(*data, strict=True)] if data else []
    grand = sum(totals)
    parts = [f"{title}."]
    if len(names) > 1:
        by_series = ", ".join(f"{name} {n(sum(vals))}" for name, vals in zip(names, data, strict=True))
        parts.append(f"{n(grand)}{' ' + unit if unit else ''} in total: {by_series}.")
    if categories:
        items = []
        for k, cat in enumerate(categories):
            inner = ", ".join(f"{name} {n(data[s][k])}" for s, name in enumerate(names) if data[s][k])
            items.append(f"{cat} {n(totals[k])}" + (f" ({inner})" if inner and len(names) > 1 else ""))
        parts.append("By category: " + "; ".join(items) + ".")
    return " ".join(parts)


def bar_chart_svg(
    categories: list[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    stacked: bool = False,
    horizontal: bool = True,
    width: int = 640,
    height: int | None = None,
    unit: str = "",
    value_labels: bool = True,
    tooltips: bool = True,
) -> str:
    """Bars per category, one series per key of ``series`` (stacked or side by side).

    Horizontal bars put the (wrapped) category names on the left; vertical columns put them
    underneath. ``height`` defaults to what the categories need. Counts are printed inside
    segments wide enough to hold them and totals at the bar ends. ``tooltips=False`` leaves
    out the per-segment ``<title>`` (print has no use for it; the description lists every count).
    """
    W = float(width)
    cats = [clean(c) for c in categories]
    names = [clean(k) for k in series]
    data = [[_clean(v) for v in vals] for vals in series.values()]
    for vals in data:
        if len(vals) != len(cats):
            raise ValueError("bar_chart_svg: every series needs one value per category")
    styles = [series_style(name, i) for i, name in enumerate(names)]
    title = clean(title)
    desc = _bar_desc(title, cats, names, data, unit)
    nc, ns = len(cats), max(1, len(names))
    totals = [sum(col) for col in zip(*data, strict=True)] if data and nc else [0.0] * nc
    vmax = max(totals if stacked else [v for vals in data for v in vals] or [0.0], default=0.0)
    ticks = S.nice_ticks(0.0, vmax if vmax > 0 else 1.0, 6)
    tmax = ticks[-1]
    tick_dec = S.step_decimals(ticks[1] - ticks[0])

    uid = S.svg_id("bars", title, desc, stacked, horizontal)

    def tip(k: int, s: int, v: float) -> str:
        return f"{cats[k]}: {names[s]} {v:g}" if tooltips else ""

    rows = legend_rows(names, 8, W - 8) if len(names) > 1 else []
    top = 26 + (15 * len(rows) + 4 if rows else 0) + 6

    o: list[str] = []
    if horizontal:
        label_w = min(max((text_width(c, _LABEL_SIZE) for c in cats), default=0), W * 0.36)
        wrapped = [wrap(c, label_w, _LABEL_SIZE, 2) for c in cats]
        label_w = max((text_width(line, _LABEL_SIZE) for ls in wrapped for line in ls), default=0)
        bar_h = 13.0 if stacked else max(6.0, min(11.0, 26.0 / ns))
        group_h = bar_h if stacked else bar_h * ns
        row_h = max(group_h + 8, max((len(ls) for ls in wrapped), default=1) * 11 + 6)
        needed = top + nc * row_h + 26 + (12 if unit else 0)
        if height is not None and height > needed and nc:
            row_h = min(44.0, row_h + (height - needed) / nc)
        H = max(float(height or 0), top + nc * row_h + 26 + (12 if unit else 0))
        plot_left = 8 + label_w + 8
        end_w = (
            text_width(fmt_num(vmax, 0 if float(vmax).is_integer() else 1), _VALUE_SIZE) + 8
            if value_labels
            else 0
        )
        plot_right = W - 8 - max(end_w, text_width(fmt_num(tmax, tick_dec), _LABEL_SIZE) / 2)
        plot_bottom = top + nc * row_h
        sx = (plot_right - plot_left) / tmax

        o.append(S.svg_open(W, H, title=title, desc=desc, uid=uid, cls="jf-chart jf-bars"))
        o.append(f'<rect width="{f1(W)}" height="{f1(H)}" fill="#FFFFFF"/>')
        grid = "".join(f"M{f1(plot_left + t * sx)} {f1(top)}V{f1(plot_bottom)}" for t in ticks[1:])
        o.append(f'<path class="grid" d="{grid}" stroke="{S.GRID}" stroke-width="1"/>')
        o.append(f'<g font-size="{_LABEL_SIZE}" fill="{S.MUTED}">')
        for t in ticks:
            o.append(
                text_svg(
                    plot_left + t * sx, plot_bottom + 13, fmt_num(t, tick_dec), _LABEL_SIZE, anchor="middle"
                )
            )
        o.append("</g>")
        if unit:
            o.append(
                text_svg(
                    plot_right,
                    plot_bottom + 26,
                    fit(unit, plot_right - plot_left, _LABEL_SIZE),
                    _LABEL_SIZE,
                    anchor="end",
                    attrs=f' font-size="{_LABEL_SIZE}" fill="{S.MUTED}"',
                )
            )
        o.append(f'<g font-size="{_LABEL_SIZE}" fill="{S.INK}">')
        for k, lines in enumerate(wrapped):
            cy = top + (k + 0.5) * row_h
            y0 = cy + 3.4 - (len(lines) - 1) * 5.5
            for j, line in enumerate(lines):
                o.append(text_svg(plot_left - 8, y0 + j * 11, line, _LABEL_SIZE, anchor="end"))
        o.append("</g>")
        o.append('<g class="bars">')
        values_svg: list[str] = []
        for k in range(nc):
            cy = top + (k + 0.5) * row_h
            if stacked:
                x = plot_left
                for s in range(len(names)):
                    v = data[s][k]
                    w = v * sx
                    fill, hatched = styles[s]
                    o.append(_rect(x, cy - bar_h / 2, w, bar_h, fill, hatched, tip(k, s, v)))
                    label = fmt_num(v, 0 if v.is_integer() else 1)
                    if value_labels and v and w >= text_width(label, _VALUE_SIZE) + 5 and not hatched:
                        colour = "#FFFFFF" if S.luminance(fill) < 140 else S.INK
                        values_svg.append(
                            text_svg(
                                x + w / 2,
                                cy + 3,
                                label,
                                _VALUE_SIZE,
                                anchor="middle",
                                attrs=f' fill="{colour}"',
                            )
                        )
                    x += w
                if value_labels and totals[k]:
                    t = totals[k]
                    values_svg.append(
                        f'<text x="{f1(x + 4)}" y="{f1(cy + 3)}" fill="{S.INK}" font-weight="bold">'
                        f"{fmt_num(t, 0 if t.is_integer() else 1)}</text>"
                    )
            else:
                y = cy - group_h / 2
                for s in range(len(names)):
                    v = data[s][k]
                    fill, hatched = styles[s]
                    o.append(
                        _rect(
                            plot_left,
                            y + 0.5,
                            v * sx,
                            bar_h - 1,
                            fill,
                            hatched,
                            tip(k, s, v),
                        )
                    )
                    if value_labels and v:
                        values_svg.append(
                            f'<text x="{f1(plot_left + v * sx + 3)}" y="{f1(y + bar_h / 2 + 3)}" fill="{S.INK}">'
                            f"{fmt_num(v, 0 if v.is_integer() else 1)}</text>"
                        )
                    y += bar_h
        o.append("</g>")
        o.append(
            f'<path d="M{f1(plot_left)} {f1(top - 2)}V{f1(plot_bottom)}" stroke="{S.AXIS}" stroke-width="1"/>'
        )
        if values_svg:
            o.append(f'<g class="values" font-size="{_VALUE_SIZE}">{"".join(values_svg)}</g>')
    else:
        tick_text = [fmt_num(t, tick_dec) for t in ticks]
        plot_left = 8 + max(text_width(t, _LABEL_SIZE) for t in tick_text) + 7
        plot_right = W - 8
        slot = (plot_right - plot_left) / max(nc, 1)
        wrapped = [wrap(c, slot - 4, _LABEL_SIZE - 0.5, 2) for c in cats]
        label_lines = max((len(ls) for ls in wrapped), default=1)
        H = float(height or 240)
        plot_top = top + 8
        plot_bottom = H - (label_lines * 11 + 10) - (12 if unit else 0)
        if plot_bottom - plot_top < 80:
            plot_bottom = plot_top + 80
            H = plot_bottom + label_lines * 11 + 10 + (12 if unit else 0)
        sy = (plot_bottom - plot_top) / tmax
        col_w = min(slot * 0.7, 44.0 if stacked else 20.0 * ns)
        bar_w = col_w if stacked else col_w / ns

        o.append(S.svg_open(W, H, title=title, desc=desc, uid=uid, cls="jf-chart jf-bars"))
        o.append(f'<rect width="{f1(W)}" height="{f1(H)}" fill="#FFFFFF"/>')
        grid = "".join(f"M{f1(plot_left)} {f1(plot_bottom - t * sy)}H{f1(plot_right)}" for t in ticks[1:])
        o.append(f'<path class="grid" d="{grid}" stroke="{S.GRID}" stroke-width="1"/>')
        o.append(f'<g font-size="{_LABEL_SIZE}" fill="{S.MUTED}">')
        for t, s in zip(ticks, tick_text, strict=True):
            o.append(text_svg(plot_left - 6, plot_bottom - t * sy + 3.4, s, _LABEL_SIZE, anchor="end"))
        o.append("</g>")
        if unit:
            o.append(
                f'<text x="8" y="{f1(H - 4)}" font-size="{_LABEL_SIZE}" fill="{S.MUTED}">'
                f"{esc(fit(unit, W - 16, _LABEL_SIZE))}</text>"
            )
        o.append(f'<g font-size="{_LABEL_SIZE - 0.5}" fill="{S.INK}">')
        for k, lines in enumerate(wrapped):
            cx = plot_left + (k + 0.5) * slot
            for j, line in enumerate(lines):
                o.append(text_svg(cx, plot_bottom + 13 + j * 11, line, _LABEL_SIZE - 0.5, anchor="middle"))
        o.append("</g>")
        o.append('<g class="bars">')
        values_svg = []
        for k in range(nc):
            cx = plot_left + (k + 0.5) * slot
            if stacked:
                y = plot_bottom
                for s in range(len(names)):
                    v = data[s][k]
                    h = v * sy
                    fill, hatched = styles[s]
                    o.append(_rect(cx - col_w / 2, y - h, col_w, h, fill, hatched, tip(k, s, v)))
                    y -= h
                if value_labels and totals[k]:
                    t = totals[k]
                    values_svg.append(
                        text_svg(
                            cx,
                            y - 3,
                            fmt_num(t, 0 if t.is_integer() else 1),
                            _VALUE_SIZE,
                            anchor="middle",
                            bold=True,
                        )
                    )
            else:
                x = cx - col_w / 2
                for s in range(len(names)):
                    v = data[s][k]
                    fill, hatched = styles[s]
                    o.append(
                        _rect(
                            x + 0.5,
                            plot_bottom - v * sy,
                            bar_w - 1,
                            v * sy,
                            fill,
                            hatched,
                            tip(k, s, v),
                        )
                    )
                    if value_labels and v and bar_w >= text_width(fmt_num(v, 0), _VALUE_SIZE) + 1:
                        values_svg.append(
                            text_svg(
                                x + bar_w / 2,
                                plot_bottom - v * sy - 3,
                                fmt_num(v, 0 if v.is_integer() else 1),
                                _VALUE_SIZE,
                                anchor="middle",
                            )
                        )
                    x += bar_w
        o.append("</g>")
        o.append(
            f'<path d="M{f1(plot_left)} {f1(plot_bottom)}H{f1(plot_right)}" stroke="{S.AXIS}" stroke-width="1"/>'
        )
        if values_svg:
            o.append(f'<g class="values" font-size="{_VALUE_SIZE}" fill="{S.INK}">{"".join(values_svg)}</g>')

    o.insert(
        2,
        f'<text x="8" y="17" font-size="13" font-weight="bold" fill="{S.INK}">{esc(fit(title, W - 16, 13, True))}</text>',
    )
    if rows:
        legend_svg, _ = draw_legend(rows, 36, _swatch(styles))
        o.append(legend_svg)
    o.append("</svg>")
    return "".join(o)


def draw_bar_chart(spec: BarChart) -> str:
    """The bar chart ``spec`` declares, as an SVG string."""
    return bar_chart_svg(
        list(spec.categories),
        spec.series,
        title=spec.title,
        stacked=spec.stacked,
        width=spec.width,
        tooltips=spec.tooltips,
    )


def draw_distribution(spec: DistributionChart) -> str:
    """The distribution chart ``spec`` declares, as an SVG string."""
    return distribution_svg(list(spec.periods), [list(v) for v in spec.values], title=spec.title)
