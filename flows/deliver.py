"""The ``deliver-reports`` Prefect flow: the one delivery path (``reports.deliver.deliver_period``)
with one task per recipient message, retried with backoff on transient SMTP failures only.

Who gets what, once, and the log of every attempt live in ``reports.deliver``; this module only
turns each message into a task and records the artifacts.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from reports.deliver import (
    DeliveryConfigError,
    DeliveryFailedError,
    DeliveryJob,
    Envelope,
    deliver_envelope,
    deliver_period,
    failure_entry,
    summary_lines,
)
from reports.mail import Mailer, TransientSendError
from schemas.periods import previous_month

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
def send_email_task(job: DeliveryJob, envelope: Envelope, max_attempts: int) -> dict:
    """One recipient's message: checks it was not sent already, sends once, records the attempt.
    A failure is recorded, then raised so the task is retried (transient) or fails (permanent)."""
    from prefect.runtime import task_run

    return deliver_envelope(
        job.engine,
        envelope,
        job.config,
        network_name=job.network_name,
        run_id=job.run_id,
        dry_run=job.dry_run,
        resend=job.resend,
        outbox_dir=job.outbox_dir,
        retry_delays=(),
        first_attempt=task_run.run_count or 1,
        max_attempts=max_attempts,
        raise_errors=True,
    )


def as_tasks(job: DeliveryJob, todo: list, mailer: Mailer) -> list[dict]:
    """Send each message as its own task (``SEND_CONCURRENCY`` at once); Prefect retries the transient
    failures after each of the job's retry delays."""
    mailer.close()  # the preflight's connection: each task opens its own (an SMTP session is not shared)
    delays = list(job.retry_delays)
    sender = send_email_task.with_options(retries=len(delays), retry_delay_seconds=delays or 0)
    futures = [(env, sender.submit(quote(job), env, len(delays) + 1)) for env, _decision in todo]
    results: list[dict] = []
    config_error: DeliveryConfigError | None = None
    for env, fut in futures:
        fut.wait()
        outcome = fut.state.result(raise_on_failure=False)
        if isinstance(outcome, dict):
            results.append(outcome)
            continue
        if isinstance(outcome, DeliveryConfigError):
            config_error = config_error or outcome
        results.append(failure_entry(job, env, outcome))
    if config_error is not None:
        raise config_error
    return results


def _run_name() -> str:
    from prefect.runtime import flow_run

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
    summary = deliver_period(
        period or previous_month(),
        network_dir,
        warehouse_url=warehouse_url,
        dry_run=dry_run,
        resend=resend,
        recipients=recipients,
        wait_for_lock=wait_for_lock,
        retry_delays=retry_delays,
        send=as_tasks,
    )
    _artifacts(summary)
    get_run_logger().info("deliver-reports %s: %s", summary["period"], summary["counts"])
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
