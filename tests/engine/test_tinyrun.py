"""Lesson 10's tiny runtime, as root: PID 1, its own hostname and network, the memory limit enforced, no leftovers."""

from __future__ import annotations

import os
import subprocess

import pytest

from containerlab.course.lesson10 import check_tiny_pids_limit
from containerlab.engine.lab import Lab
from containerlab.engine.overlay import export_rootfs, remove_workdir, reset_workdir, workdir_for
from containerlab.kernel.namespaces import read_namespaces
from containerlab.runtime import tinyrun

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="namespaces, cgroups and pivot_root need root")


@pytest.fixture(scope="module")
def rootfs(lab_images):
    lab = Lab("test-tinyrun", engine=lab_images)
    reset_workdir(workdir_for(lab))
    yield export_rootfs(lab, workdir_for(lab) / "rootfs")
    lab.cleanup()
    remove_workdir(workdir_for(lab))


def test_the_command_is_pid_1_and_sees_only_itself(rootfs):
    done = tinyrun.run_tiny(rootfs, ["sh", "-c", "echo $$; ps -o pid,comm"])
    assert done.returncode == 0, done.stderr
    # The shell is PID 1; it execs its last command, so ps is PID 1 too, and the only process there is.
    assert done.stdout.split() == ["1", "PID", "COMMAND", "1", "ps"]


def test_its_hostname_is_its_own(rootfs):
    before = os.uname().nodename
    done = tinyrun.run_tiny(rootfs, ["hostname"], hostname="tiny-test")
    assert done.stdout.strip() == "tiny-test"
    assert os.uname().nodename == before


def test_its_root_is_the_rootfs_and_its_network_only_loopback(rootfs):
    done = tinyrun.run_tiny(rootfs, ["sh", "-c", "ls /; ip -o link | wc -l; test -e /etc/os-release || echo none"])
    lines = done.stdout.split()
    assert "bin" in lines and "proc" in lines and lines[-2:] == ["1", "none"]


def test_the_memory_limit_is_enforced(rootfs):
    small = tinyrun.run_tiny(rootfs, ["sh", "-c", "head -c 8m /dev/zero | tail > /dev/null"], memory_bytes=32 << 20)
    assert small.returncode == 0, small.stderr
    hog = tinyrun.run_tiny(rootfs, ["tail", "/dev/zero"], memory_bytes=32 << 20, timeout=60)
    assert hog.returncode == 137  # SIGKILL from the OOM killer inside the cgroup
    assert tinyrun.leftover_cgroups() == []


def test_a_background_container_has_its_own_namespaces_and_stops_cleanly(rootfs, tmp_path):
    tiny = tinyrun.TinyContainer(rootfs, ["sleep", "60"], tmp_path / "pid")
    try:
        host, inside = read_namespaces("self"), read_namespaces(tiny.pid)
        own = [kind for kind in tinyrun.NAMESPACES if host[kind] != inside[kind]]
        assert sorted(own) == sorted(tinyrun.NAMESPACES)
        assert host["user"] == inside["user"]
        assert os.readlink(f"/proc/{tiny.pid}/exe").endswith("busybox")
    finally:
        assert tiny.stop() == 137
    assert tinyrun.leftover_cgroups() == []


def test_a_failure_inside_is_reported_and_cleaned_up(rootfs):
    done = tinyrun.run_tiny(rootfs, ["/no/such/program"])
    assert done.returncode == 125 and "tinyrun:" in done.stderr
    assert tinyrun.leftover_cgroups() == []


def _limit_pids(group, limit):
    """Lesson 10's solution to exercise 2."""
    pids_group = group if group.parent == tinyrun.CGROUP_ROOT else tinyrun.CGROUP_ROOT / "pids" / group.name
    pids_group.mkdir(exist_ok=True)
    (pids_group / "pids.max").write_text(str(limit))
    return pids_group


def test_the_pids_exercise_holds_a_fork_bomb_with_a_right_answer(rootfs, tmp_path):
    verdict = check_tiny_pids_limit(_limit_pids, rootfs, tmp_path)
    assert verdict, verdict
    assert "the kernel refused" in verdict.message
    assert tinyrun.leftover_cgroups() == []


def test_the_pids_exercise_passes_when_the_limit_refuses_the_bomb_shells_own_fork(rootfs, tmp_path):
    """Under a limit the bomb's children reach first, the kernel refuses a fork of the shell that is PID 1, and it
    exits 2 ("can't fork"): the limit held all the same (a loaded machine does this with the lesson's limit of 20;
    a limit of 2 does it every time)."""
    verdict = check_tiny_pids_limit(_limit_pids, rootfs, tmp_path, limit=2)
    assert verdict, verdict
    assert "the kernel refused" in verdict.message
    assert tinyrun.leftover_cgroups() == []


def test_the_pids_exercise_never_runs_the_bomb_without_a_limit(rootfs, tmp_path):
    def pids_group_without_a_limit(group, limit):
        made = tinyrun.CGROUP_ROOT / "pids" / group.name
        made.mkdir(exist_ok=True)
        return made

    if (tinyrun.CGROUP_ROOT / "cgroup.controllers").exists():
        pytest.skip("a cgroup v2 host: the group itself holds pids.max")
    verdict = check_tiny_pids_limit(pids_group_without_a_limit, rootfs, tmp_path)
    assert not verdict and "reads 'max'" in verdict.message
    assert tinyrun.leftover_cgroups() == []


def test_left_behind_counts_a_group_once_its_maker_has_ended_not_another_learners_running_one():
    """On a shared server other learners' tiny containers run at the same time: their groups are not left behind.
    A group named after a process that has ended, or after the caller itself, is."""
    prefix = f"containerlab-tiny-t{os.getpid()}-"
    other = subprocess.Popen(["sleep", "60"])
    running = tinyrun.make_cgroup(f"{prefix}{other.pid}", 64 << 20)
    mine = tinyrun.make_cgroup(f"{prefix}pids-{os.getpid()}", 64 << 20)
    try:
        assert tinyrun.leftover_cgroups(prefix) == [mine]
        other.kill()
        other.wait()
        assert tinyrun.leftover_cgroups(prefix) == sorted([running, mine])
    finally:
        other.kill()
        other.wait()
        for group in (running, mine):
            tinyrun.remove_cgroup(group)
    assert tinyrun.leftover_cgroups(prefix) == []
