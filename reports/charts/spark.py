"""Sparklines: a tiny trend line for the at-a-glance table."""

from __future__ import annotations

import math

from . import svg as S
from .svg import f1

__all__ = ["sparkline_svg"]


def sparkline_svg(
    values: list[float | None],
    *,
    width: int = 90,
    height: int = 22,
    highlight_last: bool = True,
    label: str | None = None,
    decimals: int | None = None,
) -> str:
    """A ``width`` x ``height`` px trend line; ``None`` values leave a gap.

    ``label`` is the accessible name (default: "Trend of N values, latest V"); the latest
    value is marked with a dot when ``highlight_last`` is set.
    """
    vals = [float(v) if v is not None and math.isfinite(v) else None for v in values]
    finite = [v for v in vals if v is not None]
    W, H = float(width), float(height)
    pad = 3.0 if highlight_last else 1.5
    if decimals is None:
        decimals = S.value_decimals(finite)
    if label is not None:
        label = S.clean(label)
    elif finite:
        last = next(v for v in reversed(vals) if v is not None)
        label = f"Trend of {len(vals)} values, latest {S.fmt_num(last, decimals)}"
    else:
        label = "No data"
    uid = S.svg_id("spark", label, *vals)
    o = [S.svg_open(W, H, title=label, desc=None, uid=uid, cls="jf-spark")]
    if finite:
        lo, hi = min(finite), max(finite)
        if hi - lo < 1e-12:
            lo, hi = lo - 1, hi + 1
        n = len(vals)
        dx = (W - 2 * pad) / (n - 1) if n > 1 else 0.0

        def X(i: int) -> float:
            return pad + i * dx if n > 1 else W / 2

        def Y(v: float) -> float:
            return H - pad - (v - lo) * (H - 2 * pad) / (hi - lo)

        parts: list[str] = []
        pen = False
        for i, v in enumerate(vals):
            if v is None:
                pen = False
                continue
            parts.append(f"{'L' if pen else 'M'}{f1(X(i))} {f1(Y(v))}")
            pen = True
        # isolated points get a dot so that they do not vanish
        dots = [
            i
            for i, v in enumerate(vals)
            if v is not None
            and (i == 0 or vals[i - 1] is None)
            and (i == n - 1 or vals[i + 1] is None)
            and not (highlight_last and i == n - 1)
        ]
        o.append(
            f'<path d="{"".join(parts)}" fill="none" stroke="{S.DATA_LINE}" stroke-width="1.2" '
            f'stroke-linejoin="round" stroke-linecap="round"/>'
        )
        for i in dots:
            o.append(f'<circle cx="{f1(X(i))}" cy="{f1(Y(vals[i]))}" r="1.2" fill="{S.DATA_LINE}"/>')  # type: ignore[arg-type]
        if highlight_last and vals[-1] is not None:
            o.append(
                f'<circle class="spark-last" cx="{f1(X(n - 1))}" cy="{f1(Y(vals[-1]))}" r="2.3" '
                f'fill="{S.IMPROVEMENT}"/>'
            )
    else:
        o.append(
            f'<path d="M{f1(pad)} {f1(H / 2)}H{f1(W - pad)}" stroke="{S.GRID}" stroke-width="1" '
            f'stroke-dasharray="2 2"/>'
        )
    o.append("</svg>")
    return "".join(o)
