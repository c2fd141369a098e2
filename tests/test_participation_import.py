"""Participation files and attendance into the warehouse: checked, archived, versioned, audited,
idempotent; the per-team figures and the CLI, on a hand-written network (tests/participation_support)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select

from schemas.participation_files import Context
from tests.participation_support import participation_files
from tests.warehouse_support import networks as nw
from transforms.participation.files import read_participation
from warehouse import participation as wp
from warehouse.audit.verify import verify
from warehouse.engine import make_engine
from warehouse.models import ValidationIssue


@pytest.fixture
def network(tmp_path: Path) -> Path:
    root = nw.network(tmp_path / "network", teams=("T01", "T02"))
    return participation_files(root)


def _run(url: str, root: Path) -> dict:
    return nw.run(url, root, "2026-10")


def _entries(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(ValidationIssue)).scalar_one()


def test_files_checked_with_row_column_and_what_to_fix() -> None:
    text = (
        "team_id,person_id,name,email,role,steering_committee,joined_on,left_on\n"
        "T01,P1,Ann Lee,ann@x.org,senior leader,yes,2025-01-01,\n"
        'T09,P2,"=HYPERLINK(""x"")",not-an-email,boss,maybe,2025-02-30,2024-01-01\n'
    )
    checked = read_participation("people", "people.csv", text.encode(), "sha", Context(("T01",)))
    found = {(i.row, i.column, i.check) for i in checked.issues}
    assert (3, "team_id", "people_team_registered") in found
    assert (3, "name", "people_name_not_formula") in found
    assert (3, "email", "people_email_well_formed") in found
    assert (3, "role", "people_role_known") in found
    assert (3, "steering_committee", "people_steering_committee_readable") in found
    assert (3, "joined_on", "people_joined_on_readable") in found
    assert not any(i.row == 2 for i in checked.issues)
    formula = next(i for i in checked.issues if i.check == "people_name_not_formula")
    assert "formula" in formula.message and formula.file == "people.csv"
    assert checked.rejected
    assert checked.frame.get_column("role").to_list() == ["senior_leader", "boss"]


def test_meetings_need_a_team_only_for_coaching() -> None:
    text = (
        "meeting_id,kind,team_id,held_on,starts_at,title\n"
        "M1,coaching,,2025-01-02,9.30,\nM2,workshop,T01,2025-01-03,,\nM3,all team call,,2025-01-04,10:00,Call\n"
    )
    checked = read_participation("meetings", "meetings.csv", text.encode(), None, Context(("T01",)))
    assert {(i.row, i.check) for i in checked.issues} == {
        (2, "meetings_coaching_has_team"),
        (2, "meetings_starts_at_hhmm"),
        (3, "meetings_shared_no_team"),
    }
    assert checked.frame.get_column("kind").to_list() == ["coaching", "workshop", "all_team_call"]


def test_run_imports_everything_once_and_the_figures_follow(
    network: Path, warehouse_url: str, joyflow_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(warehouse_url, network)
    engine = make_engine(warehouse_url)
    people = wp.people(engine)
    assert people.get_column("person_id").to_list() == ["P01", "P02", "P03", "P04", "P05"]
    assert wp.meetings(engine).get_column("meeting_id").to_list() == ["C00", "W02", "C01", "A03"]
    assert wp.enrolment(engine).item(0, "letter_sha256") is not None  # the letter archived too
    assert wp.coach_scores(engine).get_column("score").to_list() == [1.5, 2.0]
    readiness = wp.readiness_results(engine)
    assert readiness.filter(pl.col("domain") == "improvement_infrastructure").item(0, "mean") == 3.0
    assert readiness.filter(pl.col("domain") == "workforce_safety").item(0, "respondents") == 1

    matched = wp.matched_sessions(engine)
    assert set(matched.get_column("meeting_id").unique().to_list()) == {"C00", "C01", "A03", "W02"}
    present = wp.presence(matched, 30 * 60)
    coaching = present.filter(pl.col("meeting_id") == "C01").sort("person_id")
    assert coaching.get_column("person_id").to_list() == ["P01"]  # Amira: laptop and iPad, once
    call = present.filter(pl.col("meeting_id") == "A03").sort("person_id")
    # Tom by his mixed-case email (two joins, their union); Sam Okafor only by the confirmed alias
    assert call.get_column("person_id").to_list() == ["P01", "P02", "P03"]

    from flows.participation_cli import participation
    from joyflow.settings import Settings

    monkeypatch.setenv("JOYFLOW_WAREHOUSE_URL", warehouse_url)
    figures = participation(Settings.from_env(), network, "2026-10", dt.date(2026, 11, 22))
    t01 = figures.teams.filter(pl.col("team_id") == "T01").row(0, named=True)
    # The registry's teams joined 2026-06: none of the fixture meetings (2021-2025) concerns them
    # except T01's own coaching session.
    assert t01["roles_missing"] == ["senior_leader"]
    assert t01["meetings_held"] == 1 and t01["meetings_with_two"] == 0
    assert t01["on_watch"] and any("senior leader" in r for r in t01["reasons"])
    unmatched = set(figures.unmatched.get_column("name").to_list())
    assert "Sam Okafor" not in unmatched and unmatched  # the alias resolved him; someone is left

    before = _entries(engine)
    again = _run(warehouse_url, network)
    assert again["counts"]["files"] == 0
    assert _entries(engine) == before  # the same bytes twice: nothing
    problems, n = verify(engine, joyflow_home / "audit")
    assert problems == [] and n == before


def test_a_corrected_file_is_a_new_version_and_a_bad_one_changes_nothing(
    network: Path, sqlite_url: str, joyflow_home: Path
) -> None:
    _run(sqlite_url, network)
    engine = make_engine(sqlite_url)
    people = (network / "people.csv").read_text(encoding="utf-8")
    (network / "people.csv").write_text(
        people + "T01,P06,Dana Ford,dana.ford@northgate.nhs.example,senior leader,yes,2026-07-01,\n",
        encoding="utf-8",
    )
    _run(sqlite_url, network)
    assert wp.people(engine).height == 6
    (network / "people.csv").write_text(people + "T01,P07,=cmd|calc,,senior leader,yes,2026-07-01,\n")
    _run(sqlite_url, network)
    assert wp.people(engine).height == 6  # refused: version 2 stays current
    with engine.connect() as conn:
        refused = conn.execute(
            select(ValidationIssue.row, ValidationIssue.column, ValidationIssue.message).where(
                ValidationIssue.check == "people_name_not_formula"
            )
        ).one()
        versions = conn.execute(select(func.count()).select_from(wp.ParticipationImport)).scalar_one()
    assert refused.row == 7 and refused.column == "name"
    assert versions == 8  # the 6 files, the corrected people file and the refused one: nothing overwritten


def test_attendance_assigned_by_date_title_or_the_data_manager(
    network: Path, sqlite_url: str, joyflow_home: Path, tmp_path: Path
) -> None:
    _run(sqlite_url, network)
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(wp.AttendanceImport.file, wp.AttendanceImport.meeting_id, wp.AttendanceImport.status)
        ).all()
    assigned = {r.file: (r.meeting_id, r.status) for r in rows}
    assert assigned["teams_2022_en-GB_coaching.csv"] == ("C01", "imported")
    # no meeting block, so no start time: dated by its first join, the day of workshop W02
    assert assigned["zoom_participants_only_en-GB.csv"] == ("W02", "imported")
    assert assigned["teams_2020_meetingAttendanceList.csv"] == ("C00", "imported")
    c00 = wp.presence(wp.matched_sessions(engine), 30 * 60).filter(pl.col("meeting_id") == "C00")
    # by name (the 2020 layout has no emails): Priya (T02) and Tom, who is T01's and so not counted for T02
    assert c00.get_column("person_id").to_list() == ["P02", "P03"]

    from typer.testing import CliRunner

    from flows.cli import app

    undated = network / "attendance" / "2026-10" / "zoom_participants_only_en-GB.csv"
    result = CliRunner().invoke(
        app,
        ["attendance", "import", str(undated), "--meeting", "a03"],
        env={"JOYFLOW_WAREHOUSE_URL": sqlite_url},
    )
    assert result.exit_code == 0, result.output
    assert "meeting A03" in result.output and "Dana Whitfield" in result.output
    # a second file for A03: its version 2, the one read from now on
    assert wp.current_sessions(engine).filter(pl.col("meeting_id") == "A03").get_column(
        "name"
    ).unique().sort().to_list() == ["Dana Whitfield", "Tom O'Neill"]

    sheet = tmp_path / "unmatched.csv"
    result = CliRunner().invoke(
        app,
        [
            "participation",
            "--period",
            "2026-10",
            "--json",
            "--network",
            str(network),
            "--unmatched-csv",
            str(sheet),
        ],
        env={"JOYFLOW_WAREHOUSE_URL": sqlite_url},
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    keys = {
        "team_id",
        "roles_covered",
        "roles_missing",
        "meetings_held",
        "meetings_with_two",
        "attendance_rate",
        "on_watch",
        "reasons",
    }
    assert [t["team_id"] for t in data["teams"]] == ["T01", "T02"]
    assert keys <= set(data["teams"][0])
    assert {"name", "email", "meeting_id"} <= set(data["unmatched"][0])
    written = sheet.read_text(encoding="utf-8")
    assert written.startswith("meeting_id,held_on,team_id,name,email,person_id")
    assert "'=HYPERLINK" in written and ",=HYPERLINK" not in written and '"=HYPERLINK' not in written


def test_a_missing_file_is_a_sentence_not_a_traceback(
    network: Path, sqlite_url: str, joyflow_home: Path
) -> None:
    from tests.test_cli import run_cli

    res = run_cli(
        "attendance", "import", str(network / "nope.csv"), env={"JOYFLOW_WAREHOUSE_URL": sqlite_url}
    )
    assert res.returncode != 0 and "No such file" in res.stderr and "Traceback" not in res.stderr


def test_0006_downgrades_and_upgrades_again(engine) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from warehouse.migrate import alembic_config, upgrade

    new = {"participation_import", "person", "meeting", "attendance_import", "attendance_session"}
    assert new <= set(inspect(engine).get_table_names())
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    assert not new & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert new <= set(inspect(engine).get_table_names())


def test_readiness_from_a_workbook_and_files_that_cannot_be_read(tmp_path: Path) -> None:
    import io

    from openpyxl import Workbook

    from schemas.participation_files import load_readiness_items
    from transforms.participation.files import read_readiness

    book = Workbook()
    sheet = book.active
    sheet.append(["team_id", "occasion", "respondent", "answered_on", "INF1", "SAFE2"])
    sheet.append(["t01", "Month-9", "Amira Haddad", "2026-09-30", 4, 5])
    buf = io.BytesIO()
    book.save(buf)
    items = load_readiness_items()
    checked = read_readiness("survey.xlsx", buf.getvalue(), "sha", Context(("T01",)), items)
    assert checked.issues == []
    assert checked.frame.select("team_id", "occasion", "item_id", "score").rows() == [
        ("T01", "month-9", "INF1", 4),
        ("T01", "month-9", "SAFE2", 5),
    ]
    odd = read_readiness(
        "s.csv", b"team_id,occasion,INF1,MOOD\nT01,baseline,3,4\n", None, Context(("T01",)), items
    )
    assert [(i.column, i.severity) for i in odd.issues] == [("mood", "fatal")]
    latin = read_participation("people", "people.csv", "name\nRen\xe9e\n".encode("cp1252"), None, Context())
    assert latin.rejected and "UTF-8" in latin.issues[0].message


def test_text_longer_than_the_warehouse_keeps_is_named() -> None:
    text = "alias,person_id\n" + "A" * 161 + ",P01\n"
    checked = read_participation("aliases", "aliases.csv", text.encode(), None, Context(person_ids=("P01",)))
    assert [(i.row, i.column, i.check) for i in checked.issues] == [(2, "alias", "aliases_alias_length")]


def test_the_networks_own_coaches_are_not_listed_as_unmatched_attendees() -> None:
    """Teams reports list the organiser (the coach): network staff, not a team's participant."""
    sessions = pl.DataFrame(
        {
            "meeting_id": ["C01", "C01", "C01"],
            "name": ["Coach One", "Sam Okafor", "Unknown Caller"],
            "email": ["Coach1@Example.org", None, "caller@elsewhere.example"],
            "person_id": [None, None, None],
        },
        schema_overrides={"person_id": pl.String},
    )
    calendar = pl.DataFrame(
        {"meeting_id": ["C01"], "team_id": ["T01"], "held_on": [dt.date(2026, 10, 5)]},
    )
    listed = wp.unmatched(sessions, calendar, ["coach1@example.org"])
    assert listed.get_column("name").to_list() == ["Sam Okafor", "Unknown Caller"]


def test_the_networks_other_staff_are_not_listed_either(
    network: Path, sqlite_url: str, joyflow_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Facilitators who are not a team's coach are named in network.toml's [participation] staff."""
    from flows.participation_cli import participation
    from joyflow.errors import ConfigError
    from joyflow.settings import Settings

    _run(sqlite_url, network)
    monkeypatch.setenv("JOYFLOW_WAREHOUSE_URL", sqlite_url)
    before = participation(Settings.from_env(), network, "2026-10", dt.date(2026, 11, 22)).unmatched
    host = before.filter(pl.col("email").is_not_null()).row(0, named=True)
    toml = network / "network.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8") + f'\n[participation]\nstaff = ["{host["email"].upper()}"]\n',
        encoding="utf-8",
    )
    after = participation(Settings.from_env(), network, "2026-10", dt.date(2026, 11, 22)).unmatched
    assert host["email"] not in after.get_column("email").to_list()
    assert (
        after.height == before.filter(pl.col("email").ne_missing(host["email"])).height == 4
    )  # she hosted three of the meetings
    toml.write_text(toml.read_text(encoding="utf-8").replace(f'["{host["email"].upper()}"]', '"everyone"'))
    with pytest.raises(ConfigError, match="staff must be a list of email addresses"):
        participation(Settings.from_env(), network, "2026-10", dt.date(2026, 11, 22))


def test_a_refused_attendance_file_says_what_to_fix_and_exits_1(
    network: Path, sqlite_url: str, joyflow_home: Path
) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    bad = Path(__file__).parent / "fixtures" / "attendance" / "teams_bad_no_participants.csv"
    env = {"JOYFLOW_WAREHOUSE_URL": sqlite_url}
    result = CliRunner().invoke(app, ["attendance", "import", str(bad), "--network", str(network)], env=env)
    assert result.exit_code == 1, result.output
    assert "teams_bad_no_participants.csv: refused, nothing imported" in result.output
    assert "no '2. Participants' section" in result.output and "Traceback" not in result.output
    again = CliRunner().invoke(app, ["attendance", "import", str(bad)], env=env)
    assert again.exit_code == 0 and "already received (the same bytes); nothing new" in again.output


def test_a_file_too_large_to_be_an_attendance_export_is_archived_and_named_by_its_size(
    network: Path, sqlite_url: str, joyflow_home: Path, tmp_path: Path
) -> None:
    """Past 10 MB the file is archived without being loaded, and the message says why it was refused
    (past the archive's own 25 MB a file used to be read as no bytes: 'not an attendance export joyflow knows')."""
    from typer.testing import CliRunner

    from flows.cli import app
    from transforms.intake.archive import sha256_of

    big = tmp_path / "zoom_export.csv"
    big.write_bytes(b"Name (Original Name),User Email\n" + b"Somebody,somebody@example.org\n" * 900_000)
    result = CliRunner().invoke(
        app, ["attendance", "import", str(big)], env={"JOYFLOW_WAREHOUSE_URL": sqlite_url}
    )
    assert result.exit_code == 1, result.output
    assert "The file is 27.0 MB; an attendance export is never more than 10 MB" in result.output
    digest = sha256_of(big.read_bytes())
    assert (joyflow_home / "archive" / digest[:2] / f"{digest}.csv").read_bytes() == big.read_bytes()


def test_a_name_another_team_shares_is_still_matched_in_the_teams_own_coaching(
    network: Path, sqlite_url: str, joyflow_home: Path
) -> None:
    """T02 gets its own Amira Haddad: on T01's coaching call the name (without an email) is still
    T01's Amira; in the CLI's report too."""
    people = network / "people.csv"
    people.write_text(
        people.read_text(encoding="utf-8")
        + "T02,P06,Amira Haddad,a.haddad@riverside.nhs.example,frontline clinician,no,2021-01-01,\n",
        encoding="utf-8",
    )
    _run(sqlite_url, network)
    engine = make_engine(sqlite_url)
    c01 = wp.matched_sessions(engine).filter(pl.col("meeting_id") == "C01")
    by_name = dict(c01.select("name", "person_id").iter_rows())
    assert by_name["Haddad, Amira (ICU iPad)"] == "P01"  # no email: her name, among T01's people
    assert c01.filter(pl.col("name") == "Haddad, Amira (ICU iPad)").item(0, "matched_by") == "name"

    from typer.testing import CliRunner

    from flows.cli import app

    # the same report downloaded again (one more line at its end): a new version of C01, reported
    again = network / "teams_2022_en-GB_coaching_again.csv"
    again.write_bytes(
        (network / "attendance" / "2026-10" / "teams_2022_en-GB_coaching.csv").read_bytes()
        + "\r\n".encode("utf-16-le")
    )
    result = CliRunner().invoke(
        app,
        ["attendance", "import", str(again), "--meeting", "C01"],
        env={"JOYFLOW_WAREHOUSE_URL": sqlite_url},
    )
    assert result.exit_code == 0, result.output
    assert "meeting C01" in result.output
    matched, _, unmatched = result.output.partition("nmatched")
    assert "P01  Amira Haddad" in matched and "P06" not in result.output
    assert "Haddad, Amira" not in unmatched  # without her team, the name is two people's: unmatched


def test_the_run_summary_names_each_participation_file_that_needs_the_data_manager(
    network: Path, sqlite_url: str, joyflow_home: Path
) -> None:
    import shutil

    from rich.console import Console

    from flows.ui import print_summary

    fixtures = Path(__file__).parent / "fixtures" / "attendance"
    for name in ("teams_bad_no_participants.csv", "signin_workshop1_cp1252.csv"):
        shutil.copyfile(fixtures / name, network / "attendance" / "2026-10" / name)
    summary = _run(sqlite_url, network)
    lines = {f["file"]: f for f in summary["participation_files"]}
    assert len(lines) == 6 + 5 + 2  # the network's files and the month's attendance, all new
    refused = lines["teams_bad_no_participants.csv"]
    assert (refused["kind"], refused["status"], refused["errors"]) == ("attendance", "rejected", 1)
    assert "no '2. Participants' section" in refused["note"]
    waiting = lines["signin_workshop1_cp1252.csv"]
    assert (waiting["status"], waiting["meeting_id"]) == ("unassigned", None)
    assert waiting["note"] == "the file gives no start date: name the meeting with --meeting"
    assert lines["people.csv"]["status"] == "imported" and lines["people.csv"]["note"] is None
    assert lines["teams_2022_en-GB_coaching.csv"]["meeting_id"] == "C01"

    console = Console(record=True, width=240)
    print_summary(console, summary)
    text = console.export_text()
    assert (
        "Participation: 6 network file(s) and 7 attendance file(s) new; 1 refused, 1 waiting for a meeting."
        in text
    )
    assert "  refused    teams_bad_no_participants.csv: " in text
    assert "  no meeting signin_workshop1_cp1252.csv: the file gives no start date" in text
    assert "people.csv" not in text  # imported without a problem: counted, not listed

    again = _run(sqlite_url, network)
    assert again["participation_files"] == []  # nothing new the second time
