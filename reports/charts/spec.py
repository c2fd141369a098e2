"""What a chart is asked to draw, declared: the data, lines, labels and drawing options of each
chart kind, as frozen dataclasses the chart functions take instead of loose keyword arguments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl


@dataclass(frozen=True)
class ChartEvent:
    """A PDSA cycle marked on a chart's time axis: where (``x``, as the points' ``x``) and its label."""

    x: Any
    label: str


@dataclass(frozen=True)
class ChartOptions:
    """What a chart draws besides the data. Print pages carry the legend, the PDSA key and the
    caption as page text (cheaper to lay out than SVG text) and need no per-point tooltips."""

    show_title: bool = True
    legend: bool = True
    key: bool = True
    caption: bool = True
    tooltips: bool = True


PRINT = ChartOptions(show_title=False, legend=False, key=False, caption=False, tooltips=False)


@dataclass(frozen=True)
class SpcChart:
    """One series as a run or control chart.

    ``points``: the series' rows sorted by ``x`` ('YYYY-MM', a date or a number), with ``value``,
    ``cl``, ``lcl``, ``ucl`` (nullable; limits may vary per point and per part), ``part``,
    ``runs_signal``, ``shift_point``, ``trend_point``, ``point_type`` and optionally
    ``excluded``/``exclude``; missing columns are tolerated. ``multiplier`` scales everything
    drawn (values, lines, ``target`` and ``network_median`` are in the data's own scale), e.g.
    100 with ``unit="%"`` for proportions. ``direction``: "up", "down" or None.
    ``network_median``: (x, value) pairs drawn as a grey line.
    """

    points: pl.DataFrame
    title: str
    unit: str = ""
    multiplier: float = 1.0
    target: float | None = None
    direction: str | None = None
    chart_label: str = ""
    events: tuple[ChartEvent, ...] = ()
    network_median: tuple[tuple[Any, float], ...] = ()
    width: int = 640
    height: int = 260
    options: ChartOptions = field(default_factory=ChartOptions)
    # The network's rule set, as its key names it (issue 16): in the text alternative and caption.
    rules: str = ""


@dataclass(frozen=True)
class BarChart:
    """Bars per category, one series per key of ``series`` (stacked or side by side)."""

    categories: tuple[str, ...]
    series: dict[str, list[float]]
    title: str = ""
    stacked: bool = False
    width: int = 640
    tooltips: bool = True


@dataclass(frozen=True)
class DistributionChart:
    """The spread of many values per period (e.g. teams' progress scores by month)."""

    periods: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]
    title: str = ""


def events_of(events: list[dict] | tuple[ChartEvent, ...] | None) -> tuple[ChartEvent, ...]:
    """PDSA events as ``ChartEvent``s; the keyword API also takes ``{"x": ..., "label": ...}`` dicts."""
    return tuple(
        e if isinstance(e, ChartEvent) else ChartEvent(e.get("x"), e.get("label", "")) for e in events or ()
    )
