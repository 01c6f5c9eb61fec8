"""Draw a Compose project: services grouped by network, volumes, dependencies, published ports.

Pure standard library: it takes a :class:`containerlab.compose.ComposeProject` (used by its
attributes only, so importing this module does not import YAML) and returns a Diagram.

Where things go is :mod:`containerlab.render.compose_layout` (geometry as data); this module draws it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .compose_layout import (
    _BOX_W,
    _CYL_H,
    _CYL_RY,
    _CYL_W,
    _GUTTER,
    _LEGEND_SYMBOL,
    _MARGIN,
    ComposeLayout,
    ServiceBox,
    _tag_width,
)
from .svg import PALETTE, Diagram, Svg, Tone, num, text_width, truncate

if TYPE_CHECKING:
    from ..compose import ComposeProject, Service

__all__ = ["STATUSES", "compose_graph"]

STATUSES = ("running", "healthy", "unhealthy", "starting", "exited")

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



def compose_graph(project: ComposeProject, status: Mapping[str, str] | None = None, *,
                  title: str | None = None) -> Diagram:
    """Render ``project`` as an SVG Diagram; ``status`` maps service names to live states."""
    states = dict(status or {})
    for service, state in states.items():
        if state not in STATUSES:
            raise ValueError(f"status of {service!r} is {state!r}; use one of: {', '.join(STATUSES)}")
    states = {name: states[name] for name in project.services if name in states}
    layout = ComposeLayout(project, with_status=bool(states))
    svg = Svg(layout.width, layout.height, title or _title(project),
              description=_summary(project, states))
    _Painter(layout).draw(svg, states, title or _title(project))
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


class _Painter:
    """Emits the SVG of a laid-out project in a fixed order: bands, edges, services, volumes, legend."""

    def __init__(self, layout: ComposeLayout) -> None:
        self.layout = layout
        self.tones = {name: _NETWORK_TONES[i % len(_NETWORK_TONES)] for i, name in enumerate(layout.networks)}


    def draw(self, svg: Svg, states: Mapping[str, str], title: str) -> None:
        p = PALETTE
        svg.text(_MARGIN, 30, truncate(title, self.layout.width - 2 * _MARGIN, 18, bold=True), size=18, bold=True)
        order = " \N{RIGHTWARDS ARROW} ".join(self.layout.project.start_order())
        subtitle = (f"{_plural(len(self.layout.project.services), 'service')} \N{MIDDLE DOT} "
                    f"{_plural(len(self.layout.networks), 'network')} \N{MIDDLE DOT} "
                    f"{_plural(len(self.layout.project.volumes), 'volume')} \N{MIDDLE DOT} start order: {order}")
        svg.text(_MARGIN, 49, truncate(subtitle, self.layout.width - 2 * _MARGIN, 12), size=12, fill=p.muted)
        for name, top, bottom, label_y in self.layout.bands:
            self._band(svg, name, top, bottom, label_y)
        for index, top, bottom in self.layout.overlaps:
            self._overlap(svg, index, top, bottom)
        for volume, names in self.layout.volume_users.items():
            for name in names:
                self._volume_edge(svg, volume, name)
        for name, box in self.layout.boxes.items():
            self._service(svg, self.layout.project.services[name], box, states.get(name))
        for k, edge in enumerate(self.layout.edges):
            self._edge(svg, k, edge)
        for k, edge in enumerate(self.layout.edges):
            self._edge_label(svg, k, edge)
        for volume in self.layout.volume_users:
            self._volume(svg, volume)
        self._legend(svg)

    def _band(self, svg: Svg, name: str | None, top: float, bottom: float, label_y: float) -> None:
        right = self.layout.width - _MARGIN
        if name is None:
            tone = _MISC_TONE
            lines = ["no project network:", "shares another's or", "has none"]
            heading = "network_mode"
            with svg.group("services with network_mode: they join no project network"):
                svg.rect(_MARGIN, top, right - _MARGIN, bottom - top, fill=tone.fill, stroke=tone.stroke,
                         rx=8, dashed=True)
                self._band_label(svg, heading, lines, tone, label_y)
            return
        network = self.layout.project.networks[name]
        members = self.layout.project.network_members()[name]
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
        upper, lower = self.layout.networks[index], self.layout.networks[index + 1]
        first, second = self.tones[upper], self.tones[lower]
        right = self.layout.width - _MARGIN
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

    def _service(self, svg: Svg, service: Service, box: ServiceBox, state: str | None) -> None:
        p = PALETTE
        x, y, w, h = box.x, box.y, _BOX_W, self.layout.box_h
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
            if self.layout.has_chips:
                self._chip_row(svg, x + 8, row_y, w - 16, self.layout.chips[service.name])
                row_y += 20
            rows, _ = self.layout.tag_rows(service.name)
            for r, tags in enumerate(rows):
                tx = x + 8
                for label, port in tags:
                    tone = _CHIP if port is None else (_LOOPBACK if port.loopback_only else _PUBLIC)
                    tag_w = _tag_width(label)
                    svg.rect(tx, row_y + r * 19, tag_w, 16, fill=tone.fill, stroke=tone.stroke, rx=3,
                             dashed=port is not None and not port.loopback_only)
                    svg.text(tx + 5, row_y + r * 19 + 8, label, size=10, mono=True, fill=tone.ink, middle=True)
                    tx += tag_w + 4
            row_y += self.layout.port_rows * 19
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
        a, b = self.layout.boxes[src], self.layout.boxes[dst]
        x, y = a.x + _BOX_W + (8 if self.layout.project.services[src].replicas > 1 else 0), self.layout.edge_ends[k][0]
        curve = f"M{num(x)} {num(y)}"
        for x_in, x_out, through in [*self.layout.routes[k], (b.x - 1, b.x - 1, self.layout.edge_ends[k][1])]:
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
        x = self.layout.boxes[src].x + _BOX_W + (14 if self.layout.project.services[src].replicas > 1 else 6)
        y = self.layout.edge_ends[k][0]
        label_w = text_width(label, 9.5, bold=True) + 8
        svg.rect(x, y - 6.5, label_w, 13, fill=PALETTE.background, stroke=colour, stroke_width=0.8, rx=6.5)
        svg.text(x + label_w / 2, y, label, size=9.5, bold=True, fill=colour, anchor="middle", middle=True)

    def _volume_edge(self, svg: Svg, volume: str, name: str) -> None:
        box = self.layout.boxes[name]
        mine = self.layout.project.services[name].named_volumes
        offset = (mine.index(volume) - (len(mine) - 1) / 2) * 12
        x1, y1 = box.x + _BOX_W / 2 + offset, box.y + self.layout.box_h
        vx, vy = self.layout.volume_pos[volume]
        x2, y2 = vx + _CYL_W / 2, vy
        bend = max(24.0, (y2 - y1) * 0.5)
        svg.path(f"M{num(x1)} {num(y1)}C{num(x1)} {num(y1 + bend)} {num(x2)} {num(y2 - bend)} {num(x2)} {num(y2)}",
                 stroke=_VOLUME_TONE.stroke, width=1.1, dashed=True)

    def _volume(self, svg: Svg, name: str) -> None:
        volume = self.layout.project.volumes[name]
        x, y = self.layout.volume_pos[name]
        w, h, ry = _CYL_W, _CYL_H, _CYL_RY
        rx = w / 2
        mounts = [f"{user}:{m.target}{' (ro)' if m.read_only else ''}"
                  for user in self.layout.volume_users[name]
                  for m in self.layout.project.services[user].volumes if m.named_volume == name]
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
            users = len(self.layout.volume_users[name])
            detail += f" \N{MIDDLE DOT} {users} user{'' if users == 1 else 's'}" if users else " \N{MIDDLE DOT} unused"
            svg.text(x + w / 2, y + 39, truncate(detail, w - 10, 9.5), size=9.5, fill=_VOLUME_TONE.ink,
                     anchor="middle")

    def _legend(self, svg: Svg) -> None:
        """The key, flowed into as many lines as the width needs."""
        p = PALETTE
        for line_no, line in enumerate(self.layout.legend):
            y = self.layout.legend_y + line_no * 18
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




def _mix(first: str, second: str) -> str:
    """The colour halfway between two ``#rrggbb`` colours."""
    channels = [(int(first[i:i + 2], 16) + int(second[i:i + 2], 16)) // 2 for i in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in channels)


def _keep_tail(text: str, width: float, size: float) -> str:
    """Shorten from the left in monospace: an image's name and tag matter more than its registry."""
    if text_width(text, size, mono=True) <= width:
        return text
    keep = max(1, int(width / (0.61 * size)) - 1)
    return "\N{HORIZONTAL ELLIPSIS}" + text[-keep:]


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
