"""Fault test for the participation import: a month with returns, the network's participation files
and its attendance, SIGKILLed at random points (inside an import's transaction just before its
commit, just after it, or after a random delay), then run again: the warehouse must end exactly
where a clean run ends (warehouse/checksum.py), with an intact audit chain equal to the JSONL log.

``JOYFLOW_FAULT_TRIALS`` (default 4 per dialect) and ``JOYFLOW_FAULT_SEED`` repeat or widen a run.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.participation_support import participation_files
from tests.test_warehouse_fault import _fresh
from tests.warehouse_support import networks as nw
from tests.warehouse_support import procs
from tests.warehouse_support.faults import Fault
from warehouse.audit.chain import verify_entries
from warehouse.audit.logfiles import read_log
from warehouse.checksum import diff, table_checksums
from warehouse.engine import make_engine
from warehouse.models import ValidationIssue

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("warehouse_heavy")]

TRIALS = int(os.environ.get("JOYFLOW_FAULT_TRIALS", "4"))
PERIOD = "2026-10"
FILES = 2 + 6 + 5  # two returns, six participation files, five attendance files


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = nw.network(tmp_path_factory.mktemp("pfault") / "network", teams=("T01", "T02"))
    for team in ("T01", "T02"):
        nw.write(root, team, PERIOD)
    return participation_files(root, PERIOD)


@pytest.fixture(scope="module")
def clean(network: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], float]:
    work = tmp_path_factory.mktemp("pfault-clean")
    old = os.environ.get("JOYFLOW_HOME")
    os.environ["JOYFLOW_HOME"] = str(work / "home")
    try:
        url = f"sqlite:///{work / 'clean.db'}"
        started = time.monotonic()
        nw.run(url, network, PERIOD, backfill=True)
        seconds = time.monotonic() - started
        eng = make_engine(url)
        sums = table_checksums(eng)
        eng.dispose()
        return sums, seconds
    finally:
        if old is None:
            os.environ.pop("JOYFLOW_HOME", None)
        else:
            os.environ["JOYFLOW_HOME"] = old


def test_killed_participation_imports_rerun_to_the_clean_state(
    warehouse_url: str, network: Path, clean: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected, clean_seconds = clean
    seed = int(os.environ.get("JOYFLOW_FAULT_SEED") or random.SystemRandom().randrange(1 << 30))
    rng = random.Random(f"{seed}:{warehouse_url.split(':', 1)[0]}")
    log = []
    for trial in range(TRIALS):
        url = _fresh(warehouse_url, tmp_path, trial)
        home = tmp_path / f"home{trial}"
        monkeypatch.setenv("JOYFLOW_HOME", str(home))
        if trial % 3 != 2:
            # past the two returns: the kill lands inside a participation or attendance import
            after, point = rng.randrange(2, FILES), rng.choice(("before_commit", "after_commit"))
            how = f"after {after} files at {point}"
            run = procs.start_run(
                url,
                network,
                home,
                PERIOD,
                fault=Fault(after_files=after, at=point),
            )
            report = run.wait(120)
            assert report is None, (how, report)
        else:
            delay = rng.uniform(0.0, clean_seconds * 1.2)
            how = f"after {delay:.2f} s"
            run = procs.start_run(url, network, home, PERIOD)
            time.sleep(delay)
            run.kill()
            report = run.wait(30)
        killed = run.exitcode == -9
        assert killed or (report is not None and report["result"] == "ok"), (how, report)
        log.append(f"{how}: {'killed' if killed else 'finished first'}")

        nw.run(url, network, PERIOD, backfill=True)  # not killed
        eng = make_engine(url)
        try:
            assert diff(table_checksums(eng), expected) == [], f"trial {trial} (seed {seed}), killed {how}"
            with eng.connect() as conn:
                entries = [
                    dict(r._mapping)
                    for r in conn.execute(select(ValidationIssue).order_by(ValidationIssue.seq))
                ]
        finally:
            eng.dispose()
        assert verify_entries(entries, "warehouse") == [], how
        logged = list(read_log(home / "audit"))
        assert [(e["seq"], e["entry_hash"]) for e in logged] == [
            (e["seq"], e["entry_hash"]) for e in entries
        ], how
    print(f"\n{TRIALS} trials on {warehouse_url.split(':', 1)[0]} (seed {seed}):\n  " + "\n  ".join(log))
