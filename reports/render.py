"""HTML and PDF rendering: Jinja2 templates → HTML → WeasyPrint PDF, in parallel worker processes.

A ``RenderJob`` carries a report's context (``reports.report_types``) to a worker, which draws
its charts (``reports.charts_for``), fills the template with the context's fields and the
drawings (``charts``), and writes the HTML and the PDF.
Each worker compiles the templates and parses the stylesheet once and reuses them for
every document it renders; workers are recycled after a number of documents because
WeasyPrint's memory creeps. Untrusted text is escaped by Jinja's autoescape, and the
fetcher refuses every URL but the chart images this module hands it from memory
(``joyflow:svg/…``, see ``externalise_svgs``), so a narrative can neither inject markup nor
pull in files.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import gc
import hashlib
import html as htmllib
import logging
import multiprocessing as mp
import os
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

import jinja2

from reports import filters
from reports.charts_for import NetworkCharts, TeamCharts, draw_charts
from reports.fetcher import REFUSAL, RefusingFetcher
from reports.pdf_text import keep_hyphens_on_their_line
from reports.report_types import ReportContext
from reports.svg_text import whole_run_svg_text
from templates import TEMPLATES_DIR

log = logging.getLogger(__name__)

PDF_VARIANTS = {"ua": "pdf/ua-1", "a": "pdf/a-3u", "none": None}
# documents a worker renders before it is replaced (its memory creeps ~0.1 MB per team report)
DOCS_PER_WORKER = 400
# WeasyPrint builds hundreds of thousands of short-lived objects per document; with Python's
# default thresholds (700, 10, 10) the collector runs thousands of times per report and often
# rescans the whole heap. Rarer collections while rendering: ~15 % less CPU per team report.
RENDER_GC_THRESHOLD = (20_000, 20, 10)


@contextlib.contextmanager
def _render_gc():
    old = gc.get_threshold()
    gc.set_threshold(*RENDER_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*old)


@dataclass(frozen=True)
class Rendered:
    kind: str
    team_id: str | None
    pdf_path: str
    html_path: str
    sha256: str
    pages: int
    content_key: str
    refused_urls: tuple[str, ...] = ()
    pid: int = 0  # the process that rendered it (parallel rendering is observable)


@dataclass(frozen=True)
class RenderJob:
    """One report to render: built by the parent process, pickled to a render worker.

    ``out`` is the path stem (``.html`` and ``.pdf`` are written beside it); ``report_id`` and
    ``content_key`` are what the warehouse records. ``context`` is None once the job is rendered
    and only its record is kept (at 5,000 teams the contexts held to the end were 0.6 GB)."""

    kind: str
    context: ReportContext | None
    out: str
    report_id: str = ""
    team_id: str | None = None
    variant: str = "ua"
    content_key: str = ""


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(["html", "j2", "xml"], default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    filters.install(env)
    return env


@lru_cache(maxsize=4)
def stylesheet(name: str = "report.css"):
    from weasyprint import CSS

    css_text = (TEMPLATES_DIR / name).read_text(encoding="utf-8")
    return CSS(string=css_text, url_fetcher=RefusingFetcher())


_per_thread = threading.local()


def font_config():
    """One WeasyPrint font configuration per thread, reused for every document it renders.

    WeasyPrint otherwise builds a new one per document, loading the fontconfig configuration and
    opening every font again (WeasyPrint's documented way to share fonts across documents; about
    8 % of a team report in interleaved measurements). The PDFs are byte for byte the same. Per thread, because Pango's font map is not thread-safe (Dask workers may
    render in several threads of one process). The stylesheet has no ``@font-face`` rules, so it
    need not share it."""
    config = getattr(_per_thread, "font_config", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = _per_thread.font_config = FontConfiguration()
    return config


def render_html(
    template: str, context: ReportContext, charts: TeamCharts | NetworkCharts | None = None
) -> str:
    """The report as HTML: the template reads the context's fields by name, and its drawings as
    ``charts``."""
    names = {f.name: getattr(context, f.name) for f in fields(context)}
    return environment().get_template(template).render(**names, kind=context.kind, charts=charts)


_SVG = re.compile(r"<svg\b([^>]*)>.*?</svg>", re.S)
_SVG_TITLE = re.compile(r"<title\b[^>]*>([^<]*)</title>")
_ATTRS = re.compile(r'\s(width|height|class)="([^"]*)"')


def externalise_svgs(html: str) -> tuple[str, dict[str, tuple[bytes, str]]]:
    """The HTML with each inline ``<svg>`` swapped for an ``<img>`` of the same SVG, served from
    memory under ``joyflow:svg/…`` (the only URLs ``RefusingFetcher`` answers), for the PDF.

    Same drawing, but WeasyPrint then parses each chart with its XML parser instead of its
    pure-Python HTML tokenizer and does not run the page's style cascade over every chart
    element -- about a fifth of a team report's render time. Identical SVGs (icons) share one
    URL, so WeasyPrint parses them once. The ``<img>`` keeps the size and classes and takes the
    SVG's ``<title>`` as ``alt`` (the PDF/UA ``/Alt`` of the figure, as for inline SVG).
    Literal ``<svg`` can only come from the charts: page text is escaped by the templates.
    """
    resources: dict[str, tuple[bytes, str]] = {}

    def swap(m: re.Match) -> str:
        svg = m.group(0)
        body = svg.encode("utf-8")
        url = "joyflow:svg/" + hashlib.sha1(body, usedforsecurity=False).hexdigest()[:16] + ".svg"
        resources[url] = (body, "image/svg+xml")
        attrs = dict(_ATTRS.findall(m.group(1)))
        title = _SVG_TITLE.search(svg)
        size = "".join(f' {k}="{attrs[k]}"' for k in ("width", "height") if k in attrs)
        cls = f"jf-svg {attrs.get('class', '')}".strip()
        alt = htmllib.escape(htmllib.unescape(title.group(1)), quote=True) if title else ""
        return f'<img src="{url}" alt="{alt}"{size} class="{cls}">'

    return _SVG.sub(swap, html), resources


class RenderError(RuntimeError):
    """WeasyPrint left part of a report out (it logs such failures and carries on)."""


class _Errors(logging.Handler):
    # Errors WeasyPrint logs for a URL the fetcher refused are expected: the fetcher lists those.

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if REFUSAL not in message:
            self.messages.append(message)


@contextlib.contextmanager
def _weasyprint_errors(name: str, resources: dict[str, tuple[bytes, str]]):
    """Fail the report instead of publishing a PDF with a chart silently missing."""
    handler = _Errors()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    if handler.messages:
        message = handler.messages[0]
        for url, (body, _mime) in resources.items():
            if url in message:
                title = _SVG_TITLE.search(body.decode("utf-8", "replace"))
                named = f'the chart "{htmllib.unescape(title.group(1))}"' if title else "a chart"
                message = message.replace(f"SVG image {url}", named).replace(url, named)
        raise RenderError(f"{name}: WeasyPrint could not draw all of the report ({message})")


def html_to_pdf(
    html: str, target: Path, variant: str = "ua", css: str = "report.css"
) -> tuple[bytes, int, list[str]]:
    from weasyprint import HTML

    html, resources = externalise_svgs(html)
    html = keep_hyphens_on_their_line(html)
    fetcher = RefusingFetcher(resources)
    with _weasyprint_errors(target.name, resources), whole_run_svg_text():
        document = HTML(string=html, base_url=None, url_fetcher=fetcher).render(
            stylesheets=[stylesheet(css)], font_config=font_config()
        )
        pdf = document.write_pdf(pdf_variant=PDF_VARIANTS[variant], uncompressed_pdf=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(pdf)
    os.replace(tmp, target)
    return pdf, len(document.pages), fetcher.refused


TEMPLATES = {
    "team": "team_report.html.j2",
    "network": "network_report.html.j2",
    "validation": "validation_report.html.j2",
    "feedback": "feedback_sheet.html.j2",
}


def render_one(job: RenderJob) -> Rendered:
    """Render one report (runs in a worker process): draw its charts, fill its template, write
    its HTML and PDF."""
    with _render_gc():
        return _render_one(job)


def _render_one(job: RenderJob) -> Rendered:
    if job.context is None:
        raise ValueError(f"{job.report_id or job.out}: a render job without its context")
    html = render_html(TEMPLATES[job.kind], job.context, draw_charts(job.context))
    stem = Path(job.out)
    html_path = stem.with_suffix(".html")
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(html, encoding="utf-8")
    pdf, pages, refused = html_to_pdf(html, stem.with_suffix(".pdf"), job.variant)
    if refused:
        log.warning("refused %d URL(s) while rendering %s", len(refused), stem.name)
    return Rendered(
        job.kind,
        job.team_id if job.kind == "team" else None,
        str(stem.with_suffix(".pdf")),
        str(html_path),
        hashlib.sha256(pdf).hexdigest(),
        pages,
        job.content_key,
        tuple(refused),
        os.getpid(),
    )


def _warm() -> None:
    """Import WeasyPrint and parse the stylesheet once per worker, before the first job; then
    leave everything loaded so far out of the collector's scans (``gc.freeze``)."""
    stylesheet()
    environment()
    font_config()
    gc.collect()
    gc.freeze()


# Relative cost of a document, to hand out the longest first: a 1,000-team network report takes
# ~30 team reports' time, and started last it would leave one core idle at the end.
_COST = {"network": 0, "validation": 1, "team": 2, "feedback": 3}


def dispatch_order(jobs: list[RenderJob]) -> list[int]:
    """Job indices, longest documents first (stable within a kind)."""
    return sorted(range(len(jobs)), key=lambda i: _COST.get(jobs[i].kind, 2))


class _Lane:
    """One worker process's queue: a single-process pool replaced after ``DOCS_PER_WORKER``
    documents. The old pool finishes what it was given while the new one starts, so a worker
    being recycled never holds up the others (no batch boundary), and a worker that dies fails
    the set (``BrokenProcessPool``) instead of hanging it."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.pool: cf.ProcessPoolExecutor | None = None
        self.given = 0
        self.retired: list[cf.ProcessPoolExecutor] = []

    def submit(self, job: RenderJob) -> cf.Future:
        if self.pool is None or self.given >= DOCS_PER_WORKER:
            if self.pool is not None:
                self.pool.shutdown(wait=False)  # finishes its queued documents, then exits
                self.retired.append(self.pool)
            self.pool = cf.ProcessPoolExecutor(max_workers=1, mp_context=self.ctx, initializer=_warm)
            self.given = 0
        self.given += 1
        return self.pool.submit(render_one, job)

    def close(self, cancel: bool = False) -> None:
        for pool in [*self.retired, *([self.pool] if self.pool else [])]:
            pool.shutdown(wait=True, cancel_futures=cancel)


def render_many(jobs: Iterable[RenderJob], workers: int | None = None, on_done=None) -> list[Rendered]:
    """Render in parallel processes; results come back in job order.

    A list is handed out longest documents first (``dispatch_order``); any other iterable in its
    own order, one job at a time as a worker frees up, so a generator can build the later jobs
    while the first ones render. Each worker process has its own lane (``_Lane``) with two
    documents in hand, so it never waits for the next one to be pickled."""
    workers = max(1, workers or os.cpu_count() or 1)
    if isinstance(jobs, list):
        if not jobs:
            return []
        pending: Iterator[tuple[int, RenderJob]] = ((i, jobs[i]) for i in dispatch_order(jobs))
        workers = min(workers, len(jobs))  # no idle worker processes for a short list
    else:
        pending = enumerate(jobs)
    results: dict[int, Rendered] = {}
    if workers == 1:
        for i, job in pending:
            results[i] = render_one(job)
            if on_done:
                on_done(results[i])
        return [results[i] for i in sorted(results)]
    ctx = mp.get_context("spawn")
    lanes = [_Lane(ctx) for _ in range(workers)]
    running: dict[cf.Future, tuple[int, _Lane]] = {}

    def feed(lane: _Lane) -> None:
        item = next(pending, None)
        if item is not None:
            running[lane.submit(item[1])] = (item[0], lane)

    failed = True
    try:
        for _ in range(2):
            for lane in lanes:
                feed(lane)
        while running:
            done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                i, lane = running.pop(fut)
                results[i] = fut.result()
                feed(lane)
                if on_done:
                    on_done(results[i])
        failed = False
    finally:
        for lane in lanes:
            lane.close(cancel=failed)
    return [results[i] for i in sorted(results)]
