"""Loading validated returns: one database transaction per file — all of it or none of it.

Loads are serialised across processes (``warehouse.lock.lock_warehouse``: a PostgreSQL advisory
lock / SQLite's write lock taken by ``BEGIN IMMEDIATE``) so versions, load order and the audit
chain are assigned without races, and a load that dies half-way leaves nothing behind:
re-running finds the files it did load as duplicates and loads the rest in the same order,
ending exactly where a clean run ends.

Both dialects store the same thing. Values are made to fit before they are written (and, for
the audit log, before they are hashed), because PostgreSQL enforces what SQLite does not:

* text from a team's file longer than its ``VARCHAR(n)`` (a 40-character "team id" typed into
  a rejected return, an unknown linked measure) is cut to fit, ending in "…", instead of
  failing the whole file on PostgreSQL only (``CUT_TO_FIT``); a key, id, hash or path that is
  too long is an error on both;
* NUL characters, which PostgreSQL text cannot hold, become U+FFFD;
* NaN floats, which SQLite silently stores as NULL, are NULL on both.

Multi-row statements are chunked below both dialects' bound-parameter limits (PostgreSQL
65,535; SQLite 32,766); ``executemany`` inserts are batched by SQLAlchemy's insertmanyvalues.

A backfill loads many files per transaction instead (``warehouse.batch``): the same rows, numbers
and audit entries, built by the helpers here.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, Engine, Insert, String, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from schemas.config import Network
from schemas.returns import DUPLICATE, FileVerdict
from transforms.intake.archive import Received
from warehouse.audit.chain import GENESIS, chain
from warehouse.lock import lock_warehouse
from warehouse.models import (
    Coach,
    LearningNote,
    Measure,
    MeasureValue,
    Organisation,
    PdsaCycle,
    PeopleChange,
    ReceivedFile,
    Submission,
    Team,
    ValidationIssue,
)

MAX_BIND_PARAMS = 30_000  # per statement: below SQLite's 32,766 and PostgreSQL's 65,535


PDSA_COLUMNS = (
    "change_idea",
    "component",
    "cycle",
    "start_date",
    "end_date",
    "prediction",
    "what_happened",
    "decision",
    "linked_measure",
)
LEARNING_COLUMNS = ("went_well", "challenges", "help_wanted")
PEOPLE_CHANGE_COLUMNS = ("change", "name", "email", "role", "steering_committee", "effective_on")


@dataclass(frozen=True)
class LoadOutcome:
    file: str
    sha256: str
    status: str  # accepted | accepted_with_warnings | rejected | duplicate
    submission_id: str | None
    version: int | None
    audit_entries: list[dict]


# --- making values fit both dialects ---


def _limits(model: type) -> dict[str, int]:
    return {
        c.name: c.type.length for c in model.__table__.columns if isinstance(c.type, String) and c.type.length
    }


_LIMITS: dict[type, dict[str, int]] = {}

# Text that comes from a team's file (or the registry's display names) and may be cut to fit.
# Anything else that is too long — a key, an id, a hash, a path — is an error on both dialects
# alike, never silently shortened into a different value.
CUT_TO_FIT: dict[str, frozenset[str]] = {
    "received_file": frozenset({"original_name", "team_id", "period"}),
    "validation_issue": frozenset({"file", "team_id", "period", "part", "column", "check"}),
    "submission": frozenset({"submitted_by"}),
    "pdsa_cycle": frozenset({"component", "decision", "linked_measure"}),
    "organisation": frozenset({"name"}),
    "coach": frozenset({"name"}),
    "team": frozenset({"name", "cohort"}),
    "measure": frozenset({"name", "unit"}),
}


def clean_text(value: str, limit: int | None = None) -> str:
    """NUL-free text that fits ``limit`` characters (cut ones end in "…")."""
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    return value


def fit_row(model: type, row: dict) -> dict:
    """A row whose text fits its columns and whose floats are not NaN, as both dialects store it."""
    limits = _LIMITS.get(model)
    if limits is None:
        limits = _LIMITS[model] = _limits(model)
    table = model.__table__.name
    cut = CUT_TO_FIT.get(table, frozenset())
    out = {}
    for k, v in row.items():
        if isinstance(v, str):
            limit = limits.get(k)
            if limit is not None and len(v) > limit and k not in cut:
                raise ValueError(f"{table}.{k} holds at most {limit} characters; got {len(v)}: {v[:80]!r}")
            v = clean_text(v, limit)
        elif isinstance(v, float) and math.isnan(v):
            v = None
        out[k] = v
    return out


def fit_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame form of ``fit_row`` for bulk rows (NaN to null, NUL to U+FFFD).

    NUL is rare: a column is rewritten only if it has one (found by one scan of the column's
    text joined up, ~5x cheaper than rewriting every value of every text column).
    """
    strings = [c for c, t in frame.schema.items() if t == pl.String]
    has_nul = frame.select(pl.col(c).str.join("").str.contains("\x00", literal=True) for c in strings)
    return frame.with_columns(
        *[pl.col(c).fill_nan(None) for c, t in frame.schema.items() if t.is_float()],
        *[
            pl.col(c).str.replace_all("\x00", "\ufffd", literal=True)
            for c, nul in zip(strings, has_nul.row(0) if strings else (), strict=True)
            if nul
        ],
    )


@functools.cache
def insert_of(model: type) -> Insert:
    """One INSERT per model, built once (an executemany of it is one statement per file part)."""
    return insert(model)


def insert_rows(conn: Connection, model: type, rows: list[dict]) -> None:
    """Rows made to fit (``fit_row``), in one executemany."""
    if rows:
        conn.execute(insert_of(model), [fit_row(model, r) for r in rows])


def upsert(conn: Connection, model: type, rows: list[dict], key: list[str]) -> None:
    """Insert ``rows``, updating those whose ``key`` exists (PostgreSQL and SQLite dialect inserts)."""
    if not rows:
        return
    table = model.__table__
    maker = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    rows = [fit_row(model, r) for r in rows]
    per_stmt = max(1, MAX_BIND_PARAMS // max(1, len(rows[0])))
    for start in range(0, len(rows), per_stmt):
        stmt = maker(table).values(rows[start : start + per_stmt])
        updates = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in key}
        conn.execute(stmt.on_conflict_do_update(index_elements=key, set_=updates))


def _config_rows(network: Network) -> list[tuple[type, list[dict], list[str]]]:
    reg = network.registry
    cols = [c.name for c in Measure.__table__.columns]
    return [
        (
            Organisation,
            reg.select(pl.col("organisation_id"), pl.col("organisation_name").alias("name"))
            .unique("organisation_id", keep="first", maintain_order=True)
            .to_dicts(),
            ["organisation_id"],
        ),
        (
            Coach,
            reg.select(pl.col("coach_email").alias("email"), pl.col("coach_name").alias("name"))
            .unique("email", keep="first", maintain_order=True)
            .to_dicts(),
            ["email"],
        ),
        (
            Team,
            reg.select(
                "team_id",
                pl.col("team_name").alias("name"),
                "organisation_id",
                pl.col("coach_email"),
                "cohort",
                "first_period",
            ).to_dicts(),
            ["team_id"],
        ),
        (
            Measure,
            network.catalogue.select([c for c in cols if c in network.catalogue.columns]).to_dicts(),
            ["measure_id"],
        ),
    ]


def _config_in_place(conn: Connection, wanted: list[tuple[type, list[dict], list[str]]]) -> bool:
    for model, rows, key in wanted:
        if not rows:
            continue
        names = list(rows[0])
        stored = {}
        for r in conn.execute(select(*[model.__table__.c[n] for n in names])):
            values = dict(zip(names, r, strict=True))
            stored[tuple(values[k] for k in key)] = values
        for row in rows:
            row = fit_row(model, row)
            if stored.get(tuple(row[k] for k in key)) != row:
                return False
    return True


def sync_config(engine: Engine, network: Network) -> None:
    """The registry and catalogue are configuration: the warehouse mirrors the validated files.

    Unchanged configuration (every run but the first after an edit) is only read, so a run
    does not queue for the write lock behind another run's loads just to rewrite the same rows.
    """
    wanted = _config_rows(network)
    with engine.connect() as conn:
        if _config_in_place(conn, wanted):
            return
    with engine.begin() as conn:
        lock_warehouse(conn)
        for model, rows, key in wanted:
            upsert(conn, model, rows, key)


# The per-file statements, built once: building a statement costs more than running it here.
_IS_DUPLICATE = select(ReceivedFile.sha256).where(ReceivedFile.sha256 == bindparam("sha256"))
_CHAIN_HEAD = (
    select(ValidationIssue.seq, ValidationIssue.entry_hash).order_by(ValidationIssue.seq.desc()).limit(1)
)
_NEXT_NUMBERS = select(  # the team-month's last version and the warehouse's last load_seq, in one round trip
    select(func.max(Submission.version))
    .where(Submission.team_id == bindparam("b_team"), Submission.period == bindparam("b_period"))
    .scalar_subquery(),
    select(func.max(Submission.load_seq)).scalar_subquery(),
)
SUPERSEDE = (  # the version in force of a team and month points at the one replacing it
    update(Submission)
    .where(
        Submission.team_id == bindparam("b_team"),
        Submission.period == bindparam("b_period"),
        Submission.superseded_by.is_(None),
    )
    .values(superseded_by=bindparam("b_sid"))
)


def chain_head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(_CHAIN_HEAD).first()
    return (row.seq + 1, row.entry_hash) if row else (1, GENESIS)


def frame_rows(frame: pl.DataFrame, columns: dict[str, str], constants: dict) -> list[dict]:
    """Row dicts of a small frame: ``columns`` maps stored names to the frame's, ``constants`` adds
    the same value to every row. Column lists zipped in Python: for a file's few dozen rows that
    is several times cheaper than a Polars ``select`` (whose fixed cost is a query plan)."""
    lists = {name: frame.get_column(src).to_list() for name, src in columns.items()}
    return [
        {**constants, **dict(zip(lists, values, strict=True))} for values in zip(*lists.values(), strict=True)
    ]


def due_date(period: str, due_day: int) -> dt.date:
    year, month = map(int, period.split("-"))
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return dt.date(year, month, min(due_day, 28))


def audit_entries(
    verdict: FileVerdict, received: Received, run_id: str, now: dt.datetime, status: str, checks_run: int
) -> list[dict]:
    """A file's findings and its outcome line, as the audit log stores them (not yet chained)."""
    base = {
        "run_id": run_id,
        "logged_at": now.isoformat(),
        "sha256": received.sha256,
        "file": received.name,
        "team_id": verdict.team_id,
        "period": verdict.period,
    }
    entries = [
        {
            **base,
            "part": i.part,
            "row": i.row,
            "column": i.column,
            "check": i.check,
            "severity": i.severity,
            "value": i.value,
            "message": i.message,
        }
        for i in verdict.issues
    ]
    counts = {s: sum(1 for i in verdict.issues if i.severity == s) for s in ("fatal", "error", "warning")}
    summary = (
        f"{status.replace('_', ' ')}: {checks_run} rules checked; {counts['fatal']} fatal, "
        f"{counts['error']} errors, {counts['warning']} warnings. File {received.size:,} bytes."
    )
    entries.append(
        {
            **base,
            "part": None,
            "row": None,
            "column": None,
            "check": "file_outcome",
            "severity": "info",
            "value": status,
            "message": summary,
        }
    )
    # Fitted before hashing: the chain covers exactly what the warehouse stores.
    return [fit_row(ValidationIssue, e) for e in entries]


def received_row(
    received: Received, verdict: FileVerdict, run_id: str, now: dt.datetime, period_folder: str | None
) -> dict:
    """The ``received_file`` row: every file received, whatever its outcome."""
    return dict(
        sha256=received.sha256,
        original_name=received.name,
        size_bytes=received.size,
        period_folder=period_folder,
        first_seen_at=now,
        first_run_id=run_id,
        archive_path=str(received.archive_path),
        outcome=verdict.status,
        team_id=verdict.team_id,
        period=verdict.period,
        issue_count=len(verdict.issues),
    )


def submission_row(
    received: Received, verdict: FileVerdict, run_id: str, version: int, load_seq: int, due_day: int
) -> dict:
    """The ``submission`` row of an accepted file, as version ``version`` of its team and month."""
    team, period = verdict.team_id, verdict.period
    about = verdict.about
    submitted_on = about.get("submitted_on")
    return dict(
        submission_id=submission_id(team, period, version),
        team_id=team,
        period=period,
        version=version,
        load_seq=load_seq,
        sha256=received.sha256,
        run_id=run_id,
        status=verdict.status,
        superseded_by=None,
        submitted_by=about.get("submitted_by") or None,
        submitted_on=submitted_on,
        progress_score=about.get("progress_score"),
        on_time=None if submitted_on is None else submitted_on <= due_date(period, due_day),
        warning_count=sum(1 for i in verdict.issues if i.severity == "warning"),
    )


def submission_id(team: str, period: str, version: int) -> str:
    return f"{team}:{period}:v{version}"


MEASURE_COLUMNS = {c: c for c in ("measure_id", "period", "numerator", "denominator", "value", "comment")}


# The parts stored a row per row, besides the measures: (model, part, columns).
PART_TABLES: tuple[tuple[type, str, tuple[str, ...]], ...] = (
    (PdsaCycle, "pdsa", PDSA_COLUMNS),
    (LearningNote, "learning", LEARNING_COLUMNS),
    (PeopleChange, "people_changes", PEOPLE_CHANGE_COLUMNS),
)


def part_rows(verdict: FileVerdict, sid: str) -> list[tuple[type, list[dict]]]:
    """An accepted file's PDSA, learning and people-change rows. Rows keep the Excel row they came
    from, so a stored row leads back to the team's cell."""
    keys = {"submission_id": sid, "team_id": verdict.team_id, "period": verdict.period}
    out = []
    for model, part, columns in PART_TABLES:
        frame = verdict.frames.get(part)
        if frame is not None and frame.height:
            out.append((model, frame_rows(frame, {"source_row": "_row", **{c: c for c in columns}}, keys)))
    return out


def load_file(
    engine: Engine,
    received: Received,
    verdict: FileVerdict,
    run_id: str,
    *,
    period_folder: str | None,
    due_day: int = 10,
    checks_run: int = 0,
    now: dt.datetime | None = None,
) -> LoadOutcome:
    """Record one received file, its issues and (if accepted) its data, atomically."""
    now = now or dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        lock_warehouse(conn)
        if conn.execute(_IS_DUPLICATE, {"sha256": received.sha256}).first():
            return LoadOutcome(received.name, received.sha256, DUPLICATE, None, None, [])
        insert_rows(conn, ReceivedFile, [received_row(received, verdict, run_id, now, period_folder)])
        sid = version = None
        if verdict.accepted:
            sid, version = _load_submission(conn, received, verdict, run_id, due_day)
        seq, prev = chain_head(conn)
        entries = chain(audit_entries(verdict, received, run_id, now, verdict.status, checks_run), prev, seq)
        conn.execute(insert_of(ValidationIssue), entries)
    return LoadOutcome(received.name, received.sha256, verdict.status, sid, version, entries)


def _load_submission(
    conn: Connection, received: Received, verdict: FileVerdict, run_id: str, due_day: int
) -> tuple[str, int]:
    team, period = verdict.team_id, verdict.period
    last_version, last_seq = conn.execute(_NEXT_NUMBERS, {"b_team": team, "b_period": period}).one()
    row = submission_row(received, verdict, run_id, (last_version or 0) + 1, (last_seq or 0) + 1, due_day)
    sid = row["submission_id"]
    conn.execute(SUPERSEDE, {"b_team": team, "b_period": period, "b_sid": sid})
    insert_rows(conn, Submission, [row])
    measures = frame_rows(
        verdict.frames["measures"],
        {**MEASURE_COLUMNS, "source_row": "_row"},
        {"submission_id": sid, "team_id": team},
    )
    insert_rows(conn, MeasureValue, measures)
    for model, rows in part_rows(verdict, sid):
        insert_rows(conn, model, rows)
    return sid, row["version"]
