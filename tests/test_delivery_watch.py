"""The coach's email names each of their teams on the watch list, with its reasons, escaped."""

from __future__ import annotations

import datetime as dt
from email.headerregistry import Address

from reports.deliver import COACH, Envelope, TeamLine, compose
from reports.mail import SmtpConfig

CONFIG = SmtpConfig(
    host=None, port=25, security="none", sender=Address("Network", "network", "ihi.example.org")
)


def _message(teams: tuple[TeamLine, ...]):
    envelope = Envelope("2026-04", COACH, "ben.lindqvist@coaches.example.org", "Ben Lindqvist", (), teams)
    return compose(envelope, CONFIG, now=dt.datetime(2026, 5, 11, 9, tzinfo=dt.UTC))


def test_one_line_per_watched_team_with_its_reasons() -> None:
    msg = _message(
        (
            TeamLine("T01", "Acute Medical Unit", "on_time"),
            TeamLine(
                "T02",
                "Emergency <b>Department</b>",
                "late",
                watch_reasons=(
                    "no frontline clinician since 1 March 2026 (60 days)",
                    "score <stalled> & flat",
                ),
            ),
        )
    )
    text = msg.get_body(("plain",)).get_content()
    watched = text[text.index("On the network's watch list") :].split("\n\n")[0].splitlines()
    assert watched[1:] == [
        "- Emergency <b>Department</b> (T02): no frontline clinician since 1 March 2026 (60 days); "
        "score <stalled> & flat"
    ]
    html = msg.get_body(("html",)).get_content()
    assert "<b>Department" not in html and "<stalled>" not in html
    assert "Emergency &lt;b&gt;Department&lt;/b&gt;</strong> (T02): no frontline clinician" in html
    assert "score &lt;stalled&gt; &amp; flat" in html
    assert html.count("<li>") == 1


def test_no_watch_list_no_section() -> None:
    msg = _message((TeamLine("T01", "Acute Medical Unit", "on_time"),))
    assert "watch list" not in msg.get_body(("plain",)).get_content()
    assert "watch list" not in msg.get_body(("html",)).get_content()
