"""Text extracted from a report PDF equals what was written: no line of page text ends in a hyphen.

Text extractors (pdftotext, most copy-and-paste, some screen readers) treat a line that ends in
'-' as a word broken by hyphenation and join it to the next line without the hyphen, so a learning
note reading ``staff-led`` broken after the hyphen comes out as ``staffled``, and a file path loses
its hyphens. No CSS property stops a line from breaking after a hyphen (``hyphens``, ``word-break``
and ``line-break`` govern other breaks), so each hyphen is kept on one line with its neighbours:
``staff-led`` becomes ``staf<span class="jf-nobr">f-l</span>ed``. The text itself is unchanged;
lines still break at spaces and after slashes.

Applied to the HTML given to WeasyPrint after the charts are taken out (``render.externalise_svgs``),
so only page text is touched: text inside ``<head>``, ``<style>`` and ``<script>`` is left alone,
and tags, attributes and character references are never split.
"""

from __future__ import annotations

import re

_TAG = re.compile(r"(<[^>]*>)")
# a hyphen (or a run of them), with the character before it and any spaces and character after:
# never a ';' before (the end of '&amp;'), never an '&' after (the start of one)
_HYPHEN_JOIN = re.compile(r"[^\s<>;&-]?-+(?:\s|&nbsp;)*[^\s<>&-]?")
_SKIP = ("head", "style", "script", "title")


def _wrap(text: str) -> str:
    return _HYPHEN_JOIN.sub(lambda m: f'<span class="jf-nobr">{m.group(0)}</span>', text)


def keep_hyphens_on_their_line(html: str) -> str:
    """The same HTML with every hyphen of page text bound to its neighbours (see the module doc)."""
    if "-" not in html:
        return html
    out = []
    skipping: str | None = None
    for piece in _TAG.split(html):
        if piece.startswith("<"):
            name = piece[1:].lstrip("/").split(None, 1)[0].rstrip(">").lower() if len(piece) > 2 else ""
            if skipping is None and name in _SKIP and not piece.startswith("</") and not piece.endswith("/>"):
                skipping = name
            elif skipping == name and piece.startswith("</"):
                skipping = None
            out.append(piece)
        elif skipping is None and "-" in piece:
            out.append(_wrap(piece))
        else:
            out.append(piece)
    return "".join(out)
