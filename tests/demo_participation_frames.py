"""The demo network's participation files read into the frames ``participation_data`` takes.

A stand-in for the warehouse import (another part of issue 15), for the tests and the look at the
rendered sections: the people file with the changes the returns report applied, each attendance
file read by ``transforms.attendance``, matched to the people, and assigned to the meeting its file
name gives.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from schemas.normalise import normalise_part
from schemas.participation import ParticipationSettings
from schemas.participation_files import DEFAULT_READINESS
from transforms.attendance.match import match_sessions
from transforms.attendance.presence import time_present
from transforms.attendance.read import read_attendance
from transforms.intake.read import read_return
from transforms.participation.changes import apply_people_changes
from transforms.participation.view import ParticipationData, participation_data
from warehouse.participation import CHANGE_SCHEMA

DOMAIN_OF = dict(pl.read_csv(DEFAULT_READINESS).select("item_id", "domain").iter_rows())


def presence(network: Path, people: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(meeting_id, person_id, seconds) of everyone matched, and the sessions nobody could match."""
    present, unmatched = [], []
    for f in sorted((network / "attendance").rglob("*.csv")):
        meeting_id = f.stem.split("_", 1)[1]
        export = read_attendance(f, f.read_bytes())
        matched = match_sessions(
            export.sessions, people, pl.DataFrame(schema={"alias": pl.String, "person_id": pl.String})
        )
        length = (
            int((export.ended - export.started).total_seconds())
            if export.started and export.ended
            else 6 * 3600
        )
        present.append(
            time_present(matched, length).select(
                pl.lit(meeting_id).alias("meeting_id"), "person_id", "seconds"
            )
        )
        unmatched.append(
            matched.filter(pl.col("person_id").is_null()).select(
                pl.lit(f.name).alias("file"), "name", "email"
            )
        )
    return pl.concat(present), pl.concat(unmatched)


def reported_changes(network: Path) -> pl.DataFrame:
    """The people changes the demo's teams report in their returns (T04's frontline clinician),
    read from the workbooks and typed as the intake types them."""
    found = []
    for path in sorted((network / "inbox").glob("*/*.xlsx")):
        raw = read_return(path)
        rows = raw.parts.get("people_changes")
        if rows is None or rows.is_empty():
            continue
        typed, _ = normalise_part("people_changes", rows, path.name)
        period = path.stem.split("_")[1]
        found.append(
            typed.select(
                pl.lit(path.stem.split("_")[0]).alias("team_id"),
                pl.lit(period).alias("period"),
                pl.col("_row").alias("source_row"),
                *CHANGE_SCHEMA.keys() - {"team_id", "period", "source_row"},
            )
        )
    return (
        pl.concat(found, how="diagonal").select(list(CHANGE_SCHEMA)).cast(CHANGE_SCHEMA)
        if found
        else pl.DataFrame(schema=CHANGE_SCHEMA)
    )


def frames(network: Path) -> dict[str, pl.DataFrame]:
    registry = pl.read_csv(network / "registry.csv")
    people = pl.read_csv(
        network / "people.csv",
        schema_overrides={"joined_on": pl.Date, "left_on": pl.Date, "email": pl.String},
    ).with_columns(pl.col("steering_committee") == "yes")
    people = apply_people_changes(people, reported_changes(network)).people
    meetings = pl.read_csv(
        network / "meetings.csv", try_parse_dates=True, schema_overrides={"team_id": pl.String}
    )
    answers = pl.concat(
        [pl.read_csv(f, try_parse_dates=True) for f in sorted((network / "readiness").glob("*.csv"))]
    )
    readiness = (
        answers.unpivot(
            index=["team_id", "occasion", "respondent", "answered_on"],
            variable_name="item",
            value_name="score",
        )
        .with_columns(pl.col("item").replace_strict(DOMAIN_OF).alias("domain"))
        .group_by("team_id", "occasion", "domain")
        .agg(pl.col("answered_on").max(), pl.col("score").mean())
    )
    coach = pl.read_csv(network / "coach_scores.csv")
    present, unmatched = presence(network, people)
    return {
        "teams": registry.select("team_id", "team_name", "first_period"),
        "people": people,
        "meetings": meetings,
        "presence": present,
        "enrolment": pl.read_csv(network / "enrolment.csv", try_parse_dates=True).select(
            "team_id", "letter_received_on"
        ),
        "readiness": readiness,
        "coach_scores": coach,
        "unmatched": unmatched,
    }


def demo_participation(
    network: Path, self_scores: pl.DataFrame, grid: pl.DataFrame, as_of: dt.date
) -> ParticipationData:
    f = frames(network)
    f.pop("unmatched")
    return participation_data(
        **f, self_scores=self_scores, grid=grid, settings=ParticipationSettings(), as_of=as_of
    )
