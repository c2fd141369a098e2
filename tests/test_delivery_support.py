"""Helpers for the delivery tests (no tests here): a real SMTP server on loopback (aiosmtpd) whose
handler records messages and can fail on purpose, and a small synthetic warehouse with fake PDFs."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import Engine, insert

from warehouse.models import Coach, NetworkPeriod, Organisation, Report, Team

FROM = "Joy in Work Network <reports@network.example.org>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


@dataclass
class Mailbox:
    """aiosmtpd handler. ``fail_first`` replies of ``fail_reply`` (at RCPT or DATA) before accepting;
    addresses in ``refuse`` always get their reply at RCPT (e.g. 550)."""

    fail_first: int = 0
    fail_reply: str = "451 4.3.0 Try again later"
    fail_at: str = "DATA"
    refuse: dict[str, str] = field(default_factory=dict)
    on_rcpt: Callable[[int], None] | None = None  # called with the running count of RCPT commands
    rcpts: int = 0
    messages: list[Received] = field(default_factory=list)
    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _fail_now(self, stage: str) -> bool:
        if stage != self.fail_at:
            return False
        with self.lock:
            self.attempts += 1
            return self.attempts <= self.fail_first

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.on_rcpt is not None:
            with self.lock:
                self.rcpts += 1
            self.on_rcpt(self.rcpts)
        if address.lower() in self.refuse:
            return self.refuse[address.lower()]
        if self._fail_now("RCPT"):
            return self.fail_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self._fail_now("DATA"):
            return self.fail_reply
        with self.lock:
            self.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 2.0.0 Message accepted for delivery"

    def by_recipient(self) -> dict[str, list[Received]]:
        out: dict[str, list[Received]] = {}
        for m in self.messages:
            for r in m.rcpt_tos:
                out.setdefault(r.lower(), []).append(m)
        return out


class SmtpServer:
    """A real SMTP server on 127.0.0.1 (aiosmtpd Controller) on a free port."""

    def __init__(self, handler: Mailbox | None = None, port: int | None = None, **smtp_kwargs):
        from aiosmtpd.controller import Controller

        self.handler = handler or Mailbox()
        self.port = port or free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **smtp_kwargs)
        self.running = False

    def start(self) -> SmtpServer:
        self.controller.start()
        self.running = True
        return self

    def stop(self) -> None:
        if self.running:
            self.controller.stop()
            self.running = False

    def settings(self, **extra: str) -> dict[str, str]:
        return {
            "host": "127.0.0.1",
            "port": str(self.port),
            "security": "none",
            "from": FROM,
            "timeout": "10",
            **extra,
        }

    def env(self, **extra: str) -> dict[str, str]:
        return {f"JOYFLOW_SMTP_{k.upper()}": v for k, v in self.settings(**extra).items()}


def attachments(msg: EmailMessage) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in msg.iter_attachments()}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- a synthetic warehouse

PERIOD = "2026-10"
SYN_COACHES = {"dana.coach@coaches.example.org": "Dana Coach", "eli.coach@coaches.example.org": "Eli Coach"}
SYN_TEAMS = [  # team_id, name, coach, first_period
    ("A1", "Alder Ward", "dana.coach@coaches.example.org", "2025-05"),
    ("A2", "Birch Unit", "eli.coach@coaches.example.org", "2025-05"),
    ("A3", "Cedar Clinic", "dana.coach@coaches.example.org", "2025-05"),
    ("A4", "Damson Team", "eli.coach@coaches.example.org", "2027-01"),  # joins later: no report, not listed
]
SYN_REPRESENTATIVES = ("rep.one@network.example.org", "Rep.Two@network.example.org")
SYN_NETWORK_NAME = "Synthetic Joy Network"


def fake_pdf(text: str) -> bytes:
    return b"%PDF-1.7\n% joyflow synthetic report: " + text.encode() + b"\n%%EOF\n"


def build_synthetic(engine: Engine, root: Path) -> dict:
    """Migrate, then insert a registry and the period's report rows with small fake PDFs; write a network
    folder (registry.csv, network.toml) for ``load_network``."""
    from warehouse.migrate import upgrade

    upgrade(engine)
    pdf_dir = root / "reports" / PERIOD
    pdf_dir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    reports = []
    for rid, kind, team in [
        (f"{PERIOD}:team:A1", "team", "A1"),
        (f"{PERIOD}:team:A2", "team", "A2"),
        (f"{PERIOD}:team:A3", "team", "A3"),
        (f"{PERIOD}:network:", "network", None),
        (f"{PERIOD}:validation:", "validation", None),
        (f"{PERIOD}:feedback:00112233aabbccdd", "feedback", "A2"),
    ]:
        data = fake_pdf(rid)
        path = pdf_dir / f"{kind}_{team or ''}.pdf"
        path.write_bytes(data)
        reports.append(
            {
                "report_id": rid,
                "period": PERIOD,
                "kind": kind,
                "team_id": team,
                "pdf_path": str(path),
                "html_path": None,
                "sha256": sha256(data),
                "content_key": "k",
                "pages": 1,
                "rendered_at": now,
                "run_id": "synthetic",
            }
        )
    with engine.begin() as conn:
        conn.execute(insert(Organisation), [{"organisation_id": "ORG1", "name": "Synthetic Trust"}])
        conn.execute(insert(Coach), [{"email": e, "name": n} for e, n in SYN_COACHES.items()])
        conn.execute(
            insert(Team),
            [
                {
                    "team_id": t,
                    "name": n,
                    "organisation_id": "ORG1",
                    "coach_email": c,
                    "cohort": "X",
                    "first_period": f,
                }
                for t, n, c, f in SYN_TEAMS
            ],
        )
        conn.execute(insert(Report), reports)
        conn.execute(
            insert(NetworkPeriod),
            [
                {
                    "period": PERIOD,
                    "teams_expected": 3,
                    "on_time": 1,
                    "late": 1,
                    "rejected": 0,
                    "missing": 1,
                    "median_progress": 2.5,
                }
            ],
        )
    network = root / "network"
    network.mkdir(parents=True, exist_ok=True)
    lines = ["team_id,team_name,organisation_id,organisation_name,coach_name,coach_email,cohort,first_period"]
    lines += [f"{t},{n},ORG1,Synthetic Trust,{SYN_COACHES[c]},{c},X,{f}" for t, n, c, f in SYN_TEAMS]
    (network / "registry.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    reps = ", ".join(f'"{r}"' for r in SYN_REPRESENTATIVES)
    (network / "network.toml").write_text(
        f'[network]\nname = "{SYN_NETWORK_NAME}"\nrepresentatives = [{reps}]\n', encoding="utf-8"
    )
    return {"network": network, "reports": {r["report_id"]: r for r in reports}}


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and localhost) and its key, for TLS tests (needs ``cryptography``)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "joyflow test SMTP")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path
