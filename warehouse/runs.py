"""The log of pipeline runs (``pipeline_run``) and the run ids every run, delivery and lock carries."""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, insert, update

from schemas.issues import REJECTING
from schemas.returns import ACCEPTED_STATUSES, ACCEPTED_WITH_WARNINGS, DUPLICATE, REJECTED
from warehouse.load import LoadOutcome
from warehouse.models import PipelineRun

__all__ = [
    "OutcomeCounts",
    "file_outcome",
    "finish_run",
    "issues_by_check",
    "new_run_id",
    "participation_outcome",
    "start_run",
]


def new_run_id(period: str, kind: str | None = None) -> str:
    """Unique and sortable by start time: ``[kind-]period-UTC time-random``."""
    prefix = f"{kind}-" if kind else ""
    return f"{prefix}{period}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class OutcomeCounts:
    """The files of a run by outcome, counted one way for the terminal summary and for ``pipeline_run``.

    ``accepted`` counts every loaded file (``ACCEPTED_STATUSES``); ``with_warnings`` is the part of
    them that carries warnings.
    """

    files: int = 0
    accepted: int = 0
    with_warnings: int = 0
    rejected: int = 0
    duplicates: int = 0

    @classmethod
    def of(cls, statuses: Iterable[str]) -> OutcomeCounts:
        statuses = list(statuses)
        return cls(
            files=len(statuses),
            accepted=sum(s in ACCEPTED_STATUSES for s in statuses),
            with_warnings=sum(s == ACCEPTED_WITH_WARNINGS for s in statuses),
            rejected=sum(s == REJECTED for s in statuses),
            duplicates=sum(s == DUPLICATE for s in statuses),
        )


def _findings(outcome: LoadOutcome) -> list[dict]:
    return [e for e in outcome.audit_entries if e["check"] != "file_outcome"]


def file_outcome(outcome: LoadOutcome) -> dict:
    """One file of a run as its summary lists it: outcome, team, how many errors and warnings."""
    findings = _findings(outcome)
    return {
        "file": outcome.file,
        "status": outcome.status,
        "team_id": next((e["team_id"] for e in outcome.audit_entries if e.get("team_id")), None),
        "sha256": outcome.sha256,
        "errors": sum(e["severity"] in REJECTING for e in findings),
        "warnings": sum(e["severity"] == "warning" for e in findings),
        "submission_id": outcome.submission_id,
    }


def participation_outcome(outcome, reason: str | None = None) -> dict:
    """One participation or attendance file of a run as its summary lists it (``ImportOutcome``):
    outcome, errors, warnings and, when it needs the data manager, what to do — its first error
    with where it is, or for an attendance file no meeting was found for, why not (``reason``)."""
    findings = [e for e in outcome.audit_entries if e["severity"] != "info"]
    problems = [e for e in findings if e["severity"] in REJECTING]
    first = problems[0] if problems else None
    where = ", ".join(
        bit
        for bit in (
            first and first["part"],
            first and first["row"] is not None and f"row {first['row']}",
            first and first["column"] and f"column {first['column']}",
        )
        if bit
    )
    note = f"{where}: {first['message']}" if first else (reason if outcome.status == "unassigned" else None)
    return {
        "file": outcome.file,
        "kind": outcome.kind,
        "status": outcome.status,
        "meeting_id": outcome.meeting_id,
        "errors": len(problems),
        "warnings": sum(e["severity"] == "warning" for e in findings),
        "note": note,
    }


def issues_by_check(outcomes: Iterable[LoadOutcome]) -> list[dict]:
    """How often each check failed in a run, most frequent first."""
    tally = Counter((e["check"], e["severity"]) for o in outcomes for e in _findings(o))
    return [
        {"check": c, "severity": s, "count": n}
        for (c, s), n in sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def start_run(engine: Engine, run_id: str, period: str, kind: str = "monthly") -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(PipelineRun).values(
                run_id=run_id, period=period, kind=kind, started_at=dt.datetime.now(dt.UTC), status="running"
            )
        )


def finish_run(
    engine: Engine, run_id: str, counts: OutcomeCounts, status: str = "completed", message: str | None = None
) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(PipelineRun)
            .where(PipelineRun.run_id == run_id)
            .values(
                finished_at=dt.datetime.now(dt.UTC),
                status=status,
                message=message,
                files_seen=counts.files,
                accepted=counts.accepted,
                rejected=counts.rejected,
                duplicates=counts.duplicates,
            )
        )
