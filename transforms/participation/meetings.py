"""Network meetings and whether each team had two of its named participants there.

Coaching sessions belong to one team; monthly all-team calls and workshops concern every team
enrolled by then (its first period not after the meeting's month). A participant counts at a
meeting when they were present at least the network's minimum time and were a named participant
of that team on the meeting's date.
"""

from __future__ import annotations

import polars as pl

MEETING_KINDS: tuple[str, ...] = ("coaching", "all_team_call", "workshop")
KIND_WORDS = {"coaching": "coaching sessions", "all_team_call": "all-team calls", "workshop": "workshops"}
TWO = 2  # seed 003: "at least two of the three participants attend all ... meetings"


def team_meetings(teams: pl.DataFrame, meetings: pl.DataFrame, as_of: pl.Expr | object) -> pl.DataFrame:
    """Team × meeting for every meeting held on or before ``as_of`` that concerns the team.

    ``teams``: team_id, first_period. ``meetings``: meeting_id, kind, team_id (null: everyone), held_on.
    """
    held = meetings.filter(pl.col("held_on") <= as_of).with_columns(
        pl.col("held_on").dt.strftime("%Y-%m").alias("_period")
    )
    own = held.filter(pl.col("team_id").is_not_null()).join(teams.select("team_id"), on="team_id")
    shared = (
        held.filter(pl.col("team_id").is_null())
        .drop("team_id")
        .join(teams.select("team_id", "first_period"), how="cross")
        .filter(pl.col("first_period") <= pl.col("_period"))
        .drop("first_period")
    )
    return pl.concat([own, shared], how="diagonal").select("team_id", "meeting_id", "kind", "held_on")


def named_attendees(
    team_meeting: pl.DataFrame, presence: pl.DataFrame, people: pl.DataFrame, min_seconds: int
) -> pl.DataFrame:
    """team_id, meeting_id, person_id: each named participant who attended one of the team's meetings.

    ``presence``: meeting_id, person_id, seconds. ``people``: person_id, team_id, joined_on, left_on.
    """
    return (
        presence.filter(pl.col("seconds") >= min_seconds)
        .join(people.select("person_id", "team_id", "joined_on", "left_on"), on="person_id")
        .join(team_meeting.select("team_id", "meeting_id", "held_on"), on=["team_id", "meeting_id"])
        .filter(
            (pl.col("joined_on") <= pl.col("held_on"))
            & (pl.col("left_on").is_null() | (pl.col("left_on") > pl.col("held_on")))
        )
        .select("team_id", "meeting_id", "person_id")
        .unique()
    )


def named_attendance(
    team_meeting: pl.DataFrame, presence: pl.DataFrame, people: pl.DataFrame, min_seconds: int
) -> pl.DataFrame:
    """``team_meeting`` with ``named_present``: how many of the team's named participants attended
    (who they were: ``named_attendees``)."""
    counted = (
        named_attendees(team_meeting, presence, people, min_seconds)
        .group_by("team_id", "meeting_id")
        .agg(pl.col("person_id").n_unique().alias("named_present"))
    )
    return (
        team_meeting.join(counted, on=["team_id", "meeting_id"], how="left")
        .with_columns(pl.col("named_present").fill_null(0).cast(pl.Int64))
        .sort("team_id", "held_on", "meeting_id")
    )


def compliance_by_kind(attended: pl.DataFrame) -> pl.DataFrame:
    """Per team and meeting kind: meetings held, held with two named participants, and the share."""
    return (
        attended.group_by("team_id", "kind")
        .agg(
            pl.len().alias("meetings_held"), (pl.col("named_present") >= TWO).sum().alias("meetings_with_two")
        )
        .with_columns((pl.col("meetings_with_two") / pl.col("meetings_held")).alias("share_with_two"))
        .sort("team_id", pl.col("kind").replace_strict({k: i for i, k in enumerate(MEETING_KINDS)}))
    )
