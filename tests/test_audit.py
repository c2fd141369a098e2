"""The validation log is tamper-evident: any edited, deleted or reordered entry is caught."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import update

from flows.audit_cli import export, verify
from joyflow.settings import Settings
from tests.conftest import TODAY
from warehouse.audit import chain, logfiles
from warehouse.engine import make_engine
from warehouse.models import ValidationIssue


@pytest.fixture
def logged(demo_network: Path, joyflow_home: Path) -> Settings:
    """Two months of the demo loaded (including rejected files), so the log spans runs."""
    from flows.plain import monthly_run_plain

    for period in ("2026-09", "2026-10"):
        monthly_run_plain(period, demo_network, render=False, today=TODAY)
    return Settings.from_env()


def _log_lines(settings: Settings) -> tuple[Path, list[str]]:
    files = logfiles.log_files(settings.home / "audit")
    assert len(files) == 1
    return files[0], files[0].read_text(encoding="utf-8").splitlines()


def test_intact_log_verifies(logged: Settings, demo_network: Path) -> None:
    received = sum(len(list((demo_network / "inbox" / p).iterdir())) for p in ("2026-09", "2026-10"))
    problems, n = verify(logged)
    assert problems == []
    _, lines = _log_lines(logged)
    assert n == len(lines) > received  # one outcome entry per file, plus the issues
    entries = [json.loads(line) for line in lines]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0]["prev_hash"] == chain.GENESIS
    outcomes = [e for e in entries if e["check"] == "file_outcome"]
    assert len(outcomes) == received
    rejected = {e["file"] for e in outcomes if e["value"] == "rejected"}
    assert rejected == {"T05_2026-10.xlsx", "T08_2026-10.xlsx"}


@pytest.mark.parametrize("tamper", ["edit", "delete", "reorder", "append_forged"])
def test_tampered_log_file_is_caught(logged: Settings, tamper: str) -> None:
    path, lines = _log_lines(logged)
    i = len(lines) // 2
    if tamper == "edit":
        entry = json.loads(lines[i])
        entry["message"] = entry["message"] + " (edited)"
        lines[i] = json.dumps(entry)
    elif tamper == "delete":
        del lines[i]
    elif tamper == "reorder":
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    else:  # a forger recomputes the entry's own hash, but the next entry still points at the original
        entry = json.loads(lines[i])
        entry["severity"] = "warning"
        entry["entry_hash"] = chain.entry_hash(entry)
        lines[i] = json.dumps(entry)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems, _ = verify(logged)
    assert problems, f"{tamper} was not detected"
    assert any(p.where == "log files" for p in problems)


def test_tampered_warehouse_row_is_caught(logged: Settings) -> None:
    engine = make_engine(logged.warehouse_url)
    with engine.begin() as conn:
        conn.execute(
            update(ValidationIssue)
            .where(ValidationIssue.seq == 3)
            .values(message=ValidationIssue.message + " (quietly edited)")
        )
    problems, _ = verify(logged)
    assert any(p.where == "warehouse" and p.seq == 3 for p in problems)


def test_export_is_safe_from_formula_injection(logged: Settings) -> None:
    engine = make_engine(logged.warehouse_url)
    with engine.begin() as conn:  # a hostile value as a team could have typed it
        conn.execute(
            update(ValidationIssue)
            .where(ValidationIssue.seq == 1)
            .values(value='=HYPERLINK("http://evil.example/","click")')
        )
    text = export(logged, None, "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["value"].startswith("'=")
    for row in rows:
        for cell in row.values():
            assert not (cell or "").startswith(("=", "+", "@")), cell
    jsonl = export(logged, "2026-10", "jsonl").splitlines()
    assert all(json.loads(line)["period"] == "2026-10" for line in jsonl)


def test_log_catches_up_after_a_crash_between_commit_and_append(logged: Settings, demo_network: Path) -> None:
    """If the JSONL append was lost after the warehouse commit, the next run restores it."""
    from flows.steps import RunContext
    from warehouse.audit.sync import catch_up_audit_log

    path, lines = _log_lines(logged)
    path.write_text("\n".join(lines[:-3]) + "\n", encoding="utf-8")
    ctx = RunContext.create(demo_network, "2026-10", today=TODAY)
    assert catch_up_audit_log(ctx.engine, ctx.audit_dir) == 3
    problems, _ = verify(logged)
    assert problems == []


def test_a_sqlite_commit_is_on_disk_before_the_log_is_appended(tmp_path: Path) -> None:
    """The JSONL mirror must never get ahead of the warehouse (a power cut after the append would
    leave entries for rolled-back data): every warehouse connection commits with a WAL fsync."""
    engine = make_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    try:
        for _ in range(2):  # each pooled connection, not just the first
            with engine.connect() as conn:
                conn.invalidate()  # the next connect is a new sqlite3 connection
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        engine.dispose()


@pytest.mark.parametrize("by", ["catch_up", "next_append"])
@pytest.mark.parametrize("torn", ["half a line", "half a line, then zeros", "zeros"])
def test_an_append_cut_short_by_a_crash_is_reported_then_repaired(
    logged: Settings, demo_network: Path, by: str, torn: str
) -> None:
    """A crash (or power cut) mid-append leaves a last line without its newline. Verify reports
    it without failing; the next append or catch-up cuts it off and writes the entries again."""
    from flows.steps import RunContext
    from warehouse.audit.sync import catch_up_audit_log, write_audit_log

    path, lines = _log_lines(logged)
    entries = [json.loads(line) for line in lines]
    half = lines[-3].encode()[: len(lines[-3]) // 2]
    tail = {"half a line": half, "half a line, then zeros": half + bytes(5000), "zeros": bytes(4096)}[torn]
    path.write_bytes(("\n".join(lines[:-3]) + "\n").encode() + tail)
    assert logfiles.torn_tail(path) == len(tail)
    assert logfiles.last_logged_seq(path.parent) == entries[-4]["seq"]
    problems, _ = verify(logged)
    assert [(p.where, p.seq) for p in problems] == [("log files", None)]
    assert f"{path.name} ends in {len(tail)} bytes" in str(problems[0])

    ctx = RunContext.create(demo_network, "2026-10", today=TODAY)
    if by == "catch_up":
        assert catch_up_audit_log(ctx.engine, ctx.audit_dir) == 3
    else:
        assert write_audit_log(ctx.engine, ctx.audit_dir, entries[-3:]) == 3
    assert _log_lines(logged)[1] == lines
    problems, _ = verify(logged)
    assert problems == []


def test_a_damaged_line_is_named_not_a_traceback(logged: Settings) -> None:
    path, lines = _log_lines(logged)
    lines[4] = lines[4][:20]  # a line edited into something that is not an entry
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(logfiles.AuditLogError, match=rf"{path.name}, line 5, is not a log entry"):
        list(logfiles.read_log(path.parent))
    # verify reports it among the other problems instead of stopping at it
    problems, _ = verify(logged)
    assert (
        str(problems[0])
        == f"log files: {path.name}, line 5, is not a log entry: the file was damaged or edited"
    )
    assert any(p.where == "log files" and p.seq == 6 and "expected entry 5" in p.problem for p in problems)
    path.write_text("\n".join([*lines[5:], "[1, 2]"]) + "\n", encoding="utf-8")
    with pytest.raises(logfiles.AuditLogError, match=rf"{path.name}, last line, is not a log entry"):
        logfiles.last_logged_seq(path.parent)


def test_appends_landing_out_of_order_still_leave_the_log_in_order(
    logged: Settings, demo_network: Path
) -> None:
    """Two runs sharing a home: run B's commit came after run A's, but B appends first."""
    from flows.steps import RunContext
    from warehouse.audit.sync import write_audit_log

    path, lines = _log_lines(logged)
    entries = [json.loads(line) for line in lines]
    run_a, run_b = entries[-6:-3], entries[-3:]
    path.write_text("\n".join(lines[:-6]) + "\n", encoding="utf-8")  # neither has appended yet
    ctx = RunContext.create(demo_network, "2026-10", today=TODAY)
    assert (
        write_audit_log(ctx.engine, ctx.audit_dir, run_b) == 6
    )  # B finds a gap: A's committed entries come first
    assert write_audit_log(ctx.engine, ctx.audit_dir, run_a) == 0  # A finds its entries already written
    assert [json.loads(line)["seq"] for line in _log_lines(logged)[1]] == [e["seq"] for e in entries]
    problems, _ = verify(logged)
    assert problems == []


def test_last_logged_seq_reads_only_the_tail(tmp_path: Path) -> None:
    log = tmp_path / "audit"
    assert logfiles.last_logged_seq(log) == 0
    log.mkdir()
    body = "".join(json.dumps({"seq": i, "message": "x" * 5000}) + "\n" for i in range(1, 40))
    (log / "audit-000000.jsonl").write_text(body + "\n\n", encoding="utf-8")  # trailing blank lines
    assert logfiles.last_logged_seq(log) == 39
    (log / "audit-000001.jsonl").write_text("", encoding="utf-8")  # a new block not yet written
    assert logfiles.last_logged_seq(log) == 39
