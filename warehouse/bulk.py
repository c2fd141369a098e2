"""The bulk path: many measure rows into the real ``measure_value`` table, in one transaction, at
close to the database's own bulk-load speed. A backfill goes through it (``warehouse.batch``);
its floor and benchmark are ``bench/bulk_floor.py``.

``write_measure_values(conn, rows)`` writes the measure rows of submissions that already exist
(their ``submission`` rows were written first, maybe in the same transaction) inside the caller's
write-locked transaction; ``load_measure_values(engine, frame)`` is the same in a transaction of
its own (and, on SQLite, through ADBC stage files for many rows):

1. the rows are typed, made to fit both dialects (``warehouse.load.fit_frame``: NaN → NULL,
   NUL → U+FFFD) and sorted by primary key (sequential B-tree inserts);
2. set-based checks, inside the transaction, before anything is written: one
   (submission, team) pair per submission goes to a temporary table (SQLite stage path: a stage
   file of its own) and one join against ``submission`` returns only what fails (a missing
   submission, another team), not a row per submission; the measures are checked against the
   catalogue. A repeated (submission, measure, period) is caught by the
   primary key. Any failure: ``BulkLoadError``, nothing written;
3. **idempotent by submission**: a submission's rows are only ever written together, so a
   submission that already has rows is already loaded. Its stored rows are compared with the
   given ones in the database (one join): identical → skipped; different → ``BulkLoadError``
   (history is never overwritten);
4. the new rows are written —
   *PostgreSQL*: ``COPY measure_value FROM STDIN (FORMAT binary)``: the binary rows are built
   column by column by Arrow kernels (no Python per row), so the server parses no text numbers;
   each slice is encoded in a worker thread while the server reads the one before;
   *SQLite*, ``STAGE_MIN_ROWS`` rows or more in a load of its own: ADBC writes them into stage
   files (C speed, no Python object per value), chunk by chunk in a worker thread; the warehouse
   connection, inside its write-locked transaction, attaches each finished file and copies it
   with one ``INSERT … SELECT`` — staging chunk k+1 overlaps the checks and the copy of chunk k
   (see ``_load_sqlite_staged`` for why ADBC never opens the warehouse file itself); otherwise
   ``executemany`` of one prepared INSERT;
5. PostgreSQL, a large load (``REBUILD_MIN_ROWS`` or more, and at least as many rows as the
   table holds — a first backfill): the primary key and the two foreign keys (and any secondary
   index the model may gain) are dropped before and rebuilt after the write (a key built by
   sorting beats a million B-tree inserts; re-adding a foreign key validates every row in one
   join instead of a trigger per row). This is DDL inside the same transaction — all or
   nothing — and it locks ``measure_value`` against readers until the commit. Everything is
   recreated from the model, under the names and definitions the migration gave it. SQLite has
   nothing to drop: the table is its key's B-tree (migration 0003) and has no other index (0004).

``BulkResult.phases`` says where the time went (prepare, lock, check, idempotency, drop, write —
on SQLite including any wait for the stage —, rebuild, foreign_keys, commit). What is left above
the floor is structural: the floor writes a table with no key and (SQLite) no WAL; maintaining
``measure_value``'s primary key and, on SQLite, writing every page twice (WAL, then checkpoint) is
most of the rest.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy import Connection, Engine, Float, Index, Integer, String, Table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import AddConstraint, DropConstraint, ForeignKeyConstraint

from joyflow.errors import JoyflowError
from warehouse.engine import sqlite_path
from warehouse.load import fit_frame
from warehouse.lock import lock_warehouse
from warehouse.models import MeasureValue

if TYPE_CHECKING:
    import pyarrow as pa

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
SLICE_ROWS = 200_000  # rows per executemany call: bounds memory, not transactions
COPY_SLICE_ROWS = 100_000  # rows per COPY message: encoded while the server reads the one before
STAGE_CHUNK_ROWS = 250_000  # SQLite: rows per stage file (the next one is written while this one is copied)
STAGE_PAGE_SIZE = 65536  # stage files: 16x fewer pages to write and read back (1M rows: 1.24 -> 1.03 s)
MAX_STAGE_CHUNKS = 8  # with the pairs file: 9 attached, SQLite allows 10


class BulkLoadError(JoyflowError):
    """The rows cannot be loaded as given; nothing was written."""


@dataclass(frozen=True)
class BulkResult:
    rows: int  # rows given
    inserted: int
    skipped: int  # rows of submissions already loaded, identical to the ones given
    submissions: int  # submissions that received rows
    rebuilt: bool  # PostgreSQL: primary and foreign keys (and any secondary index) rebuilt after the write
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase: where the time goes


class _Clock:
    """Seconds per phase of one load, for ``BulkResult.phases`` (cheap: one timer read per phase)."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.phases[phase] = round(self.phases.get(phase, 0.0) + now - self._last, 4)
        self._last = now


# --- writing frames ---


def _quoted(conn: Connection, table: str, columns: list[str]) -> tuple[str, str]:
    q = conn.dialect.identifier_preparer.quote
    return q(table), ", ".join(q(c) for c in columns)


def write_frame(conn: Connection, table: str, frame: pl.DataFrame, kinds: list[str] | None = None) -> int:
    """Append a frame's rows to ``table`` on this connection's transaction: COPY / executemany.

    Temporal columns must already be text in the form the dialect stores (see ``_sqlite_text``).
    ``kinds`` (PostgreSQL): the columns' binary COPY wire types (``_pg_kinds``): binary COPY, which
    spares the server parsing every number from text; otherwise CSV.
    """
    if frame.is_empty():
        return 0
    name, cols = _quoted(conn, table, frame.columns)
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            fmt = "binary" if kinds else "csv"
            with (
                cursor.copy(f"COPY {name} ({cols}) FROM STDIN (FORMAT {fmt})") as copy,
                ThreadPoolExecutor(1) as pool,
            ):
                copy.write(PG_BINARY_HEADER if kinds else b"")
                # The next slice is encoded (Arrow/Polars, GIL released) while the server reads this one.
                ahead: deque[Future[memoryview]] = deque()
                for start in range(0, frame.height, COPY_SLICE_ROWS):
                    ahead.append(pool.submit(_copy_slice, frame.slice(start, COPY_SLICE_ROWS), kinds))
                    if len(ahead) > 1:
                        copy.write(ahead.popleft().result())
                while ahead:
                    copy.write(ahead.popleft().result())
                copy.write(PG_BINARY_TRAILER if kinds else b"")
        finally:
            cursor.close()
    else:
        marks = ", ".join("?" for _ in frame.columns)
        sql = f"INSERT INTO {name} ({cols}) VALUES ({marks})"  # noqa: S608 - identifiers quoted, values bound
        for start in range(0, frame.height, SLICE_ROWS):
            conn.exec_driver_sql(sql, frame.slice(start, SLICE_ROWS).rows())
    return frame.height


def _copy_slice(frame: pl.DataFrame, kinds: list[str] | None) -> memoryview:
    if kinds:
        return memoryview(_pg_binary_rows(frame, kinds))
    buf = io.BytesIO()
    # non_numeric quoting: every string quoted, so "" is '' and a bare empty field NULL, and no
    # value can be read as the end-of-data marker \.
    frame.write_csv(buf, include_header=False, quote_style="non_numeric")
    return buf.getbuffer()


# --- PostgreSQL binary COPY, built by Arrow kernels (no Python per row or value) ---

PG_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
PG_BINARY_TRAILER = b"\xff\xff"
_PG_WIDTH = {"float8": 8, "int4": 4}
_NULL_FIELD = b"\xff\xff\xff\xff"  # length -1


def _pg_kinds(table: Table, columns: list[str]) -> list[str] | None:
    """Each column's binary COPY wire type, from the model; None if any type is not one we write."""
    kinds = []
    for c in columns:
        t = table.columns[c].type
        if isinstance(t, String):
            kinds.append("text")
        elif type(t) is Float and t.precision is None:
            kinds.append("float8")  # FLOAT on PostgreSQL is double precision
        elif type(t) is Integer:
            kinds.append("int4")
        else:
            return None
    return kinds


def _pg_binary_rows(frame: pl.DataFrame, kinds: list[str]) -> pa.Buffer:
    """The frame's rows in COPY binary format: per row the field count, then each field as a
    big-endian length (-1: NULL) and its bytes; built column-wise, joined row-wise by Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = frame.to_arrow()
    fields = [pa.scalar(len(kinds).to_bytes(2, "big"), pa.large_binary())]
    for column, kind in zip(table.columns, kinds, strict=True):
        fields += _pg_field(column.combine_chunks(), kind)
    rows = pc.binary_join_element_wise(*fields, pa.scalar(b"", pa.large_binary()))
    offsets = rows.buffers()[1]
    first, last = (
        int.from_bytes(offsets[8 * i : 8 * i + 8], "little") for i in (rows.offset, rows.offset + len(rows))
    )
    return rows.buffers()[2][first:last]


def _pg_field(column: pa.Array, kind: str) -> list[pa.Array]:
    """One column as two binary arrays to join: the length prefixes and the values."""
    import pyarrow as pa
    import pyarrow.compute as pc

    binary = pa.large_binary()
    if kind == "text":
        value = pc.fill_null(column.cast(binary), pa.scalar(b"", binary))
        prefix = _fixed_binary(_big_endian(pc.binary_length(value).cast(pa.uint32()), 4), 4)
    else:
        width = _PG_WIDTH[kind]
        typ = pa.float64() if kind == "float8" else pa.int32()
        raw = pc.fill_null(column.cast(typ), pa.scalar(0, typ)).view(
            pa.uint64() if width == 8 else pa.uint32()
        )
        value = _fixed_binary(_big_endian(raw, width), width)
        prefix = pa.scalar(width.to_bytes(4, "big"), binary)
    if column.null_count:
        valid = pc.is_valid(column)
        value = pc.if_else(valid, value, pa.scalar(b"", binary))
        prefix = pc.if_else(valid, prefix, pa.scalar(_NULL_FIELD, binary))
    return [prefix, value]


def _big_endian(x: pa.Array, width: int) -> pa.Array:
    """Unsigned integers with their bytes reversed (x86 and ARM are little-endian; COPY is not)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if sys.byteorder == "big":
        return x
    steps = [(32, 0x00000000FFFFFFFF), (16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF)]
    for shift, mask in steps if width == 8 else steps[1:]:
        m, sh = pa.scalar(mask & (256**width - 1), x.type), pa.scalar(shift, x.type)
        x = pc.bit_wise_or(
            pc.shift_left(pc.bit_wise_and(x, m), sh), pc.bit_wise_and(pc.shift_right(x, sh), m)
        )
    return x


def _fixed_binary(x: pa.Array, width: int) -> pa.Array:
    """Each ``width``-byte value's bytes, as they lie in memory, as a binary value (no copy)."""
    import pyarrow as pa

    if x.offset:
        x = pa.concat_arrays([x])  # the values buffer must start at the first value
    offsets = pl.int_range(0, width * (len(x) + 1), width, dtype=pl.Int64, eager=True).to_arrow()
    return pa.Array.from_buffers(pa.large_binary(), len(x), [None, offsets.buffers()[1], x.buffers()[1]])


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


def _given_pairs(rows: pl.DataFrame) -> pl.DataFrame:
    """One (submission_id, team_id) row per submission: rows are in key order, so a submission's
    rows are adjacent and one pass finds where they change. A submission naming two teams fails."""
    sub, team = pl.col("submission_id"), pl.col("team_id")
    pairs = rows.select(sub, team).filter(
        (sub != sub.shift(1)).fill_null(True) | (team != team.shift(1)).fill_null(True)
    )
    twice = pairs.filter(sub.is_duplicated())
    if twice.height:
        raise BulkLoadError(f"team_id differs from the submission's team, e.g. {twice.row(0, named=True)}")
    return pairs


def _given_table(conn: Connection, pairs: pl.DataFrame) -> str:
    """A temporary table of the submissions involved and the team the rows name (dropped at the end)."""
    name = "bulk_given_submissions"
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {name} (submission_id text PRIMARY KEY, team_id text) ON COMMIT DROP"
        )
    else:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} (submission_id TEXT PRIMARY KEY, team_id TEXT)")
    write_frame(conn, name, pairs)
    return name


def _query(conn: Connection, sql: str, schema: dict) -> pl.DataFrame:
    rows = conn.exec_driver_sql(sql).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def _check(conn: Connection, frame: pl.DataFrame, given: str) -> pl.DataFrame:
    """Set-based checks of the rows against the warehouse; returns the submissions already loaded.

    The joins run in the database and return only what fails (nothing, normally), not a row per
    submission. Repeated keys are left to the primary key (reported as ``BulkLoadError`` all the same).
    """
    bad = _query(
        conn,
        f"SELECT g.submission_id, g.team_id, s.team_id FROM {given} g "  # noqa: S608 - fixed identifiers
        "LEFT JOIN submission s ON s.submission_id = g.submission_id "
        "WHERE s.submission_id IS NULL OR s.team_id <> g.team_id",
        {"submission_id": pl.String, "team_id": pl.String, "_sub_team": pl.String},
    )
    missing = bad.filter(pl.col("_sub_team").is_null())
    if missing.height:
        raise BulkLoadError(
            f"{missing.height} submission(s) do not exist (load their submission rows first), "
            f"e.g. {missing.get_column('submission_id').head(3).to_list()}"
        )
    if bad.height:
        raise BulkLoadError(f"team_id differs from the submission's team, e.g. {bad.row(0, named=True)}")
    measures = _query(conn, "SELECT measure_id FROM measure", {"measure_id": pl.String}).get_column(
        "measure_id"
    )
    given_measures = frame.get_column("measure_id").unique()
    unknown = given_measures.filter(~given_measures.is_in(measures.implode()))
    if unknown.len():
        raise BulkLoadError(f"measure(s) not in the catalogue: {sorted(unknown.to_list())[:5]}")
    return _query(
        conn,
        f"SELECT g.submission_id FROM {given} g WHERE EXISTS "  # noqa: S608 - fixed identifiers
        "(SELECT 1 FROM measure_value mv WHERE mv.submission_id = g.submission_id)",
        {"submission_id": pl.String},
    )


def _already_loaded(
    conn: Connection, rows: pl.DataFrame, loaded: pl.DataFrame, given: list[str] | None = None
) -> int:
    """The given rows of submissions that already have rows must be exactly what is stored.

    Compared in the database (a join on the key, counting rows equal in every column), not by
    fetching the stored rows: re-running a loaded backfill costs one join, not a million Python rows.
    ``given``: tables that together already hold the given rows (the SQLite stage chunks); otherwise
    they are written to a temporary one. Returns how many given rows were already loaded.
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
        given = [f"{temp}bulk_given"]
        if pg:
            conn.exec_driver_sql("CREATE TEMPORARY TABLE bulk_given (LIKE measure_value) ON COMMIT DROP")
        else:
            conn.exec_driver_sql("DROP TABLE IF EXISTS temp.bulk_given")
            conn.exec_driver_sql(
                "CREATE TEMPORARY TABLE bulk_given AS SELECT * FROM main.measure_value WHERE 0"
            )
        write_frame(conn, "bulk_given", mine, _measure_kinds(conn))
    stored = "measure_value" if pg else "main.measure_value"
    same = " IS NOT DISTINCT FROM " if pg else " IS "  # NULL-safe equality
    key = " AND ".join(f"m.{c} = g.{c}" for c in KEY)
    equal = " AND ".join(f"m.{c}{same}g.{c}" for c in MEASURE_SCHEMA if c not in KEY)
    within = f"submission_id IN (SELECT submission_id FROM {temp}bulk_loaded_ids)"  # noqa: S608
    # Stored rows of those submissions, and given rows equal in every column to a stored row (by
    # key: at most one each). Identical iff both counts equal the number of given rows.
    matched = " + ".join(
        f"(SELECT count(*) FROM {t} g JOIN {stored} m ON {key} AND {equal} WHERE g.{within})"  # noqa: S608
        for t in given
    )
    compare = f"SELECT (SELECT count(*) FROM {stored} WHERE {within}), {matched}"  # noqa: S608
    counts = conn.exec_driver_sql(compare).one()
    if counts[0] != mine.height or counts[1] != mine.height:
        raise BulkLoadError(
            f"{loaded.height} submission(s) already have measure rows that differ from these: "
            "a loaded submission is never changed (load a new version of it instead)"
        )
    if not pg:
        _drop_temp(conn, "bulk_given")  # bulk_loaded_ids stays for the write: the caller drops it
    return mine.height


def _drop_temp(conn: Connection, *names: str) -> None:
    """SQLite: drop our temporary tables (they would outlive the transaction on the pooled connection)."""
    for name in names:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")


def _measure_kinds(conn: Connection) -> list[str] | None:
    """PostgreSQL: the measure rows go by binary COPY."""
    return (
        _pg_kinds(MeasureValue.__table__, list(MEASURE_SCHEMA)) if conn.dialect.name == "postgresql" else None
    )


def _holds_at_most(conn: Connection, n: int) -> bool:
    """PostgreSQL: whether ``measure_value`` holds no more than ``n`` rows, by the planner's
    estimate (an exact count where the table was never analysed)."""
    est = conn.exec_driver_sql(
        "SELECT reltuples FROM pg_class WHERE oid = 'measure_value'::regclass"
    ).scalar()
    if est is None or est < 0:
        est = conn.exec_driver_sql("SELECT count(*) FROM measure_value").scalar()
    return int(est or 0) <= n


def _secondary_indexes() -> list[Index]:
    return sorted(MeasureValue.__table__.indexes, key=lambda i: i.name)


def _foreign_keys() -> list[ForeignKeyConstraint]:
    return sorted(
        (c for c in MeasureValue.__table__.constraints if isinstance(c, ForeignKeyConstraint)),
        key=lambda c: c.name,
    )


class _Rebuilt:
    """PostgreSQL: drop the measure table's foreign keys, primary key and any secondary index on
    entry, and recreate them from the model on exit — inside the caller's transaction."""

    def __init__(self, conn: Connection, active: bool, clock: _Clock) -> None:
        self.conn, self.active, self.clock = conn, active, clock

    def __enter__(self) -> _Rebuilt:
        if not self.active:
            return self
        self.conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
        for fk in _foreign_keys():
            self.conn.execute(DropConstraint(fk))
        self.conn.execute(DropConstraint(MeasureValue.__table__.primary_key))
        for index in _secondary_indexes():
            index.drop(self.conn)
        self.clock.lap("drop")
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.clock.lap("write")
        if not self.active or exc_type is not None:
            return
        # the key first: it is what catches a repeated (submission, measure, period)
        self.conn.execute(AddConstraint(MeasureValue.__table__.primary_key))
        for index in _secondary_indexes():
            index.create(self.conn)
        self.clock.lap("rebuild")
        for fk in _foreign_keys():
            self.conn.execute(AddConstraint(fk))  # validates all rows in one join
        self.clock.lap("foreign_keys")


def _decide_rebuild(conn: Connection, n_new: int, rebuild: bool | None) -> bool:
    """PostgreSQL, a backfill: drop and rebuild. SQLite: never — the WITHOUT ROWID table is its
    key's B-tree and cannot shed it, and it has no other index; rows are copied in key order."""
    if not n_new or conn.dialect.name != "postgresql":
        return False
    if rebuild is not None:
        return rebuild
    return n_new >= REBUILD_MIN_ROWS and _holds_at_most(conn, n_new)


def load_measure_values(
    engine: Engine, frame: pl.DataFrame, *, rebuild: bool | None = None, staged: bool | None = None
) -> BulkResult:
    """Load measure rows of existing submissions in a transaction of their own; see the module docstring.

    ``rebuild`` (PostgreSQL): drop and rebuild the keys around the write; ``None`` decides by size
    (a backfill: ``REBUILD_MIN_ROWS``+ rows, and not fewer than the table holds).
    ``staged`` (SQLite): go through an ADBC-written stage file; ``None``: when ``STAGE_MIN_ROWS``+.
    """
    clock = _Clock()
    started = time.perf_counter()
    rows = measure_frame(frame)
    clock.lap("prepare")
    if rows.is_empty():
        return BulkResult(0, 0, 0, 0, False, time.perf_counter() - started)
    if engine.dialect.name == "sqlite":
        path = sqlite_path(str(engine.url))
        if staged if staged is not None else (path is not None and rows.height >= STAGE_MIN_ROWS):
            try:
                inserted, skipped = _load_sqlite_staged(engine, rows, clock)
            except (IntegrityError, engine.dialect.loaded_dbapi.IntegrityError) as exc:
                raise _key_error(exc) from None
            return _result(rows, inserted, skipped, False, started, clock)
    with engine.begin() as conn:
        lock_warehouse(conn)
        clock.lap("lock")
        inserted, skipped, rebuilt = write_measure_values(conn, rows, rebuild=rebuild, clock=clock)
    clock.lap("commit")
    return _result(rows, inserted, skipped, rebuilt, started, clock)


def write_measure_values(
    conn: Connection, rows: pl.DataFrame, *, rebuild: bool | None = None, clock: _Clock | None = None
) -> tuple[int, int, bool]:
    """Check and write ``measure_frame`` rows inside the caller's write-locked transaction (steps
    2–5 of the module docstring). Returns (rows inserted, rows skipped as already loaded, keys rebuilt)."""
    clock = clock or _Clock()
    if rows.is_empty():
        return 0, 0, False
    try:
        ids_table = _given_table(conn, _given_pairs(rows))
        loaded = _check(conn, rows, ids_table)
        clock.lap("check")
        skipped = _already_loaded(conn, rows, loaded) if loaded.height else 0
        new = rows.filter(~pl.col("submission_id").is_in(loaded.get_column("submission_id").implode()))
        rebuilt = _decide_rebuild(conn, new.height, rebuild)
        clock.lap("idempotency")
        with _Rebuilt(conn, rebuilt, clock):
            write_frame(conn, "measure_value", new, _measure_kinds(conn))
        if conn.dialect.name == "sqlite":
            _drop_temp(conn, ids_table, "bulk_loaded_ids")
    except (IntegrityError, conn.dialect.loaded_dbapi.IntegrityError) as exc:
        raise _key_error(exc) from None
    return new.height, skipped, rebuilt


def _key_error(exc: Exception) -> BulkLoadError:
    # COPY runs on the raw psycopg cursor: its errors arrive unwrapped.
    return BulkLoadError(
        f"the rows break a key or constraint of measure_value: {getattr(exc, 'orig', None) or exc}"
    )


def _result(
    rows: pl.DataFrame, inserted: int, skipped: int, rebuilt: bool, started: float, clock: _Clock
) -> BulkResult:
    return BulkResult(
        rows.height,
        inserted,
        skipped,
        rows.get_column("submission_id").n_unique(),
        rebuilt,
        time.perf_counter() - started,
        clock.phases,
    )


def _load_sqlite_staged(engine: Engine, rows: pl.DataFrame, clock: _Clock) -> tuple[int, int]:
    """SQLite, many rows: ADBC writes them to stage files (C speed, no Python per row), one chunk
    per file; the warehouse connection attaches each finished file and copies it with one
    INSERT … SELECT inside its write-locked transaction.

    Pipelined: a worker thread stages chunk k+1 while the warehouse connection checks the rows or
    copies chunk k (both drivers release the GIL), so the stage hop mostly overlaps the real write.
    ADBC links its own copy of SQLite. Two copies of SQLite must never have the same file open in
    one process (closing one drops the other's POSIX locks: sqlite.org/howtocorrupt.html §2.2), so
    ADBC only ever opens stage files, each closed before the warehouse connection attaches it.
    Foreign keys are not enforced row by row on this connection while it copies (the pragma is
    per connection and cannot change inside a transaction); ``_check`` has verified them set-based
    inside the same write-locked transaction instead, so nothing can change in between.
    """
    with tempfile.TemporaryDirectory(prefix="joyflow-bulk-") as tmp, ThreadPoolExecutor(1) as pool:
        pairs = pool.submit(_write_stage, Path(tmp) / "pairs.db", _given_pairs(rows))
        staged = _stage_chunks(pool, rows, Path(tmp))
        try:
            with engine.connect() as conn:
                dbapi = conn.connection.dbapi_connection  # outside any transaction: the pragma
                dbapi.execute("PRAGMA foreign_keys = OFF")
                try:
                    with conn.begin():
                        result = _copy_staged(conn, rows, pairs, staged, clock)
                    clock.lap("commit")
                finally:
                    for _, name, _ in dbapi.execute("PRAGMA database_list").fetchall():
                        if name.startswith("bulk_stage"):
                            dbapi.execute(f"DETACH DATABASE {name}")
                    dbapi.execute("PRAGMA foreign_keys = ON")
        finally:
            for future in [pairs, *staged]:
                future.cancel()  # on failure: stage no more (the running chunk finishes first)
    return result


def _stage_chunks(pool: ThreadPoolExecutor, rows: pl.DataFrame, tmp: Path) -> list[Future[Path]]:
    """Queue the chunks' stage files, in order, on the (one-thread) pool."""
    size = max(STAGE_CHUNK_ROWS, -(-rows.height // MAX_STAGE_CHUNKS))
    return [
        pool.submit(_write_stage, tmp / f"stage{n}.db", rows.slice(start, size))
        for n, start in enumerate(range(0, rows.height, size))
    ]


def _write_stage(path: Path, rows: pl.DataFrame) -> Path:
    """One stage file, written and closed by ADBC (never a file the warehouse connection has open).
    The rows become Arrow here, in the stage thread, chunk by chunk: off the loader's critical path."""
    import adbc_driver_sqlite.dbapi as adbc

    table = rows.to_arrow()
    aconn = adbc.connect(str(path), autocommit=True)
    try:
        cur = aconn.cursor()
        cur.execute(f"PRAGMA page_size = {STAGE_PAGE_SIZE}")
        cur.execute("PRAGMA journal_mode = OFF")  # a scratch file: no journal, no fsync
        cur.execute("PRAGMA synchronous = OFF")
        cur.adbc_ingest("rows", table, mode="create")
        cur.close()
    finally:
        aconn.close()
    return path


def _copy_staged(
    conn: Connection,
    rows: pl.DataFrame,
    pairs: Future[Path],
    staged: list[Future[Path]],
    clock: _Clock,
) -> tuple[int, int]:
    """Inside the transaction: lock, check, then attach and copy each stage file as it is ready.
    The (submission, team) pairs for the checks are staged first, in a file of their own."""
    lock_warehouse(conn)
    clock.lap("lock")
    conn.exec_driver_sql("ATTACH DATABASE ? AS bulk_stage_pairs", (str(pairs.result()),))
    loaded = _check(conn, rows, "bulk_stage_pairs.rows")
    clock.lap("check")
    stages = [f"bulk_stage{n}.rows" for n in range(len(staged))]
    skipped = 0
    if loaded.height:  # a re-load: compare against all the staged rows
        _attach_ready(conn, staged, len(staged))
        skipped = _already_loaded(conn, rows, loaded, given=stages)
    inserted = rows.height - skipped
    clock.lap("idempotency")
    cols = ", ".join(MEASURE_SCHEMA)
    # The loaded submissions as found before the first copy (a later chunk may hold more rows of a
    # submission an earlier chunk has just written).
    where = (
        " WHERE submission_id NOT IN (SELECT submission_id FROM temp.bulk_loaded_ids)"
        if loaded.height
        else ""
    )
    for n in range(len(staged) if inserted else 0):
        _attach_ready(conn, staged, n + 1)
        conn.exec_driver_sql(
            f"INSERT INTO main.measure_value ({cols}) "  # noqa: S608 - fixed identifiers
            f"SELECT {cols} FROM {stages[n]}{where} ORDER BY rowid"
        )
    clock.lap("write")
    _drop_temp(conn, "bulk_loaded_ids")
    return inserted, skipped


def _attach_ready(conn: Connection, staged: list[Future[Path]], upto: int) -> None:
    """Attach stage files ``0 … upto-1`` not yet attached, each once ADBC has closed it."""
    attached = {r[1] for r in conn.exec_driver_sql("PRAGMA database_list")}
    for n in range(upto):
        if f"bulk_stage{n}" not in attached:
            conn.exec_driver_sql(f"ATTACH DATABASE ? AS bulk_stage{n}", (str(staged[n].result()),))
