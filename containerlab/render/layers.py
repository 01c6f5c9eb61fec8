"""The layer stack: an overlay's read-only layers bottom-up, the writable upper layer, the merged view.

Pure: layers in (anything with a ``label``; optionally ``size`` in bytes, ``changes``, ``kind``,
``tag``), a deterministic SVG out. Sizes are drawn as rounded categories ("1–10 MB"), never as
exact byte counts, so the same image drawn on another host gives the same picture.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .svg import PALETTE, Diagram, Svg, Tone, text_width, truncate

__all__ = ["StackLayer", "SIZE_CATEGORIES", "size_category", "overlay_stack", "side_by_side"]

SIZE_CATEGORIES = ("empty", "< 1 kB", "1–10 kB", "10–100 kB", "0.1–1 MB", "1–10 MB", "10–100 MB",
                   "0.1–1 GB", "≥ 1 GB")
_READ_ONLY_KINDS = ("image", "lower", "init")

_WIDTH = 800.0
_MARGIN = 24.0
_TAG_W = 76.0
_BOX_X = _MARGIN + _TAG_W
_BOX_W = _WIDTH - _MARGIN - _BOX_X
_ROW_H = 30.0
_ROW_GAP = 4.0
_LABEL_SIZE = 12.0
_LABEL_W = 380.0
_COUNTS_X = _BOX_X + 10 + _LABEL_W + 12
_BAR_X = _BOX_X + _BOX_W - 190
_BAR_W = 88.0
_MONO_ADVANCE = 0.61


@dataclass(frozen=True)
class StackLayer:
    """One row of the stack: what to print (label), its size in bytes, its change counts."""

    label: str
    size: int | None = None
    changes: Any = None
    kind: str = "image"
    tag: str = ""


def size_category(size: int | float | None) -> tuple[int, str]:
    """A size rounded to an order of magnitude: (bucket 0..8, label); (-1, '') when unknown."""
    if size is None:
        return -1, ""
    if size <= 0:
        return 0, SIZE_CATEGORIES[0]
    bucket = 1 if size < 1000 else min(len(SIZE_CATEGORIES) - 1, int(math.log10(size)) - 1)
    return bucket, SIZE_CATEGORIES[bucket]


def _fit_mono(text: str, width: float, size: float) -> str:
    """Cut monospace text to ``width`` with an ellipsis, in one step (no per-character loop)."""
    text = " ".join(str(text).split())
    room = int(width / (_MONO_ADVANCE * size))
    if len(text) <= room:
        return text
    return text[: max(room - 1, 0)].rstrip() + "…"


def _field(layer: Any, name: str, default: Any) -> Any:
    value = layer.get(name, default) if isinstance(layer, Mapping) else getattr(layer, name, default)
    return default if value is None and default is not None else value


def _tone(kind: str) -> Tone:
    p = PALETTE
    return {"image": p.host, "lower": p.host, "init": p.shared, "upper": p.container}.get(kind, p.host)


def _row(svg: Svg, y: float, layer: Any, tag: str, kind: str) -> str:
    """Draw one layer row; return its line for the text summary."""
    p = PALETTE
    tone = _tone(kind)
    label = str(_field(layer, "label", ""))
    changes = _field(layer, "changes", None)
    bucket, category = size_category(_field(layer, "size", None))
    counts = str(changes) if changes is not None else ""
    svg.text(_BOX_X - 10, y + _ROW_H / 2, truncate(tag, _TAG_W - 14, 11.5, bold=True), size=11.5,
             bold=True, fill=tone.ink, anchor="end", middle=True)
    svg.rect(_BOX_X, y, _BOX_W, _ROW_H, fill=tone.fill, stroke=tone.stroke,
             stroke_width=2 if kind == "upper" else 1, rx=4)
    label_w = _LABEL_W if counts else _BAR_X - _BOX_X - 24
    svg.text(_BOX_X + 10, y + _ROW_H / 2, _fit_mono(label, label_w, _LABEL_SIZE), size=_LABEL_SIZE,
             mono=True, fill=tone.ink, middle=True)
    if counts:
        svg.text(_COUNTS_X, y + _ROW_H / 2, truncate(counts, _BAR_X - _COUNTS_X - 10, 11.5, bold=True),
                 size=11.5, bold=True, fill=tone.ink, middle=True)
    if bucket >= 0:
        svg.rect(_BAR_X, y + _ROW_H / 2 - 4, _BAR_W, 8, fill=p.background, stroke=p.border, rx=2)
        if bucket:
            svg.rect(_BAR_X, y + _ROW_H / 2 - 4, _BAR_W * bucket / (len(SIZE_CATEGORIES) - 1), 8,
                     fill=tone.stroke, rx=2)
        svg.text(_BOX_X + _BOX_W - 10, y + _ROW_H / 2, category, size=11, fill=p.muted, anchor="end",
                 middle=True)
    details = ", ".join(part for part in (category, counts) if part)
    return f"{tag}: {label}" + (f" ({details})" if details else "")


def overlay_stack(layers: Sequence[Any], *, upper: Any = None, merged: str | None = "merged view",
                title: str = "Overlay layer stack") -> Diagram:
    """Read-only ``layers`` (bottom first) stacked bottom-up, the writable ``upper`` layer on top
    of them and the ``merged`` view above all. A layer is a StackLayer, a mapping or any object
    with ``label`` (and optionally ``size``, ``changes``, ``kind``: image | lower | init, ``tag``)."""
    p = PALETTE
    rows: list[tuple[Any, str, str]] = []
    number = 0
    for layer in layers:
        kind = str(_field(layer, "kind", "image"))
        if kind not in _READ_ONLY_KINDS:
            raise ValueError(f"layer kind {kind!r}: use one of {', '.join(_READ_ONLY_KINDS)} (pass upper= "
                             "for the writable layer)")
        if kind == "init":
            tag = "init"
        else:
            number += 1
            tag = f"layer {number}"
        rows.append((layer, str(_field(layer, "tag", "") or tag), kind))
    top = 76.0
    merged_h = 34.0 if merged is not None else 0.0
    y = top + (merged_h + 18 if merged is not None else 0)
    upper_y = y
    if upper is not None:
        y += _ROW_H + 16
    stack_y = y
    stack_h = max(len(rows), 1) * (_ROW_H + _ROW_GAP) - _ROW_GAP
    legend_y = stack_y + stack_h + 30
    height = legend_y + 54
    read_only = sum(1 for _, _, kind in rows if kind != "init")
    svg = Svg(_WIDTH, height, title,
              description=f"{read_only} read-only layer(s) stacked bottom-up"
                          + (", a writable upper layer" if upper is not None else "")
                          + (", and the merged view on top" if merged is not None else ""))
    svg.text(_MARGIN, 34, truncate(title, _WIDTH - 2 * _MARGIN, 18, bold=True), size=18, bold=True)
    svg.text(_MARGIN, 56, "Read bottom-up: each layer lies over the ones below it; "
                          "a path is served by the highest layer that has it.", size=12, fill=p.muted)
    summary = [title]
    if merged is not None:
        svg.rect(_BOX_X, top, _BOX_W, merged_h, fill=p.isolated.fill, stroke=p.isolated.stroke,
                 stroke_width=1.5, rx=6, dashed=True)
        svg.text(_BOX_X - 10, top + merged_h / 2, "merged", size=11.5, bold=True, fill=p.isolated.ink,
                 anchor="end", middle=True)
        svg.text(_BOX_X + 10, top + merged_h / 2, truncate(merged, _BOX_W - 20, 13, bold=True), size=13,
                 bold=True, fill=p.isolated.ink, middle=True)
        svg.arrow(_BOX_X + _BOX_W / 2, top + merged_h + 16, _BOX_X + _BOX_W / 2, top + merged_h + 2,
                  stroke=p.isolated.stroke, width=1.5)
        summary.append(f"merged: {merged}")
    if upper is not None:
        upper_tag = str(_field(upper, "tag", "") or "upper")
        summary.append(_row(svg, upper_y, upper, upper_tag, "upper"))
        svg.text(_BOX_X + _BOX_W, upper_y + _ROW_H + 12, "read-only below, writable above", size=10.5,
                 italic=True, fill=p.muted, anchor="end")
        svg.line(_BOX_X, upper_y + _ROW_H + 8, _BOX_X + _BOX_W - 180, upper_y + _ROW_H + 8,
                 stroke=p.faint, dashed=True)
    for i, (layer, tag, kind) in enumerate(reversed(rows)):
        summary.append(_row(svg, stack_y + i * (_ROW_H + _ROW_GAP), layer, tag, kind))
    if not rows:
        svg.rect(_BOX_X, stack_y, _BOX_W, _ROW_H, fill=p.background, stroke=p.faint, rx=4, dashed=True)
        svg.text(_BOX_X + _BOX_W / 2, stack_y + _ROW_H / 2, "no read-only layers", size=12, italic=True,
                 fill=p.muted, anchor="middle", middle=True)
        summary.append("no read-only layers")
    legend = [(tone, text) for tone, text, shown in (
        (p.host, "read-only layer", True),
        (p.shared, "engine's init layer", any(kind == "init" for _, _, kind in rows)),
        (p.container, "writable upper", upper is not None),
        (p.isolated, "merged view", merged is not None)) if shown]
    x = _MARGIN
    for tone, text in legend:
        svg.rect(x, legend_y - 10, 12, 12, fill=tone.fill, stroke=tone.stroke, rx=2)
        svg.text(x + 18, legend_y, text, size=12, fill=p.ink)
        x += 18 + text_width(text, 12) + 22
    svg.text(_MARGIN, legend_y + 24, "+ added  ·  ~ changed (copied up)  ·  \N{MINUS SIGN} deleted (a whiteout "
                                     "hides the path in every layer below)", size=12, fill=p.muted)
    return Diagram(svg.to_string(), "\n".join(summary))


def side_by_side(columns: Mapping[str, Sequence[Any]], *, width: int = 16) -> str:
    """A text table of paths (rows) in several layer directories (columns).

    Each column holds entries with ``path`` and ``shown`` (see kernel.overlay.LayerEntry); a path a
    column lacks shows '·'. Deterministic: rows sorted by path.
    """
    cells: dict[str, dict[str, str]] = {}
    for name, entries in columns.items():
        for entry in entries:
            cells.setdefault(entry.path, {})[name] = str(entry.shown)
    path_w = max([len("path")] + [len(path) for path in cells])

    def cut(text: str) -> str:
        return text if len(text) <= width else text[: width - 1] + "…"

    lines = ["  ".join(["path".ljust(path_w), *(cut(name).ljust(width) for name in columns)]).rstrip()]
    for path in sorted(cells):
        row = [path.ljust(path_w), *(cut(cells[path].get(name, "·")).ljust(width) for name in columns)]
        lines.append("  ".join(row).rstrip())
    return "\n".join(lines)

