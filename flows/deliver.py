"""Delivery of a month's reports by email: the plain path and the thin Prefect flow on top.

One Prefect task per recipient message, retried with backoff on transient SMTP failures only;
the rules (who gets what, once) live in ``reports.deliver``.
"""

from __future__ import annotations

import time
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner
from sqlalchemy import func, select

from joyflow.settings import Settings
from reports.deliver import (
    FAILED,
    DeliveryConfigError,
    DeliveryFailedError,
    Envelope,
    _engine,
    check_period,
    deliver_envelope,
    deliver_period,
    new_run_id,
    plan_deliveries,
    preflight,
    summarise,
    summary_lines,
    triage,
)
from reports.mail import SendError, SmtpConfig, TransientSendError
from schemas.config import load_network
from warehouse import lock
from warehouse.models import Delivery

__all__ = ["deliver_period", "deliver_reports", "send_email_task", "summary_lines"]

SEND_CONCURRENCY = 4  # parallel SMTP connections: polite to the relay, fast enough for hundreds of coaches


def _transient_only(_task, _task_run, state) -> bool:
    """Retry a message only when the failure may pass (connection refused, 4xx), never on 5xx."""
    try:
        state.result()
    except TransientSendError:
        return True
    except BaseException:
        return False
    return False


@task(
    name="send-report-email",
    cache_policy=NO_CACHE,
    retries=3,
    retry_delay_seconds=[5, 30, 120],
    retry_jitter_factor=0.2,
    retry_condition_fn=_transient_only,
    task_run_name="email {envelope.kind} {envelope.recipient}",
)
def send_email_task(
    warehouse_url: str,
    envelope: Envelope,
    config: SmtpConfig,
    network_name: str,
    run_id: str,
    dry_run: bool,
    resend: bool,
    outbox_dir: str,
    max_attempts: int,
) -> dict:
    """One recipient's message: checks it was not sent already, sends once, records the attempt.
    A failure is recorded, then raised so the task is retried (transient) or fails (permanent)."""
    from prefect.runtime import task_run

    return deliver_envelope(
        _engine(warehouse_url),
        envelope,
        config,
        network_name=network_name,
        run_id=run_id,
        dry_run=dry_run,
        resend=resend,
        outbox_dir=Path(outbox_dir),
        retry_delays=(),
        first_attempt=task_run.run_count or 1,
        max_attempts=max_attempts,
        raise_errors=True,
    )


def _attempts(engine, run_id: str, envelope: Envelope) -> int:
    with engine.connect() as conn:
        return (
            conn.execute(
                select(func.count())
                .select_from(Delivery)
                .where(
                    Delivery.run_id == run_id,
                    Delivery.recipient == envelope.recipient,
                    Delivery.outcome == FAILED,
                )
            ).scalar()
            or 0
        )


def _run_name() -> str:
    from prefect.runtime import flow_run

    from transforms.demo import previous_month

    p = flow_run.parameters
    return (
        f"deliver-reports {p.get('period') or previous_month()}"
        + (" (dry run)" if p.get("dry_run") else "")
        + (" (resend)" if p.get("resend") else "")
    )


@flow(
    name="deliver-reports",
    flow_run_name=_run_name,
    task_runner=ThreadPoolTaskRunner(max_workers=SEND_CONCURRENCY),
)
def deliver_reports(
    period: str | None = None,
    network_dir: str = "var/demo",
    warehouse_url: str | None = None,
    dry_run: bool = False,
    resend: bool = False,
    recipients: list[str] | None = None,
    wait_for_lock: float = 600.0,
    retry_delays: list[float] | None = None,
) -> dict:
    """Email each coach the reports of their own teams, and the representatives the network report
    (``period`` defaults to last month).

    Sends each report set once per recipient (``resend`` to send again); ``dry_run`` writes ``.eml``
    files to the outbox instead. Ends Failed, with the summary artifact, if any message failed.

    Args:
        period: The month, YYYY-MM (default: last month).
        network_dir: The network folder (registry.csv, network.toml with the representatives).
        warehouse_url: The warehouse (default: JOYFLOW_WAREHOUSE_URL).
        dry_run: Write each message as an .eml file to the outbox instead of sending.
        resend: Send again report sets already sent.
        recipients: Only these addresses (default: every coach and representative).
        wait_for_lock: Seconds to wait while a run holds the period.
        retry_delays: Seconds before each retry of a transient failure (default: JOYFLOW_SMTP_RETRY_DELAYS).
    """
    from transforms.demo import previous_month

    logger = get_run_logger()
    started = time.perf_counter()
    period = check_period(period or previous_month())
    settings = Settings.from_env()
    network = load_network(Path(network_dir))
    cfg = network.config
    url = warehouse_url or settings.warehouse_url
    engine = _engine(url)
    config = SmtpConfig.from_settings(settings.smtp, dry_run=dry_run)
    delays = list(config.retry_delays if retry_delays is None else retry_delays)
    sender = send_email_task.with_options(retries=len(delays), retry_delay_seconds=delays or 0)
    run_id = new_run_id(period)
    lock.acquire(engine, period, run_id, wait_seconds=wait_for_lock)
    try:
        envelopes = plan_deliveries(engine, period, cfg.representatives, network_name=cfg.name)
        todo, skipped = triage(engine, envelopes, resend, recipients)
        if todo and not dry_run:
            preflight(config)
        futures = [
            (
                env,
                sender.submit(
                    url,
                    env,
                    config,
                    cfg.name,
                    run_id,
                    dry_run,
                    resend,
                    str(settings.outbox_dir),
                    len(delays) + 1,
                ),
            )
            for env, _decision in todo
        ]
        results = []
        config_error: DeliveryConfigError | None = None
        for env, fut in futures:
            fut.wait()
            outcome = fut.state.result(raise_on_failure=False)
            if isinstance(outcome, dict):
                results.append(outcome)
                continue
            if isinstance(outcome, DeliveryConfigError):
                config_error = config_error or outcome
            results.append(
                {
                    "recipient": env.recipient,
                    "kind": env.kind,
                    "reports": list(env.report_map),
                    "outcome": FAILED,
                    "error": str(outcome),
                    "attempts": _attempts(engine, run_id, env),
                    "transient": isinstance(outcome, SendError) and outcome.transient,
                }
            )
    finally:
        lock.release(engine, period, run_id)
    if config_error is not None:
        raise config_error
    summary = summarise(
        period,
        run_id,
        results,
        skipped,
        dry_run=dry_run,
        resend=resend,
        planned=len(todo) + len(skipped),
        seconds=time.perf_counter() - started,
        outbox=settings.outbox_dir,
    )
    _artifacts(summary)
    logger.info("deliver-reports %s: %s", period, summary["counts"])
    if summary["failed"]:
        raise DeliveryFailedError(summary)
    return summary


def _artifacts(summary: dict) -> None:
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    rows = [
        {
            "recipient": r["recipient"],
            "kind": r["kind"],
            "outcome": r["outcome"],
            "reports": len(r["reports"]),
            "detail": r.get("message_id") or r.get("path") or r.get("error", ""),
        }
        for key in ("sent", "dry_run", "failed")
        for r in summary[key]
    ]
    rows += [
        {
            "recipient": r["recipient"],
            "kind": r["kind"],
            "outcome": "skipped",
            "reports": len(r["reports"]),
            "detail": r["reason"],
        }
        for r in summary["skipped"]
    ]
    create_table_artifact(
        key=f"delivery-{summary['period']}".lower(),
        table=rows,
        description=f"Report emails for {summary['period']} (run {summary['run_id']})",
    )
    create_markdown_artifact(
        key=f"delivery-summary-{summary['period']}".lower(),
        markdown="\n".join(
            ["# " + summary_lines(summary)[0], ""]
            + [f"- {line.strip()}" for line in summary_lines(summary)[1:]]
        ),
        description="Delivery summary",
    )
