"""Graders for the notebooks' exercises: each compares an answer with the real machine.

A check never raises for a wrong or missing answer; it returns a CheckResult that shows
a tick, or what is wrong and a hint for the next try.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..kernel.cgroups import read_cgroup_version

__all__ = ["CheckResult", "check_default_uid", "check_cgroup_version", "check_host_pid",
           "check_shared_with_host", "SHAREABLE"]

NOT_ANSWERED = "Not answered yet: replace None with your answer and run the cell again."


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one exercise: passed or not, what was found, a hint."""

    passed: bool
    message: str
    hint: str = ""

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        if self.passed:
            return f"\N{WHITE HEAVY CHECK MARK} {self.message}"
        return f"\N{CROSS MARK} {self.message}\n   Hint: {self.hint}" if self.hint else f"\N{CROSS MARK} {self.message}"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        colour = "#1a7f37" if self.passed else "#b42318"
        hint = "" if self.passed or not self.hint else f"<br><em>Hint:</em> {html.escape(self.hint)}"
        mark = "\N{WHITE HEAVY CHECK MARK}" if self.passed else "\N{CROSS MARK}"
        style = f"border-left:4px solid {colour};padding:4px 10px"
        body = f'<div style="{style}">{mark} {html.escape(self.message)}{hint}</div>'
        return {"text/plain": str(self), "text/html": body}


def _unanswered(answer: Any, hint: str) -> CheckResult | None:
    if answer is None or answer is ...:
        return CheckResult(False, NOT_ANSWERED, hint)
    return None


def check_default_uid(answer: Any) -> CheckResult:
    """Exercise 00.1: the uid a container's process gets when the image names no USER."""
    hint = "Run lab.run('containerlab/busybox', 'id -u') and read the number it prints."
    missing = _unanswered(answer, hint)
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
    missing = _unanswered(answer, hint)
    if missing is not None:
        return missing
    actual = str(read_cgroup_version(proc)).lower()
    given = str(answer).strip().lower().replace("cgroup", "").strip()
    if given in (actual, actual.lstrip("v")):
        return CheckResult(True, f"Right: this host runs cgroup {actual}.")
    return CheckResult(False, f"{answer!r} is not what this host's mount table says.", hint)


def check_host_pid(container: Any, answer: Any, proc: str = "/proc") -> CheckResult:
    """Exercise 01.1: the host PID of a running container's first process."""
    hint = ("On the host, look for the process whose /proc/PID/cgroup mentions the container ID, "
            "or ask the engine: container.inspect()['State']['Pid'].")
    missing = _unanswered(answer, hint)
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
    missing = _unanswered(answer, hint)
    if missing is not None:
        return missing
    given = {str(item).strip().lower() for item in answer}
    unknown = given - set(SHAREABLE)
    if unknown:
        return CheckResult(False, f"{sorted(unknown)} is not among the choices {list(SHAREABLE)}.", hint)
    if given == SHARED_WITH_HOST:
        return CheckResult(True, "Right: one kernel and its clock are shared; hostname, files and process list "
                                 "are the container's own (UTS, mount and PID namespaces).")
    extra, lacking = sorted(given - SHARED_WITH_HOST), sorted(SHARED_WITH_HOST - given)
    parts = []
    if extra:
        parts.append(f"{', '.join(extra)} {'is' if len(extra) == 1 else 'are'} the container's own")
    if lacking:
        parts.append(f"{', '.join(lacking)} {'is' if len(lacking) == 1 else 'are'} shared too")
    return CheckResult(False, "Not quite: " + "; ".join(parts) + ".", hint)
