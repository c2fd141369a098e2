"""Attendance exports are text: decode them by their byte-order mark and split them into cells.

Teams writes UTF-16 LE with a BOM and tabs, Zoom UTF-8 with a BOM and commas, a sign-in sheet
saved from Excel may be UTF-8 or Windows-1252. A file that is none of these is refused with a
sentence, never read as mojibake.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


@dataclass(frozen=True)
class Decoded:
    text: str | None
    encoding: str | None
    problem: str | None = None


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def decode(data: bytes) -> Decoded:
    """The file's text and the encoding it was read with, or why it could not be read."""
    decoded = _decode(data)
    if decoded.text is not None and _CONTROL.search(decoded.text[:65536]):
        return Decoded(None, None, "it holds binary data, not text (is it an image or a document?)")
    return decoded


def _decode(data: bytes) -> Decoded:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data[len(bom) :].decode(encoding.removesuffix("-sig")), encoding)
            except UnicodeDecodeError:
                return Decoded(
                    None, None, f"it starts as {encoding.upper()} text but is not valid {encoding}"
                )
    if data[:200].count(b"\x00") > len(data[:200]) // 4:
        # UTF-16 without its byte-order mark: every other byte of plain text is zero
        encoding = "utf-16-le" if data[1:200:2].count(b"\x00") > data[0:200:2].count(b"\x00") else "utf-16-be"
        try:
            return Decoded(data.decode(encoding), encoding)
        except UnicodeDecodeError:
            return Decoded(None, None, "it is neither UTF-8 nor UTF-16 text")
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return Decoded(None, None, "it is neither UTF-8, UTF-16 nor Windows-1252 text")
    return Decoded(text, "cp1252")


def rows(text: str, delimiter: str) -> list[list[str]]:
    """Every line's cells, trailing empty cells dropped (Teams pads rows with tabs)."""
    out = []
    for cells in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        while cells and not cells[-1].strip():
            cells.pop()
        out.append([c.strip() for c in cells])
    return out


def sniff_delimiter(text: str) -> str:
    head = text[:4000]
    return "\t" if head.count("\t") > head.count(",") else ","


def canonical(label: str) -> str:
    """'In-Meeting Duration' / 'In-meeting duration' / 'in meeting duration' all read the same."""
    return " ".join(label.replace("\ufeff", "").replace("-", " ").replace("_", " ").casefold().split())
