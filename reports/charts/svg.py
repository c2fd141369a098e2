"""Shared SVG plumbing: escaping, number formatting, text measurement, palette, nice ticks.

Everything here is plain string work so that thousands of charts can be built per second.
Text is measured with DejaVu Sans advance widths (the font the reports embed), which is
what keeps labels from overlapping without a layout engine.
"""

from __future__ import annotations

import math
import re
import unicodedata
import zlib

FONT_FAMILY = "'DejaVu Sans', sans-serif"

# Colour-blind-safe palette (Okabe-Ito) plus neutral greys. Every colour meaning is
# doubled by a shape, a dash pattern or a hatch so that the charts read in greyscale.
INK = "#1F1F1F"
MUTED = "#595959"  # 7:1 on white: secondary text
FAINT = "#8C8C8C"
GRID = "#E8E8E8"
AXIS = "#8C8C8C"
DATA_LINE = "#4A4A4A"
CENTRE = "#3A3A3A"
LIMIT = "#7A7A7A"
TARGET = "#009E73"
NETWORK = "#A8A8A8"
IMPROVEMENT = "#0072B2"
IMPROVEMENT_LIGHT = "#A9CDE6"
CONCERN = "#E69F00"
CONCERN_EDGE = "#8A5F00"
CONCERN_LIGHT = "#F6D68F"
NEUTRAL = "#CC79A7"
NEUTRAL_EDGE = "#8E4A72"
NEUTRAL_LIGHT = "#EBC6DA"
COMMON = "#6E6E6E"
COMMON_LIGHT = "#D2D2D2"
BADGE = "#333333"

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def esc(value: object) -> str:
    """XML-escape text for element content *and* attribute values; drop characters XML forbids."""
    s = value if isinstance(value, str) else str(value)
    if _INVALID_XML.search(s):
        s = _INVALID_XML.sub("", s)
    return (
        s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def clean(value: object) -> str:
    """One line of display text: characters XML forbids removed, whitespace runs collapsed."""
    s = value if isinstance(value, str) else str(value)
    if _INVALID_XML.search(s):
        s = _INVALID_XML.sub("", s)
    return " ".join(s.split())


def f1(v: float) -> str:
    """A coordinate with one decimal (enough at 96 dpi), without a trailing '.0'."""
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


def svg_id(*parts: object) -> str:
    """A deterministic id prefix for one SVG (element ids must be unique within an HTML page)."""
    return "jf" + format(zlib.crc32("\x1f".join(map(str, parts)).encode("utf-8", "replace")), "08x")


def svg_open(width: float, height: float, *, title: str, desc: str | None, uid: str, cls: str = "") -> str:
    """The root element with its accessible name (``<title>``) and description (``<desc>``;
    left out when ``desc`` is None or repeats the title)."""
    klass = f' class="{esc(cls)}"' if cls else ""
    has_desc = bool(desc) and desc != title
    labelled = f"{uid}-t {uid}-d" if has_desc else f"{uid}-t"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{f1(width)}" height="{f1(height)}" '
        f'viewBox="0 0 {f1(width)} {f1(height)}" role="img" aria-labelledby="{labelled}"{klass} '
        f'font-family="{FONT_FAMILY}" font-size="10">'
        f'<title id="{uid}-t">{esc(title)}</title>'
        + (f'<desc id="{uid}-d">{esc(desc)}</desc>' if has_desc else "")
    )


def text_svg(
    x: float, y: float, s: str, size: float, *, anchor: str = "start", bold: bool = False, attrs: str = ""
) -> str:
    """A ``<text>`` whose ``text-anchor`` is resolved here, from the DejaVu advance widths.

    WeasyPrint draws every middle- or end-anchored SVG text into its own PDF group to measure
    it first; placing the start ourselves keeps the same look without that cost. ``s`` is
    escaped here; ``attrs`` (e.g. ``' fill="#fff"'``) is passed through as it is.
    """
    if anchor != "start":
        w = text_width(s, size, bold)
        x -= w / 2 if anchor == "middle" else w
    fw = ' font-weight="bold"' if bold else ""
    return f'<text x="{f1(x)}" y="{f1(y)}"{fw}{attrs}>{esc(s)}</text>'


# --- text measurement -------------------------------------------------------------------------

# Advance widths (1/1000 em) of DejaVu Sans and DejaVu Sans Bold for ASCII 32..126.
_W_REGULAR = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636,
    636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632, 575, 775,
    752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390,
    337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612,
    635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
)  # fmt: skip
_W_BOLD = (
    348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696, 696,
    696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580, 1000, 774, 762, 734, 830, 683, 683, 821,
    837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457,
    365, 457, 838, 500, 500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687,
    716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838,
)  # fmt: skip


# A few non-ASCII characters the charts print (dashes, arrows, minus, ellipsis): regular, bold.
_W_EXTRA = {
    "\u2013": (500, 500),
    "\u2014": (1000, 1000),
    "\u2026": (1000, 1000),
    "\u00b7": (318, 380),
    "\u2191": (838, 838),
    "\u2193": (838, 838),
    "\u2212": (838, 838),
    "\u00d7": (838, 838),
    "\u2030": (1342, 1440),
}


def _char_w(ch: str, table: tuple[int, ...]) -> int:
    o = ord(ch)
    if 32 <= o < 127:
        return table[o - 32]
    extra = _W_EXTRA.get(ch)
    if extra is not None:
        return extra[table is _W_BOLD]
    if unicodedata.combining(ch):
        return 0
    return 1000 if unicodedata.east_asian_width(ch) in ("W", "F") else 680


def text_width(s: str, size: float, bold: bool = False) -> float:
    """Width in px of ``s`` set in DejaVu Sans at ``size`` px."""
    table = _W_BOLD if bold else _W_REGULAR
    if s.isascii():
        return sum(table[o - 32] if 32 <= o < 127 else 600 for o in s.encode()) * size / 1000
    return sum(_char_w(ch, table) for ch in s) * size / 1000


def fit(s: str, max_w: float, size: float, bold: bool = False) -> str:
    """``s`` shortened with an ellipsis so that it fits in ``max_w`` px."""
    s = " ".join(s.split())
    if text_width(s, size, bold) <= max_w:
        return s
    budget = max_w - size  # the ellipsis is one em wide in DejaVu Sans
    table = _W_BOLD if bold else _W_REGULAR
    out: list[str] = []
    used = 0.0
    for ch in s:
        w = _char_w(ch, table) * size / 1000
        if used + w > budget:
            break
        out.append(ch)
        used += w
    return "".join(out).rstrip() + "\u2026"


def wrap(s: str, max_w: float, size: float, max_lines: int = 2, bold: bool = False) -> list[str]:
    """Greedy word wrap into at most ``max_lines`` lines (the last one ellipsised if needed)."""
    words = s.split()
    lines: list[str] = []
    cur = ""
    for i, word in enumerate(words):
        trial = f"{cur} {word}" if cur else word
        if not cur or text_width(trial, size, bold) <= max_w:
            cur = trial
            continue
        lines.append(cur)
        cur = word
        if len(lines) == max_lines - 1:
            cur = " ".join(words[i:])
            break
    if cur:
        lines.append(cur)
    return [fit(line, max_w, size, bold) for line in lines[:max_lines]] or [""]


# --- numbers ----------------------------------------------------------------------------------


def nice_number(x: float, round_: bool) -> float:
    """Heckbert's 'nice number': 1, 2 or 5 times a power of ten, near ``x``."""
    if x <= 0 or not math.isfinite(x):
        return 1.0
    exp = math.floor(math.log10(x))
    f = x / 10**exp
    if round_:
        nf = 1 if f < 1.5 else 2 if f < 3 else 5 if f < 7 else 10
    else:
        nf = 1 if f <= 1 else 2 if f <= 2 else 5 if f <= 5 else 10
    return nf * 10.0**exp


def step_decimals(step: float) -> int:
    """Decimals needed to print multiples of ``step`` exactly (steps are 1, 2 or 5 x 10^k)."""
    return max(0, -math.floor(math.log10(step) + 1e-9))


def nice_ticks(lo: float, hi: float, max_ticks: int = 6) -> list[float]:
    """Nice axis ticks covering ``[lo, hi]`` (Heckbert, Graphics Gems 1990, 'loose labelling').

    The step is 1, 2 or 5 x 10^k, the first and last ticks enclose the data, and at most about
    ``max_ticks`` ticks are produced: 0..1 -> 0, 0.2, ..., 1; 5.3..7.9 -> 5, 6, 7, 8.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if lo > hi:
        lo, hi = hi, lo
    if hi - lo < 1e-12 * max(1.0, abs(lo), abs(hi)):
        if lo == 0:
            lo, hi = 0.0, 1.0
        else:
            pad = abs(lo) * 0.1
            lo, hi = (lo - pad, hi + pad) if lo < 0 else (max(0.0, lo - pad), hi + pad)
    max_ticks = max(2, max_ticks)
    span = nice_number(hi - lo, False)
    step = nice_number(span / (max_ticks - 1), True)
    # the loose range may still need more ticks than asked for: widen the step if so
    while math.ceil(hi / step - 1e-9) - math.floor(lo / step + 1e-9) + 1 > max_ticks + 1:
        step = nice_number(step * 1.5, True)
    first = math.floor(lo / step + 1e-9)
    last = math.ceil(hi / step - 1e-9)
    d = step_decimals(step)
    return [round(k * step, d) + 0.0 for k in range(first, last + 1)]


def fmt_num(v: float, decimals: int) -> str:
    """Thousands separators, fixed decimals, a real minus sign."""
    s = f"{v:,.{decimals}f}"
    if s.startswith("-"):
        s = "\u2212" + s[1:]
        if s.strip("\u22120.,") == "":  # -0.0
            s = s[1:]
    return s


def _own_decimals(v: float) -> int:
    for d in range(3):
        if abs(round(v, d) - v) <= 1e-9 * max(1.0, abs(v)):
            return d
    return 3


def value_decimals(values: list[float | None]) -> int:
    """Decimals for printing data values: one more than the axis step of their range, but
    no more than the values themselves carry (0.5-step scores print as 2.5, not 2.50)."""
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return 1
    ticks = nice_ticks(min(finite), max(finite), 6)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    return min(step_decimals(step) + 1, max(_own_decimals(v) for v in finite))


def with_unit(text: str, unit: str) -> str:
    if not unit:
        return text
    return f"{text}{unit}" if unit in ("%", "\u2030") else f"{text} {unit}"


def luminance(hex_colour: str) -> float:
    """Rec. 601 luma (0..255) of ``#RRGGBB``: what a greyscale print shows."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b


def hatch_path(x: float, y: float, w: float, h: float, spacing: float = 4.0) -> str:
    """45-degree hatch lines clipped to a rectangle, as path data (no <pattern>, no url())."""
    if w <= 0 or h <= 0:
        return ""
    parts: list[str] = []
    # lines x' - y' = c, for c from -h to w, in rectangle-local coordinates
    c = -h + (spacing - (h % spacing)) % spacing
    while c < w:
        x0, y0 = (c, 0.0) if c >= 0 else (0.0, -c)
        x1, y1 = (w, w - c) if w - c <= h else (c + h, h)
        if x1 - x0 > 0.3:
            parts.append(f"M{f1(x + x0)} {f1(y + h - y0)}L{f1(x + x1)} {f1(y + h - y1)}")
        c += spacing
    return "".join(parts)
