"""Find a container engine: DOCKER_HOST, Docker's socket, Podman's rootful or rootless socket.

`CONTAINERLAB_ENGINE=docker|podman` narrows the search. When Podman is installed but
its API socket is not up, `podman system service` is started for this user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
from docker.errors import DockerException

from ..boxcheck import in_box, read_status
from ..errors import EnginePermissionError, EngineTooOldError, LabError, NoEngineError

__all__ = ["Engine", "connect", "candidate_sockets", "MIN_API_VERSION"]

MIN_API_VERSION = "1.40"
ENGINE_ENV = "CONTAINERLAB_ENGINE"
DOCKER_SOCKET = "/var/run/docker.sock"
PODMAN_ROOTFUL_SOCKET = "/run/podman/podman.sock"

_cached: dict[str, "Engine"] = {}


@dataclass
class Engine:
    """A connected engine and the facts a lesson needs about it."""

    client: docker.DockerClient = field(repr=False)
    name: str
    version: str
    api_version: str
    rootless: bool
    cgroup_version: str
    storage_driver: str
    base_url: str
    root_dir: str = ""

    @property
    def is_podman(self) -> bool:
        """True for Podman's Docker-compatible API."""
        return self.name == "podman"

    def summary(self) -> str:
        """One line for a notebook: which engine, how it runs."""
        mode = "rootless" if self.rootless else "rootful"
        return (f"{self.name} {self.version} (API {self.api_version}, {mode}, "
                f"cgroup v{self.cgroup_version}, storage {self.storage_driver})")

    def __str__(self) -> str:
        return self.summary()


def _wanted_engine() -> str | None:
    wanted = os.environ.get(ENGINE_ENV, "").strip().lower() or None
    if wanted not in (None, "docker", "podman"):
        raise LabError(f"{ENGINE_ENV}={wanted!r} is not an engine the course knows.",
                       f"Set {ENGINE_ENV} to 'docker' or 'podman', or unset it to pick automatically.")
    return wanted


def _rootless_podman_socket() -> str:
    """Where rootless Podman's API socket lives: $XDG_RUNTIME_DIR, /run/user/UID, or (with no login
    session, e.g. under runuser or cron) Podman's own fallback /tmp/podman-run-UID."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if not runtime:
        session = f"/run/user/{os.getuid()}"
        runtime = session if os.path.isdir(session) else f"{tempfile.gettempdir()}/podman-run-{os.getuid()}"
    return f"{runtime}/podman/podman.sock"


def _has_subordinate_ids(subuid: str = "/etc/subuid") -> bool:
    """True when /etc/subuid gives this user a range: rootless Podman needs one to map uids."""
    try:
        lines = Path(subuid).read_text().splitlines()
    except OSError:
        return False
    try:
        name = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        name = ""
    return any(line.split(":", 1)[0] in (name, str(os.getuid())) for line in lines if line.strip())


def _can_create(directory: Path) -> bool:
    """True when this user may create ``directory`` (it is writable, or its nearest existing parent is)."""
    while not directory.exists():
        directory = directory.parent
    return os.access(directory, os.W_OK)


def candidate_sockets(wanted: str | None = None) -> list[tuple[str, str]]:
    """(engine kind, base URL) pairs to try, in order."""
    found: list[tuple[str, str]] = []
    host = os.environ.get("DOCKER_HOST")
    if host:
        found.append(("podman" if "podman" in host else "docker", host))
    if wanted in (None, "docker"):
        found.append(("docker", f"unix://{DOCKER_SOCKET}"))
    if wanted in (None, "podman"):
        if os.geteuid() == 0:
            found.append(("podman", f"unix://{PODMAN_ROOTFUL_SOCKET}"))
        found.append(("podman", f"unix://{_rootless_podman_socket()}"))
    unique: list[tuple[str, str]] = []
    for kind, url in found:
        if url not in [u for _, u in unique]:
            unique.append((kind, url))
    return unique


def _probe_unix(path: str) -> str:
    """'up', 'absent', 'refused' or 'denied' for a unix socket path."""
    if not os.path.exists(path):
        return "absent"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(2)
    try:
        sock.connect(path)
        return "up"
    except PermissionError:
        return "denied"
    except OSError:
        return "refused"
    finally:
        sock.close()


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def _describe(client: docker.DockerClient, base_url: str) -> Engine:
    version = client.version()
    info = client.info()
    components = [c.get("Name", "") for c in version.get("Components") or []]
    is_podman = any("podman" in c.lower() for c in components)
    security = " ".join(info.get("SecurityOptions") or [])
    # Docker lists "name=rootless" in SecurityOptions; Podman's compat /info has a Rootless field.
    rootless = "rootless" in security or bool(info.get("Rootless")) or (is_podman and "/run/user/" in base_url)
    api_version = version.get("ApiVersion", "0")
    if _version_tuple(api_version) < _version_tuple(MIN_API_VERSION):
        raise EngineTooOldError(
            f"The engine speaks API {api_version}, older than the {MIN_API_VERSION} the course needs.",
            "Upgrade Docker to 20.10 or newer, or Podman to 4.0 or newer.")
    return Engine(client=client, name="podman" if is_podman else "docker",
                  version=version.get("Version", "?"), api_version=api_version,
                  rootless=rootless, cgroup_version=str(info.get("CgroupVersion") or "1"),
                  storage_driver=info.get("Driver", "?"), base_url=base_url,
                  root_dir=info.get("DockerRootDir", ""))


def _start_podman_service(socket_path: str, wait: float = 10.0) -> bool:
    """Start `podman system service` on socket_path for this user; True once it answers."""
    podman = shutil.which("podman")
    if not podman or (os.geteuid() != 0 and not _has_subordinate_ids()):
        return False
    Path(socket_path).parent.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # a runtime dir is private
    Path(socket_path).parent.mkdir(parents=True, exist_ok=True)
    # cwd: conmon leaves an empty "oom" marker in the service's working directory when a container is
    # OOM-killed; in the socket's private runtime directory it litters nobody's project folder.
    with open(Path(socket_path).parent / "containerlab-service.log", "ab") as log:
        subprocess.Popen([podman, "system", "service", "--time=0", f"unix://{socket_path}"],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                         cwd=Path(socket_path).parent)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if _probe_unix(socket_path) == "up":
            return True
        time.sleep(0.1)
    return False


def _no_engine_hint(wanted: str | None) -> str:
    if wanted != "podman" and shutil.which("dockerd"):
        return ("Docker is installed but its daemon is not running: start it with "
                "'sudo systemctl start docker' (or 'sudo dockerd &'), then try again.")
    if wanted != "docker" and shutil.which("podman"):
        return "Podman is installed but its API did not start: run 'podman system service --time=0 &' and retry."
    return ("Install an engine ('sudo apt-get install docker.io' or 'sudo apt-get install podman'), "
            "then run 'python -m containerlab doctor'.")


def connect(refresh: bool = False, timeout: int = 120) -> Engine:
    """Connect to the first engine that answers; cached per process unless refresh."""
    wanted = _wanted_engine()
    key = f"{wanted}:{os.environ.get('DOCKER_HOST', '')}"
    if not refresh and key in _cached:
        return _cached[key]
    denied: list[str] = []
    candidates = candidate_sockets(wanted)
    podman_socket: str | None = None
    for kind, url in candidates:
        if url.startswith("unix://"):
            path = url[len("unix://"):]
            state = _probe_unix(path)
            if state == "denied":
                denied.append(path)
                continue
            if state != "up":
                if kind == "podman" and podman_socket is None and _can_create(Path(path).parent.parent):
                    podman_socket = path
                continue
        engine = _try_client(url, timeout)
        if engine is not None and (wanted is None or engine.name == wanted):
            _cached[key] = engine
            return engine
    if podman_socket and _start_podman_service(podman_socket):
        engine = _try_client(f"unix://{podman_socket}", timeout)
        if engine is not None:
            _cached[key] = engine
            return engine
    if denied:
        raise EnginePermissionError(
            f"The engine socket {denied[0]} exists but this user may not use it.",
            "Add yourself to the 'docker' group (root-equivalent: anyone in it controls the host) "
            "and log in again, or use rootless Podman with CONTAINERLAB_ENGINE=podman.")
    box = read_status() if in_box() else None
    if box is not None and not box.ready and box.message:
        raise NoEngineError(box.message, box.hint or "Restart the course box with the flags in the README.")
    what = wanted or "Docker or Podman"
    raise NoEngineError(f"No {what} engine answered on {', '.join(u for _, u in candidates)}.",
                        _no_engine_hint(wanted))


def _try_client(url: str, timeout: int) -> Engine | None:
    try:
        client = docker.DockerClient(base_url=url, timeout=timeout)
        return _describe(client, url)
    except EngineTooOldError:
        raise
    except (DockerException, OSError, ValueError):
        return None


def engine_facts(engine: Engine) -> dict[str, Any]:
    """The engine's facts as plain data (for `doctor --json`)."""
    return {"name": engine.name, "version": engine.version, "api_version": engine.api_version,
            "rootless": engine.rootless, "cgroup_version": engine.cgroup_version,
            "storage_driver": engine.storage_driver, "base_url": engine.base_url}
