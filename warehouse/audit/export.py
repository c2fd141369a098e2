"""The validation log for auditors: CSV safe to open in a spreadsheet, or JSONL."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from warehouse.audit.chain import ENTRY_FIELDS, serialise_value

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def spreadsheet_safe(value: object) -> object:
    """Neutralise text a spreadsheet would run as a formula (CSV injection): prefix with a quote."""
    if (
        isinstance(value, str)
        and value
        and (value.startswith(_FORMULA_START) or value.lstrip().startswith("="))
    ):
        return "'" + value
    return value


def to_csv(entries: Iterable[dict], fields: tuple[str, ...] = (*ENTRY_FIELDS, "entry_hash")) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(fields), extrasaction="ignore", quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    for e in entries:
        writer.writerow({k: spreadsheet_safe(serialise_value(e.get(k))) for k in fields})
    return buf.getvalue()
