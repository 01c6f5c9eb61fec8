"""Where a Compose project's parts go: the geometry of the compose graph, as data. Pure.

Each network is a horizontal band. Networks are ordered so that networks sharing
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
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .svg import PALETTE, text_width

if TYPE_CHECKING:
    from ..compose import ComposeProject, PortMapping, Service

__all__ = ["BOX_WIDTH", "ComposeLayout", "ServiceBox", "layout_compose"]

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


@dataclass
class ServiceBox:
    """Where one service is drawn, and what is drawn in it."""

    name: str
    x: float = 0.0
    y: float = 0.0
    column: int = 0
    lane: int = 0
    band: tuple[str, int] = ("net", 0)
    also_on: tuple[str, ...] = ()


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


class ComposeLayout:
    """Every position of the compose graph, computed once from the project: service boxes (``boxes``), network
    bands and their overlaps (``bands``, ``overlaps``), dependency arrows with their ends and detours (``edges``,
    ``edge_ends``, ``routes``), volume cylinders (``volume_pos``), the legend's lines and the canvas size."""

    def __init__(self, project: ComposeProject, *, with_status: bool = False) -> None:
        self.project = project
        self.networks = _network_order(project)
        self.edges = [(src, dep.service, dep.condition, dep) for src, service in project.services.items()
                      for dep in service.depends_on]
        self.tags = {name: [(p.label(), p) for p in s.ports] for name, s in project.services.items()}
        self.chips = {name: self.chips_of(s) for name, s in project.services.items()}
        self.boxes = {name: self._place_band(s) for name, s in project.services.items()}
        self.port_rows = max((self.tag_rows(name)[1] for name in self.boxes), default=0)
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
    def chips_of(service: Service) -> list[str]:
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

    def tag_rows(self, name: str) -> tuple[list[list[tuple[str, PortMapping | None]]], int]:
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

    def _place_band(self, service: Service) -> ServiceBox:
        index = {name: i for i, name in enumerate(self.networks)}
        nets = sorted(service.network_names, key=index.__getitem__)
        box = ServiceBox(service.name)
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


def _tag_width(label: str) -> float:
    return text_width(label, 10, mono=True) + 10


BOX_WIDTH = _BOX_W


def layout_compose(project: ComposeProject, *, with_status: bool = False) -> ComposeLayout:
    """The compose graph's geometry for ``project`` (room for status badges when ``with_status``)."""
    return ComposeLayout(project, with_status=with_status)
