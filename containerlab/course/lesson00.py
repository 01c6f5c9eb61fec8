"""Exercise checks for lesson 00, the lab check.

Checks never raise for a wrong or missing answer; they return a CheckResult with a hint.
"""

from __future__ import annotations

from typing import Any

from ..kernel.cgroups import read_cgroup_version
from .engine_checks import check_container, container_problem
from .grading import CheckResult, unanswered

__all__ = ["check_default_uid", "check_cgroup_version", "check_first_container", "check_greeter"]


def check_default_uid(answer: Any) -> CheckResult:
    """Exercise 00.1: the uid a container's process gets when the image names no USER."""
    hint = "Run lab.run('containerlab/busybox', 'id -u') and read the number it prints."
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    try:
        uid = int(str(answer).strip())
    except ValueError:
        return CheckResult(False, f"{answer!r} is not a number.", hint)
    if uid == 0:
        return CheckResult(True, "Right: uid 0, root inside the container, unless the image or run sets a USER.")
    return CheckResult(False, f"uid {uid} is not what the container reports.", hint)


def check_cgroup_version(answer: Any, proc: str = "/proc") -> CheckResult:
    """Exercise 00.2: which cgroup version this host uses (read from the real mount table)."""
    hint = "Look at the file system types mounted under /sys/fs/cgroup: 'cgroup2' alone means v2."
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    actual = str(read_cgroup_version(proc)).lower()
    given = str(answer).strip().lower().replace("cgroup", "").strip()
    if given in (actual, actual.lstrip("v")):
        return CheckResult(True, f"Right: this host runs cgroup {actual}.")
    return CheckResult(False, f"{answer!r} is not what this host's mount table says.", hint)


def check_first_container(lab: Any) -> CheckResult:
    """Exercise 00.3 (terminal): a busybox container $LAB-first, typed with the course's labels, still running."""
    hint = ("In a terminal: type the `source` line printed above, then `$ENGINE run -d --name $LAB-first --memory 256m "
            "--pids-limit 256 $LABELS containerlab/busybox sleep 3600`; `$ENGINE ps` should list it.")
    return check_container(lab.state(), "first", image="containerlab/busybox", hint=hint,
                           right="Right: $LAB-first runs in the background, and its labels let "
                                 "`python -m containerlab clean` find it.")


def check_greeter(lab: Any, greeting: str = "bonjour", role: str = "greeter") -> CheckResult:
    """Exercise 00.4 (build it): a busybox container $LAB-greeter made with given properties, graded by what it did.

    The engine's record must show the label ``role=<role>``, the variable ``GREETING=<greeting>`` and an exit code
    0; what the container printed must be ``<greeting> from <its own hostname>``: the shell inside expanded the
    variable and asked the container's hostname, so the line could only come from running it.
    """
    hint = (f"`$ENGINE run --name $LAB-greeter --label role={role} --env GREETING={greeting} --memory 256m "
            "--pids-limit 256 $LABELS containerlab/busybox sh -c 'echo \"$GREETING from $(hostname)\"'` "
            "(single quotes: the container's shell, not yours, must expand $GREETING).")
    found, problem = container_problem(lab.state(), "greeter", running=None, image="containerlab/busybox")
    if problem:
        return CheckResult(False, problem, hint)
    assert found is not None
    if found.labels.get("role") != role:
        given = found.labels.get("role")
        return CheckResult(False, f"$LAB-greeter has no label role={role}"
                                  + (f" (its role label is {given!r})." if given else "."), hint)
    if f"GREETING={greeting}" not in found.env:
        return CheckResult(False, f"$LAB-greeter's environment lacks GREETING={greeting}: set it with --env.", hint)
    if found.running:
        return CheckResult(False, "$LAB-greeter is still running: its command prints one line and ends.", hint)
    if found.exit_code != 0:
        return CheckResult(False, f"$LAB-greeter ended with exit code {found.exit_code}: "
                                  "`$ENGINE logs $LAB-greeter` says why.", hint)
    container = lab.container("greeter")
    expected = f"{greeting} from {container.inspect()['Config']['Hostname']}"
    printed = container.logs().strip()
    if printed != expected:
        return CheckResult(False, f"$LAB-greeter printed {printed[:80]!r}, not {expected!r}.", hint)
    return CheckResult(True, f"Right: the engine recorded your name, label and variable, and the container's own "
                             f"shell printed {expected!r} (its hostname is the container's, not this machine's).")
