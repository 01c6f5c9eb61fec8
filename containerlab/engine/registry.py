"""A real Distribution registry (Debian's `docker-registry`) on 127.0.0.1, and push / pull with progress.

The registry is a host process with a generated config: it listens on 127.0.0.1 only, needs no
login, and keeps its storage in ``/tmp/containerlab-registry-<owner>-<port>``, which stopping it
removes. Each owner gets a port of their own by default (derived from the name, the next free one
when taken), so learners sharing a machine do not collide. Docker trusts plain-HTTP registries
on 127.0.0.0/8 out of the box, so `docker push 127.0.0.1:PORT/...` just works; on Podman, `push` and
`pull` pass ``tlsVerify=false`` for those addresses only, to the same effect.

In a notebook: ``with Registry(lesson="06-registries") as registry: ...`` or ``start()`` / ``stop()``.
From a shell: ``python -m containerlab registry start | status | stop``.
"""

from __future__ import annotations

import atexit
import errno
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..commands.line import CommandLine, transfer_command
from ..errors import HostToolMissingError, LabError
from ..images.reference import parse_reference
from ..images.registry_client import RegistryClient, RegistryError, is_loopback_host
from .guards import LOOPBACK
from .lab import _slug, default_owner

__all__ = ["Registry", "RegistryState", "PortInUseError", "find_registry_binary", "running_registries", "tag",
           "stop_registries", "push", "pull", "transfer_command_for", "TransferReport", "LOOPBACK", "PORT_RANGE"]

PORT_RANGE = (15000, 15999)
STATE_PREFIX = "containerlab-registry-"
_BINARIES = ("docker-registry", "registry")
_CONFIG = """\
# Written by containerlab: a throw-away registry for one learner, on this machine only.
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: {host}:{port}
  secret: {secret}
  headers:
    X-Content-Type-Options: [nosniff]
"""


class PortInUseError(LabError):
    """The registry's port on 127.0.0.1 is taken by another program."""


def find_registry_binary() -> str:
    """The Distribution registry program (Debian's docker-registry); a hint to install it when missing."""
    for name in _BINARIES:
        found = shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None)
        if found:
            return found
    raise HostToolMissingError("The registry program (Distribution's docker-registry) is not installed.",
                               "Install it with 'sudo apt-get install -y docker-registry' (./lab setup does).")


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the registry binds: TIME_WAIT is no owner
        try:
            sock.bind((host, port))
        except OSError as err:
            if err.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def _listens_on(pid: int, port: int) -> bool:
    """True when process ``pid`` holds the listening TCP socket on ``port`` (from /proc/net/tcp and its fds)."""
    inodes = set()
    try:
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except (OSError, ValueError):
        return True  # cannot tell (no /proc access): trust the answer, as before
    for descriptor in descriptors:
        try:
            if os.readlink(descriptor) in inodes:
                return True
        except OSError:
            continue
    return False


def preferred_port(owner: str) -> int:
    """The port this owner's registry tries first: stable per name, spread over PORT_RANGE."""
    low, high = PORT_RANGE
    return low + zlib.crc32(owner.encode()) % (high - low + 1)


@dataclass(frozen=True)
class RegistryState:
    """A course registry as its state file records it (it may have died since)."""

    directory: Path
    pid: int
    port: int
    owner: str
    lesson: str
    host: str = LOOPBACK

    @property
    def address(self) -> str:
        """host:port, as image references name it."""
        return f"{self.host}:{self.port}"

    @property
    def alive(self) -> bool:
        """True while the registry process still runs (and is the registry, not a reused PID)."""
        try:
            cmdline = Path(f"/proc/{self.pid}/cmdline").read_bytes()
        except OSError:
            return False
        return str(self.directory).encode() in cmdline

    @property
    def answering(self) -> bool:
        """True when the registry answers GET /v2/."""
        try:
            RegistryClient(self.address, timeout=2).ping()
            return True
        except LabError:
            return False

    def stop(self) -> bool:
        """Kill the process (if ours and alive) and remove its storage; True when there was anything."""
        had = self.directory.exists() or self.alive
        _kill(self)
        shutil.rmtree(self.directory, ignore_errors=True)
        return had

    def __str__(self) -> str:
        status = ("running" if self.answering else "starting") if self.alive else "dead (storage left behind)"
        return f"{self.address}  owner={self.owner}  lesson={self.lesson}  pid={self.pid}  {status}  {self.directory}"


def _kill(state: RegistryState) -> None:
    """Stop a registry process and wait until it has let go of its port (so a restart gets the same one)."""
    if not state.alive:
        return
    try:
        os.kill(state.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if not _wait_exited(state, 5) and state.alive:
        try:
            os.kill(state.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _wait_exited(state, 5)


def _wait_exited(state: RegistryState, seconds: float) -> bool:
    """Wait until the process is gone (or a zombie) and its port is free; True when it got there in time.

    Its command line empties while it exits, before the kernel closes its sockets: on a busy machine a
    restart right after that moment found the port still taken and moved to the next one.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _exited(state) and _port_free(state.host, state.port):
            return True
        time.sleep(0.05)
    return False


def _exited(state: RegistryState) -> bool:
    """True when the registry no longer runs: gone, a zombie waiting for its parent, or its PID reused."""
    try:
        stat = Path(f"/proc/{state.pid}/stat").read_text()
        cmdline = Path(f"/proc/{state.pid}/cmdline").read_bytes()
    except OSError:
        return True
    if stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X"):
        return True
    return bool(cmdline) and str(state.directory).encode() not in cmdline


def _read_state(directory: Path) -> RegistryState | None:
    try:
        data = json.loads((directory / "state.json").read_text())
        return RegistryState(directory, int(data["pid"]), int(data["port"]), str(data["owner"]),
                             str(data.get("lesson", "")), str(data.get("host", LOOPBACK)))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running_registries(owner: str | None = None, lesson: str | None = None) -> list[RegistryState]:
    """The course registries recorded in the temp dir (alive or not), optionally one owner's / lesson's."""
    found = []
    for directory in sorted(Path(tempfile.gettempdir()).glob(f"{STATE_PREFIX}*")):
        state = _read_state(directory)
        if state is None:
            continue
        if (owner is None or state.owner == owner) and (lesson is None or state.lesson == lesson):
            found.append(state)
    return sorted(found, key=lambda s: (s.owner, s.port))


def stop_registries(owner: str | None = None, lesson: str | None = None, port: int | None = None) -> int:
    """Stop course registries (one owner's, one lesson's, one port's) and remove their storage; how many."""
    stopped = 0
    for state in running_registries(owner, lesson):
        if port is None or state.port == port:
            stopped += state.stop()
    return stopped


class Registry:
    """A Distribution registry on 127.0.0.1 for one owner (and lesson), with storage in the temp dir."""

    def __init__(self, port: int | None = None, *, owner: str | None = None, lesson: str = "registry",
                 host: str = LOOPBACK, binary: str | None = None, startup_timeout: float = 15.0) -> None:
        if host != LOOPBACK:
            raise LabError(f"The course's registry listens on {LOOPBACK} only, not {host}.",
                           "Leave host unset: other machines must not reach a registry without a login.")
        self.owner = _slug(owner) if owner else default_owner()
        self.lesson = _slug(lesson)
        self.host = host
        self.requested_port = port
        self.port: int | None = port
        self.binary = binary
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._state: RegistryState | None = None

    # -- facts ----------------------------------------------------------------------------------
    @property
    def address(self) -> str:
        """host:port of the running registry, as image references name it ('127.0.0.1:15123')."""
        if self.port is None:
            raise LabError("The registry has not been started.", "Call registry.start() first.")
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """Its API base URL."""
        return f"http://{self.address}"

    @property
    def storage(self) -> Path:
        """Where it keeps repositories and blobs (removed by stop())."""
        return self.directory / "storage"

    @property
    def directory(self) -> Path:
        """Its state directory: config, log, pid and storage."""
        if self.port is None:
            raise LabError("The registry has not been started.", "Call registry.start() first.")
        return Path(tempfile.gettempdir()) / f"{STATE_PREFIX}{self.owner}-{self.port}"

    @property
    def running(self) -> bool:
        """True while its process runs."""
        return self._state is not None and self._state.alive

    def client(self) -> RegistryClient:
        """An API v2 client for it."""
        return RegistryClient(self.address)

    def reference(self, repository: str, tag: str | None = None) -> str:
        """An image reference in this registry: '127.0.0.1:PORT/repository[:tag]'."""
        return f"{self.address}/{repository}" + (f":{tag}" if tag else "")

    def log(self) -> str:
        """What the registry printed (warnings and errors)."""
        try:
            return (self.directory / "registry.log").read_text(errors="replace")
        except (OSError, LabError):
            return ""

    # -- life cycle -----------------------------------------------------------------------------
    def _choose_port(self) -> int:
        if self.requested_port is not None:
            port = int(self.requested_port)
            if not 0 < port < 65536:
                raise LabError(f"Port {port} is not a TCP port.", "Choose a port between 1024 and 65535.")
            if not _port_free(self.host, port):
                ours = [s for s in running_registries() if s.port == port and s.alive]
                who = (f"the course registry of {ours[0].owner} ({ours[0].lesson})" if ours
                       else "another program")
                raise PortInUseError(f"Port {port} on {self.host} is already in use by {who}.",
                                     "Pick another port (Registry(port=...)), or leave the port unset to get a free "
                                     "one; 'python -m containerlab registry status' lists the course's registries.")
            return port
        low, high = PORT_RANGE
        first = preferred_port(self.owner)
        for offset in range(high - low + 1):
            port = low + (first - low + offset) % (high - low + 1)
            if _port_free(self.host, port):
                return port
        raise PortInUseError(f"Every port from {low} to {high} on {self.host} is in use.",
                             "Stop some registries ('python -m containerlab registry stop') or pass port=.")

    def start(self, *, detach: bool = False) -> Registry:
        """Start it (first stopping this owner's and lesson's earlier one); wait until it answers.

        Without ``detach`` the registry is also stopped when this Python process exits.
        """
        binary = self.binary or find_registry_binary()
        self.stop()
        stop_registries(owner=self.owner, lesson=self.lesson)
        # A free port can be taken by another learner's registry between the check and the bind: pick again.
        attempts = 1 if self.requested_port is not None else 3
        for attempt in range(1, attempts + 1):
            try:
                self._start_on_free_port(binary)
                break
            except PortInUseError:
                if attempt == attempts:
                    raise
        if not detach:
            atexit.register(self.stop)
        return self

    def _start_on_free_port(self, binary: str) -> None:
        self.port = self._choose_port()
        directory = self.directory
        shutil.rmtree(directory, ignore_errors=True)
        self.storage.mkdir(parents=True, mode=0o700)
        config = directory / "config.yml"
        config.write_text(_CONFIG.format(storage=self.storage, host=self.host, port=self.port,
                                         secret=os.urandom(16).hex()))
        with open(directory / "registry.log", "wb") as log:
            self._process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, start_new_session=True)
        self._state = RegistryState(directory, self._process.pid, self.port, self.owner, self.lesson, self.host)
        (directory / "state.json").write_text(json.dumps({"pid": self._process.pid, "port": self.port,
                                                          "owner": self.owner, "lesson": self.lesson,
                                                          "host": self.host}))
        try:
            self._wait_until_answering()
        except LabError:
            self.stop()
            raise

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        client = RegistryClient(self.address, timeout=1)
        while True:
            if self._process is not None and self._process.poll() is not None:
                tail = " | ".join(self.log().strip().splitlines()[-2:])
                if "address already in use" in tail:
                    raise PortInUseError(f"Port {self.port} on {self.host} was taken while the registry started.",
                                         "Start it again: a free port is chosen each time.")
                raise LabError(f"The registry exited at once (code {self._process.returncode}): {tail[-300:]}",
                               f"Read {self.directory / 'registry.log'}; its config is next to it.")
            try:
                client.ping()
                if self._process is None or self.port is None or _listens_on(self._process.pid, self.port):
                    return
                # Another learner's registry answered on this port: ours cannot bind it and will exit (above).
            except RegistryError:
                pass
            if time.monotonic() > deadline:
                raise LabError(f"The registry did not answer on {self.address} within "
                               f"{self.startup_timeout:g} s.", f"Read {self.directory / 'registry.log'}.")
            time.sleep(0.05)

    def stop(self) -> bool:
        """Kill the registry and remove its storage (safe to call twice); True when it was running."""
        if self._state is None:
            return False
        was_running = self._state.alive
        self._state.stop()
        if self._process is not None:
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._process = None
        self._state = None
        atexit.unregister(self.stop)
        return was_running

    def __enter__(self) -> Registry:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.address if self.port else "not started"
        return f"<Registry {where} owner={self.owner} {'running' if self.running else 'stopped'}>"


# -- push and pull with the engine ------------------------------------------------------------
@dataclass(frozen=True)
class TransferReport:
    """What a push or pull did, per layer, and the digest the registry gave the manifest."""

    reference: str
    direction: str
    layers: dict[str, str]
    digest: str
    command: CommandLine | None = None

    def counts(self) -> dict[str, int]:
        """How many layers ended in each state ('Pushed', 'Layer already exists', 'Pull complete', ...)."""
        counts: dict[str, int] = {}
        for status in self.layers.values():
            counts[status] = counts.get(status, 0) + 1
        return dict(sorted(counts.items()))

    def __str__(self) -> str:
        summary = ", ".join(f"{count} {status}" for status, count in self.counts().items()) or "no layers"
        return f"{self.direction} {len(self.layers)} layers: {summary}"


_FINAL = {"push": ("Pushed", "Layer already exists", "Mounted from", "Copied", "Already exists"),
          "pull": ("Pull complete", "Already exists", "Copied")}


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = int(width * done / total) if total else width
    return "[" + "#" * filled + "-" * (width - filled) + f"] {done}/{total} layers"


def _transfer(stream: Any, reference: str, direction: str, progress: Callable[[str], None] | None,
              total: int | None = None) -> TransferReport:
    layers: dict[str, str] = {}
    digest = ""
    for event in stream:
        if "error" in event:
            detail = event.get("errorDetail", {}).get("message") or event["error"]
            hint = ("Is the registry running? 'python -m containerlab registry status' lists it."
                    if "connection refused" in detail else "Read the message; check the name, tag and registry.")
            raise RegistryError(f"{direction.capitalize()} of {reference} failed: {detail.strip()}", hint)
        layer, status = event.get("id"), event.get("status", "")
        if layer and status and not status.startswith("Pulling from") and ":" not in layer:
            before = layers.get(layer)
            layers[layer] = status
            final = status.startswith(_FINAL[direction])
            if progress and final and (before is None or not before.startswith(_FINAL[direction])):
                done = sum(1 for s in layers.values() if s.startswith(_FINAL[direction]))
                progress(f"  {_bar(done, max(total or 0, len(layers)))}")
        aux = event.get("aux") or {}
        if "Digest" in aux:
            digest = aux["Digest"]
        if status.startswith("Digest: "):
            digest = status.split(" ", 1)[1].strip()
    return TransferReport(reference, direction, layers, digest)


def _split(reference: str) -> tuple[str, str]:
    """(repository as the engine names it, tag or digest) of an image reference."""
    parsed = parse_reference(reference)
    return parsed.familiar_name, parsed.digest or parsed.tag or "latest"


def tag(engine: Any, image: str, reference: str) -> None:
    """`docker tag image reference`. The reference is split into repository and tag first: Docker takes
    ``repo:tag`` whole, Podman's Docker API refuses it ("invalid reference format")."""
    repository, name_tag = _split(reference)
    if name_tag.startswith("sha256:"):
        raise LabError(f"{reference} names a digest, and an image can only be tagged with a tag.",
                       "Drop the @sha256:... part, or give a tag (repository:tag).")
    engine.client.api.tag(image, repository, tag=name_tag)


_PODMAN_BLOB = re.compile(r"^Copying blob (?:sha256:)?([0-9a-f]{12,64})\b(.*)$")


def _podman_events(engine: Any, path: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Call one of Podman's own (libpod) transfer endpoints and turn the lines it streams
    ("Copying blob sha256:...", "... skipped: already exists") into the Docker-style events `_transfer` reads."""
    api = engine.client.api
    response = api.post(f"{api.base_url}/v4.0.0/libpod{path}", params={**params, "quiet": "false"}, stream=True,
                        timeout=None)
    if response.status_code >= 400:
        try:
            message = response.json().get("message") or response.text
        except ValueError:
            message = response.text
        yield {"error": message}
        return
    for raw in response.iter_lines():
        if not raw.strip():
            continue
        event = json.loads(raw)
        if event.get("error"):
            yield {"error": event["error"]}
            continue
        for line in str(event.get("stream") or "").splitlines():
            found = _PODMAN_BLOB.match(line.strip())
            if found:
                skipped = "skipped" in found.group(2)
                yield {"id": found.group(1)[:12], "status": "Already exists" if skipped else "Copied"}


def _on_this_machine(reference: str) -> bool:
    """Whether the reference's registry is on 127.0.0.0/8 or localhost (whatever its port)."""
    return is_loopback_host(parse_reference(reference).registry.rsplit(":", 1)[0])


def _registry_digest(reference: str) -> str:
    """The manifest digest a plain-HTTP registry on this machine reports for ``reference``."""
    parsed = parse_reference(reference)
    if parsed.digest:
        return parsed.digest
    if not _on_this_machine(reference):
        return ""
    return RegistryClient(parsed.registry, timeout=5).manifest_digest(parsed.repository, parsed.tag or "latest")


def _tls_verify(reference: str) -> str:
    """Podman's tlsVerify for a registry: off for 127.0.0.0/8 and localhost, which Docker trusts over plain
    HTTP out of the box (Podman would need a registries.conf entry per port); on everywhere else."""
    return "false" if _on_this_machine(reference) else "true"


def transfer_command_for(engine: Any, direction: str, reference: str) -> CommandLine:
    """The `docker push`/`pull` a person would type for ``reference`` with this engine's CLI."""
    return transfer_command(getattr(engine, "name", "docker"), direction, reference,
                            insecure=_tls_verify(reference) == "false")


def _announce(engine: Any, direction: str, reference: str, echo: bool) -> CommandLine:
    command = transfer_command_for(engine, direction, reference)
    if echo:
        print(f"$ {command.shown}", flush=True)
    return command


def push(engine: Any, reference: str, progress: Callable[[str], None] | None = print, *,
         echo: bool = False) -> TransferReport:
    """`docker push reference`, with a layer-count progress bar; the manifest digest the registry gave.

    Docker announces every layer before it uploads any, so the bar's total is right from the start.
    On Podman the course uses Podman's own push endpoint (its Docker-compatible one names no layers)
    and asks the registry for the digest. ``echo`` prints the command first; the report keeps it."""
    command = _announce(engine, "push", reference, echo)
    if getattr(engine, "is_podman", False):
        events = _podman_events(engine, f"/images/{reference}/push",
                                {"destination": reference, "tlsVerify": _tls_verify(reference)})
        report = _transfer(events, reference, "push", progress)
        return TransferReport(reference, "push", report.layers, _registry_digest(reference), command)
    repository, tag_or_digest = _split(reference)
    stream = engine.client.api.push(repository, tag=tag_or_digest, stream=True, decode=True)
    return replace(_transfer(stream, reference, "push", progress), command=command)


def pull(engine: Any, reference: str, progress: Callable[[str], None] | None = print, *,
         layers: int | None = None, echo: bool = False) -> TransferReport:
    """`docker pull reference` (by tag or by digest), with a layer-count progress bar.

    A pull learns of layers as it goes; pass ``layers`` (the manifest's count) for a steady total.
    """
    command = _announce(engine, "pull", reference, echo)
    if getattr(engine, "is_podman", False):
        events = _podman_events(engine, "/images/pull", {"reference": reference, "tlsVerify": _tls_verify(reference)})
        report = _transfer(events, reference, "pull", progress, layers)
        return TransferReport(reference, "pull", report.layers, _registry_digest(reference), command)
    repository, tag_or_digest = _split(reference)
    stream = engine.client.api.pull(repository, tag=tag_or_digest, stream=True, decode=True)
    return replace(_transfer(stream, reference, "pull", progress, layers), command=command)
