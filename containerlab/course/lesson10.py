"""Exercise checks for lesson 10, build your own container.

Checks never raise for a wrong or missing answer; they return a CheckResult with a hint.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..kernel.cgroups import read_pid_cgroup_stats
from ..kernel.namespaces import NAMESPACE_TYPES, NamespaceComparison
from ..runtime import tinyrun
from .engine_checks import container_problem
from .grading import CheckResult, grade_set, unanswered

__all__ = ["FORK_BOMB", "PIDS_LIMIT", "check_tiny_pids_limit", "check_tiny_shares", "check_engine_twin"]


# The bomb runs for 3 s at most: when the shell that is PID 1 exits, the kernel kills its whole PID namespace.
FORK_BOMB = "sleep 3 & timer=$!; bomb() { bomb | bomb & }; bomb; wait $timer"
PIDS_LIMIT = 20
_MOST_PIDS_FOR_A_BOMB = 64  # the check never lets a bomb run under a looser limit than this


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _remove(groups: list[Path]) -> None:
    for group in reversed(groups):
        if group.is_dir():
            tinyrun.remove_cgroup(group, wait=10)


def _limit_seen_from_host(rootfs: str | os.PathLike[str], groups: list[Path], workdir: Path) -> int | None:
    """Start a harmless tiny container in ``groups`` and read, from the host, the pids limit it really sits under."""
    probe = tinyrun.TinyContainer(rootfs, ["sleep", "30"], workdir / "pids-probe.pid", join=groups)
    try:
        return read_pid_cgroup_stats(probe.pid).pids_max
    finally:
        probe.stop()


def _run_bomb(rootfs: str | os.PathLike[str], groups: list[Path], pids_group: Path) -> tuple[int, str, int, float]:
    """The fork bomb in a tiny container in ``groups``: exit code, output, most processes seen, slowest host start."""
    bomb = subprocess.Popen(tinyrun.command_line(rootfs, ["sh", "-c", FORK_BOMB], join=groups),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    most, slowest = 0, 0.0
    try:
        while bomb.poll() is None:
            most = max(most, int(_read(pids_group / "pids.current") or 0))
            started = time.monotonic()
            subprocess.run(["true"], check=True)  # the host starts processes as usual meanwhile
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.1)
        output = bomb.communicate(timeout=30)[0]
    finally:
        if bomb.poll() is None:
            bomb.kill()
            bomb.wait()
    return bomb.returncode, output, most, slowest


def check_tiny_pids_limit(limit_pids: Any, rootfs: str | os.PathLike[str] | None, workdir: str | os.PathLike[str],
                          limit: int = PIDS_LIMIT) -> CheckResult:
    """Exercise 10.2: the learner's ``limit_pids(group, limit)`` gives the tiny runtime a pids limit that holds a
    fork bomb. The bomb only runs once a harmless container in the same cgroups was seen, from the host, under a
    limit of at most 64 processes."""
    hint = ("Follow make_cgroup: on cgroup v2 one directory holds every controller's files, so write pids.max into "
            "`group` itself; on v1 and hybrid hosts the pids controller has its own tree: make "
            "tinyrun.CGROUP_ROOT / 'pids' / group.name, write pids.max there, and return that directory.")
    missing = unanswered(limit_pids, hint)
    if missing is not None:
        return missing
    if not callable(limit_pids):
        return CheckResult(False, f"{limit_pids!r} is not a function: define limit_pids(group, limit).", hint)
    if rootfs is None or not Path(rootfs, "bin").is_dir():
        return CheckResult(False, "There is no root filesystem to run the tiny container on.",
                           "Run the cell of section 1 first (it needs root and an engine).")
    groups = [tinyrun.make_cgroup(f"containerlab-tiny-pids-{os.getpid()}", 64 << 20)]
    try:
        try:
            made = Path(limit_pids(groups[0], limit))
        except Exception as err:  # the learner's code: any error is an answer to explain, not a crash
            return CheckResult(False, f"limit_pids raised {type(err).__name__}: {err}", hint)
        if made != groups[0]:
            groups.append(made)
        written = _read(made / "pids.max")
        if not (made / "cgroup.procs").exists():
            return CheckResult(False, f"{made} is not a cgroup directory (it has no cgroup.procs).", hint)
        if not (made / "pids.max").exists():
            return CheckResult(False, f"{made} has no pids.max: it is not a cgroup of the pids controller.", hint)
        if written != str(limit):
            return CheckResult(False, f"pids.max in {made} reads {written!r}, not {limit}.", hint)
        held = _limit_seen_from_host(rootfs, groups, Path(workdir))
        if held is None or held > _MOST_PIDS_FOR_A_BOMB:
            return CheckResult(False, f"Not run: a tiny container in your cgroups is held to {held or 'no'} "
                                      "processes, so the fork bomb would not be held.", hint)
        code, output, most, slowest = _run_bomb(rootfs, groups, made)
        refused = int((_read(made / "pids.events").split() or ["max", "0"])[-1])
    finally:
        _remove(groups)
    # The bomb's shell (PID 1) exits 0 when its timer ends; or 2 ("can't fork") when the kernel refused one of its
    # own forks because the bomb's children already hold every allowed process (seen on a loaded machine). Either
    # way the limit held.
    if refused == 0 or not (code == 0 or (code == 2 and "can't fork" in output)):
        return CheckResult(False, f"The bomb ran, but the kernel refused no fork (exit {code}, "
                                  f"{most} processes at most): {output.strip()[-200:]}", hint)
    return CheckResult(True, f"Right: the tiny runtime now holds a container to {limit} processes. The bomb reached "
                             f"{most}, the kernel refused {refused} forks ('can't fork'), and the host started a "
                             f"process in {slowest:.2f} s at worst meanwhile.")


def check_tiny_shares(answer: Iterable[str] | None, comparison: NamespaceComparison | None,
                      host: str = "host", tiny: str = "tiny") -> CheckResult:
    """Exercise 10.1: which namespace types the tiny container still shares with the host (read for real)."""
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


def check_engine_twin(lab: Any, image: str = "containerlab/busybox") -> CheckResult:
    """Exercise 10.3 (terminal): $LAB-twin, the tiny container's twin made by the engine: running ``image`` with the
    hostname tiny, a 32 MiB memory limit and no network but loopback (the engine's record, and the container asked)."""
    hint = ("In a terminal (after the source line): `$ENGINE run -d --name $LAB-twin --hostname tiny --network none "
            "--memory 32m --memory-swap 32m --pids-limit 256 $LABELS containerlab/busybox sleep 600`.")
    found, problem = container_problem(lab.state(), "twin", image=image)
    if problem:
        return CheckResult(False, problem, hint)
    assert found is not None
    if found.memory != 32 << 20:
        shown = f"{found.memory >> 20} MiB" if found.memory else "no memory limit"
        return CheckResult(False, f"$LAB-twin has {shown}, not the tiny container's 32 MiB (--memory 32m).", hint)
    hostname = lab.exec("twin", ["hostname"], echo=False).output.strip()
    if hostname != "tiny":
        return CheckResult(False, f"$LAB-twin's hostname is {hostname!r}, not 'tiny' (--hostname).", hint)
    interfaces = sorted(lab.exec("twin", ["ls", "/sys/class/net"], echo=False).output.split())
    if interfaces != ["lo"]:
        return CheckResult(False, f"$LAB-twin has the interfaces {', '.join(interfaces)}: the tiny container has only "
                                  "lo (--network none).", hint)
    return CheckResult(True, "Right: four flags give the engine's container what the tiny runtime does by hand: its "
                             "own UTS namespace with a hostname, an empty network namespace, and a memory cgroup.")
