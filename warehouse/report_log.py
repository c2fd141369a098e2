"""The log of rendered reports (``report``): what was rendered from which inputs, and where it is."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from warehouse.load import upsert
from warehouse.models import Report

__all__ = ["RecordedReport", "record_reports", "recorded_reports"]


@dataclass(frozen=True)
class RecordedReport:
    report_id: str
    kind: str
    team_id: str | None
    pdf_path: str
    sha256: str
    pages: int | None
    content_key: str


def recorded_reports(engine: Engine, period: str) -> list[RecordedReport]:
    """The reports recorded for ``period``."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Report.report_id,
                Report.kind,
                Report.team_id,
                Report.pdf_path,
                Report.sha256,
                Report.pages,
                Report.content_key,
            ).where(Report.period == period)
        ).all()
    return [RecordedReport(*r) for r in rows]


def record_reports(engine: Engine, rows: list[dict]) -> None:
    """Insert or replace report rows (keyed by ``report_id``: a re-render replaces the old row)."""
    with engine.begin() as conn:
        upsert(conn, Report, rows, ["report_id"])
