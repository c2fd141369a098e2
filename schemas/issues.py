"""The one shape every validation finding takes, from unreadable files to history warnings."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Self

from schemas.contract import column_label

SEVERITIES = ("fatal", "error", "warning")
REJECTING = frozenset({"fatal", "error"})


@dataclass(frozen=True)
class Issue:
    """A finding a team can act on: where it is (file, part, row, column), what and why."""

    file: str
    part: str | None
    row: int | None  # the row number as the team sees it in Excel (header is row 1 of a table)
    column: str | None
    check: str
    severity: str
    value: str | None
    message: str
    sha256: str | None = None
    team_id: str | None = None
    period: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def where(self) -> str:
        bits = [self.part or "file"]
        if self.row is not None:
            bits.append(f"row {self.row}")
        if self.column:
            label = column_label(self.part, self.column)
            bits.append(f"column {self.column}" if label == self.column else f"column '{label}'")
        return ", ".join(bits)


def rejects(issues: list[Issue]) -> bool:
    return any(i.severity in REJECTING for i in issues)


def short_value(value: object, limit: int = 120) -> str | None:
    """Offending values are kept short: enough to find the cell, never a whole blob."""
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class CollectsIssues:
    """Findings about one received file, each named by the file: mixed into the dataclasses a reader
    hands on (``RawReturn``, ``AttendanceExport``), which declare ``file``, ``sha256`` and ``issues``."""

    file: str
    sha256: str | None
    issues: list[Issue]

    def add(
        self,
        check: str,
        severity: str,
        message: str,
        part: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
    ) -> Self:
        self.issues.append(
            Issue(self.file, part, row, column, check, severity, short_value(value), message, self.sha256)
        )
        return self

    @property
    def rejected(self) -> bool:
        return rejects(self.issues)
