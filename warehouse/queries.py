"""Reads the reports and derived tables need, as Polars frames (SQL through bound parameters only)."""

from __future__ import annotations

import polars as pl
from sqlalchemy import Engine, Select, select

from warehouse.models import (
    Coach,
    LearningNote,
    Measure,
    NetworkPeriod,
    Organisation,
    PdsaCycle,
    ReceivedFile,
    SeriesPoint,
    SeriesSummary,
    Submission,
    Team,
    current_value_view,
)


def frame(engine: Engine, stmt: Select | str, schema: dict | None = None, params: dict | None = None) -> pl.DataFrame:
    """Run a query and return a Polars frame; an empty result keeps its column names."""
    from sqlalchemy import text

    with engine.connect() as conn:
        result = conn.execute(text(stmt) if isinstance(stmt, str) else stmt, params or {})
        cols = list(result.keys())
        rows = result.all()
    if not rows:
        return pl.DataFrame(schema=schema or dict.fromkeys(cols, pl.String))
    return pl.DataFrame([tuple(r) for r in rows], schema=cols, orient="row", infer_schema_length=None)


def current_values(engine: Engine, team_ids: list[str] | None = None) -> pl.DataFrame:
    v = current_value_view.c
    stmt = select(v.team_id, v.measure_id, v.period, v.numerator, v.denominator, v.value)
    schema = {"team_id": pl.String, "measure_id": pl.String, "period": pl.String, "numerator": pl.Float64,
              "denominator": pl.Float64, "value": pl.Float64}
    out = frame(engine, stmt, schema)
    out = out.with_columns([pl.col(c).cast(t) for c, t in schema.items()])
    if team_ids is not None:
        out = out.filter(pl.col("team_id").is_in(team_ids))
    return out.sort("team_id", "measure_id", "period")


def catalogue(engine: Engine) -> pl.DataFrame:
    return frame(engine, select(*Measure.__table__.columns).order_by(Measure.measure_id))


def teams(engine: Engine) -> pl.DataFrame:
    stmt = (
        select(Team.team_id, Team.name.label("team_name"), Team.organisation_id,
               Organisation.name.label("organisation_name"), Team.coach_email, Coach.name.label("coach_name"),
               Team.cohort, Team.first_period)
        .join(Organisation, Organisation.organisation_id == Team.organisation_id)
        .join(Coach, Coach.email == Team.coach_email)
        .order_by(Team.team_id)
    )
    return frame(engine, stmt)


def current_submissions(engine: Engine) -> pl.DataFrame:
    """The submission in force for each team and period (latest accepted version)."""
    stmt = (
        select(Submission.submission_id, Submission.team_id, Submission.period, Submission.version,
               Submission.status, Submission.submitted_on, Submission.progress_score, Submission.on_time,
               Submission.warning_count, Submission.sha256)
        .where(Submission.superseded_by.is_(None))
        .order_by(Submission.team_id, Submission.period)
    )
    return frame(engine, stmt, {"submission_id": pl.String, "team_id": pl.String, "period": pl.String,
                                "version": pl.Int64, "status": pl.String, "submitted_on": pl.Date,
                                "progress_score": pl.Float64, "on_time": pl.Boolean,
                                "warning_count": pl.Int64, "sha256": pl.String})


def received_files(engine: Engine, period: str | None = None) -> pl.DataFrame:
    stmt = select(ReceivedFile.sha256, ReceivedFile.original_name, ReceivedFile.period_folder, ReceivedFile.outcome,
                  ReceivedFile.team_id, ReceivedFile.period, ReceivedFile.issue_count, ReceivedFile.first_run_id,
                  ReceivedFile.size_bytes)
    if period is not None:
        stmt = stmt.where(ReceivedFile.period_folder == period)
    return frame(engine, stmt.order_by(ReceivedFile.original_name))


def current_pdsa(engine: Engine) -> pl.DataFrame:
    stmt = (
        select(PdsaCycle.team_id, PdsaCycle.period, PdsaCycle.change_idea, PdsaCycle.component, PdsaCycle.cycle,
               PdsaCycle.start_date, PdsaCycle.end_date, PdsaCycle.decision, PdsaCycle.linked_measure,
               PdsaCycle.what_happened, PdsaCycle.prediction)
        .join(Submission, Submission.submission_id == PdsaCycle.submission_id)
        .where(Submission.superseded_by.is_(None))
        .order_by(PdsaCycle.team_id, PdsaCycle.period, PdsaCycle.source_row)
    )
    return frame(engine, stmt, {"team_id": pl.String, "period": pl.String, "change_idea": pl.String,
                                "component": pl.String, "cycle": pl.Int64, "start_date": pl.Date,
                                "end_date": pl.Date, "decision": pl.String, "linked_measure": pl.String,
                                "what_happened": pl.String, "prediction": pl.String})


def current_learning(engine: Engine, period: str) -> pl.DataFrame:
    stmt = (
        select(LearningNote.team_id, LearningNote.period, LearningNote.went_well, LearningNote.challenges,
               LearningNote.help_wanted)
        .join(Submission, Submission.submission_id == LearningNote.submission_id)
        .where(Submission.superseded_by.is_(None), LearningNote.period == period)
        .order_by(LearningNote.team_id, LearningNote.source_row)
    )
    return frame(engine, stmt, {"team_id": pl.String, "period": pl.String, "went_well": pl.String,
                                "challenges": pl.String, "help_wanted": pl.String})


def series_points(engine: Engine) -> pl.DataFrame:
    return frame(engine, select(*SeriesPoint.__table__.columns).order_by(
        SeriesPoint.team_id, SeriesPoint.measure_id, SeriesPoint.period))


def series_summaries(engine: Engine) -> pl.DataFrame:
    return frame(engine, select(*SeriesSummary.__table__.columns).order_by(
        SeriesSummary.team_id, SeriesSummary.measure_id))


def network_periods(engine: Engine) -> pl.DataFrame:
    return frame(engine, select(*NetworkPeriod.__table__.columns).order_by(NetworkPeriod.period))
