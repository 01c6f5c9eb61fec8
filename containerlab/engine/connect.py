"""Find a container engine the way the docker CLI does, then Podman's.

1. ``DOCKER_HOST`` set: that engine and no other (a remote engine, Colima's or a VM's is never quietly
   replaced by a local one);
2. otherwise the current docker context (``DOCKER_CONTEXT``, or ``currentContext`` in the docker CLI's
   config.json): how Docker Desktop, Colima, Rancher Desktop and ``docker context use`` point the CLI at
   their engine;
3. otherwise Docker's default socket, then Podman's rootful and rootless sockets.

`CONTAINERLAB_ENGINE=docker|podman` narrows the search. When Podman is installed but
its API socket is not up, `podman system service` is started for this user.
"""

from __future__ import annotations

import hashlib
import json
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

from ..errors import EnginePermissionError, EngineTooOldError, LabError, NoEngineError
from ..kernel.inside_box import in_box, read_status

__all__ = ["Engine", "connect", "candidate_sockets", "current_context", "docker_config_dir", "enforceable_limits",
           "LIMIT_KINDS", "MIN_API_VERSION"]

MIN_API_VERSION = "1.40"
ENGINE_ENV = "CONTAINERLAB_ENGINE"
DOCKER_SOCKET = "/var/run/docker.sock"
PODMAN_ROOTFUL_SOCKET = "/run/podman/podman.sock"
# The resource limits a lab container, a build or a compose service may ask for, by the cgroup controller that
# enforces each: memory (-m), cpu (--cpus, a CFS quota) and pids (--pids-limit).
LIMIT_KINDS = ("memory", "cpu", "pids")

_cached: dict[str, Engine] = {}


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
    limits: frozenset[str] = frozenset(LIMIT_KINDS)

    @property
    def is_podman(self) -> bool:
        """True for Podman's Docker-compatible API."""
        return self.name == "podman"

    def enforces(self, kind: str) -> bool:
        """True when this engine can hold a container to a ``kind`` limit ('memory', 'cpu' or 'pids')."""
        return kind in self.limits

    @property
    def unenforced(self) -> list[str]:
        """The limit kinds this engine cannot apply, in LIMIT_KINDS order ([] on a rootful engine)."""
        return [kind for kind in LIMIT_KINDS if kind not in self.limits]

    @property
    def where(self) -> str:
        """'rootless Podman on cgroup v1': the engine as a one-line message names it."""
        return f"{'rootless ' if self.rootless else ''}{self.name.capitalize()} on cgroup v{self.cgroup_version}"

    def limits_note(self) -> str:
        """One line saying which limits cannot be enforced here and why ('' when all can)."""
        missing = self.unenforced
        if not missing:
            return ""
        where = self.where
        what = "memory, CPU or pids" if len(missing) == len(LIMIT_KINDS) else \
            " or ".join({"cpu": "CPU"}.get(kind, kind) for kind in missing)
        return (f"{where} cannot enforce {what} limits: lab containers and builds run without them, "
                "and the cells that show a limit show the recorded result instead.")

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


def rootless_runtime_dir() -> str:
    """Rootless Podman's runtime directory: $XDG_RUNTIME_DIR, /run/user/UID, or (with no login session, e.g.
    under su, runuser or cron) Podman's own fallback /tmp/podman-run-UID."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if not runtime:
        session = f"/run/user/{os.getuid()}"
        runtime = session if os.path.isdir(session) else f"{tempfile.gettempdir()}/podman-run-{os.getuid()}"
    return runtime


def _rootless_podman_socket() -> str:
    """Where rootless Podman's API socket lives: podman/podman.sock in its runtime directory."""
    return f"{rootless_runtime_dir()}/podman/podman.sock"


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


def docker_config_dir() -> Path:
    """Where the docker CLI keeps config.json and its contexts: $DOCKER_CONFIG or ~/.docker."""
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")


def current_context(config_dir: Path | None = None) -> tuple[str, str | None]:
    """The docker CLI's current context and its engine address: (name, host), host None for "default".

    ``DOCKER_CONTEXT`` wins over ``currentContext`` in config.json, as in the docker CLI. A context whose
    metadata cannot be read is an error with a hint, not a silent fallback to another engine.
    """
    directory = config_dir or docker_config_dir()
    name = os.environ.get("DOCKER_CONTEXT", "").strip()
    if not name:
        try:
            name = str(json.loads((directory / "config.json").read_text()).get("currentContext") or "")
        except (OSError, ValueError, AttributeError):
            name = ""
    if name in ("", "default"):
        return "default", None
    meta = directory / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest() / "meta.json"
    try:
        host = json.loads(meta.read_text())["Endpoints"]["docker"]["Host"]
    except (OSError, ValueError, KeyError, TypeError):
        raise LabError(f"The docker context {name!r} is selected but its settings cannot be read ({meta}).",
                       "Run 'docker context ls' and 'docker context use default' (or the context you want).") from None
    if not isinstance(host, str) or not host:
        raise LabError(f"The docker context {name!r} names no engine address.",
                       "Run 'docker context inspect' to see it, or 'docker context use default'.")
    return name, host


def _kind_of(url: str) -> str:
    return "podman" if "podman" in url else "docker"


def candidate_sockets(wanted: str | None = None) -> list[tuple[str, str]]:
    """(engine kind, base URL) pairs to try, in order: DOCKER_HOST alone, else the context, else the defaults."""
    host = os.environ.get("DOCKER_HOST", "").strip()
    if host:
        return [(_kind_of(host), host)]
    found: list[tuple[str, str]] = []
    if wanted in (None, "docker"):
        _, context_host = current_context()
        if context_host:
            return [(_kind_of(context_host), context_host)]
        found.append(("docker", f"unix://{DOCKER_SOCKET}"))
    if wanted in (None, "podman"):
        if os.geteuid() == 0:
            found.append(("podman", f"unix://{PODMAN_ROOTFUL_SOCKET}"))
        found.append(("podman", f"unix://{_rootless_podman_socket()}"))
    return found


def _chosen_by_user() -> str:
    """What named the one engine to use ('DOCKER_HOST=…', 'docker context …'), or '' for the default search."""
    host = os.environ.get("DOCKER_HOST", "").strip()
    if host:
        return f"DOCKER_HOST={host}"
    name, context_host = current_context()
    return f"the docker context {name!r} ({context_host})" if context_host else ""


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


def enforceable_limits(info: dict[str, Any], *, is_podman: bool, rootless: bool,
                       controllers: list[str] | None = None) -> frozenset[str]:
    """The limit kinds an engine can enforce, from its ``/info`` and (Podman) its delegated cgroup controllers.

    Podman's Docker-compatible ``/info`` says yes to every limit even where a rootless engine cannot apply any;
    its own ``/libpod/info`` lists the controllers this user may use (none for rootless on cgroup v1, the user's
    delegated ones on v2). Docker's ``/info`` flags are true to the daemon, and a rootless Docker without
    cgroups reports the cgroup driver ``none``.
    """
    if controllers is not None:
        return frozenset(kind for kind in LIMIT_KINDS if kind in controllers)
    if str(info.get("CgroupDriver", "")).lower() == "none":
        return frozenset()
    if is_podman and rootless and str(info.get("CgroupVersion") or "1") == "1":
        return frozenset()
    flags = {"memory": info.get("MemoryLimit", True), "cpu": info.get("CpuCfsQuota", True),
             "pids": info.get("PidsLimit", True)}
    return frozenset(kind for kind, supported in flags.items() if supported is not False)


def _podman_controllers(client: Any) -> list[str] | None:
    """The cgroup controllers Podman may use for this user (its /libpod/info), or None when it does not say."""
    try:
        answer = client.api.get(client.api._url("/libpod/info"), timeout=10)
        answer.raise_for_status()
        controllers = answer.json()["host"]["cgroupControllers"]
    except (AttributeError, DockerException, OSError, ValueError, KeyError, TypeError):
        return None
    return [str(name) for name in controllers] if isinstance(controllers, list) else None


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
    limits = enforceable_limits(info, is_podman=is_podman, rootless=rootless,
                                controllers=_podman_controllers(client) if is_podman else None)
    return Engine(client=client, name="podman" if is_podman else "docker",
                  version=version.get("Version", "?"), api_version=api_version,
                  rootless=rootless, cgroup_version=str(info.get("CgroupVersion") or "1"),
                  storage_driver=info.get("Driver", "?"), base_url=base_url,
                  root_dir=info.get("DockerRootDir", ""), limits=limits)


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
        # The service is shared by every learner of this user: it is nobody's run, so it does not carry the
        # starting learner's owner (cleanups stop the processes of an owner's run).
        subprocess.Popen([podman, "system", "service", "--time=0", f"unix://{socket_path}"],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                         cwd=Path(socket_path).parent,
                         env={key: value for key, value in os.environ.items() if key != "CONTAINERLAB_OWNER"})
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
    key = f"{wanted}:{os.environ.get('DOCKER_HOST', '')}:{os.environ.get('DOCKER_CONTEXT', '')}"
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
        if engine is not None and len(candidates) == 1:
            raise NoEngineError(f"{_chosen_by_user()} is a {engine.name} engine, but {ENGINE_ENV}={wanted}.",
                                f"Unset {ENGINE_ENV}, or point DOCKER_HOST at a {wanted} socket.")
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
    chosen = _chosen_by_user()
    if chosen:
        raise NoEngineError(f"The engine chosen by {chosen} does not answer.",
                            "Start that engine (Docker Desktop, Colima, the VM), or unset DOCKER_HOST / run "
                            "'docker context use default' to use this machine's own engine.")
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
            "storage_driver": engine.storage_driver, "base_url": engine.base_url,
            "limits": sorted(engine.limits)}
