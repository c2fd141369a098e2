"""The schema the migrations build is the schema the models describe, on both dialects.

Alembic is the only way the schema is made, so a model change without its migration (or a
migration that drifts from the models) would otherwise surface as a failed load in production.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from tests.warehouse_support import networks as nw
from warehouse.checksum import VOLATILE_TABLES, table_checksum, table_checksums, view_checksum
from warehouse.engine import make_engine
from warehouse.migrate import alembic_config, current_revision, head_revision, upgrade
from warehouse.models import Base


def test_migrations_build_exactly_the_models(engine: Engine) -> None:
    assert current_revision(engine) == head_revision(engine)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diffs == []


def test_series_points_record_shift_and_trend(engine: Engine) -> None:
    columns = {c["name"]: c for c in inspect(engine).get_columns("series_point")}
    assert {"shift_point", "trend_point"} <= columns.keys()
    assert not columns["shift_point"]["nullable"] and not columns["trend_point"]["nullable"]


def _existing_checksums(engine: Engine, skip: set[str] = frozenset()) -> dict[str, str]:
    """Checksums of the model's tables that exist at the current revision (an older one lacks later tables)."""
    present = set(inspect(engine).get_table_names())
    return {
        t.name: table_checksum(engine, t)
        for t in Base.metadata.sorted_tables
        if t.name in present and t.name not in VOLATILE_TABLES and t.name not in skip
    }


def _sqlite_layout(engine: Engine) -> tuple[bool, list[str]]:
    """Whether measure_value is a WITHOUT ROWID table, and the B-trees that hold it."""
    with engine.connect() as conn:
        sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'measure_value'").scalar()
        btrees = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE tbl_name = 'measure_value' AND rootpage > 0 ORDER BY name"
        ).scalars()
        return "WITHOUT ROWID" in sql.upper(), list(btrees)


def test_sqlite_measure_values_live_in_their_key_alone_and_0003_0004_keep_every_row(
    sqlite_url: str, tmp_path: Path, joyflow_home: Path
) -> None:
    """0003 rebuilds measure_value clustered on its key (one B-tree fewer), 0004 drops its index
    by team; both undone and redone, with the rows and the current-value view intact."""
    root = nw.network(tmp_path / "net")
    for team in nw.TEAMS:
        nw.write(root, team, "2026-06")
    nw.run(sqlite_url, root, "2026-06")
    nw.write(root, "T01", "2026-07", corrections={"2026-06": 7.5})  # history: a corrected June
    nw.run(sqlite_url, root, "2026-07")
    engine = make_engine(sqlite_url)
    try:
        assert _sqlite_layout(engine) == (True, ["measure_value"])
        before = table_checksums(engine)
        before_0002 = _existing_checksums(engine, skip={"series_point", "series_summary"})
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT count(*) FROM measure_value").scalar()
            current = conn.exec_driver_sql("SELECT count(*) FROM current_measure_value").scalar()
        assert rows == 4 * len(nw.MEASURE_IDS) + 1 and current == 4 * len(nw.MEASURE_IDS)

        cfg = alembic_config(engine)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0002")
        assert _sqlite_layout(engine) == (  # a rowid table again, with the key's own index
            False,
            ["ix_measure_value_team_measure_period", "measure_value", "sqlite_autoindex_measure_value_1"],
        )
        # at 0002 the tables of later migrations are not there and 0005's columns are not either: the
        # tables as 0002 has them hold the same rows (measure_value, the view), nothing else changed
        untouched = {
            k: v for k, v in _existing_checksums(engine, skip={"series_point", "series_summary"}).items()
        }
        assert untouched == {k: v for k, v in before_0002.items() if k in untouched}
        assert table_checksum(engine, Base.metadata.tables["measure_value"]) == before["measure_value"]
        assert view_checksum(engine) == before["current_measure_value"]

        upgrade(engine)
        assert _sqlite_layout(engine) == (True, ["measure_value"])
        # 0005's derived columns come back as defaults until the next run's derive step rebuilds them
        derived = {"series_point", "series_summary"}
        after = table_checksums(engine)
        assert {k: v for k, v in after.items() if k not in derived} == {
            k: v for k, v in before.items() if k not in derived
        }
    finally:
        engine.dispose()


def test_0004_drops_the_index_by_team_and_gives_it_back(engine: Engine) -> None:
    def indexes() -> dict[str, list[str]]:
        return {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("measure_value")}

    assert indexes() == {}
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    assert indexes() == {"ix_measure_value_team_measure_period": ["team_id", "measure_id", "period"]}
    upgrade(engine)
    assert indexes() == {}
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
