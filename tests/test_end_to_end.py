"""The whole monthly run under Prefect's real local engine: warehouse contents and PDF text."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.conftest import DEMO_END
from warehouse.engine import make_engine
from warehouse.models import MeasureValue, ReceivedFile, Report, Submission

pytestmark = pytest.mark.xdist_group("prefect")


@pytest.fixture(scope="module")
def harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        return {
            m.__tablename__: conn.execute(select(func.count()).select_from(m)).scalar()
            for m in (ReceivedFile, Submission, MeasureValue, Report)
        }


def test_monthly_run_under_prefect(harness, demo_network: Path, joyflow_home: Path) -> None:
    from flows.monthly import monthly_run

    url = f"sqlite:///{joyflow_home / 'warehouse.db'}"
    summary = monthly_run(
        period=DEMO_END, network_dir=str(demo_network), warehouse_url=url, backfill=True, today="2026-11-22"
    )
    counts = summary["counts"]
    # The demo's last month: 12 files, two deliberately broken (T05 bad cells, T08 not a workbook).
    assert counts["files"] == 12
    assert counts["rejected"] == 2
    assert {f["file"] for f in summary["files"] if f["status"] == "rejected"} == {
        f"T05_{DEMO_END}.xlsx",
        f"T08_{DEMO_END}.xlsx",
    }

    reports = joyflow_home / "reports" / DEMO_END
    team_pdfs = sorted(reports.glob("team_*.pdf"))
    assert len(team_pdfs) == 12
    assert (reports / f"network_{DEMO_END}.pdf").exists()

    # A team report names its own team and shows its real latest value, and names no other team.
    engine = make_engine(url)
    with engine.connect() as conn:
        t01 = conn.execute(
            select(MeasureValue.value)
            .join(Submission)
            .where(
                Submission.team_id == "T01",
                MeasureValue.measure_id == "JOY_PULSE",
                MeasureValue.period == DEMO_END,
            )
        ).scalar()
    text = _pdf_text(reports / f"team_T01_{DEMO_END}.pdf")
    assert "Acute Medical Unit" in text
    assert f"{t01:.1f}" in text
    assert "Emergency Department" not in text and "Maternity Unit" not in text

    net = _pdf_text(reports / f"network_{DEMO_END}.pdf")
    for name in ("Acute Medical Unit", "Emergency Department", "Critical Care"):
        assert name in net

    # Re-running the same month is a no-op: same row counts, every file recognised as already received.
    before = _counts(url)
    again = monthly_run(period=DEMO_END, network_dir=str(demo_network), warehouse_url=url, today="2026-11-22")
    assert again["counts"]["duplicates"] == 12
    assert again["counts"]["reports"] == 0  # nothing changed, nothing re-rendered
    assert _counts(url) == before
