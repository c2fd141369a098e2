"""Report delivery: who receives which PDFs for a period, one email per recipient, each report set sent once.

- ``plan_deliveries`` decides the envelopes from the warehouse: each coach gets one message with the
  reports of *their own* teams only; each of the network's representatives gets the network and
  validation reports.
- ``deliver`` sends them (or, in a dry run, writes ``.eml`` files to the outbox). A report set is
  identified by ``reports_hash`` (the SHA-256 of the report IDs and the PDFs' SHA-256): if a ``sent``
  row for the same period, recipient and hash exists, the envelope is skipped unless ``resend``. A
  re-rendered report has a new hash, so the coach receives it again, marked "updated".
- Every attempt is a ``Delivery`` row (``sent``, ``failed`` with the error, ``dry_run``), written right
  after the attempt, so a crash never causes what was sent to be sent again.
- Transient failures (connection refused, 4xx) are retried with backoff; permanent ones (5xx) are not;
  configuration problems (no STARTTLS, login refused …) stop the delivery with a clear message.

``deliver`` is the one delivery path: ``joyflow deliver`` runs it sending in turn (``in_turn``), the
``deliver-reports`` flow (``flows/deliver.py``) with a sender that makes one Prefect task per message.
The delivery log's reads and writes are in ``warehouse.delivery_log``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path

import jinja2
import polars as pl
from sqlalchemy import Engine

from joyflow.errors import JoyflowError
from joyflow.settings import Settings
from reports.mail import (
    DeliveryConfigError,
    Mailer,
    PermanentSendError,
    SendError,
    SmtpConfig,
    TransientSendError,
    clean_header_text,
)
from schemas.participation import ParticipationSettings
from schemas.periods import check_period, month_end, month_label
from templates import TEMPLATES_DIR
from transforms.aggregate import compliance_grid
from transforms.participation.summary import team_figures
from warehouse import delivery_log, queries
from warehouse import lock as run_lock
from warehouse.delivery_log import DRY_RUN, FAILED, SENT, SentMessage, sent_history
from warehouse.participation import figure_inputs
from warehouse.report_log import RecordedReport, recorded_reports
from warehouse.runs import new_run_id

COACH = "coach"
NETWORK = "network"
NETWORK_REPORT_KINDS = ("network", "validation")
SKIPPED = "skipped"
STATUS_WORDS = {
    "on_time": "received on time",
    "late": "received late",
    "rejected": "rejected (a feedback sheet was produced for the team)",
    "missing": "not received",
    "not_due": "not due yet",
}

__all__ = [
    "Attachment",
    "DeliveryConfigError",
    "DeliveryFailedError",
    "Envelope",
    "DeliveryJob",
    "TeamLine",
    "compose",
    "deliver",
    "deliver_envelope",
    "deliver_period",
    "failure_entry",
    "in_turn",
    "plan_deliveries",
    "preflight",
    "summary_lines",
    "triage",
]


class DeliveryFailedError(JoyflowError):
    """Some messages could not be delivered; ``summary`` holds the whole run summary."""

    exit_code = 5

    def __init__(self, summary: dict):
        self.summary = summary
        failed = summary.get("failed", [])
        lines = [
            f"{len(failed)} of {summary['counts']['planned']} message(s) for {summary['period']} could not be "
            "delivered:"
        ]
        lines += [f"  - {f['recipient']}: {f['error']}" for f in failed[:20]]
        lines.append(
            "What was sent is recorded and will not be sent twice: fix the problem and deliver again."
        )
        super().__init__("\n".join(lines))

    def __reduce__(self):
        return (self.__class__, (self.summary,))


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Attachment:
    report_id: str
    kind: str
    team_id: str | None
    label: str
    filename: str
    pdf_path: str
    sha256: str
    pages: int | None = None


@dataclass(frozen=True)
class TeamLine:
    """One of a coach's teams as the email lists it (whether or not it has a report this month)."""

    team_id: str
    name: str
    status: str
    help_wanted: str | None = None
    report_id: str | None = None
    watch_reasons: tuple[str, ...] = ()  # issue 15: why the team is on the network's watch list


@dataclass(frozen=True)
class Envelope:
    period: str
    kind: str  # coach | network
    recipient: str  # the one envelope recipient (lower-cased address)
    recipient_name: str
    attachments: tuple[Attachment, ...]
    teams: tuple[TeamLine, ...] = ()
    facts: dict = field(default_factory=dict, compare=False)

    @property
    def report_map(self) -> dict[str, str]:
        return {a.report_id: a.sha256 for a in sorted(self.attachments, key=lambda a: a.report_id)}

    @property
    def reports_hash(self) -> str:
        """The identity of what this message carries: same hash, same reports, no need to send again."""
        blob = "".join(f"{rid}\t{sha}\n" for rid, sha in self.report_map.items())
        return hashlib.sha256(blob.encode()).hexdigest()

    @property
    def report_ids_text(self) -> str:
        """What the ``Delivery.report_ids`` column holds: JSON ``{report_id: pdf sha256}``, sorted."""
        return json.dumps(self.report_map, sort_keys=True)


_SLUG = re.compile(r"[^A-Za-z0-9]+")
_ADDRESS = re.compile(r"[^@\s<>,;:\"()\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


def slug(text: str, limit: int = 60) -> str:
    """ASCII letters, digits and single dashes only: safe in any file name and any mail client."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return _SLUG.sub("-", ascii_text).strip("-")[:limit].strip("-") or "report"


def _attachment(row: RecordedReport, label: str, stem: str) -> Attachment:
    return Attachment(
        report_id=row.report_id,
        kind=row.kind,
        team_id=row.team_id,
        label=label,
        filename=f"{stem}.pdf",
        pdf_path=row.pdf_path,
        sha256=row.sha256,
        pages=row.pages,
    )


def plan_deliveries(
    engine: Engine,
    period: str,
    representatives: Iterable[str] = (),
    *,
    network_name: str | None = None,
    watch: Mapping[str, Sequence[str]] | None = None,
) -> list[Envelope]:
    """Who gets what for ``period``: one envelope per coach (their own teams' reports only) and one per
    representative (network and validation reports). Envelopes may have no attachments (nothing due).
    ``watch``: team id → the reasons it is on the watch list (``ParticipationData.watch``); a coach's
    email gives one line per team of theirs on it."""
    watch = watch or {}
    rows = recorded_reports(engine, period)
    facts = queries.network_period(engine, period) or {}
    team_reports = {r.team_id: r for r in rows if r.kind == "team" and r.team_id}
    teams = queries.teams(engine)
    envelopes: list[Envelope] = []
    if teams.height:
        grid = compliance_grid(
            teams, queries.current_submissions(engine), queries.received_files(engine), [period]
        )
        status = dict(
            zip(grid.get_column("team_id").to_list(), grid.get_column("status").to_list(), strict=True)
        )
        asked = (
            queries.current_learning(engine, period)
            .with_columns(pl.col("help_wanted").str.strip_chars())
            .filter(pl.col("help_wanted").fill_null("") != "")
            .group_by("team_id", maintain_order=True)
            .agg(pl.col("help_wanted"))
        )
        help_wanted = {r["team_id"]: " / ".join(r["help_wanted"]) for r in asked.iter_rows(named=True)}
        coaches: dict[str, dict] = {}
        for t in teams.sort("team_id").iter_rows(named=True):
            email = t["coach_email"].strip().lower()
            c = coaches.setdefault(email, {"name": t["coach_name"], "teams": [], "attachments": []})
            report = team_reports.get(t["team_id"])
            st = status.get(t["team_id"], "missing")
            if report is None and st == "not_due":
                continue
            c["teams"].append(
                TeamLine(
                    t["team_id"],
                    t["team_name"],
                    st,
                    help_wanted.get(t["team_id"]),
                    report.report_id if report else None,
                    tuple(watch.get(t["team_id"], ())),
                )
            )
            if report is not None:
                c["attachments"].append(
                    _attachment(
                        report,
                        f"{t['team_name']} ({t['team_id']})",
                        f"{slug(t['team_id'], 32)}_{slug(t['team_name'])}_{period}",
                    )
                )
        for email, c in sorted(coaches.items()):
            envelopes.append(
                Envelope(period, COACH, email, c["name"], tuple(c["attachments"]), tuple(c["teams"]))
            )
    net_attachments = tuple(
        _attachment(r, f"{r.kind.capitalize()} report", f"{r.kind}-report_{period}")
        for kind in NETWORK_REPORT_KINDS
        for r in rows
        if r.kind == kind
    )
    seen: set[str] = set()
    for rep in representatives:
        email = rep.strip().lower()
        if email and email not in seen:
            seen.add(email)
            envelopes.append(Envelope(period, NETWORK, email, "", net_attachments, (), facts))
    return envelopes


# --------------------------------------------------------------------------- what was sent before


@dataclass(frozen=True)
class Decision:
    action: str  # send | skip
    reason: str = ""
    updated: tuple[str, ...] = ()  # report IDs new or changed since the recipient's last message
    previous_sent_at: dt.datetime | None = None
    resent: bool = False
    sequence: int = 0  # how many times this exact set was sent before (numbers the Message-ID)


def _report_map(text: str) -> dict[str, str]:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return dict.fromkeys(t.strip() for t in (text or "").split(",") if t.strip())
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return dict.fromkeys(str(v) for v in value) if isinstance(value, list) else {}


def decide(envelope: Envelope, history: list[SentMessage], resend: bool = False) -> Decision:
    """Send or skip, and whether the message updates one sent before."""
    if not envelope.attachments:
        what = "none of their teams has a report" if envelope.kind == COACH else "no network report"
        return Decision(SKIPPED, f"nothing to send: {what} for {envelope.period}")
    mine = [h for h in history if h.recipient == envelope.recipient]
    same = [h for h in mine if h.reports_hash == envelope.reports_hash]
    if same and not resend:
        last = same[-1]
        return Decision(
            SKIPPED,
            f"already sent on {_when(last.attempted_at)} (message {last.message_id})",
            previous_sent_at=last.attempted_at,
            sequence=len(same),
        )
    current = envelope.report_map
    overlapping = [h for h in mine if set(_report_map(h.report_ids)) & set(current)]
    if same:
        return Decision(
            "send",
            "sent again on request",
            previous_sent_at=same[-1].attempted_at,
            resent=True,
            sequence=len(same),
        )
    if overlapping:
        before = _report_map(overlapping[-1].report_ids)
        changed = tuple(rid for rid, sha in current.items() if before.get(rid) != sha)
        return Decision(
            "send", "updated reports", updated=changed, previous_sent_at=overlapping[-1].attempted_at
        )
    return Decision("send")


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return "an earlier run"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def triage(
    engine: Engine, envelopes: list[Envelope], resend: bool = False, recipients: Iterable[str] | None = None
) -> tuple[list[tuple[Envelope, Decision]], list[dict]]:
    """Split the plan into envelopes to send (with their decision) and skipped ones (with the reason)."""
    wanted = {r.strip().lower() for r in recipients} if recipients else None
    if wanted:
        unknown = wanted - {e.recipient for e in envelopes}
        if unknown:
            raise JoyflowError(
                f"Not a recipient for {envelopes[0].period if envelopes else 'this period'}: "
                f"{', '.join(sorted(unknown))} (neither a coach in the registry nor a "
                "representative in network.toml)."
            )
    history = sent_history(engine, envelopes[0].period) if envelopes else []
    todo, skipped = [], []
    for env in envelopes:
        if wanted is not None and env.recipient not in wanted:
            continue
        d = decide(env, history, resend)
        if d.action == SKIPPED:
            skipped.append(
                {
                    "recipient": env.recipient,
                    "kind": env.kind,
                    "reason": d.reason,
                    "reports": list(env.report_map),
                }
            )
        else:
            todo.append((env, d))
    return todo, skipped


# --------------------------------------------------------------------------- the message


@lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    """Autoescape for the HTML parts only (``*.html.j2``); the plain-text parts are not HTML."""
    from reports import filters

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2", "html"), default_for_string=True, default=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    filters.install(env)
    return env


def message_id(envelope: Envelope, sequence: int, domain: str) -> str:
    """Stable for the same recipient, period and report set (and resend number): a retry after a
    lost reply carries the same Message-ID, so mail clients show one message, not two."""
    digest = hashlib.sha256(
        f"{envelope.period}\n{envelope.recipient}\n{envelope.reports_hash}\n{sequence}".encode()
    ).hexdigest()[:20]
    return f"<joyflow.{envelope.period}.{digest}@{domain}>"


def _read_pdf(att: Attachment) -> bytes:
    try:
        data = Path(att.pdf_path).read_bytes()
    except OSError as exc:
        raise PermanentSendError(
            f"report {att.report_id} cannot be read at {att.pdf_path} ({exc.strerror}); "
            "render the reports again (joyflow reports --period …)"
        ) from None
    if hashlib.sha256(data).hexdigest() != att.sha256:
        raise PermanentSendError(
            f"report {att.report_id} on disk differs from the one recorded in the "
            "warehouse (SHA-256 mismatch); render the reports again before delivering"
        )
    return data


def compose(
    envelope: Envelope,
    config: SmtpConfig,
    decision: Decision | None = None,
    *,
    network_name: str = "Joy in Work Learning Network",
    now: dt.datetime | None = None,
) -> EmailMessage:
    """The message for one envelope: text and HTML bodies from the templates, the PDFs attached."""
    decision = decision or Decision("send")
    now = now or dt.datetime.now(dt.UTC)
    if not _ADDRESS.fullmatch(envelope.recipient):
        raise PermanentSendError(
            f"{envelope.recipient!r} is not an email address (check the registry or the "
            "representatives in network.toml)"
        )
    network_name = clean_header_text(network_name) or "Joy in Work Learning Network"
    pdfs = [(a, _read_pdf(a)) for a in envelope.attachments]
    updated = set(decision.updated)
    month = month_label(envelope.period)
    context = {
        "network_name": network_name,
        "period": envelope.period,
        "month": month,
        "recipient_name": clean_header_text(envelope.recipient_name, 120),
        "updated": bool(decision.updated),
        "resent": decision.resent,
        "previous": _when(decision.previous_sent_at) if decision.previous_sent_at else None,
        "attachments": [
            {
                "label": a.label,
                "filename": a.filename,
                "pages": a.pages,
                "kind": a.kind,
                "team_id": a.team_id,
                "updated": a.report_id in updated,
            }
            for a, _ in pdfs
        ],
        "teams": [
            {
                "team_id": t.team_id,
                "name": t.name,
                "status": STATUS_WORDS.get(t.status, t.status),
                "help_wanted": t.help_wanted,
                "watch_reasons": list(t.watch_reasons),
                "attachment": next(
                    (
                        {"filename": a.filename, "pages": a.pages, "updated": a.report_id in updated}
                        for a, _ in pdfs
                        if a.report_id == t.report_id
                    ),
                    None,
                ),
            }
            for t in envelope.teams
        ],
        "facts": envelope.facts,
        "sender_name": config.sender.display_name or network_name,
    }
    prefix = "Updated: " if decision.updated else ""
    if envelope.kind == COACH:
        subject = f"{prefix}{network_name}: coaching reports for {month}"
        templates = ("email_coach.txt.j2", "email_coach.html.j2")
    else:
        subject = f"{prefix}{network_name}: network report for {month}"
        templates = ("email_network.txt.j2", "email_network.html.j2")
    env = _templates()
    text = env.get_template(templates[0]).render(**context)
    html = env.get_template(templates[1]).render(**context)

    msg = EmailMessage(policy=policy.default)
    msg["From"] = config.sender
    local, _, domain = envelope.recipient.rpartition("@")
    msg["To"] = Address(display_name=context["recipient_name"], username=local, domain=domain)
    if config.reply_to:
        msg["Reply-To"] = config.reply_to
    msg["Subject"] = clean_header_text(subject, 250)
    msg["Date"] = format_datetime(now.astimezone(dt.UTC))
    msg["Message-ID"] = message_id(envelope, decision.sequence, config.msgid_domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
    msg["X-Joyflow-Period"] = envelope.period
    msg["X-Joyflow-Reports"] = envelope.reports_hash[:16]  # the start of Delivery.reports_hash
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    for att, data in pdfs:
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=att.filename)
    return msg


# --------------------------------------------------------------------------- sending and logging


def record_attempt(
    engine: Engine,
    envelope: Envelope,
    outcome: str,
    *,
    message_id: str | None = None,
    error: str | None = None,
    run_id: str | None = None,
) -> None:
    """Log one attempt to deliver ``envelope`` (right after it: a crash never sends a set twice)."""
    delivery_log.record_attempt(
        engine,
        period=envelope.period,
        recipient=envelope.recipient,
        report_ids=envelope.report_ids_text,
        reports_hash=envelope.reports_hash,
        outcome=outcome,
        message_id=message_id,
        error=error,
        run_id=run_id,
    )


def eml_path(outbox: Path, envelope: Envelope) -> Path:
    name = f"{envelope.kind}_{slug(envelope.recipient.replace('@', '_at_'), 80)}_{envelope.reports_hash[:12]}.eml"
    return outbox / envelope.period / name


def _write_eml(path: Path, msg: EmailMessage) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(msg.as_bytes(policy=policy.SMTP))
    tmp.replace(path)


def deliver_envelope(
    engine: Engine,
    envelope: Envelope,
    config: SmtpConfig,
    *,
    decision: Decision | None = None,
    network_name: str = "Joy in Work Learning Network",
    run_id: str | None = None,
    dry_run: bool = False,
    resend: bool = False,
    outbox_dir: Path | None = None,
    mailer: Mailer | None = None,
    retry_delays: Iterable[float] | None = None,
    first_attempt: int = 1,
    max_attempts: int | None = None,
    raise_errors: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """Deliver one envelope: check it was not sent already, compose, send (retrying transient failures
    after each of ``retry_delays``), record every attempt. Returns the outcome entry for the summary.

    With ``raise_errors`` (the Prefect task) a failure is recorded and then raised, so the task runner
    can retry it; ``first_attempt``/``max_attempts`` then only label the attempts in the log.
    """
    decision = decision or decide(envelope, sent_history(engine, envelope.period), resend)
    base = {"recipient": envelope.recipient, "kind": envelope.kind, "reports": list(envelope.report_map)}
    if decision.action == SKIPPED:
        return base | {"outcome": SKIPPED, "reason": decision.reason}
    delays = list(config.retry_delays if retry_delays is None else retry_delays)
    total = max_attempts or (first_attempt + len(delays))
    try:
        msg = compose(envelope, config, decision, network_name=network_name)
        size = len(msg.as_bytes())
        if size > config.max_bytes:
            raise PermanentSendError(
                f"message of {size / 1e6:.1f} MB exceeds the limit of "
                f"{config.max_bytes / 1e6:.1f} MB (JOYFLOW_SMTP_MAX_BYTES)"
            )
    except SendError as exc:
        record_attempt(engine, envelope, FAILED, error=str(exc), run_id=run_id)
        if raise_errors:
            raise
        return base | {"outcome": FAILED, "error": str(exc), "attempts": 1, "transient": False}
    mid = msg["Message-ID"]
    if dry_run:
        path = eml_path(outbox_dir or Path("var/outbox"), envelope)
        _write_eml(path, msg)
        record_attempt(engine, envelope, DRY_RUN, message_id=mid, run_id=run_id)
        return base | {
            "outcome": DRY_RUN,
            "path": str(path),
            "message_id": mid,
            "updated": list(decision.updated),
        }
    own_mailer = mailer is None
    mailer = mailer or Mailer(config)
    attempt = first_attempt
    try:
        while True:
            try:
                mailer.send(msg, envelope.recipient)
            except SendError as exc:
                error = f"{exc} (attempt {attempt} of {total})"
                record_attempt(engine, envelope, FAILED, message_id=mid, error=error, run_id=run_id)
                if exc.transient and attempt - first_attempt < len(delays):
                    delay = delays[attempt - first_attempt]
                    sleep(delay + random.uniform(0, 0.2 * delay))
                    attempt += 1
                    continue
                if raise_errors:
                    raise
                return base | {
                    "outcome": FAILED,
                    "error": str(exc),
                    "attempts": attempt - first_attempt + 1,
                    "transient": exc.transient,
                }
            except DeliveryConfigError as exc:
                record_attempt(engine, envelope, FAILED, message_id=mid, error=str(exc), run_id=run_id)
                raise
            record_attempt(engine, envelope, SENT, message_id=mid, run_id=run_id)
            return base | {
                "outcome": SENT,
                "message_id": mid,
                "attempts": attempt - first_attempt + 1,
                "updated": list(decision.updated),
                "resent": decision.resent,
            }
    finally:
        if own_mailer:
            mailer.close()


def preflight(config: SmtpConfig, mailer: Mailer | None = None) -> None:
    """Connect (TLS, login) once before sending anything, so a wrong setting fails once, clearly.
    A transient failure here is left to the per-message retries."""
    m = mailer or Mailer(config)
    try:
        m.connect()
    except TransientSendError:
        pass
    finally:
        if mailer is None:
            m.close()


def summarise(
    period: str,
    run_id: str,
    results: list[dict],
    skipped: list[dict],
    *,
    dry_run: bool,
    resend: bool,
    planned: int,
    seconds: float,
    outbox: Path | None = None,
) -> dict:
    by = {k: [r for r in results if r["outcome"] == k] for k in (SENT, DRY_RUN, FAILED)}
    skipped = skipped + [r for r in results if r["outcome"] == SKIPPED]
    return {
        "period": period,
        "run_id": run_id,
        "dry_run": dry_run,
        "resend": resend,
        "counts": {
            "planned": planned,
            SENT: len(by[SENT]),
            DRY_RUN: len(by[DRY_RUN]),
            SKIPPED: len(skipped),
            FAILED: len(by[FAILED]),
        },
        SENT: by[SENT],
        DRY_RUN: by[DRY_RUN],
        SKIPPED: skipped,
        FAILED: by[FAILED],
        "outbox": str(outbox / period) if dry_run and outbox else None,
        "seconds": round(seconds, 3),
    }


@dataclass(frozen=True)
class DeliveryJob:
    """What every message of one delivery run shares."""

    engine: Engine
    config: SmtpConfig
    network_name: str
    run_id: str
    dry_run: bool
    resend: bool
    outbox_dir: Path
    retry_delays: tuple[float, ...]
    sleep: Callable[[float], None] = time.sleep


# How the messages of a delivery are sent: one after another here (``in_turn``), or one Prefect
# task each (``flows.deliver``). Given the job, the envelopes to send with their decisions, and the
# connection opened by the preflight check; returns one outcome entry per envelope.
Sender = Callable[[DeliveryJob, list[tuple[Envelope, Decision]], Mailer], list[dict]]


def in_turn(job: DeliveryJob, todo: list[tuple[Envelope, Decision]], mailer: Mailer) -> list[dict]:
    """Send the messages one after another over one connection, retrying transient failures here."""
    return [
        deliver_envelope(
            job.engine,
            env,
            job.config,
            decision=decision,
            network_name=job.network_name,
            run_id=job.run_id,
            dry_run=job.dry_run,
            resend=job.resend,
            outbox_dir=job.outbox_dir,
            mailer=mailer,
            retry_delays=job.retry_delays,
            sleep=job.sleep,
        )
        for env, decision in todo
    ]


def failure_entry(job: DeliveryJob, envelope: Envelope, error: BaseException) -> dict:
    """The outcome entry of a message whose sending raised ``error`` (its attempts are in the log)."""
    return {
        "recipient": envelope.recipient,
        "kind": envelope.kind,
        "reports": list(envelope.report_map),
        "outcome": FAILED,
        "error": str(error),
        "attempts": delivery_log.failed_attempts(job.engine, job.run_id, envelope.recipient),
        "transient": isinstance(error, SendError) and error.transient,
    }


def deliver(
    engine: Engine,
    period: str,
    representatives: Iterable[str] = (),
    *,
    network_name: str = "Joy in Work Learning Network",
    smtp_settings: dict | SmtpConfig | None = None,
    dry_run: bool = False,
    resend: bool = False,
    outbox_dir: Path | None = None,
    recipients: Iterable[str] | None = None,
    run_id: str | None = None,
    lock: bool = True,
    wait_for_lock: float = 0.0,
    retry_delays: Iterable[float] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    send: Sender = in_turn,
    watch: Mapping[str, Sequence[str]] | None = None,
) -> dict:
    """Deliver the period's reports: the one delivery path, whether its messages are sent in turn
    (``joyflow deliver``) or as Prefect tasks (``send``, from ``flows.deliver``).

    Holds the period's run lock (so reports are not re-rendered mid-delivery and two deliveries never
    race), unless the caller already holds it (``lock=False``). Returns the run summary.
    Raises ``DeliveryConfigError`` when the SMTP settings make every message fail.
    """
    started = time.perf_counter()
    check_period(period)
    config = (
        smtp_settings
        if isinstance(smtp_settings, SmtpConfig)
        else SmtpConfig.from_settings(smtp_settings, dry_run=dry_run)
    )
    job = DeliveryJob(
        engine=engine,
        config=config,
        network_name=network_name,
        run_id=run_id or new_run_id(period, "deliver"),
        dry_run=dry_run,
        resend=resend,
        outbox_dir=Settings.from_env().outbox_dir if outbox_dir is None else outbox_dir,
        retry_delays=tuple(config.retry_delays if retry_delays is None else retry_delays),
        sleep=sleep,
    )
    if lock:
        run_lock.acquire(engine, period, job.run_id, wait_seconds=wait_for_lock)
    try:
        envelopes = plan_deliveries(engine, period, representatives, network_name=network_name, watch=watch)
        todo, skipped = triage(engine, envelopes, resend, recipients)
        with Mailer(config) as mailer:
            if todo and not dry_run:
                preflight(config, mailer)
            results = send(job, todo, mailer)
    finally:
        if lock:
            run_lock.release(engine, period, job.run_id)
    return summarise(
        period,
        job.run_id,
        results,
        skipped,
        dry_run=dry_run,
        resend=resend,
        planned=len(todo) + len(skipped),
        seconds=time.perf_counter() - started,
        outbox=job.outbox_dir,
    )


# --------------------------------------------------------------------------- for a network folder


def deliver_period(
    period: str,
    network_dir: str | Path,
    warehouse_url: str | None = None,
    dry_run: bool = False,
    resend: bool = False,
    recipients: list[str] | None = None,
    wait_for_lock: float = 0.0,
    settings: Settings | None = None,
    retry_delays: list[float] | None = None,
    send: Sender = in_turn,
) -> dict:
    """The delivery for a network folder: representatives and the network name come from
    ``network.toml``. ``joyflow deliver`` runs it with plain calls (no Prefect import, no server);
    the ``deliver-reports`` flow with one task per message (``send``)."""
    from schemas.config import load_network
    from warehouse.engine import make_engine

    settings = settings or Settings.from_env()
    cfg = load_network(Path(network_dir)).config
    engine = make_engine(warehouse_url or settings.warehouse_url)
    return deliver(
        engine,
        period,
        cfg.representatives,
        network_name=cfg.name,
        smtp_settings=settings.smtp,
        dry_run=dry_run,
        resend=resend,
        outbox_dir=settings.outbox_dir,
        recipients=recipients,
        wait_for_lock=wait_for_lock,
        retry_delays=retry_delays,
        send=send,
        watch=watch_reasons(engine, period, cfg.participation),
    )


def watch_reasons(engine: Engine, period: str, settings: ParticipationSettings) -> dict[str, tuple[str, ...]]:
    """Team → why it is on the watch list at the month's end (the same figures as
    ``joyflow participation``); empty for a network that has sent no participation data."""
    inputs, _unmatched = figure_inputs(engine, period, settings.min_minutes * 60)
    figures = team_figures(inputs, month_end(period), settings)
    return {
        team: tuple(reasons)
        for team, reasons in figures.filter("on_watch").select("team_id", "reasons").iter_rows()
    }


def summary_lines(summary: dict) -> list[str]:
    """The summary as a few lines for a terminal or a Markdown artifact."""
    c = summary["counts"]
    verb = "written to the outbox" if summary["dry_run"] else "sent"
    lines = [
        f"Delivery {summary['period']}: {c['sent'] + c['dry_run']} message(s) {verb}, {c['skipped']} skipped, "
        f"{c['failed']} failed ({summary['seconds']:.1f} s)."
    ]
    for r in summary["sent"]:
        note = " (updated)" if r.get("updated") else " (resent)" if r.get("resent") else ""
        lines.append(f"  ✓ {r['recipient']}: {len(r['reports'])} report(s){note}")
    for r in summary["dry_run"]:
        lines.append(f"  ✉ {r['recipient']}: {len(r['reports'])} report(s) → {r['path']}")
    for r in summary["skipped"]:
        lines.append(f"  – {r['recipient']}: {r['reason']}")
    for r in summary["failed"]:
        lines.append(f"  ✗ {r['recipient']}: {r['error']}")
    return lines
