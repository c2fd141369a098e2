"""Shared fixtures: an isolated JOYFLOW_HOME, a generated demo network, and warehouses on SQLite and a
real PostgreSQL server (a fresh schema per test)."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

DEMO_END = "2026-10"
TODAY = dt.date(2026, 11, 22)
PG_URL = os.environ.get("JOYFLOW_TEST_PG_URL")


@pytest.fixture(scope="session")
def demo_network_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generated 12-team demo network per session; tests copy it before changing anything."""
    from transforms.demo import generate

    root = tmp_path_factory.mktemp("demo") / "network"
    generate(root, teams=12, months=18, end=DEMO_END)
    return root


@pytest.fixture
def demo_network(demo_network_master: Path, tmp_path: Path) -> Path:
    target = tmp_path / "network"
    shutil.copytree(demo_network_master, target)
    return target


@pytest.fixture
def joyflow_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "var"
    monkeypatch.setenv("JOYFLOW_HOME", str(home))
    monkeypatch.delenv("JOYFLOW_WAREHOUSE_URL", raising=False)
    return home


def _pg_available() -> bool:
    if not PG_URL:
        return False
    try:
        with create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)).connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


PG_OK = _pg_available()
if os.environ.get("JOYFLOW_REQUIRE_PG") and not PG_OK:
    raise RuntimeError(f"JOYFLOW_REQUIRE_PG is set but PostgreSQL is not reachable at {PG_URL!r}")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose connections live in a brand-new schema of the test database (dropped afterwards)."""
    if not PG_OK:
        pytest.skip("PostgreSQL is not running here (make test / .ci/run start it)")
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'warehouse.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both dialects: every test using this runs on SQLite and on the real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(warehouse_url: str) -> Iterator[Engine]:
    from warehouse.engine import make_engine
    from warehouse.migrate import upgrade

    eng = make_engine(warehouse_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def rendered_demo(demo_network_master: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The demo's 18 months loaded and the last month's reports rendered, once per test process.
    Read-only for tests: copy anything you change."""
    from flows.plain import monthly_run_plain

    root = tmp_path_factory.mktemp("rendered")
    network = root / "network"
    shutil.copytree(demo_network_master, network)
    home = root / "var"
    old = os.environ.get("JOYFLOW_HOME")
    os.environ["JOYFLOW_HOME"] = str(home)
    try:
        summary = monthly_run_plain(DEMO_END, network, backfill=True, render=True, today=TODAY)
    finally:
        if old is None:
            os.environ.pop("JOYFLOW_HOME", None)
        else:
            os.environ["JOYFLOW_HOME"] = old
    return {
        "home": home,
        "network": network,
        "url": f"sqlite:///{home / 'warehouse.db'}",
        "summary": summary,
        "reports": home / "reports" / DEMO_END,
    }
