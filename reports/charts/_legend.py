"""Legend layout shared by the bar and distribution charts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .svg import esc, f1, text_width

LEGEND_SIZE = 9.5


def flow(items: list[tuple[float, Any]], x0: float, x1: float, gap: float) -> list[list[tuple[float, Any]]]:
    """Lay items of the given widths out left to right, wrapping at ``x1``; rows of (x, item)."""
    rows: list[list[tuple[float, Any]]] = [[]]
    x = x0
    for w, item in items:
        if rows[-1] and x + w > x1:
            rows.append([])
            x = x0
        rows[-1].append((x, item))
        x += w + gap
    return rows if rows[0] else []


def legend_rows(
    labels: list[str], x0: float, x1: float, swatch_w: float = 14
) -> list[list[tuple[float, Any]]]:
    return flow(
        [(swatch_w + 5 + text_width(lab, LEGEND_SIZE), (i, lab)) for i, lab in enumerate(labels)], x0, x1, 14
    )


def draw_legend(
    rows: list[list[tuple[float, Any]]],
    y: float,
    swatch: Callable[[int, float, float], str],
    swatch_w: float = 14,
    fill: str = "#1F1F1F",
) -> tuple[str, float]:
    """The legend as SVG (baseline of the first row at ``y``) and the y after the last row."""
    out = [f'<g class="legend" font-size="{LEGEND_SIZE}" fill="{fill}">']
    for row in rows:
        for x, (i, lab) in row:
            out.append(swatch(i, x, y - 3.3))
            out.append(f'<text x="{f1(x + swatch_w + 5)}" y="{f1(y)}">{esc(lab)}</text>')
        y += 15
    out.append("</g>")
    return "".join(out), y
