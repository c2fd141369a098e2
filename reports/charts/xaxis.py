"""The time axis: what the x values are (months, dates, numbers, categories), where each point
sits, how labels are abbreviated and thinned, and where an arbitrary x (a PDSA cycle's date,
a network-median point) falls on the axis."""

from __future__ import annotations

import bisect
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from .svg import text_width

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DATE_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})(?:-(\d{1,2}))?")


def _as_date(x: Any) -> tuple[int, int, int | None] | None:
    """(year, month, day or None) for dates, datetimes and 'YYYY-MM[-DD]' strings."""
    if isinstance(x, dt.datetime):
        return x.year, x.month, x.day
    if isinstance(x, dt.date):
        return x.year, x.month, x.day
    if isinstance(x, str):
        m = _DATE_RE.match(x)
        if m:
            y, mo = int(m.group(1)), int(m.group(2))
            if 1 <= mo <= 12:
                return y, mo, int(m.group(3)) if m.group(3) else None
    return None


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


@dataclass(slots=True)
class XAxis:
    mode: str  # "month" | "date" | "number" | "category"
    pos: list[float]  # slot of each point (months: months since the first point)
    ordinal: list[float]  # comparable key (months: y*12+m-1, dates: day ordinal, numbers: value)
    short: list[str]  # axis label ("May"; "3 May"; "12")
    long: list[str]  # for text ("May 2025")
    year: list[int | None]
    keys: list[str]  # exact-match keys for categories

    @property
    def span(self) -> float:
        return (self.pos[-1] - self.pos[0]) if self.pos else 0.0

    def gap_before(self, i: int) -> bool:
        """True when a whole slot is missing between point i-1 and point i (a missing month)."""
        return i > 0 and self.pos[i] - self.pos[i - 1] > 1.0 + 1e-9

    def locate(self, x: Any) -> float | None:
        """The slot of an arbitrary x value, or None when it is off the axis."""
        if not self.pos:
            return None
        if self.mode == "month":
            d = _as_date(x)
            if d is None:
                return None
            o = d[0] * 12 + d[1] - 1
            if o < self.ordinal[0] or o > self.ordinal[-1]:
                return None
            return self.pos[0] + (o - self.ordinal[0])
        if self.mode == "category":
            try:
                return self.pos[self.keys.index(str(x))]
            except ValueError:
                return None
        if self.mode == "date":
            d = _as_date(x)
            if d is None:
                return None
            try:
                o = float(dt.date(d[0], d[1], d[2] or 1).toordinal())
            except ValueError:
                return None
        elif _is_number(x):
            o = float(x)
        else:
            return None
        return _interp(o, self.ordinal, self.pos)


def _interp(o: float, xs: list[float], ys: list[float]) -> float | None:
    if o < xs[0] or o > xs[-1]:
        return None
    j = bisect.bisect_left(xs, o)
    if j < len(xs) and xs[j] == o:
        return ys[j]
    x0, x1, y0, y1 = xs[j - 1], xs[j], ys[j - 1], ys[j]
    return y0 + (y1 - y0) * (o - x0) / (x1 - x0) if x1 != x0 else y0


def build_axis(xs: list[Any]) -> XAxis:
    n = len(xs)
    dates = [_as_date(x) for x in xs]
    if n and all(d is not None and (d[2] in (None, 1)) for d in dates):
        ords = [d[0] * 12 + d[1] - 1 for d in dates]  # type: ignore[index]
        if all(b >= a for a, b in zip(ords, ords[1:], strict=False)):
            return XAxis(
                "month",
                [float(o - ords[0]) for o in ords],
                [float(o) for o in ords],
                [MONTHS[d[1] - 1] for d in dates],  # type: ignore[index]
                [f"{MONTHS[d[1] - 1]} {d[0]}" for d in dates],  # type: ignore[index]
                [d[0] for d in dates],  # type: ignore[index]
                [str(x) for x in xs],
            )
    idx = [float(i) for i in range(n)]
    if n and all(d is not None for d in dates):
        try:
            ords_d = [float(dt.date(d[0], d[1], d[2] or 1).toordinal()) for d in dates]  # type: ignore[index]
        except ValueError:
            ords_d = []
        if ords_d and all(b > a for a, b in zip(ords_d, ords_d[1:], strict=False)):
            return XAxis(
                "date",
                idx,
                ords_d,
                [f"{d[2] or 1} {MONTHS[d[1] - 1]}" for d in dates],  # type: ignore[index]
                [f"{d[2] or 1} {MONTHS[d[1] - 1]} {d[0]}" for d in dates],  # type: ignore[index]
                [d[0] for d in dates],  # type: ignore[index]
                [str(x) for x in xs],
            )
    if n and all(_is_number(x) for x in xs):
        nums = [float(x) for x in xs]
        if all(b > a for a, b in zip(nums, nums[1:], strict=False)):
            labels = [str(int(v)) if v.is_integer() else f"{v:g}" for v in nums]
            return XAxis("number", idx, nums, labels, labels, [None] * n, labels)
    labels = [str(x) for x in xs]
    return XAxis("category", idx, idx[:], labels, labels, [None] * n, labels)


def label_indices(axis: XAxis, dx: float, size: float, max_labels: int | None = None) -> list[int]:
    """Which points get a label so that labels of ``size`` px never touch (``dx`` px per slot),
    and, with ``max_labels``, so that about that many labels at most are printed (months are
    then labelled every 2, 3, 6 or 12 months, on calendar boundaries: Jan, Apr, Jul, Oct)."""
    n = len(axis.pos)
    if n == 0:
        return []
    widest = max(text_width(s, size) for s in axis.short)
    need = widest + 0.6 * size
    steps = (1, 2, 3, 4, 6, 12, 24, 36, 60, 120) if axis.mode == "month" else range(1, n + 1)
    slots = int(round(axis.span)) + 1
    step = next(
        (s for s in steps if s * dx >= need and (max_labels is None or -(-slots // s) <= max_labels)), n
    )
    if axis.mode == "month":
        out = [i for i in range(n) if int(axis.ordinal[i]) % step == 0]
        if len(out) >= 2 or step >= n:
            return out or [0]
    last = n - 1
    return [i for i in range(n) if (last - i) % step == 0]


def month_slots(
    axis: XAxis, dx: float, size: float, max_labels: int | None = None
) -> tuple[list[float], list[tuple[float, str, int]]]:
    """For a month axis: the slot of every calendar month it spans (missing months included),
    and the labelled ones as (slot, "Jan", year), chosen like ``label_indices`` but on calendar
    months rather than on points, so a missing month never takes its label away."""
    if axis.mode != "month" or not axis.pos:
        return [], []
    o0, o1 = int(axis.ordinal[0]), int(axis.ordinal[-1])
    p0 = axis.pos[0]
    slots = o1 - o0 + 1
    need = max(text_width(s, size) for s in MONTHS) + 0.6 * size
    step = next(
        (
            s
            for s in (1, 2, 3, 4, 6, 12, 24, 36, 60, 120)
            if s * dx >= need and (max_labels is None or -(-slots // s) <= max_labels)
        ),
        slots,
    )
    chosen = [o for o in range(o0, o1 + 1) if o % step == 0]
    if len(chosen) < 2 and step < slots:
        chosen = [o for o in range(o0, o1 + 1) if (o1 - o) % step == 0]
    chosen = chosen or [o1]
    return (
        [p0 + (o - o0) for o in range(o0, o1 + 1)],
        [(p0 + (o - o0), MONTHS[o % 12], o // 12) for o in chosen],
    )
