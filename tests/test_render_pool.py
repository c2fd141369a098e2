"""Parallel rendering recycles its worker processes without hanging (a Python 3.11 pool pitfall)."""

from __future__ import annotations

import os
import threading
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

import reports.render as render
from reports.render import RenderJob
from reports.report_types import FileRow, ValidationContext


def _job(tmp_path: Path, i: int) -> RenderJob:
    ctx = ValidationContext(
        period="2026-10",
        period_label="October 2026",
        network_name="Test",
        run_id=f"r{i}",
        files=(FileRow(f"T0{i}_2026-10.xlsx", f"T0{i}", "accepted", 0, "ab" * 32),),
        by_check=(),
        issues=(),
    )
    return RenderJob(kind="validation", context=ctx, out=str(tmp_path / f"v{i}"), content_key=str(i))


def test_workers_are_recycled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "DOCS_PER_WORKER", 1)  # every worker retires after one document
    jobs = [_job(tmp_path, i) for i in range(5)]
    done = render.render_many(jobs, workers=2)
    assert [Path(r.pdf_path).name for r in done] == [f"v{i}.pdf" for i in range(5)]
    assert len({r.pid for r in done}) == 5  # a fresh process for every document
    assert "T03_2026-10.xlsx" in PdfReader(done[3].pdf_path).pages[0].extract_text()


def test_the_longest_documents_are_handed_out_first() -> None:
    kinds = ["team", "feedback", "team", "validation", "network", "feedback", "team"]
    order = render.dispatch_order([RenderJob(kind=k, context=None, out="") for k in kinds])
    assert [kinds[i] for i in order] == [
        "network",
        "validation",
        "team",
        "team",
        "team",
        "feedback",
        "feedback",
    ]
    assert order[2:5] == [0, 2, 6]  # stable within a kind


def test_a_failing_document_fails_the_set_without_hanging(tmp_path: Path) -> None:
    jobs = [_job(tmp_path, i) for i in range(4)]
    jobs[2] = replace(jobs[2], kind="no such report")
    with pytest.raises(KeyError, match="no such report"):
        render.render_many(jobs, workers=2)


class _DiesWhenUnpickled:
    """Kills the worker process that receives it, as an out-of-memory kill would."""

    def __reduce__(self):
        return (os._exit, (3,))


def test_a_worker_that_dies_fails_the_set_instead_of_hanging(tmp_path: Path) -> None:
    jobs = [_job(tmp_path, i) for i in range(4)]
    poisoned = replace(jobs[1].context, files=(*jobs[1].context.files, _DiesWhenUnpickled()))
    jobs[1] = replace(jobs[1], context=poisoned)
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            render.render_many(jobs, workers=2)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive(), "render_many hung after a worker died"
    assert isinstance(outcome[0], BrokenProcessPool)


def _pages_as_pixels(pdf: Path) -> list[bytes]:
    doc = pdfium.PdfDocument(str(pdf))
    try:
        return [page.render(scale=1).to_pil().tobytes() for page in doc]
    finally:
        doc.close()


@pytest.mark.parametrize("subsetter", ["harfbuzz", "fonttools"])
def test_the_shared_font_configuration_changes_nothing_on_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, subsetter: str
) -> None:
    """Sharing one font configuration between documents draws every page as a fresh one would.

    Compared as pixels and text, not bytes: WeasyPrint subsets fonts with HarfBuzz where Debian's
    libharfbuzz-subset0 is installed and with fontTools elsewhere, and fontTools' output differs in
    its bytes from one document to the next even with nothing shared.
    """
    import weasyprint.pdf.fonts as weasyprint_fonts

    if subsetter == "fonttools":
        monkeypatch.setattr(weasyprint_fonts, "harfbuzz_subset", None)
    elif weasyprint_fonts.harfbuzz_subset is None:
        pytest.skip("libharfbuzz-subset0 is not installed: WeasyPrint subsets with fontTools only")
    html = render.render_html(render.TEMPLATES["validation"], _job(tmp_path, 7).context)
    render.html_to_pdf(html, tmp_path / "a.pdf")
    render.html_to_pdf(html, tmp_path / "b.pdf")  # the same configuration, now warm
    from weasyprint.text.fonts import FontConfiguration

    monkeypatch.setattr(render, "font_config", FontConfiguration)  # a new one, as WeasyPrint's default
    render.html_to_pdf(html, tmp_path / "c.pdf")
    first, again, fresh = (_pages_as_pixels(tmp_path / f"{n}.pdf") for n in "abc")
    assert first == again == fresh
    texts = {n: [p.extract_text() for p in PdfReader(tmp_path / f"{n}.pdf").pages] for n in "abc"}
    assert texts["a"] == texts["b"] == texts["c"]
    assert "T07_2026-10.xlsx" in texts["a"][0]


def test_each_thread_has_its_own_font_configuration() -> None:
    mine = render.font_config()
    assert render.font_config() is mine
    theirs: list = []
    thread = threading.Thread(target=lambda: theirs.append(render.font_config()))
    thread.start()
    thread.join()
    assert theirs[0] is not mine


def test_jobs_from_a_generator_are_taken_as_workers_free_up(tmp_path: Path) -> None:
    taken: list[int] = []
    seen_at_first_result: list[int] = []

    def jobs():
        for i in range(7):
            taken.append(i)
            yield _job(tmp_path, i)

    def done(_r) -> None:
        if not seen_at_first_result:
            seen_at_first_result.append(len(taken))

    out = render.render_many(jobs(), workers=2, on_done=done)
    assert [Path(r.pdf_path).name for r in out] == [f"v{i}.pdf" for i in range(7)]  # in the order given
    assert seen_at_first_result[0] <= 5  # two in hand per worker, plus the one just taken
    assert taken == list(range(7))
