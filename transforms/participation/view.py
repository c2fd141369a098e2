"""Everything the reports show about taking part, computed once for the whole network.

``participation_data`` takes the frames the participation transforms take (teams, people, the
calendar, who was present how long, enrolment letters, readiness results per domain and occasion,
the team's own and the coach's progress scores, the compliance grid) and returns a frozen
``ParticipationData``: one frame per thing a report shows, for every team at once. The reports cut
it per team (a team's report sees only its own rows); the network report shows counts and team
names only -- never a participant's name or email.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from schemas.participation import ParticipationSettings
from transforms.participation.meetings import MEETING_KINDS, compliance_by_kind, named_attendees
from transforms.participation.roles import ROLES
from transforms.participation.summary import ParticipationInputs, figures_of, participation_parts

READINESS_DOMAINS: tuple[str, ...] = (
    "improvement_infrastructure",
    "leadership_behaviours",
    "workforce_safety",
)
DOMAIN_WORDS = {
    "improvement_infrastructure": "Improvement infrastructure",
    "leadership_behaviours": "Leadership behaviours",
    "workforce_safety": "Workforce safety",
}
BASELINE = "baseline"


@dataclass(frozen=True)
class ParticipationData:
    """The network's participation on ``as_of``, one frame per view (all teams, sorted by team).

    * ``figures``: one row per team -- team_id, team_name, roles_covered, roles_missing (lists of
      role ids), meetings_held, meetings_with_two, attendance_rate (share of its meetings attended by
      at least two named participants; null before its first meeting), letter_received_on,
      readiness_baseline_on, onboarded (letter, three roles and a baseline), on_watch, reasons.
    * ``coverage``: team_id, role, holders, vacant_since (``roles.role_coverage``).
    * ``people``: the participants in post or who have left: team_id, person_id, name, email, role,
      steering_committee, joined_on, left_on (for a team's own report only).
    * ``meetings``: meetings held by ``as_of``: meeting_id, kind, team_id (coaching only), held_on, title.
    * ``attended``: team_id, meeting_id, kind, held_on, named_present, attendees (person ids).
    * ``by_kind``: team_id, kind, meetings_held, meetings_with_two, share_with_two.
    * ``readiness``: team_id, domain, baseline, baseline_on, latest, latest_occasion, latest_on.
    * ``scores``: team_id, period, self_score, coach_score, justification, scored_by.
    * ``watch``: team_id, reasons (list, in words), n_reasons -- most reasons first.
    """

    as_of: dt.date
    settings: ParticipationSettings
    figures: pl.DataFrame
    coverage: pl.DataFrame
    people: pl.DataFrame
    meetings: pl.DataFrame
    attended: pl.DataFrame
    by_kind: pl.DataFrame
    readiness: pl.DataFrame
    scores: pl.DataFrame
    watch: pl.DataFrame


def _first_day(period: pl.Expr) -> pl.Expr:
    return pl.concat_str(period, pl.lit("-01")).str.to_date("%Y-%m-%d")


def readiness_by_domain(results: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Per team and domain: the baseline and the latest follow-up answered by ``as_of``.

    ``results``: team_id, occasion, answered_on, domain, score (the domain's mean item score, 1-5).
    """
    known = results.filter(pl.col("answered_on") <= as_of)
    base = known.filter(pl.col("occasion") == BASELINE).select(
        "team_id", "domain", pl.col("score").alias("baseline"), pl.col("answered_on").alias("baseline_on")
    )
    latest = (
        known.filter(pl.col("occasion") != BASELINE)
        .sort("answered_on", "occasion")
        .group_by("team_id", "domain", maintain_order=True)
        .last()
        .select(
            "team_id",
            "domain",
            pl.col("score").alias("latest"),
            pl.col("occasion").alias("latest_occasion"),
            pl.col("answered_on").alias("latest_on"),
        )
    )
    order = {d: i for i, d in enumerate(READINESS_DOMAINS)}
    return (
        base.join(latest, on=["team_id", "domain"], how="full", coalesce=True)
        .with_columns(pl.col("domain").replace_strict(order, default=len(order)).alias("_o"))
        .sort("team_id", "_o", "domain")
        .drop("_o")
    )


def score_pairs(self_scores: pl.DataFrame, coach_scores: pl.DataFrame) -> pl.DataFrame:
    """The team's own progress score beside its coach's, month by month.

    ``self_scores``: team_id, period, progress_score. ``coach_scores``: team_id, period, score,
    justification, scored_by.
    """
    own = self_scores.select("team_id", "period", pl.col("progress_score").alias("self_score"))
    coach = coach_scores.select(
        "team_id", "period", pl.col("score").alias("coach_score"), "justification", "scored_by"
    )
    return own.join(coach, on=["team_id", "period"], how="full", coalesce=True).sort("team_id", "period")


def participation_data(
    *,
    teams: pl.DataFrame,
    people: pl.DataFrame,
    meetings: pl.DataFrame,
    presence: pl.DataFrame,
    enrolment: pl.DataFrame,
    readiness: pl.DataFrame,
    self_scores: pl.DataFrame,
    coach_scores: pl.DataFrame,
    grid: pl.DataFrame,
    settings: ParticipationSettings,
    as_of: dt.date,
) -> ParticipationData:
    """The participation views of every team on ``as_of`` (see ``ParticipationData``).

    ``teams``: team_id, team_name, first_period. ``enrolment``: team_id, letter_received_on.
    The other frames are as ``roles``, ``meetings``, ``watch``, ``readiness_by_domain`` and
    ``score_pairs`` take them. Teams whose first period is after ``as_of`` are left out.
    """
    period = as_of.strftime("%Y-%m")
    taking_part = teams.filter(pl.col("first_period") <= period).with_columns(
        _first_day(pl.col("first_period")).alias("joined_on")
    )
    ids = taking_part.select("team_id")
    people = people.join(ids, on="team_id").filter(pl.col("joined_on") <= as_of).sort("team_id", "joined_on")
    held = meetings.filter(pl.col("held_on") <= as_of).sort("held_on", "meeting_id")
    own_scores = self_scores.join(ids, on="team_id").filter(pl.col("period") <= period)
    inputs = ParticipationInputs(
        teams=taking_part,
        people=people,
        meetings=held,
        presence=presence,
        grid=grid.join(ids, on="team_id").filter(pl.col("period") <= period),
        scores=own_scores,
    )
    parts = participation_parts(inputs, as_of, settings)
    coverage, watch = parts.coverage, parts.watch
    team_meeting = parts.attended.select("team_id", "meeting_id", "kind", "held_on")
    who = (
        named_attendees(team_meeting, presence, people, settings.min_minutes * 60)
        .sort("person_id")
        .group_by("team_id", "meeting_id")
        .agg(pl.col("person_id").alias("attendees"))
    )
    attended = parts.attended.join(who, on=["team_id", "meeting_id"], how="left").with_columns(
        pl.col("attendees").fill_null(pl.lit([], dtype=pl.List(pl.String)))
    )
    by_kind = compliance_by_kind(attended)
    ready = readiness_by_domain(readiness.join(ids, on="team_id"), as_of)
    scores = score_pairs(own_scores, coach_scores.join(ids, on="team_id").filter(pl.col("period") <= period))
    baseline_on = ready.group_by("team_id").agg(pl.col("baseline_on").min().alias("readiness_baseline_on"))
    letters = (
        enrolment.filter(pl.col("letter_received_on") <= as_of)
        .group_by("team_id")
        .agg(pl.col("letter_received_on").min())
    )
    figures = (
        figures_of(parts, taking_part)
        .drop("vacant_since")
        .join(taking_part.select("team_id", "team_name"), on="team_id", how="left")
        .join(letters, on="team_id", how="left")
        .join(baseline_on, on="team_id", how="left")
        .with_columns(
            (
                pl.col("letter_received_on").is_not_null()
                & (pl.col("roles_missing").list.len() == 0)
                & pl.col("readiness_baseline_on").is_not_null()
            ).alias("onboarded")
        )
        .sort("team_id")
    )
    return ParticipationData(
        as_of=as_of,
        settings=settings,
        figures=figures,
        coverage=coverage,
        people=people,
        meetings=held.join(team_meeting.select("meeting_id").unique(), on="meeting_id").sort(
            "held_on", "meeting_id"
        ),
        attended=attended,
        by_kind=by_kind,
        readiness=ready,
        scores=scores,
        watch=watch,
    )


__all__ = ["MEETING_KINDS", "ROLES", "ParticipationData", "participation_data"]
