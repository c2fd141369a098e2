"""Fault test: backfills SIGKILLed at random points, then re-run; the warehouse must end exactly
where a clean run ends (per-table checksums), on SQLite and on PostgreSQL.

A backfill loads the earlier months through the bulk path (a month per transaction,
``warehouse.batch``) and the run's own month one file per transaction (``warehouse.load``): the
random trials kill either. Each trial runs ``monthly_run_plain`` (backfill) in a separate process
on a fresh warehouse and kills it with SIGKILL — two trials in three at a point injected into the
loading (``tests/warehouse_support/faults.py``: after a random number of files, inside the
transaction before or half-way through the data, just before the commit, or just after it),
one in three after a random delay (anywhere: migrations, configuration, archiving, validation,
loading, derived tables). Then the same backfill runs again, not killed, and must leave the
same checksums as one clean run, an intact audit chain, the JSONL log equal to the warehouse's
chain, no run still marked running and no lock left.

``JOYFLOW_FAULT_TRIALS`` (default 10 per dialect: 20 in all) and ``JOYFLOW_FAULT_SEED`` (default:
random, printed) repeat or widen a run.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from tests.warehouse_support import demo, procs
from tests.warehouse_support import networks as nw
from tests.warehouse_support.faults import POINTS, Fault
from warehouse.audit.chain import verify_entries
from warehouse.audit.logfiles import read_log
from warehouse.checksum import diff, table_checksums
from warehouse.engine import make_engine
from warehouse.models import PipelineRun, ReceivedFile, RunLock, ValidationIssue

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("warehouse_heavy")]

TRIALS = int(os.environ.get("JOYFLOW_FAULT_TRIALS", "10"))
SMALL = {"teams": 8, "months": 3, "end": "2026-10"}


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transforms.demo import generate

    root = tmp_path_factory.mktemp("fault") / "network"
    generate(root, **SMALL)
    return root


@pytest.fixture(scope="module")
def clean(network: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], float]:
    started = time.monotonic()
    sums = demo.clean_checksums(network, tmp_path_factory.mktemp("fault-clean"))
    return sums, time.monotonic() - started


def _fresh(warehouse_url: str, tmp_path: Path, trial: int) -> str:
    """An empty warehouse for the trial: a new SQLite file, or the test's PostgreSQL schema emptied."""
    if warehouse_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / f'trial{trial}.db'}"
    schema = warehouse_url.rsplit("search_path%3D", 1)[1]
    admin = create_engine(warehouse_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return warehouse_url


def test_killed_backfills_rerun_to_the_clean_state(
    warehouse_url: str, network: Path, clean: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected, clean_seconds = clean
    seed = int(os.environ.get("JOYFLOW_FAULT_SEED") or random.SystemRandom().randrange(1 << 30))
    rng = random.Random(f"{seed}:{warehouse_url.split(':', 1)[0]}")
    n_files = len(demo.inbox_files(network))
    log = []
    for trial in range(TRIALS):
        url = _fresh(warehouse_url, tmp_path, trial)
        home = tmp_path / f"home{trial}"
        monkeypatch.setenv("JOYFLOW_HOME", str(home))
        if trial % 3 != 2:
            after, point = rng.randrange(n_files), rng.choice(POINTS)
            how = f"after {after} files at {point}"
            run = procs.start_run(url, network, home, fault=Fault(after, point))
            report = run.wait(120)
            # Injected points are always reached, except mid_data when no accepted file follows.
            assert report is None or point == "mid_data", (how, report)
        else:
            delay = rng.uniform(0.0, clean_seconds * 1.2)
            how = f"after {delay:.2f} s"
            run = procs.start_run(url, network, home)
            time.sleep(delay)
            run.kill()
            report = run.wait(30)
        killed = run.exitcode == -9
        assert killed or (report is not None and report["result"] == "ok"), (how, report)
        log.append(f"{how}: {'killed' if killed else 'finished first'}")

        _rerun_reaches(url, network, home, expected, f"trial {trial} (seed {seed}), killed {how}")
    print(f"\n{TRIALS} trials on {warehouse_url.split(':', 1)[0]} (seed {seed}):\n  " + "\n  ".join(log))


def _rerun_reaches(url: str, network: Path, home: Path, expected: dict[str, str], how: str) -> None:
    """The same backfill again, not killed: the clean run's checksums, an intact chain in the
    warehouse and the same chain in the JSONL log, no run still marked running, no lock left."""
    again = nw.run(url, network, SMALL["end"], backfill=True)
    eng = make_engine(url)
    try:
        got = table_checksums(eng)
        assert diff(got, expected) == [], how
        with eng.connect() as conn:
            entries = [
                dict(r._mapping) for r in conn.execute(select(ValidationIssue).order_by(ValidationIssue.seq))
            ]
            running = conn.execute(select(PipelineRun.run_id).where(PipelineRun.status == "running")).all()
            locks = conn.execute(select(RunLock.period)).all()
    finally:
        eng.dispose()
    assert verify_entries(entries, "warehouse") == [], how
    assert running == [] and locks == [], how
    logged = list(read_log(home / "audit"))
    assert [(e["seq"], e["entry_hash"]) for e in logged] == [(e["seq"], e["entry_hash"]) for e in entries], (
        how
    )
    assert again["counts"]["files"] == len(list((network / "inbox" / SMALL["end"]).iterdir()))


@pytest.fixture(scope="module")
def returns_network(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same network without participation files: the run's first transactions are its months
    (participation files are imported before the returns, and count as files for ``Fault``)."""
    from transforms.demo import generate

    root = tmp_path_factory.mktemp("fault-returns") / "network"
    generate(root, **SMALL, participation=False)
    return root


@pytest.fixture(scope="module")
def returns_clean(
    returns_network: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, str], float]:
    return demo.clean_checksums(returns_network, tmp_path_factory.mktemp("fault-returns-clean")), 0.0


@pytest.mark.parametrize(
    ("after", "point"), [(0, p) for p in POINTS] + [(1, "mid_data"), (1, "after_commit")]
)
def test_a_bulk_backfill_killed_inside_a_month_reruns_to_the_clean_state(
    warehouse_url: str,
    returns_network: Path,
    returns_clean: tuple,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    after: int,
    point: str,
) -> None:
    """Killed inside the first month's transaction (``after`` 0) or the second's (1: the first
    month, several files, is committed), while worker processes read the next month: whole
    months only are left, the JSONL log never ahead of the warehouse, and a re-run ends clean."""
    network, clean = returns_network, returns_clean
    url = _fresh(warehouse_url, tmp_path, 0)
    home = tmp_path / "home"
    monkeypatch.setenv("JOYFLOW_HOME", str(home))
    run = procs.start_run(url, network, home, fault=Fault(after, point), pool_min_files=0)
    report = run.wait(120)
    assert report is None and run.exitcode == -9, report
    months = sorted(p.name for p in (network / "inbox").iterdir())
    committed = after + (point == "after_commit")  # months whose transaction committed
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            folders = select(ReceivedFile.period_folder).distinct()
            loaded = sorted(conn.execute(folders).scalars())
            appended = select(ValidationIssue.seq).join(
                ReceivedFile, ReceivedFile.sha256 == ValidationIssue.sha256
            )
            appended = conn.execute(appended.where(ReceivedFile.period_folder.in_(months[:after]))).scalars()
            appended = sorted(appended)
    finally:
        eng.dispose()
    assert loaded == months[:committed], loaded
    # The JSONL log holds the months appended before the kill: the killed month's append never happened.
    assert [e["seq"] for e in read_log(home / "audit")] == appended
    _rerun_reaches(url, network, home, clean[0], f"killed after {after} files at {point}")
