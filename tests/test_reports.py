"""What coaches and representatives read: text, structure and accessibility of the PDFs."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from pypdf import PdfReader

from tests.conftest import DEMO_END
from warehouse import queries
from warehouse.engine import make_engine


def _text(pdf: Path) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in PdfReader(str(pdf)).pages))


@pytest.fixture(scope="module")
def demo(rendered_demo: dict) -> dict:
    return rendered_demo


def test_every_team_gets_a_tagged_report_naming_no_other_team(demo: dict) -> None:
    engine = make_engine(demo["url"])
    teams = queries.teams(engine)
    names = dict(zip(teams.get_column("team_id"), teams.get_column("team_name"), strict=True))
    for tid, name in names.items():
        pdf = demo["reports"] / f"team_{tid}_{DEMO_END}.pdf"
        reader = PdfReader(str(pdf))
        # the measures' charts, PDSA, learning, and (issue 15) the team's own participation panel
        assert 3 <= len(reader.pages) <= 10, f"{tid}: {len(reader.pages)} pages"
        root = reader.trailer["/Root"]
        assert bool(root["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in root  # tagged PDF (PDF/UA)
        assert root.get("/Lang") in ("en-GB", "en")
        text = _text(pdf)
        assert name in text and reader.metadata.title.startswith(name)
        for other_id, other in names.items():
            if other_id != tid:
                assert other not in text, f"{tid}'s report names {other}"


def test_team_report_shows_real_values_and_signals(demo: dict) -> None:
    engine = make_engine(demo["url"])
    summaries = queries.series_summaries(engine)
    points = queries.series_points(engine)
    # A team with special-cause improvement on its latest point: the report says so beside that measure.
    improving = summaries.filter(
        (pl.col("variation") == "special_cause_improvement") & (pl.col("latest_period") == DEMO_END)
    ).row(0, named=True)
    tid, mid = improving["team_id"], improving["measure_id"]
    text = _text(demo["reports"] / f"team_{tid}_{DEMO_END}.pdf")
    assert "Special cause — improvement" in text
    latest = points.filter(
        (pl.col("team_id") == tid) & (pl.col("measure_id") == mid) & (pl.col("period") == DEMO_END)
    ).row(0, named=True)
    cat = queries.catalogue(engine).filter(pl.col("measure_id") == mid).row(0, named=True)
    shown = latest["value"] * cat["multiplier"]
    expected = (
        f"{shown:.1f}%"
        if cat["kind"] == "proportion"
        else (f"{shown:,.0f}" if cat["kind"] == "count" else f"{shown:,.1f}")
    )
    assert expected in text, f"{mid} latest {expected} not in {tid}'s report"
    assert "PDSA activity" in text and "Learning and help wanted" in text


def test_rejected_team_report_says_so(demo: dict) -> None:
    text = _text(demo["reports"] / f"team_T05_{DEMO_END}.pdf")
    assert "Rejected" in text


def test_network_report_grid_and_attention(demo: dict) -> None:
    text = _text(demo["reports"] / f"network_{DEMO_END}.pdf")
    assert "Submission compliance" in text
    assert "Teams needing attention" in text
    assert "T05 Critical Care" in text  # rejected this month: needs attention


def _headings(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<h2[^>]*>(.*?)</h2>", html, re.S)]


@pytest.mark.parametrize("teams", [12, 41])
def test_a_long_compliance_grid_goes_to_the_appendix(demo: dict, tmp_path: Path, teams: int) -> None:
    """Up to 40 teams the grid stands under its heading; past one page it would push the network's
    summary and charts back (111 pages at 5,000 teams), so the monthly summary stays and the grid
    moves to the end."""
    from dataclasses import replace

    from reports.charts_for import draw_charts
    from reports.context import load_run_data, network_context
    from reports.render import TEMPLATES, render_html

    data = load_run_data(make_engine(demo["url"]), DEMO_END, "Demo", None, 18)
    ctx = network_context(data, due_day=10)
    if teams > len(ctx.grid):  # the demo's 12 rows, repeated under new ids
        rows = tuple(replace(r, team_id=f"X{i:03d}") for i, r in enumerate(ctx.grid * 4))[:teams]
        ctx = replace(ctx, grid=rows, grid_in_appendix=len(rows) > 40)
    assert ctx.grid_in_appendix == (teams > 40)
    html = render_html(TEMPLATES["network"], ctx, draw_charts(ctx))
    heads = _headings(html)
    first_row = html.index(f'<td class="team">{ctx.grid[0].team_id} ')
    monthly = html.index("<th>Month</th>")
    assert heads[0] == "Submission compliance" and monthly < html.index("Progress scores across the network")
    if teams > 40:
        assert heads[-1] == "Appendix: submission compliance by team"
        assert first_row > html.index("Appendix: submission compliance by team") > monthly
        appendix = html[html.index("Appendix: submission compliance by team") :]
        assert appendix.count('<td class="team">') == teams
        assert "see the appendix" in html
    else:
        assert "Appendix" not in html
        assert monthly < first_row < html.index("Progress scores across the network")


def test_feedback_sheet_tells_the_team_what_to_fix(demo: dict) -> None:
    sheets = sorted((demo["reports"] / "feedback").glob("*T05*.pdf"))
    assert len(sheets) == 1
    text = _text(sheets[0])
    assert "could not load it" in text
    assert "cannot exceed 100%" in text  # numerator above denominator, in words
    assert "six point five" in text
    # the columns as the team's sheets head them, not the warehouse's names
    assert "measures 2 Numerator error" in text and "pdsa 2 Joy in Work component error" in text


def test_validation_report_lists_every_file(demo: dict) -> None:
    text = _text(demo["reports"] / f"validation_{DEMO_END}.pdf")
    for t in range(1, 13):
        assert f"T{t:02d}_{DEMO_END}.xlsx" in text
    assert "xlsx_not_a_workbook" in text


def test_archival_pdf_a(demo: dict, tmp_path: Path) -> None:
    from reports.render import html_to_pdf

    html = (demo["reports"] / f"team_T02_{DEMO_END}.html").read_text(encoding="utf-8")
    _, pages, _ = html_to_pdf(html, tmp_path / "a.pdf", variant="a")
    reader = PdfReader(str(tmp_path / "a.pdf"))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8", "replace")
    assert "pdfaid" in xmp and 'part="3"' in xmp.replace("'", '"') or "<pdfaid:part>3</pdfaid:part>" in xmp
    assert pages == len(reader.pages) >= 3


def _figures(node, out: list) -> list:
    node = node.get_object()
    if isinstance(node, dict):
        if node.get("/S") == "/Figure":
            out.append(str(node.get("/Alt") or ""))
        kids = node.get("/K")
        for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            if hasattr(kid, "get_object"):
                _figures(kid, out)
    return out


def test_team_report_charts_keep_key_cycles_and_text_alternatives(demo: dict) -> None:
    """The charts are drawn lean (one key per report, PDSA cycles listed as page text), but the
    reader still gets the key, every cycle's name and a text alternative for every figure."""
    pdf = demo["reports"] / f"team_T01_{DEMO_END}.pdf"
    html = pdf.with_suffix(".html").read_text(encoding="utf-8")
    text = _text(pdf)
    for word in ("Centre line", "Control limits", "Target", "Network median", "Improvement", "PDSA cycle"):
        assert word in text, word
    cycles = re.findall(r'<span class="n">\d+</span>&nbsp;([^<]+)</span>', html)
    assert cycles, "no PDSA cycle listed under any chart"
    for label in cycles:
        plain = label.replace("&#39;", "'").replace("&amp;", "&").replace("&#34;", '"')
        assert " ".join(plain.split()) in text
    reader = PdfReader(str(pdf))
    alts = _figures(reader.trailer["/Root"]["/StructTreeRoot"], [])
    charts = html.count('class="jf-chart jf-spc"')
    assert charts >= 8 and len(alts) >= charts + 2  # charts, icons, sparklines, the key
    assert all(alts), "a figure without /Alt"
    assert "Key to the charts" in alts


def test_a_target_not_judged_says_why_instead_of_no_target() -> None:
    from reports.context import assurance_text

    assert assurance_text(None, None, 4.0) == "No target"
    assert assurance_text("hit_and_miss", 6.0, 4.0) == "Will sometimes meet and sometimes miss the target"
    assert assurance_text(None, 6.0, None) == "Target not judged: no value this month"
    assert assurance_text(None, 6.0, 4.0) == "Target not judged: too few months for limits"


def test_shifts_and_trends_in_the_warehouse_are_drawn_and_keyed(demo: dict) -> None:
    """The run-chart signals stored per point reach the team's charts as bands, named in the key."""
    points = queries.series_points(make_engine(demo["url"]))
    flagged = points.filter(pl.col("shift_point") | pl.col("trend_point"))
    assert flagged.height > 0
    tid = flagged.get_column("team_id")[0]
    pdf = demo["reports"] / f"team_{tid}_{DEMO_END}.pdf"
    assert "Shift / trend (" in _text(pdf)
    html = pdf.with_suffix(".html").read_text(encoding="utf-8")
    assert 'class="run-band"' in html


def test_contexts_are_declared_pickle_and_key_on_what_the_report_shows(demo: dict) -> None:
    """Contexts cross to the render workers (pickle) and decide re-rendering by ``content_key``:
    same inputs, same key; a changed value, another key; the run id and the date do not count."""
    import pickle
    from dataclasses import replace

    from reports.context import load_run_data, network_context, team_contexts, validation_context
    from reports.report_types import MeasureRow, TeamContext, content_key

    engine = make_engine(demo["url"])
    data = load_run_data(engine, DEMO_END, "Demo", None, 18)
    first = next(team_contexts(data))
    again = next(team_contexts(load_run_data(engine, DEMO_END, "Demo", None, 18)))
    assert isinstance(first, TeamContext) and all(isinstance(m, MeasureRow) for m in first.measures)
    assert content_key(first) == content_key(again)
    back = pickle.loads(pickle.dumps(first))
    assert content_key(back) == content_key(first)
    assert back.measures[0].points.equals(first.measures[0].points)
    assert content_key(replace(first, generated_on="1999-01-01")) == content_key(first)
    changed = replace(first, measures=(replace(first.measures[0], latest="99.9%"), *first.measures[1:]))
    assert content_key(changed) != content_key(first)
    net = network_context(data, due_day=10)
    assert content_key(replace(net, due_day=11)) != content_key(net)
    val = validation_context(engine, DEMO_END, "Demo", "run-a")
    assert content_key(replace(val, run_id="run-b")) == content_key(val)
    assert {f.file for f in val.files} >= {f"T{t:02d}_{DEMO_END}.xlsx" for t in range(1, 13)}


def test_the_renderer_draws_charts_without_an_import_cycle() -> None:
    """``reports.render`` uses ``reports.charts_for`` (charts are drawn in the worker); the
    charts never import the renderer back."""
    import ast

    root = Path(__file__).resolve().parent.parent / "reports"

    def imports(path: Path) -> set[str]:
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
        return found

    assert "reports.charts_for" in imports(root / "render.py")
    for path in [root / "charts_for.py", root / "report_types.py", *(root / "charts").glob("*.py")]:
        assert "reports.render" not in imports(path), path.name


def test_the_demo_runs_participation_from_its_files_to_the_reports(demo: dict) -> None:
    """Issue 15 end to end: the demo's people, calendar and attendance files imported by the monthly
    run, read back from the warehouse into the network report, a team's panel and the coach email."""
    network = _text(demo["reports"] / f"network_{DEMO_END}.pdf")
    assert "Watch list: teams drifting away" in network
    assert "T06 Community Nursing North" in network
    assert "fewer than two named participants at 4 of its last 4 meetings" in network
    assert "T04 Maternity Unit no frontline clinician since 4 June 2026 (149 days)" in network
    assert "9 of 12 have completed onboarding" in network  # T04 a role, T10 no baseline, T11 no letter
    t04 = _text(demo["reports"] / f"team_T04_{DEMO_END}.pdf")
    assert "frontline clinician: vacant since 4 Jun 2026" in t04
    t01 = _text(demo["reports"] / f"team_T01_{DEMO_END}.pdf")
    assert "Vacant" not in t01 and "On the network's watch list" not in t01

    from reports.deliver import watch_reasons
    from schemas.participation import ParticipationSettings

    watched = watch_reasons(make_engine(demo["url"]), DEMO_END, ParticipationSettings())
    assert watched["T04"] == ("no frontline clinician since 4 June 2026 (149 days)",)
    assert watched["T06"][0] == "fewer than two named participants at 4 of its last 4 meetings"
    assert "T01" not in watched
