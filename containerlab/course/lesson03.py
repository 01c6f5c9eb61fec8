"""Lesson 03 (cgroups): the v1/v2 file table, and the exercises' graders.

Pure: the checks read the real cgroup files through the kernel readers; the container
they grade is passed in (anything with ``pid`` and ``short_name``), so no engine SDK here.
"""

from __future__ import annotations

from typing import Any

from ..kernel.cgroups import CGROUP_FILES, CgroupStats, CgroupVersion, read_pid_cgroup_stats
from .engine_checks import container_problem
from .grading import CheckResult, unanswered

__all__ = ["files_table", "describe_limits", "check_oom_exit_code", "check_v2_file", "check_quarter_cpu",
           "check_capped", "OOM_EXIT_CODE"]

OOM_EXIT_CODE = 128 + 9  # the shell's convention: 128 + the number of the signal that killed it (SIGKILL)


def files_table(version: CgroupVersion | str) -> str:
    """CGROUP_FILES as a text table; the column of the given host version is marked (hybrid = v1 files)."""
    used = "v2" if version == "v2" else "v1" if version in ("v1", "hybrid") else None
    headers = {"v1": "cgroup v1 file", "v2": "cgroup v2 file"}
    if used:
        headers[used] += " (this host)"
    rows = [("quantity", headers["v1"], headers["v2"])]
    rows += [(label, files["v1"], files["v2"]) for label, files in CGROUP_FILES.items()]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def describe_limits(stats: CgroupStats) -> list[str]:
    """One line per resource: its limit (or 'no limit') and what is in use, for a learner to read."""
    mib = 2**20
    memory_limit = "no limit" if stats.memory_limit is None else f"limit {stats.memory_limit / mib:.1f} MiB"
    memory_used = "use unknown" if stats.memory_usage is None else f"{stats.memory_usage / mib:.1f} MiB in use"
    cpu_limit = "no limit" if stats.cpus is None else f"limit {stats.cpus:g} CPU"
    cpu_used = ("use unknown" if stats.cpu_usage_usec is None
                else f"{stats.cpu_usage_usec / 1e6:.1f} s of CPU time used so far")
    pids_limit = "no limit" if stats.pids_max is None else f"limit {stats.pids_max}"
    pids_used = "use unknown" if stats.pids_current is None else f"{stats.pids_current} running"
    return [f"memory: {memory_limit}, {memory_used}", f"CPU: {cpu_limit}, {cpu_used}",
            f"processes: {pids_limit}, {pids_used}"]


def check_oom_exit_code(answer: Any) -> CheckResult:
    """Exercise 03.1: the exit code an OOM-killed container reports."""
    hint = ("Look at State.ExitCode in the OOM section above. The OOM killer sends SIGKILL (signal 9); "
            "a process killed by signal N reports 128 + N.")
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    try:
        code = int(str(answer).strip())
    except ValueError:
        return CheckResult(False, f"{answer!r} is not an exit code (a whole number).", hint)
    if code == OOM_EXIT_CODE:
        return CheckResult(True, "Right: 137 = 128 + 9, killed by SIGKILL; State.OOMKilled says who sent it.")
    if code == 9:
        return CheckResult(False, "9 is the signal (SIGKILL), not the exit code the engine reports.", hint)
    if code in (1, 139, 143):
        return CheckResult(False, f"{code} is the code of another kind of failure, not of an OOM kill.", hint)
    return CheckResult(False, f"{code} is not what an OOM-killed container reports.", hint)


def check_v2_file(answer: Any) -> CheckResult:
    """Exercise 03.2: which file holds a cgroup's memory limit on cgroup v2."""
    expected = CGROUP_FILES["memory limit"]["v2"]
    hint = ("Look at the table of file names in section 2, row 'memory limit': the v2 column. "
            "v2 names are short and end in what they hold.")
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    given = str(answer).strip().rsplit("/", 1)[-1]
    if given == expected:
        return CheckResult(True, f"Right: {expected} ('max' when unlimited); v1 called it "
                                 f"{CGROUP_FILES['memory limit']['v1']}.")
    if given == CGROUP_FILES["memory limit"]["v1"]:
        return CheckResult(False, f"{given} is the v1 name; v2 renamed it.", hint)
    return CheckResult(False, f"{given!r} is not the v2 memory limit file.", hint)


def _quota_pair(answer: Any) -> tuple[int, int] | None:
    """(quota, period) from a pair of whole numbers, or None if it is not one."""
    try:
        quota, period = answer
        return int(quota), int(period)
    except (TypeError, ValueError):
        return None


def check_quarter_cpu(container: Any, answer: Any, proc: str = "/proc", root: str = "/") -> CheckResult:
    """Exercise 03.3: a container limited to 0.25 CPU, and its (quota, period) read from its cgroup files."""
    hint = ("Start it with lab.start(..., nano_cpus=...) (billionths of a CPU), then read quota and period with "
            "container_stats(quarter): cpu_quota_usec and cpu_period_usec (v1 cpu.cfs_quota_us and "
            "cpu.cfs_period_us, v2 cpu.max).")
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    if container is None or not hasattr(container, "pid"):
        return CheckResult(False, "There is no container to check: set quarter to the container you started.",
                           hint)
    pair = _quota_pair(answer)
    if pair is None:
        return CheckResult(False, f"{answer!r} is not a pair (quota, period) of whole numbers of µs.", hint)
    pid = container.pid
    if not pid:
        return CheckResult(False, "That container is not running, so it has no cgroup to compare with.", hint)
    try:
        stats: CgroupStats = read_pid_cgroup_stats(pid, proc=proc, root=root)
    except (ProcessLookupError, FileNotFoundError):
        return CheckResult(False, "That container's process is not visible from this notebook.", hint)
    actual = (stats.cpu_quota_usec, stats.cpu_period_usec)
    if stats.cpus is None:
        return CheckResult(False, "That container has no CPU quota at all (its quota reads 'max' / -1).", hint)
    if abs(stats.cpus - 0.25) > 1e-9:
        return CheckResult(False, f"That container may use {stats.cpus:g} CPU, not 0.25.", hint)
    if pair == actual:
        return CheckResult(True, f"Right: {pair[0]} µs of CPU time every {pair[1]} µs = 0.25 CPU, "
                                 "enforced by the kernel's CFS bandwidth control.")
    if pair == (actual[1], actual[0]):
        return CheckResult(False, "Those are the right numbers the wrong way round: quota first, then period.",
                           hint)
    return CheckResult(False, f"{pair} is not what the container's cgroup files say.", hint)


def check_capped(lab: Any, memory_mib: int = 48, pids: int = 20) -> CheckResult:
    """Exercise 03.4 (terminal): a running container $LAB-capped with the asked memory and pids limits.

    The engine's record (`docker inspect`) and the kernel's cgroup files must both hold the limits.
    """
    hint = (f"In a terminal (after the source line): `$ENGINE run -d --name $LAB-capped --memory {memory_mib}m "
            f"--pids-limit {pids} $LABELS containerlab/busybox sleep 3600`; then "
            "`$ENGINE inspect --format '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}' $LAB-capped`.")
    found, problem = container_problem(lab.state(), "capped")
    if problem:
        return CheckResult(False, problem, hint)
    assert found is not None
    if found.memory != memory_mib * 2**20:
        shown = f"{found.memory // 2**20} MiB" if found.memory else "no memory limit"
        return CheckResult(False, f"$LAB-capped has {shown}, not {memory_mib} MiB (--memory {memory_mib}m).", hint)
    if found.pids_limit != pids:
        return CheckResult(False, f"$LAB-capped has a pids limit of {found.pids_limit or 'none'}, not {pids}.", hint)
    try:
        stats = read_pid_cgroup_stats(found.pid)
    except (ProcessLookupError, FileNotFoundError):
        return CheckResult(False, "$LAB-capped's process is not visible from this notebook.", hint)
    if stats.memory_limit != memory_mib * 2**20 or stats.pids_max != pids:
        return CheckResult(False, f"The engine records the limits, but the kernel's cgroup files say "
                                  f"{stats.memory_limit} bytes and {stats.pids_max} processes.", hint)
    return CheckResult(True, f"Right: {memory_mib} MiB and {pids} processes, recorded by the engine and written "
                             "into the container's cgroup files, where the kernel enforces them.")
