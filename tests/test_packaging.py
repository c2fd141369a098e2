"""joyflow as users install it: a built wheel holds everything the commands need, and nothing else.

A plain ``pip install .`` installs this same wheel; here it is unpacked and run from a folder
outside the repository, so nothing can be found through the working tree.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")
    # Built as `pip install .` builds it (an isolated build environment from the registry).
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
        cwd=build,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )
    (found,) = out.glob("joyflow-*.whl")
    return found


def test_the_wheel_ships_templates_catalogue_and_migrations_and_no_test_or_bench_code(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "templates/team_report.html.j2",
        "templates/network_report.html.j2",
        "templates/email_coach.html.j2",
        "templates/report.css",
        "schemas/default_catalogue.csv",
        "warehouse/migrations/env.py",
        "warehouse/migrations/script.py.mako",
        "warehouse/migrations/versions/0001_initial_warehouse_schema.py",
        "flows/cli.py",
    ):
        assert needed in names, f"{needed} is missing from {wheel.name}"
    assert not [n for n in names if n.startswith(("tests/", "bench/"))]


def test_the_installed_package_runs_demo_and_run_to_pdfs(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    work = tmp_path / "work"
    work.mkdir()
    cli = (
        f"import sys; sys.path.insert(0, {str(site)!r}); import flows; "
        f"assert flows.__file__.startswith({str(site)!r}), flows.__file__; "
        "from flows.cli import main; sys.argv[0] = 'joyflow'; main()"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOYFLOW_", "PYTHONPATH"))} | {
        "JOYFLOW_HOME": str(work / "var")
    }

    def joyflow(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", cli, *args], cwd=work, env=env, capture_output=True, text=True, timeout=300
        )

    made = joyflow("demo", "--out", "net", "--teams", "2", "--months", "2", "--end", "2026-10")
    assert made.returncode == 0, made.stderr
    ran = joyflow("run", "--network", "net", "--period", "2026-10", "--backfill", "--no-prefect")
    assert ran.returncode == 0, ran.stderr + ran.stdout
    pdfs = sorted(p.name for p in (work / "var" / "reports" / "2026-10").glob("*.pdf"))
    assert pdfs[:1] == ["network_2026-10.pdf"]
    assert {"team_T01_2026-10.pdf", "team_T02_2026-10.pdf"} <= set(pdfs)
    assert (work / "var" / "reports" / "2026-10" / "team_T01_2026-10.pdf").read_bytes().startswith(b"%PDF-")
