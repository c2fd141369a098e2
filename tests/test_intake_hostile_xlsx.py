"""Workbooks built to crash the Excel reader itself (calamine, inside fastexcel).

Each of these tiny files would abort the Python process (a Rust allocation failure is not an
exception), hang it, or make calamine panic, if the reader's guards did not stop it first. So
they are read in a child process: a regression fails these tests instead of killing pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# case -> (expression building the bytes from a valid workbook `ok`, expected check)
CASES: dict[str, tuple[str, str]] = {
    # one cell at the last row and column: calamine allocates 2**34 cells (550 GB) and aborts
    "far_cell": ("rf.with_far_cell(ok, 'XFD1048576')", "sheet_too_large"),
    # a column beyond Excel's XFD: calamine loops (hangs)
    "column_beyond_excel": ("rf.with_far_cell(ok, 'ZZZZ1')", "file_unreadable"),
    # a row beyond Excel's 1,048,576: calamine allocates gigabytes and aborts
    "row_beyond_excel": ("rf.with_far_cell(ok, 'A2000000')", "sheet_too_large"),
    "row_far_beyond_excel": ("rf.with_far_cell(ok, 'A99999999')", "file_unreadable"),
    # cells without a reference, positioned after a row far down and 16,384 cells wide
    "positional_cells": (
        "rf.with_sheet_rows(ok, '<row r=\"1048576\">' + '<c><v>1</v></c>' * 16384 + '</row>')",
        "sheet_too_large",
    ),
    # a '>' inside a quoted attribute must not hide the reference that follows it
    "quoted_angle_bracket": (
        'rf.with_sheet_rows(ok, \'<row r="9"><c foo=">" r="XFD1048576"><v>1</v></c></row>\')',
        "sheet_too_large",
    ),
    # a namespace prefix must not hide a cell
    "prefixed_cell": (
        'rf.with_sheet_rows(ok, \'<row r="9"><x:c r="XFD1048576"><x:v>1</x:v></x:c></row>\')',
        "sheet_too_large",
    ),
    # the shared-string table declares 4 billion entries: calamine pre-allocates 96 GB and aborts
    "shared_string_count": ("rf.with_shared_string_count(ok, 4_000_000_000)", "file_unreadable"),
    # a date-formatted cell holding -2e11: chrono panics inside calamine
    "negative_date_serial": ("rf.with_date_cell_value(ok, '-2e11')", "cell_value_out_of_range"),
}

SCRIPT = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path
    resource.setrlimit(resource.RLIMIT_AS, (4_000_000_000, 4_000_000_000))
    from tests import returns_factory as rf
    from transforms.intake.read import read_return
    ok = rf.xlsx_bytes()
    for case, expr in json.loads(sys.argv[1]).items():
        raw = read_return(Path("T01_2026-10.xlsx"), eval(expr))
        print(json.dumps({"case": case, "issues": [[i.check, i.severity, i.message] for i in raw.issues]}),
              flush=True)
    """
)


@pytest.fixture(scope="module")
def outcomes() -> dict[str, list[list[str]]]:
    cases = {name: expr for name, (expr, _) in CASES.items()}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(cases)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "RUST_BACKTRACE": "0"},
    )
    results = {}
    for line in proc.stdout.splitlines():
        record = json.loads(line)
        results[record["case"]] = record["issues"]
    assert proc.returncode == 0, (
        f"the reader died (exit {proc.returncode}) after {list(results)}: {proc.stderr[-2000:]}"
    )
    assert "panicked" not in proc.stderr, proc.stderr[-2000:]
    return results


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_workbook_is_refused_without_crashing(outcomes: dict, case: str) -> None:
    expected = CASES[case][1]
    assert case in outcomes, "the reader stopped before this case"
    issues = outcomes[case]
    assert [(check, severity) for check, severity, _ in issues] == [(expected, "fatal")], issues
    message = issues[0][2]
    assert "send" in message.lower() or "resend" in message.lower(), message
