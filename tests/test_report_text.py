"""Text taken out of a report PDF (pdftotext, copy and paste) equals what the team wrote."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from markupsafe import escape

from reports import render

NOTE = (
    "HOSTILE-MARKER: a staff-led, well-being huddle; pre- and post-shift checks in "
    "C:/Users/ward-7/joy-in-work/pdsa-cycle-3-final.xlsx - see the follow-up (2025-03-04)."
)


def _extracted(pdf: Path) -> str:
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    )
    return " ".join(out.stdout.split())


@pytest.mark.parametrize("width_mm", [25, 31, 38, 47, 60, 85])
def test_hyphens_survive_text_extraction_wherever_the_lines_break(tmp_path: Path, width_mm: int) -> None:
    html = (
        '<!doctype html><html lang="en"><head><title>t</title></head><body>'
        f'<p style="width: {width_mm}mm">{escape(NOTE)}</p></body></html>'
    )
    render.html_to_pdf(html, tmp_path / "note.pdf")
    text = _extracted(tmp_path / "note.pdf").removesuffix(" Page 1 of 1")  # the page footer
    # Line breaks become spaces in the extracted text (after a slash, say); nothing else may differ.
    assert text.replace("/ ", "/") == " ".join(NOTE.split())


def test_without_the_fix_an_extractor_drops_the_hyphens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reason for reports.pdf_text: pdftotext joins a line ending in '-' to the next without it."""
    monkeypatch.setattr(render, "keep_hyphens_on_their_line", lambda html: html)
    html = f'<!doctype html><html lang="en"><body><p style="width: 25mm">{escape(NOTE)}</p></body></html>'
    render.html_to_pdf(html, tmp_path / "note.pdf")
    assert _extracted(tmp_path / "note.pdf").replace("/ ", "/") != " ".join(NOTE.split())
