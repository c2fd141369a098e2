"""One code path per job: the Prefect flows and the plain calls run the same sequence.

The monthly run: ``flows.sequence.run_month`` is the only place that orders the stages, and the
flow and the plain path given the same inbox end with the same summary, the same warehouse, the same
pipeline_run row and the same progress reports — on success and on failure. Delivery:
``reports.deliver.deliver`` is the only place that plans, locks and sends.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from joyflow.errors import JoyflowError
from tests.conftest import DEMO_END, TODAY
from warehouse.checksum import table_checksums
from warehouse.engine import make_engine
from warehouse.models import PipelineRun, RunLock

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.xdist_group("prefect")


def _calls(path: Path) -> set[str]:
    """Every name called in a module, as written: ``lock.acquire``, ``steps.start_run``, ``deliver``."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            names.add(ast.unparse(node.func))
    return names


def test_only_the_sequence_orders_the_monthly_run() -> None:
    sequence = {"lock.acquire", "lock.release", "steps.start_run", "steps.finish_run", "steps.run_summary"}
    as_written = sequence | {s.split(".")[-1] for s in sequence} | {"acquire", "release"}
    for module in sorted((REPO / "flows").glob("*.py")):
        found = _calls(module) & as_written
        if module.name == "sequence.py":
            assert found == sequence
        else:
            assert not found, f"{module.name} re-implements the run sequence: {sorted(found)}"
    assert "run_month" in _calls(REPO / "flows" / "plain.py")
    assert "run_month" in _calls(REPO / "flows" / "monthly.py")


def test_only_reports_deliver_orders_a_delivery() -> None:
    orchestration = {"plan_deliveries", "triage", "preflight", "summarise", "acquire", "release"}
    flow_calls = {c.split(".")[-1] for c in _calls(REPO / "flows" / "deliver.py")}
    assert not flow_calls & orchestration, sorted(flow_calls & orchestration)
    assert "deliver_period" in flow_calls
    assert orchestration <= {c.split(".")[-1] for c in _calls(REPO / "reports" / "deliver.py")}


@pytest.fixture(scope="module")
def harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def _run(how: str, network: Path, home: Path, monkeypatch: pytest.MonkeyPatch, **kw) -> tuple[dict, list]:
    """One run of the demo's last month (plain calls or the flow) into its own home and warehouse;
    returns the summary and every progress report the run made."""
    from flows import progress

    monkeypatch.setenv("JOYFLOW_HOME", str(home))
    url = f"sqlite:///{home / 'warehouse.db'}"
    events: list = []
    progress.set_reporter(
        lambda stage, total, label: events.append(("start", stage, total, label)),
        lambda stage, n: events.append(("advance", stage, n)),
    )
    try:
        if how == "plain":
            from flows.plain import monthly_run_plain

            summary = monthly_run_plain(DEMO_END, network, warehouse_url=url, today=TODAY, **kw)
        else:
            from flows.local_engine import in_process_run
            from flows.monthly import monthly_run

            with in_process_run():
                summary = monthly_run(
                    period=DEMO_END,
                    network_dir=str(network),
                    warehouse_url=url,
                    today=TODAY.isoformat(),
                    **kw,
                )
    finally:
        progress.set_reporter(None, None)
    return summary, events


def _pipeline_runs(home: Path) -> list[tuple]:
    engine = make_engine(f"sqlite:///{home / 'warehouse.db'}")
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                PipelineRun.period,
                PipelineRun.kind,
                PipelineRun.status,
                PipelineRun.files_seen,
                PipelineRun.accepted,
                PipelineRun.rejected,
                PipelineRun.duplicates,
                PipelineRun.message,
            ).order_by(PipelineRun.started_at)
        ).all()
        locks = conn.execute(select(RunLock.period)).all()
    assert locks == []  # released on both paths
    return [tuple(r) for r in rows]


def test_flow_and_plain_run_end_the_same(
    harness, demo_network_master: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    network = tmp_path / "network"
    shutil.copytree(demo_network_master, network)
    plain, plain_events = _run("plain", network, tmp_path / "plain", monkeypatch, backfill=True, render=False)
    flow, flow_events = _run("flow", network, tmp_path / "flow", monkeypatch, backfill=True, render=False)

    def same(summary: dict) -> dict:
        return {k: v for k, v in summary.items() if k not in ("run_id", "reports_dir")}

    assert same(flow) == same(plain)
    # the demo's last month: 12 files, 2 rejected, the other 10 accepted (with or without warnings)
    c = plain["counts"]
    assert (c["files"], c["accepted"], c["rejected"], c["duplicates"]) == (12, 10, 2, 0)
    assert c["accepted_with_warnings"] <= c["accepted"]
    assert flow_events == plain_events
    assert ("start", "receive", 12, f"Receiving {DEMO_END}") in plain_events
    load_starts = [e[2] for e in plain_events if e[:2] == ("start", "load")]
    assert len(load_starts) == 18  # every month of the backfill, each file loaded reported once
    assert sum(e[2] for e in plain_events if e[:2] == ("advance", "load")) == sum(load_starts) > 12
    assert _pipeline_runs(tmp_path / "plain") == _pipeline_runs(tmp_path / "flow")
    assert _pipeline_runs(tmp_path / "plain") == [(DEMO_END, "backfill", "completed", 12, 10, 2, 0, None)]
    checksums = {
        how: table_checksums(make_engine(f"sqlite:///{tmp_path / how / 'warehouse.db'}"))
        for how in ("plain", "flow")
    }
    assert checksums["plain"] == checksums["flow"]


def test_a_failed_run_is_recorded_alike_on_both_paths(
    harness, demo_network_master: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows import steps

    def broken(*_a, **_k):
        raise JoyflowError("the statistics could not be rebuilt")

    monkeypatch.setattr(steps, "rebuild_derived", broken)
    network = tmp_path / "network"
    shutil.copytree(demo_network_master, network)
    for how in ("plain", "flow"):
        with pytest.raises(JoyflowError, match="could not be rebuilt"):
            _run(how, network, tmp_path / how, monkeypatch, render=False)
    expected = [
        (DEMO_END, "monthly", "failed", 0, 0, 0, 0, "JoyflowError: the statistics could not be rebuilt")
    ]
    assert _pipeline_runs(tmp_path / "plain") == _pipeline_runs(tmp_path / "flow") == expected
