"""The Compose model: services, networks, volumes, ports, mounts, dependencies and their graph. Pure.

Frozen dataclasses that :mod:`containerlab.compose.load` fills from a checked file; the project
knows its start order, its dependency levels and whether its ports stay on 127.0.0.1.
"""

from __future__ import annotations

import heapq
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import ParseError, UnsafeRequestError

CONDITIONS = ("service_started", "service_healthy", "service_completed_successfully")
DEFAULT_NETWORK = "default"
LOOPBACK = "127.0.0.1"

YamlPath = tuple[str | int, ...]



# --------------------------------------------------------------------------- models


@dataclass(frozen=True)
class Build:
    """How to build a service's image: a context directory, a Dockerfile, build arguments."""

    context: str = "."
    dockerfile: str | None = None
    args: dict[str, str | None] = field(default_factory=dict)
    target: str | None = None


@dataclass(frozen=True)
class EnvFile:
    """An ``env_file`` entry: a file of VAR=value lines read into the container's environment."""

    path: str
    required: bool = True


@dataclass(frozen=True)
class PortMapping:
    """A container port, and where on the host it is published (None: not chosen / every address)."""

    target: int
    published: int | None = None
    host_ip: str | None = None
    protocol: str = "tcp"
    target_end: int | None = None
    published_end: int | None = None
    mode: str = "ingress"
    name: str | None = None

    @property
    def loopback_only(self) -> bool:
        """Whether only this machine can reach the port (bound to 127.0.0.0/8 or ::1)."""
        return self.host_ip is not None and ipaddress.ip_address(self.host_ip).is_loopback

    def label(self) -> str:
        """A short tag such as ``127.0.0.1:8080→80`` (``auto`` when the engine picks the host port)."""
        host = "0.0.0.0" if self.host_ip is None else (
            f"[{self.host_ip}]" if ":" in self.host_ip else self.host_ip)
        published = "auto" if self.published is None else _span(self.published, self.published_end)
        suffix = "" if self.protocol == "tcp" else f"/{self.protocol}"
        return f"{host}:{published}\N{RIGHTWARDS ARROW}{_span(self.target, self.target_end)}{suffix}"


@dataclass(frozen=True)
class Mount:
    """A service mount: a named or anonymous ``volume``, a host ``bind`` path, or a ``tmpfs``."""

    type: str
    target: str
    source: str | None = None
    read_only: bool = False
    options: tuple[str, ...] = ()

    @property
    def named_volume(self) -> str | None:
        """The top-level volume this mount uses, or None (bind, tmpfs, anonymous volume)."""
        return self.source if self.type == "volume" and self.source else None


@dataclass(frozen=True)
class NetworkAttachment:
    """A service's membership in one network, with the extra DNS names it answers to there."""

    network: str
    aliases: tuple[str, ...] = ()
    ipv4_address: str | None = None
    ipv6_address: str | None = None


@dataclass(frozen=True)
class Dependency:
    """``service`` must reach ``condition`` before the dependent starts.

    ``via`` says where the edge comes from: ``depends_on``, or the implicit dependencies
    that ``links``, ``volumes_from`` and ``network_mode: service:...`` create.
    """

    service: str
    condition: str = "service_started"
    required: bool = True
    restart: bool = False
    via: str = "depends_on"


@dataclass(frozen=True)
class HealthCheck:
    """A health check: ``test`` is ``("CMD", ...)``, ``("CMD-SHELL", cmd)`` or empty (the image's).

    Durations are seconds; None means the engine default (30 s interval and timeout, 3 retries).
    """

    test: tuple[str, ...] = ()
    interval: float | None = None
    timeout: float | None = None
    retries: int | None = None
    start_period: float | None = None
    start_interval: float | None = None
    disabled: bool = False

    @property
    def command(self) -> str | None:
        """The test as one readable command line, or None when it comes from the image."""
        if self.disabled or not self.test:
            return None
        return " ".join(self.test[1:])


@dataclass(frozen=True)
class Service:
    """One service of the file, with every value interpolated and normalised."""

    name: str
    image: str | None = None
    build: Build | None = None
    command: str | tuple[str, ...] | None = None
    entrypoint: str | tuple[str, ...] | None = None
    environment: dict[str, str | None] = field(default_factory=dict)
    env_files: tuple[EnvFile, ...] = ()
    ports: tuple[PortMapping, ...] = ()
    expose: tuple[str, ...] = ()
    volumes: tuple[Mount, ...] = ()
    networks: tuple[NetworkAttachment, ...] = ()
    network_mode: str | None = None
    depends_on: tuple[Dependency, ...] = ()
    healthcheck: HealthCheck | None = None
    replicas: int = 1
    restart: str = "no"
    labels: dict[str, str] = field(default_factory=dict)
    profiles: tuple[str, ...] = ()
    container_name: str | None = None
    hostname: str | None = None
    secrets: tuple[str, ...] = ()
    configs: tuple[str, ...] = ()
    line: int = 0

    @property
    def network_names(self) -> tuple[str, ...]:
        """The networks this service joins, in file order."""
        return tuple(attachment.network for attachment in self.networks)

    @property
    def named_volumes(self) -> tuple[str, ...]:
        """The top-level volumes this service mounts, without repeats."""
        return tuple(dict.fromkeys(m.named_volume for m in self.volumes if m.named_volume))

    @property
    def has_healthcheck(self) -> bool:
        """Whether the file gives this service a health check of its own (not disabled)."""
        return self.healthcheck is not None and not self.healthcheck.disabled and bool(self.healthcheck.test)


@dataclass(frozen=True)
class Network:
    """A network of the project; ``declared`` is False for the implicit ``default`` network."""

    name: str
    driver: str | None = None
    internal: bool = False
    external: bool = False
    real_name: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    declared: bool = True


@dataclass(frozen=True)
class Volume:
    """A named volume of the project; ``external`` ones must exist already and survive ``down -v``."""

    name: str
    driver: str | None = None
    external: bool = False
    real_name: str | None = None
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ComposeProject:
    """A whole Compose file: services, networks, volumes, and the graph they form.

    ``profiles`` are the active profiles (COMPOSE_PROFILES, or those the loader was given); ``secrets`` and
    ``configs`` the names the file defines at the top level.
    """

    name: str | None
    services: dict[str, Service]
    networks: dict[str, Network]
    volumes: dict[str, Volume]
    warnings: tuple[str, ...] = ()
    source: str = "compose.yaml"
    secrets: tuple[str, ...] = ()
    configs: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()

    def service(self, name: str) -> Service:
        """The service called ``name``, or a ParseError that lists the ones there are."""
        try:
            return self.services[name]
        except KeyError:
            raise ParseError(f"{self.source} has no service {name!r}.",
                             f"Services in this file: {', '.join(self.services) or 'none'}.") from None

    def network_members(self) -> dict[str, tuple[str, ...]]:
        """Network name -> the services attached to it (file order); unused networks map to ()."""
        members: dict[str, list[str]] = {name: [] for name in self.networks}
        for service in self.services.values():
            for network in service.network_names:
                members[network].append(service.name)
        return {name: tuple(names) for name, names in members.items()}

    def shared_networks(self, first: str, second: str) -> tuple[str, ...]:
        """The networks two services share: they can reach each other by name on these."""
        other = set(self.service(second).network_names)
        return tuple(n for n in self.service(first).network_names if n in other)

    def volume_users(self) -> dict[str, tuple[str, ...]]:
        """Top-level volume name -> the services that mount it (file order)."""
        users: dict[str, list[str]] = {name: [] for name in self.volumes}
        for service in self.services.values():
            for volume in service.named_volumes:
                users[volume].append(service.name)
        return {name: tuple(names) for name, names in users.items()}

    def dependency_edges(self) -> tuple[tuple[str, str, str], ...]:
        """(dependent, dependency, condition) for every edge, in file order."""
        return tuple((service.name, dep.service, dep.condition)
                     for service in self.services.values() for dep in service.depends_on)

    def published_ports(self) -> tuple[tuple[str, PortMapping], ...]:
        """(service, port) for every port published on the host, in file order."""
        return tuple((service.name, port) for service in self.services.values() for port in service.ports)

    def public_ports(self) -> tuple[tuple[str, PortMapping], ...]:
        """Published ports that other machines can reach (not bound to a loopback address)."""
        return tuple((name, port) for name, port in self.published_ports() if not port.loopback_only)

    def require_loopback_ports(self) -> None:
        """Refuse a project that publishes a port anywhere but 127.0.0.1 (the course's rule)."""
        outside = [(name, port) for name, port in self.published_ports() if port.host_ip != LOOPBACK]
        if outside:
            shown = ", ".join(f"{name} {port.label()}" for name, port in outside)
            reach = "other machines can reach" if any(not p.loopback_only for _, p in outside) else "not on"
            raise UnsafeRequestError(
                f"{self.source} publishes ports the course does not allow ({reach} them): {shown}.",
                "Prefix each published port with 127.0.0.1, e.g. \"127.0.0.1:8080:80\".")

    def enabled_services(self, profiles: Iterable[str] | None = None) -> tuple[str, ...]:
        """Services that ``up`` starts with these profiles active (no profile: always started; '*': all).

        By default the project's own ``profiles``: those COMPOSE_PROFILES named when the file was loaded.
        """
        active = set(self.profiles if profiles is None else profiles)
        return tuple(s.name for s in self.services.values()
                     if not s.profiles or "*" in active or active.intersection(s.profiles))

    def start_order(self) -> tuple[str, ...]:
        """Every service, dependencies first; ties keep file order (a topological sort)."""
        index = {name: i for i, name in enumerate(self.services)}
        waiting = {name: len({d.service for d in s.depends_on}) for name, s in self.services.items()}
        dependents: dict[str, list[str]] = {name: [] for name in self.services}
        for name, service in self.services.items():
            for dependency in dict.fromkeys(d.service for d in service.depends_on):
                dependents[dependency].append(name)
        ready = [(index[name], name) for name, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            _, name = heapq.heappop(ready)
            order.append(name)
            for dependent in dependents[name]:
                waiting[dependent] -= 1
                if waiting[dependent] == 0:
                    heapq.heappush(ready, (index[dependent], dependent))
        return tuple(order)

    def dependency_levels(self) -> dict[str, int]:
        """Service -> 0 when it depends on nothing, else one more than its deepest dependency."""
        levels: dict[str, int] = {}
        for name in self.start_order():
            deps = self.services[name].depends_on
            levels[name] = 1 + max(levels[d.service] for d in deps) if deps else 0
        return levels

def _span(first: int, last: int | None) -> str:
    return str(first) if last is None or last == first else f"{first}-{last}"
