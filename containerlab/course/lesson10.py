"""Exercise checks for lesson 10, build your own container.

Checks never raise for a wrong or missing answer; they return a CheckResult with a hint.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..kernel.namespaces import NAMESPACE_TYPES, NamespaceComparison
from .grading import CheckResult, grade_set, unanswered

__all__ = ["check_first_pid", "check_cgroup_join_file", "check_tiny_shares"]


def check_first_pid(answer: Any) -> CheckResult:
    """Exercise 10.1: the PID the command gets inside the tiny container."""
    hint = "The runtime forks once more after unshare(CLONE_NEWPID): the first process of a new PID namespace."
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    try:
        pid = int(answer)
    except (TypeError, ValueError):
        return CheckResult(False, f"{answer!r} is not a PID (a whole number).", hint)
    if pid == 1:
        return CheckResult(True, "Right: PID 1. The process that called unshare stays where it was; its first "
                                 "child is PID 1 of the new namespace, and exec keeps the PID.")
    return CheckResult(False, f"PID {pid} is how the host numbers it, not the container.", hint)


def check_cgroup_join_file(answer: Any) -> CheckResult:
    """Exercise 10.2: the file a process writes its PID to, to move into a cgroup."""
    hint = "Look at enter_namespaces: the runtime writes os.getpid() into one file of the new cgroup directory."
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    name = str(answer).strip().rstrip("/").split("/")[-1]
    if name == "cgroup.procs":
        return CheckResult(True, "Right: writing a PID to cgroup.procs moves that process (and later its "
                                 "children) into the cgroup, on v1 and v2 alike.")
    if name == "tasks":
        return CheckResult(True, "That works on cgroup v1 (it moves one thread); cgroup.procs moves the whole "
                                 "process and is the only one on v2.")
    return CheckResult(False, f"{name!r} is not the file that moves a process.", hint)


def check_tiny_shares(answer: Iterable[str] | None, comparison: NamespaceComparison | None,
                      host: str = "host", tiny: str = "tiny") -> CheckResult:
    """Exercise 10.3: which namespace types the tiny container still shares with the host (read for real)."""
    hint = "Compare the map's columns, or read tinyrun.NAMESPACES: which of the eight types does it not unshare?"
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    if comparison is None:
        return CheckResult(False, "There is no namespace comparison to check against: the map cell did not run.",
                           "Run the cell that draws the namespace map first (it needs root and an engine).")
    actual = set(comparison.shared(host, tiny))
    return grade_set(answer, actual, NAMESPACE_TYPES, hint=hint, extra=f"{tiny}'s own", lacking="shared too",
                     what="the namespace types",
                     right=f"Right: {', '.join(sorted(actual))}. Like a default Docker container, the tiny "
                           "one keeps the host's user and time namespaces.")
