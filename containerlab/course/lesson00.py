"""Exercise checks for lesson 00, the lab check.

Checks never raise for a wrong or missing answer; they return a CheckResult with a hint.
"""

from __future__ import annotations

from typing import Any

from ..kernel.cgroups import read_cgroup_version
from .engine_checks import check_container
from .grading import CheckResult, unanswered

__all__ = ["check_default_uid", "check_cgroup_version", "check_first_container"]


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
