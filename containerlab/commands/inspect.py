"""What `docker inspect` says about a container, as a small model graders can read. Pure.

Graders check the engine's state, whoever made it: a container started from Python, typed into a
`!docker run` cell, or into a JupyterLab terminal looks the same to `ContainerFacts.from_inspect`.
Docker and Podman answer the same inspect document through the Docker API, with small differences
(Podman lists default capabilities in CapAdd, writes `HostIp` "" for every address) handled here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PublishedPort", "MountFacts", "NetworkFacts", "ContainerFacts", "NetworkInfo", "VolumeInfo", "EngineState",
           "normalize_image", "short_names"]


@dataclass(frozen=True)
class PublishedPort:
    """One published port: host address and port -> container port/protocol."""

    host_ip: str
    host_port: int
    container_port: int
    protocol: str = "tcp"

    @property
    def loopback_only(self) -> bool:
        """True when only this machine can reach it (127.0.0.1 or ::1); '' and 0.0.0.0 mean every address."""
        return self.host_ip in ("127.0.0.1", "::1") or self.host_ip.startswith("127.")

    def __str__(self) -> str:
        return f"{self.host_ip or '0.0.0.0'}:{self.host_port}->{self.container_port}/{self.protocol}"


@dataclass(frozen=True)
class MountFacts:
    """One mount of a container: bind, volume or tmpfs, where from, where to, writable or not."""

    type: str
    source: str
    destination: str
    read_write: bool = True
    name: str = ""


@dataclass(frozen=True)
class NetworkFacts:
    """A network the container is attached to: its address there and the names others can use."""

    name: str
    ip_address: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContainerFacts:
    """The parts of `docker inspect CONTAINER` the course's graders read."""

    name: str
    id: str
    image: str
    status: str
    exit_code: int = 0
    pid: int = 0
    restart_count: int = 0
    oom_killed: bool = False
    health: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    command: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    user: str = ""
    tty: bool = False
    env: tuple[str, ...] = ()
    exposed: tuple[str, ...] = ()
    published: tuple[PublishedPort, ...] = ()
    mounts: tuple[MountFacts, ...] = ()
    networks: tuple[NetworkFacts, ...] = ()
    memory: int = 0
    pids_limit: int = 0
    read_only: bool = False
    runs_privileged: bool = False
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    security_opt: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    restart_policy: str = ""
    restart_retries: int = 0
    tmpfs: tuple[str, ...] = ()

    @property
    def running(self) -> bool:
        """True while its first process runs."""
        return self.status == "running"

    def runs_image(self, name: str) -> bool:
        """True when it was started from the image ``name`` (Podman's localhost/ prefix and :latest ignored)."""
        return normalize_image(self.image) == normalize_image(name)

    def has_labels(self, labels: Mapping[str, str]) -> bool:
        """True when it carries every one of ``labels`` with the same value."""
        return all(self.labels.get(key) == value for key, value in labels.items())

    def publishing(self, container_port: int, protocol: str = "tcp") -> list[PublishedPort]:
        """The host bindings of one container port (empty when it is not published)."""
        return [p for p in self.published if p.container_port == container_port and p.protocol == protocol]

    def mount_at(self, destination: str) -> MountFacts | None:
        """The mount at ``destination`` inside the container, if any."""
        return next((m for m in self.mounts if m.destination.rstrip("/") == destination.rstrip("/")), None)

    def network(self, name: str) -> NetworkFacts | None:
        """Its attachment to the network called ``name`` (None when not attached)."""
        return next((n for n in self.networks if n.name == name), None)

    @classmethod
    def from_inspect(cls, data: Mapping[str, Any]) -> ContainerFacts:
        """Read the inspect document of one container (Docker's or Podman's)."""
        state = data.get("State") or {}
        config = data.get("Config") or {}
        host = data.get("HostConfig") or {}
        settings = data.get("NetworkSettings") or {}
        health = (state.get("Health") or {}).get("Status") or ""
        policy = host.get("RestartPolicy") or {}
        return cls(
            name=str(data.get("Name") or "").lstrip("/"),
            id=str(data.get("Id") or ""),
            image=str(config.get("Image") or data.get("ImageName") or ""),
            status=str(state.get("Status") or "").lower(),
            exit_code=int(state.get("ExitCode") or 0),
            pid=int(state.get("Pid") or 0),
            restart_count=int(data.get("RestartCount") or 0),
            oom_killed=bool(state.get("OOMKilled")),
            health=str(health).lower(),
            labels=dict(config.get("Labels") or {}),
            command=_words(config.get("Cmd")),
            entrypoint=_words(config.get("Entrypoint")),
            user=str(config.get("User") or ""),
            tty=bool(config.get("Tty")),
            env=_words(config.get("Env")),
            exposed=tuple(sorted(config.get("ExposedPorts") or {})),
            published=_published(settings.get("Ports") or {}, host.get("PortBindings") or {}),
            mounts=tuple(_mount(m) for m in data.get("Mounts") or []),
            networks=tuple(NetworkFacts(name, str(net.get("IPAddress") or ""), tuple(net.get("Aliases") or ()))
                           for name, net in sorted((settings.get("Networks") or {}).items())),
            memory=int(host.get("Memory") or 0),
            pids_limit=int(host.get("PidsLimit") or 0),
            read_only=bool(host.get("ReadonlyRootfs")),
            runs_privileged=bool(host.get("Privileged")),
            cap_add=_capabilities(host.get("CapAdd")),
            cap_drop=_capabilities(host.get("CapDrop")),
            security_opt=_words(host.get("SecurityOpt")),
            devices=tuple(str(d.get("PathOnHost") or "") for d in host.get("Devices") or []),
            restart_policy=str(policy.get("Name") or "no") or "no",
            restart_retries=int(policy.get("MaximumRetryCount") or 0),
            tmpfs=tuple(sorted(host.get("Tmpfs") or {})),
        )


def normalize_image(name: str) -> str:
    """An image name as people write it: 'localhost/x/y:latest' and 'docker.io/library/y:latest' as 'x/y', 'y'."""
    for prefix in ("localhost/", "docker.io/library/", "docker.io/"):
        name = name.removeprefix(prefix)
    return name.removesuffix(":latest")


def _words(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(item) for item in value)


def _capabilities(value: Any) -> tuple[str, ...]:
    """Capability names without the CAP_ prefix, upper case: Docker writes 'NET_ADMIN', Podman 'CAP_NET_ADMIN'."""
    return tuple(sorted({str(item).upper().removeprefix("CAP_") for item in value or ()}))


def _published(ports: Mapping[str, Any], bindings: Mapping[str, Any]) -> tuple[PublishedPort, ...]:
    """Published ports from NetworkSettings.Ports (what is bound now), else HostConfig.PortBindings (asked)."""
    found = []
    source = ports if any(ports.values()) else bindings
    for key, entries in sorted(source.items()):
        port, _, protocol = str(key).partition("/")
        for entry in entries or ():
            host_port = str(entry.get("HostPort") or "0")
            found.append(PublishedPort(str(entry.get("HostIp") or ""), int(host_port) if host_port.isdigit() else 0,
                                       int(port), protocol or "tcp"))
    return tuple(found)


def _mount(entry: Mapping[str, Any]) -> MountFacts:
    return MountFacts(type=str(entry.get("Type") or ""), source=str(entry.get("Source") or ""),
                      destination=str(entry.get("Destination") or ""), read_write=bool(entry.get("RW", True)),
                      name=str(entry.get("Name") or ""))


def short_names(facts: Sequence[ContainerFacts], prefix: str) -> list[str]:
    """The names without the lesson's prefix ('web' for clab-alice-11-lifecycle-web), sorted."""
    return sorted(f.name[len(prefix):] if f.name.startswith(prefix) else f.name for f in facts)


@dataclass(frozen=True)
class NetworkInfo:
    """A network as `docker network inspect` describes it."""

    name: str
    driver: str = ""
    internal: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_inspect(cls, data: Mapping[str, Any]) -> NetworkInfo:
        """Read one network's inspect document."""
        return cls(str(data.get("Name") or ""), str(data.get("Driver") or ""), bool(data.get("Internal")),
                   dict(data.get("Labels") or {}))


@dataclass(frozen=True)
class VolumeInfo:
    """A named volume as `docker volume inspect` describes it."""

    name: str
    mountpoint: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_inspect(cls, data: Mapping[str, Any]) -> VolumeInfo:
        """Read one volume's inspect document."""
        return cls(str(data.get("Name") or ""), str(data.get("Mountpoint") or ""), dict(data.get("Labels") or {}))


@dataclass(frozen=True)
class EngineState:
    """What one lesson of one learner has on the engine now: found by its labels or by its name prefix.

    ``prefix`` is the lesson's name prefix (``clab-alice-11-lifecycle-``, ``$LAB-`` in the shown commands);
    ``labels`` the labels every resource of the lesson should carry.
    """

    prefix: str
    labels: Mapping[str, str]
    containers: tuple[ContainerFacts, ...] = ()
    networks: tuple[NetworkInfo, ...] = ()
    volumes: tuple[VolumeInfo, ...] = ()

    def short(self, name: str) -> str:
        """'web' for clab-alice-11-lifecycle-web."""
        return name[len(self.prefix):] if name.startswith(self.prefix) else name

    def container(self, short_name: str) -> ContainerFacts | None:
        """The lesson's container called $LAB-<short_name>."""
        return next((c for c in self.containers if c.name == self.prefix + short_name), None)

    def network_named(self, short_name: str) -> NetworkInfo | None:
        """The lesson's network called $LAB-<short_name>."""
        return next((n for n in self.networks if n.name == self.prefix + short_name), None)

    def volume(self, short_name: str) -> VolumeInfo | None:
        """The lesson's volume called $LAB-<short_name>."""
        return next((v for v in self.volumes if v.name == self.prefix + short_name), None)
