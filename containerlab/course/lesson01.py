"""Exercise checks for lesson 01, what is a container.

Checks never raise for a wrong or missing answer; they return a CheckResult with a hint.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .engine_checks import container_problem
from .grading import CheckResult, grade_set, unanswered

__all__ = ["check_host_pid", "check_shared_with_host", "check_own_hostname", "SHAREABLE"]


def check_host_pid(container: Any, answer: Any, proc: str = "/proc") -> CheckResult:
    """Exercise 01.1: the host PID of a running container's first process."""
    hint = ("On the host, look for the process whose /proc/PID/cgroup mentions the container ID, "
            "or ask the engine: container.inspect()['State']['Pid'].")
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    try:
        pid = int(answer)
    except (TypeError, ValueError):
        return CheckResult(False, f"{answer!r} is not a PID (a whole number).", hint)
    actual = container.pid
    if pid == actual:
        return CheckResult(True, f"Right: PID {pid} on the host is PID 1 inside the container.")
    if pid == 1:
        return CheckResult(False, "PID 1 is what the container sees; the host numbers the same process differently.",
                           hint)
    if not Path(proc, str(pid)).exists():
        return CheckResult(False, f"There is no process {pid} on the host right now.", hint)
    return CheckResult(False, f"Process {pid} exists on the host but is not the container's first process.", hint)


SHAREABLE = ("kernel", "hostname", "root filesystem", "process list", "clock")
SHARED_WITH_HOST = {"kernel", "clock"}


def check_shared_with_host(answer: Iterable[str] | None) -> CheckResult:
    """Exercise 01.2: which of SHAREABLE a default container shares with its host."""
    hint = ("Compare uname -r, hostname, ls /, ps and date inside a container and on the host: "
            "what is identical comes from the one kernel.")
    return grade_set(answer, SHARED_WITH_HOST, SHAREABLE, hint=hint, extra="the container's own", lacking="shared too",
                     right="Right: one kernel and its clock are shared; hostname, files and process list "
                           "are the container's own (UTS, mount and PID namespaces).")


def check_own_hostname(lab: Any, hostname: str = "lab01") -> CheckResult:
    """Exercise 01.3 (terminal): a running busybox container $LAB-box whose UTS namespace says ``hostname``."""
    hint = (f"In a terminal (after the source line): `$ENGINE run -d --name $LAB-box --hostname {hostname} "
            "--memory 256m --pids-limit 256 $LABELS containerlab/busybox sleep 3600`, then "
            "`$ENGINE exec $LAB-box hostname`.")
    _, problem = container_problem(lab.state(), "box", image="containerlab/busybox")
    if problem:
        return CheckResult(False, problem, hint)
    inside = lab.exec("box", ["hostname"], echo=False).output.strip()
    if inside != hostname:
        return CheckResult(False, f"$LAB-box runs, but inside it the hostname is {inside!r}, not {hostname!r}.", hint)
    return CheckResult(True, f"Right: inside $LAB-box the hostname is {hostname}, while the host keeps its own: "
                             "each container gets its own UTS namespace.")
