"""Per-table checksums: equal content, equal checksums — on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, update

from tests.warehouse_support import networks as nw
from warehouse.checksum import VOLATILE_COLUMNS, VOLATILE_TABLES, diff, normalise, row_counts, table_checksums
from warehouse.engine import make_engine
from warehouse.migrate import upgrade
from warehouse.models import Base, Coach, MeasureValue, ReceivedFile, Submission


@pytest.fixture(scope="module")
def tiny_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transforms.demo import generate

    root = tmp_path_factory.mktemp("demo8x3") / "network"
    generate(root, teams=8, months=3, end="2026-10")
    return root


def test_the_same_run_on_sqlite_and_postgresql_has_the_same_checksums(
    sqlite_url: str, pg_url: str, tiny_demo: Path, joyflow_home: Path
) -> None:
    sums = {}
    for url in (sqlite_url, pg_url):
        nw.run(url, tiny_demo, "2026-10", backfill=True)
        eng = make_engine(url)
        sums[eng.dialect.name] = (table_checksums(eng), row_counts(eng))
        eng.dispose()
    assert diff(sums["sqlite"][0], sums["postgresql"][0]) == []
    assert sums["sqlite"][1] == sums["postgresql"][1]
    assert sums["sqlite"][1]["measure_value"] > 0 and sums["sqlite"][1]["series_point"] > 0


def test_checksums_cover_every_table_and_the_view(engine: Engine) -> None:
    sums = table_checksums(engine)
    tables = set(Base.metadata.tables)
    assert set(sums) == (tables - set(VOLATILE_TABLES)) | {"current_measure_value"}
    assert set(table_checksums(engine, include_volatile=True, include_view=False)) == tables
    assert all(len(h) == 64 for h in sums.values())
    assert set(VOLATILE_COLUMNS) <= tables  # every excluded column names a real table ...
    for table, cols in VOLATILE_COLUMNS.items():
        assert cols <= set(Base.metadata.tables[table].columns.keys())  # ... and real columns


def _seed(eng: Engine, coaches: list[tuple[str, str]]) -> None:
    with eng.begin() as conn:
        for email, name in coaches:
            conn.execute(insert(Coach).values(email=email, name=name))


def test_row_order_of_insertion_does_not_matter(warehouse_url: str, tmp_path: Path) -> None:
    coaches = [("b@x.org", "B"), ("a@x.org", "A"), ("B@x.org", "Upper"), ("é@x.org", "Accent")]
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    eng = make_engine(warehouse_url)
    for e, rows in ((eng, coaches), (other, list(reversed(coaches)))):
        upgrade(e)
        _seed(e, rows)
    assert table_checksums(eng)["coach"] == table_checksums(other)["coach"]
    eng.dispose()
    other.dispose()


def test_content_changes_show_and_volatile_columns_do_not(
    warehouse_url: str, tiny_demo: Path, joyflow_home: Path
) -> None:
    nw.run(warehouse_url, tiny_demo, "2026-10", backfill=True)
    eng = make_engine(warehouse_url)
    before = table_checksums(eng)
    with eng.begin() as conn:  # only what a re-run may legitimately change
        conn.execute(
            update(ReceivedFile).values(
                first_run_id="another-run",
                archive_path="/elsewhere",
                first_seen_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
            )
        )
        conn.execute(update(Submission).values(run_id="another-run"))
    assert table_checksums(eng) == before
    with eng.begin() as conn:
        sid = conn.execute(MeasureValue.__table__.select().limit(1)).first().submission_id
        conn.execute(
            update(MeasureValue)
            .where(MeasureValue.submission_id == sid)
            .values(value=MeasureValue.value + 1e-9)
        )
    changed = diff(before, table_checksums(eng))
    assert "measure_value" in changed and set(changed) <= {"measure_value", "current_measure_value"}
    eng.dispose()


def test_normalise_makes_dialect_types_agree() -> None:
    assert normalise(None) is None and normalise(float("nan")) is None
    assert normalise(True) is True and normalise(3) == 3
    assert normalise(-0.0) == normalise(0.0) == {"f": "0.0"}
    assert normalise(0.1 + 0.2) == {"f": "0.30000000000000004"}  # exact: no rounding hides a change
    assert normalise(dt.date(2026, 7, 1)) == {"t": "2026-07-01"}
    aware = dt.datetime(2026, 7, 1, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert normalise(aware) == normalise(dt.datetime(2026, 7, 1, 11, 0)) == {"t": "2026-07-01T11:00:00"}
    assert normalise(decimal.Decimal("1.50")) == {"d": "1.5"}
    assert normalise(b"\x00\xff") == {"b": "00ff"}
    assert normalise("2026-07-01") == "2026-07-01" != normalise(dt.date(2026, 7, 1))
