"""The bulk loader's floor and benchmark: ``warehouse.bulk.load_measure_values`` beside ADBC.

``adbc_floor(url, frame)`` writes the same rows with ``DataFrame.write_database(engine="adbc")``
into a new scratch table without keys, indexes or constraints: the floor. ``bench_load(url,
n_rows)`` measures both on a scratch warehouse (a new schema on PostgreSQL; new files beside the
SQLite one) filled by ``Synthetic`` (a backfill-shaped data set) and returns seconds and ratio;
``python -m bench.bulk_floor --url … --rows N`` prints it. ``make bench`` runs it as its "bulk
load" stage; ``tests/test_warehouse_bulk.py`` builds its data with ``Synthetic``.

Nothing here is production code: it writes configuration and submissions straight into the
tables (``insert_frame``), which only a benchmark's synthetic warehouse may do.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy import Connection, Engine, Table, create_engine, make_url, text

from warehouse.bulk import BulkLoadError, load_measure_values, write_frame
from warehouse.engine import make_engine, normalise_url, sqlite_path
from warehouse.load import fit_frame
from warehouse.lock import lock_warehouse


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
            "phases": min(results, key=lambda r: r.seconds).phases,
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
