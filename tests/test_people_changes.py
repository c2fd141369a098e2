"""The optional 'people changes' part of the monthly return (issue 15): teams report who joined,
left or changed role; the part is read, typed, checked (file, row, column and what to fix), loaded
with its submission and applied on top of the data manager's people file while that submission
is current."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

import tests.returns_factory as rf
from schemas.config import load_network
from schemas.returns import ACCEPTED, ACCEPTED_WITH_WARNINGS, REJECTED, validate_returns
from tests.participation_support import participation_files
from tests.warehouse_support import networks as nw
from transforms.intake.read import read_return
from transforms.participation.changes import apply_people_changes, reported_person_id
from transforms.participation.roles import role_coverage
from warehouse import participation as wp
from warehouse.engine import make_engine
from warehouse.models import PeopleChange, ValidationIssue

D = dt.date


# --------------------------------------------------------------------------- reading and checking


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory):
    return load_network(rf.write_network(tmp_path_factory.mktemp("people") / "network"))


def _with_changes(rows: list[dict], team: str = "T01") -> dict:
    parts = rf.valid_parts(team)
    parts["people_changes"] = rows
    return rf.grids(parts)


def _validate(path: Path, network, people: pl.DataFrame | None = None):
    raw = read_return(path, path.read_bytes(), "sha-" + path.stem)
    return validate_returns([raw], network, rf.RUN_PERIOD, rf.TODAY, people=people)[0]


PEOPLE = pl.DataFrame(
    {
        "team_id": ["T01", "T01"],
        "name": ["Amira Haddad", "Tom O'Neill"],
        "email": ["amira.haddad@northgate.nhs.example", None],
    }
)


def test_a_return_without_the_part_is_read_as_no_changes(tmp_path: Path, network) -> None:
    path = rf.write_xlsx(tmp_path / "T01_2026-10.xlsx", rf.valid_grids())
    raw = read_return(path, path.read_bytes())
    assert raw.issues == []
    assert raw.parts["people_changes"].height == 0
    verdict = _validate(path, network)
    assert verdict.status == ACCEPTED
    assert verdict.frames["people_changes"].height == 0
    # a CSV return of the four required parts is complete too
    folder = rf.write_csv_folder(tmp_path / "T01_csv", rf.valid_grids())
    assert read_return(folder).issues == []


def test_words_a_person_writes_are_read_as_codes(tmp_path: Path, network) -> None:
    rows = [
        {"change": "Joined", "name": "Grace Evans", "email": "Grace.Evans@northgate.nhs.example",
         "role": "Frontline clinician", "steering_committee": "No", "effective_on": D(2026, 10, 6)},
        {"change": "role-change", "name": "Haddad, Amira", "role": "unit-level manager",
         "effective_on": "14/10/2026"},
        {"change": "LEFT", "name": "tom o'neill", "effective_on": "2026-10-31"},
    ]  # fmt: skip
    path = rf.write_xlsx(tmp_path / "T01_2026-10.xlsx", _with_changes(rows))
    verdict = _validate(path, network, PEOPLE)
    assert verdict.status == ACCEPTED, [i.message for i in verdict.issues]
    frame = verdict.frames["people_changes"]
    assert frame.get_column("change").to_list() == ["joined", "role_change", "left"]
    assert frame.get_column("role").to_list() == ["frontline_clinician", "core_leader", None]
    assert frame.get_column("steering_committee").to_list() == [False, None, None]
    assert frame.get_column("effective_on").to_list() == [D(2026, 10, 6), D(2026, 10, 14), D(2026, 10, 31)]
    assert frame.get_column("_row").to_list() == [2, 3, 4]


def test_each_mistake_names_the_row_the_column_and_what_to_fix(tmp_path: Path, network) -> None:
    rows = [
        {"change": "quit", "name": "Amira Haddad", "effective_on": D(2026, 10, 1)},
        {"change": "joined", "name": "Sam Patel", "effective_on": D(2026, 10, 2)},  # no role
        {"change": "joined", "name": '=HYPERLINK("http://x","click")', "role": "frontline clinician",
         "effective_on": D(2026, 10, 3)},
        {"change": "joined", "name": "Bola Ali", "email": "bola at trust", "role": "boss",
         "effective_on": "31/02/2026"},
        {"change": "left", "name": "Nobody We Know", "effective_on": D(2026, 10, 5)},
    ]  # fmt: skip
    path = rf.write_xlsx(tmp_path / "T01_2026-10.xlsx", _with_changes(rows))
    verdict = _validate(path, network, PEOPLE)
    assert verdict.status == REJECTED
    found = {(i.part, i.row, i.column, i.check, i.severity) for i in verdict.issues}
    assert found == {
        ("people_changes", 2, "change", "change_known", "error"),
        ("people_changes", 3, "role", "change_role_required", "error"),
        ("people_changes", 4, "name", "change_name_not_formula", "error"),
        ("people_changes", 5, "email", "change_email_well_formed", "error"),
        ("people_changes", 5, "role", "change_role_known", "error"),
        ("people_changes", 5, "effective_on", "effective_on_type", "error"),
        ("people_changes", 6, "name", "change_person_known", "warning"),
    }
    by_check = {i.check: i for i in verdict.issues}
    assert by_check["change_known"].message == (
        "'quit' is not a change the network records: write joined, left or role change."
    )
    assert by_check["change_role_required"].message == (
        "Give the role of 'Sam Patel': senior leader, core leader or frontline clinician."
    )
    assert "formula" in by_check["change_name_not_formula"].message
    assert by_check["effective_on_type"].message == (  # the column as the team's sheet labels it
        "'31/02/2026' in Date is not understood: expected a date written as YYYY-MM-DD or DD/MM/YYYY, "
        "for example 2026-03-31."
    )
    assert by_check["change_person_known"].message.startswith(
        "No participant of your team is called 'Nobody We Know'"
    )
    assert all(i.file == "T01_2026-10.xlsx" for i in verdict.issues)


def test_a_change_about_someone_unknown_is_a_warning_only(tmp_path: Path, network) -> None:
    rows = [{"change": "left", "name": "Nobody We Know", "effective_on": D(2026, 10, 5)}]
    path = rf.write_xlsx(tmp_path / "T01_2026-10.xlsx", _with_changes(rows))
    verdict = _validate(path, network, PEOPLE)
    assert verdict.status == ACCEPTED_WITH_WARNINGS
    assert [i.check for i in verdict.issues] == ["change_person_known"]
    # someone who joined earlier in the same return can change role in it
    rows = [
        {"change": "joined", "name": "Ann Lee", "role": "core leader", "effective_on": D(2026, 10, 1)},
        {"change": "role change", "name": "Ann Lee", "role": "senior leader", "effective_on": D(2026, 10, 20)},
    ]  # fmt: skip
    path = rf.write_xlsx(tmp_path / "b" / "T01_2026-10.xlsx", _with_changes(rows))
    assert _validate(path, network, PEOPLE).status == ACCEPTED


def test_an_empty_people_changes_sheet_is_no_changes(tmp_path: Path, network) -> None:
    sheets = rf.valid_grids()
    sheets["people_changes"] = [[None]]
    path = rf.write_xlsx(tmp_path / "T01_2026-10.xlsx", sheets)
    assert _validate(path, network).status == ACCEPTED
    sheets["people_changes"] = [["Who", "When"], ["Ann", "today"]]  # something, but not the part
    path = rf.write_xlsx(tmp_path / "b" / "T01_2026-10.xlsx", sheets)
    verdict = _validate(path, network)
    assert verdict.status == REJECTED
    assert [(i.part, i.check) for i in verdict.issues] == [("people_changes", "part_header_missing")]


def test_the_part_as_a_csv_in_a_zip(tmp_path: Path, network) -> None:
    rows = [
        {
            "change": "joined",
            "name": "Grace Evans",
            "role": "frontline clinician",
            "effective_on": "2026-10-06",
        }
    ]
    path = rf.write_csv_zip(tmp_path / "T01_2026-10.zip", _with_changes(rows))
    verdict = _validate(path, network)
    assert verdict.status == ACCEPTED
    assert verdict.frames["people_changes"].get_column("name").to_list() == ["Grace Evans"]


# --------------------------------------------------------------------------- applying the changes

FILE = pl.DataFrame(
    {
        "person_id": ["P1", "P2", "P3", "P9"],
        "team_id": ["T01", "T01", "T01", "T02"],
        "name": ["Kofi Nordmann", "Renée Begum", "Tom Mensah", "Ola Shah"],
        "email": ["kofi@nsh.example", "renee@nsh.example", None, None],
        "role": ["senior_leader", "core_leader", "frontline_clinician", "core_leader"],
        "steering_committee": [True, False, False, False],
        "joined_on": [D(2025, 4, 20)] * 4,
        "left_on": [None, None, None, None],
    },
    schema_overrides={"email": pl.String, "left_on": pl.Date},
)


def _changes(*rows: tuple) -> pl.DataFrame:
    """(team, period, change, name, email, role, effective_on) rows."""
    return pl.DataFrame(
        [
            {
                "team_id": t,
                "period": p,
                "source_row": i + 2,
                "change": c,
                "name": n,
                "email": e,
                "role": r,
                "steering_committee": None,
                "effective_on": on,
            }
            for i, (t, p, c, n, e, r, on) in enumerate(rows)
        ],  # fmt: skip
        schema=wp.CHANGE_SCHEMA,
    )


def test_changes_apply_on_top_of_the_people_file() -> None:
    applied = apply_people_changes(
        FILE,
        _changes(
            ("T01", "2026-09", "left", "Begum, Renee", None, None, D(2026, 9, 15)),  # by name, any form
            ("T01", "2026-10", "joined", "Ann Lee", "ann@nsh.example", "core_leader", D(2026, 10, 1)),
            ("T01", "2026-10", "role_change", "Tom Mensah", None, "senior_leader", D(2026, 10, 3)),
            (
                "T01",
                "2026-10",
                "joined",
                "Kofi Nordmann",
                "KOFI@nsh.example",
                "senior_leader",
                D(2026, 10, 5),
            ),
            ("T01", "2026-10", "left", "Nobody Here", None, None, D(2026, 10, 4)),
        ),
    )
    people = applied.people.filter(pl.col("team_id") == "T01").sort("person_id", "joined_on")
    ann = reported_person_id("T01", "ann@nsh.example", "ann lee")
    assert people.select("person_id", "role", "joined_on", "left_on").rows() == [
        ("P1", "senior_leader", D(2025, 4, 20), None),  # already in post: the file stands
        ("P2", "core_leader", D(2025, 4, 20), D(2026, 9, 15)),
        ("P3", "frontline_clinician", D(2025, 4, 20), D(2026, 10, 3)),
        ("P3", "senior_leader", D(2026, 10, 3), None),
        (ann, "core_leader", D(2026, 10, 1), None),
    ]
    assert applied.people.filter(pl.col("team_id") == "T02").equals(FILE.filter(pl.col("team_id") == "T02"))
    assert applied.unapplied.select("team_id", "change", "name").rows() == [("T01", "left", "Nobody Here")]
    # the role Renée left is vacant from the day she left, Tom's old role from the day he changed
    teams = pl.DataFrame({"team_id": ["T01"], "joined_on": [D(2025, 5, 1)]})
    coverage = role_coverage(teams, applied.people, D(2026, 10, 31))
    assert coverage.select("role", "holders", "vacant_since").rows() == [
        ("senior_leader", 2, None),
        ("core_leader", 1, None),  # Ann from 1 October
        ("frontline_clinician", 0, D(2026, 10, 3)),
    ]
    on_the_20th = role_coverage(teams, applied.people, D(2026, 9, 20))
    assert on_the_20th.filter(pl.col("role") == "core_leader").item(0, "vacant_since") == D(2026, 9, 15)


def test_a_change_the_file_already_records_does_nothing() -> None:
    recorded = FILE.with_columns(
        pl.when(pl.col("person_id") == "P2")
        .then(D(2026, 9, 15))
        .otherwise(pl.col("left_on"))
        .alias("left_on")
    )
    applied = apply_people_changes(
        recorded, _changes(("T01", "2026-09", "left", "Renée Begum", None, None, D(2026, 9, 15)))
    )
    assert applied.people.sort("person_id").equals(recorded.sort("person_id"))
    assert applied.unapplied.is_empty()


def test_someone_who_left_rejoins_with_a_new_spell() -> None:
    applied = apply_people_changes(
        FILE,
        _changes(
            ("T01", "2026-05", "left", "Tom Mensah", None, None, D(2026, 5, 1)),
            ("T01", "2026-09", "joined", "Tom Mensah", None, "frontline_clinician", D(2026, 9, 1)),
        ),
    )
    tom = applied.people.filter(pl.col("person_id") == "P3").sort("joined_on")
    assert tom.select("joined_on", "left_on").rows() == [
        (D(2025, 4, 20), D(2026, 5, 1)),
        (D(2026, 9, 1), None),
    ]


# --------------------------------------------------------------------------- through the monthly run


def _people_network(tmp_path: Path) -> Path:
    root = nw.network(tmp_path / "network", teams=("T01", "T02"))
    participation_files(root)
    return root


def test_the_run_loads_changes_and_a_corrected_return_replaces_them(
    tmp_path: Path, warehouse_url: str, joyflow_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _people_network(tmp_path)
    nw.write(
        root,
        "T01",
        "2026-10",
        people_changes=[
            {"change": "left", "name": "Tom O'Neill", "effective_on": D(2026, 10, 12)},
            {"change": "joined", "name": "Grace Evans", "email": "grace.evans@northgate.nhs.example",
             "role": "senior leader", "steering_committee": "yes", "effective_on": D(2026, 10, 1)},
            {"change": "role change", "name": "Ghost Person", "role": "core leader", "effective_on": D(2026, 10, 2)},
        ],
    )  # fmt: skip
    summary = nw.run(warehouse_url, root, "2026-10")
    assert nw.statuses(summary) == {"T01_2026-10.xlsx": ACCEPTED_WITH_WARNINGS}
    engine = make_engine(warehouse_url)
    with engine.connect() as conn:
        stored = conn.execute(
            select(PeopleChange.source_row, PeopleChange.change, PeopleChange.role).order_by(
                PeopleChange.source_row
            )
        ).all()
        warned = conn.execute(
            select(ValidationIssue.row, ValidationIssue.column, ValidationIssue.message).where(
                ValidationIssue.check == "change_person_known"
            )
        ).all()
    assert [tuple(r) for r in stored] == [
        (2, "left", None),
        (3, "joined", "senior_leader"),
        (4, "role_change", "core_leader"),
    ]
    assert [(r.row, r.column) for r in warned] == [(4, "name")]
    people = wp.people(engine).filter(pl.col("team_id") == "T01")
    grace = reported_person_id("T01", "grace.evans@northgate.nhs.example", "grace evans")
    assert people.select("person_id", "role", "steering_committee", "left_on").sort("person_id").rows() == [
        ("P01", "core_leader", False, None),
        ("P02", "frontline_clinician", False, D(2026, 10, 12)),
        (grace, "senior_leader", True, None),
    ]

    from flows.participation_cli import as_json, participation
    from joyflow.settings import Settings

    monkeypatch.setenv("JOYFLOW_WAREHOUSE_URL", warehouse_url)
    figures = as_json(participation(Settings.from_env(), root, "2026-10", D(2026, 11, 22)))
    t01 = next(t for t in figures["teams"] if t["team_id"] == "T01")
    assert t01["roles_missing"] == ["frontline_clinician"]
    assert t01["roles_covered"] == ["senior_leader", "core_leader"]
    assert [(c["team_id"], c["change"], c["name"]) for c in figures["unapplied_changes"]] == [
        ("T01", "role_change", "Ghost Person")
    ]
    json.dumps(figures)  # the CLI prints it

    # a corrected return without the part: its changes no longer apply
    nw.write(root, "T01", "2026-10", name="T01_2026-10_v2.xlsx")
    nw.run(warehouse_url, root, "2026-10")
    people = wp.people(engine).filter(pl.col("team_id") == "T01")
    assert people.get_column("person_id").to_list() == ["P01", "P02"]
    assert people.get_column("left_on").to_list() == [None, None]
    assert wp.people_changes(engine).is_empty()


def test_a_backfill_and_month_by_month_apply_the_same_changes(
    tmp_path: Path, sqlite_url: str, joyflow_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def inbox(root: Path) -> Path:
        nw.write(
            root,
            "T02",
            "2026-09",
            people_changes=[{"change": "left", "name": "Kofi Mensah", "effective_on": D(2026, 9, 30)}],
        )
        nw.write(
            root,
            "T02",
            "2026-10",
            people_changes=[
                {
                    "change": "joined",
                    "name": "Lucy Iyer",
                    "role": "core leader",
                    "effective_on": D(2026, 10, 4),
                }
            ],
        )
        return root  # fmt: skip

    monthly = inbox(_people_network(tmp_path / "monthly"))
    nw.run(sqlite_url, monthly, "2026-09")
    nw.run(sqlite_url, monthly, "2026-10")
    month_by_month = wp.people(make_engine(sqlite_url))
    other = f"sqlite:///{tmp_path / 'backfill.db'}"
    monkeypatch.setenv("JOYFLOW_HOME", str(tmp_path / "home-backfill"))  # its own audit log
    nw.run(other, inbox(_people_network(tmp_path / "backfill")), "2026-10", backfill=True)
    assert wp.people(make_engine(other)).equals(month_by_month)
    t02 = month_by_month.filter(pl.col("team_id") == "T02").sort("person_id")
    assert t02.filter(pl.col("person_id") == "P05").item(0, "left_on") == D(2026, 9, 30)
    assert t02.height == 4


def test_a_return_saved_by_libreoffice_changes_the_teams_people(
    tmp_path: Path, sqlite_url: str, joyflow_home: Path
) -> None:
    root = _people_network(tmp_path)
    (root / "inbox" / "2026-10").mkdir(parents=True)
    fixture = Path(__file__).parent / "fixtures" / "returns" / "T01_2026-10_people_changes_libreoffice.xlsx"
    (root / "inbox" / "2026-10" / fixture.name).write_bytes(fixture.read_bytes())
    summary = nw.run(sqlite_url, root, "2026-10")
    assert nw.statuses(summary) == {fixture.name: ACCEPTED}
    engine = make_engine(sqlite_url)
    people = wp.people(engine).filter(pl.col("team_id") == "T01").sort("person_id", "joined_on")
    grace = reported_person_id("T01", "grace.evans@northgate.nhs.example", "grace evans")
    assert people.select("person_id", "role", "joined_on", "left_on").rows() == [
        ("P01", "core_leader", D(2021, 1, 1), D(2026, 10, 20)),
        ("P01", "frontline_clinician", D(2026, 10, 20), None),  # Amira, written 'Haddad, Amira'
        ("P02", "frontline_clinician", D(2021, 1, 1), D(2026, 10, 12)),  # Tom left
        (grace, "senior_leader", D(2026, 10, 1), None),
    ]
    teams = pl.DataFrame({"team_id": ["T01"], "joined_on": [D(2026, 6, 1)]})
    coverage = role_coverage(teams, people, D(2026, 10, 31))
    assert coverage.select("role", "holders", "vacant_since").rows() == [
        ("senior_leader", 1, None),
        ("core_leader", 0, D(2026, 10, 20)),
        ("frontline_clinician", 1, None),
    ]
