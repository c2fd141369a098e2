"""Warehouse history on SQLite and on the real PostgreSQL server: corrections, resubmissions,
idempotent re-runs, rejected files, the audit chain — and values both dialects store alike."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from tests.warehouse_support import networks as nw
from warehouse import queries
from warehouse.audit.chain import GENESIS, verify_entries
from warehouse.audit.logfiles import read_log
from warehouse.checksum import VOLATILE_TABLES, row_counts, table_checksums
from warehouse.engine import make_engine
from warehouse.load import clean_text, fit_row
from warehouse.models import (
    MeasureValue,
    PdsaCycle,
    PipelineRun,
    ReceivedFile,
    Submission,
    ValidationIssue,
    current_value_view,
)


@pytest.fixture
def wh(warehouse_url: str) -> Engine:
    eng = make_engine(warehouse_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo generator at its smallest with every story: 8 teams × 4 months, two rejected
    files and a resubmission (v2) in the next-to-last month. Runs only read it."""
    from transforms.demo import generate

    root = tmp_path_factory.mktemp("demo8x4") / "network"
    generate(root, teams=8, months=4, end="2026-10")
    return root


def _values(eng: Engine, team: str, measure: str, period: str) -> list[tuple]:
    with eng.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(MeasureValue.submission_id, MeasureValue.value, MeasureValue.comment)
                .where(
                    MeasureValue.team_id == team,
                    MeasureValue.measure_id == measure,
                    MeasureValue.period == period,
                )
                .order_by(MeasureValue.submission_id)
            )
        ]


def _current(eng: Engine, team: str, measure: str, period: str) -> tuple | None:
    v = current_value_view.c
    with eng.connect() as conn:
        row = conn.execute(
            select(v.value, v.submission_id).where(
                v.team_id == team, v.measure_id == measure, v.period == period
            )
        ).first()
    return None if row is None else tuple(row)


def _submissions(eng: Engine, team: str, period: str) -> dict[str, tuple]:
    with eng.connect() as conn:
        rows = conn.execute(
            select(
                Submission.submission_id,
                Submission.version,
                Submission.load_seq,
                Submission.superseded_by,
                Submission.status,
            ).where(Submission.team_id == team, Submission.period == period)
        )
        return {r.submission_id: (r.version, r.load_seq, r.superseded_by, r.status) for r in rows}


def test_corrections_and_resubmissions_keep_history(
    warehouse_url: str, wh: Engine, tmp_path: Path, joyflow_home: Path
) -> None:
    net = nw.network(tmp_path / "net")
    nw.write(net, "T01", "2026-07", pulse=6.0)
    nw.write(net, "T02", "2026-07", pulse=5.0)
    assert set(nw.statuses(nw.run(warehouse_url, net, "2026-07")).values()) == {"accepted"}

    # August's return also corrects July: a new row from the August submission, July's row kept.
    nw.write(net, "T01", "2026-08", pulse=6.4, corrections={"2026-07": 6.2})
    assert nw.statuses(nw.run(warehouse_url, net, "2026-08")) == {"T01_2026-08.xlsx": "accepted"}
    assert _values(wh, "T01", "JOY_PULSE", "2026-07") == [
        ("T01:2026-07:v1", 6.0, None),
        ("T01:2026-08:v1", 6.2, "Corrected 2026-07: late forms counted"),
    ]
    assert _current(wh, "T01", "JOY_PULSE", "2026-07") == (6.2, "T01:2026-08:v1")
    assert _current(wh, "T02", "JOY_PULSE", "2026-07") == (5.0, "T02:2026-07:v1")

    # A resubmission of August (v2, no correction this time) supersedes v1 without deleting it.
    nw.write(net, "T01", "2026-08", name="T01_2026-08_v2.xlsx", pulse=6.5)
    assert nw.statuses(nw.run(warehouse_url, net, "2026-08")) == {
        "T01_2026-08.xlsx": "duplicate",
        "T01_2026-08_v2.xlsx": "accepted",
    }
    subs = _submissions(wh, "T01", "2026-08")
    assert subs["T01:2026-08:v1"][0] == 1 and subs["T01:2026-08:v1"][2] == "T01:2026-08:v2"
    assert subs["T01:2026-08:v2"][0] == 2 and subs["T01:2026-08:v2"][2] is None
    assert subs["T01:2026-08:v2"][1] > subs["T01:2026-08:v1"][1]  # loaded later
    with wh.connect() as conn:
        v1_rows = conn.execute(
            select(func.count()).where(MeasureValue.submission_id == "T01:2026-08:v1")
        ).scalar()
        v1_pdsa = conn.execute(
            select(func.count()).where(PdsaCycle.submission_id == "T01:2026-08:v1")
        ).scalar()
    assert v1_rows == 9 and v1_pdsa == 1  # eight measures and the correction, and its PDSA cycle: all kept
    assert _current(wh, "T01", "JOY_PULSE", "2026-08") == (6.5, "T01:2026-08:v2")
    # v2 replaces the whole of v1, its correction of July included: July is July's own value again.
    assert _current(wh, "T01", "JOY_PULSE", "2026-07") == (6.0, "T01:2026-07:v1")
    assert len(_values(wh, "T01", "JOY_PULSE", "2026-07")) == 2  # ... but the correction is still history

    # A later month corrects July again: the latest loaded value is current.
    nw.write(net, "T01", "2026-09", pulse=6.6, corrections={"2026-07": 6.3})
    nw.run(warehouse_url, net, "2026-09")
    assert _current(wh, "T01", "JOY_PULSE", "2026-07") == (6.3, "T01:2026-09:v1")
    assert [v for _, v, _ in _values(wh, "T01", "JOY_PULSE", "2026-07")] == [6.0, 6.2, 6.3]

    # A third version of August: v2 is superseded by v3, v1 still points at v2.
    nw.write(net, "T01", "2026-08", name="T01_2026-08_v3.xlsx", pulse=6.45)
    nw.run(warehouse_url, net, "2026-08")
    subs = _submissions(wh, "T01", "2026-08")
    assert {k: v[2] for k, v in subs.items()} == {
        "T01:2026-08:v1": "T01:2026-08:v2",
        "T01:2026-08:v2": "T01:2026-08:v3",
        "T01:2026-08:v3": None,
    }
    assert _current(wh, "T01", "JOY_PULSE", "2026-08") == (6.45, "T01:2026-08:v3")
    # The reports read the same current values through queries, and PDSA only from submissions in force.
    cur = queries.current_values(wh, ["T01"]).filter(measure_id="JOY_PULSE")
    assert cur.select("period", "value").rows() == [("2026-07", 6.3), ("2026-08", 6.45), ("2026-09", 6.6)]
    pdsa = queries.current_pdsa(wh).filter(team_id="T01")
    assert sorted(pdsa.get_column("period").to_list()) == ["2026-07", "2026-08", "2026-09"]


def test_history_before_a_batch_excludes_the_batch(
    warehouse_url: str, wh: Engine, tmp_path: Path, joyflow_home: Path
) -> None:
    """``current_values(exclude_sha256=…)``: the values as if those files had never been loaded."""
    net = nw.network(tmp_path / "net")
    nw.write(net, "T01", "2026-07", pulse=6.0)
    nw.run(warehouse_url, net, "2026-07")
    nw.write(net, "T01", "2026-08", pulse=6.4, corrections={"2026-07": 6.2})
    v2 = nw.write(net, "T01", "2026-08", name="T01_2026-08_v2.xlsx", pulse=6.5)
    nw.run(warehouse_url, net, "2026-08")
    with wh.connect() as conn:
        shas = dict(conn.execute(select(ReceivedFile.original_name, ReceivedFile.sha256)).all())

    def pulse(exclude: list[str] | None) -> list[tuple]:
        cur = queries.current_values(wh, ["T01"], exclude_sha256=exclude).filter(measure_id="JOY_PULSE")
        return cur.select("period", "value").rows()

    assert pulse(None) == pulse([]) == [("2026-07", 6.0), ("2026-08", 6.5)]
    # Without v2, v1 is in force again — with its correction of July.
    assert pulse([shas[v2.name]]) == [("2026-07", 6.2), ("2026-08", 6.4)]
    # Without August's whole batch, only July is known.
    assert pulse([shas["T01_2026-08.xlsx"], shas[v2.name]]) == [("2026-07", 6.0)]
    # Without the view, all other measures agree with it too.
    full = queries.current_values(wh)
    assert queries.current_values(wh, exclude_sha256=["0" * 64]).equals(full)


def test_rerun_after_partial_load_validates_against_the_same_history(
    sqlite_url: str, tmp_path: Path, joyflow_home: Path
) -> None:
    """A run dies after loading v1 of a team's month but before the v2 beside it. The re-run must
    give v2 the verdict a clean run gives it: here, the denominator jump against July."""
    from flows import steps

    net = nw.network(tmp_path / "net")
    nw.write(net, "T01", "2026-07", recommend=(9, 12))
    nw.write(net, "T01", "2026-08", recommend=(30, 40))  # 12 → 40: a denominator jump (warning)
    nw.write(net, "T01", "2026-08", name="T01_2026-08_v2.xlsx", recommend=(31, 40))

    def clean(url: str) -> dict:
        nw.run(url, net, "2026-08", backfill=True)
        return table_checksums(make_engine(url))

    expected = clean(f"sqlite:///{tmp_path / 'clean.db'}")
    nw.run(sqlite_url, net, "2026-07")
    ctx = steps.RunContext.create(net, "2026-08", warehouse_url=sqlite_url, today=nw.TODAY)
    steps.prepare_warehouse(ctx)
    received = [steps.receive(ctx, p) for p in steps.inbox_files(ctx)]
    verdicts = steps.validate(ctx, [raw for _, raw in received])
    steps.load(ctx, received[0][0], verdicts[0])  # v1 committed ... and the process dies here
    nw.run(sqlite_url, net, "2026-08", backfill=True)
    assert table_checksums(make_engine(sqlite_url)) == expected


def test_rerun_changes_nothing(warehouse_url: str, wh: Engine, small_demo: Path, joyflow_home: Path) -> None:
    first = nw.run(warehouse_url, small_demo, "2026-10", backfill=True)
    assert first["counts"]["rejected"] == 2
    counts, sums = row_counts(wh), table_checksums(wh)
    everything = table_checksums(wh, include_volatile=True)
    with wh.connect() as conn:
        files = conn.execute(select(func.count()).select_from(ReceivedFile)).scalar()

    again = nw.run(warehouse_url, small_demo, "2026-10", backfill=True)
    assert again["counts"]["duplicates"] == again["counts"]["files"] == first["counts"]["files"]
    assert again["counts"]["accepted"] == again["counts"]["rejected"] == 0
    after = row_counts(wh)
    assert {k: v for k, v in after.items() if k != "pipeline_run"} == {
        k: v for k, v in counts.items() if k != "pipeline_run"
    }
    assert after["pipeline_run"] == counts["pipeline_run"] + 1  # the re-run is recorded, and that is all
    assert table_checksums(wh) == sums
    # Not even the columns the checksum may ignore moved: nothing was rewritten.
    assert {k: v for k, v in table_checksums(wh, include_volatile=True).items() if k != "pipeline_run"} == {
        k: v for k, v in everything.items() if k != "pipeline_run"
    }
    with wh.connect() as conn:
        runs = conn.execute(
            select(PipelineRun.status, PipelineRun.duplicates, PipelineRun.accepted).order_by(
                PipelineRun.started_at
            )
        ).all()
    assert [tuple(r) for r in runs][-1] == ("completed", files_in_period(small_demo, "2026-10"), 0)
    assert files > 0 and "pipeline_run" in VOLATILE_TABLES


def files_in_period(net: Path, period: str) -> int:
    return len([p for p in (net / "inbox" / period).iterdir() if not p.name.startswith(".")])


def test_rejected_files_leave_issues_and_no_data(
    warehouse_url: str, wh: Engine, small_demo: Path, joyflow_home: Path
) -> None:
    nw.run(warehouse_url, small_demo, "2026-10", backfill=True)
    with wh.connect() as conn:
        rejected = conn.execute(select(ReceivedFile).where(ReceivedFile.outcome == "rejected")).all()
        assert len(rejected) == 2
        for rf in rejected:
            assert conn.execute(select(func.count()).where(Submission.sha256 == rf.sha256)).scalar() == 0
            issues = conn.execute(
                select(ValidationIssue.check, ValidationIssue.severity, ValidationIssue.value).where(
                    ValidationIssue.sha256 == rf.sha256
                )
            ).all()
            assert ("file_outcome", "info", "rejected") in [tuple(i) for i in issues]
            findings = [i for i in issues if i.check != "file_outcome"]
            assert findings and any(i.severity in ("fatal", "error") for i in findings)
            assert rf.issue_count == len(findings)
        # The rejected numerator>denominator return's team has no data for that month from it.
        bad = next(rf for rf in rejected if rf.team_id is not None)
        subs = conn.execute(
            select(Submission.submission_id).where(
                Submission.team_id == bad.team_id, Submission.period == bad.period
            )
        ).all()
        assert subs == []
        assert (
            conn.execute(
                select(func.count()).where(
                    MeasureValue.team_id == bad.team_id, MeasureValue.submission_id.like(f"%:{bad.period}:%")
                )
            ).scalar()
            == 0
        )


def test_rejected_file_beside_an_accepted_one(
    warehouse_url: str, wh: Engine, tmp_path: Path, joyflow_home: Path
) -> None:
    net = nw.network(tmp_path / "net")
    nw.write(net, "T01", "2026-07")
    nw.write(net, "T02", "2026-07", recommend=(31, 24))  # numerator above denominator: error
    statuses = nw.statuses(nw.run(warehouse_url, net, "2026-07"))
    assert statuses == {"T01_2026-07.xlsx": "accepted", "T02_2026-07.xlsx": "rejected"}
    with wh.connect() as conn:
        for model in (MeasureValue, PdsaCycle, Submission):
            assert conn.execute(select(func.count()).where(model.team_id == "T02")).scalar() == 0
            assert conn.execute(select(func.count()).where(model.team_id == "T01")).scalar() > 0
        assert (
            conn.execute(select(ReceivedFile.outcome).where(ReceivedFile.team_id == "T02")).scalar()
            == "rejected"
        )
        issues = conn.execute(
            select(
                ValidationIssue.check, ValidationIssue.severity, ValidationIssue.row, ValidationIssue.column
            ).where(ValidationIssue.team_id == "T02")
        ).all()
    assert ("file_outcome", "info", None, None) in [tuple(i) for i in issues]
    assert any(i.severity == "error" and i.row is not None and i.column for i in issues)


def test_audit_chain_is_continuous_across_files_and_runs(
    warehouse_url: str, wh: Engine, tmp_path: Path, joyflow_home: Path
) -> None:
    net = nw.network(tmp_path / "net")
    for period in ("2026-07", "2026-08"):
        for team in nw.TEAMS:
            nw.write(net, team, period, pulse=6.0 + 0.1 * int(team[1:]))
    nw.write(net, "T03", "2026-08", name="T03_2026-08_v2.xlsx", recommend=(50, 12))  # rejected
    runs = [
        nw.run(warehouse_url, net, "2026-07"),
        nw.run(warehouse_url, net, "2026-08"),
        nw.run(warehouse_url, net, "2026-08"),
    ]  # the last: all duplicates, adds nothing
    assert runs[2]["counts"]["duplicates"] == 4
    with wh.connect() as conn:
        rows = conn.execute(select(ValidationIssue).order_by(ValidationIssue.seq)).all()
    entries = [dict(r._mapping) for r in rows]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0]["prev_hash"] == GENESIS
    assert verify_entries(entries, "warehouse") == []
    assert len({e["run_id"] for e in entries}) == 2 and len({e["sha256"] for e in entries}) == 7
    # Each file's entries continue from the previous file's last entry, across the two runs.
    firsts = [i for i in range(1, len(entries)) if entries[i]["sha256"] != entries[i - 1]["sha256"]]
    assert len(firsts) == 6
    for i in firsts:
        assert entries[i]["prev_hash"] == entries[i - 1]["entry_hash"]
    # The JSONL log beside the warehouse holds the same chain, entry for entry.
    logged = list(read_log(joyflow_home / "audit"))
    assert [(e["seq"], e["entry_hash"]) for e in logged] == [(e["seq"], e["entry_hash"]) for e in entries]


def test_values_are_made_to_fit_both_dialects(
    warehouse_url: str, wh: Engine, tmp_path: Path, joyflow_home: Path
) -> None:
    """Text PostgreSQL would refuse (too long for its column) is cut the same way on both."""
    net = nw.network(tmp_path / "net")
    long_team = "T" + "X" * 40
    nw.write(net, "T01", "2026-07", name=f"{long_team}_2026-07.xlsx", about={"team_id": long_team})
    long_measure = "NOT_A_MEASURE_" + "Y" * 30
    nw.write(
        net,
        "T02",
        "2026-07",
        pdsa=[
            {
                "change_idea": "Pebble board",
                "component": "daily improvement",
                "cycle": 1,
                "start_date": dt.date(2026, 7, 3),
                "end_date": None,
                "prediction": "p",
                "what_happened": "w",
                "decision": "continue",
                "linked_measure": long_measure,
            }
        ],
    )
    statuses = nw.statuses(nw.run(warehouse_url, net, "2026-07"))
    assert statuses[f"{long_team}_2026-07.xlsx"] == "rejected"
    assert statuses["T02_2026-07.xlsx"] == "accepted_with_warnings"
    with wh.connect() as conn:
        team_ids = {r[0] for r in conn.execute(select(ReceivedFile.team_id))}
        issue_teams = {r[0] for r in conn.execute(select(ValidationIssue.team_id))}
        linked = conn.execute(select(PdsaCycle.linked_measure).where(PdsaCycle.team_id == "T02")).scalar()
    cut_team = long_team[:31] + "…"
    assert team_ids == {cut_team, "T02"} and issue_teams == {cut_team, "T02"}
    assert linked == long_measure[:31] + "…"
    with wh.connect() as conn:
        entries = [
            dict(r._mapping) for r in conn.execute(select(ValidationIssue).order_by(ValidationIssue.seq))
        ]
    assert verify_entries(entries, "warehouse") == []  # hashed as stored


def test_fit_row_units() -> None:
    assert clean_text("a\x00b") == "a\ufffdb"
    assert clean_text("abcdef", 4) == "abc…" and clean_text("abcd", 4) == "abcd"
    row = fit_row(MeasureValue, {"period": "2026-07", "value": math.nan, "comment": "x\x00", "source_row": 3})
    assert row == {"period": "2026-07", "value": None, "comment": "x\ufffd", "source_row": 3}
    assert fit_row(ReceivedFile, {"team_id": "T" * 40})["team_id"] == "T" * 31 + "…"  # from a team's file
    with pytest.raises(ValueError, match="submission.run_id holds at most 64 characters"):
        fit_row(Submission, {"run_id": "r" * 65})  # an id is never shortened into another id


def test_large_batches_stay_under_the_parameter_limits(engine: Engine, tmp_path: Path) -> None:
    """12,000 teams in the registry (Team: 72,000 values in one multi-row upsert: over PostgreSQL's
    65,535 bound parameters, and SQLite's default 32,766) and a return with 20,000 measure rows
    load on both dialects."""
    import polars as pl

    from schemas.config import load_network
    from schemas.returns import FileVerdict
    from transforms.intake.archive import Received
    from warehouse.load import load_file, sync_config

    root = tmp_path / "big"
    root.mkdir()
    lines = ["team_id,team_name,organisation_id,organisation_name,coach_name,coach_email,cohort,first_period"]
    lines += [
        f"T{i:05d},Team {i},ORG{i % 40},Trust {i % 40},Coach,coach{i % 90}@example.org,A,1800-01"
        for i in range(12_000)
    ]
    (root / "registry.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    sync_config(engine, load_network(root))
    sync_config(engine, load_network(root))  # unchanged: read, compared, nothing written
    periods = [f"{1800 + i // 12}-{i % 12 + 1:02d}" for i in range(2500)]
    measures = (
        pl.DataFrame({"period": periods})
        .join(pl.DataFrame({"measure_id": nw.MEASURE_IDS}), how="cross")
        .with_row_index("_row", offset=2)
        .select(
            pl.col("_row").cast(pl.Int64),
            "measure_id",
            "period",
            pl.lit(1.0).alias("numerator"),
            pl.lit(2.0).alias("denominator"),
            pl.lit(0.5).alias("value"),
            pl.lit(None, pl.String).alias("comment"),
        )
    )
    empty = {
        "pdsa": pl.DataFrame(schema={"_row": pl.Int64}),
        "learning": pl.DataFrame(schema={"_row": pl.Int64}),
    }
    verdict = FileVerdict(
        "T00001_2026-07.xlsx",
        "f" * 64,
        team_id="T00001",
        period="2026-07",
        status="accepted",
        frames={"measures": measures, **empty},
        about={"submitted_by": "lead", "submitted_on": dt.date(2026, 7, 30), "progress_score": 2.0},
    )
    received = Received(
        tmp_path / "x.xlsx", "T00001_2026-07.xlsx", "f" * 64, 1234, tmp_path / "archive" / "x.xlsx"
    )
    outcome = load_file(engine, received, verdict, "run-big", period_folder="2026-07")
    assert outcome.submission_id == "T00001:2026-07:v1"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(MeasureValue)).scalar() == 20_000
        assert conn.execute(select(func.count()).where(Submission.on_time.is_(True))).scalar() == 1
        assert conn.execute(select(Submission.submitted_on)).scalar() == dt.date(2026, 7, 30)
