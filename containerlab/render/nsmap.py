"""The namespace map: who shares which namespace, as a grid of letters and colours.

Columns are processes (the host or this notebook first, then containers), rows the eight
namespace types. In each row the same letter means the same namespace (the same inode);
colours say how a cell relates to the first column: its namespace, one of the container's
own, one shared with another container, or unknown. Inode numbers never appear: they change
on every run, and the picture doubles as a regression test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..kernel.namespaces import NAMESPACE_TYPES, NamespaceComparison
from .svg import PALETTE, Diagram, Svg, Tone, text_width, truncate, wrap

__all__ = ["NamespaceCell", "namespace_cells", "namespace_map", "NAMESPACE_PURPOSE",
           "REFERENCE", "HOSTS", "OWN", "SHARED", "UNCOMPARED", "UNKNOWN"]

REFERENCE = "reference"
HOSTS = "host's"
OWN = "own"
SHARED = "shared"
UNCOMPARED = "uncompared"
UNKNOWN = "unknown"

NAMESPACE_PURPOSE: dict[str, str] = {
    "pid": "process IDs",
    "net": "interfaces, ports",
    "ipc": "SysV IPC, message queues",
    "mnt": "mount points",
    "uts": "hostname",
    "user": "user and group IDs",
    "cgroup": "cgroup root",
    "time": "boot, monotonic clocks",
}

_TALKS_FIVE = 5
_MARGIN = 24.0
_LABEL_W = 178.0
_CELL_H = 42.0
_GAP = 6.0
_SECTION_GAP = 26.0
_HEAD_H = 44.0


@dataclass(frozen=True)
class NamespaceCell:
    """One cell of the map: its letter, how it relates to the first column, who else has it.

    ``kind`` is REFERENCE (the first column), HOSTS (the first column's namespace), OWN, SHARED
    (with another column, not the first), UNCOMPARED (known, but the first column's is not) or UNKNOWN.
    """

    ns_type: str
    name: str
    letter: str
    kind: str
    partners: tuple[str, ...]
    reference: str = ""

    @property
    def caption(self) -> str:
        """The short words under the letter: "host's", "own", "with web", "? vs host", "unknown"."""
        if self.kind == SHARED:
            more = f" +{len(self.partners) - 1}" if len(self.partners) > 1 else ""
            return f"with {self.partners[0]}{more}"
        if self.kind == HOSTS:
            return f"{self.reference}'s"
        if self.kind == UNCOMPARED:
            return f"? vs {self.reference}"
        if self.kind == REFERENCE:
            return ""
        return self.kind


def namespace_cells(comparison: NamespaceComparison) -> list[list[NamespaceCell]]:
    """Rows (one per namespace type) of cells (one per name), classified against the first name."""
    names = comparison.names
    reference = names[0] if names else ""
    rows = []
    for ns_type in NAMESPACE_TYPES:
        letters: dict[str, str] = {}
        members: dict[str, list[str]] = {}
        for index, group in enumerate(comparison.groups(ns_type)):
            for name in group:
                letters[name] = _letter(index)
                members[name] = group
        row = []
        for name in names:
            if name not in letters:
                row.append(NamespaceCell(ns_type, name, "?", UNKNOWN, (), reference))
                continue
            partners = tuple(other for other in members[name] if other != name)
            if name == reference:
                kind = REFERENCE
            elif reference in members[name]:
                kind = HOSTS
            elif partners:
                kind = SHARED
            elif reference in letters:
                kind = OWN
            else:
                kind = UNCOMPARED
            row.append(NamespaceCell(ns_type, name, letters[name], kind, partners, reference))
        rows.append(row)
    return rows


def _letter(index: int) -> str:
    """A, B, ..., Z, then AA, AB, ...: a stable short label for the n-th namespace of a row."""
    label = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        label = chr(ord("A") + rest) + label
    return label


_UNCOMPARED_TONE = Tone("#f3f4f6", "#6b7280", "#1f2937")


def _tone(kind: str) -> Tone:
    p = PALETTE
    tones = {REFERENCE: p.host, HOSTS: p.host, OWN: p.isolated, SHARED: p.shared, UNCOMPARED: _UNCOMPARED_TONE}
    return tones.get(kind, p.plain)


def _tooltip(cell: NamespaceCell, reference: str) -> str:
    where = {
        REFERENCE: "the reference column",
        HOSTS: f"the same namespace as {reference}",
        OWN: "its own namespace",
        SHARED: "shared with " + ", ".join(cell.partners),
        UNCOMPARED: f"its own or {reference}'s: {reference}'s is unknown",
        UNKNOWN: "unknown (not readable here)",
    }[cell.kind]
    return f"{cell.name}: {cell.ns_type} namespace {cell.letter}, {where}"


def namespace_map(comparison: NamespaceComparison, *, title: str = "Namespace map",
                  notes: Mapping[str, str] | None = None) -> Diagram:
    """Draw which namespaces the compared processes share; the first one is the reference
    (the host or this notebook). ``notes`` puts a short line under a column's name, e.g.
    ``{"side": "--network=container:web"}``."""
    names = comparison.names
    if not names:
        raise ValueError("nothing to draw: the comparison has no processes")
    notes = dict(notes or {})
    unknown_notes = sorted(set(notes) - set(names))
    if unknown_notes:
        raise ValueError(f"notes for names not in the comparison: {', '.join(unknown_notes)}")
    p = PALETTE
    reference = names[0]
    rows = namespace_cells(comparison)

    name_w = max(text_width(name, 12.5, bold=True) for name in names) + 14
    note_w = max([text_width(word, 10.5) + 12 for note in notes.values() for word in note.split()] + [0])
    cell_w = min(150.0, max(86.0, name_w, note_w))
    note_lines = {name: wrap(note, cell_w - 8, 10.5)[:2] for name, note in notes.items() if note.strip()}
    head_h = _HEAD_H + (12 if any(len(lines) > 1 for lines in note_lines.values()) else 0)
    grid_x = _MARGIN + _LABEL_W
    grid_w = len(names) * (cell_w + _GAP) - _GAP
    legend = [
        (p.host, f"{reference}: its namespace, or shared with it"),
        (p.isolated, "own: a namespace of its own"),
        (p.shared, "with …: shared with another container"),
        (p.plain, "?: unknown (not readable here)"),
    ]
    if any(cell.kind == UNCOMPARED for row in rows for cell in row):
        legend.append((_UNCOMPARED_TONE, f"? vs {reference}: known, but {reference}'s is not"))
    width = max(grid_x + grid_w + _MARGIN, 640.0)
    legend = [(tone, truncate(label, width - 2 * _MARGIN - 26, 12)) for tone, label in legend]
    legend_w = [26 + text_width(label, 12) for _, label in legend]
    legend_lines = _flow(legend_w, width - 2 * _MARGIN, 18)
    header_y = 74.0
    row_y = [header_y + head_h + _GAP + i * (_CELL_H + _GAP) + (_SECTION_GAP if i >= _TALKS_FIVE else 0)
             for i in range(len(NAMESPACE_TYPES))]
    legend_y = row_y[-1] + _CELL_H + 30
    height = legend_y + len(legend_lines) * 24 + 14

    svg = Svg(width, height, title,
              description="Same letter in a row = same namespace. Columns: " + ", ".join(names) + ".")
    svg.text(_MARGIN, 34, truncate(title, width - 2 * _MARGIN, 18, bold=True), size=18, bold=True)
    svg.text(_MARGIN, 56, truncate("Same letter in a row = same namespace (the same inode in /proc/PID/ns).",
                                   width - 2 * _MARGIN, 12), size=12, fill=p.muted)

    for column, name in enumerate(names):
        x = grid_x + column * (cell_w + _GAP)
        tone = p.host if column == 0 else p.container
        lines = note_lines.get(name, [])
        with svg.group(f"{name}: {notes[name]}" if lines else name):
            svg.rect(x, header_y, cell_w, head_h, fill=tone.fill, stroke=tone.stroke, rx=5)
            centre = header_y + (head_h / 2 if not lines else 15)
            svg.text(x + cell_w / 2, centre, truncate(name, cell_w - 10, 12.5, bold=True, middle=True),
                     size=12.5, bold=True, fill=tone.ink, anchor="middle", middle=True)
            for index, line in enumerate(lines):
                svg.text(x + cell_w / 2, header_y + 31 + index * 12, line, size=10.5, fill=p.muted,
                         anchor="middle", middle=True)

    divider_y = row_y[_TALKS_FIVE - 1] + _CELL_H + 8
    svg.line(_MARGIN, divider_y, grid_x + grid_w, divider_y, stroke=p.border, dashed=True)
    svg.text(_MARGIN, row_y[0] - 10, "the talk's five", size=10.5, italic=True, fill=p.muted)
    svg.text(_MARGIN, row_y[_TALKS_FIVE] - 6, "and three more", size=10.5, italic=True, fill=p.muted)

    for ns_type, cells, y in zip(NAMESPACE_TYPES, rows, row_y):
        svg.text(_MARGIN, y + 17, ns_type, size=14, bold=True, mono=True)
        svg.text(_MARGIN, y + 34, truncate(NAMESPACE_PURPOSE[ns_type], _LABEL_W - 12, 11), size=11,
                 fill=p.muted)
        for column, cell in enumerate(cells):
            x = grid_x + column * (cell_w + _GAP)
            tone = _tone(cell.kind)
            with svg.group(_tooltip(cell, reference)):
                svg.rect(x, y, cell_w, _CELL_H, fill=tone.fill, stroke=tone.stroke, rx=5,
                         stroke_width=1.5 if cell.kind == REFERENCE else 1.0,
                         dashed=cell.kind == UNKNOWN)
                caption = cell.caption
                letter_y = y + (_CELL_H / 2 if not caption else 15)
                svg.text(x + cell_w / 2, letter_y, cell.letter, size=15, bold=True, fill=tone.ink,
                         anchor="middle", middle=True)
                if caption:
                    svg.text(x + cell_w / 2, y + 32, truncate(caption, cell_w - 8, 10.5, middle=True),
                             size=10.5, fill=tone.ink, anchor="middle", middle=True)

    for line_index, items in enumerate(legend_lines):
        x = _MARGIN
        y = legend_y + line_index * 24
        for item in items:
            tone, label = legend[item]
            svg.rect(x, y - 7, 16, 14, fill=tone.fill, stroke=tone.stroke, rx=3,
                     dashed=tone == p.plain)
            svg.text(x + 22, y, label, size=12, fill=p.ink, middle=True)
            x += legend_w[item] + 18
    return Diagram(svg.to_string(), _summary(title, names, rows))


def _flow(widths: list[float], available: float, gap: float) -> list[list[int]]:
    """Indexes of legend items laid out left to right, wrapping onto new lines."""
    lines: list[list[int]] = [[]]
    used = 0.0
    for index, w in enumerate(widths):
        if lines[-1] and used + gap + w > available:
            lines.append([])
            used = 0.0
        used += (gap if lines[-1] else 0) + w
        lines[-1].append(index)
    return lines


_MAX_SUMMARY_LINES = 8


def _summary(title: str, names: list[str], rows: list[list[NamespaceCell]]) -> str:
    """One line naming the columns, then per container: own, the reference's, shared, unknown."""
    reference, others = names[0], names[1:]
    lines = [f"{title}: {reference} vs {', '.join(others)}" if others else f"{title}: {reference} only"]
    for column, name in enumerate(names):
        cells = [row[column] for row in rows]
        parts = []
        for kind, label in ((OWN, "own"), (HOSTS, f"{reference}'s"), (UNCOMPARED, f"? vs {reference}"),
                            (UNKNOWN, "unknown")):
            types = [c.ns_type for c in cells if c.kind == kind]
            if types:
                parts.append(f"{label} {' '.join(types)}")
        partners: dict[str, list[str]] = {}
        for c in cells:
            if c.kind == SHARED:
                partners.setdefault(", ".join(c.partners), []).append(c.ns_type)
        parts.extend(f"{' '.join(types)} with {who}" for who, types in partners.items())
        if parts or column:
            lines.append(f"{name}: {'; '.join(parts)}")
    if len(lines) > _MAX_SUMMARY_LINES:
        hidden = len(lines) - (_MAX_SUMMARY_LINES - 1)
        lines = lines[: _MAX_SUMMARY_LINES - 1] + [f"… and {hidden} more"]
    return "\n".join(lines)
