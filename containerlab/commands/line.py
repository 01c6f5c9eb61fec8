"""The docker/podman command a person would type for each Lab action, rendered for people. Pure.

A `CommandLine` holds the full argument vector (``argv``: what the CLI would really be given) and the
shell variables a lesson exports (`ShellVariables`: ``$LAB``, ``$LABELS``, ``$REPO``, ``$WORK``). Shown to a
learner (``str()``, ``shown``) the per-learner parts are written as those variables, so

    docker run -d --name clab-alice-11-lifecycle-web ... --label containerlab.lesson=11-lifecycle
        --label containerlab.owner=alice containerlab/busybox httpd -f

reads ``docker run -d --name $LAB-web ... $LABELS containerlab/busybox httpd -f``: the same line for every
learner (so stored notebook outputs compare), short enough to read, and still exactly what runs in a shell
that has the variables (a notebook's ``!`` and ``%%bash`` cells, or a terminal that sourced the lesson's
``cli.env``). ``expanded`` is the same command with every variable written out.

The builders map the options `Lab` passes to the engine API (docker-py's names: ``mem_limit``,
``pids_limit``, ``cap_drop`` ...) to the CLI's flags (``--memory``, ``--pids-limit``, ``--cap-drop`` ...).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ShellVariables", "CommandLine", "run_command", "exec_command", "network_command", "volume_command",
           "build_command", "compose_command", "transfer_command", "flag_words", "size_text", "UNSHOWN_OPTIONS"]

# Options of Lab.run/start that are the notebook's business, not the engine's: never on a command line.
UNSHOWN_OPTIONS = frozenset({"timeout", "echo"})
_NAME_CHAR = re.compile(r"[A-Za-z0-9_]")


@dataclass(frozen=True)
class ShellVariables:
    """The per-learner values a lesson exports to its shells, and the names they go by.

    ``prefixes`` are values that begin words (a container name, an image repository, a directory);
    ``words`` are values that stand for several words at once (the ``--label`` flags).
    """

    engine: str = "docker"
    prefixes: tuple[tuple[str, str], ...] = ()
    words: tuple[tuple[str, str], ...] = ()

    def environment(self) -> dict[str, str]:
        """NAME -> value for every variable, ENGINE included: what a shell needs to run the shown lines."""
        found = {"ENGINE": self.engine}
        found.update(dict(self.prefixes))
        found.update(dict(self.words))
        return found


@dataclass(frozen=True)
class CommandLine:
    """One engine command: the words it really runs with, and how it is shown (with the lesson's variables)."""

    argv: tuple[str, ...]
    variables: ShellVariables = field(default_factory=ShellVariables)
    note: str = ""

    @property
    def expanded(self) -> str:
        """The command as a shell line with nothing abbreviated."""
        return shlex.join(self.argv)

    @property
    def shown(self) -> str:
        """The command as a learner reads and types it: per-learner parts as $VARIABLES."""
        groups = [(name, shlex.split(value)) for name, value in self.variables.words if value]
        prefixes = sorted(((name, value) for name, value in self.variables.prefixes if value),
                          key=lambda item: -len(item[1]))
        out: list[str] = []
        index = 0
        while index < len(self.argv):
            for name, group in groups:
                if tuple(self.argv[index:index + len(group)]) == tuple(group):
                    out.append(f"${name}")
                    index += len(group)
                    break
            else:
                out.append(_shown_word(self.argv[index], prefixes))
                index += 1
        line = " ".join(out)
        return f"{line}  # {self.note}" if self.note else line

    def __str__(self) -> str:
        return self.shown

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(f"$ {self.shown}")


def _shown_word(word: str, prefixes: Sequence[tuple[str, str]]) -> str:
    """One word quoted for the shell, with each variable's value (at the word's start, or after '=', ',' or
    ':' as in ``src=$WORK/data`` or ``$WORK/data:/data``) written as $NAME; the longest value wins."""
    pieces: list[tuple[bool, str]] = []  # (is a variable, text)
    start = index = 0
    while index < len(word):
        if index == 0 or word[index - 1] in "=,:":
            found = next(((name, value) for name, value in prefixes if word.startswith(value, index)), None)
            if found is not None:
                pieces += [(False, word[start:index]), (True, found[0])]
                index += len(found[1])
                start = index
                continue
        index += 1
    pieces.append((False, word[start:]))
    text = ""
    for position, (is_variable, piece) in enumerate(pieces):
        if is_variable:
            following = pieces[position + 1][1] if position + 1 < len(pieces) else ""
            text += f"${{{piece}}}" if _NAME_CHAR.match(following[:1]) else f"${piece}"
        elif piece:
            text += _quote(piece)
    return text or "''"


_DOUBLE_QUOTE_SPECIAL = re.compile(r'[$`"\\!]')


def _quote(text: str) -> str:
    """Shell quoting that stays readable: 'like this', or "like 'this'" when the text holds single quotes."""
    quoted = shlex.quote(text)
    if "'\"'\"'" in quoted and not _DOUBLE_QUOTE_SPECIAL.search(text):
        return f'"{text}"'
    return quoted


def size_text(value: Any) -> str:
    """A memory size as the CLI takes it: '256m' stays, bytes become '64m' when whole mebibytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value % (1 << 30) == 0:
            return f"{value >> 30}g"
        if value % (1 << 20) == 0:
            return f"{value >> 20}m"
        return str(value)
    return str(value).strip()


def _command_words(command: str | Sequence[str] | None) -> list[str]:
    if command is None:
        return []
    if isinstance(command, str):
        return shlex.split(command)
    return [str(word) for word in command]


def _publish(ports: Mapping[Any, Any]) -> list[str]:
    words = []
    for container_port, host in ports.items():
        port = str(container_port)
        if isinstance(host, (tuple, list)):
            address = host[0]
            host_port = host[1] if len(host) > 1 and host[1] is not None else ""
        else:
            address, host_port = "127.0.0.1", "" if host is None else host
        words += ["-p", f"{address}:{host_port}:{port.removesuffix('/tcp')}"]
    return words


def _volumes(volumes: Mapping[str, Any] | Iterable[str]) -> list[str]:
    words = []
    if isinstance(volumes, Mapping):
        for source, spec in volumes.items():
            if isinstance(spec, Mapping):
                mode = spec.get("mode", "rw")
                words += ["-v", f"{source}:{spec['bind']}" + ("" if mode == "rw" else f":{mode}")]
            else:
                words += ["-v", f"{source}:{spec}"]
    else:
        for item in volumes:
            words += ["-v", str(item)]
    return words


def _mount(mount: Any) -> str:
    """A docker.types.Mount (a dict) as --mount's comma-separated fields."""
    fields = [f"type={mount.get('Type', 'volume')}"]
    if mount.get("Source"):
        fields.append(f"src={mount['Source']}")
    fields.append(f"dst={mount['Target']}")
    if mount.get("ReadOnly"):
        fields.append("readonly")
    tmpfs = mount.get("TmpfsOptions") or {}
    if tmpfs.get("SizeBytes"):
        fields.append(f"tmpfs-size={tmpfs['SizeBytes']}")
    return ",".join(fields)


def _restart(policy: Mapping[str, Any]) -> str:
    name = str(policy.get("Name") or "no")
    retries = policy.get("MaximumRetryCount")
    return f"{name}:{retries}" if name == "on-failure" and retries else name


def _health(check: Mapping[str, Any]) -> list[str]:
    test = check.get("test") or check.get("Test") or []
    words: list[str] = []
    if isinstance(test, str):
        words += ["--health-cmd", test]
    elif test and test[0] == "NONE":
        return ["--no-healthcheck"]
    elif test:
        words += ["--health-cmd", test[1] if test[0] == "CMD-SHELL" else shlex.join(test[1:])]
    for key, flag in (("interval", "--health-interval"), ("timeout", "--health-timeout"),
                      ("start_period", "--health-start-period")):
        value = check.get(key) or check.get(key.title().replace("_", ""))
        if value:
            words += [flag, f"{value / 1e9:g}s" if isinstance(value, int) else str(value)]
    retries = check.get("retries") or check.get("Retries")
    if retries:
        words += ["--health-retries", str(retries)]
    return words


def _environment(env: Mapping[str, Any] | Sequence[str]) -> list[str]:
    items = [f"{key}={value}" for key, value in env.items()] if isinstance(env, Mapping) else list(env)
    return [word for item in items for word in ("-e", item)]


# How each option Lab passes to the engine API is written on the command line, in the order shown:
# what the lesson is about first, the safety defaults every lab container gets last.
_SIMPLE_FLAGS: dict[str, str] = {
    "user": "--user", "working_dir": "--workdir", "hostname": "--hostname", "network": "--network",
    "network_mode": "--network", "pid_mode": "--pid", "ipc_mode": "--ipc", "uts_mode": "--uts",
    "userns_mode": "--userns", "shm_size": "--shm-size", "cpu_period": "--cpu-period", "cpu_quota": "--cpu-quota",
    "stop_signal": "--stop-signal", "platform": "--platform",
}
_LIST_FLAGS: dict[str, str] = {"cap_add": "--cap-add", "cap_drop": "--cap-drop", "security_opt": "--security-opt",
                               "devices": "--device", "group_add": "--group-add", "dns": "--dns",
                               "device_cgroup_rules": "--device-cgroup-rule"}
_SWITCHES: dict[str, str] = {"read_only": "--read-only", "init": "--init", "oom_kill_disable": "--oom-kill-disable",
                             "tty": "--tty", "stdin_open": "--interactive", "privileged": "--privileged",
                             "auto_remove": "--rm"}


def flag_words(options: Mapping[str, Any]) -> list[str]:
    """The CLI flags for docker-py style container options (unknown ones as --their-name value)."""
    words: list[str] = []
    rest = {key: value for key, value in options.items() if key not in UNSHOWN_OPTIONS}
    for key in list(rest):
        value = rest[key]
        if value is None or value is False or (key == "privileged_because"):
            rest.pop(key)
            continue
        if key in _SIMPLE_FLAGS:
            words += [_SIMPLE_FLAGS[key], str(getattr(value, "name", value))]
        elif key in _LIST_FLAGS:
            for item in value:
                words += [_LIST_FLAGS[key], str(item)]
        elif key in _SWITCHES:
            words.append(_SWITCHES[key])
        elif key == "ports":
            words += _publish(value)
        elif key == "volumes":
            words += _volumes(value)
        elif key == "mounts":
            for mount in value:
                words += ["--mount", _mount(mount)]
        elif key == "tmpfs":
            items = value.items() if isinstance(value, Mapping) else ((item, "") for item in value)
            for path, opts in items:
                words += ["--tmpfs", f"{path}:{opts}" if opts else path]
        elif key == "environment":
            words += _environment(value)
        elif key == "entrypoint":
            words += ["--entrypoint", value if isinstance(value, str) else str(value[0])]
        elif key == "restart_policy":
            words += ["--restart", _restart(value)]
        elif key == "healthcheck":
            words += _health(value)
        elif key == "nano_cpus":
            words += ["--cpus", f"{value / 1e9:g}"]
        elif key == "labels":
            labels = value.items() if isinstance(value, Mapping) else (str(item).partition("=")[::2] for item in value)
            for label, label_value in labels:
                words += ["--label", f"{label}={label_value}"]
        elif key in ("mem_limit", "memswap_limit", "pids_limit", "cgroupns"):
            continue  # the safety defaults, written last by run_command
        else:
            words += [f"--{key.replace('_', '-')}", str(value)]
    return words


def _limit_words(options: Mapping[str, Any]) -> list[str]:
    words = []
    if options.get("mem_limit") is not None:
        words += ["--memory", size_text(options["mem_limit"])]
    if options.get("memswap_limit") is not None:
        words += ["--memory-swap", size_text(options["memswap_limit"])]
    if options.get("pids_limit") is not None:
        words += ["--pids-limit", str(options["pids_limit"])]
    if options.get("cgroupns"):
        words += ["--cgroupns", str(options["cgroupns"])]
    return words


def _label_words(labels: Mapping[str, str]) -> list[str]:
    return [word for key, value in labels.items() for word in ("--label", f"{key}={value}")]


def run_command(engine: str, image: str, command: str | Sequence[str] | None = None, *, name: str | None = None,
                detach: bool = False, remove: bool = False, labels: Mapping[str, str] | None = None,
                options: Mapping[str, Any] | None = None, variables: ShellVariables | None = None) -> CommandLine:
    """`docker run` as Lab.run (``remove``) or Lab.start (``detach``) makes the container."""
    options = dict(options or {})
    words = [engine, "run"]
    if remove:
        words.append("--rm")
    if detach:
        words.append("-d")
    if name:
        words += ["--name", name]
    entrypoint = options.get("entrypoint")
    extra_args = list(entrypoint[1:]) if isinstance(entrypoint, (list, tuple)) and len(entrypoint) > 1 else []
    words += flag_words(options)
    words += _limit_words(options)
    words += _label_words(labels or {})
    words.append(image)
    words += extra_args + _command_words(command)
    return CommandLine(tuple(words), variables or ShellVariables(engine))


def exec_command(engine: str, container: str, command: str | Sequence[str], *, options: Mapping[str, Any] | None = None,
                 variables: ShellVariables | None = None) -> CommandLine:
    """`docker exec` with the exec options docker-py takes (user, workdir, environment, tty, privileged)."""
    options = dict(options or {})
    words = [engine, "exec"]
    if options.get("user"):
        words += ["--user", str(options["user"])]
    if options.get("workdir"):
        words += ["--workdir", str(options["workdir"])]
    if options.get("environment"):
        words += _environment(options["environment"])
    if options.get("tty"):
        words.append("--tty")
    if options.get("stdin"):
        words.append("--interactive")
    if options.get("privileged"):
        words.append("--privileged")
    words.append(container)
    words += _command_words(command)
    return CommandLine(tuple(words), variables or ShellVariables(engine))


def network_command(engine: str, name: str, *, labels: Mapping[str, str] | None = None,
                    options: Mapping[str, Any] | None = None, variables: ShellVariables | None = None) -> CommandLine:
    """`docker network create` for a labelled network (driver, internal, subnet options)."""
    options = dict(options or {})
    words = [engine, "network", "create"]
    if options.get("driver"):
        words += ["--driver", str(options["driver"])]
    if options.get("internal"):
        words.append("--internal")
    ipam = options.get("ipam")
    for pool in (ipam or {}).get("Config", []) if isinstance(ipam, Mapping) else []:
        if pool.get("Subnet"):
            words += ["--subnet", str(pool["Subnet"])]
    words += _label_words(labels or {})
    words.append(name)
    return CommandLine(tuple(words), variables or ShellVariables(engine))


def volume_command(engine: str, name: str, *, labels: Mapping[str, str] | None = None,
                   variables: ShellVariables | None = None) -> CommandLine:
    """`docker volume create` for a labelled named volume."""
    words = [engine, "volume", "create", *_label_words(labels or {}), name]
    return CommandLine(tuple(words), variables or ShellVariables(engine))


def build_command(engine: str, tag: str, *, dockerfile: str = "Dockerfile", nocache: bool = False,
                  labels: Mapping[str, str] | None = None, memory: Any = None, network: str | None = None,
                  context: str = ".", variables: ShellVariables | None = None) -> CommandLine:
    """`docker build` of a context directory, as the course's builds ask for it."""
    words = [engine, "build", "-t", tag]
    if dockerfile != "Dockerfile":
        words += ["-f", dockerfile]
    if nocache:
        words.append("--no-cache")
    if network:
        words += ["--network", network]
    if memory is not None:
        words += ["--memory", size_text(memory), "--memory-swap", size_text(memory)]
    words += _label_words(labels or {})
    words.append(context)
    return CommandLine(tuple(words), variables or ShellVariables(engine),
                       note="in the directory that holds these files" if context == "." else "")


def compose_command(tool: Sequence[str], project: str, files: Sequence[str], args: Sequence[str], *,
                    variables: ShellVariables | None = None, engine: str = "docker") -> CommandLine:
    """A compose command as typed: `docker compose` (or `podman-compose`) -p PROJECT -f FILE ... ARGS."""
    words = [*tool, "-p", project]
    for file in files:
        words += ["-f", file]
    return CommandLine((*words, *args), variables or ShellVariables(engine))


def transfer_command(engine: str, direction: str, reference: str, *, insecure: bool = False,
                     variables: ShellVariables | None = None) -> CommandLine:
    """`docker push`/`pull` of a reference; Podman says --tls-verify=false for a plain-HTTP registry here."""
    words = [engine, direction]
    if insecure and engine == "podman":
        words.append("--tls-verify=false")
    words.append(reference)
    return CommandLine(tuple(words), variables or ShellVariables(engine))
