"""Rendering fanned out on Dask (prefect-dask) across a local cluster of worker processes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import DEMO_END, TODAY

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]


@pytest.fixture(scope="module")
def harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def test_reports_render_on_a_local_dask_cluster(harness, demo_network: Path, joyflow_home: Path) -> None:
    from flows.plain import monthly_run_plain
    from flows.render_dask import render_on_dask

    monthly_run_plain(DEMO_END, demo_network, backfill=True, render=False, today=TODAY)
    rendered = render_on_dask(DEMO_END, str(demo_network), n_workers=2)
    kinds = sorted(r.kind for r in rendered)
    assert kinds.count("team") == 12 and "network" in kinds and "validation" in kinds
    assert os.getpid() not in {r.pid for r in rendered}  # rendered in the cluster's worker processes
    text = PdfReader(next(r.pdf_path for r in rendered if r.team_id == "T02")).pages[0].extract_text()
    assert "Emergency Department" in text
    # Nothing changed: a second fan-out renders nothing.
    assert render_on_dask(DEMO_END, str(demo_network), n_workers=2) == []
