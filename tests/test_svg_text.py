"""Whole-run SVG text (reports.svg_text): the same glyphs in the same places as WeasyPrint's own
letter-by-letter path, for every kind of chart the reports draw; a fallback to WeasyPrint for
what it does not handle; and charts WeasyPrint fails to draw fail the report."""

from __future__ import annotations

import importlib
from pathlib import Path

import pypdfium2
import pytest
from weasyprint import HTML

from reports.render import RenderError, html_to_pdf
from reports.svg_text import supported, whole_run_svg_text
from tests.test_charts import all_svgs

pytestmark = pytest.mark.skipif(not supported(), reason="written for WeasyPrint 70")

SVGS = all_svgs()


def _glyphs(pdf: bytes) -> list[tuple[str, tuple[float, ...]]]:
    """Every character on the first page with its box (PDF points, rounded to 0.01)."""
    page = pypdfium2.PdfDocument(pdf)[0]
    text = page.get_textpage()
    out = []
    for i in range(text.count_chars()):
        ch = text.get_text_range(i, 1)
        if ch.strip():
            out.append((ch, tuple(round(v, 2) for v in text.get_charbox(i))))
    return out


def _pdf(svg: str, whole_run: bool) -> bytes:
    html = f'<html lang="en"><body style="margin:0">{svg}</body></html>'
    if whole_run:
        with whole_run_svg_text() as on:
            assert on
            return HTML(string=html).write_pdf()
    return HTML(string=html).write_pdf()


@pytest.mark.parametrize("name", [n for n, svg in SVGS.items() if "<text" in svg])
def test_every_chart_glyph_lands_where_weasyprint_puts_it(name: str) -> None:
    stock, ours = _glyphs(_pdf(SVGS[name], False)), _glyphs(_pdf(SVGS[name], True))
    assert stock  # the chart's text reached the page
    assert [c for c, _ in ours] == [c for c, _ in stock]
    for (ch, a), (_, b) in zip(stock, ours, strict=True):
        assert max(abs(x - y) for x, y in zip(a, b, strict=True)) <= 0.05, (ch, a, b)


MIXED = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="120" viewBox="0 0 400 120" '
    'font-family="\'DejaVu Sans\', sans-serif" font-size="10">'
    '<g font-size="9.5" fill="#595959"><text x="15" y="20">Target 90.0%</text>'
    '<text x="15" y="40" font-weight="bold">\u2212 1,234.5 \u2191 \u2026 Wolf AV fi</text></g>'
    # per-letter features: these go to WeasyPrint's own path
    '<text x="10 20 30" y="60">abc</text>'
    '<text x="200" y="60" text-anchor="middle">centred</text>'
    '<text x="10" y="80" dx="2 4">spaced</text>'
    '<text x="10" y="100">lead<tspan font-weight="bold">bold</tspan> tail</text>'
    '<text x="200" y="100" letter-spacing="2">wide</text>'
    "</svg>"
)


def test_kerning_ligatures_and_per_letter_features_match_weasyprint() -> None:
    stock, ours = _glyphs(_pdf(MIXED, False)), _glyphs(_pdf(MIXED, True))
    assert "".join(c for c, _ in stock).startswith("Target90.0%")
    assert [c for c, _ in ours] == [c for c, _ in stock]
    for (ch, a), (_, b) in zip(stock, ours, strict=True):
        assert max(abs(x - y) for x, y in zip(a, b, strict=True)) <= 0.05, (ch, a, b)


def test_the_swap_is_scoped_nested_and_undone() -> None:
    svg = importlib.import_module("weasyprint.svg")
    stock = importlib.import_module("weasyprint.svg.text").text
    assert svg.TAGS["text"] is stock
    with whole_run_svg_text():
        ours = svg.TAGS["text"]
        assert ours is not stock and svg.text is ours  # draw_node compares TAGS entries with svg.text
        with whole_run_svg_text():
            assert svg.TAGS["text"] is ours
        assert svg.TAGS["text"] is ours and svg.TAGS["tspan"] is ours
    assert svg.TAGS["text"] is stock and svg.text is stock and svg.TAGS["tspan"] is stock
    with pytest.raises(KeyError), whole_run_svg_text():
        raise KeyError("a failing render")
    assert svg.TAGS["text"] is stock


def test_a_chart_weasyprint_cannot_draw_fails_the_report_by_name(tmp_path: Path) -> None:
    # WeasyPrint logs "Failed to render SVG image" and carries on without the chart
    broken = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50" viewBox="0 0 100 50">'
        '<title>Huddles &amp; breaks</title><rect width="10" height="10" opacity="x"/></svg>'
    )
    with pytest.raises(RenderError, match='the chart "Huddles & breaks"'):
        html_to_pdf(f'<html lang="en"><body>{broken}</body></html>', tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()
    fine = broken.replace(' opacity="x"', "")
    _, pages, refused = html_to_pdf(f'<html lang="en"><body>{fine}</body></html>', tmp_path / "r.pdf")
    assert pages == 1 and refused == [] and (tmp_path / "r.pdf").exists()
