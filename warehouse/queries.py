"""Reads the reports and derived tables need, as Polars frames (SQL through bound parameters only)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Engine, Select, select

from schemas.periods import reporting_window
from schemas.returns import ACCEPTED_STATUSES
from transforms.aggregate import compliance_grid
from warehouse.models import (
    Coach,
    LearningNote,
    Measure,
    MeasureValue,
    NetworkPeriod,
    Organisation,
    PdsaCycle,
    ReceivedFile,
    SeriesPhase,
    SeriesPoint,
    SeriesSummary,
    Submission,
    Team,
    ValidationIssue,
    current_value_view,
)


def frame(
    engine: Engine, stmt: Select | str, schema: dict | None = None, params: dict | None = None
) -> pl.DataFrame:
    """Run a query and return a Polars frame; an empty result keeps its column names."""
    from sqlalchemy import text

    with engine.connect() as conn:
        result = conn.execute(text(stmt) if isinstance(stmt, str) else stmt, params or {})
        cols = list(result.keys())
        rows = result.all()
    if not rows:
        return pl.DataFrame(schema=schema or dict.fromkeys(cols, pl.String))
    return pl.DataFrame([tuple(r) for r in rows], schema=cols, orient="row", infer_schema_length=None)


VALUE_SCHEMA = {
    "team_id": pl.String,
    "measure_id": pl.String,
    "period": pl.String,
    "numerator": pl.Float64,
    "denominator": pl.Float64,
    "value": pl.Float64,
}


def current_values(
    engine: Engine, team_ids: list[str] | None = None, exclude_sha256: Iterable[str] | None = None
) -> pl.DataFrame:
    """The current value of each team, measure and month (the ``current_measure_value`` view).

    ``exclude_sha256``: the values *as if those files had never been loaded* — the history to
    validate a batch of files against. A run that died after loading some of its files, and is
    run again, then validates the rest against the same history a clean run used, instead of
    against a history that already holds its own batch (e.g. a v1 of the same team and month,
    which would change the warnings, and so the verdict, of the v2 beside it).
    """
    excluded = {s for s in (exclude_sha256 or ()) if s}
    if excluded:
        return ValueLog.read(engine).current(team_ids, excluded)
    v = current_value_view.c
    stmt = select(v.team_id, v.measure_id, v.period, v.numerator, v.denominator, v.value)
    return _current_frame(frame(engine, stmt, VALUE_SCHEMA), team_ids)


def _current_frame(out: pl.DataFrame, team_ids: list[str] | None) -> pl.DataFrame:
    out = out.with_columns([pl.col(c).cast(t) for c, t in VALUE_SCHEMA.items()])
    if team_ids is not None:
        out = out.filter(pl.col("team_id").is_in(team_ids))
    return out.sort("team_id", "measure_id", "period")


_LOG_SCHEMA = {**VALUE_SCHEMA, "_sub_period": pl.String, "_load_seq": pl.Int64, "_sha256": pl.String}


@dataclass(frozen=True)
class ValueLog:
    """Every accepted measure row with its submission's month, load order and file: what current
    values are computed from, by the view's rule, as of any set of files left out.

    Rows are only ever added, each batch with higher ``load_seq`` numbers, committed in that order
    (they are assigned under the write lock): ``refresh`` reads only the rows loaded since the last
    read, so a backfill validating month after month reads each row once, not once a month.
    """

    rows: pl.DataFrame
    last_seq: int = 0

    @classmethod
    def read(cls, engine: Engine) -> ValueLog:
        return cls(pl.DataFrame(schema=_LOG_SCHEMA)).refresh(engine)

    def refresh(self, engine: Engine) -> ValueLog:
        """This log with the rows loaded since it was read."""
        stmt = (
            select(
                MeasureValue.team_id,
                MeasureValue.measure_id,
                MeasureValue.period,
                MeasureValue.numerator,
                MeasureValue.denominator,
                MeasureValue.value,
                Submission.period.label("_sub_period"),
                Submission.load_seq.label("_load_seq"),
                Submission.sha256.label("_sha256"),
            )
            .join(Submission, Submission.submission_id == MeasureValue.submission_id)
            .where(
                Submission.status.in_(ACCEPTED_STATUSES),
                Submission.load_seq > self.last_seq,
            )
        )
        with engine.connect() as conn:
            rows = conn.execute(stmt).all()
        # Typed as read (no inference pass over the rows): a third faster than ``frame`` here.
        new = pl.DataFrame(rows, schema=_LOG_SCHEMA, orient="row")
        if new.is_empty():
            return self
        return ValueLog(pl.concat([self.rows, new]), max(self.last_seq, new.get_column("_load_seq").max()))

    def current(self, team_ids: list[str] | None = None, exclude_sha256: Iterable[str] = ()) -> pl.DataFrame:
        """The view's rule — latest accepted submission per team and month, then the latest loaded
        value per team, measure and month — over the submissions not from ``exclude_sha256``."""
        rows = self.rows.filter(~pl.col("_sha256").is_in(list(exclude_sha256)))
        latest = rows.group_by("team_id", "_sub_period").agg(pl.col("_load_seq").max())
        values = (
            rows.join(latest, on=["team_id", "_sub_period", "_load_seq"], how="semi")
            .sort("_load_seq", descending=True)
            .unique(["team_id", "measure_id", "period"], keep="first", maintain_order=True)
            .select(list(VALUE_SCHEMA))
        )
        return _current_frame(values, team_ids)


def catalogue(engine: Engine) -> pl.DataFrame:
    return frame(engine, select(*Measure.__table__.columns).order_by(Measure.measure_id))


def teams(engine: Engine) -> pl.DataFrame:
    stmt = (
        select(
            Team.team_id,
            Team.name.label("team_name"),
            Team.organisation_id,
            Organisation.name.label("organisation_name"),
            Team.coach_email,
            Coach.name.label("coach_name"),
            Team.cohort,
            Team.first_period,
        )
        .join(Organisation, Organisation.organisation_id == Team.organisation_id)
        .join(Coach, Coach.email == Team.coach_email)
        .order_by(Team.team_id)
    )
    return frame(engine, stmt)


def current_submissions(engine: Engine) -> pl.DataFrame:
    """The submission in force for each team and period (latest accepted version)."""
    stmt = (
        select(
            Submission.submission_id,
            Submission.team_id,
            Submission.period,
            Submission.version,
            Submission.status,
            Submission.submitted_on,
            Submission.progress_score,
            Submission.on_time,
            Submission.warning_count,
            Submission.sha256,
        )
        .where(Submission.superseded_by.is_(None))
        .order_by(Submission.team_id, Submission.period)
    )
    return frame(
        engine,
        stmt,
        {
            "submission_id": pl.String,
            "team_id": pl.String,
            "period": pl.String,
            "version": pl.Int64,
            "status": pl.String,
            "submitted_on": pl.Date,
            "progress_score": pl.Float64,
            "on_time": pl.Boolean,
            "warning_count": pl.Int64,
            "sha256": pl.String,
        },
    )


def received_files(engine: Engine, period: str | None = None) -> pl.DataFrame:
    stmt = select(
        ReceivedFile.sha256,
        ReceivedFile.original_name,
        ReceivedFile.period_folder,
        ReceivedFile.outcome,
        ReceivedFile.team_id,
        ReceivedFile.period,
        ReceivedFile.issue_count,
        ReceivedFile.first_run_id,
        ReceivedFile.size_bytes,
    )
    if period is not None:
        stmt = stmt.where(ReceivedFile.period_folder == period)
    return frame(engine, stmt.order_by(ReceivedFile.original_name))


def current_pdsa(engine: Engine) -> pl.DataFrame:
    stmt = (
        select(
            PdsaCycle.team_id,
            PdsaCycle.period,
            PdsaCycle.change_idea,
            PdsaCycle.component,
            PdsaCycle.cycle,
            PdsaCycle.start_date,
            PdsaCycle.end_date,
            PdsaCycle.decision,
            PdsaCycle.linked_measure,
            PdsaCycle.what_happened,
            PdsaCycle.prediction,
        )
        .join(Submission, Submission.submission_id == PdsaCycle.submission_id)
        .where(Submission.superseded_by.is_(None))
        .order_by(PdsaCycle.team_id, PdsaCycle.period, PdsaCycle.source_row)
    )
    return frame(
        engine,
        stmt,
        {
            "team_id": pl.String,
            "period": pl.String,
            "change_idea": pl.String,
            "component": pl.String,
            "cycle": pl.Int64,
            "start_date": pl.Date,
            "end_date": pl.Date,
            "decision": pl.String,
            "linked_measure": pl.String,
            "what_happened": pl.String,
            "prediction": pl.String,
        },
    )


def current_learning(engine: Engine, period: str) -> pl.DataFrame:
    stmt = (
        select(
            LearningNote.team_id,
            LearningNote.period,
            LearningNote.went_well,
            LearningNote.challenges,
            LearningNote.help_wanted,
        )
        .join(Submission, Submission.submission_id == LearningNote.submission_id)
        .where(Submission.superseded_by.is_(None), LearningNote.period == period)
        .order_by(LearningNote.team_id, LearningNote.source_row)
    )
    return frame(
        engine,
        stmt,
        {
            "team_id": pl.String,
            "period": pl.String,
            "went_well": pl.String,
            "challenges": pl.String,
            "help_wanted": pl.String,
        },
    )


def series_points(engine: Engine) -> pl.DataFrame:
    return frame(
        engine,
        select(*SeriesPoint.__table__.columns).order_by(
            SeriesPoint.team_id, SeriesPoint.measure_id, SeriesPoint.period
        ),
    )


def series_phases(engine: Engine) -> pl.DataFrame:
    """Where series' later phases start (issue 16): team_id, measure_id, from_period, source."""
    return frame(
        engine,
        select(*SeriesPhase.__table__.columns).order_by(
            SeriesPhase.team_id, SeriesPhase.measure_id, SeriesPhase.from_period
        ),
        {"team_id": pl.String, "measure_id": pl.String, "from_period": pl.String, "source": pl.String},
    )


def series_summaries(engine: Engine) -> pl.DataFrame:
    return frame(
        engine,
        select(*SeriesSummary.__table__.columns).order_by(SeriesSummary.team_id, SeriesSummary.measure_id),
    )


def network_periods(engine: Engine) -> pl.DataFrame:
    return frame(engine, select(*NetworkPeriod.__table__.columns).order_by(NetworkPeriod.period))


def network_period(engine: Engine, period: str) -> dict | None:
    """The network's compliance summary for one month (None before the statistics are derived)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(
                NetworkPeriod.teams_expected,
                NetworkPeriod.on_time,
                NetworkPeriod.late,
                NetworkPeriod.rejected,
                NetworkPeriod.missing,
                NetworkPeriod.median_progress,
            ).where(NetworkPeriod.period == period)
        ).first()
    return dict(row._mapping) if row is not None else None


def period_warnings(engine: Engine, period: str) -> pl.DataFrame:
    """The warnings logged for the returns of ``period``, in log order."""
    return frame(
        engine,
        select(
            ValidationIssue.team_id,
            ValidationIssue.period,
            ValidationIssue.sha256,
            ValidationIssue.part,
            ValidationIssue.row,
            ValidationIssue.column,
            ValidationIssue.check,
            ValidationIssue.message,
        )
        .where(ValidationIssue.period == period, ValidationIssue.severity == "warning")
        .order_by(ValidationIssue.seq),
    )


def issues_of_files(engine: Engine, shas: list[str]) -> pl.DataFrame:
    """Every finding logged for these files (not their outcome entries), in log order."""
    if not shas:
        return pl.DataFrame(
            schema={
                c: pl.String
                for c in ("sha256", "file", "part", "column", "check", "severity", "value", "message")
            }
            | {"row": pl.Int64, "seq": pl.Int64}
        )
    stmt = (
        select(
            ValidationIssue.seq,
            ValidationIssue.sha256,
            ValidationIssue.file,
            ValidationIssue.part,
            ValidationIssue.row,
            ValidationIssue.column,
            ValidationIssue.check,
            ValidationIssue.severity,
            ValidationIssue.value,
            ValidationIssue.message,
        )
        .where(ValidationIssue.sha256.in_(shas), ValidationIssue.check != "file_outcome")
        .order_by(ValidationIssue.seq)
    )
    return frame(engine, stmt)


@dataclass(frozen=True)
class StatusGrid:
    """Submissions as teams × months (``joyflow status``): one status per team and month, oldest first."""

    last: str
    periods: list[str]
    teams: list[tuple[str, str, list[str]]]  # team_id, team name, status per month


def status_grid(engine: Engine, last: str | None = None, months: int = 6) -> StatusGrid | None:
    """The last ``months`` months up to ``last`` (default: the latest month with a submission);
    None when the warehouse has no teams yet."""
    teams_ = teams(engine)
    if teams_.is_empty():
        return None
    subs = current_submissions(engine)
    last = last or (
        subs.get_column("period").max() if subs.height else teams_.get_column("first_period").max()
    )
    periods = reporting_window(
        last, start=None, earliest_team=teams_.get_column("first_period").min(), months=months
    )
    grid = compliance_grid(teams_, subs, received_files(engine), periods)
    cells = dict(grid.group_by("team_id", maintain_order=True).agg(pl.col("status")).iter_rows())
    return StatusGrid(
        last,
        periods,
        [(tid, name, cells.get(tid, [])) for tid, name in teams_.select("team_id", "team_name").iter_rows()],
    )
