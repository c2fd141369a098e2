"""The demo network's participation files: written as the tools write them, readable, matchable,
and short of what the network asks in the ways the watch list should show."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from schemas.participation_files import DEFAULT_READINESS
from tests.demo_participation_frames import demo_participation, frames
from transforms.attendance.read import read_attendance


@pytest.fixture(scope="module")
def network(demo_network_master: Path) -> Path:
    return demo_network_master


def test_files_and_columns(network: Path) -> None:
    people = pl.read_csv(network / "people.csv")
    assert people.columns == [
        "team_id", "person_id", "name", "email", "role", "steering_committee", "joined_on", "left_on",
    ]  # fmt: skip
    assert set(people.get_column("role")) == {"senior_leader", "core_leader", "frontline_clinician"}
    assert people.get_column("email").n_unique() == people.height
    meetings = pl.read_csv(network / "meetings.csv")
    assert meetings.columns == ["meeting_id", "kind", "team_id", "held_on", "starts_at", "title"]
    counts = dict(meetings.group_by("kind").len().iter_rows())
    assert counts == {"coaching": 12 * 18, "all_team_call": 18, "workshop": 4}
    assert meetings.filter(pl.col("kind") != "coaching").get_column("team_id").null_count() == 22
    baseline = pl.read_csv(network / "readiness" / "baseline.csv")
    assert baseline.columns[:4] == ["team_id", "occasion", "respondent", "answered_on"]
    assert baseline.columns[4:] == pl.read_csv(DEFAULT_READINESS).get_column("item_id").to_list()
    assert (
        baseline.select(pl.all().exclude("team_id", "occasion", "respondent", "answered_on"))
        .max_horizontal()
        .max()
        <= 5
    )
    assert sorted(p.name for p in (network / "readiness").iterdir()) == [
        "baseline.csv",
        "month-18.csv",
        "month-9.csv",
    ]
    scores = pl.read_csv(network / "coach_scores.csv")
    assert scores.columns == ["team_id", "period", "score", "justification", "scored_by"]
    assert ((scores.get_column("score") * 2) % 1 == 0).all() and scores.get_column("score").is_between(
        0.5, 5
    ).all()
    enrolment = pl.read_csv(network / "enrolment.csv")
    assert all((network / "letters" / f).is_file() for f in enrolment.get_column("letter_file"))
    assert "T11" not in enrolment.get_column("team_id").to_list()  # its letter has not come


def test_attendance_bytes_as_the_tools_write_them(network: Path) -> None:
    files = sorted((network / "attendance").rglob("*.csv"))
    teams = [f for f in files if f.name.startswith("teams_")]
    zoom = [f for f in files if f.name.startswith("zoom_")]
    signin = [f for f in files if f.name.startswith("signin_")]
    assert len(zoom) == 18 and len(signin) == 4 and len(teams) > 200
    for f in teams:
        data = f.read_bytes()
        assert data.startswith(b"\xff\xfe1\x00.\x00 \x00S\x00u\x00m\x00m\x00a\x00r\x00y\x00")
        assert "\t" in data.decode("utf-16") and data.endswith("\r\n".encode("utf-16-le"))
    for f in zoom:
        assert f.read_bytes().startswith(b"\xef\xbb\xbf")
    with_block = [f for f in zoom if f.read_bytes()[3:].startswith(b"Meeting ID,Topic,Start Time")]
    assert 0 < len(with_block) < len(zoom)
    for f in signin:
        assert f.read_bytes().startswith(b"Name,Email,Team,Signed in\r\n")
    us = [f for f in teams if "First Join" in f.read_bytes().decode("utf-16")]
    assert 0 < len(us) < len(teams)  # US and UK downloads


def test_every_attendance_file_reads_without_a_fatal_issue(network: Path) -> None:
    sources = set()
    for f in sorted((network / "attendance").rglob("*.csv")):
        export = read_attendance(f, f.read_bytes())
        assert not export.rejected, (f.name, [i.message for i in export.issues])
        assert export.sessions.height > 0
        sources.add(export.source)
    assert sources == {"teams", "zoom", "sign-in"}


def test_a_guest_a_rejoin_a_renamed_device_and_one_nobody_can_match(network: Path) -> None:
    text = "".join(
        f.read_bytes().decode("utf-16" if f.name.startswith("teams_") else "utf-8-sig", errors="replace")
        for f in sorted((network / "attendance").rglob("*.csv"))
        if not f.name.startswith("signin_")
    )
    assert "(Guest)\t" in text and "Ward 7 laptop (" in text
    f = frames(network)
    unmatched = f["unmatched"]
    assert unmatched.select("name", "email").rows() == [("iPhone (2)", None)]
    rejoined = [
        fn
        for fn in sorted((network / "attendance").rglob("zoom_*.csv"))
        if (
            names := [
                line.split(",")[0]
                for line in fn.read_bytes().decode("utf-8-sig").splitlines()[1:]
                if "@" in line
            ]
        )
        and len(names) != len(set(names))
    ]
    assert rejoined


def test_the_demo_shows_a_real_watch_list(network: Path) -> None:
    registry = pl.read_csv(network / "registry.csv")
    periods = [f"{p}" for p in sorted(q.name for q in (network / "inbox").iterdir())]
    grid = (
        registry.select("team_id")
        .join(pl.DataFrame({"period": periods}), how="cross")
        .with_columns(
            status=pl.when(pl.col("team_id") == "T06").then(pl.lit("late")).otherwise(pl.lit("on_time"))
        )
    )
    self_scores = pl.DataFrame(
        schema={"team_id": pl.String, "period": pl.String, "progress_score": pl.Float64}
    )
    p = demo_participation(network, self_scores, grid, dt.date(2026, 10, 31))
    reasons = dict(p.watch.select("team_id", "reasons").iter_rows())
    assert reasons["T04"] == ["no frontline clinician since 4 June 2026 (149 days)"]
    assert reasons["T06"] == [
        "fewer than two named participants at 4 of its last 4 meetings",
        "3 of its last 3 returns late, missing or rejected ("
        + ", ".join(f"{q} late" for q in periods[-3:])
        + ")",
    ]
    assert p.watch.get_column("team_id")[0] == "T06"  # most reasons first
    figures = {r["team_id"]: r for r in p.figures.iter_rows(named=True)}
    assert figures["T09"]["roles_missing"] == []  # its core leader was replaced within a week
    assert figures["T10"]["readiness_baseline_on"] is None and not figures["T10"]["onboarded"]
    assert figures["T11"]["letter_received_on"] is None and not figures["T11"]["onboarded"]
    assert figures["T01"]["onboarded"] and figures["T01"]["attendance_rate"] > 0.8
