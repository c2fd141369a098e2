"""Loading many validated files in one transaction: the backfill's path into the warehouse.

``load_batch`` stores exactly what ``warehouse.load.load_file`` stores for each of the files, one
after another in the order given — the same ``received_file`` rows, submission versions,
``load_seq`` numbers, supersessions, data rows and audit entries (same content, same chain
order) — but in one write-locked transaction, with one statement per table instead of ten per
file, the measure rows through the bulk writer (``warehouse.bulk``) and one commit (one fsync)
for the whole batch.

Whole submissions only: a crash before the commit leaves nothing of the batch; after it, all of
it. A re-run finds the batch's files by their SHA-256 (duplicates, as with ``load_file``) and loads
the rest, ending where a clean run ends. Numbers that depend on what is already stored (versions,
``load_seq``, the chain's head) are read inside the transaction, under the write lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl
from sqlalchemy import Connection, Engine, func, select, tuple_

from schemas.returns import DUPLICATE, FileVerdict
from transforms.intake.archive import Received
from warehouse.audit.chain import chain
from warehouse.bulk import measure_frame, write_measure_values
from warehouse.load import (
    MAX_BIND_PARAMS,
    MEASURE_COLUMNS,
    PART_TABLES,
    SUPERSEDE,
    LoadOutcome,
    audit_entries,
    chain_head,
    insert_of,
    insert_rows,
    part_rows,
    received_row,
    submission_row,
)
from warehouse.lock import lock_warehouse
from warehouse.models import ReceivedFile, Submission, ValidationIssue

_KEYS_PER_QUERY = MAX_BIND_PARAMS // 2  # (team, period) pairs per IN list


def load_batch(
    engine: Engine,
    files: Sequence[tuple[Received, FileVerdict]],
    run_id: str,
    *,
    period_folder: str | None,
    due_day: int = 10,
    checks_run: int = 0,
    now: dt.datetime | None = None,
) -> list[LoadOutcome]:
    """Record the files, their issues and the accepted files' data in one transaction, in order;
    one ``LoadOutcome`` per file, as ``load_file`` would have returned them one by one."""
    if not files:
        return []
    now = now or dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        lock_warehouse(conn)
        seen = _stored_sha256(conn, [r.sha256 for r, _ in files])
        fresh = []  # per file: new here (not loaded before, nor earlier in this batch)
        for received, _ in files:
            fresh.append(received.sha256 not in seen)
            seen.add(received.sha256)
        new = [f for f, is_new in zip(files, fresh, strict=True) if is_new]
        insert_rows(conn, ReceivedFile, [received_row(r, v, run_id, now, period_folder) for r, v in new])
        subs = _number_submissions(conn, [(r, v) for r, v in new if v.accepted], run_id, due_day)
        _write_data(conn, [(v, subs[r.sha256]) for r, v in new if v.accepted])
        per_file = [audit_entries(v, r, run_id, now, v.status, checks_run) for r, v in new]
        seq, prev = chain_head(conn)
        entries = chain([e for es in per_file for e in es], prev, seq)
        if entries:  # none when every file was loaded before
            conn.execute(insert_of(ValidationIssue), entries)
    return _outcomes(files, fresh, subs, per_file, entries)


def _stored_sha256(conn: Connection, shas: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(shas), MAX_BIND_PARAMS):
        chunk = shas[start : start + MAX_BIND_PARAMS]
        found.update(conn.scalars(select(ReceivedFile.sha256).where(ReceivedFile.sha256.in_(chunk))))
    return found


def _number_submissions(
    conn: Connection, accepted: list[tuple[Received, FileVerdict]], run_id: str, due_day: int
) -> dict[str, dict]:
    """The accepted files' ``submission`` rows by SHA-256, numbered as loads one after another
    number them: the next version of each team and month, the next ``load_seq``; the version in
    force before, stored or earlier in the batch, superseded by the next one."""
    if not accepted:
        return {}
    pairs = sorted({(v.team_id, v.period) for _, v in accepted})
    last_version: dict[tuple[str, str], int] = {}
    for start in range(0, len(pairs), _KEYS_PER_QUERY):
        stmt = (
            select(Submission.team_id, Submission.period, func.max(Submission.version))
            .where(tuple_(Submission.team_id, Submission.period).in_(pairs[start : start + _KEYS_PER_QUERY]))
            .group_by(Submission.team_id, Submission.period)
        )
        last_version.update({(t, p): v for t, p, v in conn.execute(stmt)})
    load_seq = conn.scalar(select(func.max(Submission.load_seq))) or 0
    rows: dict[str, dict] = {}
    newest: dict[tuple[str, str], dict] = {}  # the batch's latest row of each team and month
    supersede_stored = []
    for received, verdict in accepted:
        key = (verdict.team_id, verdict.period)
        version, load_seq = last_version.get(key, 0) + 1, load_seq + 1
        last_version[key] = version
        row = submission_row(received, verdict, run_id, version, load_seq, due_day)
        if key in newest:
            newest[key]["superseded_by"] = row["submission_id"]
        elif version > 1:
            supersede_stored.append({"b_team": key[0], "b_period": key[1], "b_sid": row["submission_id"]})
        newest[key] = rows[received.sha256] = row
    if supersede_stored:
        conn.execute(SUPERSEDE, supersede_stored)
    return rows


def _write_data(conn: Connection, accepted: list[tuple[FileVerdict, dict]]) -> None:
    """The submissions, then their measure rows (bulk), PDSA and learning rows: a table at a time."""
    if not accepted:
        return
    insert_rows(conn, Submission, [row for _, row in accepted])
    write_measure_values(conn, _measure_rows(accepted))
    parts: dict[type, list[dict]] = {model: [] for model, _, _ in PART_TABLES}
    for verdict, row in accepted:
        for model, rows in part_rows(verdict, row["submission_id"]):
            parts[model].extend(rows)
    for model, rows in parts.items():
        insert_rows(conn, model, rows)


def _measure_rows(accepted: list[tuple[FileVerdict, dict]]) -> pl.DataFrame:
    """All the batch's measure rows as one frame: the files' frames stacked (one concat, not a
    query per file), each row tagged with its submission and team."""
    frames = [v.frames["measures"] for v, _ in accepted]
    heights = [f.height for f in frames]
    tags = {
        name: [row[name] for (_, row), n in zip(accepted, heights, strict=True) for _ in range(n)]
        for name in ("submission_id", "team_id")
    }
    stacked = pl.concat(frames, how="diagonal_relaxed")
    return measure_frame(
        stacked.select(
            *[pl.col(src).alias(name) for name, src in MEASURE_COLUMNS.items()],
            pl.col("_row").alias("source_row"),
        ).with_columns(pl.Series(name, values, pl.String) for name, values in tags.items())
    )


def _outcomes(
    files: Sequence[tuple[Received, FileVerdict]],
    fresh: list[bool],
    subs: dict[str, dict],
    per_file: list[list[dict]],
    entries: list[dict],
) -> list[LoadOutcome]:
    """Each file's outcome with its own (chained) audit entries, in file order."""
    out, taken, k = [], iter(per_file), 0
    for (received, verdict), is_new in zip(files, fresh, strict=True):
        if not is_new:
            out.append(LoadOutcome(received.name, received.sha256, DUPLICATE, None, None, []))
            continue
        n = len(next(taken))
        row = subs.get(received.sha256)
        out.append(
            LoadOutcome(
                received.name,
                received.sha256,
                verdict.status,
                row["submission_id"] if row else None,
                row["version"] if row else None,
                entries[k : k + n],
            )
        )
        k += n
    return out
