"""The backfill's bulk path stores exactly what loading the same months one file at a time stores:
the same rows, versions, supersessions and ``load_seq``, the same validation results (history
warnings included: month p is validated against months before p), the same audit entries in the
same chain order, the same archive and quarantine — on SQLite and on PostgreSQL.

The reference is the monthly path, run month after month (``joyflow run --period P`` for each
inbox folder in order): one transaction per file. (Crashes of the bulk path: test_warehouse_fault.)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from tests.warehouse_support import networks as nw
from transforms.intake import receive as receiving
from warehouse.audit.chain import verify_entries
from warehouse.audit.logfiles import read_log
from warehouse.checksum import diff, table_checksums
from warehouse.engine import make_engine
from warehouse.models import ValidationIssue

# What an entry says, without when and by which run (and so without its hashes).
FINDING = (
    "seq",
    "sha256",
    "file",
    "team_id",
    "period",
    "part",
    "row",
    "column",
    "check",
    "severity",
    "value",
    "message",
)


@pytest.fixture(scope="module")
def demo8(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo at its smallest with every story: two rejected files, a resubmission (v2). Without its
    participation files: a backfill imports every month's attendance after the returns, month-by-month
    runs after each month's, so the audit chain's order (not its content) differs by design."""
    from transforms.demo import generate

    root = tmp_path_factory.mktemp("bf-demo") / "network"
    generate(root, teams=8, months=4, end="2026-10", participation=False)
    return root


def _history_network(root: Path) -> Path:
    """Hand-written months with what the bulk path must number and order as separate loads would:
    a v1 and a v2 of one team-month in the same folder, the same file sent twice, a later month
    correcting an earlier one, a later resubmission of an earlier month, a rejected file, and a
    value far outside the team's history (a history warning)."""
    net = nw.network(root)
    for name in ("registry.csv", "network.toml"):  # teams from January, so August has six months before it
        (net / name).write_text((net / name).read_text().replace(nw.FIRST_PERIOD, "2026-01"))
    for i, period in enumerate(("2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07")):
        for team in nw.TEAMS:
            nw.write(net, team, period, pulse=6.0 + 0.1 * (i % 3))
    nw.write(net, "T01", "2026-07", name="T01_2026-07_v2.xlsx", pulse=6.3)  # v2 beside v1
    shutil.copyfile(net / "inbox/2026-07/T02_2026-07.xlsx", net / "inbox/2026-07/T02_2026-07 (copy).xlsx")
    nw.write(net, "T03", "2026-08", pulse=8.0)  # far outside T03's history: a warning
    nw.write(net, "T01", "2026-08", pulse=6.2, corrections={"2026-07": 6.25})  # corrects July
    nw.write(net, "T02", "2026-08", name="T02_2026-07_late.xlsx", about={"period": "2026-07"}, pulse=6.4)
    nw.write(net, "T02", "2026-09", about={"team_id": "T99"})  # not in the registry: rejected
    nw.write(net, "T01", "2026-09", pulse=6.1)
    nw.write(net, "T01", "2026-10", pulse=6.2)
    return net


def _fresh_pg(url: str) -> None:
    schema = url.rsplit("search_path%3D", 1)[1]
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()


def _state(url: str, home: Path) -> dict:
    eng = make_engine(url)
    try:
        sums = table_checksums(eng)
        with eng.connect() as conn:
            entries = [
                dict(r._mapping) for r in conn.execute(select(ValidationIssue).order_by(ValidationIssue.seq))
            ]
    finally:
        eng.dispose()
    logged = list(read_log(home / "audit"))
    assert verify_entries(entries, "warehouse") == [] and verify_entries(logged, "log") == []
    assert [e["entry_hash"] for e in logged] == [e["entry_hash"] for e in entries]
    files = {
        d: sorted(p.name for p in (home / d).rglob("*") if p.is_file()) for d in ("archive", "quarantine")
    }
    return {"sums": sums, "findings": [tuple(e[k] for k in FINDING) for e in entries], "files": files}


def _both_ways(
    url: str, net: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, end: str
) -> tuple[dict, dict]:
    months = sorted(p.name for p in (net / "inbox").iterdir())
    states, summaries = [], []
    for way in ("per_file", "bulk"):
        home = tmp_path / way
        monkeypatch.setenv("JOYFLOW_HOME", str(home))
        run_url = f"sqlite:///{tmp_path / f'{way}.db'}" if url.startswith("sqlite") else url
        if not url.startswith("sqlite"):
            _fresh_pg(url)
        if way == "per_file":
            runs = [nw.run(run_url, net, p) for p in months]
        else:
            runs = [nw.run(run_url, net, end, backfill=True)]
        summaries.append(runs[-1])
        states.append(_state(run_url, home))
    assert summaries[0]["files"] == summaries[1]["files"]  # the run's own month: same verdicts
    return states[0], states[1]


def test_a_bulk_backfill_stores_what_loads_file_by_file_store(
    warehouse_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = _history_network(tmp_path / "net")
    per_file, bulk = _both_ways(warehouse_url, net, tmp_path, monkeypatch, "2026-10")
    assert diff(per_file["sums"], bulk["sums"]) == []
    assert per_file["findings"] == bulk["findings"]
    assert per_file["files"] == bulk["files"]
    checks = {(f[2], f[8]) for f in bulk["findings"]}
    # The stories are really in there: a duplicate has no entries, the rest do.
    assert ("T03_2026-08.xlsx", "value_far_from_history") in checks
    assert ("T01_2026-07_v2.xlsx", "file_outcome") in checks
    sent_twice = ("T02_2026-07.xlsx", "T02_2026-07 (copy).xlsx")
    assert sum(any(f[2] == name for f in bulk["findings"]) for name in sent_twice) == 1
    assert sorted(q[13:] for q in bulk["files"]["quarantine"]) == [
        "T02_2026-07_late.xlsx",
        "T02_2026-09.xlsx",
    ]


def test_the_demo_backfilled_in_bulk_matches_month_by_month(
    sqlite_url: str, demo8: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    per_file, bulk = _both_ways(sqlite_url, demo8, tmp_path, monkeypatch, "2026-10")
    assert diff(per_file["sums"], bulk["sums"]) == []
    assert per_file["findings"] == bulk["findings"]
    assert per_file["files"] == bulk["files"]


def test_worker_processes_read_what_the_caller_reads(
    demo8: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    months = [
        sorted((demo8 / "inbox" / m).iterdir()) for m in sorted(p.name for p in (demo8 / "inbox").iterdir())
    ]
    here = list(receiving.receive_months(months, tmp_path / "a1", 25 * 1024 * 1024, workers=1))
    monkeypatch.setattr(receiving, "POOL_MIN_FILES", 0)
    pooled = list(receiving.receive_months(months, tmp_path / "a2", 25 * 1024 * 1024, workers=2))
    assert [len(m) for m in pooled] == [len(m) for m in months]
    for got, want in zip(pooled, here, strict=True):
        for (rec, raw), (rec0, raw0) in zip(got, want, strict=True):
            assert (rec.path, rec.name, rec.sha256, rec.size) == (
                rec0.path,
                rec0.name,
                rec0.sha256,
                rec0.size,
            )
            assert rec.archive_path.read_bytes() == rec0.archive_path.read_bytes()
            assert raw.issues == raw0.issues and raw.parts.keys() == raw0.parts.keys()
            assert all(raw.parts[k].equals(raw0.parts[k]) for k in raw.parts)


def test_a_failing_month_stops_the_readers_and_keeps_the_months_before(
    sqlite_url: str, demo8: Path, joyflow_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiprocessing

    import flows.backfill
    from warehouse.engine import make_engine
    from warehouse.models import PipelineRun, ReceivedFile

    months = sorted(p.name for p in (demo8 / "inbox").iterdir())
    real = flows.backfill.load_batch

    def failing(engine, files, run_id, **kw):
        if kw["period_folder"] == months[1]:
            raise OSError("disk full")
        return real(engine, files, run_id, **kw)

    monkeypatch.setattr(receiving, "POOL_MIN_FILES", 0)  # read in worker processes
    monkeypatch.setattr(flows.backfill, "load_batch", failing)
    with pytest.raises(OSError, match="disk full"):
        nw.run(sqlite_url, demo8, months[-1], backfill=True)
    assert multiprocessing.active_children() == []  # the readers were stopped, not left waiting
    eng = make_engine(sqlite_url)
    try:
        with eng.connect() as conn:
            folders = sorted(conn.execute(select(ReceivedFile.period_folder).distinct()).scalars())
            status = conn.execute(select(PipelineRun.status, PipelineRun.message)).one()
    finally:
        eng.dispose()
    assert folders == months[:1]  # the first month, whole; nothing of the second
    assert status == ("failed", "OSError: disk full")
