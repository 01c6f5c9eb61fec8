"""Lesson 02 (namespaces): exercise checks graded against the real kernel, and a small helper.

Checks never raise for a wrong or missing answer; they return a CheckResult with a hint.
"""

from __future__ import annotations

import shlex
import socket
import subprocess
from pathlib import Path
from typing import Any

from ..kernel.namespaces import NAMESPACE_TYPES, NamespaceComparison, Namespaces, compare_namespaces, read_namespaces
from .engine_checks import container_problem
from .grading import CheckResult, answer_set, grade_set, unanswered

__all__ = ["INITIAL_INODES", "check_net_and_uts", "check_new_uts_hostname", "check_pid_host_shares",
           "check_sidecar", "initial_namespaces", "normalise_types"]

# The kernel gives its first (initial) namespaces fixed inode numbers (include/linux/proc_ns.h).
# net and mnt have none on most kernels, so they are left unknown.
INITIAL_INODES: dict[str, int | None] = {
    "pid": 0xEFFFFFFC, "net": None, "ipc": 0xEFFFFFFF, "mnt": None,
    "uts": 0xEFFFFFFE, "user": 0xEFFFFFFD, "cgroup": 0xEFFFFFFB, "time": 0xEFFFFFFA,
}

NAME_SEPARATORS = r"[\s,;]+"  # namespace type names hold no spaces: 'pid net' lists two
_ALIASES = {"network": "net", "mount": "mnt", "mounts": "mnt", "process": "pid", "processes": "pid",
            "hostname": "uts", "users": "user", "clock": "time", "clocks": "time"}


def initial_namespaces() -> Namespaces:
    """The kernel's initial ("host") namespaces as far as their fixed inode numbers tell."""
    return Namespaces(pid="initial", inodes=dict(INITIAL_INODES))


def _namespace_type(item: Any) -> str:
    """One namespace type as the answer names it, lower-cased, with common aliases ('network' is net)."""
    name = str(item).strip().lower().removeprefix("--")
    return _ALIASES.get(name, name)


def normalise_types(answer: Any) -> set[str]:
    """Namespace type names from a set, list or 'pid, net' string, lower-cased, with common aliases."""
    return answer_set(answer, _namespace_type, NAME_SEPARATORS)


def _answer_types(answer: Any, hint: str) -> tuple[set[str] | None, CheckResult | None]:
    missing = unanswered(answer, hint)
    if missing is not None:
        return None, missing
    try:
        given = normalise_types(answer)
    except TypeError:
        return None, CheckResult(False, f"{answer!r} is not a set of namespace names.", hint)
    unknown = sorted(given - set(NAMESPACE_TYPES))
    if unknown:
        return None, CheckResult(False, f"{', '.join(unknown)}: not a namespace type; the types are "
                                        f"{', '.join(NAMESPACE_TYPES)}.", hint)
    return given, None


def _read_pair(container: Any, proc: str | Path) -> tuple[NamespaceComparison | None, str]:
    """Host (this process) vs a container, or None and why they cannot be compared."""
    pid = int(getattr(container, "pid", 0) or 0)
    if pid <= 0:
        return None, "That container is not running."
    try:
        pair = compare_namespaces({"host": read_namespaces("self", proc), "it": read_namespaces(pid, proc)})
    except ProcessLookupError:
        return None, "That container's process is gone."
    if any(pair.namespaces[name][t] is None for name in pair.names for t in NAMESPACE_TYPES):
        return None, "Some namespaces cannot be read here (reading another process's /proc/PID/ns needs root)."
    return pair, ""


def check_pid_host_shares(container: Any, answer: Any, proc: str | Path = "/proc") -> CheckResult:
    """Exercise 02.1: which namespace types a container started with --pid=host shares with the host."""
    hint = ("Compare os.readlink('/proc/self/ns/<type>') with /proc/<its host PID>/ns/<type> for all eight "
            "types, or read its column in the namespace map: same letter as the host = shared.")
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    pair, why = _read_pair(container, proc)
    if pair is None:
        return CheckResult(False, f"Cannot grade this against the kernel: {why}", hint)
    actual = set(pair.shared("host", "it"))
    ordered = [t for t in NAMESPACE_TYPES if t in actual]
    return grade_set(answer, actual, NAMESPACE_TYPES, hint=hint, extra="its own", lacking="shared too",
                     normalise=_namespace_type, separators=NAME_SEPARATORS, what="the namespace types",
                     right=f"Right: on this machine it shares {', '.join(ordered)} with the host. --pid=host adds "
                           "pid; user and time are shared anyway (and cgroup where Podman on cgroup v1 ignores "
                           "--cgroupns private).")


def _unshares_uts(argv: list[str]) -> bool:
    """True when argv runs unshare with a new UTS namespace (--uts, -u, or -u among short flags)."""
    if not argv or Path(argv[0]).name != "unshare":
        return False
    for arg in argv[1:]:
        if arg == "--uts" or arg.startswith("--uts="):
            return True
        if arg.startswith("-") and not arg.startswith("--") and "u" in arg[1:]:
            return True
        if not arg.startswith("-"):
            break
    return False


def check_new_uts_hostname(command: Any, hostname: str = "exercise-02", timeout: float = 10.0) -> CheckResult:
    """Exercise 02.2: a host command that sets ``hostname`` in a new UTS namespace and prints it.

    The command runs for real (it needs root); the host's own hostname must not change.
    """
    hint = (f"Start with ['unshare', '--uts', 'sh', '-c', ...] and, inside, run 'hostname {hostname}' "
            "then 'hostname' to print it.")
    missing = unanswered(command, hint)
    if missing is not None:
        return missing
    argv = shlex.split(command) if isinstance(command, str) else [str(part) for part in command]
    if not _unshares_uts(argv):
        return CheckResult(False, "Not run: without unshare --uts this would rename the host itself.", hint)
    before = socket.gethostname()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        return CheckResult(False, f"{argv[0]} is not installed here (Debian: util-linux).", hint)
    except subprocess.TimeoutExpired:
        return CheckResult(False, f"The command ran longer than {timeout:g} s and was stopped.", hint)
    after = socket.gethostname()
    if after != before:
        socket.sethostname(before)
        return CheckResult(False, "That changed the host's hostname (it has been put back).", hint)
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return CheckResult(False, f"The command failed (exit {done.returncode}): {why}", hint)
    if hostname not in done.stdout.split():
        return CheckResult(False, f"The command did not print {hostname!r}.", hint)
    return CheckResult(True, f"Right: {hostname!r} inside the new UTS namespace; the host's hostname is unchanged.")


def check_net_and_uts(container: Any, web: Any, proc: str | Path = "/proc") -> CheckResult:
    """Exercise 02.3: a container on web's network namespace and the host's UTS namespace, nothing else shared."""
    hint = ("lab.start('containerlab/busybox', ['sleep', '3600'], name='mine', "
            "network_mode=f'container:{web.name}', uts_mode='host'), or the explorer with host's UTS and "
            "'network of' web.")
    missing = unanswered(container, hint)
    if missing is not None:
        return missing
    if not hasattr(container, "pid"):
        return CheckResult(False, f"{container!r} is not a container: use what lab.start() returned.", hint)
    pair, why = _read_pair(container, proc)
    if pair is None:
        return CheckResult(False, f"Cannot grade this against the kernel: {why}", hint)
    web_pid = int(getattr(web, "pid", 0) or 0)
    try:
        web_ns = read_namespaces(web_pid, proc) if web_pid > 0 else None
    except ProcessLookupError:
        web_ns = None
    if web_ns is None:
        return CheckResult(False, "The web container is not running: run its cell again first.", hint)
    mine, host = pair.namespaces["it"], pair.namespaces["host"]
    problems = []
    if mine["net"] != web_ns["net"]:
        problems.append("its network namespace is not web's")
    if mine["uts"] != host["uts"]:
        problems.append("its UTS namespace is not the host's")
    leaked = [t for t in ("pid", "ipc", "mnt") if mine[t] == host[t]]
    if leaked:
        problems.append(f"it also shares the host's {', '.join(leaked)}")
    if problems:
        return CheckResult(False, "Not quite: " + "; ".join(problems) + ".", hint)
    return CheckResult(True, "Right: it sees web's interfaces and localhost, and the host's hostname; "
                             "its processes, IPC and mounts are its own.")


def check_sidecar(lab: Any, web: Any) -> CheckResult:
    """Exercise 02.4 (terminal): a running container $LAB-sidecar in web's network namespace, not its PID one."""
    hint = ("In a terminal (after the source line): `$ENGINE run -d --name $LAB-sidecar --network container:$LAB-web "
            "--memory 256m --pids-limit 256 $LABELS containerlab/busybox sleep 3600`.")
    found, problem = container_problem(lab.state(), "sidecar")
    if problem:
        return CheckResult(False, problem, hint)
    assert found is not None
    try:
        mine, webs = read_namespaces(found.pid), read_namespaces(web.pid)
    except OSError as err:
        return CheckResult(False, f"Could not read the namespaces of $LAB-sidecar or web: {err}", hint)
    if mine["net"] is None or webs["net"] is None:
        return CheckResult(False, "This notebook cannot read the containers' namespaces (it needs root).", hint)
    if mine["net"] != webs["net"]:
        return CheckResult(False, "$LAB-sidecar runs in a network namespace of its own, not web's: "
                                  "start it with --network container:$LAB-web.", hint)
    if mine["pid"] == webs["pid"]:
        return CheckResult(False, "$LAB-sidecar shares web's PID namespace too: only the network was asked for.", hint)
    page = lab.exec("sidecar", ["wget", "-qO-", "http://127.0.0.1:8080/"], echo=False).output.strip()
    return CheckResult(True, f"Right: $LAB-sidecar reaches web on its own 127.0.0.1:8080 ({page!r}): one network "
                             "namespace, two containers, as in a Kubernetes pod.")
