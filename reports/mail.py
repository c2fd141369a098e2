"""SMTP transport for report delivery: configuration from ``JOYFLOW_SMTP_*``, one reusable connection,
and every failure sorted into *transient* (retry later), *permanent* (this message will never go) or
*configuration* (no message can go until someone fixes the settings).

Only the standard library talks to the server (``smtplib``); TLS always verifies the server's
certificate (a private CA can be given with ``JOYFLOW_SMTP_CAFILE``).
"""

from __future__ import annotations

import ipaddress
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parseaddr

from joyflow.errors import JoyflowError

SECURITY_MODES = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
DEFAULT_RETRY_DELAYS = (5.0, 30.0, 120.0)  # greylisting servers usually accept a retry after a minute or two
DEFAULT_MAX_BYTES = 20_000_000  # below the 25 MB most providers accept, base64 included


class DeliveryConfigError(JoyflowError):
    """The SMTP settings (or the server's answer to them) make every message fail: stop and say why."""


class SendError(Exception):
    """One message could not be sent; ``str()`` is a sentence for the run summary."""

    transient = False


class TransientSendError(SendError):
    """Worth retrying: connection refused or dropped, timeouts, 4xx replies."""

    transient = True


class PermanentSendError(SendError):
    """Retrying will not help this message (5xx for the recipient or the content)."""


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def sender_address(value: str) -> Address:
    """``"Name <addr@host>"`` or ``addr@host`` → Address; a bad value is a configuration error."""
    name, addr = parseaddr(value)
    if not addr or "@" not in addr or any(c in value for c in "\r\n"):
        raise DeliveryConfigError(
            f"JOYFLOW_SMTP_FROM={value!r} is not an email address "
            "(write e.g. 'Joy in Work Network <reports@example.org>')."
        )
    local, _, domain = addr.rpartition("@")
    try:
        return Address(display_name=clean_header_text(name), username=local, domain=domain)
    except (ValueError, IndexError) as exc:
        raise DeliveryConfigError(f"JOYFLOW_SMTP_FROM={value!r} is not a usable address: {exc}") from None


def clean_header_text(text: str | None, limit: int = 200) -> str:
    """One line of printable text: control characters (CR, LF, TAB …) become spaces, runs collapse."""
    if not text:
        return ""
    chars = [" " if (ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029") else c for c in str(text)]
    return " ".join("".join(chars).split())[:limit]


@dataclass(frozen=True)
class SmtpConfig:
    host: str | None
    port: int
    security: str
    sender: Address
    user: str | None = None
    password: str | None = None
    timeout: float = 30.0
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    max_bytes: int = DEFAULT_MAX_BYTES
    cafile: str | None = None
    reply_to: str | None = None

    @property
    def msgid_domain(self) -> str:
        return self.sender.domain or "joyflow.invalid"

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port} ({self.security})"

    def __repr__(self) -> str:  # never print the password (Prefect logs task parameters)
        return f"SmtpConfig({self.where}, from={self.sender.addr_spec}, user={self.user!r})"

    @classmethod
    def from_settings(cls, smtp: dict[str, str] | None, *, dry_run: bool = False) -> SmtpConfig:
        """Build from ``Settings.smtp`` (the ``JOYFLOW_SMTP_*`` variables, keys lower-cased without prefix).

        A dry run needs no server, so only what it uses is checked then.
        """
        s = {
            k.lower(): (v.strip() if isinstance(v, str) else v)
            for k, v in (smtp or {}).items()
            if v not in (None, "")
        }
        security = str(s.get("security", "starttls")).lower()
        if security not in SECURITY_MODES:
            raise DeliveryConfigError(
                f"JOYFLOW_SMTP_SECURITY={s['security']!r}: use one of none, starttls, ssl."
            )
        host = s.get("host")
        if not host and not dry_run:
            raise DeliveryConfigError(
                "No SMTP server configured: set JOYFLOW_SMTP_HOST and JOYFLOW_SMTP_FROM "
                "(see README), or use --dry-run to write the messages to the outbox."
            )
        if "from" not in s and not dry_run:
            raise DeliveryConfigError(
                "Set JOYFLOW_SMTP_FROM to the address the reports are sent from, "
                "e.g. 'Joy in Work Network <reports@example.org>'."
            )
        sender = sender_address(s.get("from", "joyflow@localhost"))
        try:
            port = int(s.get("port", DEFAULT_PORTS[security]))
            timeout = float(s.get("timeout", 30))
            delays = (
                tuple(float(x) for x in str(s["retry_delays"]).split(",") if x.strip())
                if "retry_delays" in s
                else DEFAULT_RETRY_DELAYS
            )
            max_bytes = int(s.get("max_bytes", DEFAULT_MAX_BYTES))
        except ValueError as exc:
            raise DeliveryConfigError(
                f"SMTP settings: a number is not a number ({exc}). Check JOYFLOW_SMTP_PORT, "
                "_TIMEOUT, _RETRY_DELAYS (e.g. 5,30,120) and _MAX_BYTES."
            ) from None
        if not 0 < port < 65536 or timeout <= 0 or any(d < 0 for d in delays):
            raise DeliveryConfigError(
                "SMTP settings out of range: the port must be 1–65535, the timeout and retry delays positive."
            )
        user, password = s.get("user"), s.get("password")
        if password and not user:
            raise DeliveryConfigError("JOYFLOW_SMTP_PASSWORD is set without JOYFLOW_SMTP_USER.")
        if user and security == "none" and host and not _is_loopback(host):
            raise DeliveryConfigError(
                f"JOYFLOW_SMTP_USER is set but JOYFLOW_SMTP_SECURITY=none: the password would cross the network "
                f"unencrypted to {host}. Use starttls (usually port 587) or ssl (port 465)."
            )
        reply_to = s.get("reply_to")
        if reply_to:
            sender_address(reply_to)  # validated the same way
        return cls(
            host=host,
            port=port,
            security=security,
            sender=sender,
            user=user,
            password=password,
            timeout=timeout,
            retry_delays=delays,
            max_bytes=max_bytes,
            cafile=s.get("cafile"),
            reply_to=reply_to,
        )


def _code_error(code: int, text: str, *, what: str) -> SendError:
    return (TransientSendError if 400 <= code < 500 else PermanentSendError)(f"{what}: {code} {text}".strip())


def _decode(resp: bytes | str) -> str:
    return clean_header_text(resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp), 300)


class Mailer:
    """One SMTP connection, opened on first use and reopened after any failure."""

    def __init__(self, config: SmtpConfig):
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def connect(self) -> None:
        """Open the connection (TLS, login) now if it is not open: a wrong setting fails here, once."""
        if self._smtp is None:
            self._smtp = self._open()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _tls_context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.config.cafile)
        except (OSError, ssl.SSLError) as exc:
            raise DeliveryConfigError(
                f"JOYFLOW_SMTP_CAFILE={self.config.cafile!r} cannot be used: {exc}"
            ) from None

    def _open(self) -> smtplib.SMTP:
        cfg = self.config
        if not cfg.host:
            raise DeliveryConfigError("No SMTP server configured: set JOYFLOW_SMTP_HOST.")
        smtp: smtplib.SMTP | None = None
        try:
            if cfg.security == "ssl":
                smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=self._tls_context())
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
            smtp.ehlo()
            if cfg.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise DeliveryConfigError(
                        f"The SMTP server {cfg.host}:{cfg.port} does not offer STARTTLS, and JOYFLOW_SMTP_SECURITY="
                        "starttls forbids sending without encryption. Check the port (587 is usual for STARTTLS, "
                        "465 for JOYFLOW_SMTP_SECURITY=ssl); use 'none' only for a trusted relay on this machine."
                    )
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
            if cfg.user:
                smtp.login(cfg.user, cfg.password or "")
            return smtp
        except Exception as exc:
            if smtp is not None:
                smtp.close()
            if isinstance(exc, DeliveryConfigError | SendError):
                raise
            mapped = self._classify_connect(exc)
            if mapped is exc:
                raise
            raise mapped from exc

    def _classify_connect(self, exc: Exception) -> Exception:
        where = self.config.where
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return DeliveryConfigError(
                f"The SMTP server {where} refused the login for JOYFLOW_SMTP_USER="
                f"{self.config.user!r}: {exc.smtp_code} {_decode(exc.smtp_error)}. "
                "Check JOYFLOW_SMTP_USER and JOYFLOW_SMTP_PASSWORD."
            )
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return DeliveryConfigError(
                f"The SMTP server {where} does not support what the settings ask: {exc}. "
                "(Login needs the server to offer AUTH, usually only after STARTTLS.)"
            )
        if isinstance(exc, ssl.SSLCertVerificationError):
            return DeliveryConfigError(
                f"The TLS certificate of {where} could not be verified "
                f"({exc.verify_message}). If the server uses a private CA, set "
                "JOYFLOW_SMTP_CAFILE to its certificate file."
            )
        if isinstance(exc, ssl.SSLError):
            return DeliveryConfigError(
                f"TLS with {where} failed ({exc.reason or exc}). Is the port right for "
                "JOYFLOW_SMTP_SECURITY? (465 for ssl, 587 for starttls)"
            )
        if isinstance(exc, socket.gaierror):
            if exc.errno == socket.EAI_AGAIN:
                return TransientSendError(f"cannot resolve {self.config.host} right now ({exc.strerror})")
            return DeliveryConfigError(
                f"SMTP host {self.config.host!r} not found ({exc.strerror}). Check JOYFLOW_SMTP_HOST."
            )
        if isinstance(
            exc, smtplib.SMTPResponseException
        ):  # connect / helo replies (421 busy, 554 no service)
            if 400 <= exc.smtp_code < 500:
                return TransientSendError(f"{where} answered {exc.smtp_code} {_decode(exc.smtp_error)}")
            return DeliveryConfigError(
                f"The SMTP server {where} refused the connection: {exc.smtp_code} {_decode(exc.smtp_error)}"
            )
        if isinstance(exc, ConnectionRefusedError):
            return TransientSendError(f"connection to {where} refused (is the server running?)")
        if isinstance(exc, TimeoutError | socket.timeout):
            return TransientSendError(f"no answer from {where} within {self.config.timeout:g} s")
        if isinstance(exc, smtplib.SMTPException | OSError):
            return TransientSendError(f"connection to {where} failed: {exc.__class__.__name__}: {exc}")
        return exc

    def send(self, msg: EmailMessage, recipient: str) -> None:
        """Send to exactly one envelope recipient. Raises a SendError subclass or DeliveryConfigError."""
        if self._smtp is not None:  # a reused connection may have been dropped while idle: check first
            try:
                if self._smtp.noop()[0] != 250:
                    self.close()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
                self._smtp = None
        if self._smtp is None:
            self._smtp = self._open()
        smtp = self._smtp
        try:
            refused = smtp.send_message(msg, from_addr=self.config.sender.addr_spec, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            code, resp = exc.recipients.get(recipient, next(iter(exc.recipients.values()), (550, b"refused")))
            raise _code_error(code, _decode(resp), what=f"recipient {recipient} refused") from None
        except smtplib.SMTPSenderRefused as exc:
            self.close()
            if 400 <= exc.smtp_code < 500:
                raise TransientSendError(
                    f"sender refused for now: {exc.smtp_code} {_decode(exc.smtp_error)}"
                ) from None
            raise DeliveryConfigError(
                f"The SMTP server {self.config.where} refuses the sender "
                f"{self.config.sender.addr_spec}: {exc.smtp_code} {_decode(exc.smtp_error)}. "
                "Check JOYFLOW_SMTP_FROM (and that the account may send as it)."
            ) from None
        except smtplib.SMTPDataError as exc:
            self.close()
            raise _code_error(exc.smtp_code, _decode(exc.smtp_error), what="message refused") from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise _code_error(exc.smtp_code, _decode(exc.smtp_error), what="server error") from None
        except (smtplib.SMTPException, OSError) as exc:  # dropped connection, timeout mid-transfer
            self.close()
            raise TransientSendError(
                f"connection to {self.config.where} lost: {exc.__class__.__name__}: {exc}"
            ) from None
        if refused:  # cannot happen with one recipient, but never report a refused address as sent
            code, resp = refused[recipient]
            raise _code_error(code, _decode(resp), what=f"recipient {recipient} refused")
