"""The delivery log (``delivery``): one row per attempt to send a report set to one recipient.

Written right after each attempt, so a crash never causes what was sent to be sent again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, func, insert, select

from warehouse.models import Delivery

SENT, FAILED, DRY_RUN = "sent", "failed", "dry_run"  # the outcomes an attempt is logged with
ERROR_MAX = 2000

__all__ = ["DRY_RUN", "FAILED", "SENT", "SentMessage", "failed_attempts", "record_attempt", "sent_history"]


@dataclass(frozen=True)
class SentMessage:
    """A report set sent to a recipient: what decides whether to send it again."""

    recipient: str
    reports_hash: str
    report_ids: str
    attempted_at: dt.datetime
    message_id: str | None


def sent_history(engine: Engine, period: str) -> list[SentMessage]:
    """Every message sent for ``period``, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Delivery.recipient,
                Delivery.reports_hash,
                Delivery.report_ids,
                Delivery.attempted_at,
                Delivery.message_id,
            )
            .where(Delivery.period == period, Delivery.outcome == SENT)
            .order_by(Delivery.attempted_at, Delivery.delivery_id)
        ).all()
    return [SentMessage(*r) for r in rows]


def record_attempt(
    engine: Engine,
    *,
    period: str,
    recipient: str,
    report_ids: str,
    reports_hash: str,
    outcome: str,
    message_id: str | None = None,
    error: str | None = None,
    run_id: str | None = None,
) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(Delivery).values(
                period=period,
                recipient=recipient,
                report_ids=report_ids,
                reports_hash=reports_hash,
                attempted_at=dt.datetime.now(dt.UTC),
                outcome=outcome,
                message_id=message_id,
                error=error[:ERROR_MAX] if error else None,
                run_id=run_id,
            )
        )


def failed_attempts(engine: Engine, run_id: str, recipient: str) -> int:
    """How many attempts of one delivery run to reach ``recipient`` failed."""
    with engine.connect() as conn:
        return (
            conn.execute(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.run_id == run_id, Delivery.recipient == recipient, Delivery.outcome == FAILED)
            ).scalar()
            or 0
        )
