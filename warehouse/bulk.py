"""The bulk path for backfills: many measure rows into the real ``measure_value`` table, in one
transaction, at close to the database's own bulk-load speed — and the floor it is measured against.

``load_measure_values(engine, frame)`` loads the measure rows of submissions that already exist
(their ``submission`` rows were written first), all in one transaction under the warehouse
write lock:

1. the rows are typed, made to fit both dialects (``warehouse.load.fit_frame``: NaN → NULL,
   NUL → U+FFFD) and sorted by primary key (sequential B-tree inserts);
2. set-based checks, inside the transaction, before anything is written: every submission and
   measure exists, each row's ``team_id`` is its submission's team. A repeated (submission,
   measure, period) is caught by the primary key. Any failure: ``BulkLoadError``, nothing written;
3. **idempotent by submission**: a submission's rows are only ever written together, so a
   submission that already has rows is already loaded. Its stored rows are compared with the
   given ones: identical → skipped; different → ``BulkLoadError`` (history is never overwritten);
4. the new rows are written —
   *PostgreSQL*: ``COPY measure_value FROM STDIN (FORMAT csv)`` through psycopg's ``cursor.copy``,
   the CSV written by Polars in slices (every string quoted: ``""`` is an empty string, a bare
   empty field NULL, and no value can be taken for the end-of-data marker);
   *SQLite*, ``STAGE_MIN_ROWS`` rows or more: ADBC writes them into a stage file (C speed, no
   Python object per value), the warehouse connection ATTACHes it and copies with one
   ``INSERT … SELECT`` inside its ``BEGIN IMMEDIATE`` transaction (see ``_load_sqlite_staged``
   for why ADBC never opens the warehouse file itself); fewer rows: ``executemany`` of one
   prepared INSERT;
5. for a large load (``REBUILD_MIN_ROWS`` or more, and at least as many rows as the table
   holds — a backfill), the secondary index is dropped before and rebuilt after the write; on
   PostgreSQL also the primary key and the two foreign keys (an index built by sorting beats a
   million B-tree inserts; re-adding a foreign key validates every row in one join instead of a
   trigger per row). This is DDL inside the same transaction — all or nothing — and on
   PostgreSQL it locks ``measure_value`` against readers until the commit. Everything is
   recreated from the model, under the names and definitions the migration gave it.

``adbc_floor(url, frame)`` writes the same rows with ``DataFrame.write_database(engine="adbc")``
into a new scratch table without keys, indexes or constraints: the floor. ``bench_load(url,
n_rows)`` measures both on a scratch warehouse (a new schema on PostgreSQL; new files beside the
SQLite one) and returns seconds and ratio; ``python -m warehouse.bulk --url … --rows N`` prints it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy import Connection, Engine, Index, Table, create_engine, make_url, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import AddConstraint, DropConstraint, ForeignKeyConstraint

from joyflow.errors import JoyflowError
from warehouse.engine import make_engine, normalise_url, sqlite_path
from warehouse.load import fit_frame
from warehouse.lock import lock_warehouse
from warehouse.models import MeasureValue

MEASURE_SCHEMA: dict[str, pl.DataType] = {
    "submission_id": pl.String(),
    "measure_id": pl.String(),
    "period": pl.String(),
    "team_id": pl.String(),
    "numerator": pl.Float64(),
    "denominator": pl.Float64(),
    "value": pl.Float64(),
    "comment": pl.String(),
    "source_row": pl.Int64(),
}
KEY = ["submission_id", "measure_id", "period"]
REBUILD_MIN_ROWS = 100_000
STAGE_MIN_ROWS = 20_000  # SQLite: from here on, the ADBC stage file beats executemany
SLICE_ROWS = 200_000  # rows per COPY chunk / executemany call: bounds memory, not transactions


class BulkLoadError(JoyflowError):
    """The rows cannot be loaded as given; nothing was written."""


@dataclass(frozen=True)
class BulkResult:
    rows: int  # rows given
    inserted: int
    skipped: int  # rows of submissions already loaded, identical to the ones given
    submissions: int  # submissions that received rows
    rebuilt: bool  # secondary index (PostgreSQL: also primary and foreign keys) rebuilt after the write
    seconds: float


# --- writing frames ---


def _quoted(conn: Connection, table: str, columns: list[str]) -> tuple[str, str]:
    q = conn.dialect.identifier_preparer.quote
    return q(table), ", ".join(q(c) for c in columns)


def write_frame(conn: Connection, table: str, frame: pl.DataFrame) -> int:
    """Append a frame's rows to ``table`` on this connection's transaction: COPY / executemany.

    Temporal columns must already be text in the form the dialect stores (see ``_sqlite_text``).
    """
    if frame.is_empty():
        return 0
    name, cols = _quoted(conn, table, frame.columns)
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            with cursor.copy(f"COPY {name} ({cols}) FROM STDIN (FORMAT csv)") as copy:
                for start in range(0, frame.height, SLICE_ROWS):
                    buf = io.BytesIO()
                    # non_numeric quoting: every string quoted, so "" is '' and a bare empty field NULL,
                    # and no value can be read as the end-of-data marker \.
                    frame.slice(start, SLICE_ROWS).write_csv(
                        buf, include_header=False, quote_style="non_numeric"
                    )
                    copy.write(buf.getbuffer())
        finally:
            cursor.close()
    else:
        marks = ", ".join("?" for _ in frame.columns)
        sql = f"INSERT INTO {name} ({cols}) VALUES ({marks})"  # noqa: S608 - identifiers quoted, values bound
        for start in range(0, frame.height, SLICE_ROWS):
            conn.exec_driver_sql(sql, frame.slice(start, SLICE_ROWS).rows())
    return frame.height


def _sqlite_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Dates and datetimes as SQLAlchemy's SQLite types store them (text); booleans as 0/1."""
    out = []
    for c, t in frame.schema.items():
        if t == pl.Date:
            out.append(pl.col(c).dt.strftime("%Y-%m-%d"))
        elif isinstance(t, pl.Datetime):
            col = (
                pl.col(c).dt.convert_time_zone("UTC").dt.replace_time_zone(None) if t.time_zone else pl.col(c)
            )
            out.append(col.dt.strftime("%Y-%m-%d %H:%M:%S.%6f"))
        elif t == pl.Boolean:
            out.append(pl.col(c).cast(pl.Int8))
    return frame.with_columns(out) if out else frame


def insert_frame(conn: Connection, table: Table, frame: pl.DataFrame) -> int:
    """Any model table, bulk: the frame's columns must be the table's (any subset with defaults)."""
    unknown = set(frame.columns) - set(table.columns.keys())
    if unknown:
        raise BulkLoadError(f"{table.name} has no column(s) {sorted(unknown)}")
    frame = fit_frame(frame)
    if conn.dialect.name == "sqlite":
        frame = _sqlite_text(frame)
    return write_frame(conn, table.name, frame)


# --- the measure rows ---


def measure_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame as ``measure_value`` rows: its columns, types, fitted values, primary-key order."""
    missing = [c for c in MEASURE_SCHEMA if c not in frame.columns and c != "comment"]
    if missing:
        raise BulkLoadError(f"measure rows lack column(s) {missing}")
    if "comment" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("comment"))
    typed = frame.select([pl.col(c).cast(t) for c, t in MEASURE_SCHEMA.items()])
    return fit_frame(typed).sort(KEY)


def _ids_table(conn: Connection, ids: pl.Series) -> str:
    """A temporary one-column table of the submission ids involved (dropped at the end)."""
    name = "bulk_submission_ids"
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} (submission_id text PRIMARY KEY) ON COMMIT DROP")
    else:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} (submission_id TEXT PRIMARY KEY)")
    write_frame(conn, name, ids.to_frame("submission_id"))
    return name


def _query(conn: Connection, sql: str, schema: dict) -> pl.DataFrame:
    rows = conn.exec_driver_sql(sql).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def _check(conn: Connection, frame: pl.DataFrame, ids_table: str) -> pl.DataFrame:
    """Set-based checks of the rows against the warehouse; returns the submissions already loaded.

    Repeated keys are left to the primary key (reported as ``BulkLoadError`` all the same).
    """
    subs = _query(
        conn,
        f"SELECT s.submission_id, s.team_id FROM submission s JOIN {ids_table} i "  # noqa: S608
        "ON i.submission_id = s.submission_id",
        {"submission_id": pl.String, "_sub_team": pl.String},
    )
    checked = frame.select("submission_id", "team_id").unique().join(subs, on="submission_id", how="left")
    missing = checked.filter(pl.col("_sub_team").is_null())
    if missing.height:
        raise BulkLoadError(
            f"{missing.height} submission(s) do not exist (load their submission rows first), "
            f"e.g. {missing.get_column('submission_id').head(3).to_list()}"
        )
    wrong = checked.filter(pl.col("_sub_team") != pl.col("team_id"))
    if wrong.height:
        raise BulkLoadError(f"team_id differs from the submission's team, e.g. {wrong.row(0, named=True)}")
    measures = _query(conn, "SELECT measure_id FROM measure", {"measure_id": pl.String}).get_column(
        "measure_id"
    )
    unknown = frame.filter(~pl.col("measure_id").is_in(measures.implode())).get_column("measure_id").unique()
    if unknown.len():
        raise BulkLoadError(f"measure(s) not in the catalogue: {sorted(unknown.to_list())[:5]}")
    return _query(
        conn,
        f"SELECT DISTINCT mv.submission_id FROM measure_value mv JOIN {ids_table} i "  # noqa: S608
        "ON i.submission_id = mv.submission_id",
        {"submission_id": pl.String},
    )


def _already_loaded(
    conn: Connection, rows: pl.DataFrame, loaded: pl.DataFrame, given: str | None = None
) -> int:
    """The given rows of submissions that already have rows must be exactly what is stored.

    Compared in the database (a join on the key, counting rows equal in every column), not by
    fetching the stored rows: re-running a loaded backfill costs one join, not a million Python rows. ``given``: a
    table that already holds the given rows (the SQLite stage); otherwise they are written to a
    temporary one. Returns how many given rows were already loaded.
    """
    pg = conn.dialect.name == "postgresql"
    ids = loaded.get_column("submission_id")
    mine = rows.filter(pl.col("submission_id").is_in(ids.implode()))
    temp = "" if pg else "temp."
    if pg:
        conn.exec_driver_sql(
            "CREATE TEMPORARY TABLE bulk_loaded_ids (submission_id text PRIMARY KEY) ON COMMIT DROP"
        )
    else:
        conn.exec_driver_sql("DROP TABLE IF EXISTS temp.bulk_loaded_ids")
        conn.exec_driver_sql("CREATE TEMPORARY TABLE bulk_loaded_ids (submission_id TEXT PRIMARY KEY)")
    write_frame(conn, "bulk_loaded_ids", ids.sort().to_frame())
    if given is None:
        given = f"{temp}bulk_given"
        if pg:
            conn.exec_driver_sql("CREATE TEMPORARY TABLE bulk_given (LIKE measure_value) ON COMMIT DROP")
        else:
            conn.exec_driver_sql("DROP TABLE IF EXISTS temp.bulk_given")
            conn.exec_driver_sql(
                "CREATE TEMPORARY TABLE bulk_given AS SELECT * FROM main.measure_value WHERE 0"
            )
        write_frame(conn, "bulk_given", mine)
    stored = "measure_value" if pg else "main.measure_value"
    same = " IS NOT DISTINCT FROM " if pg else " IS "  # NULL-safe equality
    key = " AND ".join(f"m.{c} = g.{c}" for c in KEY)
    equal = " AND ".join(f"m.{c}{same}g.{c}" for c in MEASURE_SCHEMA if c not in KEY)
    within = f"submission_id IN (SELECT submission_id FROM {temp}bulk_loaded_ids)"  # noqa: S608
    # Stored rows of those submissions, and given rows equal in every column to a stored row (by
    # key: at most one each). Identical iff both counts equal the number of given rows.
    compare = (
        f"SELECT (SELECT count(*) FROM {stored} WHERE {within}), "  # noqa: S608 - fixed identifiers
        f"(SELECT count(*) FROM {given} g JOIN {stored} m ON {key} AND {equal} WHERE g.{within})"
    )
    counts = conn.exec_driver_sql(compare).one()
    if counts[0] != mine.height or counts[1] != mine.height:
        raise BulkLoadError(
            f"{loaded.height} submission(s) already have measure rows that differ from these: "
            "a loaded submission is never changed (load a new version of it instead)"
        )
    if not pg:
        conn.exec_driver_sql("DROP TABLE IF EXISTS temp.bulk_loaded_ids")
        conn.exec_driver_sql("DROP TABLE IF EXISTS temp.bulk_given")
    return mine.height


def _table_rows(conn: Connection) -> int:
    if conn.dialect.name == "postgresql":
        est = conn.exec_driver_sql(
            "SELECT reltuples FROM pg_class WHERE oid = 'measure_value'::regclass"
        ).scalar()
        if est is not None and est >= 0:
            return int(est)
        return int(conn.exec_driver_sql("SELECT count(*) FROM measure_value").scalar() or 0)
    return int(conn.exec_driver_sql("SELECT coalesce(max(rowid), 0) FROM measure_value").scalar() or 0)


def _secondary_indexes() -> list[Index]:
    return sorted(MeasureValue.__table__.indexes, key=lambda i: i.name)


def _foreign_keys() -> list[ForeignKeyConstraint]:
    return sorted(
        (c for c in MeasureValue.__table__.constraints if isinstance(c, ForeignKeyConstraint)),
        key=lambda c: c.name,
    )


class _Rebuilt:
    """Drop the measure table's secondary index (PostgreSQL: also its key and foreign keys) on
    entry, and recreate them from the model on exit — inside the caller's transaction."""

    def __init__(self, conn: Connection, active: bool) -> None:
        self.conn, self.active, self.pg = conn, active, conn.dialect.name == "postgresql"

    def __enter__(self) -> _Rebuilt:
        if not self.active:
            return self
        table = MeasureValue.__table__
        if self.pg:
            self.conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
            for fk in _foreign_keys():
                self.conn.execute(DropConstraint(fk))
            self.conn.execute(DropConstraint(table.primary_key))
        else:
            self.conn.exec_driver_sql("PRAGMA cache_size = -262144")  # 256 MB while this connection builds
        for index in _secondary_indexes():
            index.drop(self.conn)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self.active:
            return
        try:
            if exc_type is None:
                if self.pg:  # the key first: it is what catches a repeated (submission, measure, period)
                    self.conn.execute(AddConstraint(MeasureValue.__table__.primary_key))
                for index in _secondary_indexes():
                    index.create(self.conn)
                if self.pg:
                    for fk in _foreign_keys():
                        self.conn.execute(AddConstraint(fk))  # validates all rows in one join
        finally:
            if not self.pg:
                self.conn.exec_driver_sql("PRAGMA cache_size = -2000")


def _decide_rebuild(conn: Connection, n_new: int, rebuild: bool | None) -> bool:
    if not n_new:
        return False
    if rebuild is not None:
        return rebuild
    return n_new >= REBUILD_MIN_ROWS and n_new >= _table_rows(conn)


def load_measure_values(
    engine: Engine, frame: pl.DataFrame, *, rebuild: bool | None = None, staged: bool | None = None
) -> BulkResult:
    """Load measure rows of existing submissions in one transaction; see the module docstring.

    ``rebuild``: drop and rebuild indexes (PostgreSQL: and keys) around the write; ``None`` decides
    by size (a backfill: ``REBUILD_MIN_ROWS``+ rows, and not fewer than the table holds).
    ``staged`` (SQLite): go through an ADBC-written stage file; ``None``: when ``STAGE_MIN_ROWS``+.
    """
    started = time.perf_counter()
    rows = measure_frame(frame)
    if rows.is_empty():
        return BulkResult(0, 0, 0, 0, False, time.perf_counter() - started)
    try:
        if engine.dialect.name == "sqlite":
            path = sqlite_path(str(engine.url))
            if staged if staged is not None else (path is not None and rows.height >= STAGE_MIN_ROWS):
                inserted, skipped, rebuilt = _load_sqlite_staged(engine, rows, rebuild)
                return _result(rows, inserted, skipped, rebuilt, started)
        with engine.begin() as conn:
            lock_warehouse(conn)
            ids_table = _ids_table(conn, rows.get_column("submission_id").unique().sort())
            loaded = _check(conn, rows, ids_table)
            skipped = _already_loaded(conn, rows, loaded) if loaded.height else 0
            new = rows.filter(~pl.col("submission_id").is_in(loaded.get_column("submission_id").implode()))
            rebuilt = _decide_rebuild(conn, new.height, rebuild)
            with _Rebuilt(conn, rebuilt):
                write_frame(conn, "measure_value", new)
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{ids_table}")
    except (IntegrityError, engine.dialect.loaded_dbapi.IntegrityError) as exc:
        # COPY runs on the raw psycopg cursor: its errors arrive unwrapped.
        raise BulkLoadError(
            f"the rows break a key or constraint of measure_value: {getattr(exc, 'orig', None) or exc}"
        ) from None
    return _result(rows, new.height, skipped, rebuilt, started)


def _result(rows: pl.DataFrame, inserted: int, skipped: int, rebuilt: bool, started: float) -> BulkResult:
    return BulkResult(
        rows.height,
        inserted,
        skipped,
        rows.get_column("submission_id").n_unique(),
        rebuilt,
        time.perf_counter() - started,
    )


def _load_sqlite_staged(engine: Engine, rows: pl.DataFrame, rebuild: bool | None) -> tuple[int, int, bool]:
    """SQLite, many rows: ADBC writes them to a stage file (C speed, no Python per row); the warehouse
    connection attaches it and copies with one INSERT … SELECT inside its BEGIN IMMEDIATE transaction.

    ADBC links its own copy of SQLite. Two copies of SQLite must never have the same file open in
    one process (closing one drops the other's POSIX locks: sqlite.org/howtocorrupt.html §2.2), so
    ADBC only ever opens the stage file, and closes it before the warehouse connection attaches it.
    Foreign keys are not enforced row by row on this connection while it copies (the pragma is
    per connection and cannot change inside a transaction); ``_check`` has verified them set-based
    inside the same write-locked transaction instead, so nothing can change in between.
    """
    import adbc_driver_sqlite.dbapi as adbc

    with tempfile.TemporaryDirectory(prefix="joyflow-bulk-") as tmp:
        stage = Path(tmp) / "stage.db"
        aconn = adbc.connect(str(stage), autocommit=True)
        try:
            cur = aconn.cursor()
            cur.execute("PRAGMA journal_mode = OFF")  # a scratch file: no journal, no fsync
            cur.execute("PRAGMA synchronous = OFF")
            cur.adbc_ingest("rows", rows.to_arrow(), mode="create")
            cur.close()
        finally:
            aconn.close()
        with engine.connect() as conn:
            dbapi = conn.connection.dbapi_connection  # outside any transaction: ATTACH and the pragma
            dbapi.execute("PRAGMA foreign_keys = OFF")
            dbapi.execute("ATTACH DATABASE ? AS bulk_stage", (str(stage),))
            try:
                with conn.begin():
                    lock_warehouse(conn)
                    ids_table = _ids_table(conn, rows.get_column("submission_id").unique().sort())
                    loaded = _check(conn, rows, ids_table)
                    skipped = _already_loaded(conn, rows, loaded) if loaded.height else 0
                    inserted = rows.height - skipped
                    rebuilt = _decide_rebuild(conn, inserted, rebuild)
                    cols = ", ".join(MEASURE_SCHEMA)
                    where = (
                        ""
                        if not loaded.height
                        else (
                            " WHERE submission_id NOT IN (SELECT mv.submission_id FROM main.measure_value mv "  # noqa: S608
                            f"JOIN temp.{ids_table} i ON i.submission_id = mv.submission_id)"
                        )
                    )
                    with _Rebuilt(conn, rebuilt):
                        if inserted:
                            conn.exec_driver_sql(
                                f"INSERT INTO main.measure_value ({cols}) "  # noqa: S608
                                f"SELECT {cols} FROM bulk_stage.rows{where} ORDER BY rowid"
                            )
                    conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{ids_table}")
            finally:
                dbapi.execute("DETACH DATABASE bulk_stage")
                dbapi.execute("PRAGMA foreign_keys = ON")
    return inserted, skipped, rebuilt


# --- the floor and the benchmark ---


def adbc_uri(url: str) -> str:
    """What the ADBC drivers take: a file path for SQLite, a libpq URI for PostgreSQL."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if not path:
            raise BulkLoadError("the ADBC floor needs a SQLite file, not an in-memory database")
        return path
    return "postgresql://" + url.split("://", 1)[1]


def adbc_floor(url: str, frame: pl.DataFrame, table: str = "bulk_floor_measure_value") -> float:
    """Seconds to write ``frame`` with ``write_database(engine="adbc")`` into a new scratch table
    (replacing any table of that name): connect, create, ingest, commit. No keys, no indexes."""
    uri = adbc_uri(url)
    started = time.perf_counter()
    if uri.startswith("postgresql://"):
        import adbc_driver_postgresql.dbapi as adbc
    else:
        import adbc_driver_sqlite.dbapi as adbc
    conn = adbc.connect(uri)
    try:
        frame.write_database(table, conn, engine="adbc", if_table_exists="replace")
        conn.commit()
    finally:
        conn.close()
    return time.perf_counter() - started


@dataclass(frozen=True)
class Synthetic:
    """A backfill-shaped data set: teams × months submissions, one row per catalogue measure each."""

    teams: int
    months: int
    measures: int

    @classmethod
    def for_rows(cls, n_rows: int, months: int = 50, measures: int = 20) -> Synthetic:
        return cls(max(1, -(-n_rows // (months * measures))), months, measures)

    def periods(self) -> list[str]:
        return [f"{2000 + i // 12}-{i % 12 + 1:02d}" for i in range(self.months)]

    def submissions(self) -> pl.DataFrame:
        teams = pl.DataFrame({"team_id": [f"B{i:05d}" for i in range(self.teams)]})
        subs = teams.join(pl.DataFrame({"period": self.periods()}), how="cross")
        return subs.with_columns((pl.col("team_id") + ":" + pl.col("period") + ":v1").alias("submission_id"))

    def measure_rows(self, n_rows: int) -> pl.DataFrame:
        ids = pl.DataFrame({"measure_id": [f"BM{i:03d}" for i in range(self.measures)]})
        rows = self.submissions().join(ids, how="cross").head(n_rows)
        i = pl.int_range(pl.len())
        return rows.select(
            "submission_id",
            "measure_id",
            "period",
            "team_id",
            ((i * 7919) % 97).cast(pl.Float64).alias("numerator"),
            pl.lit(100.0).alias("denominator"),
            (((i * 7919) % 97) / 100).alias("value"),
            pl.when(i % 50 == 0)
            .then(pl.lit("Corrected: late forms counted"))
            .otherwise(None)
            .alias("comment"),
            (i % self.measures + 2).alias("source_row"),
        )

    def write_config(self, engine: Engine) -> None:
        """Organisation, coach, teams, measures, received files and submissions for the rows."""
        from warehouse.models import Coach, Measure, Organisation, ReceivedFile, Submission, Team

        subs = self.submissions().with_row_index("n")
        sha = pl.col("n").cast(pl.String).str.pad_start(64, "0")
        now = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
        with engine.begin() as conn:
            lock_warehouse(conn)
            insert_frame(
                conn, Organisation.__table__, pl.DataFrame({"organisation_id": ["BENCH"], "name": ["Bench"]})
            )
            insert_frame(
                conn, Coach.__table__, pl.DataFrame({"email": ["coach@bench.example"], "name": ["Coach"]})
            )
            insert_frame(
                conn,
                Team.__table__,
                subs.select("team_id")
                .unique()
                .sort("team_id")
                .with_columns(
                    pl.col("team_id").alias("name"),
                    pl.lit("BENCH").alias("organisation_id"),
                    pl.lit("coach@bench.example").alias("coach_email"),
                    pl.lit(None, pl.String).alias("cohort"),
                    pl.lit(self.periods()[0]).alias("first_period"),
                ),
            )
            insert_frame(
                conn,
                Measure.__table__,
                pl.DataFrame({"measure_id": [f"BM{i:03d}" for i in range(self.measures)]}).with_columns(
                    pl.col("measure_id").alias("name"),
                    pl.lit("outcome").alias("type"),
                    pl.lit("proportion").alias("kind"),
                    pl.lit("up").alias("direction"),
                    pl.lit(None, pl.Float64).alias("target"),
                    pl.lit("p").alias("chart"),
                    pl.lit(0.0).alias("lower_bound"),
                    pl.lit(1e9).alias("upper_bound"),
                    pl.lit(None, pl.String).alias("unit"),
                    pl.lit(1.0).alias("multiplier"),
                    pl.lit(None, pl.String).alias("description"),
                ),
            )
            insert_frame(
                conn,
                ReceivedFile.__table__,
                subs.select(
                    sha.alias("sha256"),
                    (pl.col("team_id") + "_" + pl.col("period") + ".xlsx").alias("original_name"),
                    pl.lit(1000).alias("size_bytes"),
                    pl.col("period").alias("period_folder"),
                    pl.lit(now).alias("first_seen_at"),
                    pl.lit("bench").alias("first_run_id"),
                    pl.lit("-").alias("archive_path"),
                    pl.lit("accepted").alias("outcome"),
                    "team_id",
                    "period",
                    pl.lit(0).alias("issue_count"),
                ),
            )
            insert_frame(
                conn,
                Submission.__table__,
                subs.select(
                    "submission_id",
                    "team_id",
                    "period",
                    pl.lit(1).alias("version"),
                    (pl.col("n") + 1).alias("load_seq"),
                    sha.alias("sha256"),
                    pl.lit("bench").alias("run_id"),
                    pl.lit("accepted").alias("status"),
                    pl.lit(None, pl.String).alias("superseded_by"),
                    pl.lit(0).alias("warning_count"),
                ),
            )


def _scratch(url: str) -> tuple[str, str, Callable[[], None]]:
    """URLs for an empty scratch warehouse beside ``url`` and for the floor's table, and how to
    remove both. SQLite: two new files in the same directory (same disk) — the floor never writes
    into the warehouse file (ADBC's own SQLite must not share a file with ours in one process).
    PostgreSQL: one new schema for both."""
    url = normalise_url(url)
    token = secrets.token_hex(4)
    if url.startswith("sqlite"):
        base = sqlite_path(url)
        if not base:
            raise BulkLoadError("bench_load needs a SQLite file URL")
        paths = [Path(base).parent / f"bench-{token}.db", Path(base).parent / f"bench-{token}-floor.db"]
        paths[0].parent.mkdir(parents=True, exist_ok=True)

        def drop() -> None:
            for path in paths:
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)

        return f"sqlite:///{paths[0]}", f"sqlite:///{paths[1]}", drop
    schema = f"bench_{token}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop_schema() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    scratch = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    scratch_url = scratch.render_as_string(hide_password=False)
    return scratch_url, scratch_url, drop_schema


def bench_load(url: str, n_rows: int = 1_000_000, repeat: int = 1) -> dict:
    """Seconds to bulk-load ``n_rows`` measure rows (``load_measure_values``, into an empty table
    of a fresh warehouse) beside the ADBC floor for the same rows; best of ``repeat``."""
    scratch, floor_url, drop = _scratch(url)
    engine = make_engine(scratch)
    try:
        from warehouse.migrate import upgrade

        upgrade(engine)
        data = Synthetic.for_rows(n_rows)
        t = time.perf_counter()
        data.write_config(engine)
        setup = time.perf_counter() - t
        frame = data.measure_rows(n_rows)
        bulk, floor, results = [], [], []
        for _ in range(max(1, repeat)):
            with engine.begin() as conn:
                conn.exec_driver_sql("DELETE FROM measure_value")
            if engine.dialect.name == "postgresql":
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql("VACUUM measure_value")
            t = time.perf_counter()
            results.append(load_measure_values(engine, frame))
            bulk.append(time.perf_counter() - t)
            floor.append(adbc_floor(floor_url, frame))
        t = time.perf_counter()
        again = load_measure_values(engine, frame)
        reload = time.perf_counter() - t
        best_bulk, best_floor = min(bulk), min(floor)
        return {
            "dialect": engine.dialect.name,
            "rows": n_rows,
            "submissions": data.teams * data.months,
            "bulk_seconds": round(best_bulk, 3),
            "floor_seconds": round(best_floor, 3),
            "ratio": round(best_bulk / best_floor, 2),
            "bulk_all": [round(s, 3) for s in bulk],
            "floor_all": [round(s, 3) for s in floor],
            "rebuilt": results[-1].rebuilt,
            "reload_seconds": round(reload, 3),
            "reload_inserted": again.inserted,
            "setup_seconds": round(setup, 3),
        }
    finally:
        engine.dispose()
        drop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Bulk-load measure rows beside the ADBC floor.")
    parser.add_argument("--url", action="append", required=True, help="sqlite:///file.db or postgresql://…")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    for url in args.url:
        result = bench_load(url, args.rows, args.repeat)
        print(json.dumps(result))


if __name__ == "__main__":
    main()
