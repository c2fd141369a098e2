"""A run validates all its files in one batch; a file's verdict must not depend on its neighbours.

The batch (one normalisation and one Pandera call per part for the whole run) is what makes a
month of 1,000 returns take a tenth of a second. These tests hold it to the simplest promise:
every file gets exactly the verdict — status, issues in order, typed frames — it would get
if it were validated alone, and the Pandera schemas name the same rule failures as the
rules written as bare Polars.
"""

from __future__ import annotations

import polars as pl
import pytest

import tests.returns_factory as rf
from bench.rules_floor import bare_rules
from schemas.config import load_network
from schemas.returns import FRAMES, REJECTED, check_frame, prepared_frames, validate_returns
from transforms.intake.read import read_return


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory):
    return load_network(rf.write_network(tmp_path_factory.mktemp("batch") / "network"))


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory: pytest.TempPathFactory) -> list:
    """A run as messy as a real month: clean files beside broken ones, in every format."""
    d = tmp_path_factory.mktemp("returns")
    good = rf.valid_grids
    extra = rf.valid_grids("T03")
    for i, row in enumerate(extra["measures"]):  # an odd column layout: forces the diagonal concat
        row.append("Checked by" if i == 0 else "AB")
    duplicate = rf.valid_grids("T02")
    duplicate["measures"].append(["joy_pulse ", "2026-10", None, None, 7.1, "typed twice"])
    paths = [
        rf.write_xlsx(d / "T01_2026-10.xlsx", good("T01")),
        rf.write_xlsx(
            d / "T02_2026-10.xlsx", rf.set_cell(good("T02"), "measures", "Numerator", 31, data_row=7)
        ),
        rf.write_xlsx(d / "T03_2026-10.xlsx", extra),
        (d / "junk.xlsx", b"\x89PNG not a workbook"),
        rf.write_xlsx(d / "T02_2026-10_v2.xlsx", duplicate),
        rf.write_csv_folder(
            d / "T01_csv", rf.set_cell(good("T01"), "measures", "Value", "seven", data_row=1)
        ),
        rf.write_xlsx(
            d / "T03_2026-10_b.xlsx", rf.set_cell(good("T03"), "pdsa", "Cycle number", 3, data_row=1)
        ),
        rf.write_xlsx(d / "T09_2026-10.xlsx", good("T09")),  # not in the registry: fatal
        rf.write_xlsx(d / "T01_2026-09.xlsx", good("T01", "2026-09")),  # another month: fatal for this run
        rf.write_xlsx(
            d / "T02_typos.xlsx",
            rf.set_cell(
                rf.set_cell(good("T02"), "pdsa", "Start date", "31/02/2026"), "about", "Progress score", "x"
            ),
        ),
    ]
    raws = []
    for p in paths:
        if isinstance(p, tuple):
            p[0].write_bytes(p[1])
            raws.append(read_return(p[0]))
        else:
            raws.append(read_return(p))
    return raws


def _comparable(v) -> tuple:
    return (
        v.file,
        v.status,
        v.team_id,
        v.period,
        [i.to_dict() for i in v.issues],
        {part: frame.to_dicts() for part, frame in v.frames.items()},
    )


def test_each_file_gets_the_verdict_it_would_get_alone(network, mixed_run) -> None:
    batch = validate_returns(mixed_run, network, rf.RUN_PERIOD, today=rf.TODAY)
    alone = [validate_returns([raw], network, rf.RUN_PERIOD, today=rf.TODAY)[0] for raw in mixed_run]
    assert [_comparable(v) for v in batch] == [_comparable(v) for v in alone]
    # and the run really is mixed: the comparison above is not between empty lists
    found = {i.check for v in batch for i in v.issues}
    assert {
        "numerator_le_denominator",
        "unique_measure_period",
        "value_type",
        "cycle_in_order",
        "team_registered",
        "period_matches_run",
        "start_date_type",
        "progress_score_type",
    } <= found, found
    assert [v.status == REJECTED for v in batch] == [
        False,
        True,
        False,
        True,
        True,
        True,
        True,
        True,
        True,
        True,
    ]


def test_pandera_schemas_name_the_same_failures_as_bare_polars(network, mixed_run) -> None:
    history = pl.DataFrame(
        {
            "team_id": ["T01"] * 6 + ["T03"],
            "measure_id": ["JOY_PULSE"] * 6 + ["RECOMMEND"],
            "period": [f"2026-0{m}" for m in range(3, 9)] + ["2026-09"],
            "value": [6.0, 6.1, 6.0, 6.2, 6.1, 6.0, 0.5],
            "denominator": [None] * 6 + [2.0],
        }
    )
    frames = prepared_frames(mixed_run, network, rf.RUN_PERIOD, rf.TODAY, history)
    assert list(frames) == [f for f in FRAMES if f != "returns"]
    failures = 0
    for name, frame in frames.items():
        ours = check_frame(name, frame).sort("index", "rule")
        floor = bare_rules(name, frame).sort("index", "rule")
        assert ours.equals(floor), (name, ours, floor)
        failures += ours.height
    assert failures >= 6
