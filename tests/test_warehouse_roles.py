"""The read-only role for auditors, on the real PostgreSQL server: it reads every table and the
view, and cannot write, change or create anything."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import ProgrammingError

from joyflow.errors import ConfigError
from tests.warehouse_support import networks as nw
from warehouse.engine import make_engine
from warehouse.models import Base
from warehouse.roles import grant_readonly, revoke_readonly


@pytest.fixture
def auditor(pg_url: str) -> Iterator[tuple[str, str]]:
    """A new login role (random name and password), dropped afterwards."""
    role, password = f"jf_audit_{secrets.token_hex(4)}", secrets.token_hex(16)
    owner = make_engine(pg_url)
    with owner.begin() as conn:  # a utility statement takes no bind parameters: both are [a-z0-9_] only
        conn.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'"))
    yield role, password
    try:
        revoke_readonly(owner, role)
    finally:
        with owner.begin() as conn:
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        owner.dispose()


def _as(pg_url: str, role: str, password: str) -> Engine:
    url = make_url(pg_url.replace("postgresql://", "postgresql+psycopg://", 1)).set(
        username=role, password=password
    )
    return make_engine(url.render_as_string(hide_password=False))


def test_readonly_role_reads_everything_and_writes_nothing(
    pg_url: str, auditor: tuple[str, str], tmp_path: Path, joyflow_home: Path
) -> None:
    net = nw.network(tmp_path / "net")
    nw.write(net, "T01", "2026-07")
    nw.run(pg_url, net, "2026-07")  # the writer: migrations, configuration, one return, derived tables
    owner = make_engine(pg_url)
    role, password = auditor
    grant_readonly(owner, role)
    ro = _as(pg_url, role, password)
    try:
        with ro.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar() == role
            for table in [*Base.metadata.tables, "current_measure_value", "alembic_version"]:
                conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar()  # noqa: S608 - our own names
            assert conn.execute(text("SELECT count(*) FROM measure_value")).scalar() == 8
            assert conn.execute(text("SELECT count(*) FROM current_measure_value")).scalar() == 8
        refused = {
            "insert": "INSERT INTO coach (email, name) VALUES ('x@example.org', 'X')",
            "update": "UPDATE measure_value SET value = 0",
            "delete": "DELETE FROM validation_issue",
            "truncate": "TRUNCATE submission CASCADE",
            "create table": "CREATE TABLE sneaky (x int)",
            "create view": "CREATE VIEW sneaky_view AS SELECT 1 AS x",
            "alter": "ALTER TABLE team ADD COLUMN sneaky int",
            "drop": "DROP TABLE run_lock",
            "sequence": "SELECT nextval('delivery_delivery_id_seq')",
        }
        for what, sql in refused.items():
            with (
                ro.connect() as conn,
                pytest.raises(ProgrammingError, match="permission denied|must be owner"),
            ):
                conn.execute(text(sql))
                pytest.fail(f"the read-only role could {what}")
        # A table a later migration creates is readable too (default privileges of the writer).
        with owner.begin() as conn:
            conn.execute(text("CREATE TABLE later_table (x int)"))
            conn.execute(text("INSERT INTO later_table VALUES (1)"))
        with ro.connect() as conn:
            assert conn.execute(text("SELECT x FROM later_table")).scalar() == 1
        # The pipeline itself, run as the read-only role, cannot load anything.
        with pytest.raises(ProgrammingError, match="permission denied"):
            nw.run(ro.url.render_as_string(hide_password=False), net, "2026-07")
        with owner.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM pipeline_run")).scalar() == 1
    finally:
        ro.dispose()
        owner.dispose()


def test_grant_readonly_refuses_what_it_cannot_do(pg_url: str, sqlite_url: str) -> None:
    owner = make_engine(pg_url)
    with pytest.raises(ConfigError, match="only on PostgreSQL"):
        grant_readonly(make_engine(sqlite_url), "auditor")
    with pytest.raises(ConfigError, match="not a plain PostgreSQL role name"):
        grant_readonly(owner, 'x"; DROP TABLE team; --')
    with pytest.raises(ConfigError, match="does not exist"):
        grant_readonly(owner, f"nobody_{secrets.token_hex(4)}")
    owner.dispose()
