"""The layer explorer's drawings: an image's layer stack, one layer's changes, two images compared.

Input is what :mod:`containerlab.images.tarball` reads from an image tarball, so the
drawings work without any engine. Deterministic: the same image gives the same SVG.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..images.tarball import FileChange, ImageReport, LayerReport
from ..text import human_size
from .svg import PALETTE, Diagram, Svg, Tone, text_width, truncate

__all__ = ["one_line_instruction", "image_layer_stack", "layer_changes", "compare_images"]

_HASH = re.compile(r"\b(file|dir|multi|sha256):([0-9a-f]{12})[0-9a-f]{20,}")
_WIDTH = 900.0
_ROW = 38.0
_GAP = 4.0
_BAR_X = 58.0
_BAR_W = 200.0
_DEVICES = {"char": "character device", "block": "block device", "fifo": "named pipe"}
_CHANGE = {"added": ("+", PALETTE.ok), "modified": ("~", PALETTE.warn), "deleted": ("−", PALETTE.fail)}




def one_line_instruction(instruction: str) -> str:
    """An instruction on one line with long hashes cut to 12 digits ('COPY file:73e2b2d48642 in /bin/busybox')."""
    text = " ".join(instruction.split())
    return _HASH.sub(lambda m: f"{m.group(1)}:{m.group(2)}", text) or "(no history: imported or hand-made)"


def _counts(layer: LayerReport) -> str:
    return f"+{len(layer.added)} ~{len(layer.modified)} −{len(layer.deleted)}"


def _bar(svg: Svg, x: float, y: float, h: float, layer: LayerReport, largest: int, tone: Tone,
         width: float = _BAR_W) -> None:
    """A size bar (proportional to the largest layer) with its wasted part in the highlight colour."""
    svg.rect(x, y, width, h, fill=PALETTE.background, stroke=PALETTE.border, rx=3)
    size = layer.disk_size
    if size <= 0 or largest <= 0:
        return
    bar = max(2.0, width * size / largest)
    svg.rect(x, y, bar, h, fill=tone.fill, stroke=tone.stroke, rx=3)
    if layer.wasted_bytes:
        wasted = max(2.0, bar * min(1.0, layer.wasted_bytes / size))
        svg.rect(x + bar - wasted, y, wasted, h, fill=PALETTE.highlight, rx=2)


def image_layer_stack(image: ImageReport, *, title: str | None = None, selected: int | None = None,
                shared: Iterable[str] = ()) -> Diagram:
    """The layers of an image, newest on top: size bar, change counts, instruction, wasted bytes.

    ``selected`` outlines one layer (by index); layers whose diff_id is in ``shared`` get the
    'shared' colour (used when comparing images).
    """
    p = PALETTE
    layers = list(image.layers)
    shared_ids = set(shared)
    largest = max((layer.disk_size for layer in layers), default=0)
    head = 74.0
    height = head + len(layers) * (_ROW + _GAP) + 58
    name = title or image.name
    svg = Svg(_WIDTH, height, f"Layers of {name}",
              description=f"{len(layers)} layers, newest on top; bars proportional to layer size")
    svg.text(20, 32, truncate(f"Layers of {name}", _WIDTH - 40, 18, bold=True), size=18, bold=True)
    svg.text(20, 54, f"{len(layers)} layers · {human_size(sum(layer.disk_size for layer in layers))} of files · "
             f"{human_size(image.wasted_bytes)} wasted · {image.file_count} files visible", size=12.5, fill=p.muted)
    svg.text(_BAR_X, head - 4, "size", size=10.5, fill=p.muted)
    svg.text(_BAR_X + _BAR_W + 10, head - 4, "changes", size=10.5, fill=p.muted)
    svg.text(_BAR_X + _BAR_W + 120, head - 4, "instruction that made the layer", size=10.5, fill=p.muted)
    text_x = _BAR_X + _BAR_W + 120
    for row, layer in enumerate(reversed(layers)):
        y = head + row * (_ROW + _GAP)
        tone = p.shared if layer.diff_id in shared_ids else p.host
        outline = p.highlight if layer.index == selected else p.border
        with svg.group(f"layer {layer.index}: {layer.diff_id}"):
            svg.rect(12, y, _WIDTH - 24, _ROW, fill=p.background if layer.index != selected else "#fdf2f8",
                     stroke=outline, stroke_width=2 if layer.index == selected else 1, rx=5)
            svg.text(20, y + _ROW / 2, f"#{layer.index}", size=12, bold=True, fill=p.muted, middle=True)
            _bar(svg, _BAR_X, y + 8, _ROW - 16, layer, largest, tone)
            svg.text(_BAR_X + _BAR_W + 10, y + 15, human_size(layer.disk_size), size=12, bold=True, fill=tone.ink)
            x = _BAR_X + _BAR_W + 10
            for kind, count in (("added", len(layer.added)), ("modified", len(layer.modified)),
                                ("deleted", len(layer.deleted))):
                symbol, colour = _CHANGE[kind]
                label = f"{symbol}{count}"
                svg.text(x, y + 30, label, size=11, mono=True, fill=colour if count else p.faint)
                x += text_width(label, 11, mono=True) + 6
            svg.text(text_x, y + 15, truncate(one_line_instruction(layer.instruction), _WIDTH - text_x - 24, 12,
                                              mono=True), size=12, mono=True)
            detail = f"diff_id {layer.short_id} · {layer.compression} blob {human_size(layer.size)}"
            if layer.wasted_bytes:
                svg.text(text_x, y + 30, f"{human_size(layer.wasted_bytes)} wasted (overwritten or deleted later)",
                         size=11, bold=True, fill=p.highlight)
                detail_x = text_x + text_width(f"{human_size(layer.wasted_bytes)} wasted (overwritten or deleted "
                                                "later)", 11, bold=True) + 12
            else:
                detail_x = text_x
            svg.text(detail_x, y + 30, truncate(detail, max(10.0, _WIDTH - detail_x - 24), 11), size=11,
                     fill=p.muted)
    legend_y = head + len(layers) * (_ROW + _GAP) + 22
    svg.rect(20, legend_y - 9, 14, 10, fill=p.host.fill, stroke=p.host.stroke, rx=2)
    svg.text(40, legend_y, "layer size (files + link targets)", size=11, fill=p.muted)
    svg.rect(236, legend_y - 9, 14, 10, fill=p.highlight, rx=2)
    svg.text(256, legend_y, "wasted: stored in this layer, hidden by a later one", size=11, fill=p.muted)
    svg.text(600, legend_y, "+ added   ~ modified   − deleted", size=11, fill=p.muted)
    if shared_ids:
        svg.rect(20, legend_y + 9, 14, 10, fill=p.shared.fill, stroke=p.shared.stroke, rx=2)
        svg.text(40, legend_y + 18, "shared with the other image (same diff_id)", size=11, fill=p.muted)
    summary = (f"{name}: {len(layers)} layers, {human_size(sum(layer.disk_size for layer in layers))}, "
               f"{human_size(image.wasted_bytes)} wasted")
    return Diagram(svg.to_string(), summary)


@dataclass
class _TreeNode:
    """A path component in one layer's change tree."""

    name: str
    change: str = ""
    item: FileChange | None = None
    children: dict[str, _TreeNode] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: {"added": 0, "modified": 0, "deleted": 0})

    def all_deleted(self) -> bool:
        """True when this node and everything under it was deleted."""
        return self.change == "deleted" and all(child.all_deleted() for child in self.children.values())


def _change_tree(layer: LayerReport) -> _TreeNode:
    root = _TreeNode("/")
    for kind, changes in (("deleted", layer.deleted), ("modified", layer.modified), ("added", layer.added)):
        for change in changes:
            node = root
            node.counts[kind] += 1
            for part in change.path.split("/"):
                node = node.children.setdefault(part, _TreeNode(part))
                node.counts[kind] += 1
            node.counts[kind] -= 1
            node.change, node.item = kind, change
    return root


@dataclass(frozen=True)
class _Line:
    depth: int
    node: _TreeNode | None
    label: str = ""
    collapsed: bool = False


def _tree_lines(root: _TreeNode, max_lines: int, per_dir: int) -> tuple[list[_Line], int]:
    """Depth-first lines, at most ``per_dir`` children per directory and ``max_lines`` in all."""
    lines: list[_Line] = []
    covered = 0

    def visit(node: _TreeNode, depth: int) -> None:
        nonlocal covered
        children = [node.children[name] for name in sorted(node.children)]
        for position, child in enumerate(children):
            if len(lines) >= max_lines:
                return
            if position == per_dir and len(children) > per_dir:
                rest = children[per_dir:]
                hidden = sum(sum(c.counts.values()) + (1 if c.change else 0) for c in rest)
                lines.append(_Line(depth, None, f"… {len(rest)} more entries ({hidden} changes)"))
                return
            collapsed = child.all_deleted() and bool(child.children)
            lines.append(_Line(depth, child, collapsed=collapsed))
            covered += 1 if child.change else 0
            if collapsed:
                covered += child.counts["deleted"]
            elif child.children:
                visit(child, depth + 1)

    visit(root, 0)
    return lines, covered


def layer_changes(layer: LayerReport, *, max_lines: int = 40, per_dir: int = 8, title: str | None = None) -> Diagram:
    """One layer's file changes as a tree: + added, ~ modified, − deleted (with sizes and link targets).

    Long listings are cut: at most ``per_dir`` entries per directory and ``max_lines`` lines;
    a directory deleted with all its contents is one line.
    """
    p = PALETTE
    root = _change_tree(layer)
    lines, covered = _tree_lines(root, max_lines, per_dir)
    total = len(layer.added) + len(layer.modified) + len(layer.deleted)
    hidden = total - covered
    line_h = 19.0
    head = 78.0
    height = head + max(1, len(lines)) * line_h + (line_h if hidden > 0 else 0) + 24
    heading = title or f"Layer #{layer.index}: {one_line_instruction(layer.instruction)}"
    svg = Svg(_WIDTH, height, heading, description=f"{total} changed paths in layer {layer.diff_id}")
    svg.text(20, 32, truncate(heading, _WIDTH - 40, 17, bold=True), size=17, bold=True)
    subtitle = (f"{len(layer.added)} added · {len(layer.modified)} modified · {len(layer.deleted)} deleted · "
                f"{human_size(layer.disk_size)} in this layer")
    if layer.wasted_bytes:
        subtitle += f" · {human_size(layer.wasted_bytes)} of it wasted later"
    svg.text(20, 54, subtitle, size=12.5, fill=p.muted)
    if not lines:
        svg.text(20, head + 10, "This layer changes no files.", size=12.5, italic=True, fill=p.muted)
    for row, line in enumerate(lines):
        y = head + row * line_h + 10
        x = 24 + line.depth * 18
        if line.node is None:
            svg.text(x + 16, y, line.label, size=11.5, italic=True, fill=p.muted)
            continue
        node = line.node
        symbol, colour = _CHANGE.get(node.change, (" ", p.ink))
        if node.change:
            svg.text(x, y, symbol, size=12.5, bold=True, mono=True, fill=colour)
        is_dir = bool(node.children) or (node.item is not None and node.item.kind == "dir")
        name = node.name + ("/" if is_dir else "")
        svg.text(x + 16, y, name, size=12, mono=True, fill=colour if node.change else p.ink,
                 bold=is_dir)
        after = x + 16 + text_width(name, 12, mono=True) + 8
        note = ""
        if line.collapsed:
            note = f"deleted with everything in it ({node.counts['deleted']} paths)"
        elif node.item is not None and node.item.kind == "symlink":
            note = f"→ {node.item.link_target}"
        elif node.item is not None and node.item.kind == "hardlink":
            note = f"hard link to {node.item.link_target}"
        elif node.item is not None and node.item.kind in _DEVICES:
            note = _DEVICES[node.item.kind]
        elif node.children and not node.change:
            note = " ".join(f"{_CHANGE[k][0]}{v}" for k, v in node.counts.items() if v)
        elif node.item is not None and node.change == "modified" and node.item.previous_layer is not None:
            note = f"replaces the copy from layer #{node.item.previous_layer}"
        elif node.item is not None and node.change == "deleted" and node.item.previous_layer is not None:
            note = f"from layer #{node.item.previous_layer}"
        size_text = human_size(node.item.size) if node.item is not None and node.item.kind == "file" else ""
        if note:
            room = _WIDTH - after - 40 - text_width(size_text, 11.5)
            svg.text(after, y, truncate(note, max(10.0, room), 11.5), size=11.5, fill=p.muted)
        if size_text:
            svg.text(_WIDTH - 24, y, size_text, size=11.5, fill=p.muted, anchor="end")
    if hidden > 0:
        svg.text(24, head + len(lines) * line_h + 10, f"… {hidden} more changed paths not shown", size=11.5,
                 italic=True, fill=p.muted)
    summary = f"layer #{layer.index}: +{len(layer.added)} ~{len(layer.modified)} −{len(layer.deleted)}"
    return Diagram(svg.to_string(), summary)


def compare_images(first: ImageReport, second: ImageReport, *, names: Sequence[str] | None = None) -> Diagram:
    """Two images side by side, bottom-aligned; layers with the same diff_id are shared and linked.

    Shared layers are stored once on a machine and pulled once from a registry.
    """
    p = PALETTE
    label_a, label_b = names or (first.name, second.name)
    ids_a = {layer.diff_id for layer in first.layers}
    shared = [layer for layer in second.layers if layer.diff_id in ids_a]
    shared_ids = {layer.diff_id for layer in shared}
    shared_bytes = sum({layer.diff_id: layer.disk_size for layer in shared}.values())
    rows = max(len(first.layers), len(second.layers))
    row_h, gap, head = 34.0, 4.0, 96.0
    height = head + rows * (row_h + gap) + 48
    column_w = 400.0
    columns = ((20.0, first, label_a, p.host), (_WIDTH - 20 - column_w, second, label_b, p.vm))
    largest = max([layer.disk_size for layer in (*first.layers, *second.layers)] or [0])
    svg = Svg(_WIDTH, height, f"{label_a} and {label_b}: shared layers",
              description=f"{len(shared_ids)} layers shared by diff_id")
    svg.text(20, 32, truncate(f"{label_a} vs {label_b}", _WIDTH - 40, 18, bold=True), size=18, bold=True)
    svg.text(20, 54, f"{len(shared_ids)} shared layers ({human_size(shared_bytes)} stored and pulled once); "
             "oldest layer at the bottom", size=12.5, fill=p.muted)
    positions: dict[tuple[int, str], float] = {}
    for side, (x, image, label, tone) in enumerate(columns):
        svg.text(x, head - 12, truncate(label, column_w, 13.5, bold=True), size=13.5, bold=True, fill=tone.ink)
        count = len(image.layers)
        for layer in image.layers:
            y = head + (rows - 1 - layer.index) * (row_h + gap)
            is_shared = layer.diff_id in shared_ids
            layer_tone = p.shared if is_shared else tone
            positions[(side, layer.diff_id)] = y + row_h / 2
            with svg.group(f"{label} layer {layer.index}: {layer.diff_id}"):
                svg.rect(x, y, column_w, row_h, fill=layer_tone.fill if is_shared else p.background,
                         stroke=layer_tone.stroke, stroke_width=1.5 if is_shared else 1, rx=5)
                svg.text(x + 8, y + row_h / 2, f"#{layer.index}", size=11.5, bold=True, fill=p.muted, middle=True)
                _bar(svg, x + 40, y + 9, row_h - 18, layer, largest, layer_tone, width=90)
                svg.text(x + 138, y + 14, human_size(layer.disk_size), size=11, bold=True, fill=layer_tone.ink)
                svg.text(x + 138, y + 27, layer.short_id, size=10, mono=True, fill=p.muted)
                svg.text(x + 226, y + row_h / 2, truncate(one_line_instruction(layer.instruction), column_w - 234, 11,
                                                          mono=True), size=11, mono=True, middle=True)
        if count == 0:
            svg.text(x, head + 12, "no layers", size=12, italic=True, fill=p.muted)
    left_edge, right_edge = 20.0 + column_w, _WIDTH - 20 - column_w
    for diff_id in sorted(shared_ids):
        y1, y2 = positions[(0, diff_id)], positions[(1, diff_id)]
        svg.line(left_edge, y1, right_edge, y2, stroke=p.shared.stroke, width=1.5, dashed=True)
    legend_y = head + rows * (row_h + gap) + 24
    svg.rect(20, legend_y - 9, 14, 10, fill=p.shared.fill, stroke=p.shared.stroke, rx=2)
    svg.text(40, legend_y, "same diff_id in both images: one copy on disk and in the registry", size=11,
             fill=p.muted)
    summary = (f"{label_a} ({len(first.layers)} layers) and {label_b} ({len(second.layers)} layers) share "
               f"{len(shared_ids)} layers, {human_size(shared_bytes)}")
    return Diagram(svg.to_string(), summary)
