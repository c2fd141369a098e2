"""SVG text set as whole runs while WeasyPrint draws our charts.

WeasyPrint 70 sets every SVG ``<text>`` one letter at a time: a Pango layout per letter to
measure it, then another to draw it. A team report's charts carry about 800 letters (axis
labels, line labels, PDSA numbers), and laying them out so was a quarter of the report's render
time. The charts only ever use plain ``<text x=… y=…>`` with one position and no per-letter
adjustments; for those, one layout of the whole string with kerning and ligatures off (the
letter-by-letter path has neither, and ``reports.charts.svg.text_width`` measures without them)
puts every glyph where WeasyPrint's own path puts it, in a fraction of the time. Anything else
(``tspan``, ``dx``/``dy``/``rotate`` lists, ``textLength``, anchors, baselines) goes to
WeasyPrint's own code.

The swap is scoped (``whole_run_svg_text``) and only made on the WeasyPrint major version it was
written against; on any other it does nothing and the charts render the stock way.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Iterator
from math import inf

_WRITTEN_FOR = "70."
_lock = threading.Lock()
_depth = 0
_stock = None

# Attributes (own or inherited) that need WeasyPrint's per-letter path.
_PER_LETTER = (
    "dx",
    "dy",
    "rotate",
    "letter-spacing",
    "textLength",
    "lengthAdjust",
    "display-anchor",
    "dominant-baseline",
    "alignment-baseline",
    "direction",
)


def supported() -> bool:
    import weasyprint

    return weasyprint.__version__.startswith(_WRITTEN_FOR)


def _is_simple(node) -> bool:
    a = node.attrib
    t = node.text
    return (
        node.tag == "text"
        and bool(t)
        and t == t.strip()
        and "  " not in t
        and "x" in a
        and "y" in a
        and " " not in a["x"].strip()
        and " " not in a["y"].strip()
        and a.get("text-anchor", "start") == "start"
        and not any(k in a for k in _PER_LETTER)
        and len(node._etree_node) == 0  # no tspan children
    )


def _whole_run_text(svg, node, font_size) -> None:
    """WeasyPrint's ``svg.text.text`` for a simple ``<text>``: one layout for the whole string."""
    if not _is_simple(node):
        return _stock(svg, node, font_size)
    from weasyprint.css.properties import INITIAL_VALUES
    from weasyprint.draw.text import draw_emojis, draw_first_line
    from weasyprint.matrix import Matrix
    from weasyprint.svg.bounding_box import extend_bounding_box
    from weasyprint.svg.text import Style, TextBox
    from weasyprint.svg.utils import size
    from weasyprint.text.line_break import split_first_line

    style = Style()
    style.update(INITIAL_VALUES)
    style.font_config = svg.font_config
    style["font_family"] = [f.strip("\"'") for f in node.get("font-family", "sans-serif").split(",")]
    style["font_style"] = node.get("font-style", "normal")
    weight = str(node.get("font-weight", 400))
    style["font_weight"] = {"normal": 400, "bold": 700}.get(weight) or (
        int(weight) if weight.isdigit() else 400
    )
    style["font_size"] = font_size
    style["font_kerning"] = "none"
    style["font_variant_ligatures"] = "none"

    layout, _, _, width, height, baseline = split_first_line(node.text, style, svg.context, inf, 0)
    x = size(node.attrib["x"], font_size, svg.inner_width)
    y = size(node.attrib["y"], font_size, svg.inner_height)
    svg.cursor_d_position[0] = 0
    svg.cursor_d_position[1] = 0
    svg.cursor_position = x + width, y
    node.text_bounding_box = extend_bounding_box(
        node.text_bounding_box, ((x, y - baseline), (x + width, y - baseline + height))
    )

    svg.stream.push_state()
    fill, stroke = svg.set_graphical_state(node, font_size)
    svg.stream.begin_text()
    layout.reactivate(style)
    svg.fill_stroke(fill, stroke, text=True)
    box = TextBox(layout, style)
    box.baseline = baseline
    emojis = draw_first_line(svg.stream, box, "none", "none", Matrix(a=1, d=-1, e=x, f=y))
    svg.stream.end_text()
    svg.stream.pop_state()
    draw_emojis(svg.stream, style, x, y, emojis)


def _set(fn) -> None:
    svg = importlib.import_module("weasyprint.svg")
    # draw_node recognises text nodes by comparing TAGS entries with the module's ``text``
    svg.text = fn
    for tag in ("a", "text", "textPath", "tspan"):
        svg.TAGS[tag] = fn


@contextlib.contextmanager
def whole_run_svg_text() -> Iterator[bool]:
    """Within the block, simple SVG text is set as whole runs; yields whether it is."""
    global _depth, _stock
    if not supported():
        yield False
        return
    with _lock:
        if _depth == 0:
            _stock = importlib.import_module("weasyprint.svg.text").text
            _set(_whole_run_text)
        _depth += 1
    try:
        yield True
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _set(_stock)
