"""Timestamps and durations as meeting tools write them, in the downloader's locale.

Teams writes ``3/4/25, 9:58:12 AM`` (United States) or ``15/11/22, 09:30:17`` (United Kingdom),
Zoom ``05/24/2021 09:22:45 AM`` or ``24/05/2021 09:22:45``, Webex ``2021-06-14 17:00:00``. Whether
a date is day or month first is decided once per file, from all its timestamps (``date_order``):
a first field above 12 means day first, a second field above 12 means month first; when every
date could be either, a 12-hour clock (AM/PM) means the United States' month first and a 24-hour
clock day first. A file whose dates contradict each other fits no format and is reported, never
guessed row by row.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_STAMP = re.compile(
    r"""\s*(?:
        (?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<y>\d{4}|\d{2})      # 3/4/25 or 24/05/2021
      | (?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})             # 2021-06-14
    )[,T]?\s+
    (?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?
    \s*(?P<ampm>[AaPp]\.?\s?[Mm]\.?)?\s*$""",
    re.VERBOSE,
)
_DURATION = re.compile(
    r"\s*(?:(?P<h>\d+)\s*h)?\s*(?:(?P<m>\d+)\s*m(?:in(?:ute)?s?)?)?\s*(?:(?P<s>\d+)\s*s)?\s*$"
)

MONTH_FIRST, DAY_FIRST = "month-first", "day-first"


@dataclass(frozen=True)
class DateOrder:
    """How a file writes its dates, or why no single way fits."""

    order: str | None
    problem: str | None = None


def _parts(text: str) -> re.Match[str] | None:
    return _STAMP.match(text) if text else None


def date_order(texts: list[str]) -> DateOrder:
    """The day/month order of a file's timestamps (see the module docstring)."""
    stamps = [m for t in texts if (m := _parts(t)) and m["a"]]
    if not stamps:
        return DateOrder(MONTH_FIRST)  # only ISO dates, or none: the order does not matter
    day_first = [m.group(0).strip() for m in stamps if int(m["a"]) > 12]
    month_first = [m.group(0).strip() for m in stamps if int(m["b"]) > 12]
    if day_first and month_first:
        return DateOrder(
            None,
            f"its dates fit no single format: '{day_first[0]}' is day first but '{month_first[0]}' is "
            "month first. Download the report again and send it unchanged.",
        )
    if day_first:
        return DateOrder(DAY_FIRST)
    if month_first:
        return DateOrder(MONTH_FIRST)
    twelve_hour = any(m["ampm"] for m in stamps)
    return DateOrder(MONTH_FIRST if twelve_hour else DAY_FIRST)


def parse_timestamp(text: str | None, order: str) -> dt.datetime | None:
    """A timestamp in the file's own order, as a naive local time; None if it is not one."""
    m = _parts(text or "")
    if m is None:
        return None
    if m["iy"]:
        year, month, day = int(m["iy"]), int(m["im"]), int(m["id"])
    else:
        first, second = int(m["a"]), int(m["b"])
        month, day = (first, second) if order == MONTH_FIRST else (second, first)
        year = int(m["y"]) + (2000 if len(m["y"]) == 2 else 0)
    hour, minute, second_ = int(m["h"]), int(m["mi"]), int(m["s"] or 0)
    if m["ampm"]:
        pm = m["ampm"][0] in "Pp"
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if pm else 0)
    try:
        return dt.datetime(year, month, day, hour, minute, second_)
    except ValueError:
        return None


def parse_duration(text: str | None) -> int | None:
    """Seconds in ``1h 3m 25s``, ``59m 29s``, ``1h 3s``, ``45s`` or ``204 mins``; None otherwise."""
    if not text or not text.strip():
        return None
    m = _DURATION.match(text)
    if m is None or not any(m.group(k) for k in ("h", "m", "s")):
        return None
    return int(m["h"] or 0) * 3600 + int(m["m"] or 0) * 60 + int(m["s"] or 0)


def parse_minutes(text: str | None) -> int | None:
    """Zoom's whole minutes as seconds."""
    t = (text or "").strip()
    return int(t) * 60 if t.isdigit() else None
