"""What each report shows, declared: one frozen dataclass per report kind and per row it lists.

The parent process builds these from the run's frames (``reports.context``); they are pickled to
the render workers, where the charts are drawn from them (``reports.charts_for``) and the
templates read their attributes. ``content_key`` hashes their canonical form: the same inputs
give the same key, and an unchanged report is not rendered again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl

from reports.charts.spec import ChartEvent

# --- participation (issue 15): people, meetings, readiness, coach's score, watch list ---------


@dataclass(frozen=True)
class ParticipationTeamRow:
    """One team's row of the network report's participation table: counts and dates, no people.

    ``roles``: per role of ``ROLES``, "" when held or the date it fell vacant; ``kinds``: per
    meeting kind, "with two / held"; ``readiness``: per domain, "baseline → latest"."""

    team_id: str
    name: str
    letter: str
    roles: tuple[str, ...]
    baseline: str
    onboarded: bool
    kinds: tuple[str, ...]
    readiness: tuple[str, ...]
    self_score: str
    coach_score: str


@dataclass(frozen=True)
class GridMeeting:
    """A column of the attendance grid: a network-wide meeting (all-team call or workshop)."""

    meeting_id: str
    kind: str
    label: str
    held_on: str


@dataclass(frozen=True)
class AttendanceGridRow:
    """One team's row of the attendance grid: named participants present per meeting ("" when the
    meeting was before the team joined)."""

    team_id: str
    name: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class DomainSummary:
    """Readiness in one domain across the network: medians at baseline and at the latest follow-up."""

    domain: str
    teams_baseline: int
    median_baseline: float | None
    teams_followup: int
    median_latest: float | None
    improved: int


@dataclass(frozen=True)
class WatchRow:
    """A team drifting away, with every reason in words (most reasons first)."""

    team_id: str
    name: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class NetworkParticipation:
    """The network report's participation section: counts and team names only."""

    as_of: str
    min_minutes: int
    thresholds: tuple[str, ...]
    team_count: int
    all_roles: int
    vacancies: int
    onboarded: int
    kind_totals: tuple[tuple[str, int, int], ...]
    # Every team, or in a network of more than a page of teams only those with a gap in onboarding
    # (letter, roles, readiness baseline): a representative reads exceptions, each team its own report.
    rows: tuple[ParticipationTeamRow, ...]
    rows_all: bool
    # Of the teams with both a self and a coach score in their latest month: coach below, equal, above.
    coach_against_self: tuple[int, int, int]
    grid_meetings: tuple[GridMeeting, ...]
    grid: tuple[AttendanceGridRow, ...]
    grid_in_appendix: bool
    domains: tuple[DomainSummary, ...]
    watch: tuple[WatchRow, ...]


@dataclass(frozen=True)
class PersonLine:
    """One of the team's own participants, as its own report lists them."""

    name: str
    email: str | None
    role: str
    steering_committee: bool
    since: str
    left: str | None


@dataclass(frozen=True)
class TeamMeetingLine:
    """A meeting the team was asked to, and which of its named participants came."""

    held_on: str
    kind: str
    title: str
    named_present: int
    who: tuple[str, ...]


@dataclass(frozen=True)
class KindLine:
    """The team's meetings of one kind: how many held, how many with two named participants."""

    kind: str
    held: int
    with_two: int


@dataclass(frozen=True)
class ReadinessLine:
    """The team's readiness in one domain, baseline against latest follow-up (mean item score 1-5)."""

    domain: str
    baseline: float | None
    baseline_on: str
    latest: float | None
    latest_occasion: str


@dataclass(frozen=True)
class ScoreLine:
    """The team's own progress score beside its coach's, for one month."""

    period: str
    self_score: float | None
    coach_score: float | None
    justification: str | None
    scored_by: str | None


@dataclass(frozen=True)
class TeamParticipation:
    """The team report's participation panel: the team's own people, meetings, readiness, scores."""

    as_of: str
    min_minutes: int
    people: tuple[PersonLine, ...]
    vacancies: tuple[str, ...]
    kinds: tuple[KindLine, ...]
    meetings: tuple[TeamMeetingLine, ...]
    readiness: tuple[ReadinessLine, ...]
    scores: tuple[ScoreLine, ...]
    watch_reasons: tuple[str, ...]


# --- team report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamInfo:
    """The team a coaching report is about (and the coach it goes to)."""

    team_id: str
    name: str
    organisation: str
    coach: str
    coach_email: str


@dataclass(frozen=True)
class SubmissionInfo:
    """The team's return in force for the month, as the report's masthead names it."""

    version: int
    submitted_on: dt.date | None
    progress_score: float | None


@dataclass(frozen=True)
class MeasureRow:
    """One measure of a team: its row of the at-a-glance table and the data of its chart.

    ``points`` is the series' rows for the reporting window (columns of
    ``transforms.aggregate.POINT_SCHEMA``, sorted by period), kept as a frame for the chart.
    """

    measure_id: str
    name: str
    type: str
    kind: str
    unit: str
    multiplier: float
    direction: str
    target: float | None
    chart: str
    chart_label: str
    description: str
    latest: str
    latest_value: float | None
    target_text: str
    variation: str | None
    assurance: str | None
    assurance_text: str
    runs_signal: bool
    n_points: int
    spark: tuple[float | None, ...]
    points: pl.DataFrame
    events: tuple[ChartEvent, ...]
    network_median_series: tuple[tuple[str, float], ...]
    network_median: str
    network_teams: int
    # Issue 16: the rule set's name as the key says it, too few points for limits (from the
    # statistics, not inferred), and under rebase = "suggest" the month a recalculation could start.
    rules_label: str = ""
    too_few_points: bool = False
    suggested_from: str | None = None


@dataclass(frozen=True)
class PdsaCycleRow:
    """A PDSA cycle the team reported for the month."""

    change_idea: str
    component: str
    cycle: int
    decision: str
    what_happened: str | None


@dataclass(frozen=True)
class ComponentCount:
    """PDSA cycles of one Joy in Work component that ended in one decision."""

    component: str
    decision: str
    count: int


@dataclass(frozen=True)
class LearningNoteRow:
    """What the team learned this month and the help it wants."""

    went_well: str | None
    challenges: str | None
    help_wanted: str | None


@dataclass(frozen=True)
class ScorePoint:
    """A progress score (the team's, or the network's median) in one month."""

    period: str
    score: float | None


@dataclass(frozen=True)
class DataWarning:
    """A warning the team's return was loaded with: a data-quality note of the report."""

    part: str | None
    row: int | None
    column: str | None
    check: str
    message: str


@dataclass(frozen=True)
class RebaseSuggestion:
    """Under ``rebase = "suggest"``: a sustained shift after a change the team adopted, for a coach
    to decide whether to recalculate the limits (``joyflow rebase record``)."""

    team_id: str
    team_name: str
    measure_id: str
    measure_name: str
    from_period: str
    from_label: str


@dataclass(frozen=True)
class TeamContext:
    """Everything a team's coaching report shows. Other teams appear only as network medians."""

    kind: ClassVar[str] = "team"
    period: str
    period_label: str
    network_name: str
    generated_on: str
    team: TeamInfo
    status: str
    status_text: str
    submission: SubmissionInfo | None
    periods: tuple[str, ...]
    measures: tuple[MeasureRow, ...]
    pdsa_this_month: tuple[PdsaCycleRow, ...]
    pdsa_total: int
    pdsa_by_component: tuple[ComponentCount, ...]
    learning: tuple[LearningNoteRow, ...]
    progress: tuple[ScorePoint, ...]
    network_progress: tuple[ScorePoint, ...]
    warnings: tuple[DataWarning, ...]
    participation: TeamParticipation | None = None  # issue 15: None until the network keeps it
    rules_label: str = ""  # issue 16: which rule set the network uses
    rebase_suggestions: tuple[RebaseSuggestion, ...] = ()


# --- network report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GridRow:
    """One team's row of the submission compliance grid: a status per month of the window."""

    team_id: str
    name: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class MonthSummary:
    """The network's submission counts and median progress score for one month."""

    period: str
    teams_expected: int
    on_time: int
    late: int
    rejected: int
    missing: int
    median_progress: float | None


@dataclass(frozen=True)
class ImprovingTeam:
    """A team with special-cause improvement in outcome measures."""

    team_id: str
    team_name: str
    measures: tuple[str, ...]


@dataclass(frozen=True)
class AttentionRow:
    """A team that needs attention, with every reason."""

    team_id: str
    team_name: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class AdoptedIdea:
    """A change idea adopted by teams, with how many."""

    component: str
    change_idea: str
    teams: int


@dataclass(frozen=True)
class NetworkMeasure:
    """A measure of the network report: the teams' median per month (``medians``: period, value)."""

    measure_id: str
    name: str
    unit: str
    kind: str
    multiplier: float
    target: float | None
    direction: str
    medians: pl.DataFrame


@dataclass(frozen=True)
class ScoreDistribution:
    """The teams' progress scores in one month, sorted."""

    period: str
    scores: tuple[float, ...]


@dataclass(frozen=True)
class NetworkContext:
    """Everything the network report shows."""

    kind: ClassVar[str] = "network"
    period: str
    period_label: str
    network_name: str
    generated_on: str
    periods: tuple[str, ...]
    grid: tuple[GridRow, ...]
    grid_in_appendix: bool
    summary: tuple[MonthSummary, ...]
    improving: tuple[ImprovingTeam, ...]
    attention: tuple[AttentionRow, ...]
    adopted: tuple[AdoptedIdea, ...]
    pdsa_counts: tuple[ComponentCount, ...]
    measures: tuple[NetworkMeasure, ...]
    progress_by_period: tuple[ScoreDistribution, ...]
    team_count: int
    due_day: int
    participation: NetworkParticipation | None = None  # issue 15: None until the network keeps it
    rules_label: str = ""  # issue 16: the methods note names the network's rule set
    rebase_suggestions: tuple[RebaseSuggestion, ...] = ()


# --- validation report and feedback sheets ----------------------------------------------------


@dataclass(frozen=True)
class FileRow:
    """A file received for the period and what became of it."""

    file: str
    team_id: str | None
    status: str
    issue_count: int
    sha256: str


@dataclass(frozen=True)
class CheckCount:
    """How many issues one check raised, at one severity."""

    check: str
    severity: str
    count: int


@dataclass(frozen=True)
class IssueRow:
    """One issue of one file, as the validation log records it."""

    sha256: str
    file: str | None
    part: str | None
    row: int | None
    column: str | None
    check: str
    severity: str
    value: str | None
    message: str


@dataclass(frozen=True)
class ValidationContext:
    """Every file filed under the period's inbox, its outcome and every issue."""

    kind: ClassVar[str] = "validation"
    period: str
    period_label: str
    network_name: str
    run_id: str
    files: tuple[FileRow, ...]
    by_check: tuple[CheckCount, ...]
    issues: tuple[IssueRow, ...]


@dataclass(frozen=True)
class FeedbackContext:
    """The sheet sent back to a team about one file that was rejected or loaded with warnings."""

    kind: ClassVar[str] = "feedback"
    period: str
    period_label: str
    network_name: str
    file: str
    team_id: str | None
    status: str
    sha256: str
    issues: tuple[IssueRow, ...]


ReportContext = TeamContext | NetworkContext | ValidationContext | FeedbackContext

# Not part of what a report says: the run id only names the run on the validation report, and
# the date it was generated changes daily; neither may force a re-render.
_NOT_CONTENT = frozenset({"run_id", "generated_on"})


def _plain(value: Any) -> Any:
    """JSON's fallback for what it cannot write itself: a dataclass as an object of its fields, a
    frame as its columns and rows, a date as ISO text. (Lists, tuples, dicts and numbers json
    writes itself, in C: a Python walk over every value took twice as long as the old dicts.)"""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return vars(value)
    if isinstance(value, pl.DataFrame):
        return {"columns": value.columns, "rows": value.rows()}
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def canonical(context: ReportContext) -> str:
    """The context as canonical JSON (keys sorted), less what is not part of what the report
    says (the run id, the generation date) and with its kind: what ``content_key`` hashes."""
    shown = {k: v for k, v in vars(context).items() if k not in _NOT_CONTENT}
    if shown.get("participation", 0) is None:  # no participation data: the key of a report from before
        del shown["participation"]
    shown["kind"] = context.kind
    return json.dumps(shown, sort_keys=True, default=_plain)


def content_key(context: ReportContext) -> str:
    """A hash of everything a report shows: same key, same report -- no need to render again."""
    return hashlib.sha256(canonical(context).encode()).hexdigest()
