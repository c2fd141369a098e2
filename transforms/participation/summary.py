"""The per-team participation figures: one row per team, the one frame the CLI, the JSON and the
reports all read (``team_figures``).

Columns (``FIGURE_COLUMNS``): team_id; roles_covered, roles_missing (lists of role codes in the
seed's order); vacant_since (date or null); meetings_held, meetings_with_two (meetings that
concern the team up to the date, and those with two of its named participants); attendance_rate
(meetings_with_two / meetings_held, null with no meetings); on_watch (bool); reasons (list of
sentences, empty when not on the watch list).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from schemas.participation import ParticipationSettings
from transforms.participation.meetings import TWO, named_attendance, team_meetings
from transforms.participation.roles import role_coverage, roles_by_team
from transforms.participation.watch import (
    missed_meeting_reasons,
    return_reasons,
    stalled_score_reasons,
    vacancy_reasons,
    watch_list,
)

FIGURE_COLUMNS: tuple[str, ...] = (
    "team_id",
    "roles_covered",
    "roles_missing",
    "vacant_since",
    "meetings_held",
    "meetings_with_two",
    "attendance_rate",
    "on_watch",
    "reasons",
)


@dataclass(frozen=True)
class ParticipationInputs:
    """The frames the figures are built from (``warehouse.participation.figure_inputs`` reads them).

    teams: team_id, first_period, joined_on. people: person_id, team_id, role, joined_on, left_on.
    meetings: meeting_id, kind, team_id, held_on. presence: meeting_id, person_id, seconds.
    grid: team_id, period, status. scores: team_id, period, progress_score.
    """

    teams: pl.DataFrame
    people: pl.DataFrame
    meetings: pl.DataFrame
    presence: pl.DataFrame
    grid: pl.DataFrame
    scores: pl.DataFrame


@dataclass(frozen=True)
class ParticipationParts:
    """What the figures and the reports are both made of, computed once.

    coverage: team × role (``roles.role_coverage``); attended: team × meeting held, with
    ``named_present`` (``meetings.named_attendance``); watch: the teams on the watch list with their
    reasons (``watch.watch_list``).
    """

    coverage: pl.DataFrame
    attended: pl.DataFrame
    watch: pl.DataFrame


def participation_parts(
    inputs: ParticipationInputs, on: dt.date, settings: ParticipationSettings
) -> ParticipationParts:
    teams = inputs.teams
    coverage = role_coverage(teams, inputs.people, on)
    attended = named_attendance(
        team_meetings(teams, inputs.meetings, on), inputs.presence, inputs.people, settings.min_minutes * 60
    )
    watch = watch_list(
        [
            missed_meeting_reasons(attended, settings),
            vacancy_reasons(coverage, on, settings),
            return_reasons(inputs.grid, settings),
            stalled_score_reasons(inputs.scores, settings),
        ],
        teams,
    )
    return ParticipationParts(coverage, attended, watch)


def figures_of(parts: ParticipationParts, teams: pl.DataFrame) -> pl.DataFrame:
    """One row per team of ``teams`` (``FIGURE_COLUMNS``), in team order."""
    meetings = parts.attended.group_by("team_id").agg(
        pl.len().alias("meetings_held"), (pl.col("named_present") >= TWO).sum().alias("meetings_with_two")
    )
    return (
        teams.select("team_id")
        .join(roles_by_team(parts.coverage), on="team_id", how="left")
        .join(meetings, on="team_id", how="left")
        .join(parts.watch.select("team_id", "reasons"), on="team_id", how="left")
        .with_columns(
            pl.col("meetings_held", "meetings_with_two").fill_null(0).cast(pl.Int64),
            pl.col("reasons").fill_null(pl.lit([], pl.List(pl.String))),
        )
        .with_columns(
            pl.when(pl.col("meetings_held") > 0)
            .then(pl.col("meetings_with_two") / pl.col("meetings_held"))
            .alias("attendance_rate"),
            (pl.col("reasons").list.len() > 0).alias("on_watch"),
        )
        .select(FIGURE_COLUMNS)
        .sort("team_id")
    )


def team_figures(inputs: ParticipationInputs, on: dt.date, settings: ParticipationSettings) -> pl.DataFrame:
    """One row per team (``FIGURE_COLUMNS``), in team order."""
    return figures_of(participation_parts(inputs, on, settings), inputs.teams)
