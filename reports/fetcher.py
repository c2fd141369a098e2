"""A WeasyPrint URL fetcher that fetches nothing it was not handed by the code.

WeasyPrint's default fetcher reads ``file:`` URLs and requests ``http(s):`` ones — for a
report built from teams' narratives that would let a crafted text embed local files in
the PDF or reach the network. Every chart and style joyflow uses is inline; this fetcher
serves only resources registered in memory under the ``joyflow:`` scheme and refuses, and
records, everything else.
"""

from __future__ import annotations

from weasyprint.urls import URLFetcher, URLFetcherResponse

REFUSAL = "joyflow refuses to fetch"


class RefusingFetcher(URLFetcher):
    def __init__(self, resources: dict[str, tuple[bytes, str]] | None = None) -> None:
        super().__init__(
            allowed_protocols={"joyflow"}, allow_redirects=False, fail_on_errors=False, timeout=1
        )
        self._resources = dict(resources or {})
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        resource = self._resources.get(url)
        if resource is None:
            self.refused.append(url[:200])
            raise ValueError(f"{REFUSAL} {url[:80]!r}: reports use only inline resources")
        body, mime = resource
        return URLFetcherResponse(url, body=body, headers={"Content-Type": mime}, status=200)

    def open(self, url, data=None, timeout=None):
        target = url if isinstance(url, str) else url.full_url
        return self.fetch(target)
