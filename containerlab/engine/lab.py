"""A lesson's session on the engine: labelled, idempotently named, limited, cleaned up, and shown as the CLI.

Every container, network and volume a `Lab` creates carries `containerlab.lesson` and
`containerlab.owner` labels, so re-running a cell replaces the old one and
`python -m containerlab clean` finds everything the course made.

**The CLI beside every Python call.** Each action knows the docker/podman command a person would type
for it (`containerlab.commands.line`): ``RunResult.command``, ``LabContainer.command``, and for builds,
compose and registry transfers the same attribute on their results. ``Lab(lesson, echo=True)`` (or
``lab.echo = True``, or ``echo=True`` on one call) prints it before the action runs::

    $ docker run --rm --memory 256m --memory-swap 256m --pids-limit 256 --cgroupns private $LABELS \\
          containerlab/busybox id -u

Per-learner parts are shown as shell variables, so stored outputs are the same for every learner and the
line runs as shown in any shell that has them: ``$LAB`` (the name prefix, ``clab-<owner>-<lesson>``; a
container ``web`` is ``$LAB-web``), ``$LABELS`` (the two ``--label`` flags), ``$REPO`` (the image prefix
``containerlab/<owner>-<NN>``; ``lesson_tag(lab, "app")`` is ``$REPO-app:latest``) and ``$WORK`` (the
lesson's scratch directory). ``lab.cli_env()`` exports them, with ``$ENGINE`` (docker or podman), into the
kernel's environment for ``!$ENGINE ps`` and ``%%bash`` cells, and writes ``$WORK/cli.env`` for a terminal
(``source`` it). Go templates (``--format '{{.State.Status}}'``) belong in ``%%bash`` cells: IPython reads
``{...}`` in ``!`` lines as Python.

**What learners type is found and graded.** A container typed with ``$LABELS`` is removed by
``python -m containerlab clean`` like any other; ``lab.cleanup()`` also removes the lesson's containers,
networks and volumes named ``$LAB-...`` that lack the labels. ``lab.state()`` reads what the lesson has on
the engine now (by label or by name) into `EngineState`, which the graders of `course.engine_checks` read:
"a container $LAB-web publishing on 127.0.0.1 is running", whoever started it.

Applying it to a lesson: ``lab = cl.Lab("NN-name", echo=True)`` and ``cli = lab.cli_env()`` in the first
cell; the echo lines then appear in the outputs (nbval compares them: tests/sanitize.cfg writes the engine's
name as ENGINE, so Docker and Podman runs compare alike); add ``!$ENGINE ...`` / ``%%bash`` cells where the
learner types; use `course.engine_checks` for graders that read the engine's state.
"""

from __future__ import annotations

import getpass
import math
import os
import re
import shlex
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from docker.errors import APIError, ImageNotFound, NotFound

from ..commands.inspect import ContainerFacts, EngineState, NetworkInfo, VolumeInfo
from ..commands.line import (
    CommandLine,
    ShellVariables,
    exec_command,
    network_command,
    run_command,
    volume_command,
)
from ..errors import (
    ContainerNotRunningError,
    ContainerStartError,
    ImageMissingError,
    LabError,
    NameConflictError,
    UnsafeRequestError,
)
from .cleanup import (
    LABEL_LESSON,
    LABEL_OWNER,
    CleanupReport,
    _remove_container,
    _remove_container_id,
    gone_or_in_use,
    has_labels,
    label_filters,
    labelled_images,
    remove_labelled,
    remove_named,
)
from .connect import Engine, connect, rootless_runtime_dir
from .guards import (
    _loopback_ports,
    _required_memory_limit,
    _required_pids_limit,
    _safe_binds,
    looks_like_fork_bomb,
)

__all__ = ["Lab", "LabContainer", "RunResult", "CliEnvironment", "LABEL_LESSON", "LABEL_OWNER", "DEFAULT_MEMORY",
           "DEFAULT_PIDS", "LIMIT_NEEDS", "default_owner", "gone_or_in_use", "has_labels", "label_filters",
           "labelled_images", "looks_like_fork_bomb", "remove_labelled", "remove_named"]

DEFAULT_MEMORY = "256m"
DEFAULT_PIDS = 256
WORKDIR_PREFIX = "containerlab-"
CLI_ENV_FILE = "cli.env"
NO_ENGINE_STAND_IN = "echo Skipped (no container engine here):"
# The host config keys each limit kind sets; dropped where the engine cannot enforce that kind.
_LIMIT_KEYS = {"memory": ("mem_limit", "memswap_limit", "oom_kill_disable"),
               "cpu": ("nano_cpus", "cpu_quota", "cpu_period"),
               "pids": ("pids_limit",)}
# What ready_for() calls each limit need in its one line, and the engines that said so in this process.
LIMIT_NEEDS = {"memory": "a memory limit", "cpu": "a CPU quota", "pids": "a pids limit"}
_LIMITS_SAID: set[str] = set()


def default_owner() -> str:
    """Who owns lab resources: $CONTAINERLAB_OWNER or the Unix user, as a name-safe slug."""
    owner = os.environ.get("CONTAINERLAB_OWNER") or getpass.getuser()
    return _slug(owner)


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-zA-Z0-9_.-]+", "-", text).strip("-.").lower()
    if not slug:
        raise LabError(f"{text!r} cannot be used in a container name.",
                       "Use letters, digits, '-', '_' or '.'.")
    return slug


@dataclass(frozen=True)
class RunResult:
    """What a command run to completion left: one shape for containers, low-level runtimes and compose.

    ``output`` is everything it printed (stdout, then stderr where the runner keeps them apart); ``stderr``
    is the error stream alone where the runner has it ('' where the two came as one stream); ``name`` says
    what ran (the container, ``runc <container ID>``, or the compose command); ``command`` is the
    docker/podman command a person would type for it (None where there is none, as for runc).
    """

    exit_code: int
    output: str
    name: str
    seconds: float = field(compare=False)
    stderr: str = ""
    command: CommandLine | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        """True when the command exited 0."""
        return self.exit_code == 0

    def __str__(self) -> str:
        return self.output

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.output if self.ok else f"[exit {self.exit_code}]\n{self.output}")


class LabContainer:
    """A long-running lab container: its short name, host PID, exec, logs, and the command that started it."""

    def __init__(self, lab: Lab, short_name: str, container: Any, command: CommandLine | None = None) -> None:
        self.lab = lab
        self.short_name = short_name
        self.container = container
        self.command = command

    @property
    def name(self) -> str:
        """The engine's name for it (owner and lesson prefixed)."""
        return self.container.name

    @property
    def id(self) -> str:
        """The full container ID."""
        return self.container.id

    def inspect(self) -> dict[str, Any]:
        """Fresh `docker inspect` data."""
        return self.lab.engine.client.api.inspect_container(self.container.id)

    @property
    def pid(self) -> int:
        """The host PID of the container's first process (0 when not running)."""
        return int(self.inspect()["State"]["Pid"])

    @property
    def status(self) -> str:
        """running, exited, ..."""
        return self.inspect()["State"]["Status"]

    def exec(self, command: str | Sequence[str], **options: Any) -> RunResult:
        """Run a command inside this container."""
        return self.lab.exec(self, command, **options)

    def facts(self) -> ContainerFacts:
        """Fresh `docker inspect` data as the graders read it."""
        return ContainerFacts.from_inspect(self.inspect())

    def logs(self) -> str:
        """Everything the container printed so far."""
        return self.container.logs().decode(errors="replace")

    def remove(self) -> None:
        """Kill and remove it now."""
        _remove_container(self.container)

    def __repr__(self) -> str:
        return f"<LabContainer {self.short_name}>"


# How Docker and Podman say that what we remove is already gone, or still used by another container, image or
# build. On an engine shared by learners these are normal outcomes of a cleanup, not errors: another learner's
# build may share (or be removing) the same untagged parent at the same moment. Docker answers 404/409, and 500
# "unrecognized image ID" when the image vanished between its lookup and its removal; Podman answers 500 for most.
def _start(api: Any, container_id: str, image: str) -> None:
    """Start a created container; the engine's refusal becomes a ContainerStartError with its reason."""
    try:
        api.start(container_id)
    except APIError as err:
        reason = str(err.explanation or err).strip()
        for noise in ("failed to create shim task: ", "OCI runtime create failed: ", "runc create failed: "):
            reason = reason.replace(noise, "")
        raise ContainerStartError(f"The engine could not start the {image} container: {reason}",
                                  "The flags of the command shown ask for something this machine cannot give: "
                                  "read the reason, then change or drop that flag.") from None


def _is_name_conflict(err: APIError) -> bool:
    """Docker answers 409; Podman 4 answers 500 '... is already in use'."""
    return err.status_code == 409 or "already in use" in str(err.explanation or err)


class Lab:
    """One lesson's resources on one engine, for one owner."""

    def __init__(self, lesson: str, *, owner: str | None = None, engine: Engine | None = None,
                 memory: str = DEFAULT_MEMORY, pids: int = DEFAULT_PIDS, echo: bool = False) -> None:
        self.lesson = _slug(lesson)
        self.owner = _slug(owner) if owner else default_owner()
        self.memory = memory
        self.pids = pids
        self.echo = echo
        self._engine = engine
        self._engine_error: LabError | None = None

    # -- engine -------------------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        """The engine, connected on first use; raises NoEngineError with a hint."""
        if self._engine is None:
            self._engine = connect()
        return self._engine

    @property
    def available(self) -> bool:
        """True when an engine answers (never raises)."""
        if self._engine is not None:
            return True
        if self._engine_error is None:
            try:
                self._engine = connect()
                return True
            except LabError as err:
                self._engine_error = err
        return False

    @property
    def why_unavailable(self) -> str:
        """The reason no engine is available ('' when one is)."""
        if self.available or self._engine_error is None:
            return ""
        return self._engine_error.message

    def ready_for(self, *needs: str, task: str) -> bool:
        """True when this machine has `needs`; else say in one line what is skipped and show the recorded result.

        Needs: 'engine', 'root', 'rootful', and the limits a cell is about: 'memory', 'cpu', 'pids' (an engine
        that cannot enforce that limit, e.g. rootless on cgroup v1, skips the cell). A skipped cell shows the
        output the stored notebook recorded for it, marked as recorded (never as if it ran here).
        """
        missing = []
        if "engine" in needs and not self.available:
            missing.append("no container engine")
        if "root" in needs and os.geteuid() != 0:
            missing.append("not root")
        if "rootful" in needs and self.available and self.engine.rootless:
            missing.append("the engine is rootless")
        unenforced = [kind for kind in LIMIT_NEEDS if kind in needs and self.available
                      and not self.engine.enforces(kind)]
        if unenforced:
            missing.append(f"{self.engine.where} cannot enforce {' or '.join(LIMIT_NEEDS[k] for k in unenforced)}")
        if missing:
            wanted = " and ".join(LIMIT_NEEDS.get(need, need) for need in needs)
            print(f"Skipped: {task} needs {wanted} ({', '.join(missing)} here).")
            from .recorded import show_recorded

            show_recorded(self.lesson)
            return False
        return True

    def say_unenforced_limits(self) -> None:
        """Print, once per process and engine, which limits this engine cannot enforce (nothing where all hold)."""
        engine = self.engine
        if engine.unenforced and engine.base_url not in _LIMITS_SAID:
            _LIMITS_SAID.add(engine.base_url)
            print(f"Note: {engine.limits_note()}")

    def labels(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The labels every resource of this lab carries."""
        labels = {LABEL_LESSON: self.lesson, LABEL_OWNER: self.owner}
        labels.update(extra or {})
        return labels

    def name_for(self, short_name: str) -> str:
        """The engine name for a short name: unique per owner and lesson, stable across runs."""
        return f"{self.name_prefix}{_slug(short_name)}"

    @property
    def name_prefix(self) -> str:
        """What every engine name of this lesson and owner starts with: ``clab-<owner>-<lesson>-`` ($LAB-)."""
        return f"clab-{self.owner}-{self.lesson}-"

    @property
    def workdir(self) -> Path:
        """The lesson's scratch directory ($WORK): <tmp>/containerlab-<lesson number>-<owner>."""
        number = self.lesson.split("-", 1)[0]
        return Path(tempfile.gettempdir()) / f"{WORKDIR_PREFIX}{number}-{self.owner}"

    # -- the command line ---------------------------------------------------------------------
    def shell_variables(self) -> ShellVariables:
        """$ENGINE, $LAB, $LABELS, $REPO and $WORK for this lesson and owner (see the module docstring)."""
        number = self.lesson.split("-", 1)[0]
        engine = self._engine_name()
        labels = " ".join(f"--label {key}={value}" for key, value in self.labels().items())
        return ShellVariables(engine=engine,
                              prefixes=(("LAB", self.name_prefix.rstrip("-")),
                                        ("REPO", f"containerlab/{self.owner}-{number}"),
                                        ("WORK", str(self.workdir))),
                              words=(("LABELS", labels),))

    def cli_env(self) -> CliEnvironment:
        """Export the shell variables into this process's environment (for ``!`` and ``%%bash`` cells) and
        write them to ``$WORK/cli.env`` for a terminal to ``source``."""
        values = self.shell_variables().environment()
        if not self.available:
            # No engine (Binder): every engine line says so in one line instead of failing in the shell.
            values["ENGINE"] = NO_ENGINE_STAND_IN
        exported = dict(values)
        if self.available and self.engine.is_podman and self.engine.rootless and not os.environ.get("XDG_RUNTIME_DIR"):
            # No login session (su, runuser, cron): the podman CLI would have no runtime directory ("runroot must
            # be set"); it gets the one the course's Podman service uses, so both see the same containers.
            exported["XDG_RUNTIME_DIR"] = rootless_runtime_dir()
        os.environ.update(exported)
        self.workdir.mkdir(mode=0o755, parents=True, exist_ok=True)
        env_file = self.workdir / CLI_ENV_FILE
        env_file.write_text("".join(f"export {key}={shlex.quote(value)}\n" for key, value in exported.items()))
        return CliEnvironment(values, env_file)

    def _show(self, command: CommandLine, echo: bool | None) -> CommandLine:
        if self.echo if echo is None else echo:
            print(f"$ {command.shown}", flush=True)
        return command

    def run_command(self, image: str, command: str | Sequence[str] | None = None, *, name: str | None = None,
                    detach: bool = False, **options: Any) -> CommandLine:
        """The `docker run` line that makes the same container as ``run`` (or ``start``, with detach)."""
        host = self._host_config(dict(options))
        create = {key: value for key, value in options.items() if key not in _HOST_OPTION_NAMES}
        return run_command(self._engine_name(), image, command, name=self.name_for(name) if name else None,
                           detach=detach, remove=not detach, labels=self.labels(create.pop("labels", None)),
                           options={**create, **_shown_host(host)}, variables=self.shell_variables())

    def _engine_name(self) -> str:
        """docker or podman: the CLI for the engine in use (docker where none answers)."""
        return str(getattr(self.engine, "name", "docker")) if self.available else "docker"

    # -- containers ---------------------------------------------------------------------
    def _host_config(self, options: dict[str, Any]) -> dict[str, Any]:
        ports = options.pop("ports", None)
        volumes = options.pop("volumes", None)
        privileged = options.pop("privileged", False)
        why = options.pop("privileged_because", None)
        if privileged and not why:
            raise UnsafeRequestError("This container asks for --privileged without saying why.",
                                     "Pass privileged_because='what the lesson shows' or drop privileged.")
        memory = options.pop("mem_limit", self.memory)
        pids = options.pop("pids_limit", self.pids)
        config: dict[str, Any] = {
            "mem_limit": _required_memory_limit(memory),
            "pids_limit": _required_pids_limit(pids),
            "privileged": privileged,
            # Its own cgroup namespace on v1 and v2 alike (v2's default): the same lesson on every host.
            "cgroupns": options.pop("cgroupns", "private"),
        }
        if ports:
            config["port_bindings"] = _loopback_ports(ports)
        if volumes:
            config["binds"] = _safe_binds(volumes)
        network = options.pop("network", None)
        if network is not None:
            config["network_mode"] = getattr(network, "name", network)
        for key in _HOST_OPTION_NAMES:
            if key in options:
                config[key] = options.pop(key)
        if config.get("memswap_limit") is None and config["mem_limit"]:
            config["memswap_limit"] = config["mem_limit"]
        return self._enforceable(config)

    def _enforceable(self, config: dict[str, Any]) -> dict[str, Any]:
        """The host config with only the limits this engine can enforce: a rootless engine on cgroup v1 fails a
        build step that asks for one, and ignores them on a container. (Such a container is still bounded by
        what its user may do on the host: its processes are the user's, counted against the user's own limits.)"""
        unenforced = self.engine.unenforced if self.available else ()
        if not unenforced:
            return config
        self.say_unenforced_limits()
        for kind in unenforced:
            for key in _LIMIT_KEYS[kind]:
                config.pop(key, None)
        return config

    def _create(self, image: str, command: Any, name: str | None, options: dict[str, Any]) -> Any:
        if not self.engine.enforces("pids") and looks_like_fork_bomb(command):
            raise UnsafeRequestError(
                f"This command forks without end, and {self.engine.where} cannot hold a container to a pids "
                "limit: it is not run here.",
                "Run it where a pids limit holds (a rootful engine, or the course box); the lesson shows the "
                "recorded result.")
        api = self.engine.client.api
        host_config = api.create_host_config(**self._host_config(options))
        labels = self.labels(options.pop("labels", None))
        exposed = [(int(port), proto) for port, proto in
                   (key.split("/") for key in host_config.get("PortBindings", {}) or {})]
        create_args = dict(image=image, command=command, name=name, labels=labels,
                           host_config=host_config, ports=exposed or None,
                           detach=True, **options)
        for attempt in range(2):
            try:
                return api.create_container(**create_args)["Id"]
            except ImageNotFound:
                raise _image_missing(image) from None
            except APIError as err:
                if _is_name_conflict(err) and name and attempt == 0:
                    self._replace(name)
                    continue
                if err.status_code == 404 and "image" in str(err).lower():
                    raise _image_missing(image) from None
                raise
        raise AssertionError("unreachable")

    def _replace(self, name: str) -> None:
        """Remove our own old container of this name; refuse to touch anyone else's."""
        client = self.engine.client
        try:
            old = client.containers.get(name)
        except NotFound:
            return
        if old.labels.get(LABEL_OWNER) != self.owner or LABEL_LESSON not in old.labels:
            raise NameConflictError(f"A container named {name} exists and was not made by this course.",
                                    f"Remove or rename it ('docker rm -f {name}') and re-run the cell.")
        _remove_container(old)

    def run(self, image: str, command: str | Sequence[str] | None = None, *, name: str | None = None,
            timeout: float = 120, echo: bool | None = None, **options: Any) -> RunResult:
        """Run a container to completion and return its exit code and output; it is removed after."""
        engine_name = self.name_for(name) if name else None
        shown = self._show(self.run_command(image, command, name=name, **options), echo)
        started = time.perf_counter()
        api = self.engine.client.api
        container_id = self._create(image, command, engine_name, dict(options))
        try:
            _start(api, container_id, image)
            try:
                status = api.wait(container_id, timeout=math.ceil(timeout))
            except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError) as err:
                raise LabError(f"The command in {image} ran longer than {timeout:g} s and was stopped.",
                               "Give run() a larger timeout= or make the command finish.") from err
            output = api.logs(container_id, stdout=True, stderr=True).decode(errors="replace")
        finally:
            _remove_container_id(api, container_id)
        return RunResult(exit_code=int(status.get("StatusCode", -1)), output=output,
                         name=engine_name or container_id[:12], seconds=time.perf_counter() - started, command=shown)

    def start(self, image: str, command: str | Sequence[str] | None = None, *, name: str,
              echo: bool | None = None, **options: Any) -> LabContainer:
        """Start a long-running container (replacing our old one of the same name)."""
        engine_name = self.name_for(name)
        shown = self._show(self.run_command(image, command, name=name, detach=True, **options), echo)
        container_id = self._create(image, command, engine_name, dict(options))
        api = self.engine.client.api
        try:
            _start(api, container_id, image)
        except LabError:
            _remove_container_id(api, container_id)
            raise
        return LabContainer(self, name, self.engine.client.containers.get(container_id), shown)

    def exec(self, container: LabContainer | str, command: str | Sequence[str], *, echo: bool | None = None,
             **options: Any) -> RunResult:
        """Run a command in a running container and return its exit code and output."""
        target = container.id if isinstance(container, LabContainer) else self.name_for(container)
        shown_name = container.name if isinstance(container, LabContainer) else target
        shown = self._show(exec_command(self._engine_name(), shown_name, command, options=options,
                                        variables=self.shell_variables()), echo)
        api = self.engine.client.api
        started = time.perf_counter()
        try:
            exec_id = api.exec_create(target, command, **options)["Id"]
        except APIError as err:
            if err.status_code == 404:
                raise LabError(f"There is no container {shown_name!r} any more.",
                               "Run the cell that starts it first.") from None
            if self._has_stopped(target):
                raise ContainerNotRunningError(
                    f"The container {shown_name!r} is not running, so nothing can run in it.",
                    f"Its command has ended: read why with {self._engine_name()} logs {shown_name}, then start it "
                    "again.") from None
            raise
        output = api.exec_start(exec_id).decode(errors="replace")
        exit_code = api.exec_inspect(exec_id).get("ExitCode")
        return RunResult(exit_code=int(exit_code if exit_code is not None else -1), output=output,
                         name=getattr(container, "name", target), seconds=time.perf_counter() - started, command=shown)

    def _has_stopped(self, target: str) -> bool:
        """Whether a container the engine still has is not running (False when it cannot say)."""
        try:
            return not self.engine.client.api.inspect_container(target)["State"]["Running"]
        except APIError:
            return False

    def container(self, name: str) -> LabContainer:
        """A running lab container by its short name."""
        try:
            return LabContainer(self, name, self.engine.client.containers.get(self.name_for(name)))
        except NotFound:
            raise LabError(f"There is no container {name!r} in lesson {self.lesson}.",
                           "Run the cell that starts it first.") from None

    def containers(self) -> list[Any]:
        """Every container of this lesson and owner, running or not."""
        return self.engine.client.containers.list(
            all=True, filters={"label": label_filters(self.lesson, self.owner)})

    # -- networks and volumes -------------------------------------------------------------
    def network(self, name: str, *, echo: bool | None = None, **options: Any) -> Any:
        """A labelled network, reused when it already exists."""
        client = self.engine.client
        full = self.name_for(name)
        self._show(network_command(self._engine_name(), full, labels=self.labels(), options=options,
                                   variables=self.shell_variables()), echo)
        existing = client.networks.list(names=[full])
        for net in existing:
            if net.name == full:
                return net
        return client.networks.create(full, labels=self.labels(), **options)

    def volume(self, name: str, *, echo: bool | None = None) -> Any:
        """A labelled named volume, reused when it already exists."""
        client = self.engine.client
        full = self.name_for(name)
        self._show(volume_command(self._engine_name(), full, labels=self.labels(),
                                  variables=self.shell_variables()), echo)
        try:
            return client.volumes.get(full)
        except NotFound:
            return client.volumes.create(full, labels=self.labels())

    # -- what the lesson has on the engine ---------------------------------------------------
    def state(self) -> EngineState:
        """This lesson's containers, networks and volumes now, found by label or by name ($LAB-...)."""
        client = self.engine.client
        api = client.api
        wanted = {"label": label_filters(self.lesson, self.owner)}
        named = {"name": self.name_prefix}
        ids = {c["Id"] for filters in (wanted, named) for c in api.containers(all=True, filters=filters)}
        containers = []
        for container_id in sorted(ids):
            try:
                containers.append(ContainerFacts.from_inspect(api.inspect_container(container_id)))
            except NotFound:
                continue  # removed meanwhile
        containers = [c for c in containers if c.name.startswith(self.name_prefix) or c.has_labels(self.labels())]
        networks = {n["Id"]: n for filters in (wanted, named) for n in api.networks(filters=filters)}
        found_networks = [NetworkInfo.from_inspect(n) for n in networks.values()]
        volumes: dict[str, Any] = {}
        for filters in (wanted, named):
            for volume in (api.volumes(filters=filters) or {}).get("Volumes") or []:
                volumes[volume["Name"]] = volume
        return EngineState(self.name_prefix, self.labels(), tuple(sorted(containers, key=lambda c: c.name)),
                           tuple(sorted((n for n in found_networks if self._ours(n.name, n.labels)),
                                        key=lambda n: n.name)),
                           tuple(sorted((VolumeInfo.from_inspect(v) for v in volumes.values()
                                         if self._ours(v["Name"], v.get("Labels"))), key=lambda v: v.name)))

    def _ours(self, name: str, labels: Mapping[str, str] | None) -> bool:
        return name.startswith(self.name_prefix) or has_labels(labels, label_filters(self.lesson, self.owner))

    # -- cleanup --------------------------------------------------------------------------
    def cleanup(self) -> CleanupReport:
        """Remove every container, network, volume and image this lesson made for this owner: those with the
        lesson's labels, and those named $LAB-... that a learner typed without them."""
        if self._engine is None and not self.available:
            return CleanupReport(0, 0, 0)
        labelled = remove_labelled(self.engine, lesson=self.lesson, owner=self.owner, images=True)
        named = remove_named(self.engine, self.name_prefix)
        return CleanupReport(labelled.containers + named.containers, labelled.networks + named.networks,
                             labelled.volumes + named.volumes, labelled.images)

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    def __repr__(self) -> str:
        return f"<Lab {self.lesson} owner={self.owner}>"


@dataclass(frozen=True)
class CliEnvironment:
    """The shell variables a lesson exported, and the file a terminal sources to get them too."""

    values: Mapping[str, str]
    file: Path

    @property
    def terminal_line(self) -> str:
        """What to type first in a JupyterLab terminal (File > New > Terminal)."""
        return f"source {self.file}"

    def __str__(self) -> str:
        names = ", ".join(f"${name}" for name in self.values)
        return (f"Shell variables for ! and %%bash cells: {names}.\n"
                f"A terminal gets them with: source $WORK/{self.file.name}  (cli.terminal_line spells out $WORK)")

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


# Options of Lab.run/start that go into the container's HostConfig (the rest go to create, as docker-py takes them).
_HOST_OPTION_NAMES = ("network_mode", "pid_mode", "ipc_mode", "uts_mode", "cap_add", "cap_drop", "cpu_period",
                      "cpu_quota", "nano_cpus", "memswap_limit", "tmpfs", "read_only", "security_opt", "devices",
                      "oom_kill_disable", "init", "shm_size", "userns_mode", "restart_policy", "mounts", "group_add",
                      "dns", "device_cgroup_rules", "sysctls", "mem_limit", "pids_limit", "cgroupns", "ports",
                      "volumes", "privileged", "privileged_because", "network")


def _shown_host(config: Mapping[str, Any]) -> dict[str, Any]:
    """The host config Lab asks for, in run-option names, for the command line."""
    shown = dict(config)
    if "port_bindings" in shown:
        shown["ports"] = shown.pop("port_bindings")
    if "binds" in shown:
        shown["volumes"] = shown.pop("binds")
    if shown.get("cgroupns") is None:
        shown.pop("cgroupns", None)
    return shown


def _image_missing(image: str) -> ImageMissingError:
    if image.startswith("containerlab/"):
        return ImageMissingError(f"The lab image {image} has not been built on this machine yet.",
                                 "Run 'python -m containerlab setup' (it works offline), then re-run this cell.")
    return ImageMissingError(f"The image {image} is not on this machine.",
                             f"Build it first, or pull it when online with 'docker pull {image}'.")
