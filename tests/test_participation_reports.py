"""The participation section of the network report and a team's own panel, rendered from a small
network built by hand (``tests.participation_factory``) and read back from the PDFs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from reports.charts_for import draw_charts
from reports.participation import network_participation, team_participation
from reports.render import RenderJob, render_html, render_one
from reports.report_types import NetworkContext, TeamContext, TeamInfo
from tests.participation_factory import PEOPLE, build

PERIODS = ("2026-01", "2026-02", "2026-03", "2026-04")


def html_of(template: str, context) -> str:
    return render_html(template, context, draw_charts(context))


def _text(pdf: str) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in PdfReader(pdf).pages))


def network(**overrides) -> NetworkContext:
    fields = dict(
        period="2026-04",
        period_label="April 2026",
        network_name="Test network",
        generated_on="2026-05-01",
        periods=PERIODS,
        grid=(),
        grid_in_appendix=False,
        summary=(),
        improving=(),
        attention=(),
        adopted=(),
        pdsa_counts=(),
        measures=(),
        progress_by_period=(),
        team_count=2,
        due_day=10,
        participation=network_participation(build(), PERIODS),
    )
    return NetworkContext(**(fields | overrides))


def team(team_id: str, name: str) -> TeamContext:
    return TeamContext(
        period="2026-04",
        period_label="April 2026",
        network_name="Test network",
        generated_on="2026-05-01",
        team=TeamInfo(
            team_id, name, "Riverside Community Health", "Ben Lindqvist", "ben@coaches.example.org"
        ),
        status="on_time",
        status_text="On time",
        submission=None,
        periods=PERIODS,
        measures=(),
        pdsa_this_month=(),
        pdsa_total=0,
        pdsa_by_component=(),
        learning=(),
        progress=(),
        network_progress=(),
        warnings=(),
        participation=team_participation(build())(team_id),
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("participation")
    jobs = {
        "network": RenderJob("network", network(), str(out / "network")),
        "T01": RenderJob("team", team("T01", "Acute Medical Unit"), str(out / "team_T01"), team_id="T01"),
        "T02": RenderJob("team", team("T02", "Emergency Department"), str(out / "team_T02"), team_id="T02"),
    }
    return {k: _text(render_one(job).pdf_path) for k, job in jobs.items()}


def test_network_section_counts_and_watch_list(rendered: dict[str, str]) -> None:
    text = rendered["network"]
    assert "1 of 2 teams have all three roles filled (1 role vacant)" in text
    assert "1 of 2 have completed onboarding" in text
    assert "coaching sessions 1 of 2; all-team calls 1 of 4; workshops 1 of 2" in text
    watch = text[text.index("Watch list") : text.index("Onboarding, roles")]
    assert "T02 Emergency Department" in watch and "T01" not in watch
    for reason in (
        "fewer than two named participants at 4 of its last 4 meetings",
        "no frontline clinician since 1 March 2026 (60 days)",
        "progress score 1.5 unchanged for 4 months",
    ):
        assert reason in watch
    assert "vacant since 1 Mar 2026" in text
    assert "2.0 → 3.5" in text  # T01's improvement infrastructure, baseline → month 9
    assert "at least 30 minutes" in text and "vacant for 30 days or more" in text


def test_network_report_names_no_participant(rendered: dict[str, str]) -> None:
    text = rendered["network"]
    for person in PEOPLE.iter_rows(named=True):
        assert person["name"] not in text
        assert person["email"] not in text


def test_attendance_grid_goes_to_an_appendix_past_one_page() -> None:
    section = network().participation
    many = network(participation=type(section)(**(vars(section) | {"grid_in_appendix": True})))
    html = html_of("network_report.html.j2", many)
    assert "Appendix: attendance by team" in html
    assert html.index("Appendix: attendance by team") > html.index("Network measures")
    assert "Appendix: attendance by team" not in html_of("network_report.html.j2", network())


def test_team_panel_shows_its_own_people_only(rendered: dict[str, str]) -> None:
    for tid, other in (("T01", "T02"), ("T02", "T01")):
        text = rendered[tid]
        for person in PEOPLE.iter_rows(named=True):
            if person["team_id"] == tid:
                assert person["name"] in text, person["name"]
            else:
                assert person["name"] not in text, f"{tid}'s report names {person['name']} of {other}"
                assert person["email"] not in text
    t02 = rendered["T02"]
    assert "On the network's watch list" in t02 and "frontline clinician: vacant since 1 Mar 2026" in t02
    assert "No PDSA cycles since January" in t02 and "Ben Lindqvist" in t02
    assert "On the network's watch list" not in rendered["T01"]


def test_team_panel_who_came_and_escaped_justification(tmp_path: Path) -> None:
    context = team("T01", "Acute Medical Unit")
    ws = next(m for m in context.participation.meetings if m.title == "Workshop 1")
    assert ws.who == ("Amira Haddad", "Kofi Mensah", "Renée Dubois") and ws.named_present == 3
    html = html_of("team_report.html.j2", context)
    assert "Tests under way &lt;b&gt;but&lt;/b&gt; no data yet" in html
    assert "<b>but</b>" not in html


def test_without_participation_data_nothing_changes() -> None:
    html = html_of("network_report.html.j2", network(participation=None))
    assert "Participation" not in html
    from reports.report_types import canonical

    assert '"participation"' not in canonical(network(participation=None))
