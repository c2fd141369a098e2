"""The bulk path for backfills: rows land exactly, loads are idempotent and atomic, the schema is
left as the migration made it — on SQLite and PostgreSQL. (Speed is measured by
``bench.bulk_floor.bench_load``, not tested here; the backfill's use of it: test_warehouse_backfill.)"""

from __future__ import annotations

import math
import struct

import polars as pl
import pytest
from sqlalchemy import Engine, func, inspect, select

from bench.bulk_floor import Synthetic, bench_load
from warehouse import bulk
from warehouse.bulk import BulkLoadError, load_measure_values, measure_frame
from warehouse.checksum import table_checksums
from warehouse.models import MeasureValue

N = 3_000


@pytest.fixture
def data(engine: Engine) -> Synthetic:
    syn = Synthetic.for_rows(N, months=6, measures=10)
    syn.write_config(engine)
    return syn


def _stored(engine: Engine) -> pl.DataFrame:
    cols = [c for c in MeasureValue.__table__.columns]
    with engine.connect() as conn:
        rows = conn.execute(select(*cols)).all()
    return measure_frame(
        pl.DataFrame(
            [tuple(r) for r in rows], schema=[c.name for c in cols], orient="row", infer_schema_length=None
        )
    )


def _schema(engine: Engine) -> tuple:
    insp = inspect(engine)
    return (
        insp.get_pk_constraint("measure_value"),
        sorted(
            (i["name"], tuple(i["column_names"]), bool(i["unique"]))
            for i in insp.get_indexes("measure_value")
        ),
        sorted(
            (f["name"], tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
            for f in insp.get_foreign_keys("measure_value")
        ),
    )


def _split(frame: pl.DataFrame, n_submissions: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Whole submissions on each side: a submission's rows always come in one load."""
    ids = frame.get_column("submission_id").unique().sort().head(n_submissions).implode()
    return frame.filter(pl.col("submission_id").is_in(ids)), frame.filter(~pl.col("submission_id").is_in(ids))


@pytest.mark.parametrize("mode", [{}, {"rebuild": True, "staged": True}], ids=["plain", "rebuild"])
def test_rows_land_and_a_second_load_changes_nothing(engine: Engine, data: Synthetic, mode: dict) -> None:
    schema = _schema(engine)
    frame = data.measure_rows(N).sample(fraction=1.0, shuffle=True, seed=7)  # any order in
    first, rest = _split(frame, 40)
    result = load_measure_values(engine, first, **mode)
    assert (result.rows, result.inserted, result.skipped) == (first.height, first.height, 0)
    assert result.rebuilt == (bool(mode) and engine.dialect.name == "postgresql")  # SQLite: nothing to drop
    # Everything again: the loaded submissions are recognised, only the rest is written.
    result = load_measure_values(engine, frame, **mode)
    assert (result.rows, result.inserted, result.skipped) == (N, rest.height, first.height)
    assert _stored(engine).equals(measure_frame(frame))
    assert _schema(engine) == schema  # key and foreign keys as the migration made them
    sums = table_checksums(engine)

    again = load_measure_values(engine, frame, **mode)
    assert (again.inserted, again.skipped) == (0, N)
    assert table_checksums(engine) == sums


def test_the_two_write_paths_store_the_same(engine: Engine, data: Synthetic) -> None:
    frame = data.measure_rows(N)
    first, rest = _split(frame, 50)
    load_measure_values(engine, first, rebuild=False, staged=False)
    load_measure_values(engine, rest, rebuild=True, staged=True)
    assert _stored(engine).equals(measure_frame(frame))


@pytest.mark.parametrize("mode", [{}, {"rebuild": True, "staged": True}], ids=["plain", "rebuild"])
def test_bad_rows_load_nothing(engine: Engine, data: Synthetic, mode: dict) -> None:
    frame = data.measure_rows(N)
    load_measure_values(engine, frame.head(100), **mode)
    before = table_checksums(engine)
    rest = frame.slice(100)
    cases = {
        "changed history": frame.head(100).with_columns(pl.col("value") + 1),
        "comment added": frame.head(100).with_columns(pl.lit("edited").alias("comment")),
        "row left out": frame.head(99),
        "row added": pl.concat(
            [frame.head(100), frame.head(1).with_columns(pl.lit("2001-12").alias("period"))]
        ),
        "unknown submission": rest.with_columns(pl.lit("NOPE:2000-01:v1").alias("submission_id")),
        "unknown measure": rest.with_columns(pl.lit("NOT_A_MEASURE").alias("measure_id")),
        "wrong team": rest.filter(pl.col("team_id") == "B00002").with_columns(
            pl.lit("B00003").alias("team_id")
        ),
        "repeated key": pl.concat([rest, rest.tail(1)]),
    }
    for name, bad in cases.items():
        with pytest.raises(BulkLoadError):
            load_measure_values(engine, bad, **mode)
        assert table_checksums(engine) == before, name


def test_values_are_stored_alike_on_both_dialects(engine: Engine, data: Synthetic) -> None:
    frame = data.measure_rows(10).with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(float("nan")).otherwise(pl.col("value")).alias("value"),
        pl.when(pl.int_range(pl.len()) == 1)
        .then(pl.lit('a "quoted", comma\nnew line\x00 and \\.'))
        .when(pl.int_range(pl.len()) == 2)
        .then(pl.lit(""))
        .otherwise(None)
        .alias("comment"),
    )
    load_measure_values(engine, frame)
    stored = _stored(engine).sort("source_row", "submission_id", "measure_id")
    with engine.connect() as conn:
        nulls = conn.execute(select(func.count()).where(MeasureValue.value.is_(None))).scalar()
        comments = sorted(
            conn.execute(select(MeasureValue.comment).where(MeasureValue.comment.is_not(None)))
            .scalars()
            .all()
        )
    assert nulls == 1 and not any(
        v is not None and math.isnan(v) for v in stored.get_column("value").to_list()
    )
    assert comments == [
        "",
        'a "quoted", comma\nnew line\ufffd and \\.',
    ]  # '' is not NULL; NUL cannot be stored


def test_bench_load_reports_both_timings(warehouse_url: str) -> None:
    result = bench_load(warehouse_url, 2_000)
    assert result["rows"] == 2_000 and result["reload_inserted"] == 0
    assert result["bulk_seconds"] > 0 and result["floor_seconds"] > 0
    assert result["ratio"] > 0 and result["dialect"] in ("sqlite", "postgresql")


def test_staged_chunks_may_split_a_submission(
    engine: Engine, data: Synthetic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite stages in several files (here 8 of 375 rows: submissions of 10 rows straddle them);
    a loaded submission is recognised from before the first copy, not from rows just written."""
    monkeypatch.setattr(bulk, "STAGE_CHUNK_ROWS", 1)
    schema = _schema(engine)
    frame = data.measure_rows(N)
    first, rest = _split(frame, 40)
    load_measure_values(engine, first, rebuild=True, staged=True)
    result = load_measure_values(engine, frame, rebuild=True, staged=True)
    assert (result.inserted, result.skipped) == (rest.height, first.height)
    assert _stored(engine).equals(measure_frame(frame))
    assert load_measure_values(engine, frame, staged=True).inserted == 0
    assert _schema(engine) == schema


def _reference_copy_binary(frame: pl.DataFrame, kinds: list[str]) -> bytes:
    """COPY binary rows, one value at a time: what the Arrow-built encoding must equal."""
    out = bytearray()
    for row in frame.iter_rows():
        out += len(row).to_bytes(2, "big")
        for value, kind in zip(row, kinds, strict=True):
            if value is None:
                out += (-1).to_bytes(4, "big", signed=True)
            elif kind == "text":
                out += len(value.encode()).to_bytes(4, "big") + value.encode()
            elif kind == "float8":
                out += (8).to_bytes(4, "big") + struct.pack(">d", value)
            else:
                out += (4).to_bytes(4, "big") + struct.pack(">i", value)
    return bytes(out)


def test_binary_copy_encoding_matches_the_format() -> None:
    frame = pl.DataFrame(
        {
            "t": ["a", "", None, "é€😀", "x" * 70_000],
            "f": [1.5, None, -0.0, 1e308, 5e-324],
            "i": [0, -1, 2**31 - 1, None, -(2**31)],
        },
        schema={"t": pl.String, "f": pl.Float64, "i": pl.Int64},
    )
    kinds = ["text", "float8", "int4"]
    for part in (frame, frame.slice(1, 3), frame.select(pl.all().fill_null(strategy="forward")).slice(1)):
        assert bytes(bulk._pg_binary_rows(part, kinds)) == _reference_copy_binary(part, kinds)
    assert bulk._pg_kinds(MeasureValue.__table__, list(bulk.MEASURE_SCHEMA)) == [
        "text", "text", "text", "text", "float8", "float8", "float8", "text", "int4"
    ]  # fmt: skip


def test_extreme_values_round_trip(engine: Engine, data: Synthetic) -> None:
    """Every kind of value the binary COPY encodes (and SQLite's stage) lands unchanged."""
    frame = data.measure_rows(5).with_columns(
        pl.Series("numerator", [None, -0.0, 1e308, 5e-324, 3.25]),
        pl.Series("denominator", [1.0, None, None, 2.0, 1e-300]),
        pl.Series("source_row", [0, -1, 2**31 - 1, -(2**31), 7]),
        pl.Series("comment", ["é€😀", None, "x" * 70_000, "tab\there", ""]),
    )
    load_measure_values(engine, frame)
    assert _stored(engine).equals(measure_frame(frame))


def test_a_backfill_rebuilds_the_keys_on_postgresql_only(
    engine: Engine, data: Synthetic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "REBUILD_MIN_ROWS", 1_000)
    schema = _schema(engine)
    frame = data.measure_rows(N)
    first, rest = _split(frame, 5)
    # into an empty table: a backfill
    assert load_measure_values(engine, rest).rebuilt == (engine.dialect.name == "postgresql")
    # a small load into a filled table: never
    assert not load_measure_values(engine, first).rebuilt
    assert _stored(engine).equals(measure_frame(frame))
    assert _schema(engine) == schema
