"""The schema the migrations build is the schema the models describe, on both dialects.

Alembic is the only way the schema is made, so a model change without its migration (or a
migration that drifts from the models) would otherwise surface as a failed load in production.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from warehouse.migrate import current_revision, head_revision
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
