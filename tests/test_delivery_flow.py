"""The ``deliver-reports`` Prefect flow under Prefect's test harness, against a real SMTP server on loopback:
one task per message, Prefect retries on a transient failure, a permanent failure ends the run Failed with
the summary, and a re-run sends only what was not sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from reports.deliver import DeliveryConfigError, DeliveryFailedError
from tests.test_delivery_support import PERIOD, SYN_REPRESENTATIVES, Mailbox, SmtpServer, build_synthetic
from warehouse.engine import make_engine
from warehouse.models import Delivery

pytestmark = pytest.mark.xdist_group("prefect")

DANA, ELI = "dana.coach@coaches.example.org", "eli.coach@coaches.example.org"
REPS = [r.lower() for r in SYN_REPRESENTATIVES]


@pytest.fixture(scope="module")
def harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture
def syn(tmp_path: Path, joyflow_home: Path):
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    engine = make_engine(url)
    info = build_synthetic(engine, tmp_path)
    yield url, engine, info["network"]
    engine.dispose()


def test_deliver_reports_flow(harness, syn, monkeypatch: pytest.MonkeyPatch, joyflow_home: Path) -> None:
    from prefect.artifacts import Artifact

    from flows.deliver import deliver_reports

    url, engine, network = syn
    handler = Mailbox(
        fail_first=1, fail_at="DATA", refuse={ELI: "550 5.1.1 <eli.coach@coaches.example.org>: no such user"}
    )
    srv = SmtpServer(handler).start()
    try:
        for k, v in srv.env().items():
            monkeypatch.setenv(k, v)

        # 1. one message is greylisted once (451: retried by Prefect), one recipient is refused (550: not retried)
        with pytest.raises(DeliveryFailedError) as err:
            deliver_reports(
                period=PERIOD, network_dir=str(network), warehouse_url=url, retry_delays=[0.2, 0.2]
            )
        summary = err.value.summary
        assert summary["counts"] == {"planned": 4, "sent": 3, "dry_run": 0, "skipped": 0, "failed": 1}
        assert summary["failed"][0]["recipient"] == ELI and "550" in summary["failed"][0]["error"]
        assert summary["failed"][0]["attempts"] == 1 and not summary["failed"][0]["transient"]
        assert "no such user" in str(err.value)
        got = handler.by_recipient()
        assert set(got) == {DANA, *REPS} and all(len(m) == 1 for m in got.values())
        with engine.connect() as conn:
            rows = conn.execute(
                select(Delivery.recipient, Delivery.outcome, Delivery.error).order_by(Delivery.delivery_id)
            ).all()
        assert sorted(r.outcome for r in rows) == ["failed", "failed", "sent", "sent", "sent"]
        assert [r.outcome for r in rows if r.recipient == ELI] == ["failed"]  # 5xx: one attempt only
        greylisted = next(r for r in rows if r.outcome == "failed" and r.recipient != ELI)
        assert "451" in greylisted.error and "attempt 1 of 3" in greylisted.error
        artifact = Artifact.get(f"delivery-{PERIOD}")
        assert artifact is not None and ELI in str(artifact.data)

        # 2. the address is fixed: a re-run sends only the missing message
        handler.refuse.clear()
        again = deliver_reports(
            period=PERIOD, network_dir=str(network), warehouse_url=url, retry_delays=[0.2]
        )
        assert again["counts"] == {"planned": 4, "sent": 1, "dry_run": 0, "skipped": 3, "failed": 0}
        assert again["sent"][0]["recipient"] == ELI
        assert len(handler.messages) == 4

        # 3. a dry run with resend writes every message to the outbox and sends nothing
        dry = deliver_reports(
            period=PERIOD, network_dir=str(network), warehouse_url=url, dry_run=True, resend=True
        )
        assert dry["counts"]["dry_run"] == 4 and len(handler.messages) == 4
        assert len(list((joyflow_home / "outbox" / PERIOD).glob("*.eml"))) == 4

        # 4. STARTTLS required but not offered: one clear error before any message is attempted
        monkeypatch.setenv("JOYFLOW_SMTP_SECURITY", "starttls")
        with pytest.raises(DeliveryConfigError, match="does not offer STARTTLS"):
            deliver_reports(period=PERIOD, network_dir=str(network), warehouse_url=url, resend=True)
        assert len(handler.messages) == 4
    finally:
        srv.stop()
