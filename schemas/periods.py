"""Periods: the network's months, written YYYY-MM everywhere (returns, folders, warehouse, reports).

One home for what a period is, how periods are listed, and which months a report covers.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from joyflow.errors import JoyflowError

PERIOD_PATTERN = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def is_period(text: str) -> bool:
    return PERIOD_PATTERN.fullmatch(text) is not None


def check_period(period: str) -> str:
    """The period itself, or a sentence saying how to write one."""
    if not isinstance(period, str) or not is_period(period):
        raise JoyflowError(f"'{period}' is not a period: write the month as YYYY-MM, e.g. 2026-10.")
    return period


def previous_month(today: dt.date | None = None) -> str:
    """The month a run collects by default: the one before today's."""
    today = today or dt.date.today()
    return (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")


def period_range(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last``, both included (empty when ``first`` is later)."""
    y, m = map(int, first.split("-"))
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def month_start(period: str) -> dt.date:
    return dt.date.fromisoformat(period + "-01")


def month_end(period: str) -> dt.date:
    """The period's last day: a month's figures are as of then."""
    first = month_start(period)
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def month_label(period: str) -> str:
    """'2026-10' as a person reads it: 'October 2026'."""
    return dt.date.fromisoformat(period + "-01").strftime("%B %Y")


def short_month_label(period: str) -> str:
    """'2026-10' where space is short (table heads, axes): 'Oct 26'."""
    return dt.date.fromisoformat(period + "-01").strftime("%b %y")


def reporting_window(
    end: str, *, start: str | None, earliest_team: str | None, months: int | None = None
) -> list[str]:
    """The months a report, summary or grid covers, oldest first.

    From the network's configured start (else the month its earliest team joined, else ``end``
    alone) to ``end``; with ``months``, only the last that many.
    """
    first = min(start or earliest_team or end, end)
    periods = period_range(first, end)
    return periods[-months:] if months else periods


def inbox_periods(inbox: Path, until: str | None = None) -> list[str]:
    """The periods with a folder in ``inbox``, oldest first, up to ``until``."""
    if not inbox.is_dir():
        return []
    found = sorted(p.name for p in inbox.iterdir() if p.is_dir() and is_period(p.name))
    return [p for p in found if until is None or p <= until]
