"""Report delivery against a real SMTP server on loopback (aiosmtpd), with the demo month's real PDFs.

The demo month is rendered once per module; each test works on its own copy of the warehouse.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import shutil
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from reports.deliver import (
    DeliveryConfigError,
    deliver,
    plan_deliveries,
)
from reports.mail import SmtpConfig
from tests.conftest import DEMO_END, TODAY
from tests.test_delivery_support import (
    PERIOD,
    SYN_NETWORK_NAME,
    SYN_REPRESENTATIVES,
    Mailbox,
    SmtpServer,
    attachments,
    build_synthetic,
    sha256,
)
from warehouse.engine import make_engine
from warehouse.models import Coach, Delivery, LearningNote, Report, Team

REPRESENTATIVES = ("network.lead@ihi.example.org", "improvement.advisor@ihi.example.org")
NETWORK_NAME = "Joy in Work Learning Network (demo)"
NO_WAIT = (0.0, 0.0, 0.0)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def rendered(demo_network_master: Path, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The demo month loaded and rendered once (16 PDFs) into a master warehouse."""
    from flows.plain import monthly_run_plain

    root = tmp_path_factory.mktemp("delivery")
    network = root / "network"
    shutil.copytree(demo_network_master, network)
    home = root / "var"
    url = f"sqlite:///{home / 'master.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JOYFLOW_HOME", str(home))
        mp.delenv("JOYFLOW_WAREHOUSE_URL", raising=False)
        monthly_run_plain(
            period=DEMO_END, network_dir=network, warehouse_url=url, backfill=True, render=True, today=TODAY
        )
    make_engine(url).dispose()
    return SimpleNamespace(network=network, db=home / "master.db")


@pytest.fixture
def wh(rendered: SimpleNamespace, joyflow_home: Path, tmp_path: Path):
    """A private copy of the master warehouse (its Report rows point at the master's PDFs, read-only)."""
    target = tmp_path / "warehouse.db"
    src, dst = sqlite3.connect(rendered.db), sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()
    engine = make_engine(f"sqlite:///{target}")
    yield SimpleNamespace(
        engine=engine, url=f"sqlite:///{target}", network=rendered.network, outbox=joyflow_home / "outbox"
    )
    engine.dispose()


@pytest.fixture
def server():
    servers: list[SmtpServer] = []

    def start(handler: Mailbox | None = None, **kwargs) -> SmtpServer:
        s = SmtpServer(handler, **kwargs).start()
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


def run(wh, smtp: dict, **kwargs) -> dict:
    kwargs.setdefault("retry_delays", NO_WAIT)
    kwargs.setdefault("sleep", lambda _s: None)
    return deliver(
        wh.engine,
        DEMO_END,
        REPRESENTATIVES,
        network_name=NETWORK_NAME,
        smtp_settings=smtp,
        outbox_dir=wh.outbox,
        **kwargs,
    )


def coach_teams(engine) -> dict[str, set[str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(Team.team_id, Team.coach_email)).all()
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(r.coach_email.lower(), set()).add(r.team_id)
    return out


def report_rows(engine) -> dict[str, Report]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(Report.report_id, Report.kind, Report.team_id, Report.sha256, Report.pdf_path).where(
                Report.period == DEMO_END
            )
        ).all()
    return {r.report_id: r for r in rows}


def deliveries(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(Delivery.__table__).order_by(Delivery.delivery_id)).all()


# --------------------------------------------------------------------------- who gets what


def test_plan_gives_each_coach_only_their_own_teams(wh) -> None:
    envelopes = plan_deliveries(wh.engine, DEMO_END, REPRESENTATIVES, network_name=NETWORK_NAME)
    expected = coach_teams(wh.engine)
    coaches = [e for e in envelopes if e.kind == "coach"]
    assert {e.recipient for e in coaches} == set(expected)
    for env in coaches:
        assert {a.team_id for a in env.attachments} == expected[env.recipient]
        assert {t.team_id for t in env.teams} == expected[env.recipient]
    reps = [e for e in envelopes if e.kind == "network"]
    assert [e.recipient for e in reps] == list(REPRESENTATIVES)
    for env in reps:
        assert [a.report_id for a in env.attachments] == [f"{DEMO_END}:network:", f"{DEMO_END}:validation:"]
    # no feedback sheet goes anywhere, and no report is sent to two coaches
    sent = [a.report_id for e in coaches for a in e.attachments]
    assert len(sent) == len(set(sent)) == 12
    assert not any(":feedback:" in r for e in envelopes for r in e.report_map)


def test_delivery_sends_each_coach_exactly_their_reports(wh, server) -> None:
    srv = server()
    summary = run(wh, srv.settings())
    assert summary["counts"] == {"planned": 5, "sent": 5, "dry_run": 0, "skipped": 0, "failed": 0}

    expected = coach_teams(wh.engine)
    reports = report_rows(wh.engine)
    got = srv.handler.by_recipient()
    assert set(got) == set(expected) | set(REPRESENTATIVES)
    for recipient, msgs in got.items():
        assert len(msgs) == 1, f"{recipient} got {len(msgs)} messages"
        received = msgs[0]
        assert received.rcpt_tos == [recipient]  # one envelope recipient per message, never a shared list
        assert received.mail_from == "reports@network.example.org"
        msg = received.message
        assert msg["To"].addresses[0].addr_spec == recipient
        assert msg["Auto-Submitted"] == "auto-generated"
        files = attachments(msg)
        assert all(p.get_content_type() == "application/pdf" for p in msg.iter_attachments())
        if recipient in expected:
            teams = expected[recipient]
            assert {name.split("_", 1)[0] for name in files} == teams
            for name, data in files.items():
                report = reports[f"{DEMO_END}:team:{name.split('_', 1)[0]}"]
                assert sha256(data) == report.sha256
                assert name.endswith(f"_{DEMO_END}.pdf")
            text = msg.get_body(("plain",)).get_content()
            html = msg.get_body(("html",)).get_content()
            other = set().union(*(t for c, t in expected.items() if c != recipient))
            for team in other:  # the body names none of another coach's teams
                assert f"({team})" not in text and f">{team}<" not in html
            assert "October 2026" in msg["Subject"] and not msg["Subject"].startswith("Updated")
        else:
            assert set(files) == {f"network-report_{DEMO_END}.pdf", f"validation-report_{DEMO_END}.pdf"}
            assert sha256(files[f"network-report_{DEMO_END}.pdf"]) == reports[f"{DEMO_END}:network:"].sha256
            assert (
                sha256(files[f"validation-report_{DEMO_END}.pdf"])
                == reports[f"{DEMO_END}:validation:"].sha256
            )

    rows = deliveries(wh.engine)
    assert [r.outcome for r in rows] == ["sent"] * 5
    by_mid = {m.message["Message-ID"]: r for r, ms in got.items() for m in ms}
    assert {r.message_id for r in rows} == set(by_mid)
    assert all(r.run_id == summary["run_id"] and len(r.reports_hash) == 64 for r in rows)


def test_second_delivery_sends_nothing_and_resend_sends_again(wh, server) -> None:
    srv = server()
    first = run(wh, srv.settings())
    assert first["counts"]["sent"] == 5

    again = run(wh, srv.settings())
    assert again["counts"] == {"planned": 5, "sent": 0, "dry_run": 0, "skipped": 5, "failed": 0}
    assert all("already sent" in s["reason"] for s in again["skipped"])
    assert len(srv.handler.messages) == 5

    srv.stop()  # nothing to send: the server is not even needed
    assert run(wh, srv.settings())["counts"]["skipped"] == 5

    srv2 = server()
    resent = run(wh, srv2.settings(), resend=True, recipients=["Amira.Okafor@coaches.example.org"])
    assert resent["counts"]["sent"] == 1 and resent["sent"][0]["resent"]
    msg = srv2.handler.messages[0].message
    assert "sent again on request" in msg.get_body(("plain",)).get_content()
    first_ids = {r["message_id"] for r in first["sent"]}
    assert msg["Message-ID"] not in first_ids

    everyone = run(wh, srv2.settings(), resend=True)
    assert everyone["counts"]["sent"] == 5
    assert len([r for r in deliveries(wh.engine) if r.outcome == "sent"]) == 11


def test_a_re_rendered_report_goes_again_marked_updated(wh, server, tmp_path: Path) -> None:
    srv = server()
    run(wh, srv.settings())
    # T04 is re-rendered with new content (a resubmission): new PDF, new SHA-256.
    reports = report_rows(wh.engine)
    old = reports[f"{DEMO_END}:team:T04"]
    new_pdf = tmp_path / "team_T04.pdf"
    data = Path(old.pdf_path).read_bytes() + b"\n% re-rendered\n"
    new_pdf.write_bytes(data)
    with wh.engine.begin() as conn:
        conn.execute(
            update(Report)
            .where(Report.report_id == old.report_id)
            .values(pdf_path=str(new_pdf), sha256=sha256(data))
        )

    summary = run(wh, srv.settings())
    assert summary["counts"]["sent"] == 1 and summary["counts"]["skipped"] == 4
    owner = next(c for c, teams in coach_teams(wh.engine).items() if "T04" in teams)
    assert summary["sent"][0]["recipient"] == owner
    assert summary["sent"][0]["updated"] == [f"{DEMO_END}:team:T04"]
    msg = srv.handler.by_recipient()[owner][-1].message
    assert msg["Subject"].startswith("Updated:")
    text = msg.get_body(("plain",)).get_content()
    assert "UPDATED REPORTS" in text
    t04_line = next(line for line in text.splitlines() if "T04_" in line)
    assert "(updated)" in t04_line
    assert sha256(attachments(msg)[next(n for n in attachments(msg) if n.startswith("T04_"))]) == sha256(data)
    assert len(attachments(msg)) == 4  # the whole set again, so the coach has one complete email


# --------------------------------------------------------------------------- failures and retries


@pytest.mark.parametrize(
    "fail_at, reply", [("DATA", "451 4.3.0 Try again later"), ("RCPT", "421 4.7.0 Too busy, closing")]
)
def test_transient_failures_are_retried_and_succeed(wh, server, fail_at: str, reply: str) -> None:
    srv = server(Mailbox(fail_first=2, fail_reply=reply, fail_at=fail_at))
    slept: list[float] = []
    summary = run(wh, srv.settings(), retry_delays=(1.0, 2.0, 4.0), sleep=slept.append)
    assert summary["counts"]["sent"] == 5 and summary["counts"]["failed"] == 0
    assert summary["sent"][0]["attempts"] == 3
    assert (
        len(slept) == 2 and 1.0 <= slept[0] <= 1.2 and 2.0 <= slept[1] <= 2.4
    )  # backoff (+ up to 20 % jitter)
    assert len(srv.handler.messages) == 5
    rows = deliveries(wh.engine)
    failed = [r for r in rows if r.outcome == "failed"]
    assert len(failed) == 2 and reply.split()[0] in failed[0].error and "attempt 1 of 4" in failed[0].error
    assert len({r.message_id for r in rows if r.recipient == failed[0].recipient}) == 1  # same id on retry


def test_connection_refused_is_retried_until_the_server_is_up(wh, server) -> None:
    handler = Mailbox()
    srv = SmtpServer(handler)  # not started yet: connections are refused

    def sleep(_seconds: float) -> None:
        if not srv.running:
            srv.start()

    try:
        summary = run(wh, srv.settings(), sleep=sleep)
    finally:
        srv.stop()
    assert summary["counts"]["sent"] == 5
    assert "connection" in next(r.error for r in deliveries(wh.engine) if r.outcome == "failed")


def test_a_refused_recipient_is_reported_and_not_retried(wh, server) -> None:
    bad = "ben.lindqvist@coaches.example.org"
    srv = server(Mailbox(refuse={bad: "550 5.1.1 <ben.lindqvist@coaches.example.org>: mailbox unavailable"}))
    slept: list[float] = []
    summary = run(wh, srv.settings(), sleep=slept.append)
    assert summary["counts"] == {"planned": 5, "sent": 4, "dry_run": 0, "skipped": 0, "failed": 1}
    failure = summary["failed"][0]
    assert failure["recipient"] == bad and failure["attempts"] == 1 and not failure["transient"]
    assert "550" in failure["error"] and "mailbox unavailable" in failure["error"]
    assert slept == []
    assert bad not in srv.handler.by_recipient()
    rows = [r for r in deliveries(wh.engine) if r.recipient == bad]
    assert [r.outcome for r in rows] == ["failed"] and "550" in rows[0].error

    # Next run: only the failed one is tried again (and now succeeds).
    srv2 = server()
    again = run(wh, srv2.settings())
    assert again["counts"]["sent"] == 1 and again["sent"][0]["recipient"] == bad
    assert again["counts"]["skipped"] == 4


def test_retries_exhausted_is_reported_as_failed(wh, server) -> None:
    srv = server(Mailbox(fail_first=10**6, fail_reply="451 4.7.1 Greylisted, try later"))
    summary = run(wh, srv.settings(), recipients=["carys.pryce@coaches.example.org"], retry_delays=(0.0, 0.0))
    assert summary["counts"]["failed"] == 1 and summary["counts"]["sent"] == 0
    f = summary["failed"][0]
    assert f["attempts"] == 3 and f["transient"] and "Greylisted" in f["error"]
    rows = deliveries(wh.engine)
    assert [r.outcome for r in rows] == ["failed"] * 3
    assert "attempt 3 of 3" in rows[-1].error


# --------------------------------------------------------------------------- dry run


def test_dry_run_writes_eml_files_and_sends_nothing(wh, server) -> None:
    srv = server()
    summary = deliver(
        wh.engine,
        DEMO_END,
        REPRESENTATIVES,
        network_name=NETWORK_NAME,
        smtp_settings={},
        dry_run=True,
        outbox_dir=wh.outbox,
    )
    assert summary["counts"]["dry_run"] == 5 and summary["counts"]["sent"] == 0
    assert srv.handler.messages == []
    files = sorted((wh.outbox / DEMO_END).glob("*.eml"))
    assert len(files) == 5 and summary["outbox"] == str(wh.outbox / DEMO_END)
    reports = report_rows(wh.engine)
    expected = coach_teams(wh.engine)
    for path in files:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        recipient = msg["To"].addresses[0].addr_spec
        names = attachments(msg)
        if recipient in expected:
            assert {n.split("_", 1)[0] for n in names} == expected[recipient]
            for n, data in names.items():
                assert sha256(data) == reports[f"{DEMO_END}:team:{n.split('_', 1)[0]}"].sha256
        assert msg.get_body(("plain",)) is not None and msg.get_body(("html",)) is not None
    assert {r.outcome for r in deliveries(wh.engine)} == {"dry_run"}

    # dry-run rows do not count as sent: the real delivery still sends everything, with the same ids
    real = run(wh, srv.settings())
    assert real["counts"]["sent"] == 5
    dry_ids = {r["message_id"].split("@")[0] for r in summary["dry_run"]}
    assert {r["message_id"].split("@")[0] for r in real["sent"]} == dry_ids


# --------------------------------------------------------------------------- configuration


def test_starttls_not_offered_fails_clearly(wh, server) -> None:
    srv = server()  # a plain server: no STARTTLS
    with pytest.raises(DeliveryConfigError) as err:
        run(wh, srv.settings(security="starttls"))
    message = str(err.value)
    assert "does not offer STARTTLS" in message and f"127.0.0.1:{srv.port}" in message
    assert "Traceback" not in message
    assert srv.handler.messages == []
    assert deliveries(wh.engine) == []


def test_starttls_error_reaches_the_cli_as_one_sentence(wh, server, monkeypatch, capsys) -> None:
    """What a data manager sees: the message, exit code 2, no traceback (the CLI prints JoyflowErrors)."""
    from flows import cli
    from reports.deliver import deliver_period

    srv = server()
    for k, v in srv.env(security="starttls").items():
        monkeypatch.setenv(k, v)

    def fake_app(standalone_mode: bool = False) -> None:
        deliver_period(DEMO_END, wh.network, warehouse_url=wh.url)

    monkeypatch.setattr(cli, "app", fake_app)
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "does not offer STARTTLS" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "settings, words",
    [
        ({}, "JOYFLOW_SMTP_HOST"),
        ({"host": "smtp.example.org"}, "JOYFLOW_SMTP_FROM"),
        ({"host": "smtp.example.org", "from": "x@example.org", "security": "tls"}, "none, starttls, ssl"),
        (
            {
                "host": "smtp.example.org",
                "from": "x@example.org",
                "security": "none",
                "user": "u",
                "password": "p",
            },
            "unencrypted",
        ),
        ({"host": "smtp.example.org", "from": "not an address"}, "not an email address"),
        ({"host": "smtp.example.org", "from": "x@example.org", "port": "smtp"}, "JOYFLOW_SMTP_PORT"),
    ],
)
def test_bad_smtp_settings_are_explained(settings: dict, words: str) -> None:
    with pytest.raises(DeliveryConfigError, match=words):
        SmtpConfig.from_settings(settings)


def test_smtp_config_defaults_and_password_not_in_repr() -> None:
    cfg = SmtpConfig.from_settings(
        {
            "host": "smtp.example.org",
            "from": "Net <r@example.org>",
            "user": "u",
            "password": "s3cret",
            "retry_delays": "1, 2",
        }
    )
    assert (cfg.port, cfg.security, cfg.retry_delays) == (587, "starttls", (1.0, 2.0))
    assert "s3cret" not in repr(cfg)
    assert SmtpConfig.from_settings({"security": "ssl"}, dry_run=True).port == 465


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_over_loopback(wh, server) -> None:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    seen = []

    def authenticator(_server, _session, _envelope, mechanism, data):
        seen.append(mechanism)
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"joy", b"flow")
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    srv = server(authenticator=authenticator, auth_require_tls=False, auth_required=True)
    summary = run(wh, srv.settings(user="joy", password="flow"), recipients=[REPRESENTATIVES[0]])
    assert summary["counts"]["sent"] == 1 and seen

    with pytest.raises(DeliveryConfigError, match="refused the login"):
        run(wh, srv.settings(user="joy", password="wrong"), recipients=[REPRESENTATIVES[1]])


# --------------------------------------------------------------------------- hostile content


def test_hostile_names_cannot_inject_headers_or_markup(wh, server) -> None:
    coach = "amira.okafor@coaches.example.org"
    with wh.engine.begin() as conn:
        conn.execute(
            update(Coach)
            .where(Coach.email == coach)
            .values(name="Amira\r\nBcc: attacker@evil.example\r\nX-Evil: 1")
        )
        conn.execute(
            update(Team).where(Team.team_id == "T01").values(name='<script>alert("x")</script> & <b>Ward</b>')
        )
        conn.execute(
            update(LearningNote)
            .where(LearningNote.team_id == "T01", LearningNote.period == DEMO_END)
            .values(help_wanted='<img src=x onerror="alert(1)"> please')
        )
    srv = server()
    summary = run(wh, srv.settings(), recipients=[coach])
    assert summary["counts"]["sent"] == 1
    received = srv.handler.messages[0]
    assert received.rcpt_tos == [coach]
    msg = received.message
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert [a.addr_spec for a in msg["To"].addresses] == [coach]
    assert "\n" not in msg["To"].addresses[0].display_name
    raw_headers = received.data.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in raw_headers and b"\r\nX-Evil:" not in raw_headers
    html = msg.get_body(("html",)).get_content()
    assert "<script>" not in html and "<img" not in html and "<b>Ward" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html
    text = msg.get_body(("plain",)).get_content()
    assert '<script>alert("x")</script> & <b>Ward</b>' in text  # plain text stays as written
    name = next(n for n in attachments(msg) if n.startswith("T01_"))
    assert name == f"T01_script-alert-x-script-b-Ward-b_{DEMO_END}.pdf"


# --------------------------------------------------------------------------- synthetic warehouse, both dialects


def test_synthetic_network_on_each_dialect(engine, tmp_path: Path, server) -> None:
    """Small fake PDFs; runs on SQLite and on the real PostgreSQL server when it is up."""
    syn = build_synthetic(engine, tmp_path)
    envelopes = plan_deliveries(engine, PERIOD, SYN_REPRESENTATIVES, network_name=SYN_NETWORK_NAME)
    by = {e.recipient: e for e in envelopes}
    assert [a.team_id for a in by["dana.coach@coaches.example.org"].attachments] == ["A1", "A3"]
    eli = by["eli.coach@coaches.example.org"]
    assert [a.team_id for a in eli.attachments] == ["A2"] and [t.team_id for t in eli.teams] == ["A2"]
    assert "rep.two@network.example.org" in by  # addresses are compared lower-cased

    srv = server()
    summary = deliver(
        engine,
        PERIOD,
        SYN_REPRESENTATIVES,
        network_name=SYN_NETWORK_NAME,
        smtp_settings=srv.settings(),
        outbox_dir=tmp_path / "outbox",
        retry_delays=NO_WAIT,
    )
    assert summary["counts"]["sent"] == 4
    got = srv.handler.by_recipient()
    assert set(attachments(got["eli.coach@coaches.example.org"][0].message)) == {
        f"A2_Birch-Unit_{PERIOD}.pdf"
    }
    for name, data in attachments(got["dana.coach@coaches.example.org"][0].message).items():
        assert sha256(data) == syn["reports"][f"{PERIOD}:team:{name[:2]}"]["sha256"]
    net = got["rep.one@network.example.org"][0].message
    assert "3 expected, 1 on time, 1 late, 0 rejected, 1 missing" in net.get_body(("plain",)).get_content()
    assert (
        deliver(
            engine, PERIOD, SYN_REPRESENTATIVES, smtp_settings=srv.settings(), outbox_dir=tmp_path / "outbox"
        )["counts"]["skipped"]
        == 4
    )
    with engine.connect() as conn:
        rows = conn.execute(select(Delivery.attempted_at, Delivery.outcome)).all()
    assert len(rows) == 4 and all(r.attempted_at.date() >= dt.date(2026, 1, 1) for r in rows)


def test_missing_or_changed_pdf_is_a_failure_not_a_wrong_attachment(engine, tmp_path: Path, server) -> None:
    syn = build_synthetic(engine, tmp_path)
    Path(syn["reports"][f"{PERIOD}:team:A2"]["pdf_path"]).write_bytes(b"%PDF-1.7 tampered")
    Path(syn["reports"][f"{PERIOD}:network:"]["pdf_path"]).unlink()
    srv = server()
    summary = deliver(
        engine,
        PERIOD,
        SYN_REPRESENTATIVES[:1],
        smtp_settings=srv.settings(),
        outbox_dir=tmp_path / "outbox",
        retry_delays=NO_WAIT,
    )
    failed = {f["recipient"]: f["error"] for f in summary["failed"]}
    assert "SHA-256 mismatch" in failed["eli.coach@coaches.example.org"]
    assert "cannot be read" in failed["rep.one@network.example.org"]
    assert [m.rcpt_tos for m in srv.handler.messages] == [["dana.coach@coaches.example.org"]]


def test_a_delivery_killed_mid_way_then_rerun_sends_each_message_once(
    tmp_path: Path, server, joyflow_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process is killed (SIGKILL) while sending the second message; the re-run takes over the run lock,
    skips the message already sent and sends the rest: every recipient ends with exactly one email."""
    import os
    import subprocess
    import sys

    from reports.deliver import deliver_period

    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    engine = make_engine(url)
    network = build_synthetic(engine, tmp_path)["network"]
    child: list[subprocess.Popen] = []

    def kill_on_second(n: int) -> None:
        if n == 2 and child:
            child[0].kill()
            child[0].wait()

    srv = server(Mailbox(on_rcpt=kill_on_second))
    env = os.environ | srv.env() | {"JOYFLOW_HOME": str(joyflow_home)}
    code = "import sys; from flows.deliver import deliver_period; deliver_period(*sys.argv[1:3], warehouse_url=sys.argv[3])"
    child.append(
        subprocess.Popen(
            [sys.executable, "-c", code, PERIOD, str(network), url],
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
        )
    )
    assert child[0].wait(timeout=120) == -9  # killed, holding the run lock
    assert len(srv.handler.messages) == 1

    for k, v in srv.env().items():
        monkeypatch.setenv(k, v)
    summary = deliver_period(PERIOD, network, warehouse_url=url, retry_delays=[0.0])
    assert summary["counts"]["sent"] == 3 and summary["counts"]["skipped"] == 1
    got = srv.handler.by_recipient()
    assert len(got) == 4 and all(len(m) == 1 for m in got.values())
    with engine.connect() as conn:
        assert conn.execute(select(Delivery.outcome)).scalars().all().count("sent") == 4
    engine.dispose()


def test_a_bad_representative_address_is_a_reported_failure(engine, tmp_path: Path, server) -> None:
    build_synthetic(engine, tmp_path)
    srv = server()
    summary = deliver(
        engine,
        PERIOD,
        ["not-an-address", "ok.rep@network.example.org"],
        smtp_settings=srv.settings(),
        outbox_dir=tmp_path / "outbox",
        retry_delays=NO_WAIT,
    )
    assert summary["counts"]["sent"] == 3
    assert [(f["recipient"], "not an email address" in f["error"]) for f in summary["failed"]] == [
        ("not-an-address", True)
    ]


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_a_private_ca(engine, tmp_path: Path, server, security: str) -> None:
    """STARTTLS and implicit TLS against the loopback server; its certificate is trusted only through
    JOYFLOW_SMTP_CAFILE, and without it the error says so."""
    import ssl

    pytest.importorskip("cryptography")
    from tests.test_delivery_support import self_signed_cert

    build_synthetic(engine, tmp_path)
    cert, key = self_signed_cert(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    srv = server(
        **({"tls_context": ctx, "require_starttls": True} if security == "starttls" else {"ssl_context": ctx})
    )
    with pytest.raises(DeliveryConfigError, match="JOYFLOW_SMTP_CAFILE"):
        deliver(engine, PERIOD, (), smtp_settings=srv.settings(security=security), outbox_dir=tmp_path / "o")
    summary = deliver(
        engine,
        PERIOD,
        (),
        smtp_settings=srv.settings(security=security, cafile=str(cert)),
        outbox_dir=tmp_path / "o",
    )
    assert summary["counts"]["sent"] == 2 and len(srv.handler.messages) == 2
