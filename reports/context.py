"""Everything a report shows, gathered once per run with Polars and cut into one context per report.

Contexts are the frozen dataclasses of ``reports.report_types``, built straight from the run's
frames; they pickle, so they can be sent to worker processes. They are built for all teams from
a handful of queries — never one query per team. Other teams are never named in a team's
context: only network medians reach it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import polars as pl
from sqlalchemy import Engine

from reports.charts.spec import ChartEvent
from reports.participation import network_participation, team_participation
from reports.report_types import (
    AdoptedIdea,
    AttentionRow,
    CheckCount,
    ComponentCount,
    DataWarning,
    FeedbackContext,
    FileRow,
    GridRow,
    ImprovingTeam,
    IssueRow,
    LearningNoteRow,
    MeasureRow,
    MonthSummary,
    NetworkContext,
    NetworkMeasure,
    PdsaCycleRow,
    RebaseSuggestion,
    ScoreDistribution,
    ScorePoint,
    SubmissionInfo,
    TeamContext,
    TeamInfo,
    ValidationContext,
)
from schemas.contract import COLUMN_LABELS
from schemas.participation import ParticipationSettings
from schemas.periods import month_end, month_label, reporting_window
from transforms.aggregate import POINT_SCHEMA, compliance_grid, with_phases
from transforms.participation.view import ParticipationData, participation_data
from warehouse import participation as warehouse_participation
from warehouse import queries

T = TypeVar("T")

GRID_INLINE_MAX_TEAMS = 40  # the network report shows the compliance grid in place up to here
STATUS_WORDS = {
    "on_time": "On time",
    "late": "Late",
    "rejected": "Rejected",
    "missing": "Missing",
    "not_due": "Not due",
}
VARIATION_WORDS = {
    "special_cause_improvement": "Special cause — improvement",
    "special_cause_concern": "Special cause — concern",
    "special_cause_neutral": "Special cause — neither better nor worse",
    "common_cause": "Common cause — no significant change",
}
ASSURANCE_WORDS = {
    "consistently_hit": "Will consistently meet the target",
    "hit_and_miss": "Will sometimes meet and sometimes miss the target",
    "consistently_miss": "Will consistently miss the target unless something changes",
}


def assurance_text(
    assurance: str | None, target: float | None, latest_value: float | None, too_few_points: bool = False
) -> str:
    """What the report says about the target: why it is not judged, when it is not."""
    if target is None:
        return "No target"
    if assurance is not None:
        return ASSURANCE_WORDS.get(assurance, assurance.replace("_", " "))
    if latest_value is None:
        return "Target not judged: no value this month"
    if too_few_points:  # the rule set's minimum baseline (``transforms.qi.limits.too_few_points``)
        return "Target not judged: too few points for limits"
    return "Target not judged: too few months for limits"


# Issue 16: how reports name the network's rule set (``transforms.qi.RULE_SETS``).
RULE_SET_WORDS = {
    "default": "joyflow's default rules (Making Data Count point rules, Anhøj runs test)",
    "ihi": "the IHI run-chart rules (Perla, Provost & Murray 2011)",
    "anhoej": "the Anhøj rules (Anhøj & Olesen 2014, as in qicharts2)",
    "mdc": "the Making Data Count rules (as in NHSRplotthedots)",
    "healthcare-data-guide": "the Health Care Data Guide rules (Provost & Murray)",
}


# ... and on each chart's caption, where space is short.
RULE_SET_SHORT = {
    "default": "joyflow default",
    "ihi": "IHI",
    "anhoej": "Anhøj",
    "mdc": "MDC",
    "healthcare-data-guide": "Health Care Data Guide",
}


def rules_label(summaries: pl.DataFrame, short: bool = False) -> str:
    """The rule set the derived statistics were computed with, in the reports' words."""
    if "rules" not in summaries.columns:
        return ""
    names = summaries.get_column("rules").drop_nulls()
    if not names.len():
        return ""
    return (RULE_SET_SHORT if short else RULE_SET_WORDS).get(names[0], names[0])


def rebase_suggestions(data: RunData, team_id: str | None = None) -> tuple[RebaseSuggestion, ...]:
    """Series whose statistics suggest a recalculation (``rebase = "suggest"``), for a coach to decide."""
    if "suggested_from" not in data.summaries.columns:
        return ()
    rows = data.summaries.filter(pl.col("suggested_from").is_not_null())
    if team_id is not None:
        rows = rows.filter(pl.col("team_id") == team_id)
    names = dict(data.teams.select("team_id", "team_name").iter_rows())
    measures = dict(data.catalogue.select("measure_id", "name").iter_rows())
    return tuple(
        RebaseSuggestion(t, names.get(t, t), m, measures.get(m, m), p, month_label(p))
        for t, m, p in rows.select("team_id", "measure_id", "suggested_from")
        .sort("team_id", "measure_id")
        .iter_rows()
    )


CHART_WORDS = {
    "run": "Run chart",
    "i": "I chart",
    "p": "P chart",
    "pp": "P′ chart",
    "u": "U chart",
    "up": "U′ chart",
    "c": "C chart",
    "mr": "MR chart",
}


def format_value(value: float | None, kind: str, multiplier: float, unit: str | None) -> str:
    """As a coach reads it: 62.5%, 7.4, 18, 1.2 per 100 staff."""
    if value is None:
        return "—"
    shown = value * (multiplier or 1)
    if kind == "proportion" and multiplier == 100:
        return f"{shown:.1f}%"
    if kind == "count":
        return f"{shown:,.0f}"
    text = f"{shown:,.1f}" if abs(shown) < 1000 else f"{shown:,.0f}"
    if kind == "rate" and unit:
        return f"{text} {unit}"
    return text


@dataclass
class RunData:
    """The run's data, loaded once: every report is a cut of this."""

    period: str
    network_name: str
    periods: list[str]
    teams: pl.DataFrame
    catalogue: pl.DataFrame
    points: pl.DataFrame
    summaries: pl.DataFrame
    submissions: pl.DataFrame
    grid: pl.DataFrame
    pdsa: pl.DataFrame
    learning: pl.DataFrame
    warnings: pl.DataFrame
    network_periods: pl.DataFrame
    representatives: tuple[str, ...] = ()
    generated_on: dt.date = field(default_factory=dt.date.today)
    participation: ParticipationData | None = None  # issue 15: people, meetings, readiness, watch list


def load_run_data(
    engine: Engine,
    period: str,
    network_name: str,
    start_period: str | None = None,
    months: int = 18,
    representatives: tuple[str, ...] = (),
    participation: ParticipationSettings | None = None,
) -> RunData:
    teams = queries.teams(engine)
    periods = reporting_window(
        period,
        start=start_period,
        earliest_team=teams.get_column("first_period").min() if teams.height else None,
        months=max(months, 1),
    )
    submissions = queries.current_submissions(engine)
    grid = compliance_grid(teams, submissions, queries.received_files(engine), periods)
    warnings = queries.period_warnings(engine, period)
    # each point's phase, from where the statistics started the series' later phases (issue 16)
    points = with_phases(queries.series_points(engine), queries.series_phases(engine), at="period")
    points = points.filter(pl.col("period").is_in(periods))
    return RunData(
        period=period,
        network_name=network_name,
        periods=periods,
        teams=teams,
        catalogue=queries.catalogue(engine),
        points=points,
        summaries=queries.series_summaries(engine),
        submissions=submissions.filter(pl.col("period").is_in(periods)),
        grid=grid,
        pdsa=queries.current_pdsa(engine),
        learning=queries.current_learning(engine, period),
        warnings=warnings,
        network_periods=queries.network_periods(engine),
        representatives=representatives,
        participation=_participation(engine, period, teams, submissions, grid, participation),
    )


def _participation(
    engine: Engine,
    period: str,
    teams: pl.DataFrame,
    submissions: pl.DataFrame,
    grid: pl.DataFrame,
    settings: ParticipationSettings | None,
) -> ParticipationData | None:
    """The network's participation as of the month's last day (None before any people or calendar)."""
    settings = settings or ParticipationSettings()
    frames = warehouse_participation.report_frames(engine, settings.min_minutes * 60)
    if frames is None:
        return None
    return participation_data(
        teams=teams.select("team_id", "team_name", "first_period"),
        self_scores=submissions.select("team_id", "period", "progress_score"),
        grid=grid,
        settings=settings,
        as_of=month_end(period),
        **frames,
    )


def _network_medians(data: RunData) -> pl.DataFrame:
    """Median across teams per measure and month — the only view of other teams a team report gets."""
    return (
        data.points.group_by("measure_id", "period")
        .agg(pl.col("value").median().alias("median"), pl.len().alias("teams"))
        .sort("measure_id", "period")
    )


def _latest_network(data: RunData) -> pl.DataFrame:
    latest = data.points.filter(pl.col("period") == data.period)
    return latest.group_by("measure_id").agg(
        pl.col("value").median().alias("network_median"),
        pl.col("value").quantile(0.25).alias("network_q1"),
        pl.col("value").quantile(0.75).alias("network_q3"),
        pl.len().alias("network_teams"),
    )


def _by(frame: pl.DataFrame, *keys: str) -> dict[tuple, pl.DataFrame]:
    """The frame cut into one frame per key, in one pass (a filter per team cost minutes at 1,000 teams)."""
    return frame.partition_by(*keys, as_dict=True, maintain_order=True)


def _rows(cls: type[T], frame: pl.DataFrame, **renames: str) -> tuple[T, ...]:
    """The frame's rows as ``cls`` instances: its fields taken by name (``renames``: field=column)."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    columns = [renames.get(n, n) for n in names]
    return tuple(cls(*row) for row in frame.select(columns).iter_rows())


def team_contexts(data: RunData) -> Iterator[TeamContext]:
    """One context per team taking part by the run period, built as they are asked for (the
    renderer starts on the first while the rest are built)."""
    cat = data.catalogue
    medians: dict[str, list[tuple[str, float]]] = {}
    for mid, per, med in _network_medians(data).select("measure_id", "period", "median").iter_rows():
        medians.setdefault(mid, []).append((per, med))
    latest_net = {r["measure_id"]: r for r in _latest_network(data).iter_rows(named=True)}
    status = dict(data.grid.filter(pl.col("period") == data.period).select("team_id", "status").iter_rows())
    pdsa_all = data.pdsa.filter(pl.col("period") <= data.period)
    pdsa_by_team = _by(pdsa_all, "team_id")
    events_by: dict[tuple[str, str], list[ChartEvent]] = {}
    for r in pdsa_all.iter_rows(named=True):
        events_by.setdefault((r["team_id"], r["linked_measure"]), []).append(
            ChartEvent(r["period"], f"Cycle {r['cycle']}: {r['change_idea']} ({r['decision']})")
        )
    subs = data.submissions
    subs_by_team = _by(subs, "team_id")
    points_by = _by(data.points.sort("team_id", "measure_id", "period"), "team_id", "measure_id")
    no_points = data.points.clear()
    summaries = {(r["team_id"], r["measure_id"]): r for r in data.summaries.iter_rows(named=True)}
    learning_by_team = _by(data.learning, "team_id")
    warnings_by_team = _by(data.warnings, "team_id")
    network_progress = _rows(ScorePoint, data.network_periods, score="median_progress")
    panel = team_participation(data.participation) if data.participation is not None else lambda _tid: None
    label, short_label = rules_label(data.summaries), rules_label(data.summaries, short=True)
    for team in data.teams.iter_rows(named=True):
        tid = team["team_id"]
        if team["first_period"] > data.period:
            continue
        team_subs = subs_by_team.get((tid,), subs.clear())
        sub = team_subs.filter(pl.col("period") == data.period)
        team_status = status.get(tid, "missing")
        team_pdsa = pdsa_by_team.get((tid,), pdsa_all.clear())
        measures = []
        for m in cat.iter_rows(named=True):
            series = points_by.get((tid, m["measure_id"]), no_points)
            summary = summaries.get((tid, m["measure_id"]), {})
            net_row = latest_net.get(m["measure_id"], {})
            by_period = dict(
                zip(series.get_column("period").to_list(), series.get_column("value").to_list(), strict=True)
            )
            latest_value = by_period.get(data.period)
            judged = latest_value is not None
            # The team's own target (targets.csv) when it has one: the statistics judged against it.
            target = summary["target"] if summary.get("target") is not None else m["target"]
            measures.append(
                MeasureRow(
                    measure_id=m["measure_id"],
                    name=m["name"],
                    type=m["type"],
                    kind=m["kind"],
                    unit=m["unit"] or "",
                    multiplier=m["multiplier"],
                    direction=m["direction"],
                    target=target,
                    chart=m["chart"],
                    chart_label=CHART_WORDS.get(m["chart"], m["chart"]),
                    description=m["description"] or "",
                    latest=format_value(latest_value, m["kind"], m["multiplier"], None),
                    latest_value=latest_value,
                    target_text=format_value(target, m["kind"], m["multiplier"], None)
                    if target is not None
                    else "—",
                    variation=summary.get("variation") if judged else None,
                    assurance=summary.get("assurance") if judged else None,
                    assurance_text=assurance_text(
                        summary.get("assurance") if judged else None,
                        target,
                        latest_value,
                        bool(summary.get("too_few_points")),
                    ),
                    runs_signal=bool(summary.get("runs_signal")),
                    n_points=series.height,
                    spark=tuple(by_period.get(p) for p in data.periods),
                    points=series.select(*POINT_SCHEMA),
                    events=tuple(events_by.get((tid, m["measure_id"]), ())),
                    network_median_series=tuple(medians.get(m["measure_id"], ())),
                    network_median=format_value(
                        net_row.get("network_median"), m["kind"], m["multiplier"], None
                    ),
                    network_teams=net_row.get("network_teams", 0),
                    rules_label=short_label,
                    too_few_points=bool(summary.get("too_few_points")),
                    suggested_from=summary.get("suggested_from"),
                )
            )
        by_component = (
            team_pdsa.group_by("component", "decision").len("count").sort("component", "decision")
            if team_pdsa.height
            else pl.DataFrame(schema={"component": pl.String, "decision": pl.String, "count": pl.UInt32})
        )
        warnings = warnings_by_team.get((tid,), data.warnings.clear())
        if sub.height:
            warnings = warnings.filter(pl.col("sha256") == sub.get_column("sha256")[0])
        yield TeamContext(
            period=data.period,
            period_label=month_label(data.period),
            network_name=data.network_name,
            generated_on=data.generated_on.isoformat(),
            team=TeamInfo(
                team_id=tid,
                name=team["team_name"],
                organisation=team["organisation_name"],
                coach=team["coach_name"],
                coach_email=team["coach_email"],
            ),
            status=team_status,
            status_text=STATUS_WORDS.get(team_status, team_status),
            submission=_rows(SubmissionInfo, sub)[0] if sub.height else None,
            periods=tuple(data.periods),
            measures=tuple(measures),
            pdsa_this_month=_rows(PdsaCycleRow, team_pdsa.filter(pl.col("period") == data.period)),
            pdsa_total=team_pdsa.height,
            pdsa_by_component=_rows(ComponentCount, by_component),
            learning=_rows(LearningNoteRow, learning_by_team.get((tid,), data.learning.clear())),
            progress=_rows(ScorePoint, team_subs.sort("period"), score="progress_score"),
            network_progress=network_progress,
            warnings=_rows(DataWarning, warnings),
            participation=panel(tid),
            rules_label=label,
            rebase_suggestions=rebase_suggestions(data, tid),
        )


def network_context(data: RunData, due_day: int) -> NetworkContext:
    """The network report: compliance, progress, teams improving or needing attention, measures."""
    names = dict(
        zip(
            data.teams.get_column("team_id").to_list(),
            data.teams.get_column("team_name").to_list(),
            strict=True,
        )
    )
    grid_by_team = _by(data.grid.sort("team_id", "period"), "team_id")
    no_cells = data.grid.clear()
    grid_rows = tuple(
        GridRow(tid, names[tid], tuple(grid_by_team.get((tid,), no_cells).get_column("status").to_list()))
        for tid in data.teams.get_column("team_id").to_list()
    )
    summ = data.summaries.join(data.catalogue.select("measure_id", "name", "type"), on="measure_id")
    improving = (
        summ.filter((pl.col("variation") == "special_cause_improvement") & (pl.col("type") == "outcome"))
        .group_by("team_id")
        .agg(pl.col("name").sort().alias("measures"))
        .with_columns(pl.col("team_id").replace_strict(names, default=None).alias("team_name"))
        .sort("team_id")
    )
    concern = (
        summ.filter(pl.col("variation") == "special_cause_concern")
        .group_by("team_id")
        .agg(pl.col("name").sort().alias("concerns"))
    )
    recent = data.periods[-3:]
    pdsa_recent = data.pdsa.filter(pl.col("period").is_in(recent)).group_by("team_id").len()
    latest_status = data.grid.filter(pl.col("period") == data.period).select("team_id", "status")
    attention = (
        data.teams.select("team_id", "team_name")
        .join(latest_status, on="team_id", how="left")
        .join(concern, on="team_id", how="left")
        .join(pdsa_recent, on="team_id", how="left")
        .with_columns(pl.col("len").fill_null(0).alias("recent_cycles"))
    )
    attention_rows = []
    for r in attention.iter_rows(named=True):
        reasons = []
        if r["status"] in ("missing", "rejected"):
            reasons.append(
                f"No usable return for {month_label(data.period)} ({STATUS_WORDS[r['status']].lower()})"
            )
        if r["concerns"]:
            reasons.append("Special cause concern: " + ", ".join(r["concerns"]))
        if r["recent_cycles"] == 0:
            reasons.append("No PDSA cycles in the last three months")
        if reasons:
            attention_rows.append(AttentionRow(r["team_id"], r["team_name"], tuple(reasons)))
    adopted = (
        data.pdsa.filter(pl.col("decision") == "adopt")
        .group_by("component", "change_idea")
        .agg(pl.col("team_id").n_unique().alias("teams"))
        .sort(["teams", "component", "change_idea"], descending=[True, False, False])
        .head(12)
    )
    pdsa_counts = (
        data.pdsa.filter(pl.col("period").is_in(data.periods))
        .group_by("component", "decision")
        .len("count")
        .sort("component", "decision")
    )
    medians = _by(_network_medians(data), "measure_id")
    no_medians = pl.DataFrame(schema={"period": pl.String, "value": pl.Float64})
    net_measures = tuple(
        NetworkMeasure(
            measure_id=m["measure_id"],
            name=m["name"],
            unit=m["unit"] or "",
            kind=m["kind"],
            multiplier=m["multiplier"],
            target=m["target"],
            direction=m["direction"],
            medians=medians[(m["measure_id"],)].select("period", pl.col("median").alias("value"))
            if (m["measure_id"],) in medians
            else no_medians,
        )
        for m in data.catalogue.iter_rows(named=True)
    )
    progress_by_period = (
        data.submissions.group_by("period")
        .agg(pl.col("progress_score").drop_nulls().sort().alias("scores"))
        .sort("period")
    )
    return NetworkContext(
        period=data.period,
        period_label=month_label(data.period),
        network_name=data.network_name,
        generated_on=data.generated_on.isoformat(),
        periods=tuple(data.periods),
        grid=grid_rows,
        # One page holds ~45 teams' rows: a longer grid would push the network's summary, charts
        # and attention list dozens of pages back (111 pages at 5,000 teams), so it goes last.
        grid_in_appendix=len(grid_rows) > GRID_INLINE_MAX_TEAMS,
        summary=_rows(MonthSummary, data.network_periods.filter(pl.col("period").is_in(data.periods))),
        improving=tuple(
            ImprovingTeam(tid, name, tuple(measures))
            for tid, name, measures in improving.select("team_id", "team_name", "measures").iter_rows()
        ),
        attention=tuple(attention_rows),
        adopted=_rows(AdoptedIdea, adopted),
        pdsa_counts=_rows(ComponentCount, pdsa_counts),
        measures=net_measures,
        progress_by_period=tuple(
            ScoreDistribution(period, tuple(scores)) for period, scores in progress_by_period.iter_rows()
        ),
        team_count=data.teams.height,
        due_day=due_day,
        participation=network_participation(data.participation, data.periods)
        if data.participation is not None
        else None,
        rules_label=rules_label(data.summaries),
        rebase_suggestions=rebase_suggestions(data),
    )


def validation_context(engine: Engine, period: str, network_name: str, run_id: str) -> ValidationContext:
    """Every file filed under the period's inbox, its outcome and every issue — for data managers and auditors."""
    files = queries.received_files(engine, period)
    issues = queries.issues_of_files(engine, files.get_column("sha256").to_list() if files.height else [])
    by_check = (
        issues.group_by("check", "severity").len("count").sort(["count", "check"], descending=[True, False])
        if issues.height
        else pl.DataFrame(schema={"check": pl.String, "severity": pl.String, "count": pl.UInt32})
    )
    return ValidationContext(
        period=period,
        period_label=month_label(period),
        network_name=network_name,
        run_id=run_id,
        files=_rows(FileRow, files, file="original_name", status="outcome"),
        by_check=_rows(CheckCount, by_check),
        issues=_rows(IssueRow, issues),
    )


def feedback_contexts(engine: Engine, period: str, network_name: str) -> list[FeedbackContext]:
    """One sheet per file that was rejected or loaded with warnings, to send back to the team."""
    files = queries.received_files(engine, period).filter(
        (pl.col("outcome") == "rejected") | (pl.col("issue_count") > 0)
    )
    issues = queries.issues_of_files(engine, files.get_column("sha256").to_list() if files.height else [])
    # The team reads its columns as its sheets' headers label them ('Date', not effective_on).
    labels = pl.DataFrame(
        [(part, column, label) for (part, column), label in COLUMN_LABELS.items()],
        schema={"part": pl.String, "column": pl.String, "_label": pl.String},
        orient="row",
    )
    issues = (
        issues.join(labels, on=["part", "column"], how="left", maintain_order="left")
        .with_columns(pl.coalesce("_label", "column").alias("column"))
        .drop("_label")
    )
    issues_by_file = _by(issues, "sha256")
    return [
        FeedbackContext(
            period=period,
            period_label=month_label(period),
            network_name=network_name,
            file=f["original_name"],
            team_id=f["team_id"],
            status=f["outcome"],
            sha256=f["sha256"],
            issues=_rows(IssueRow, issues_by_file.get((f["sha256"],), issues.clear())),
        )
        for f in files.iter_rows(named=True)
    ]
