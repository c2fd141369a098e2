"""The CLI contracts other tools rely on: exit codes, JSON shape, no tracebacks, drop-down templates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import DEMO_END

JOYFLOW = [sys.executable, "-m", "flows.cli"]


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*JOYFLOW, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_validate_accepts_a_good_return(demo_network: Path) -> None:
    good = demo_network / "inbox" / DEMO_END / f"T01_{DEMO_END}.xlsx"
    res = run_cli(
        "validate", str(good), "--registry", str(demo_network / "registry.csv"), "--period", DEMO_END
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "ACCEPTED" in res.stdout
    assert "Traceback" not in res.stdout + res.stderr


def test_validate_json_reports_every_cell_problem(demo_network: Path) -> None:
    bad = demo_network / "inbox" / DEMO_END / f"T05_{DEMO_END}.xlsx"
    res = run_cli("validate", str(bad), "--registry", str(demo_network / "registry.csv"), "--json")
    assert res.returncode == 1
    issues = json.loads(res.stdout)
    assert all(
        set(i) == {"file", "part", "row", "column", "check", "severity", "value", "message"} for i in issues
    )
    by_check = {i["check"]: i for i in issues}
    # The demo's broken return: a numerator above its denominator in row 2 and text in a number cell.
    assert by_check["numerator_le_denominator"]["row"] == 2
    assert by_check["numerator_le_denominator"]["column"] == "numerator"
    assert by_check["numerator_le_denominator"]["value"] == "31"
    assert by_check["value_type"]["value"] == "six point five"
    assert by_check["value_type"]["row"] == 3
    assert by_check["component_known"]["severity"] == "error"
    assert "value_required" not in by_check  # already reported as not understood


@pytest.mark.parametrize(
    "content,check",
    [
        (b"", "file_empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "xlsx_not_a_workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "xlsx_encrypted_or_legacy"),
    ],
)
def test_validate_hostile_files_exit_1_without_traceback(tmp_path: Path, content: bytes, check: str) -> None:
    path = tmp_path / "T01_2026-10.xlsx"
    path.write_bytes(content)
    res = run_cli("validate", str(path), "--json")
    assert res.returncode == 1
    assert [i["check"] for i in json.loads(res.stdout)] == [check]
    assert "Traceback" not in res.stderr


def test_validate_usage_errors_exit_2(tmp_path: Path) -> None:
    res = run_cli("validate", str(tmp_path / "nope.xlsx"))
    assert res.returncode == 2
    assert "Not found" in res.stderr and "Traceback" not in res.stderr
    res = run_cli("validate")
    assert res.returncode == 2
    res = run_cli("validate", str(tmp_path), "--period", "October")
    assert res.returncode == 2 and "YYYY-MM" in res.stderr


def test_validate_zip_bomb_is_refused_quickly(tmp_path: Path) -> None:
    bomb = tmp_path / "T01_2026-10.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("measures.csv", b"0" * 200_000_000)
    res = run_cli("validate", str(bomb), "--json")
    assert res.returncode == 1
    assert json.loads(res.stdout)[0]["check"] == "zip_bomb"


def test_template_has_drop_downs_and_round_trips(tmp_path: Path) -> None:
    target = tmp_path / "T01_2026-11.xlsx"
    res = run_cli("template", "--team", "t01", "--period", "2026-11", "--out", str(target))
    assert res.returncode == 0, res.stderr
    wb = openpyxl.load_workbook(target)
    assert {"about", "measures", "pdsa", "learning"} <= set(wb.sheetnames)
    pdsa_lists = {dv.formula1 for dv in wb["pdsa"].data_validations.dataValidation}
    assert any("lists!$B$2:$B$10" in f for f in pdsa_lists)  # the nine Joy in Work components
    assert any("lists!$C$2:$C$5" in f for f in pdsa_lists)  # adopt / adapt / abandon / continue
    about = {r[0].value: r[1].value for r in wb["about"].iter_rows(min_row=2) if r[0].value}
    assert about["Team ID"] == "T01" and about["Period"] == "2026-11"
    measures = [r[0].value for r in wb["measures"].iter_rows(min_row=2) if r[0].value]
    assert "JOY_PULSE" in measures and len(measures) == 8
    # A blank template is read fine but rejected for what is missing, with row-level messages.
    res = run_cli("validate", str(target), "--json")
    checks = {i["check"] for i in json.loads(res.stdout)}
    assert res.returncode == 1
    assert {"submitted_by_required", "progress_score_required", "value_required"} <= checks


def test_unexpected_errors_are_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    res = run_cli(
        "run",
        "--network",
        str(tmp_path / "missing"),
        "--period",
        "2026-10",
        "--no-prefect",
        env={"JOYFLOW_HOME": str(tmp_path / "var")},
    )
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "No inbox for 2026-10" in res.stderr
