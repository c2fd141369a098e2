"""HTML and PDF rendering: Jinja2 templates → HTML → WeasyPrint PDF, in parallel worker processes.

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
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from joyflow.settings import TEMPLATES_DIR
from reports import filters
from reports.fetcher import RefusingFetcher

log = logging.getLogger(__name__)

PDF_VARIANTS = {"ua": "pdf/ua-1", "a": "pdf/a-3u", "none": None}
DOCS_PER_WORKER = 100  # documents a worker renders before it is replaced (memory creep)
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


def render_html(template: str, context: dict) -> str:
    return environment().get_template(template).render(**context)


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


def html_to_pdf(
    html: str, target: Path, variant: str = "ua", css: str = "report.css"
) -> tuple[bytes, int, list[str]]:
    from weasyprint import HTML

    html, resources = externalise_svgs(html)
    fetcher = RefusingFetcher(resources)
    document = HTML(string=html, base_url=None, url_fetcher=fetcher).render(stylesheets=[stylesheet(css)])
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


def render_one(job: dict) -> Rendered:
    """Render one report (runs in a worker process). ``job``: kind, context, out (path stem), variant."""
    with _render_gc():
        return _render_one(job)


def _render_one(job: dict) -> Rendered:
    from reports.charts_for import attach_charts

    context = attach_charts(job["kind"], job["context"])
    html = render_html(TEMPLATES[job["kind"]], context)
    stem = Path(job["out"])
    html_path = stem.with_suffix(".html")
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(html, encoding="utf-8")
    pdf, pages, refused = html_to_pdf(html, stem.with_suffix(".pdf"), job.get("variant", "ua"))
    if refused:
        log.warning("refused %d URL(s) while rendering %s", len(refused), stem.name)
    return Rendered(
        job["kind"],
        job["context"].get("team", {}).get("team_id") if job["kind"] == "team" else None,
        str(stem.with_suffix(".pdf")),
        str(html_path),
        hashlib.sha256(pdf).hexdigest(),
        pages,
        job.get("content_key", ""),
        tuple(refused),
        os.getpid(),
    )


def _warm() -> None:
    """Import WeasyPrint and parse the stylesheet once per worker, before the first job; then
    leave everything loaded so far out of the collector's scans (``gc.freeze``)."""
    stylesheet()
    environment()
    gc.collect()
    gc.freeze()


def render_many(jobs: list[dict], workers: int | None = None, on_done=None) -> list[Rendered]:
    """Render in parallel processes; results come back in job order.

    Workers are recycled by running the jobs in batches, one fresh pool per batch of
    ``workers × DOCS_PER_WORKER`` documents. (``max_tasks_per_child`` would do it, but on
    Python 3.11 the pool deadlocks once every worker has retired.)"""
    if not jobs:
        return []
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    if workers == 1:
        results = []
        for job in jobs:
            results.append(render_one(job))
            if on_done:
                on_done(results[-1])
        return results
    ctx = mp.get_context("spawn")
    results: list[Rendered | None] = [None] * len(jobs)
    batch = workers * DOCS_PER_WORKER
    for start in range(0, len(jobs), batch):
        chunk = range(start, min(start + batch, len(jobs)))
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_warm) as pool:
            futures = {pool.submit(render_one, jobs[i]): i for i in chunk}
            for fut in cf.as_completed(futures):
                results[futures[fut]] = fut.result()
                if on_done:
                    on_done(results[futures[fut]])
    return [r for r in results if r is not None]


def inline_svg(svg: str) -> Markup:
    """Charts are built by our own code with every label escaped: safe to mark up."""
    return Markup(svg)
