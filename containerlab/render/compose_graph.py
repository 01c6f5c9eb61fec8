"""Draw a Compose project: services grouped by network, volumes, dependencies, published ports.

Pure standard library: it takes a :class:`containerlab.compose.ComposeProject` (used by its
attributes only, so importing this module does not import YAML) and returns a Diagram.

Layout. Each network is a horizontal band. Networks are ordered so that networks sharing
services sit next to each other; two neighbouring bands then overlap, and the services on
both networks sit in the overlap (drawn in the mix of both colours, like a Venn diagram).
A service on networks that could not be made neighbours sits in its first network and says
"also on: ...". Columns follow the start order: a service is left of what it depends on, so
dependency arrows run left to right (``A → B``: A waits for B), labelled with the condition,
and pass the boxes in between through the gaps between rows. Named volumes are cylinders in
a row below the bands, with dashed lines to the services that mount them. Published ports
are tags in the service box; a port published beyond loopback is flagged in red. An
optional ``status`` overlay colours each box and adds a badge (running, healthy, unhealthy,
starting, exited).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .svg import PALETTE, Diagram, Svg, Tone, num, text_width, truncate

if TYPE_CHECKING:
    from ..compose import ComposeProject, PortMapping, Service

__all__ = ["STATUSES", "compose_graph"]

STATUSES = ("running", "healthy", "unhealthy", "starting", "exited")

_BOX_W = 188.0
_GUTTER = 132.0          # left column holding the network labels
_COL_GAP = 104.0         # between dependency columns: room for arrow labels
_SUB_GAP = 28.0          # between boxes of one column when nothing needs the room
_ROW_GAP = 20.0
_BAND_PAD = 14.0
_BAND_GAP = 10.0
_LABEL_MIN = 64.0
_MARGIN = 16.0
_TITLE_H = 58.0
_CYL_W, _CYL_H, _CYL_RY = 124.0, 48.0, 6.0
_VOLUME_GAP = 18.0
_MAX_COLUMNS = 6
_PORT_ROWS = 2

_NETWORK_TONES: tuple[Tone, ...] = (PALETTE.host, PALETTE.isolated, PALETTE.vm, PALETTE.kernel,
                                    PALETTE.container, PALETTE.hardware)
_MISC_TONE = Tone("#f3f4f6", "#9ca3af", "#374151")
_VOLUME_TONE = PALETTE.shared
_PUBLIC = Tone("#fee2e2", "#dc2626", "#991b1b")
_LOOPBACK = Tone("#fef3c7", "#b45309", "#78350f")
_CHIP = Tone("#f3f4f6", "#d1d5db", "#374151")
_STATUS_COLOURS = {"running": PALETTE.ok, "healthy": PALETTE.ok, "unhealthy": PALETTE.fail,
                   "starting": PALETTE.warn, "exited": PALETTE.skip}
_STATUS_MARKS = {"running": "\N{BLACK CIRCLE}", "healthy": "\N{CHECK MARK}", "unhealthy": "\N{BALLOT X}",
                 "starting": "\N{WHITE CIRCLE}", "exited": "\N{BLACK SQUARE}"}
_EDGE_STYLES = {  # condition -> (colour, label)
    "service_started": (PALETTE.muted, "started"),
    "service_healthy": (PALETTE.ok, "healthy"),
    "service_completed_successfully": (PALETTE.vm.stroke, "completed"),
}


@dataclass
class _Box:
    """Where one service is drawn, and what is drawn in it."""

    name: str
    x: float = 0.0
    y: float = 0.0
    column: int = 0
    lane: int = 0
    band: tuple[str, int] = ("net", 0)
    also_on: tuple[str, ...] = ()


def compose_graph(project: ComposeProject, status: Mapping[str, str] | None = None, *,
                  title: str | None = None) -> Diagram:
    """Render ``project`` as an SVG Diagram; ``status`` maps service names to live states."""
    states = dict(status or {})
    for service, state in states.items():
        if state not in STATUSES:
            raise ValueError(f"status of {service!r} is {state!r}; use one of: {', '.join(STATUSES)}")
    states = {name: states[name] for name in project.services if name in states}
    layout = _Layout(project, with_status=bool(states))
    svg = Svg(layout.width, layout.height, title or _title(project),
              description=_summary(project, states))
    layout.draw(svg, states, title or _title(project))
    return Diagram(svg.to_string(), _summary(project, states))


def _title(project: ComposeProject) -> str:
    return f"Compose project {project.name}" if project.name else "Compose project"


def _plural(count: int, word: str) -> str:
    if count == 1:
        return f"1 {word}"
    return f"{count} {word[:-1]}ies" if word.endswith("y") else f"{count} {word}s"


def _listing(names: list[str], limit: int = 8) -> str:
    shown = names[:limit]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f", +{more} more" if more else "")


def _summary(project: ComposeProject, states: Mapping[str, str]) -> str:
    """One stable line: counts and names, the published ports, the live states if given."""
    services = list(project.services)
    networks = [n for n, members in project.network_members().items() if members] or list(project.networks)
    volumes = list(project.volumes)
    ports = [f"{name} {port.label()}" for name, port in project.published_ports()]
    text = (f"{_title(project)}: {_plural(len(services), 'service')} ({_listing(services)}); "
            f"{_plural(len(networks), 'network')} ({_listing(networks) or 'none'}); "
            f"{_plural(len(volumes), 'volume')} ({_listing(volumes) or 'none'}); "
            f"{_plural(len(project.dependency_edges()), 'dependency')}; "
            f"ports: {_listing(ports, 6) or 'none'}")
    public = project.public_ports()
    if public:
        text += f"; {len(public)} published beyond 127.0.0.1"
    if states:
        text += "; status: " + ", ".join(f"{n} {s}" for n, s in states.items())
    return text + "."


def _network_order(project: ComposeProject) -> list[str]:
    """Networks in a chain where networks that share services are neighbours (greedy, stable)."""
    members = project.network_members()
    names = list(members)
    weight: dict[tuple[str, str], int] = {}
    for service in project.services.values():
        nets = service.network_names
        for i, a in enumerate(nets):
            for b in nets[i + 1:]:
                bonus = 3 if len(nets) == 2 else 1
                for pair in ((a, b), (b, a)):
                    weight[pair] = weight.get(pair, 0) + bonus
    degree = {n: sum(1 for m in names if weight.get((n, m))) for n in names}
    order: list[str] = []
    remaining = list(names)
    while remaining:
        if order:
            end = order[-1]
            linked = [n for n in remaining if weight.get((end, n))]
            if linked:
                best = max(linked, key=lambda n: (weight[(end, n)], -remaining.index(n)))
                order.append(best)
                remaining.remove(best)
                continue
        connected = [n for n in remaining if degree[n]]
        pool = connected or remaining
        start = min(pool, key=lambda n: (degree[n], remaining.index(n)))
        order.append(start)
        remaining.remove(start)
    return order


class _Layout:
    """Computes every position once; ``draw`` then emits the SVG in a fixed order."""

    def __init__(self, project: ComposeProject, *, with_status: bool = False) -> None:
        self.project = project
        self.networks = _network_order(project)
        self.tones = {name: _NETWORK_TONES[i % len(_NETWORK_TONES)] for i, name in enumerate(self.networks)}
        self.edges = [(src, dep.service, dep.condition, dep) for src, service in project.services.items()
                      for dep in service.depends_on]
        self.tags = {name: [(p.label(), p) for p in s.ports] for name, s in project.services.items()}
        self.chips = {name: self._chips(s) for name, s in project.services.items()}
        self.boxes = {name: self._place_band(s) for name, s in project.services.items()}
        self.port_rows = max((self._tag_rows(name)[1] for name in self.boxes), default=0)
        self.has_chips = any(self.chips.values())
        self.has_also = any(b.also_on for b in self.boxes.values())
        self.with_status = with_status
        self.box_h = (24 + 15 + (20 if self.has_chips else 0) + self.port_rows * 19
                      + (15 if self.has_also else 0) + 8)
        self._columns()
        self._rows()
        self._untangle()
        self._volumes()
        self._ports()
        self._routes()
        self.width = max(self.content_right + 14, self.volumes_right, 560.0) + _MARGIN
        self.legend_y = self.volume_bottom + 24
        self.legend = _flow_legend(_legend_items(with_status), self.width - 2 * _MARGIN)
        self.height = self.legend_y + 18 * len(self.legend) + 6

    # ---- content of a box

    @staticmethod
    def _chips(service: Service) -> list[str]:
        chips = []
        if service.build is not None:
            build = service.build
            shown = build.dockerfile if build.dockerfile and build.context in (".", "./") else build.context
            chips.append("build " + shown)
        if service.has_healthcheck:
            chips.append("healthcheck")
        if service.network_mode is not None:
            chips.append("net " + service.network_mode)
        if service.profiles:
            chips.append("profile " + ",".join(service.profiles))
        return chips

    def _tag_rows(self, name: str) -> tuple[list[list[tuple[str, PortMapping | None]]], int]:
        """Port tags flowed into at most two rows; the overflow becomes a '+N' tag."""
        rows: list[list[tuple[str, PortMapping | None]]] = []
        width = _BOX_W - 16
        current: list[tuple[str, PortMapping | None]] = []
        used = 0.0
        tags = self.tags[name]
        for index, (label, port) in enumerate(tags):
            tag_w = _tag_width(label)
            if current and used + tag_w > width:
                rows.append(current)
                current, used = [], 0.0
            if len(rows) == _PORT_ROWS - 1 and index < len(tags) - 1:
                rest_w = _tag_width(f"+{len(tags) - index - 1}")
                if used + tag_w + 4 + rest_w > width:
                    current.append((f"+{len(tags) - index}", None))
                    break
            current.append((label, port))
            used += tag_w + 4
        if current:
            rows.append(current)
        rows = rows[:_PORT_ROWS]
        return rows, len(rows)

    # ---- placement

    def _place_band(self, service: Service) -> _Box:
        index = {name: i for i, name in enumerate(self.networks)}
        nets = sorted(service.network_names, key=index.__getitem__)
        box = _Box(service.name)
        if not nets:
            box.band = ("misc", 0)
        elif len(nets) == 2 and index[nets[1]] == index[nets[0]] + 1:
            box.band = ("bridge", index[nets[0]])
        else:
            box.band = ("net", index[nets[0]])
            box.also_on = tuple(nets[1:])
        return box

    def _columns(self) -> None:
        levels = self.project.dependency_levels()
        deepest = max(levels.values(), default=0)
        for name, box in self.boxes.items():
            box.column = deepest - levels[name]
        self.column_count = deepest + 1
        cells: dict[tuple[tuple[str, int], int], list[str]] = {}
        for name, box in self.boxes.items():
            cells.setdefault((box.band, box.column), []).append(name)
        self.cells = cells
        biggest = max((len(v) for v in cells.values()), default=1)
        stack = 5 if self.edges else 3
        self.row_gap = 30.0 if self.edges else _ROW_GAP
        while True:
            self.wide = [max((math.ceil(len(names) / stack) for (band, col), names in cells.items() if col == c),
                             default=1) for c in range(self.column_count)]
            if sum(self.wide) <= _MAX_COLUMNS or stack >= biggest:
                break
            stack += 1
        sub_gap = _COL_GAP if self.edges else _SUB_GAP
        self.column_x: list[float] = []
        self.lane_base: list[int] = []
        self.lane_x: list[float] = []
        x = _MARGIN + _GUTTER
        for c in range(self.column_count):
            self.column_x.append(x)
            self.lane_base.append(len(self.lane_x))
            self.lane_x += [x + i * (_BOX_W + sub_gap) for i in range(self.wide[c])]
            x += self.wide[c] * _BOX_W + (self.wide[c] - 1) * sub_gap + _COL_GAP
        self.sub_gap = sub_gap
        self.content_right = x - _COL_GAP

    def _untangle(self) -> None:
        """Reorder each cell by the mean height of its neighbours (barycentre sweeps), so that
        dependency arrows cross fewer boxes; ties keep file order, so the result is stable."""
        if not self.edges:
            return
        dependents: dict[str, list[str]] = {name: [] for name in self.boxes}
        dependencies: dict[str, list[str]] = {name: [] for name in self.boxes}
        for src, dst, _, _ in self.edges:
            dependencies[src].append(dst)
            dependents[dst].append(src)
        sweeps = [(range(1, self.column_count), dependents),
                  (range(self.column_count - 2, -1, -1), dependencies)] * 2
        for columns, neighbours in sweeps:
            for column in columns:
                for key, names in self.cells.items():
                    if key[1] == column and len(names) > 1:
                        names.sort(key=lambda name: self._barycentre(name, neighbours[name]))
                self._rows()

    def _barycentre(self, name: str, neighbours: list[str]) -> float:
        """The mean height of a box's neighbours, or its own height when it has none."""
        if not neighbours:
            return self.boxes[name].y
        return sum(self.boxes[n].y for n in neighbours) / len(neighbours)

    def _cell_rows(self, band: tuple[str, int]) -> int:
        return max((math.ceil(len(names) / self.wide[col]) for (b, col), names in self.cells.items() if b == band),
                   default=0)

    def _place_rows(self, band: tuple[str, int], top: float) -> float:
        """Put the boxes of one band (or bridge zone) in rows from ``top``; returns the height."""
        row_h = self.box_h + self.row_gap
        for (b, col), names in self.cells.items():
            if b != band:
                continue
            for i, name in enumerate(names):
                row, sub = divmod(i, self.wide[col])
                box = self.boxes[name]
                box.x = self.column_x[col] + sub * (_BOX_W + self.sub_gap)
                box.lane = self.lane_base[col] + sub
                box.y = top + row * row_h
        rows = self._cell_rows(band)
        return rows * row_h - self.row_gap if rows else 0.0

    def _rows(self) -> None:
        """Bands top to bottom; two neighbouring networks that share services overlap, and the
        overlap (drawn in the mix of both colours) holds the services on both."""
        y = _TITLE_H + 8
        self.bands: list[tuple[str | None, float, float, float]] = []  # name, top, bottom, label y
        self.overlaps: list[tuple[int, float, float]] = []  # upper network index, top, bottom
        overlap_top: float | None = None
        head_room = 14.0 if self.with_status else 10.0
        count = len(self.networks)
        for i, name in enumerate(self.networks):
            band_top = y if overlap_top is None else overlap_top
            content_top = y + _BAND_PAD + (6 if overlap_top is None else 0)
            label_y = y + 18
            y = content_top + self._place_rows(("net", i), content_top)
            y = max(y, label_y + 40)
            if i < count - 1 and self._cell_rows(("bridge", i)):
                overlap_top = y + _BAND_PAD
                zone_top = overlap_top + head_room + 4
                overlap_bottom = zone_top + self._place_rows(("bridge", i), zone_top) + 14
                self.bands.append((name, band_top, overlap_bottom, label_y))
                self.overlaps.append((i, overlap_top, overlap_bottom))
                y = overlap_bottom
            else:
                overlap_top = None
                self.bands.append((name, band_top, y + _BAND_PAD, label_y))
                y += _BAND_PAD + _BAND_GAP
        if self._cell_rows(("misc", 0)):
            band_top = y
            content_top = y + _BAND_PAD + 6
            y = max(content_top + self._place_rows(("misc", 0), content_top), band_top + _LABEL_MIN)
            self.bands.append((None, band_top, y + _BAND_PAD, band_top + 18))
            y += _BAND_PAD + _BAND_GAP
        self.bands_bottom = y

    def _volumes(self) -> None:
        users = self.project.volume_users()
        self.volume_users = users
        top = self.bands_bottom + 34
        wanted = []
        for order, (name, names) in enumerate(users.items()):
            centres = [self.boxes[n].x + _BOX_W / 2 for n in names]
            centre = sum(centres) / len(centres) if centres else math.inf
            wanted.append((centre, order, name))
        wanted.sort()
        self.volume_pos: dict[str, tuple[float, float]] = {}
        x_min = _MARGIN + _GUTTER
        last = x_min - _VOLUME_GAP
        for centre, _, name in wanted:
            x = max(last + _VOLUME_GAP, (centre if math.isfinite(centre) else 0) - _CYL_W / 2, x_min)
            self.volume_pos[name] = (x, top)
            last = x + _CYL_W
        overflow = last - max(self.content_right, x_min + _CYL_W)
        if overflow > 0 and self.volume_pos:
            shift = min(overflow, min(x for x, _ in self.volume_pos.values()) - x_min)
            self.volume_pos = {n: (x - shift, y) for n, (x, y) in self.volume_pos.items()}
            last -= shift
        self.volumes_right = last if self.volume_pos else 0.0
        self.volume_bottom = top + _CYL_H if self.volume_pos else self.bands_bottom

    def _ports(self) -> None:
        """Spread the arrow ends along the box sides so that several arrows do not overlap."""
        outgoing: dict[str, list[tuple[float, int]]] = {}
        incoming: dict[str, list[tuple[float, int]]] = {}
        for k, (src, dst, _, _) in enumerate(self.edges):
            outgoing.setdefault(src, []).append((self.boxes[dst].y, k))
            incoming.setdefault(dst, []).append((self.boxes[src].y, k))
        self.edge_ends: dict[int, list[float]] = {k: [0.0, 0.0] for k in range(len(self.edges))}
        for side, table in ((0, outgoing), (1, incoming)):
            for name, ends in table.items():
                ends.sort()
                box = self.boxes[name]
                spacing = min(15.0, (self.box_h - 20) / max(len(ends) - 1, 1))
                middle = box.y + self.box_h / 2
                for i, (_, k) in enumerate(ends):
                    self.edge_ends[k][side] = middle + (i - (len(ends) - 1) / 2) * spacing

    def _routes(self) -> None:
        """Arrows that skip lanes pass the boxes in between through the gaps between rows."""
        busy: dict[int, list[tuple[float, float]]] = {}
        for name, box in self.boxes.items():
            above = 12.0 if self.with_status else 3.0
            below = 10.0 if self.project.services[name].replicas > 1 else 3.0
            busy.setdefault(box.lane, []).append((box.y - above, box.y + self.box_h + below))
        used: dict[tuple[int, int], int] = {}
        self.routes: dict[int, list[tuple[float, float, float]]] = {}
        for k, (src, dst, _, _) in enumerate(self.edges):
            a, b = self.boxes[src], self.boxes[dst]
            x1, y1 = a.x + _BOX_W, self.edge_ends[k][0]
            x2, y2 = b.x, self.edge_ends[k][1]
            waypoints: list[tuple[float, float, float]] = []
            if not self._collides(x1, y1, x2, y2, range(a.lane + 1, b.lane), busy):
                self.routes[k] = waypoints
                continue
            for lane in range(a.lane + 1, b.lane):
                left = self.lane_x[lane]
                wanted = y1 + (y2 - y1) * (left + _BOX_W / 2 - x1) / max(x2 - x1, 1.0)
                y = _free_height(busy.get(lane, []), wanted)
                slot = used.get((lane, round(y)), 0)
                used[(lane, round(y))] = slot + 1
                y += (-1) ** slot * 3.0 * ((slot + 1) // 2)
                waypoints.append((left - 6, left + _BOX_W + 10, y))
            self.routes[k] = waypoints

    def _collides(self, x1: float, y1: float, x2: float, y2: float, lanes: range,
                  busy: dict[int, list[tuple[float, float]]]) -> bool:
        """Whether the plain curve from (x1, y1) to (x2, y2) runs through a box of ``lanes``."""
        if not lanes:
            return False
        bend = max(24.0, (x2 - x1) * 0.45)
        for step in range(1, 48):
            t = step / 48
            u = 1 - t
            x = u ** 3 * x1 + 3 * u * u * t * (x1 + bend) + 3 * u * t * t * (x2 - bend) + t ** 3 * x2
            y = (u ** 3 + 3 * u * u * t) * y1 + (3 * u * t * t + t ** 3) * y2
            for lane in lanes:
                left = self.lane_x[lane]
                if left - 4 <= x <= left + _BOX_W + 10 and any(top < y < bottom for top, bottom in busy.get(lane, [])):
                    return True
        return False

    # ---- drawing

    def draw(self, svg: Svg, states: Mapping[str, str], title: str) -> None:
        p = PALETTE
        svg.text(_MARGIN, 30, truncate(title, self.width - 2 * _MARGIN, 18, bold=True), size=18, bold=True)
        order = " \N{RIGHTWARDS ARROW} ".join(self.project.start_order())
        subtitle = (f"{_plural(len(self.project.services), 'service')} \N{MIDDLE DOT} "
                    f"{_plural(len(self.networks), 'network')} \N{MIDDLE DOT} "
                    f"{_plural(len(self.project.volumes), 'volume')} \N{MIDDLE DOT} start order: {order}")
        svg.text(_MARGIN, 49, truncate(subtitle, self.width - 2 * _MARGIN, 12), size=12, fill=p.muted)
        for name, top, bottom, label_y in self.bands:
            self._band(svg, name, top, bottom, label_y)
        for index, top, bottom in self.overlaps:
            self._overlap(svg, index, top, bottom)
        for volume, names in self.volume_users.items():
            for name in names:
                self._volume_edge(svg, volume, name)
        for name, box in self.boxes.items():
            self._service(svg, self.project.services[name], box, states.get(name))
        for k, edge in enumerate(self.edges):
            self._edge(svg, k, edge)
        for k, edge in enumerate(self.edges):
            self._edge_label(svg, k, edge)
        for volume in self.volume_users:
            self._volume(svg, volume)
        self._legend(svg)

    def _band(self, svg: Svg, name: str | None, top: float, bottom: float, label_y: float) -> None:
        right = self.width - _MARGIN
        if name is None:
            tone = _MISC_TONE
            lines = ["no project network:", "shares another's or", "has none"]
            heading = "network_mode"
            with svg.group("services with network_mode: they join no project network"):
                svg.rect(_MARGIN, top, right - _MARGIN, bottom - top, fill=tone.fill, stroke=tone.stroke,
                         rx=8, dashed=True)
                self._band_label(svg, heading, lines, tone, label_y)
            return
        network = self.project.networks[name]
        members = self.project.network_members()[name]
        tone = self.tones[name]
        lines = [network.driver or "bridge"]
        if network.internal:
            lines.append("internal: no way out")
        if network.external:
            lines.append("external")
        if not network.declared:
            lines.append("created by Compose")
        lines.append(_plural(len(members), "service") if members else "unused")
        tooltip = (f"network {name}" + (f" (named {network.real_name})" if network.real_name else "")
                   + f": {', '.join(lines)}; members: {', '.join(members) or 'none'}")
        with svg.group(tooltip):
            svg.rect(_MARGIN, top, right - _MARGIN, bottom - top, fill=tone.fill, stroke=tone.stroke,
                     rx=8, dashed=network.external)
            self._band_label(svg, name, lines, tone, label_y)

    def _overlap(self, svg: Svg, index: int, top: float, bottom: float) -> None:
        upper, lower = self.networks[index], self.networks[index + 1]
        first, second = self.tones[upper], self.tones[lower]
        right = self.width - _MARGIN
        with svg.group(f"services on both {upper} and {lower}"):
            svg.rect(_MARGIN + 1.5, top + 0.5, right - _MARGIN - 3, bottom - top - 1,
                     fill=_mix(first.fill, second.fill))
            svg.line(_MARGIN, top, right, top, stroke=second.stroke)
            svg.line(_MARGIN, bottom, right, bottom, stroke=first.stroke)
            svg.text(_MARGIN + 10, top + 18, "on both:", size=10.5, italic=True, fill=PALETTE.muted)
            svg.text(_MARGIN + 10, top + 32, truncate(upper, _GUTTER - 14, 10.5, bold=True, middle=True),
                     size=10.5, bold=True, fill=first.ink)
            svg.text(_MARGIN + 10, top + 45, truncate(lower, _GUTTER - 14, 10.5, bold=True, middle=True),
                     size=10.5, bold=True, fill=second.ink)

    def _band_label(self, svg: Svg, heading: str, lines: list[str], tone: Tone, y: float) -> None:
        width = _GUTTER - 14
        svg.text(_MARGIN + 10, y, truncate(heading, width, 12.5, bold=True, middle=True), size=12.5,
                 bold=True, fill=tone.ink)
        for i, line in enumerate(lines[:3]):
            svg.text(_MARGIN + 10, y + 15 + i * 13, truncate(line, width, 10.5), size=10.5, fill=tone.ink)

    def _service(self, svg: Svg, service: Service, box: _Box, state: str | None) -> None:
        p = PALETTE
        x, y, w, h = box.x, box.y, _BOX_W, self.box_h
        stroke = _STATUS_COLOURS.get(state or "", p.muted)
        exited = state == "exited"
        fill = "#f3f4f6" if exited else p.background
        ink = p.muted if exited else p.ink
        with svg.group(_service_tooltip(service, state)):
            if service.replicas > 1:
                for offset in (8, 4):
                    svg.rect(x + offset, y + offset, w, h, fill=fill, stroke=stroke, rx=6)
            svg.rect(x, y, w, h, fill=fill, stroke=stroke, stroke_width=2.5 if state else 1.4, rx=6,
                     dashed=bool(service.profiles))
            replicas = f"\N{MULTIPLICATION SIGN}{service.replicas}" if service.replicas != 1 else ""
            name_w = w - 16 - (text_width(replicas, 11, bold=True) + 6 if replicas else 0)
            svg.text(x + 8, y + 17, truncate(service.name, name_w, 13, bold=True, middle=True), size=13,
                     bold=True, fill=ink)
            if replicas:
                svg.text(x + w - 8, y + 17, replicas, size=11, bold=True, fill=p.muted, anchor="end")
            image = service.image or f"build: {service.build.context if service.build else '?'}"
            svg.text(x + 8, y + 33, _keep_tail(image, w - 16, 10.5), size=10.5,
                     mono=True, fill=p.muted)
            row_y = y + 41
            if self.has_chips:
                self._chip_row(svg, x + 8, row_y, w - 16, self.chips[service.name])
                row_y += 20
            rows, _ = self._tag_rows(service.name)
            for r, tags in enumerate(rows):
                tx = x + 8
                for label, port in tags:
                    tone = _CHIP if port is None else (_LOOPBACK if port.loopback_only else _PUBLIC)
                    tag_w = _tag_width(label)
                    svg.rect(tx, row_y + r * 19, tag_w, 16, fill=tone.fill, stroke=tone.stroke, rx=3,
                             dashed=port is not None and not port.loopback_only)
                    svg.text(tx + 5, row_y + r * 19 + 8, label, size=10, mono=True, fill=tone.ink, middle=True)
                    tx += tag_w + 4
            row_y += self.port_rows * 19
            if box.also_on:
                text = "also on: " + ", ".join(box.also_on)
                svg.text(x + 8, row_y + 10, truncate(text, w - 16, 10.5), size=10.5, italic=True,
                         fill=self.tones[box.also_on[0]].ink)
            if state:
                badge = f"{_STATUS_MARKS[state]} {state}"
                badge_w = text_width(badge, 10, bold=True) + 12
                svg.rect(x + w - badge_w - 8, y - 9, badge_w, 15, fill=stroke, rx=7.5)
                svg.text(x + w - 8 - badge_w / 2, y - 1.5, badge, size=10, bold=True, fill="#ffffff",
                         anchor="middle", middle=True)

    def _chip_row(self, svg: Svg, x: float, y: float, width: float, chips: list[str]) -> None:
        used = 0.0
        for chip in chips:
            room = width - used
            if room < 30:
                break
            label = truncate(chip, room - 10, 10)
            chip_w = text_width(label, 10) + 10
            svg.rect(x + used, y, chip_w, 15, fill=_CHIP.fill, stroke=_CHIP.stroke, rx=7.5)
            svg.text(x + used + 5, y + 7.5, label, size=10, fill=_CHIP.ink, middle=True)
            used += chip_w + 4

    def _edge(self, svg: Svg, k: int, edge: tuple) -> None:
        src, dst, condition, dependency = edge
        colour, _ = _EDGE_STYLES[condition]
        a, b = self.boxes[src], self.boxes[dst]
        x, y = a.x + _BOX_W + (8 if self.project.services[src].replicas > 1 else 0), self.edge_ends[k][0]
        curve = f"M{num(x)} {num(y)}"
        for x_in, x_out, through in [*self.routes[k], (b.x - 1, b.x - 1, self.edge_ends[k][1])]:
            bend = max(24.0, (x_in - x) * 0.45)
            curve += f"C{num(x + bend)} {num(y)} {num(x_in - bend)} {num(through)} {num(x_in)} {num(through)}"
            if x_out > x_in:
                curve += f"H{num(x_out)}"
            x, y = x_out, through
        with svg.group(f"{src} waits for {dst} ({condition})"):
            svg.path(curve, stroke=PALETTE.background, width=4.5)
            svg.path(curve, stroke=colour, width=1.6,
                     dashed=not dependency.required or dependency.via != "depends_on", arrow=True)

    def _edge_label(self, svg: Svg, k: int, edge: tuple) -> None:
        src, _, condition, dependency = edge
        colour, label = _EDGE_STYLES[condition]
        if dependency.via != "depends_on":
            label = dependency.via
        elif not dependency.required:
            label += " (optional)"
        x = self.boxes[src].x + _BOX_W + (14 if self.project.services[src].replicas > 1 else 6)
        y = self.edge_ends[k][0]
        label_w = text_width(label, 9.5, bold=True) + 8
        svg.rect(x, y - 6.5, label_w, 13, fill=PALETTE.background, stroke=colour, stroke_width=0.8, rx=6.5)
        svg.text(x + label_w / 2, y, label, size=9.5, bold=True, fill=colour, anchor="middle", middle=True)

    def _volume_edge(self, svg: Svg, volume: str, name: str) -> None:
        box = self.boxes[name]
        mine = self.project.services[name].named_volumes
        offset = (mine.index(volume) - (len(mine) - 1) / 2) * 12
        x1, y1 = box.x + _BOX_W / 2 + offset, box.y + self.box_h
        vx, vy = self.volume_pos[volume]
        x2, y2 = vx + _CYL_W / 2, vy
        bend = max(24.0, (y2 - y1) * 0.5)
        svg.path(f"M{num(x1)} {num(y1)}C{num(x1)} {num(y1 + bend)} {num(x2)} {num(y2 - bend)} {num(x2)} {num(y2)}",
                 stroke=_VOLUME_TONE.stroke, width=1.1, dashed=True)

    def _volume(self, svg: Svg, name: str) -> None:
        volume = self.project.volumes[name]
        x, y = self.volume_pos[name]
        w, h, ry = _CYL_W, _CYL_H, _CYL_RY
        rx = w / 2
        mounts = [f"{user}:{m.target}{' (ro)' if m.read_only else ''}"
                  for user in self.volume_users[name]
                  for m in self.project.services[user].volumes if m.named_volume == name]
        tooltip = f"volume {name}" + (" (external)" if volume.external else "") + \
            (f": mounted by {', '.join(mounts)}" if mounts else ": not mounted by any service")
        with svg.group(tooltip):
            body = (f"M{num(x)} {num(y + ry)}A{num(rx)} {num(ry)} 0 0 0 {num(x + w)} {num(y + ry)}"
                    f"V{num(y + h - ry)}A{num(rx)} {num(ry)} 0 0 1 {num(x)} {num(y + h - ry)}Z")
            svg.path(body, stroke=_VOLUME_TONE.stroke, fill=_VOLUME_TONE.fill, width=1.3, dashed=volume.external)
            top = (f"M{num(x)} {num(y + ry)}A{num(rx)} {num(ry)} 0 0 1 {num(x + w)} {num(y + ry)}"
                   f"A{num(rx)} {num(ry)} 0 0 1 {num(x)} {num(y + ry)}Z")
            svg.path(top, stroke=_VOLUME_TONE.stroke, fill="#fef3c7", width=1.3)
            svg.text(x + w / 2, y + 25, truncate(name, w - 12, 11.5, bold=True, middle=True), size=11.5,
                     bold=True, fill=_VOLUME_TONE.ink, anchor="middle")
            detail = "external" if volume.external else (volume.driver or "local")
            users = len(self.volume_users[name])
            detail += f" \N{MIDDLE DOT} {users} user{'' if users == 1 else 's'}" if users else " \N{MIDDLE DOT} unused"
            svg.text(x + w / 2, y + 39, truncate(detail, w - 10, 9.5), size=9.5, fill=_VOLUME_TONE.ink,
                     anchor="middle")

    def _legend(self, svg: Svg) -> None:
        """The key, flowed into as many lines as the width needs."""
        p = PALETTE
        for line_no, line in enumerate(self.legend):
            y = self.legend_y + line_no * 18
            x = _MARGIN
            for kind, value, text in line:
                if kind == "arrow":
                    svg.arrow(x, y, x + 22, y, stroke=value, width=1.6)
                elif kind == "volume":
                    svg.path(f"M{num(x)} {num(y)}C{num(x + 10)} {num(y - 6)} {num(x + 12)} {num(y + 6)} "
                             f"{num(x + 22)} {num(y)}", stroke=_VOLUME_TONE.stroke, width=1.2, dashed=True)
                elif kind == "tag":
                    tone = _LOOPBACK if value == "loopback" else _PUBLIC
                    svg.rect(x, y - 6, 16, 12, fill=tone.fill, stroke=tone.stroke, rx=3, dashed=value == "public")
                elif kind == "dot":
                    svg.circle(x + 6, y, 5, fill=value)
                x += _LEGEND_SYMBOL[kind]
                svg.text(x, y + 4, text, size=10.5, fill=p.muted, bold=kind == "key")
                x += text_width(text, 10.5, bold=kind == "key") + 14


_LEGEND_SYMBOL = {"key": 0.0, "arrow": 27.0, "volume": 27.0, "tag": 21.0, "dot": 16.0}


def _legend_items(with_status: bool) -> list[tuple[str, str, str]]:
    p = PALETTE
    items = [
        ("key", "", "A \N{RIGHTWARDS ARROW} B: A waits for B"),
        ("arrow", p.muted, "started"),
        ("arrow", p.ok, "healthy"),
        ("arrow", p.vm.stroke, "completed successfully"),
        ("volume", "", "mounts a volume"),
        ("tag", "loopback", "port on 127.0.0.1 only"),
        ("tag", "public", "port open to other hosts"),
    ]
    if with_status:
        items += [("dot", p.ok, "running / healthy"), ("dot", p.warn, "starting"),
                  ("dot", p.fail, "unhealthy"), ("dot", p.skip, "exited")]
    return items


def _flow_legend(items: list[tuple[str, str, str]], width: float) -> list[list[tuple[str, str, str]]]:
    lines: list[list[tuple[str, str, str]]] = [[]]
    used = 0.0
    for item in items:
        item_w = _LEGEND_SYMBOL[item[0]] + text_width(item[2], 10.5, bold=item[0] == "key") + 14
        if lines[-1] and used + item_w > width:
            lines.append([])
            used = 0.0
        lines[-1].append(item)
        used += item_w
    return lines


def _mix(first: str, second: str) -> str:
    """The colour halfway between two ``#rrggbb`` colours."""
    channels = [(int(first[i:i + 2], 16) + int(second[i:i + 2], 16)) // 2 for i in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in channels)


def _free_height(busy: list[tuple[float, float]], wanted: float) -> float:
    """The height nearest ``wanted`` that lies outside every busy interval of a lane."""
    inside = [(top, bottom) for top, bottom in busy if top < wanted < bottom]
    if not inside:
        return wanted
    candidates = []
    for top, bottom in inside:
        for y in (top - 1.0, bottom + 1.0):
            if not any(t < y < b for t, b in busy):
                candidates.append(y)
    return min(candidates, key=lambda y: (abs(y - wanted), y)) if candidates else wanted


def _keep_tail(text: str, width: float, size: float) -> str:
    """Shorten from the left in monospace: an image's name and tag matter more than its registry."""
    if text_width(text, size, mono=True) <= width:
        return text
    keep = max(1, int(width / (0.61 * size)) - 1)
    return "\N{HORIZONTAL ELLIPSIS}" + text[-keep:]


def _tag_width(label: str) -> float:
    return text_width(label, 10, mono=True) + 10


def _service_tooltip(service: Service, state: str | None) -> str:
    parts = [f"service {service.name}"]
    if state:
        parts.append(f"status {state}")
    if service.image:
        parts.append(f"image {service.image}")
    if service.build is not None:
        dockerfile = f" ({service.build.dockerfile})" if service.build.dockerfile else ""
        parts.append(f"built from {service.build.context}{dockerfile}")
    if service.network_mode:
        parts.append(f"network_mode {service.network_mode}")
    else:
        parts.append("networks " + ", ".join(
            a.network + (f" (aliases {', '.join(a.aliases)})" if a.aliases else "") for a in service.networks))
    if service.depends_on:
        parts.append("waits for " + ", ".join(f"{d.service} ({d.condition.removeprefix('service_')})"
                                              for d in service.depends_on))
    if service.healthcheck is not None and service.healthcheck.command:
        parts.append(f"healthcheck {service.healthcheck.command}")
    if service.ports:
        parts.append("ports " + ", ".join(p.label() for p in service.ports))
    if service.replicas != 1:
        parts.append(f"{service.replicas} replicas")
    if service.profiles:
        parts.append("profiles " + ", ".join(service.profiles))
    return "; ".join(parts)
