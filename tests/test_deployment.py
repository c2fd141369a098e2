"""prefect.yaml for real: a Prefect server on loopback, the work pool, `prefect deploy`, a process worker,
and the `monthly-run` deployment run through it to completion."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import DEMO_END
from warehouse.engine import make_engine
from warehouse.models import PipelineRun, Report, Submission

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect-server")]

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prefect(args: list[str], env: dict, cwd: Path, timeout: int = 180) -> subprocess.CompletedProcess:
    res = subprocess.run(
        [str(BIN / "prefect"), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert res.returncode == 0, f"prefect {' '.join(args)} failed:\n{res.stdout}\n{res.stderr}"
    return res


@pytest.fixture
def server(tmp_path: Path):
    port = _free_port()
    home = tmp_path / "prefect-home"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_UI_ENABLED": "false",
        "COLUMNS": "250",
    }
    proc = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(1)
    else:
        proc.kill()
        pytest.fail("the Prefect server did not start in 120 s")
    yield env
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_monthly_run_deployment_through_a_worker(server: dict, demo_network: Path, tmp_path: Path) -> None:
    home = tmp_path / "var"
    project = tmp_path / "project"
    shutil.copytree(
        REPO, project, ignore=shutil.ignore_patterns(".venv", "var", ".git", "__pycache__", "bench")
    )
    env = {
        **server,
        "JOYFLOW_HOME": str(home),
        "JOYFLOW_PROJECT_DIR": str(project),
        "JOYFLOW_NETWORK_DIR": str(demo_network),
    }
    _prefect(["work-pool", "create", "joyflow-process", "--type", "process"], env, project)
    _prefect(["--no-prompt", "deploy", "--all"], env, project)
    listed = _prefect(["deployment", "ls"], env, project).stdout
    for name in (
        "monthly-run/monthly-run",
        "rerun-period/rerun-period",
        "render-reports/render-reports",
        "deliver-reports/deliver-reports",
    ):
        assert name in listed

    worker = subprocess.Popen(
        [str(BIN / "prefect"), "worker", "start", "--pool", "joyflow-process", "--limit", "1"],
        env=env,
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        params = json.dumps({"period": DEMO_END, "backfill": True, "today": "2026-11-22"})
        out = _prefect(
            [
                "deployment",
                "run",
                "monthly-run/monthly-run",
                "--params",
                params,
                "--watch",
                "--watch-timeout",
                "420",
            ],
            env,
            project,
            timeout=480,
        )
        assert "Completed" in out.stdout + out.stderr
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    engine = make_engine(f"sqlite:///{home / 'warehouse.db'}")
    with engine.connect() as conn:
        run = conn.execute(
            select(PipelineRun.status, PipelineRun.files_seen, PipelineRun.rejected).where(
                PipelineRun.period == DEMO_END
            )
        ).one()
        assert (run.status, run.files_seen, run.rejected) == ("completed", 12, 2)
        assert (
            conn.execute(
                select(func.count()).select_from(Submission).where(Submission.period == DEMO_END)
            ).scalar()
            == 10
        )
        assert (
            conn.execute(select(func.count()).select_from(Report).where(Report.kind == "team")).scalar() == 12
        )

    # The run left its artifacts on the server: the table of files and the summary.
    api = server["PREFECT_API_URL"]
    arts = httpx.post(f"{api}/artifacts/filter", json={}, timeout=10).json()
    keys = {a["key"] for a in arts}
    assert f"files-{DEMO_END}" in keys and f"summary-{DEMO_END}" in keys
    table = next(a for a in arts if a["key"] == f"files-{DEMO_END}")
    rows = json.loads(table["data"]) if isinstance(table["data"], str) else table["data"]
    assert sum(1 for r in rows if r["status"] == "rejected") == 2
