"""Jinja filters shared by every template: how months, numbers and statuses read in a report."""

from __future__ import annotations

import jinja2

from reports.context import ASSURANCE_WORDS, STATUS_WORDS, VARIATION_WORDS, format_value
from schemas.periods import month_label, short_month_label


def number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def words(kind: str | None, table: str) -> str:
    tables = {"variation": VARIATION_WORDS, "assurance": ASSURANCE_WORDS, "status": STATUS_WORDS}
    if kind is None:
        return "Not enough data" if table != "assurance" else "No target"
    return tables[table].get(kind, kind.replace("_", " "))


def install(env: jinja2.Environment) -> None:
    env.filters.update(
        month_short=short_month_label,
        month_long=month_label,
        number=number,
        words=words,
        fvalue=format_value,
    )
