"""Charts for the PDF coaching reports: hand-built, accessible, self-contained SVG strings.

- ``spc_chart_svg`` / ``chart_alt_text`` -- run and control charts with signals, phases,
  target, PDSA cycles and the network median (``draw_spc_chart`` / ``spc_alt_text`` take the
  same as a declared ``SpcChart``, see ``spec``);
- ``sparkline_svg`` -- the at-a-glance table's trend;
- ``variation_icon_svg`` / ``assurance_icon_svg`` / ``icon_svg`` / ``icon_label`` --
  Making Data Count style icons;
- ``bar_chart_svg`` / ``distribution_svg`` -- PDSA counts and the network's score distribution.

Every SVG has ``role="img"``, a ``<title>`` and a ``<desc>``, escapes all text, references
nothing outside itself and names fonts by family only, so it can be inlined in HTML for
WeasyPrint or saved as a standalone ``.svg`` file.
"""

from .bars import bar_chart_svg, distribution_svg
from .icons import assurance_icon_svg, icon_label, icon_side, icon_svg, variation_icon_svg
from .spark import sparkline_svg
from .spc import chart_alt_text, spc_chart_svg
from .svg import esc, nice_ticks

__all__ = [
    "assurance_icon_svg",
    "bar_chart_svg",
    "chart_alt_text",
    "distribution_svg",
    "esc",
    "icon_label",
    "icon_side",
    "icon_svg",
    "nice_ticks",
    "sparkline_svg",
    "spc_chart_svg",
    "variation_icon_svg",
]
