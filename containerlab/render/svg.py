"""A tiny deterministic SVG builder: same calls in, byte-identical SVG out.

Pure standard library. Everything is written with presentation attributes (no
``<style>``), because an SVG inlined in a notebook page would leak its CSS into
the whole page.
"""

from __future__ import annotations

import base64
import html
import math
import os
import re
from collections.abc import Container, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SANS = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"
MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, DejaVu Sans Mono, monospace"

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def esc(text: object) -> str:
    """XML-escape ``text`` for element content and double- or single-quoted attributes."""
    s = _XML_INVALID.sub("\ufffd", str(text))
    return (
        s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def num(x: float) -> str:
    """Format a coordinate with at most two decimals, no trailing zeros and never ``-0``."""
    if isinstance(x, bool) or not math.isfinite(x):
        raise ValueError(f"not a finite number: {x!r}")
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


@dataclass(frozen=True)
class Tone:
    """A fill, a stroke and a text colour that belong together."""

    fill: str
    stroke: str
    ink: str


@dataclass(frozen=True)
class Palette:
    """The course's fixed colours; tints are light so the SVG reads on its own white card."""

    background: str = "#ffffff"
    border: str = "#d1d5db"
    ink: str = "#1f2937"
    muted: str = "#4b5563"
    faint: str = "#9ca3af"
    highlight: str = "#db2777"
    host: Tone = Tone("#e0ecff", "#3b6fd8", "#1e3a8a")
    container: Tone = Tone("#dcf5e6", "#15803d", "#14532d")
    kernel: Tone = Tone("#fdeccc", "#d97706", "#7c2d12")
    vm: Tone = Tone("#ece7fe", "#7c3aed", "#4c1d95")
    hardware: Tone = Tone("#e5e7eb", "#6b7280", "#111827")
    shared: Tone = Tone("#fde3a7", "#b45309", "#78350f")
    isolated: Tone = Tone("#d5f3ef", "#0f766e", "#134e4a")
    plain: Tone = Tone("#ffffff", "#9ca3af", "#1f2937")
    ok: str = "#16a34a"
    warn: str = "#d97706"
    fail: str = "#dc2626"
    skip: str = "#9ca3af"


PALETTE = Palette()

# Advance widths in 1/1000 em of a Helvetica-like face, scaled so the estimate
# matches DejaVu Sans (Linux's usual sans-serif, wider than Helvetica, Segoe or SF).
_WIDTHS = {
    **dict.fromkeys(" !,./:;I[\\]fijlt|", 278),
    **dict.fromkeys("ijl", 222),
    **dict.fromkeys("\"'", 250),
    **dict.fromkeys("()-`r", 333),
    **dict.fromkeys("*^{}", 400),
    **dict.fromkeys("Jckszvxy", 500),
    **dict.fromkeys("#$0123456789?_abdeghnopqu+<=>~L", 560),
    **dict.fromkeys("FTZ", 611),
    **dict.fromkeys("ABEKPSVXY&", 667),
    **dict.fromkeys("CDHNRUw", 722),
    **dict.fromkeys("GOQ", 778),
    **dict.fromkeys("mM", 833),
    **dict.fromkeys("%W", 920),
    "@": 1015,
}
_SCALE = 1.15
_BOLD = 1.16


def text_width(text: str, size: float, *, bold: bool = False, mono: bool = False) -> float:
    """Estimate the rendered width of ``text`` in user units, erring on the wide side."""
    if mono:
        return len(text) * 0.61 * size
    units = sum(_WIDTHS.get(ch, 1000 if ord(ch) > 0x2E80 else 600) for ch in text)
    return units / 1000 * size * _SCALE * (_BOLD if bold else 1.0)


def truncate(text: str, width: float, size: float, *, bold: bool = False, mono: bool = False,
             middle: bool = False) -> str:
    """Shorten ``text`` with an ellipsis so that it fits in ``width``.

    ``middle`` keeps both ends, which tells apart names that share a long prefix.
    """
    def fits(candidate: str) -> bool:
        return text_width(candidate, size, bold=bold, mono=mono) <= width

    if fits(text):
        return text
    if middle:
        for keep in range(len(text) - 1, 0, -1):
            head, tail = text[: (keep + 1) // 2], text[len(text) - keep // 2:] if keep // 2 else ""
            if fits(head + "…" + tail):
                return head + "…" + tail
        return "…"
    while text and not fits(text + "…"):
        text = text[:-1]
    return text.rstrip() + "…"


def wrap(text: str, width: float, size: float, *, bold: bool = False, mono: bool = False) -> list[str]:
    """Greedy word wrap to ``width``; a single over-long word is truncated."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and text_width(candidate, size, bold=bold, mono=mono) > width:
            lines.append(current)
            candidate = word
        current = candidate
    if current:
        lines.append(current)
    return [truncate(line, width, size, bold=bold, mono=mono) for line in lines] or [""]


class Svg:
    """Collects SVG elements in call order and serialises them one per line."""

    def __init__(self, width: float, height: float, title: str, *, description: str = "",
                 palette: Palette = PALETTE) -> None:
        self.width = width
        self.height = height
        self.title = title
        self.description = description
        self.palette = palette
        self._body: list[str] = []
        self._markers: set[str] = set()
        self._depth = 0

    def _emit(self, tag: str, attrs: dict[str, object], content: str | None = None) -> None:
        parts = [tag]
        for key, value in attrs.items():
            if value is None or value is False:
                continue
            shown = num(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else esc(value)
            parts.append(f'{key}="{shown}"')
        opening = " ".join(parts)
        if content is None:
            self._body.append(f"<{opening}/>")
        else:
            self._body.append(f"<{opening}>{content}</{tag}>")

    def rect(self, x: float, y: float, w: float, h: float, *, fill: str = "none",
             stroke: str | None = None, stroke_width: float = 1.0, rx: float = 0.0,
             dashed: bool = False) -> None:
        """A rectangle; ``dashed`` draws its outline as dashes."""
        self._emit("rect", {
            "x": x, "y": y, "width": w, "height": h, "rx": rx or None, "fill": fill,
            "stroke": stroke, "stroke-width": stroke_width if stroke else None,
            "stroke-dasharray": "6 4" if dashed else None,
        })

    def circle(self, cx: float, cy: float, r: float, *, fill: str, stroke: str | None = None) -> None:
        """A circle."""
        self._emit("circle", {"cx": cx, "cy": cy, "r": r, "fill": fill, "stroke": stroke})

    def text(self, x: float, y: float, content: str, *, size: float = 13, fill: str | None = None,
             bold: bool = False, italic: bool = False, mono: bool = False, anchor: str = "start",
             middle: bool = False, rotate: float | None = None) -> None:
        """Text at baseline ``y``, or vertically centred on ``y`` when ``middle``."""
        if anchor not in ("start", "middle", "end"):
            raise ValueError(f"bad text anchor {anchor!r}")
        baseline = y + 0.35 * size if middle else y
        self._emit("text", {
            "x": x, "y": baseline, "font-size": size, "fill": fill or self.palette.ink,
            "font-weight": "bold" if bold else None, "font-style": "italic" if italic else None,
            "font-family": MONO if mono else None,
            "text-anchor": None if anchor == "start" else anchor,
            "transform": f"rotate({num(rotate)} {num(x)} {num(baseline)})" if rotate else None,
        }, esc(content))

    def line(self, x1: float, y1: float, x2: float, y2: float, *, stroke: str,
             width: float = 1.0, dashed: bool = False) -> None:
        """A straight line."""
        self._emit("line", {
            "x1": x1, "y1": y1, "x2": x2, "y2": y2, "stroke": stroke, "stroke-width": width,
            "stroke-dasharray": "4 3" if dashed else None,
        })

    def path(self, d: str, *, stroke: str, fill: str = "none", width: float = 1.0,
             dashed: bool = False, arrow: bool = False) -> None:
        """A path; ``arrow`` puts an arrowhead in the stroke colour at its end."""
        marker = None
        if arrow:
            self._markers.add(stroke)
            marker = f"url(#{_marker_id(stroke)})"
        self._emit("path", {
            "d": d, "fill": fill, "stroke": stroke, "stroke-width": width,
            "stroke-dasharray": "4 3" if dashed else None, "marker-end": marker,
        })

    def arrow(self, x1: float, y1: float, x2: float, y2: float, *, stroke: str,
              width: float = 1.5, dashed: bool = False) -> None:
        """A straight arrow from (x1, y1) to (x2, y2)."""
        self.path(f"M{num(x1)} {num(y1)}L{num(x2)} {num(y2)}", stroke=stroke, width=width,
                  dashed=dashed, arrow=True)

    @contextmanager
    def group(self, title: str | None = None) -> Iterator[None]:
        """Wrap the elements drawn inside the ``with`` block in ``<g>``, with a tooltip title."""
        self._body.append("<g>" if title is None else f"<g><title>{esc(title)}</title>")
        try:
            yield
        finally:
            self._body.append("</g>")

    def to_string(self) -> str:
        """The whole document; markers and background come first, in a fixed order."""
        p = self.palette
        head = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{num(self.width)}" '
            f'height="{num(self.height)}" viewBox="0 0 {num(self.width)} {num(self.height)}" '
            f'role="img" font-family="{esc(SANS)}">',
            f"<title>{esc(self.title)}</title>",
        ]
        if self.description:
            head.append(f"<desc>{esc(self.description)}</desc>")
        if self._markers:
            head.append("<defs>")
            for colour in sorted(self._markers):
                head.append(
                    f'<marker id="{_marker_id(colour)}" viewBox="0 0 10 10" refX="9" refY="5" '
                    f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
                    f'<path d="M0 0L10 5L0 10z" fill="{esc(colour)}"/></marker>'
                )
            head.append("</defs>")
        head.append(
            f'<rect x="0.5" y="0.5" width="{num(self.width - 1)}" height="{num(self.height - 1)}" '
            f'rx="8" fill="{esc(p.background)}" stroke="{esc(p.border)}"/>'
        )
        return "\n".join([*head, *self._body, "</svg>"]) + "\n"


def _marker_id(colour: str) -> str:
    """A marker id derived from its colour only, so identical markers share identical ids."""
    return "clab-arrow-" + re.sub(r"[^0-9A-Za-z]", "", colour)


@dataclass(frozen=True, repr=False)
class Diagram:
    """A rendered SVG plus a short, stable text summary; displays itself in Jupyter."""

    svg: str
    summary: str

    def _repr_mimebundle_(self, include: Container[str] | None = None,
                          exclude: Container[str] | None = None) -> dict[str, str]:
        bundle = {"text/plain": self.summary, "image/svg+xml": self.svg, "text/html": self.html()}
        return {
            mime: data for mime, data in bundle.items()
            if (include is None or mime in include) and (exclude is None or mime not in exclude)
        }

    def _repr_svg_(self) -> str:
        return self.svg

    def html(self) -> str:
        """The SVG as an <img> data URI: shown even in untrusted notebooks, where raw SVG is not."""
        encoded = base64.b64encode(self.svg.encode()).decode()
        alt = html.escape(self.summary.splitlines()[0] if self.summary else "diagram", quote=True)
        return f'<img src="data:image/svg+xml;base64,{encoded}" alt="{alt}" style="max-width:100%">'

    def __str__(self) -> str:
        return self.summary

    def __repr__(self) -> str:
        first = self.summary.splitlines()[0] if self.summary else ""
        return f"<Diagram: {first}>"

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the SVG to ``path`` (UTF-8) and return it as a Path."""
        target = Path(path)
        target.write_text(self.svg, encoding="utf-8")
        return target
