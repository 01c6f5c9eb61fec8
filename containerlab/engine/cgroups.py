"""A lab container's cgroup, read on the host through its host PID; and its exit, before removal.

The engine creates one cgroup per container and deletes it as soon as the container's
last process exits, so these helpers read the kernel's files while the container still
runs (the pure readers in :mod:`containerlab.kernel.cgroups` do the parsing).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from ..errors import ContainerNotRunningError, LabError
from ..kernel.cgroups import CgroupDirs, CgroupStats, read_cgroup_stats, resolve_cgroup_dirs
from .lab import LabContainer, RunResult

__all__ = ["ExitState", "container_cgroup_dirs", "container_stats", "exec_after_oom", "watch_cgroup", "wait_for_exit"]


@dataclass(frozen=True)
class ExitState:
    """How a container ended, as the engine recorded it: exit code and whether the OOM killer struck."""

    exit_code: int
    oom_killed: bool


def container_cgroup_dirs(container: LabContainer, proc: str | Path = "/proc") -> CgroupDirs:
    """The host directories of a running container's cgroups, found from its host PID."""
    pid = container.pid
    if not pid:
        raise ContainerNotRunningError(f"The container {container.short_name} is not running, so it has no cgroup "
                                       "any more.", "Start it again (re-run the cell that starts it), then read its "
                                       "cgroup.")
    try:
        dirs = resolve_cgroup_dirs(pid, proc=proc)
    except (ProcessLookupError, FileNotFoundError):
        raise LabError(f"The container {container.short_name}'s process (host PID {pid}) is not visible here.",
                       "Run the notebook on the engine's host itself, not inside another container.") from None
    if dirs.v2 is None and not dirs.v1:
        raise LabError(f"No cgroup directory of {container.short_name} is mounted where this notebook can see it.",
                       "Run the notebook on the engine's host, where /sys/fs/cgroup shows every cgroup.")
    return dirs


def container_stats(container: LabContainer, dirs: CgroupDirs | None = None) -> CgroupStats:
    """A running container's limits and usage, read from its cgroup files on the host."""
    dirs = dirs or container_cgroup_dirs(container)
    return read_cgroup_stats(dirs.v2, dirs.v1)


def watch_cgroup(container: LabContainer, until: Callable[[CgroupStats], bool], *, timeout: float = 10.0,
                 interval: float = 0.05) -> CgroupStats:
    """Re-read a container's cgroup until ``until(stats)`` holds or ``timeout`` passes; the last reading."""
    dirs = container_cgroup_dirs(container)
    deadline = time.monotonic() + timeout
    while True:
        stats = read_cgroup_stats(dirs.v2, dirs.v1)
        if until(stats) or time.monotonic() >= deadline:
            return stats
        time.sleep(interval)


def exec_after_oom(container: LabContainer, command: Sequence[str], *, tries: int = 20,
                   pause: float = 0.25) -> RunResult | None:
    """Run a command in a container whose memory cgroup just had an OOM kill, until it exits 0 (``tries`` at most,
    ``pause`` seconds apart; only the first try is echoed); the last result. Just after the kill the cgroup can
    still be full, and then the command is OOM-killed too (exit code 137), or so can the container's main process
    be: then the container has stopped, there is nothing left to run the command in, and the answer is None."""
    result = None
    for attempt in range(tries):
        if attempt:
            time.sleep(pause)
        try:
            result = container.exec(command, echo=False if attempt else None)
        except ContainerNotRunningError:
            return None
        if result.exit_code == 0:
            break
    return result


def wait_for_exit(container: LabContainer, timeout: float = 30.0) -> ExitState:
    """Wait for a container to stop and return what the engine recorded; the container is kept."""
    api: Any = container.lab.engine.client.api
    try:
        api.wait(container.id, timeout=timeout)
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as err:
        raise LabError(f"The container {container.short_name} was still running after {timeout:g} s.",
                       "Make its command finish, or give wait_for_exit() a larger timeout=.") from err
    state = container.inspect()["State"]
    return ExitState(exit_code=int(state["ExitCode"]), oom_killed=bool(state["OOMKilled"]))
