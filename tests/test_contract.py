"""The data contract is declared once and everything follows it: the Pandera schemas, the
normaliser, the warehouse; every rule is a named check; the audit log's issues come from
Pandera's failure cases, history warnings and missing measures included."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy.orm import DeclarativeBase

import tests.returns_factory as rf
from joyflow.errors import ConfigError
from schemas.config import CATALOGUE_SCHEMA, REGISTRY_SCHEMA, load_catalogue, load_network, load_registry
from schemas.contract import CATALOGUE, PARTS, REGISTRY, Part
from schemas.normalise import PART_TYPES
from schemas.returns import SCHEMAS, validate_returns
from schemas.rules import CONFIG_RULES, RULES
from transforms.intake.read import read_return
from warehouse.models import LearningNote, Measure, MeasureValue, PdsaCycle, PeopleChange, Submission

# The warehouse table that keeps each part's rows (read-only here: the warehouse follows the contract).
TABLES: dict[str, type[DeclarativeBase]] = {
    "about": Submission,
    "measures": MeasureValue,
    "pdsa": PdsaCycle,
    "learning": LearningNote,
    "people_changes": PeopleChange,
    "catalogue": Measure,
}
_POLARS_OF_PYTHON = {str: pl.String, float: pl.Float64, int: pl.Int64, dt.date: pl.Date, bool: pl.Boolean}


@pytest.mark.parametrize("part", [*PARTS.values(), CATALOGUE], ids=lambda p: p.name)
def test_the_warehouse_keeps_each_column_as_the_contract_types_it(part: Part) -> None:
    table = TABLES[part.name].__table__
    for col in part.columns:
        stored = table.columns[col.name]
        assert _POLARS_OF_PYTHON[stored.type.python_type] == col.dtype, (part.name, col.name)
        if col.nullable:  # what a team may leave blank, the warehouse must be able to hold
            assert stored.nullable, (part.name, col.name)


@pytest.mark.parametrize(
    ("part", "schema", "rules"),
    [
        *[(p, SCHEMAS[p.name], [r for r in RULES if r.frame == p.name]) for p in PARTS.values()],
        (REGISTRY, REGISTRY_SCHEMA, [r for r in CONFIG_RULES if r.part == "registry"]),
        (CATALOGUE, CATALOGUE_SCHEMA, [r for r in CONFIG_RULES if r.part == "catalogue"]),
    ],
    ids=lambda x: x.name if isinstance(x, Part) else "",
)
def test_each_schema_declares_every_column_and_every_rule_as_a_named_check(part, schema, rules) -> None:
    assert list(schema.columns) == part.column_names
    for col in part.columns:
        declared = schema.columns[col.name]
        assert declared.dtype.type == col.dtype, col.name
        assert declared.nullable == col.nullable, col.name
    named = {
        check.name: (column, check.description) for column, c in schema.columns.items() for check in c.checks
    } | {check.name: (None, check.description) for check in schema.checks}
    for rule in rules:
        if rule.not_null:  # Pandera's not-nullable declaration, reported under the rule's name
            assert not part.columns[part.column_names.index(rule.column)].nullable
            continue
        assert named.pop(rule.name) == (rule.column, rule.message)
    assert named == {}  # and no check the rule table does not know
    # Every column that may not be blank has its rule, with the sentence a team reads.
    assert {c.name for c in part.columns if not c.nullable} == {r.column for r in rules if r.not_null}


def test_the_normaliser_types_each_column_as_the_contract_says() -> None:
    for name, part in PARTS.items():
        kinds = PART_TYPES[name]
        for col in part.columns:
            if col.kind.name == "text":
                assert col.name not in kinds
            else:
                assert kinds[col.name] == col.kind


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory):
    return load_network(rf.write_network(tmp_path_factory.mktemp("contract") / "network"))


def test_history_and_missing_measures_are_rules_with_the_issues_a_team_reads(network, tmp_path: Path) -> None:
    parts = rf.valid_parts("T03")
    parts["measures"] = [m for m in parts["measures"] if m["measure_id"] != "PEBBLES"]
    raws = [
        read_return(rf.write_xlsx(tmp_path / "T01_2026-10.xlsx", rf.valid_grids("T01"))),
        read_return(rf.write_xlsx(tmp_path / "T03_2026-10.xlsx", rf.grids(parts))),
    ]
    history = pl.DataFrame(
        {
            "team_id": ["T01"] * 6 + ["T03"],
            "measure_id": ["JOY_PULSE"] * 6 + ["RECOMMEND"],
            "period": [f"2026-0{m}" for m in range(3, 9)] + ["2026-09"],
            "value": [6.0, 6.1, 6.0, 6.2, 6.1, 6.0, 0.5],
            "denominator": [None] * 6 + [2.0],
        }
    )
    t01, t03 = validate_returns(raws, network, rf.RUN_PERIOD, rf.TODAY, history)
    assert [(i.part, i.row, i.column, i.check, i.severity, i.value, i.message) for i in t01.issues] == [
        (
            "measures",
            2,
            "value",
            "value_far_from_history",
            "warning",
            "7.4",
            "JOY_PULSE for 2026-10 is 7.4, far outside your team's recent range (5.641 to 6.492). "
            "Please check it; if it is right, say why in the comment.",
        )
    ]
    assert [(i.part, i.row, i.column, i.check, i.severity, i.value, i.message) for i in t03.issues] == [
        (
            "measures",
            None,
            "measure_id",
            "measure_missing",
            "warning",
            "PEBBLES",
            "No value for PEBBLES in 2026-10. Send it next month as a correction if you can.",
        ),
        (
            "measures",
            3,
            "denominator",
            "denominator_jump",
            "warning",
            "12.0",
            "The denominator of RECOMMEND for 2026-10 is 12, against 2 in 2026-09. "
            "Please check it counts the same thing.",
        ),
    ]
    assert t01.accepted and t03.accepted


def test_a_return_with_two_about_records_is_rejected_by_its_rule_alone(network, tmp_path: Path) -> None:
    path = rf.write_csv_folder(tmp_path / "T01_csv", rf.valid_grids("T01"))
    # 'about' laid out as a table (which the reader accepts) with two records instead of one
    (path / "about.csv").write_text(
        "Team ID,Period,Submitted by,Submitted on,Progress score\n"
        "T01,2026-10,Ward 7 lead,2026-11-05,2.5\n"
        "T01,2026-10,Ward 7 lead,2026-11-06,3.0\n",
        encoding="utf-8",
    )
    (verdict,) = validate_returns([read_return(path)], network, rf.RUN_PERIOD, rf.TODAY)
    assert [(i.part, i.row, i.column, i.check, i.severity, i.value) for i in verdict.issues] == [
        ("about", None, None, "about_one_record", "fatal", None)
    ]
    assert verdict.issues[0].message == "The 'about' part must describe exactly one return."
    assert not verdict.accepted


def test_a_broken_registry_is_reported_row_by_row_in_sentences(tmp_path: Path) -> None:
    path = tmp_path / "registry.csv"
    path.write_text(
        "team_id,team_name,organisation_id,organisation_name,coach_name,coach_email,cohort,first_period\n"
        "T01,Ward 1,ORG,Trust,Coach,coach@example.org,,2025-05\n"
        "T01,Ward 2,ORG,Trust,Coach,not an email,,2025-5\n"
        "T03,,ORG,Trust,Coach,coach@example.org,,2025-05\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_registry(path)
    assert str(err.value).splitlines() == [
        f"Registry {path} is not valid:",
        "  - row 2, column team_id: Team ID 'T01' is listed more than once.",
        "  - row 3, column team_id: Team ID 'T01' is listed more than once.",
        "  - row 3, column coach_email: 'not an email' is not an email address reports can be sent to (team T01).",
        "  - row 3, column first_period: The first period of team T01, '2025-5', is not a month written as YYYY-MM.",
        "  - row 4, column team_name: team_name is empty: every team needs one.",
    ]


def test_a_catalogue_with_a_p_chart_for_a_count_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_text(
        "measure_id,name,type,kind,direction,target,chart,lower_bound,upper_bound,unit,multiplier,description\n"
        "HUDDLES,Huddles,process,count,up,,p,10,0,,1,\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_catalogue(path)
    assert str(err.value).splitlines()[1:] == [
        "  - row 2, column lower_bound: The lower bound of HUDDLES (10) must be below its upper bound (0).",
        "  - row 2, column chart: Measure HUDDLES is a count: a 'p' chart needs a proportion.",
    ]
