"""cgroup limits on real containers: the OOM killer, CPU quota and throttling, a pids limit vs a fork bomb."""

from __future__ import annotations

import subprocess
import time

import pytest

from containerlab.engine.cgroups import (
    ExitState,
    container_cgroup_dirs,
    container_stats,
    exec_after_oom,
    wait_for_exit,
    watch_cgroup,
)
from containerlab.engine.lab import Lab
from containerlab.errors import LabError
from containerlab.widgets.usage import watch_usage

BUSYBOX = "containerlab/busybox"
DEBIAN = "containerlab/debian"
# The shell keeps the cgroup alive after its child is OOM-killed, until /tmp/done appears.
OOM_SCRIPT = ("python3 -c \"hog = [b'x' * 2**22 for _ in range(100)]\"; status=$?; "
              "until [ -e /tmp/done ]; do sleep 0.05; done; exit $status")
FORK_BOMB = "sleep 20 & timer=$!; bomb() { bomb | bomb & }; bomb; wait $timer"


@pytest.fixture
def lab(lab_images):
    with Lab("test-cgroups", engine=lab_images) as session:
        yield session


def test_oom_kill_gives_oomkilled_137_and_an_oom_event(lab):
    hog = lab.start(DEBIAN, ["sh", "-c", OOM_SCRIPT], name="hog", mem_limit="32m")
    stats = watch_cgroup(hog, until=lambda s: bool(s.oom_kills), timeout=10)
    assert stats.memory_limit == 32 * 2**20
    assert stats.oom_kills and stats.oom_kills >= 1
    touched = exec_after_oom(hog, ["touch", "/tmp/done"])
    # None: the kill took the shell too, which ends the container just the same (137, OOM-killed).
    assert touched is None or touched.exit_code == 0, touched
    # Podman 4.3 leaves State.OOMKilled false even for a main process the OOM killer ended (lesson 03 says so).
    expected = ExitState(exit_code=137, oom_killed=lab.engine.name != "podman")
    assert wait_for_exit(hog, timeout=10) == expected
    with pytest.raises(LabError, match="not running"):
        container_cgroup_dirs(hog)


def test_cpu_quota_is_in_the_cgroup_files_and_throttles(lab):
    burner = lab.start(BUSYBOX, ["sh", "-c", "while :; do :; done"], name="burner", nano_cpus=500_000_000)
    dirs = container_cgroup_dirs(burner)
    before, started = container_stats(burner, dirs), time.monotonic()
    assert (before.cpu_quota_usec, before.cpu_period_usec, before.cpus) == (50000, 100000, 0.5)
    # At least a second, and on a busy machine until the kernel has throttled it (it then gets less than its quota).
    after = watch_cgroup(burner, timeout=10, interval=0.25,
                         until=lambda s: time.monotonic() - started >= 1 and s.nr_throttled > before.nr_throttled)
    used = (after.cpu_usage_usec - before.cpu_usage_usec) / 1e6 / (time.monotonic() - started)
    assert 0 < used < 0.62, "the quota caps what it gets"
    assert after.nr_throttled > before.nr_throttled and after.throttled_usec > 0


def test_pids_limit_holds_a_fork_bomb(lab):
    bomb = lab.start(DEBIAN, ["bash", "-c", FORK_BOMB], name="bomb", pids_limit=30)
    seen: list[int] = []
    stats = watch_cgroup(bomb, until=lambda s: seen.append(s.pids_current or 0) or s.pids_current == 30,
                         timeout=6)
    assert stats.pids_max == 30 and stats.pids_current == 30
    # The kernel counts a refused fork in pids.events when it refuses it, just after pids.current reaches the max
    # (lesson 03 waits the same way).
    stats = watch_cgroup(bomb, until=lambda s: (s.pids_limit_hits or 0) > 0, timeout=2)
    assert max(seen) <= 30 and stats.pids_limit_hits and stats.pids_limit_hits > 0
    started = time.monotonic()
    subprocess.run(["true"], check=True)
    assert time.monotonic() - started < 1.0  # the host still starts processes
    bomb.remove()
    assert lab.containers() == []


def test_watch_usage_samples_a_running_container(lab):
    sleeper = lab.start(BUSYBOX, ["sleep", "30"], name="sleeper", mem_limit="16m")
    samples = watch_usage(container_cgroup_dirs(sleeper), seconds=0.5, interval=0.1, memory_limit=16 * 2**20)
    assert 5 <= len(samples) <= 7
    assert all(s.memory_bytes is not None and s.memory_bytes < 16 * 2**20 for s in samples)
    assert all(s.cpu_usage_usec is not None for s in samples)
