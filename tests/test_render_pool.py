"""Parallel rendering recycles its worker processes without hanging (a Python 3.11 pool pitfall)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

import reports.render as render


def _job(tmp_path: Path, i: int) -> dict:
    ctx = {
        "kind": "validation",
        "period": "2026-10",
        "period_label": "October 2026",
        "network_name": "Test",
        "run_id": f"r{i}",
        "files": [
            {
                "file": f"T0{i}_2026-10.xlsx",
                "team_id": f"T0{i}",
                "status": "accepted",
                "issue_count": 0,
                "sha256": "ab" * 32,
            }
        ],
        "by_check": [],
        "issues": [],
    }
    return {"kind": "validation", "context": ctx, "out": str(tmp_path / f"v{i}"), "content_key": str(i)}


def test_workers_are_recycled_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "DOCS_PER_WORKER", 1)  # every worker retires after one document
    jobs = [_job(tmp_path, i) for i in range(5)]
    done = render.render_many(jobs, workers=2)
    assert [Path(r.pdf_path).name for r in done] == [f"v{i}.pdf" for i in range(5)]
    assert len({r.pid for r in done}) >= 3  # three batches, fresh processes each time
    assert "T03_2026-10.xlsx" in PdfReader(done[3].pdf_path).pages[0].extract_text()
