"""The warehouse schema (SQLAlchemy 2). Alembic migrations, not ``create_all``, create it.

Keys are natural (team, period, version, SHA-256 ...) rather than sequences, so a load
that was rolled back and re-run produces byte-identical rows on SQLite and PostgreSQL
alike. History is never overwritten: a resubmission is a new submission version, a
correction a new measure value row; "current" values are chosen by a view.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    column,
    false,
    table,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# --- configuration (registry and catalogue), upserted from the network's files each run ---


class Organisation(Base):
    __tablename__ = "organisation"
    organisation_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(160))


class Coach(Base):
    __tablename__ = "coach"
    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))


class Team(Base):
    __tablename__ = "team"
    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.organisation_id"))
    coach_email: Mapped[str] = mapped_column(ForeignKey("coach.email"))
    cohort: Mapped[str | None] = mapped_column(String(32))
    first_period: Mapped[str] = mapped_column(String(7))


class Measure(Base):
    __tablename__ = "measure"
    measure_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    type: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8))
    target: Mapped[float | None] = mapped_column(Float)
    chart: Mapped[str] = mapped_column(String(8))
    lower_bound: Mapped[float] = mapped_column(Float)
    upper_bound: Mapped[float] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(64))
    multiplier: Mapped[float] = mapped_column(Float, default=1.0)
    description: Mapped[str | None] = mapped_column(Text)


# --- what was received and what became of it ---


class PipelineRun(Base):
    __tablename__ = "pipeline_run"
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="monthly")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))  # running | completed | failed
    files_seen: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)


class ReceivedFile(Base):
    """Every file ever received, by content: the archive holds it under its SHA-256."""

    __tablename__ = "received_file"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    original_name: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(Integer)
    period_folder: Mapped[str | None] = mapped_column(String(7))
    first_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    first_run_id: Mapped[str] = mapped_column(String(64))
    archive_path: Mapped[str] = mapped_column(String(512))
    outcome: Mapped[str] = mapped_column(String(32))  # accepted | accepted_with_warnings | rejected
    team_id: Mapped[str | None] = mapped_column(String(32))
    period: Mapped[str | None] = mapped_column(String(7))
    issue_count: Mapped[int] = mapped_column(Integer, default=0)


class Submission(Base):
    """One accepted (or rejected) return of a team for a period; versions count up per team and period."""

    __tablename__ = "submission"
    submission_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # TEAM:PERIOD:vN
    team_id: Mapped[str] = mapped_column(ForeignKey("team.team_id"), index=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    version: Mapped[int] = mapped_column(Integer)
    load_seq: Mapped[int] = mapped_column(Integer, unique=True)  # order of loading: latest wins
    sha256: Mapped[str] = mapped_column(ForeignKey("received_file.sha256"), unique=True)
    run_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))  # accepted | accepted_with_warnings | rejected
    superseded_by: Mapped[str | None] = mapped_column(String(64))
    submitted_by: Mapped[str | None] = mapped_column(String(200))
    submitted_on: Mapped[dt.date | None] = mapped_column(Date)
    progress_score: Mapped[float | None] = mapped_column(Float)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    warning_count: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (UniqueConstraint("team_id", "period", "version"),)


class MeasureValue(Base):
    """A value as a submission gave it. A later submission's value for the same month is a correction."""

    __tablename__ = "measure_value"
    submission_id: Mapped[str] = mapped_column(ForeignKey("submission.submission_id"), primary_key=True)
    measure_id: Mapped[str] = mapped_column(ForeignKey("measure.measure_id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    value: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    source_row: Mapped[int] = mapped_column(Integer)
    # SQLite: the rows live in the key's B-tree, not in a rowid table plus a key index (0003).
    # No index by team (0004): nothing reads this table by team, and it doubled every write.
    __table_args__ = ({"sqlite_with_rowid": False},)


class PdsaCycle(Base):
    __tablename__ = "pdsa_cycle"
    submission_id: Mapped[str] = mapped_column(ForeignKey("submission.submission_id"), primary_key=True)
    source_row: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    period: Mapped[str] = mapped_column(String(7))
    change_idea: Mapped[str] = mapped_column(Text)
    component: Mapped[str] = mapped_column(String(64))
    cycle: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    prediction: Mapped[str | None] = mapped_column(Text)
    what_happened: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(16))
    linked_measure: Mapped[str | None] = mapped_column(String(32))


class LearningNote(Base):
    __tablename__ = "learning_note"
    submission_id: Mapped[str] = mapped_column(ForeignKey("submission.submission_id"), primary_key=True)
    source_row: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    period: Mapped[str] = mapped_column(String(7))
    went_well: Mapped[str | None] = mapped_column(Text)
    challenges: Mapped[str | None] = mapped_column(Text)
    help_wanted: Mapped[str | None] = mapped_column(Text)


class PeopleChange(Base):
    """A change to the team's participants reported in a return's optional 'people changes' part:
    applied on top of the data manager's people file while its submission is current
    (``transforms.participation.changes``)."""

    __tablename__ = "people_change"
    submission_id: Mapped[str] = mapped_column(ForeignKey("submission.submission_id"), primary_key=True)
    source_row: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    period: Mapped[str] = mapped_column(String(7))
    change: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(160))
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str | None] = mapped_column(String(32))
    steering_committee: Mapped[bool | None] = mapped_column(Boolean)
    effective_on: Mapped[dt.date] = mapped_column(Date)


class ValidationIssue(Base):
    """The audit log in the warehouse: one row per finding or file outcome, hash-chained in ``seq`` order.

    The JSONL files under ``var/audit`` carry the same entries and hashes, written after each commit.
    """

    __tablename__ = "validation_issue"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # global chain order
    run_id: Mapped[str] = mapped_column(String(64), index=True)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    file: Mapped[str] = mapped_column(String(255))
    team_id: Mapped[str | None] = mapped_column(String(32))
    period: Mapped[str | None] = mapped_column(String(7), index=True)
    part: Mapped[str | None] = mapped_column(String(16))
    row: Mapped[int | None] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(64))
    check: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(8))
    value: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    logged_at: Mapped[str] = mapped_column(String(40))  # ISO 8601 text: hashed exactly as stored
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


# --- decisions recorded by people ---


class RebaseRecord(Base):
    """A re-baselining decision (issue 16): recalculate team x measure's limits from ``from_period``.

    Never updated in place: a withdrawal is a later row (``action`` "withdraw") naming the record it
    undoes in ``withdraws``. Each row is also an entry of the hash-chained audit log (``audit_seq``).
    """

    __tablename__ = "rebase_record"
    record_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    action: Mapped[str] = mapped_column(String(16))  # record | withdraw
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    measure_id: Mapped[str] = mapped_column(String(32))
    from_period: Mapped[str] = mapped_column(String(7))
    reason: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    withdraws: Mapped[int | None] = mapped_column(Integer)
    audit_seq: Mapped[int] = mapped_column(Integer)


# --- derived tables, rebuilt deterministically from the current values ---


class SeriesPoint(Base):
    __tablename__ = "series_point"
    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    measure_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    cl: Mapped[float | None] = mapped_column(Float)
    lcl: Mapped[float | None] = mapped_column(Float)
    ucl: Mapped[float | None] = mapped_column(Float)
    sigma_signal: Mapped[bool] = mapped_column(Boolean, default=False)
    runs_signal: Mapped[bool] = mapped_column(Boolean, default=False)
    point_type: Mapped[str | None] = mapped_column(String(32))
    # The point is part of a shift / a trend (IHI run-chart rules): drawn as a band on the chart.
    shift_point: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    trend_point: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Issue 16: the rule that flagged the point (``transforms.qi.rulesets.RULES``). Its phase is
    # not stored per point (a column on every row cost the derive step ~5 %): ``series_phase``.
    signal_rule: Mapped[str | None] = mapped_column(String(16))


class SeriesPhase(Base):
    """Where a series' later phases start (issue 16): the recalculations the statistics applied,
    "recorded" (``rebase_record``) or "auto" (``rebase = "auto"``). Few rows: most series have one
    phase. ``transforms.aggregate.with_phases`` numbers a series' points from these."""

    __tablename__ = "series_phase"
    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    measure_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    from_period: Mapped[str] = mapped_column(String(7), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))


class SeriesSummary(Base):
    __tablename__ = "series_summary"
    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    measure_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    n_points: Mapped[int] = mapped_column(Integer)
    latest_period: Mapped[str | None] = mapped_column(String(7))
    latest_value: Mapped[float | None] = mapped_column(Float)
    variation: Mapped[str | None] = mapped_column(String(32))
    assurance: Mapped[str | None] = mapped_column(String(32))
    runs_signal: Mapped[bool] = mapped_column(Boolean, default=False)
    # Issue 16: the rule behind the variation, too few points for limits in the latest phase, the
    # rule set that judged the series and the target it was judged against (the team's own, if any).
    variation_rule: Mapped[str | None] = mapped_column(String(16))
    too_few_points: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    rules: Mapped[str | None] = mapped_column(String(32))
    target: Mapped[float | None] = mapped_column(Float)
    # Under ``rebase = "suggest"``: the month a sustained shift after an adopted change began.
    suggested_from: Mapped[str | None] = mapped_column(String(7))


class NetworkPeriod(Base):
    """Submission compliance and network medians per period."""

    __tablename__ = "network_period"
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    teams_expected: Mapped[int] = mapped_column(Integer)
    on_time: Mapped[int] = mapped_column(Integer)
    late: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    missing: Mapped[int] = mapped_column(Integer)
    median_progress: Mapped[float | None] = mapped_column(Float)


# --- what was produced and sent ---


class Report(Base):
    __tablename__ = "report"
    report_id: Mapped[str] = mapped_column(String(96), primary_key=True)  # PERIOD:KIND:TEAM
    period: Mapped[str] = mapped_column(String(7), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # team | network | validation
    team_id: Mapped[str | None] = mapped_column(String(32))
    pdf_path: Mapped[str] = mapped_column(String(512))
    html_path: Mapped[str | None] = mapped_column(String(512))
    sha256: Mapped[str] = mapped_column(String(64))
    content_key: Mapped[str] = mapped_column(String(64))  # hash of the inputs: unchanged inputs, no re-render
    pages: Mapped[int | None] = mapped_column(Integer)
    rendered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    run_id: Mapped[str] = mapped_column(String(64))


class Delivery(Base):
    __tablename__ = "delivery"
    delivery_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    report_ids: Mapped[str] = mapped_column(Text)
    reports_hash: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(16))  # sent | failed | dry_run
    message_id: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(64))


class RunLock(Base):
    """One row while a run holds a period; a second run for the same period waits or stops."""

    __tablename__ = "run_lock"
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64))
    holder: Mapped[str] = mapped_column(String(255))  # host:pid
    acquired_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


CURRENT_VALUE_VIEW = "current_measure_value"
current_value_view = table(
    CURRENT_VALUE_VIEW,
    *(
        column(name)
        for name in (
            "team_id",
            "measure_id",
            "period",
            "numerator",
            "denominator",
            "value",
            "comment",
            "submission_id",
        )
    ),
)
CURRENT_VALUE_SQL = """
SELECT team_id, measure_id, period, numerator, denominator, value, comment, submission_id
FROM (
    SELECT mv.team_id, mv.measure_id, mv.period, mv.numerator, mv.denominator, mv.value, mv.comment,
           mv.submission_id,
           ROW_NUMBER() OVER (PARTITION BY mv.team_id, mv.measure_id, mv.period ORDER BY s.load_seq DESC) AS rn
    FROM measure_value mv
    JOIN submission s ON s.submission_id = mv.submission_id
    WHERE s.status IN ('accepted', 'accepted_with_warnings') AND s.superseded_by IS NULL
) ranked
WHERE rn = 1
"""


# --- participation (issue 15): the network's people, meetings, enrolment, scores and attendance ---
# Every file is an import, versioned per (kind, subject); rows are never overwritten, the current
# rows are those of each subject's latest version. Rows keep the file line they came from.


class ParticipationImport(Base):
    """One imported participation file (people.csv, meetings.csv, a readiness export ...), by content."""

    __tablename__ = "participation_import"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(
        String(16)
    )  # people | meetings | enrolment | coach_scores | aliases | readiness
    subject: Mapped[str] = mapped_column(
        String(255)
    )  # what versions replace: the kind, or a readiness file's name
    version: Mapped[int | None] = mapped_column(Integer)  # null: rejected (the version before stays current)
    status: Mapped[str] = mapped_column(String(16))  # imported | rejected
    file: Mapped[str] = mapped_column(String(255))
    archive_path: Mapped[str] = mapped_column(String(512))
    run_id: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    row_count: Mapped[int] = mapped_column(Integer)
    __table_args__ = (UniqueConstraint("kind", "subject", "version", name="uq_participation_import_version"),)


class Person(Base):
    __tablename__ = "person"
    import_sha256: Mapped[str] = mapped_column(ForeignKey("participation_import.sha256"), primary_key=True)
    source_row: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[str] = mapped_column(String(32))
    team_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(160))
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(32))
    steering_committee: Mapped[bool | None] = mapped_column(Boolean)
    joined_on: Mapped[dt.date] = mapped_column(Date)
    left_on: Mapped[dt.date | None] = mapped_column(Date)


class Meeting(Base):
    __tablename__ = "meeting"
    import_sha256: Mapped[str] = mapped_column(ForeignKey("participation_import.sha256"), primary_key=True)
    source_row: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[str | None] = mapped_column(String(32))
    held_on: Mapped[dt.date] = mapped_column(Date)
    starts_at: Mapped[str | None] = mapped_column(String(5))
    title: Mapped[str | None] = mapped_column(String(255))


class Enrolment(Base):
    __tablename__ = "enrolment"
    import_sha256: Mapped[str] = mapped_column(ForeignKey("participation_import.sha256"), primary_key=True)
    source_row: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    letter_received_on: Mapped[dt.date] = mapped_column(Date)
    letter_file: Mapped[str | None] = mapped_column(String(255))
    letter_sha256: Mapped[str | None] = mapped_column(String(64))  # the letter, archived like every file


class CoachScore(Base):
    __tablename__ = "coach_score"
    import_sha256: Mapped[str] = mapped_column(ForeignKey("participation_import.sha256"), primary_key=True)
    source_row: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))
    score: Mapped[float] = mapped_column(Float)
    justification: Mapped[str] = mapped_column(Text)
    scored_by: Mapped[str | None] = mapped_column(String(120))


class PersonAlias(Base):
    __tablename__ = "person_alias"
    import_sha256: Mapped[str] = mapped_column(ForeignKey("participation_import.sha256"), primary_key=True)
    source_row: Mapped[int] = mapped_column(Integer, primary_key=True)
    alias: Mapped[str] = mapped_column(String(160))
    person_id: Mapped[str] = mapped_column(String(32))


class ReadinessAnswer(Base):
    __tablename__ = "readiness_answer"
    import_sha256: Mapped[str] = mapped_column(ForeignKey("participation_import.sha256"), primary_key=True)
    source_row: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    domain: Mapped[str] = mapped_column(String(32))
    team_id: Mapped[str] = mapped_column(String(32))
    occasion: Mapped[str] = mapped_column(String(16))
    respondent: Mapped[str | None] = mapped_column(String(160))
    answered_on: Mapped[dt.date | None] = mapped_column(Date)
    score: Mapped[int | None] = mapped_column(Integer)


class AttendanceImport(Base):
    """One attendance file as assigned to a meeting ('' while unassigned); the same bytes assigned
    again are nothing new, a corrected file for the same meeting is its next version."""

    __tablename__ = "attendance_import"
    # The current version of each meeting's attendance is read by meeting: without this index SQLite
    # scanned every import once per import (~50 s for 17,000 files at 1,000 teams; migration 0008).
    __table_args__ = (
        Index("ix_attendance_import_meeting_status_version", "meeting_id", "status", "version"),
    )
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # '' : unassigned
    version: Mapped[int | None] = mapped_column(Integer)  # per meeting; null while unassigned or rejected
    status: Mapped[str] = mapped_column(String(16))  # imported | rejected | unassigned
    file: Mapped[str] = mapped_column(String(255))
    source: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(255))
    started: Mapped[dt.datetime | None] = mapped_column(DateTime)
    ended: Mapped[dt.datetime | None] = mapped_column(DateTime)
    archive_path: Mapped[str] = mapped_column(String(512))
    run_id: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    session_count: Mapped[int] = mapped_column(Integer)


class AttendanceSession(Base):
    """One time a person was in a meeting, as the file recorded it (matched to people when read)."""

    __tablename__ = "attendance_session"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, primary_key=True)  # the session's place in the file
    source_row: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(160))
    original_name: Mapped[str | None] = mapped_column(String(160))
    email: Mapped[str | None] = mapped_column(String(254))
    joined: Mapped[dt.datetime | None] = mapped_column(DateTime)
    left: Mapped[dt.datetime | None] = mapped_column(DateTime)
    seconds: Mapped[int | None] = mapped_column(Integer)
    guest: Mapped[bool] = mapped_column(Boolean)
