"""Exercise checks for lesson 01, what is a container.

Checks never raise for a wrong or missing answer; they return a CheckResult with a hint.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .engine_checks import container_problem
from .grading import CheckResult, grade_set, unanswered

__all__ = ["check_host_pid", "check_shared_with_host", "check_own_hostname", "check_box_script", "SHAREABLE"]


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


# What the grader asks the learner's script to run: it reports the facts a container would change, each line marked
# with a fresh token, so that lines the script prints itself do not count.
_PROBE = ('echo "{token} hostname=$(hostname)"; echo "{token} pid=$$"; '
          'echo "{token} uts=$(readlink /proc/self/ns/uts)"; echo "{token} pidns=$(readlink /proc/self/ns/pid)"; '
          'echo "{token} procs=$(ls /proc | grep -c "^[0-9]")"')
_PROBED = ("hostname", "pid", "uts", "pidns", "procs")
# The grader's own wrapper: a UTS and a mount namespace of its own, so that no script, right or wrong, can rename
# this machine or leave a mount behind. It prints its UTS namespace, then runs the script with the probe.
_GUARD = 'echo "$1 guard=$(readlink /proc/self/ns/uts)"; shift; exec sh "$0" "$@"'
# A process in a fresh PID namespace with its own /proc sees itself and the few commands the probe starts.
_FEW_PROCESSES = 5


def _probe_facts(output: str, token: str) -> dict[str, str]:
    """The key=value lines the probe and the guard printed (those marked with ``token``)."""
    marked = (line[len(token) + 1:] for line in output.splitlines() if line.startswith(token + " ") and "=" in line)
    return dict(line.split("=", 1) for line in marked)


def check_box_script(script: Any, hostname: str = "box01", timeout: float = 20.0) -> CheckResult:
    """Exercise 01.4 (build it): a shell script that runs its arguments like a container, graded by running it.

    The script gets a command as its arguments ("$@"); it must run it with its own hostname ``hostname`` (a new
    UTS namespace), as PID 1 of a new PID namespace, seeing only its own processes in /proc. The grader runs it,
    as root, inside a UTS and mount namespace of the grader's own (the host's name and mounts stay untouched
    whatever the script does), with a probe command whose report the script cannot fake.
    """
    hint = (f"unshare makes the namespaces: `unshare --uts --pid --fork --mount-proc sh -c 'hostname {hostname} && "
            "exec \"$@\"' box \"$@\"`. --fork makes the child PID 1; exec hands PID 1 on to the command.")
    missing = unanswered(script, hint)
    if missing is not None:
        return missing
    if os.geteuid() != 0:
        return CheckResult(False, "Running the script needs root (unshare of a PID namespace), which this kernel "
                                  "does not give here.", hint)
    token = secrets.token_hex(8)
    with tempfile.TemporaryDirectory(prefix="containerlab-box-") as scratch:
        path = Path(scratch, "box.sh")
        path.write_text(str(script) + "\n")
        try:
            ran = subprocess.run(["unshare", "--uts", "--mount", "--", "sh", "-c", _GUARD, str(path), token,
                                  "sh", "-c", _PROBE.format(token=token)],
                                 capture_output=True, text=True, timeout=timeout, cwd=scratch)
        except subprocess.TimeoutExpired:
            return CheckResult(False, f"The script did not finish within {timeout:.0f} s: does it run \"$@\"?", hint)
    facts = _probe_facts(ran.stdout, token)
    if ran.returncode != 0 or any(key not in facts for key in _PROBED):
        said = ran.stderr.strip().splitlines()
        return CheckResult(False, f"The script did not run the command it was given (exit code {ran.returncode}"
                                  + (f": {said[-1][:100]}" if said else "") + ").", hint)
    if facts.get("uts") == facts.get("guard"):
        return CheckResult(False, "The command ran in the same UTS namespace as the script: setting a hostname "
                                  "there would rename the whole machine. Add --uts.", hint)
    if facts.get("hostname") != hostname:
        return CheckResult(False, f"The command's hostname is {facts.get('hostname')!r}, not {hostname!r}.", hint)
    if facts.get("pidns") == os.readlink("/proc/self/ns/pid"):
        return CheckResult(False, "The command runs in the host's PID namespace: add --pid --fork.", hint)
    if facts.get("pid") != "1":
        return CheckResult(False, f"The command is PID {facts.get('pid')} of its namespace, not 1: let the shell "
                                  "hand PID 1 over with exec \"$@\".", hint)
    procs = int(facts.get("procs", "0") or 0)
    if procs > _FEW_PROCESSES:
        return CheckResult(False, f"The command is PID 1, but /proc still lists {procs} processes: the host's. "
                                  "Mount a /proc of the new namespace: --mount-proc.", hint)
    return CheckResult(True, f"Right: your script gave the command its own hostname ({hostname}), made it PID 1 "
                             f"and showed it only its own {procs} processes: a container made of two namespaces.")
