"""Exercise checks for lesson 09, workspaces.

PID 1 and the supervised programs are checked against the running test bed (asked through
the Compose app); what systemd needs is a choice among SYSTEMD_NEEDS.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .grading import CheckResult, answer_set, unanswered

__all__ = ["SYSTEMD_NEEDS", "check_pid1", "check_supervised_programs", "check_systemd_needs",
           "supervised_programs"]

SYSTEMD_NEEDS = ("to be PID 1", "to mount tmpfs on /run", "write access to its cgroups", "a kernel of its own",
                 "a network card")
_SYSTEMD_WANTS = {"to be PID 1", "to mount tmpfs on /run", "write access to its cgroups"}


_PROCESS_STATES = {"STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL", "UNKNOWN"}


def supervised_programs(status_output: str) -> list[str]:
    """Program names from ``supervisorctl status`` output: lines of NAME STATE ... (other lines ignored)."""
    return sorted(fields[0] for fields in (line.split() for line in status_output.splitlines())
                  if len(fields) > 1 and fields[1] in _PROCESS_STATES)


def check_pid1(answer: Any, app: Any, workspace: str = "ce") -> CheckResult:
    """Exercise 09.1: the command name of PID 1 in a test-bed workspace."""
    hint = ("Ask the workspace: app.exec('ce', 'cat /proc/1/comm'), or look at CMD in ce/Dockerfile: "
            "the container's first process is what the image starts.")
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    given = str(answer).strip().rsplit("/", 1)[-1]
    result = app.exec(workspace, ["cat", "/proc/1/comm"])
    if not result.ok:
        return CheckResult(False, f"The {workspace} workspace is not running: run the test-bed cells first.", hint)
    actual = result.output.strip()
    if given == actual:
        return CheckResult(True, f"Right: {actual} is PID 1 in the {workspace} workspace; it starts the services, "
                                 "restarts them when they die and reaps orphaned processes.")
    if given in ("systemd", "init"):
        return CheckResult(False, f"Not {given}: no init system boots in this container.", hint)
    return CheckResult(False, f"{given!r} is not PID 1 in the {workspace} workspace.", hint)


def _stripped(item: Any) -> str:
    return str(item).strip()


def check_supervised_programs(answer: Iterable[str] | str | None, app: Any, workspace: str = "factory") -> CheckResult:
    """Exercise 09.2: the programs supervisord runs in a test-bed workspace."""
    hint = (f"Run 'supervisorctl status' in the {workspace} workspace (app.exec), or read "
            f"{workspace}/supervisor/testbed.conf: each [program:NAME] is one program.")
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    given = sorted(answer_set([answer] if isinstance(answer, str) else answer, _stripped))
    result = app.exec(workspace, ["supervisorctl", "status"])
    actual = supervised_programs(result.output)
    if not actual:
        return CheckResult(False, f"supervisord does not answer in the {workspace} workspace: run the test-bed "
                                  "cells first.", hint)
    if given == actual:
        return CheckResult(True, f"Right: supervisord runs {', '.join(actual)} in the {workspace} workspace.")
    extra, lacking = sorted(set(given) - set(actual)), sorted(set(actual) - set(given))
    parts = ([f"{', '.join(extra)} not supervised there"] if extra else []) + \
            ([f"{', '.join(lacking)} missing"] if lacking else [])
    return CheckResult(False, "Not quite: " + "; ".join(parts) + ".", hint)


def check_systemd_needs(answer: Iterable[str] | None) -> CheckResult:
    """Exercise 09.3: which of SYSTEMD_NEEDS systemd wants that a default container does not give it."""
    hint = ("Re-read what systemd printed when it ran as the container's first process, and what "
            "section 3 found about /run and /sys/fs/cgroup.")
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    given = answer_set([answer] if isinstance(answer, str) else answer, _stripped)
    unknown = sorted(given - set(SYSTEMD_NEEDS))
    if unknown:
        return CheckResult(False, f"{unknown} is not among the choices {list(SYSTEMD_NEEDS)}.", hint)
    if given == _SYSTEMD_WANTS:
        return CheckResult(True, "Right: systemd must be PID 1, mounts its API file systems (tmpfs on /run, "
                                 "/run/lock) and manages its own cgroup tree; a default container forbids the mounts "
                                 "and gives it /sys/fs/cgroup read-only. It never needs a kernel of its own.")
    wrong = sorted(given - _SYSTEMD_WANTS)
    if wrong:
        return CheckResult(False, f"systemd in a container does not need {' or '.join(wrong)}.", hint)
    return CheckResult(False, f"It also needs {' and '.join(sorted(_SYSTEMD_WANTS - given))}.", hint)
