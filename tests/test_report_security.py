"""Untrusted text is data: narratives reach the PDF escaped, and the renderer fetches nothing."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader

from reports.render import html_to_pdf
from tests.conftest import DEMO_END, TODAY

SECRET = Path("/etc/passwd")


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def listener():
    """A real HTTP server on loopback that records every request it receives."""
    _Recorder.hits = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.hits
    server.shutdown()


def _hostile(url: str) -> list[str]:
    return [
        f'<link rel="attachment" href="file://{SECRET}">',
        f'<img src="file://{SECRET}">',
        f'<img src="{url}/pixel.png"> <link rel="stylesheet" href="{url}/style.css">',
        f"<style>@import url({url}/import.css); body {{ background: url({url}/bg.png) }}</style>",
        '<script>alert(1)</script> & "quotes" ]]> =HYPERLINK("http://evil.example")',
    ]


def _attachments(pdf: Path) -> list[str]:
    reader = PdfReader(str(pdf))
    names = list(reader.attachments.keys())
    root = reader.trailer["/Root"]
    if "/Names" in root and "/EmbeddedFiles" in root["/Names"]:
        names.append("EmbeddedFiles")
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            if annot.get_object().get("/Subtype") == "/FileAttachment":
                names.append("FileAttachment")
    return names


def test_renderer_refuses_every_url_even_in_raw_html(tmp_path: Path, listener) -> None:
    """Defence in depth: were markup ever to slip through unescaped, nothing is fetched or embedded."""
    url, hits = listener
    html = (
        "<html lang='en'><head><title>t</title></head><body>"
        + "".join(_hostile(url))
        + "<p>ok</p></body></html>"
    )
    target = tmp_path / "raw.pdf"
    _, _, refused = html_to_pdf(html, target)
    assert hits == []
    assert _attachments(target) == []
    assert any(r.startswith("file:") for r in refused)
    assert any(r.startswith(url) for r in refused)
    assert "root:x:0:0" not in (PdfReader(str(target)).pages[0].extract_text() or "")


def test_narratives_are_escaped_in_team_report(demo_network: Path, joyflow_home: Path, listener) -> None:
    from flows.plain import monthly_run_plain

    url, hits = listener
    hostile = _hostile(url)
    path = demo_network / "inbox" / DEMO_END / f"T01_{DEMO_END}.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["learning"]
    ws["A2"], ws["B2"], ws["C2"] = hostile[0] + hostile[1], hostile[2] + hostile[3], hostile[4]
    wb.save(path)

    monthly_run_plain(DEMO_END, demo_network, backfill=False, render=True, today=TODAY)
    pdf = joyflow_home / "reports" / DEMO_END / f"team_T01_{DEMO_END}.pdf"
    html = pdf.with_suffix(".html").read_text(encoding="utf-8")
    text = "\n".join(p.extract_text() or "" for p in PdfReader(str(pdf)).pages)

    assert hits == [], "the renderer made HTTP requests"
    assert _attachments(pdf) == [], "a file was embedded in the PDF"
    assert "root:x:0:0" not in text
    # The narratives are shown as the text the team typed, not interpreted as markup.
    assert "&lt;link rel=&#34;attachment&#34;" in html or "&lt;link rel=&quot;attachment&quot;" in html
    assert "<script>alert(1)</script>" not in html
    assert 'rel="attachment"' in text.replace("\n", " ")
    assert "alert(1)" in text


def test_svg_is_served_from_memory_but_urls_inside_it_are_still_refused(tmp_path: Path, listener) -> None:
    """Charts go to WeasyPrint as in-memory ``joyflow:svg/…`` images; what an SVG itself points
    at is fetched through the same refusing fetcher."""
    from reports.render import externalise_svgs

    url, hits = listener
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="40" '
        'height="20" viewBox="0 0 40 20" class="jf-chart"><title>A &amp; B</title>'
        f'<image href="file://{SECRET}" width="10" height="10"/><image xlink:href="{url}/x.png" '
        'width="10" height="10"/><rect width="40" height="20" fill="#0072B2"/></svg>'
    )
    html = f"<html lang='en'><head><title>t</title></head><body><p>{svg}</p><p>{svg}</p></body></html>"
    swapped, resources = externalise_svgs(html)
    assert "<svg" not in swapped and len(resources) == 1  # identical SVGs share one URL
    (key,) = resources
    assert key.startswith("joyflow:svg/") and swapped.count(f'src="{key}"') == 2
    assert 'alt="A &amp; B"' in swapped and 'width="40"' in swapped and 'class="jf-svg jf-chart"' in swapped
    target = tmp_path / "svg.pdf"
    _, _, refused = html_to_pdf(html, target)
    assert hits == []
    assert _attachments(target) == []
    assert any(r.startswith("file:") for r in refused) and any(r.startswith(url) for r in refused)
    assert not any(r.startswith("joyflow:") for r in refused)
