"""The shape every attendance export is read into, and the rules each row must follow.

Whatever the meeting ran on (Teams, Zoom, a paper sign-in sheet), a file becomes an
``AttendanceExport``: the meeting as the file describes it, and one row per time a person was in it
(``SESSION_COLUMNS``). A rule is a Polars expression that is True where a row is fine, with its
severity and the sentence the data manager reads, like the return's rule table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from schemas.issues import Issue, short_value
from schemas.rules import Rule

SOURCES = ("teams", "teams-2020", "zoom", "sign-in")

SESSION_COLUMNS: dict[str, pl.DataType] = {
    "_row": pl.Int64(),  # the file's line (a sheet's row) as a spreadsheet shows it
    "name": pl.String(),  # as shown in the meeting, suffixes like '(Guest)' removed
    "original_name": pl.String(),  # Zoom's '(Original Name)', when the device was renamed
    "email": pl.String(),
    "joined": pl.Datetime("us"),
    "left": pl.Datetime("us"),
    "seconds": pl.Int64(),  # time present, as the tool counted it
    "role": pl.String(),
    "guest": pl.Boolean(),
}


def empty_sessions() -> pl.DataFrame:
    return pl.DataFrame(schema=SESSION_COLUMNS)


@dataclass
class AttendanceExport:
    """One attendance file as read: what it says of the meeting, its sessions, and any findings."""

    file: str
    sha256: str | None
    source: str | None = None
    title: str | None = None
    started: dt.datetime | None = None
    ended: dt.datetime | None = None
    sessions: pl.DataFrame = field(default_factory=empty_sessions)
    issues: list[Issue] = field(default_factory=list)

    def add(
        self,
        check: str,
        severity: str,
        message: str,
        part: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
    ) -> AttendanceExport:
        self.issues.append(
            Issue(self.file, part, row, column, check, severity, short_value(value), message, self.sha256)
        )
        return self

    @property
    def rejected(self) -> bool:
        return any(i.severity in ("fatal", "error") for i in self.issues)


c = pl.col

SESSION_RULES: tuple[Rule, ...] = (
    Rule(
        "attendance",
        "attendee_name_required",
        "name",
        "warning",
        c("name").is_not_null() & (c("name").str.strip_chars() != ""),
        "A row has no name: it is left out of the attendance.",
    ),
    Rule(
        "attendance",
        "attendee_name_not_formula",
        "name",
        "warning",
        c("name").is_null() | ~c("name").str.contains(r"^\s*[=+\-@]"),
        "The name '{value}' starts like a spreadsheet formula. joyflow keeps it as plain text (it never "
        "runs), and it matches no participant: if it is one of your people, confirm it as their alias.",
    ),
    Rule(
        "attendance",
        "left_after_joined",
        "left",
        "error",
        c("left").is_null() | c("joined").is_null() | (c("left") >= c("joined")),
        "This row leaves ({value}) before it joins ({joined}). Download the report again and send it unchanged.",
    ),
    Rule(
        "attendance",
        "duration_not_negative",
        "seconds",
        "error",
        c("seconds").is_null() | (c("seconds") >= 0),
        "The time present in this row is negative ({value} s). Download the report again and send it unchanged.",
    ),
)

SESSION_SCHEMA = pa.DataFrameSchema(
    {
        "_row": pa.Column(pl.Int64, nullable=False),
        "name": pa.Column(pl.String, nullable=True),
        "original_name": pa.Column(pl.String, nullable=True),
        "email": pa.Column(pl.String, nullable=True),
        "joined": pa.Column(pl.Datetime("us"), nullable=True),
        "left": pa.Column(pl.Datetime("us"), nullable=True),
        "seconds": pa.Column(pl.Int64, nullable=True),
        "role": pa.Column(pl.String, nullable=True),
        "guest": pa.Column(pl.Boolean, nullable=False),
    },
    checks=[
        pa.Check(lambda data, _ok=rule.ok: data.lazyframe.select(_ok.fill_null(True)), name=rule.name)
        for rule in SESSION_RULES
    ],
    strict=True,
    name="attendance sessions",
)
_RULES_BY_NAME = {r.name: r for r in SESSION_RULES}


def check_sessions(export: AttendanceExport, part: str = "attendance") -> AttendanceExport:
    """Validate the sessions against ``SESSION_SCHEMA``; each failing row becomes an issue naming
    the file, the row as the file shows it, the column and the rule."""
    try:
        SESSION_SCHEMA.validate(export.sessions, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases.filter(pl.col("index").is_not_null())
        for index, check in cases.select("index", "check").iter_rows():
            rule = _RULES_BY_NAME.get(check)
            if rule is None:  # a column of the wrong type: a reader bug, not the file's fault
                raise
            row = export.sessions.row(index, named=True)
            value = row.get(rule.column)
            export.add(
                rule.name,
                rule.severity,
                rule.message.format(
                    value="" if value is None else value, **{k: v for k, v in row.items() if k != "value"}
                ),
                part=part,
                row=row["_row"],
                column=rule.column,
                value=value,
            )
    return export
