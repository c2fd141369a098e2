"""Concurrent runs in real processes, on SQLite and PostgreSQL.

* two runs of the same period: the run lock (``warehouse/lock.py``) lets one through; the other
  waits and then finds every file already loaded — or, told not to wait, stops with a clear
  ``RunLockedError``;
* runs of different periods at once: the write lock (advisory lock / ``BEGIN IMMEDIATE``) keeps
  versions, ``load_seq`` and the audit chain's ``seq`` gap-free and the chain intact — starting
  from an empty database, so the migrations race too.
"""

from __future__ import annotations

import socket
import time
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.warehouse_support import demo, procs
from tests.warehouse_support.faults import Fault
from warehouse import lock
from warehouse.audit.chain import verify_entries
from warehouse.audit.logfiles import read_log
from warehouse.checksum import diff, table_checksums
from warehouse.engine import make_engine
from warehouse.migrate import upgrade
from warehouse.models import PipelineRun, ReceivedFile, RunLock, Submission, ValidationIssue

pytestmark = pytest.mark.xdist_group("warehouse_heavy")

DERIVED = {"series_point", "series_summary", "network_period"}


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo.generate_small(tmp_path_factory.mktemp("conc") / "network")


@pytest.fixture(scope="module")
def clean(network: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return demo.clean_checksums(network, tmp_path_factory.mktemp("conc-clean"))


def _engine(url: str) -> Engine:
    return make_engine(url)


def test_two_runs_of_one_period_one_loads_the_other_waits(
    warehouse_url: str, network: Path, clean: dict[str, str], tmp_path: Path
) -> None:
    barrier = procs.context().Barrier(2)
    runs = [
        procs.start_run(warehouse_url, network, tmp_path / "home", wait_for_lock=120, barrier=barrier)
        for _ in range(2)
    ]
    reports = [r.wait(180) for r in runs]
    assert all(r is not None and r["result"] == "ok" for r in reports), reports
    loaded = [r for r in reports if r["counts"]["duplicates"] < r["counts"]["files"]]
    waited = [r for r in reports if r["counts"]["duplicates"] == r["counts"]["files"]]
    assert len(loaded) == 1 and len(waited) == 1, [r["counts"] for r in reports]
    assert waited[0]["counts"]["accepted"] == waited[0]["counts"]["rejected"] == 0
    eng = _engine(warehouse_url)
    assert table_checksums(eng) == clean  # exactly one clean run's worth of data
    with eng.connect() as conn:
        assert conn.execute(select(RunLock.period)).all() == []
        statuses = [r[0] for r in conn.execute(select(PipelineRun.status))]
    assert statuses == ["completed", "completed"]
    eng.dispose()


def test_a_run_that_must_not_wait_stops_with_a_clear_message(
    warehouse_url: str, network: Path, tmp_path: Path
) -> None:
    # A slow first run (0.4 s inside each file's transaction) holds the period ...
    first = procs.start_run(warehouse_url, network, tmp_path / "home", backfill=False, fault=Fault(sleep=0.4))
    eng = _engine(warehouse_url)
    deadline = time.monotonic() + 60
    holder = None
    while holder is None and time.monotonic() < deadline:
        try:
            with eng.connect() as conn:
                holder = conn.execute(select(RunLock.run_id, RunLock.holder)).first()
        except Exception:  # the table may not exist yet: the first run is still migrating
            holder = None
        time.sleep(0.05)
    assert holder is not None, "the first run never took the lock"
    # ... a second run for the same period, told not to wait, stops at once and says why.
    second = procs.start_run(warehouse_url, network, tmp_path / "home", backfill=False, wait_for_lock=0)
    report = second.wait(60)
    assert report is not None and report["result"] == "locked", report
    assert report["message"].startswith(
        f"Period 2026-10 is being processed by run {holder.run_id} ({holder.holder}, since "
    )
    assert (
        "Wait for it to finish" in report["message"]
        and "joyflow unlock --period 2026-10" in report["message"]
    )
    done = first.wait(120)
    assert done is not None and done["result"] == "ok" and done["counts"]["duplicates"] == 0
    eng.dispose()


def test_waiting_gives_up_after_the_time_allowed(warehouse_url: str, network: Path, tmp_path: Path) -> None:
    eng = _engine(warehouse_url)
    upgrade(eng)
    lock.acquire(eng, "2026-10", "held-by-the-test")  # this process is alive: the lock is not stale
    try:
        run = procs.start_run(warehouse_url, network, tmp_path / "home", backfill=False, wait_for_lock=1.5)
        report = run.wait(60)
        assert report is not None and report["result"] == "locked", report
        assert report["seconds"] >= 1.5
        assert f"processed by run held-by-the-test ({socket.gethostname()}:" in report["message"]
    finally:
        lock.release(eng, "2026-10", "held-by-the-test")
    report = procs.start_run(warehouse_url, network, tmp_path / "home", backfill=False).wait(120)
    assert report is not None and report["result"] == "ok", report
    eng.dispose()


def test_a_dead_holder_is_taken_over(warehouse_url: str, network: Path, tmp_path: Path) -> None:
    import datetime as dt

    from sqlalchemy import insert

    dead = procs.context().Process(target=time.sleep, args=(0,))
    dead.start()
    dead.join()
    eng = _engine(warehouse_url)
    upgrade(eng)
    now = dt.datetime.now(dt.UTC)
    with eng.begin() as conn:
        conn.execute(
            insert(PipelineRun).values(
                run_id="crashed-run", period="2026-10", kind="monthly", started_at=now, status="running"
            )
        )
        conn.execute(
            insert(RunLock).values(
                period="2026-10",
                run_id="crashed-run",
                holder=f"{socket.gethostname()}:{dead.pid}",
                acquired_at=now,
            )
        )
    report = procs.start_run(warehouse_url, network, tmp_path / "home", backfill=False).wait(120)
    assert report is not None and report["result"] == "ok", report
    with eng.connect() as conn:
        crashed = conn.execute(
            select(PipelineRun.status, PipelineRun.message).where(PipelineRun.run_id == "crashed-run")
        ).one()
        assert conn.execute(select(RunLock.period)).all() == []
    assert crashed.status == "failed" and crashed.message.startswith("abandoned: its process")
    eng.dispose()


def test_runs_of_different_periods_at_once_keep_sequences_intact(
    warehouse_url: str, network: Path, clean: dict[str, str], tmp_path: Path
) -> None:
    periods = sorted(p.name for p in (network / "inbox").iterdir())
    barrier = procs.context().Barrier(len(periods))
    runs = [
        procs.start_run(
            warehouse_url,
            network,
            tmp_path / "home",
            period=p,
            backfill=False,
            fault=Fault(sleep=0.01),
            barrier=barrier,
        )
        for p in periods
    ]
    reports = [r.wait(180) for r in runs]
    assert all(r is not None and r["result"] == "ok" for r in reports), reports
    assert sum(r["counts"]["duplicates"] for r in reports) == 0
    eng = _engine(warehouse_url)
    with eng.connect() as conn:
        subs = conn.execute(
            select(
                Submission.team_id,
                Submission.period,
                Submission.version,
                Submission.load_seq,
                Submission.submission_id,
                Submission.superseded_by,
            )
        ).all()
        entries = [
            dict(r._mapping) for r in conn.execute(select(ValidationIssue).order_by(ValidationIssue.seq))
        ]
        files = conn.execute(select(ReceivedFile.sha256)).all()
    # load_seq: 1..n, each once.
    assert sorted(s.load_seq for s in subs) == list(range(1, len(subs) + 1))
    # versions: 1..k per team and month, in load order; only the latest is in force, and each
    # earlier version points at the next one.
    by_month = defaultdict(list)
    for s in subs:
        by_month[(s.team_id, s.period)].append(s)
    for versions in by_month.values():
        versions.sort(key=lambda s: s.load_seq)
        assert [s.version for s in versions] == list(range(1, len(versions) + 1))
        assert [s.superseded_by for s in versions] == [s.submission_id for s in versions[1:]] + [None]
    assert any(len(v) > 1 for v in by_month.values())  # the resubmission is in there
    # The audit chain: gap-free, intact, and each file's entries together (one transaction each).
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert verify_entries(entries, "warehouse") == []
    # The JSONL log the runs shared holds the same chain, in order, though their appends raced.
    logged = list(read_log(tmp_path / "home" / "audit"))
    assert [e["seq"] for e in logged] == [e["seq"] for e in entries]
    assert verify_entries(logged, "log") == []
    runs_of_files = [
        e["sha256"] for i, e in enumerate(entries) if i == 0 or e["sha256"] != entries[i - 1]["sha256"]
    ]
    assert len(runs_of_files) == len(set(runs_of_files))  # every file's entries together, returns or not
    returns = {f.sha256 for f in files}
    assert len([s for s in runs_of_files if s in returns]) == len(files) == len(demo.inbox_files(network))
    # The data itself is what a sequential run loads; only what records the order of loading may
    # differ: load_seq, the chain's seq — and which value is current where a later month's return
    # corrected an earlier month (the latest *loaded* value wins, and here the months raced).
    order_dependent = {"submission", "validation_issue", "current_measure_value"} | DERIVED
    assert set(diff(table_checksums(eng), clean)) <= order_dependent
    eng.dispose()


def _open_new_warehouse(url: str, barrier, results) -> None:
    try:
        barrier.wait(30)
        eng = make_engine(url)
        upgrade(eng)
        with eng.connect() as conn:
            results.put(conn.exec_driver_sql("PRAGMA journal_mode").scalar())
        eng.dispose()
    except Exception as exc:  # reported to the test, not lost in the child
        results.put(f"{exc.__class__.__name__}: {exc}")


def _switch_new_files_to_wal(urls: list[str], barrier, results) -> None:
    """Per file: an engine made beforehand, then the first connection the moment all are ready."""
    for url in urls:
        try:
            eng = make_engine(url)
            barrier.wait(30)
            with eng.connect() as conn:
                results.put(conn.exec_driver_sql("PRAGMA journal_mode").scalar())
            eng.dispose()
        except Exception as exc:  # reported to the test, not lost in the child
            results.put(f"{exc.__class__.__name__}: {exc}")


def test_processes_switching_new_files_to_wal_at_the_same_instant(tmp_path: Path) -> None:
    """SQLite refuses a concurrent switch to WAL at once ("database is locked", no busy wait):
    raw, 6 processes refused 86 times in 300 files. Every connection must get there regardless."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    urls = [f"sqlite:///{tmp_path / f'new{i}.db'}" for i in range(25)]
    barrier, results = ctx.Barrier(6), ctx.Queue()
    children = [ctx.Process(target=_switch_new_files_to_wal, args=(urls, barrier, results)) for _ in range(6)]
    for child in children:
        child.start()
    got = [results.get(timeout=120) for _ in range(6 * len(urls))]
    for child in children:
        child.join(30)
    assert [g for g in got if g != "wal"] == []


def test_processes_opening_a_brand_new_sqlite_warehouse_at_once(tmp_path: Path) -> None:
    """Switching a new file to WAL needs it to itself: every process must get there, none refused."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    url = f"sqlite:///{tmp_path / 'new.db'}"
    barrier, results = ctx.Barrier(6), ctx.Queue()
    children = [ctx.Process(target=_open_new_warehouse, args=(url, barrier, results)) for _ in range(6)]
    for child in children:
        child.start()
    got = [results.get(timeout=120) for _ in children]
    for child in children:
        child.join(30)
    assert got == ["wal"] * 6
