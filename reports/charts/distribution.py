"""The network's progress-score distribution per month: box-and-whisker (default) or count
bubbles (``style="dots"``, good for a discrete 0.5-step scale), with an optional highlighted
series (e.g. this team) and target line."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from . import svg as S
from ._legend import draw_legend, legend_rows
from .svg import clean, esc, f1, fit, fmt_num, text_svg, text_width, with_unit
from .xaxis import build_axis, label_indices

__all__ = ["distribution_svg", "quantile"]

_AXIS_SIZE = 9.5


def quantile(sorted_vals: list[float], q: float) -> float:
    """Linear-interpolation quantile (R type 7, numpy's default) of sorted values."""
    n = len(sorted_vals)
    if n == 1:
        return sorted_vals[0]
    h = (n - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, n - 1)
    return sorted_vals[lo] + (h - lo) * (sorted_vals[hi] - sorted_vals[lo])


def _clean(vals: Sequence[float | None] | None) -> list[float]:
    return sorted(float(v) for v in vals or [] if v is not None and math.isfinite(v))


def distribution_svg(
    periods: Sequence[Any],
    values_by_period: Mapping[Any, Sequence[float | None]] | Sequence[Sequence[float | None]],
    *,
    title: str,
    unit: str = "",
    y_range: tuple[float, float] | None = (0.5, 5.0),
    style: str = "box",
    highlight: Sequence[float | None] | None = None,
    highlight_label: str = "This team",
    target: float | None = None,
    width: int = 640,
    height: int = 240,
) -> str:
    """Distribution of values per period. ``values_by_period`` maps each period to its values
    (or is a list aligned with ``periods``). ``y_range`` fixes the axis (default: the IHI
    progress scale 0.5-5.0); ``None`` fits the data."""
    W, H = float(width), float(height)
    periods = list(periods)
    if isinstance(values_by_period, Mapping):
        groups = [_clean(values_by_period.get(p)) for p in periods]
    else:
        groups = [_clean(v) for v in values_by_period]
        if len(groups) != len(periods):
            raise ValueError("distribution_svg: one list of values per period")
    hl = [float(v) if v is not None and math.isfinite(v) else None for v in highlight] if highlight else []
    title, unit, highlight_label = clean(title), clean(unit), clean(highlight_label)
    ax = build_axis(periods)
    n = len(periods)
    stats = []
    for g in groups:
        if not g:
            stats.append(None)
            continue
        q1, med, q3 = quantile(g, 0.25), quantile(g, 0.5), quantile(g, 0.75)
        fence_lo, fence_hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
        inside = [v for v in g if fence_lo <= v <= fence_hi]
        stats.append((q1, med, q3, inside[0], inside[-1], [v for v in g if v < fence_lo or v > fence_hi]))

    every = [v for g in groups for v in g] + [v for v in hl if v is not None]
    if target is not None:
        every.append(target)
    decimals = S.value_decimals(every)

    def num(v: float) -> str:
        return with_unit(fmt_num(v, decimals), unit if unit == "%" else "")

    # text alternative
    desc = [title + (f", {n} months to {ax.long[-1]}." if ax.mode == "month" and n else f", {n} periods.")]
    last = next((k for k in range(n - 1, -1, -1) if stats[k] is not None), None)
    if last is not None:
        q1, med, q3 = stats[last][:3]  # type: ignore[index]
        desc.append(
            f"{ax.long[last]}: median {num(med)}, middle half {num(q1)} to {num(q3)}, {len(groups[last])} values."
        )
        first = next(k for k in range(n) if stats[k] is not None)
        if first != last:
            desc.append(f"{ax.long[first]}: median {num(stats[first][1])}.")  # type: ignore[index]
    else:
        desc.append("No data.")
    j = next((k for k in range(len(hl) - 1, -1, -1) if hl[k] is not None), None)
    if j is not None:
        desc.append(f"{highlight_label} in {ax.long[min(j, n - 1)]}: {num(hl[j])}.")  # type: ignore[arg-type]
    if target is not None:
        desc.append(f"Target {num(target)}.")
    alt = " ".join(desc)

    # legend
    labels: list[str] = []
    kinds: list[str] = []
    if any(s is not None for s in stats):
        if style == "dots":
            labels += ["Share of teams at each score", "Median"]
            kinds += ["bubble", "median"]
        else:
            labels += ["Middle half", "Median", "Range (outliers as rings)"]
            kinds += ["box", "median", "whisker"]
    if j is not None:
        labels.append(highlight_label)
        kinds.append("highlight")
    if target is not None:
        labels.append("Target")
        kinds.append("target")
    rows = legend_rows(labels, 8, W - 8, 16)

    # layout
    two_row = ax.mode == "month"
    plot_top = 44.0 if unit and unit != "%" else 30.0
    bottom = (_AXIS_SIZE + 4) * (2 if two_row else 1) + 6 + 15 * len(rows) + 4
    H = max(H, plot_top + 80 + bottom)
    plot_bottom = H - bottom
    max_ticks = max(4, min(11, int((plot_bottom - plot_top) // 15)))
    if y_range is not None:
        # a fixed scale (e.g. 0.5..5.0): ticks inside it, half a step of room at both ends
        lo, hi = sorted(y_range)
        ticks = [t for t in S.nice_ticks(lo, hi, max_ticks) if lo - 1e-9 <= t <= hi + 1e-9] or [lo, hi]
        step = ticks[1] - ticks[0] if len(ticks) > 1 else (hi - lo or 1.0)
        t0, t1 = lo - 0.3 * step, hi + 0.3 * step
    else:
        ticks = S.nice_ticks(min(every, default=0.0), max(every, default=1.0), max_ticks)
        step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
        t0, t1 = ticks[0], ticks[-1]
    tick_dec = S.step_decimals(step)
    suffix = unit if unit == "%" else ""
    tick_text = [fmt_num(t, tick_dec) + suffix for t in ticks]
    sy = (plot_bottom - plot_top) / (t1 - t0) if t1 > t0 else 1.0

    def Y(v: float) -> float:
        return plot_bottom - (min(max(v, t0), t1) - t0) * sy

    plot_left = 8 + max(text_width(t, _AXIS_SIZE) for t in tick_text) + 7
    right_label = f"Target {num(target)}" if target is not None else ""
    plot_right = W - 8 - (text_width(right_label, _AXIS_SIZE, True) + 6 if right_label else 0)
    span = ax.span
    slot = (plot_right - plot_left) / (span + 1) if n else 1.0

    def X(p: float) -> float:
        return plot_left + (p - (ax.pos[0] if n else 0) + 0.5) * slot

    xs = [X(p) for p in ax.pos]
    box_w = max(3.0, min(slot * 0.55, 22.0))

    uid = S.svg_id("dist", title, alt, style)
    o = [S.svg_open(W, H, title=title, desc=alt, uid=uid, cls="jf-chart jf-distribution")]
    o.append(f'<rect width="{f1(W)}" height="{f1(H)}" fill="#FFFFFF"/>')
    o.append(
        f'<text x="8" y="17" font-size="13" font-weight="bold" fill="{S.INK}">{esc(fit(title, W - 16, 13, True))}</text>'
    )
    if unit and unit != "%":
        o.append(
            f'<text x="8" y="33" font-size="{_AXIS_SIZE}" fill="{S.MUTED}">{esc(fit(unit, W - 16, _AXIS_SIZE))}</text>'
        )
    grid = "".join(f"M{f1(plot_left)} {f1(Y(t))}H{f1(plot_right)}" for t in ticks if Y(t) < plot_bottom - 0.5)
    o.append(f'<path class="grid" d="{grid}" stroke="{S.GRID}" stroke-width="1"/>')
    o.append(f'<g font-size="{_AXIS_SIZE}" fill="{S.MUTED}">')
    for t, s in zip(ticks, tick_text, strict=True):
        o.append(text_svg(plot_left - 6, Y(t) + 3.4, s, _AXIS_SIZE, anchor="end"))
    o.append("</g>")
    if target is not None:
        o.append(
            f'<path class="target" d="M{f1(plot_left)} {f1(Y(target))}H{f1(plot_right)}" stroke="{S.TARGET}" '
            f'stroke-width="1.8" stroke-dasharray="2 2"/>'
            f'<text x="{f1(plot_right + 6)}" y="{f1(Y(target) + 3.4)}" font-size="{_AXIS_SIZE}" font-weight="bold" '
            f'fill="{S.TARGET}">{esc(right_label)}</text>'
        )

    o.append('<g class="distribution">')
    for k, st in enumerate(stats):
        if st is None:
            continue
        x = xs[k]
        q1, med, q3, wlo, whi, outliers = st
        tip = f"{ax.long[k]}: median {num(med)}, middle half {num(q1)} to {num(q3)}, {len(groups[k])} values"
        if style == "dots":
            counts = Counter(round(v, 6) for v in groups[k])
            step = min((b - a for a, b in zip(sorted(counts), sorted(counts)[1:], strict=False)), default=1.0)
            r_max = max(1.5, min(slot * 0.46, step * sy * 0.5, 11.0))
            top = max(counts.values())
            for v, c in sorted(counts.items()):
                r = max(1.0, r_max * math.sqrt(c / top))
                o.append(
                    f'<circle cx="{f1(x)}" cy="{f1(Y(v))}" r="{f1(r)}" fill="{S.IMPROVEMENT_LIGHT}" '
                    f'stroke="{S.IMPROVEMENT}" stroke-width="0.8"/>'
                )
            o.append(
                f'<g><title>{esc(tip)}</title><path class="median" d="M{f1(x - r_max - 2)} {f1(Y(med))}h{f1(2 * r_max + 4)}" '
                f'stroke="{S.INK}" stroke-width="2.2"/></g>'
            )
        else:
            o.append(
                f"<g><title>{esc(tip)}</title>"
                f'<path d="M{f1(x)} {f1(Y(whi))}V{f1(Y(q3))}M{f1(x)} {f1(Y(q1))}V{f1(Y(wlo))}'
                f'M{f1(x - box_w / 4)} {f1(Y(whi))}h{f1(box_w / 2)}M{f1(x - box_w / 4)} {f1(Y(wlo))}h{f1(box_w / 2)}" '
                f'stroke="{S.IMPROVEMENT}" stroke-width="1"/>'
                f'<rect class="box" x="{f1(x - box_w / 2)}" y="{f1(Y(q3))}" width="{f1(box_w)}" '
                f'height="{f1(max(Y(q1) - Y(q3), 0.8))}" fill="{S.IMPROVEMENT_LIGHT}" stroke="{S.IMPROVEMENT}" stroke-width="1"/>'
                f'<path class="median" d="M{f1(x - box_w / 2)} {f1(Y(med))}h{f1(box_w)}" stroke="{S.INK}" stroke-width="2.2"/>'
            )
            for v in outliers:
                o.append(
                    f'<circle cx="{f1(x)}" cy="{f1(Y(v))}" r="1.8" fill="#FFFFFF" stroke="{S.IMPROVEMENT}" stroke-width="0.9"/>'
                )
            o.append("</g>")
    o.append("</g>")

    if j is not None:
        pts = [(xs[k], Y(v)) for k, v in enumerate(hl[:n]) if v is not None]
        d, pen = [], False
        for k, v in enumerate(hl[:n]):
            if v is None:
                pen = False
                continue
            d.append(f"{'L' if pen else 'M'}{f1(xs[k])} {f1(Y(v))}")
            pen = True
        o.append(
            f'<path class="highlight" d="{"".join(d)}" stroke="{S.INK}" stroke-width="1.5" fill="none"/>'
        )
        o.extend(
            f'<circle cx="{f1(px)}" cy="{f1(py)}" r="3.4" fill="{S.INK}" stroke="#FFFFFF" stroke-width="1"/>'
            for px, py in pts
        )

    o.append(
        f'<path d="M{f1(plot_left)} {f1(plot_bottom)}H{f1(plot_right)}" stroke="{S.AXIS}" stroke-width="1"/>'
    )
    shown = label_indices(ax, slot, _AXIS_SIZE) if n else []
    label_y = plot_bottom + _AXIS_SIZE + 4
    o.append(f'<g font-size="{_AXIS_SIZE}" fill="{S.MUTED}">')
    for i in shown:
        o.append(text_svg(xs[i], label_y, ax.short[i], _AXIS_SIZE, anchor="middle"))
    if two_row:
        prev_year, prev_end = None, -1e9
        for i in shown:
            if ax.year[i] == prev_year:
                continue
            s = str(ax.year[i])
            w = text_width(s, _AXIS_SIZE)
            if xs[i] - w / 2 > prev_end + 4:
                o.append(text_svg(xs[i], label_y + _AXIS_SIZE + 3, s, _AXIS_SIZE, anchor="middle", bold=True))
                prev_end = xs[i] + w / 2
            prev_year = ax.year[i]
    o.append("</g>")

    def swatch(i: int, x: float, y: float) -> str:
        kind = kinds[i]
        if kind == "box":
            return f'<rect x="{f1(x + 2)}" y="{f1(y - 5)}" width="12" height="10" fill="{S.IMPROVEMENT_LIGHT}" stroke="{S.IMPROVEMENT}"/>'
        if kind == "bubble":
            return f'<circle cx="{f1(x + 8)}" cy="{f1(y)}" r="5" fill="{S.IMPROVEMENT_LIGHT}" stroke="{S.IMPROVEMENT}" stroke-width="0.8"/>'
        if kind == "median":
            return f'<path d="M{f1(x + 1)} {f1(y)}h14" stroke="{S.INK}" stroke-width="2.2"/>'
        if kind == "whisker":
            return (
                f'<path d="M{f1(x + 8)} {f1(y - 6)}v12M{f1(x + 5)} {f1(y - 6)}h6M{f1(x + 5)} {f1(y + 6)}h6" '
                f'stroke="{S.IMPROVEMENT}"/>'
            )
        if kind == "highlight":
            return (
                f'<path d="M{f1(x)} {f1(y)}h16" stroke="{S.INK}" stroke-width="1.5"/>'
                f'<circle cx="{f1(x + 8)}" cy="{f1(y)}" r="3.4" fill="{S.INK}" stroke="#FFFFFF" stroke-width="1"/>'
            )
        return (
            f'<path d="M{f1(x)} {f1(y)}h16" stroke="{S.TARGET}" stroke-width="1.8" stroke-dasharray="2 2"/>'
        )

    if rows:
        legend_svg, _ = draw_legend(rows, label_y + (_AXIS_SIZE + 3 if two_row else 0) + 15, swatch, 16)
        o.append(legend_svg)
    o.append("</svg>")
    return "".join(o)
