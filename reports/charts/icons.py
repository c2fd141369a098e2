"""Variation and assurance icons in the spirit of NHS "Making Data Count" (our own artwork).

Each icon doubles its colour with a shape and a letter so that it reads in greyscale:

- variation: improvement = blue disc, concern = orange diamond, neutral = purple hexagon,
  each with "H" or "L" (the signal is on the high or low side); common cause = grey ring
  with a wave;
- assurance: rounded squares: "P" (consistently passes the target, blue), "F" (consistently
  fails, orange), "?" (hit and miss, grey ring), "\u2013" (no target, dashed ring).
"""

from __future__ import annotations

from . import svg as S
from .svg import esc

__all__ = [
    "ASSURANCE_KINDS",
    "VARIATION_KINDS",
    "assurance_icon_svg",
    "icon_label",
    "icon_side",
    "icon_svg",
    "variation_icon_svg",
]

VARIATION_KINDS = (
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral",
    "common_cause",
)
ASSURANCE_KINDS = ("consistently_hit", "hit_and_miss", "consistently_miss", "none")

_LABELS = {
    "special_cause_improvement": "Special cause improvement",
    "special_cause_concern": "Special cause concern",
    "special_cause_neutral": "Special cause variation, neutral",
    "common_cause": "Common cause variation",
    "consistently_hit": "Consistently hits the target",
    "hit_and_miss": "Hits and misses the target (random variation)",
    "consistently_miss": "Consistently misses the target",
    "none": "No target",
}
_SIDE_WORDS = {"high": "higher values", "low": "lower values"}


def icon_side(kind: str, direction: str | None) -> str | None:
    """Which side the signal is on, from the measure's improvement direction ("up"/"down")."""
    if direction not in ("up", "down"):
        return None
    if kind == "special_cause_improvement":
        return "high" if direction == "up" else "low"
    if kind == "special_cause_concern":
        return "low" if direction == "up" else "high"
    return None


def icon_label(kind: str | None, *, direction: str | None = None, side: str | None = None) -> str:
    """The words for an icon ("Special cause improvement (higher values)", "No target", ...)."""
    kind = kind or "none"
    words = _LABELS.get(kind, kind.replace("_", " ").capitalize())
    side = side or icon_side(kind, direction)
    if kind.startswith("special_cause") and side in _SIDE_WORDS:
        words += f" ({_SIDE_WORDS[side]})"
    return words


def _open(kind: str, label: str, size: float) -> str:
    uid = S.svg_id("icon", kind, label, size)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{S.f1(size)}" height="{S.f1(size)}" '
        f'viewBox="0 0 24 24" role="img" aria-labelledby="{uid}-t" class="jf-icon jf-icon-{esc(kind)}" '
        f'font-family="{S.FONT_FAMILY}"><title id="{uid}-t">{esc(label)}</title>'
    )


def _letter(ch: str, colour: str, size: float = 12.5) -> str:
    y = 12 + 0.365 * size  # centre the cap height on the icon's centre
    return S.text_svg(
        12, y, ch, size, anchor="middle", bold=True, attrs=f' font-size="{size}" fill="{colour}"'
    )


def variation_icon_svg(
    kind: str,
    *,
    direction: str | None = None,
    side: str | None = None,
    size: float = 24,
    title: str | None = None,
) -> str:
    """A variation icon; ``side`` ("high"/"low") or ``direction`` ("up"/"down") picks H or L."""
    if kind not in VARIATION_KINDS:
        raise ValueError(f"unknown variation kind {kind!r}; expected one of {VARIATION_KINDS}")
    side = side or icon_side(kind, direction)
    label = S.clean(title) if title else icon_label(kind, side=side)
    letter = {"high": "H", "low": "L"}.get(side or "", "S")
    o = [_open(kind, label, size)]
    if kind == "special_cause_improvement":
        o.append(f'<circle cx="12" cy="12" r="11" fill="{S.IMPROVEMENT}"/>')
        o.append(_letter(letter, "#FFFFFF"))
    elif kind == "special_cause_concern":
        o.append(
            f'<path d="M12 0.8L23.2 12L12 23.2L0.8 12Z" fill="{S.CONCERN}" stroke="{S.CONCERN_EDGE}" '
            f'stroke-width="1" stroke-linejoin="round"/>'
        )
        o.append(_letter(letter, S.INK, 11))
    elif kind == "special_cause_neutral":
        o.append(
            f'<path d="M6.2 1.8H17.8L23.2 12L17.8 22.2H6.2L0.8 12Z" fill="{S.NEUTRAL}" '
            f'stroke="{S.NEUTRAL_EDGE}" stroke-width="1" stroke-linejoin="round"/>'
        )
        o.append(_letter(letter, S.INK))
    else:
        o.append(f'<circle cx="12" cy="12" r="10.6" fill="#FFFFFF" stroke="{S.COMMON}" stroke-width="1.6"/>')
        o.append(
            f'<path d="M5.5 12.5C7.5 8.5 9.5 8.5 12 12.2S16.5 15.8 18.5 11.5" fill="none" '
            f'stroke="{S.COMMON}" stroke-width="2" stroke-linecap="round"/>'
        )
    o.append("</svg>")
    return "".join(o)


def assurance_icon_svg(kind: str | None, *, size: float = 24, title: str | None = None) -> str:
    """An assurance icon: consistently_hit "P", consistently_miss "F", hit_and_miss "?", none "\u2013"."""
    kind = kind or "none"
    if kind not in ASSURANCE_KINDS:
        raise ValueError(f"unknown assurance kind {kind!r}; expected one of {ASSURANCE_KINDS}")
    label = S.clean(title) if title else icon_label(kind)
    o = [_open(kind, label, size)]
    box = 'x="1.2" y="1.2" width="21.6" height="21.6" rx="5"'
    if kind == "consistently_hit":
        o.append(f'<rect {box} fill="{S.IMPROVEMENT}"/>')
        o.append(_letter("P", "#FFFFFF"))
    elif kind == "consistently_miss":
        o.append(f'<rect {box} fill="{S.CONCERN}" stroke="{S.CONCERN_EDGE}" stroke-width="1"/>')
        o.append(_letter("F", S.INK))
    elif kind == "hit_and_miss":
        o.append(f'<rect {box} fill="#FFFFFF" stroke="{S.COMMON}" stroke-width="1.6"/>')
        o.append(_letter("?", S.COMMON, 13.5))
    else:
        o.append(
            f'<rect {box} fill="#FFFFFF" stroke="{S.FAINT}" stroke-width="1.2" stroke-dasharray="2.5 2"/>'
        )
        o.append(_letter("\u2013", S.FAINT))
    o.append("</svg>")
    return "".join(o)


def icon_svg(
    kind: str | None,
    *,
    direction: str | None = None,
    side: str | None = None,
    size: float = 24,
    title: str | None = None,
) -> str:
    """Any icon by kind (variation kinds take ``direction``/``side``)."""
    if kind in VARIATION_KINDS:
        return variation_icon_svg(kind, direction=direction, side=side, size=size, title=title)  # type: ignore[arg-type]
    return assurance_icon_svg(kind, size=size, title=title)
