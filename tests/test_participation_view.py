"""The participation views the reports read, built from a small network worked by hand."""

from __future__ import annotations

import datetime as dt

from tests.participation_factory import build


def test_figures_per_team() -> None:
    d = build()
    rows = {r["team_id"]: r for r in d.figures.iter_rows(named=True)}
    assert rows["T01"]["roles_missing"] == []
    assert rows["T01"]["meetings_held"] == 4  # its coaching, two calls, one workshop (CALL-05 is after as_of)
    assert rows["T01"]["meetings_with_two"] == 3  # CALL-02: P2 stayed 10 minutes, under the 30 that count
    assert rows["T01"]["attendance_rate"] == 0.75
    assert rows["T01"]["onboarded"] is True and rows["T01"]["on_watch"] is False
    assert rows["T02"]["roles_missing"] == ["frontline_clinician"]
    assert rows["T02"]["meetings_with_two"] == 0  # P6 came to the workshop after leaving the team
    assert rows["T02"]["letter_received_on"] is None and rows["T02"]["onboarded"] is False


def test_watch_list_reasons_in_words() -> None:
    d = build()
    assert d.watch.get_column("team_id").to_list() == ["T02"]
    assert d.watch.row(0, named=True)["reasons"] == [
        "fewer than two named participants at 4 of its last 4 meetings",
        "no frontline clinician since 1 March 2026 (60 days)",
        "2 of its last 3 returns late, missing or rejected (2026-02 late, 2026-03 missing)",
        "progress score 1.5 unchanged for 4 months",
    ]


def test_who_came_and_readiness_and_scores() -> None:
    d = build()
    ws = d.attended.filter(team_id="T01", meeting_id="WS-1").row(0, named=True)
    assert ws["attendees"] == ["P1", "P2", "P3"] and ws["named_present"] == 3
    t01 = {
        r["domain"]: (r["baseline"], r["latest"])
        for r in d.readiness.filter(team_id="T01").iter_rows(named=True)
    }
    assert t01 == {
        "improvement_infrastructure": (2.0, 3.5),
        "leadership_behaviours": (2.5, 3.0),
        "workforce_safety": (3.0, 3.0),
    }
    assert d.readiness.filter(team_id="T02").get_column("latest").null_count() == 3
    april = d.scores.filter(team_id="T02", period="2026-04").row(0, named=True)
    assert (april["self_score"], april["coach_score"]) == (1.5, 1.0)


def test_as_of_earlier_sees_less() -> None:
    d = build(as_of=dt.date(2026, 1, 31))
    rows = {r["team_id"]: r for r in d.figures.iter_rows(named=True)}
    assert rows["T02"]["roles_missing"] == []  # the clinician left in March
    assert rows["T01"]["meetings_held"] == 2
    assert d.readiness.filter(team_id="T02").height == 0  # baseline answered in February
