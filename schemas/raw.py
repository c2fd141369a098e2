"""What a reader hands to validation: one received file as text frames per part, with any fatal findings."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from schemas.issues import CollectsIssues, Issue


@dataclass
class RawReturn(CollectsIssues):
    """What was read from one file: text frames per part, plus any fatal findings."""

    file: str
    sha256: str | None = None
    parts: dict[str, pl.DataFrame] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    # Labels of extra columns the team added: kept for the feedback sheet, never loaded.
    extra_columns: dict[str, list[str]] = field(default_factory=dict)

    def fatal(self, check: str, message: str, part: str | None = None, value: str | None = None) -> RawReturn:
        return self.add(check, "fatal", message, part=part, value=value)
