"""cgroups v1, v2 and hybrid: membership, version, directories, limits and usage.

Fixtures: ``hybrid-host`` and ``container-on-hybrid`` were recorded on a Debian 12
Docker host (cgroupfs driver) from a container run with ``-m 64m --cpus 0.5
--pids-limit 50`` after a CPU burn and one OOM kill; ``v2-host``/``v2-container``
(Ubuntu 24.04, systemd driver) and ``v1-centos7`` (kernel 3.10, co-mounted
cpu,cpuacct) are written to match those systems' files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from containerlab.errors import ParseError
from containerlab.kernel import (
    CGROUP_FILES,
    CgroupEntry,
    CgroupStats,
    cgroup_dirs,
    cgroup_files,
    detect_cgroup_version,
    parse_cpu_max,
    parse_keyed,
    parse_limit,
    parse_mountinfo,
    parse_proc_cgroup,
    read_cgroup_stats,
    read_cgroup_version,
    read_pid_cgroup_stats,
    resolve_cgroup_dirs,
)
from containerlab.kernel.cgroups import (
    CgroupDirs,
    UsageSample,
    average_cpus,
    controller_versions,
    cpu_rates,
    read_controller_versions,
    sample_usage,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kernel"
HYBRID_ID = "37c12d33c3ee5c72b0a5ad57ceb126e755cd82ad398c74e10d7ff1f1d52cac3f"
V2_ID = "8f2b6c1d9e4a7b3c5d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e"
C7_SCOPE = "system.slice/docker-5a1e7c2f0b9d4e6a8c3b1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c.scope"

HYBRID_CONTAINER = CgroupStats(
    memory_limit=64 * 2**20, memory_usage=307200, memory_max_usage=64 * 2**20, oom_kills=1,
    memory_limit_hits=125, cpu_quota_usec=50000, cpu_period_usec=100000, cpu_usage_usec=1160373,
    nr_periods=30, nr_throttled=21, throttled_usec=971035, pids_max=50, pids_current=2,
)
V2_CONTAINER = CgroupStats(
    memory_limit=256 * 2**20, memory_usage=3719168, memory_max_usage=256 * 2**20, oom_kills=1,
    memory_limit_hits=37, cpu_quota_usec=150000, cpu_period_usec=100000, cpu_usage_usec=2283751,
    nr_periods=41, nr_throttled=12, throttled_usec=803412, pids_max=100, pids_current=3,
)


def tree(name: str) -> tuple[Path, Path]:
    """(proc, root) of a fixture tree."""
    return FIXTURES / name / "proc", FIXTURES / name


def mountinfo_text(name: str) -> str:
    return (FIXTURES / name / "proc" / "self" / "mountinfo").read_text()


def test_parse_proc_cgroup_v1_lines_and_v2_line():
    entries = parse_proc_cgroup((FIXTURES / "hybrid-host" / "proc" / "4293" / "cgroup").read_text())
    assert len(entries) == 10
    assert entries[0] == CgroupEntry(9, ("name=systemd",), f"/docker/{HYBRID_ID}")
    assert entries[5].controllers == ("memory",) and not entries[5].is_v2
    assert entries[-1].is_v2 and entries[-1].path == f"/docker/{HYBRID_ID}"


def test_parse_proc_cgroup_v2_comounted_and_colons():
    assert parse_proc_cgroup("0::/\n") == [CgroupEntry(0, (), "/")]
    assert parse_proc_cgroup("4:cpuacct,cpu:/x\n")[0].controllers == ("cpuacct", "cpu")
    assert parse_proc_cgroup("0::/odd:name\n")[0].path == "/odd:name"


@pytest.mark.parametrize("bad", ["x:memory:/", "4:memory", "4:memory:relative", "::/"])
def test_parse_proc_cgroup_malformed(bad: str):
    with pytest.raises(ParseError) as caught:
        parse_proc_cgroup("0::/\n\n" + bad + "\n")
    assert "line 3" in caught.value.message and caught.value.hint


@pytest.mark.parametrize(
    "name, version",
    [("hybrid-host", "hybrid"), ("container-on-hybrid", "v1"), ("v2-host", "v2"),
     ("v2-container", "v2"), ("v1-centos7", "v1")],
)
def test_detect_cgroup_version(name: str, version: str):
    assert detect_cgroup_version(mountinfo_text(name)) == version


def test_detect_cgroup_version_edge_cases():
    assert detect_cgroup_version((FIXTURES / "mountinfo" / "odd-lines.txt").read_text()) == "none"
    legacy_name_only = ("99 31 0:99 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
                        "rw,xattr,release_agent=/x,name=systemd\n")
    assert detect_cgroup_version(mountinfo_text("v2-host") + legacy_name_only) == "v2"
    assert read_cgroup_version() in ("v1", "v2", "hybrid", "none")


def test_resolve_dirs_hybrid_host():
    proc, root = tree("hybrid-host")
    dirs = resolve_cgroup_dirs(4293, proc=proc, root=root)
    assert dirs.version == "hybrid"
    assert dirs.v1["memory"] == str(root / "sys/fs/cgroup/memory/docker" / HYBRID_ID)
    assert dirs.v1["name=systemd"] == str(root / "sys/fs/cgroup/systemd/docker" / HYBRID_ID)
    assert dirs.v2 == str(root / "sys/fs/cgroup/unified/docker" / HYBRID_ID)


def test_resolve_dirs_inside_container_maps_mount_root():
    proc, root = tree("container-on-hybrid")
    dirs = resolve_cgroup_dirs(proc=proc, root=root)
    assert dirs.version == "v1" and dirs.v2 is None
    assert dirs.v1["memory"] == str(root / "sys/fs/cgroup/memory")


def test_resolve_dirs_v2_and_comounted_v1():
    proc, root = tree("v2-host")
    dirs = resolve_cgroup_dirs(3120, proc=proc, root=root)
    assert dirs.v2 == str(root / f"sys/fs/cgroup/system.slice/docker-{V2_ID}.scope") and dirs.v1 == {}
    proc, root = tree("v2-container")
    assert resolve_cgroup_dirs(proc=proc, root=root).v2 == str(root / "sys/fs/cgroup")
    proc, root = tree("v1-centos7")
    dirs = resolve_cgroup_dirs(2210, proc=proc, root=root)
    assert dirs.v1["cpu"] == dirs.v1["cpuacct"] == str(root / "sys/fs/cgroup/cpu,cpuacct" / C7_SCOPE)


def test_cgroup_outside_the_mount_root_is_left_out():
    mounts = parse_mountinfo(mountinfo_text("container-on-hybrid"))
    dirs = cgroup_dirs([CgroupEntry(4, ("memory",), "/elsewhere")], mounts)
    assert dirs.v1 == {}


def test_stats_hybrid_container_from_host_and_from_inside_agree():
    proc, root = tree("hybrid-host")
    host_view = read_pid_cgroup_stats(4293, proc=proc, root=root)
    assert host_view == HYBRID_CONTAINER
    assert host_view.cpus == 0.5
    assert host_view.sources["memory_limit"].endswith(f"memory/docker/{HYBRID_ID}/memory.limit_in_bytes")
    assert host_view.sources["cpu_usage_usec"].endswith("cpuacct.usage")
    proc, root = tree("container-on-hybrid")
    assert read_pid_cgroup_stats(proc=proc, root=root) == HYBRID_CONTAINER


def test_stats_v1_unlimited():
    proc, root = tree("hybrid-host")
    stats = read_pid_cgroup_stats(proc=proc, root=root)
    assert stats.memory_limit is None and stats.memory_usage == 22777856
    assert stats.cpu_quota_usec is None and stats.cpus is None and stats.cpu_period_usec == 100000
    assert stats.pids_max is None and stats.pids_current is None  # the root cgroup has no pids files


def test_stats_v2_limited_host_and_container():
    proc, root = tree("v2-host")
    stats = read_pid_cgroup_stats(3120, proc=proc, root=root)
    assert stats == V2_CONTAINER and stats.cpus == 1.5
    assert stats.sources["memory_limit"].endswith("memory.max")
    assert stats.sources["oom_kills"].endswith("memory.events")
    proc, root = tree("v2-container")
    assert read_pid_cgroup_stats(proc=proc, root=root) == V2_CONTAINER


def test_stats_v2_unlimited():
    proc, root = tree("v2-host")
    stats = read_pid_cgroup_stats(3377, proc=proc, root=root)
    assert (stats.memory_limit, stats.cpu_quota_usec, stats.pids_max) == (None, None, None)
    assert stats.cpu_period_usec == 100000 and stats.pids_current == 1 and stats.oom_kills == 0


def test_stats_centos7_comounted_old_kernel():
    root = FIXTURES / "v1-centos7" / "sys" / "fs" / "cgroup"
    stats = read_cgroup_stats(v1_dirs={
        "memory": root / "memory" / C7_SCOPE, "cpu": root / "cpu,cpuacct" / C7_SCOPE,
        "cpuacct": root / "cpu,cpuacct" / C7_SCOPE, "pids": root / "pids" / C7_SCOPE,
    })
    assert stats.oom_kills is None  # kernel 3.10's memory.oom_control has no oom_kill line
    assert (stats.memory_limit, stats.cpus, stats.throttled_usec) == (512 * 2**20, 2.0, 4511837)
    assert (stats.cpu_usage_usec, stats.pids_max, stats.pids_current) == (98231544, None, 4)


def test_stats_of_missing_directories_are_empty(tmp_path: Path):
    assert read_cgroup_stats() == CgroupStats()
    assert read_cgroup_stats(tmp_path / "gone", {"memory": tmp_path / "gone"}) == CgroupStats()


def test_malformed_cgroup_file_names_the_file(tmp_path: Path):
    (tmp_path / "memory.max").write_text("lots\n")
    with pytest.raises(ParseError) as caught:
        read_cgroup_stats(tmp_path)
    assert "memory.max" in caught.value.message and caught.value.hint


@pytest.mark.parametrize(
    "text, value",
    [("max\n", None), ("9223372036854771712\n", None), ("9223372036854710272", None),
     ("-1\n", None), ("67108864\n", 67108864), ("0", 0)],
)
def test_parse_limit(text: str, value):
    assert parse_limit(text) == value


def test_parse_cpu_max_and_keyed():
    assert parse_cpu_max("max 100000\n") == (None, 100000)
    assert parse_cpu_max("50000 100000") == (50000, 100000)
    assert parse_keyed("nr_periods 3\n\nnr_throttled 1\n") == {"nr_periods": 3, "nr_throttled": 1}
    for bad in (lambda: parse_limit("abc"), lambda: parse_cpu_max("50000"),
                lambda: parse_cpu_max("50000 max"), lambda: parse_keyed("nr_periods\n")):
        with pytest.raises(ParseError):
            bad()


def test_cgroup_files_per_version():
    assert all(set(files) == {"v1", "v2"} for files in CGROUP_FILES.values())
    assert cgroup_files("v2")["memory limit"] == "memory.max"
    assert cgroup_files("hybrid")["memory limit"] == "memory.limit_in_bytes"
    assert cgroup_files("v1")["CPU quota"] == "cpu.cfs_quota_us"


def test_vanished_process_raises_process_lookup_error():
    proc, root = tree("v2-host")
    with pytest.raises(ProcessLookupError):
        read_pid_cgroup_stats(99999, proc=proc, root=root)


def test_real_kernel_stats_do_not_raise():
    stats = read_pid_cgroup_stats()
    assert stats.cpu_usage_usec is None or stats.cpu_usage_usec > 0


# -- lesson 03 additions: pids.events, controllers per hierarchy, usage sampling ----------------
# ``limited-v1`` was recorded on the hybrid Docker host (cgroupfs driver) from a Debian container
# run with ``--cpus 0.25 --pids-limit 30 -m 64m`` during a bash fork bomb; ``limited-v2`` is
# written to match the same container on a systemd-driver v2 host.
LIMITED_V1_ID = "5831a09797f5f78dc3ec395b0a87d4a3dce63ec349b934ecc2fe4a3c620644d8"
LIMITED_V2_SCOPE = "system.slice/docker-4d1e8a7c2b9f0e3d6a5c8b7f1e0d9c2b3a4f5e6d7c8b9a0f1e2d3c4b5a6f7e8d.scope"


@pytest.mark.parametrize("name, pid, pids_dir", [
    ("limited-v1", 8149, f"sys/fs/cgroup/pids/docker/{LIMITED_V1_ID}"),
    ("limited-v2", 5120, f"sys/fs/cgroup/{LIMITED_V2_SCOPE}"),
])
def test_stats_of_a_fork_bombed_quarter_cpu_container(name: str, pid: int, pids_dir: str):
    proc, root = tree(name)
    stats = read_pid_cgroup_stats(pid, proc=proc, root=root)
    assert (stats.pids_max, stats.pids_current, stats.pids_limit_hits) == (30, 30, 61)
    assert stats.sources["pids_limit_hits"] == str(root / pids_dir / "pids.events")
    assert (stats.cpu_quota_usec, stats.cpu_period_usec, stats.cpus) == (25000, 100000, 0.25)
    assert (stats.memory_limit, stats.memory_usage, stats.oom_kills) == (64 * 2**20, 7872512, 0)
    assert stats.cpu_usage_usec == 45819


def test_pids_limit_hits_absent_on_older_fixtures():
    proc, root = tree("hybrid-host")
    assert read_pid_cgroup_stats(4293, proc=proc, root=root).pids_limit_hits is None
    assert CGROUP_FILES["pids limit hits"] == {"v1": "pids.events (max)", "v2": "pids.events (max)"}


def test_controller_versions_hybrid_v1_and_v2():
    proc, root = tree("hybrid-host")
    versions = controller_versions(parse_mountinfo(mountinfo_text("hybrid-host")), root)
    assert versions["memory"] == versions["cpu"] == versions["pids"] == "v1"
    assert versions["hugetlb"] == "v2" and "name=systemd" not in versions
    assert read_controller_versions(proc, root) == versions
    v2 = controller_versions(parse_mountinfo(mountinfo_text("v2-host")), FIXTURES / "v2-host")
    assert set(v2.values()) == {"v2"} and {"cpu", "memory", "pids", "io"} <= set(v2)
    centos = controller_versions(parse_mountinfo(mountinfo_text("v1-centos7")), FIXTURES / "v1-centos7")
    assert set(centos.values()) == {"v1"} and "net_prio" in centos and list(centos) == sorted(centos)


def test_controller_versions_v1_wins_and_missing_file_is_empty(tmp_path: Path):
    (tmp_path / "sys/fs/cgroup/unified").mkdir(parents=True)
    (tmp_path / "sys/fs/cgroup/unified/cgroup.controllers").write_text("memory hugetlb\n")
    mounts = parse_mountinfo(mountinfo_text("hybrid-host"))
    assert controller_versions(mounts, tmp_path)["memory"] == "v1"
    assert controller_versions(mounts, tmp_path / "nowhere")["memory"] == "v1"
    assert "hugetlb" not in controller_versions(mounts, tmp_path / "nowhere")


class FakeClock:
    """A clock that only moves when slept on, plus a fixed cost per reading."""

    def __init__(self, read_cost: float = 0.0) -> None:
        self.now = 100.0
        self.read_cost = read_cost
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        self.now += self.read_cost / 2
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize("name, pid", [("limited-v1", 8149), ("limited-v2", 5120)])
def test_sample_usage_takes_a_sample_per_tick(name: str, pid: int):
    proc, root = tree(name)
    dirs = resolve_cgroup_dirs(pid, proc=proc, root=root)
    clock, seen = FakeClock(), []
    samples = sample_usage(dirs, seconds=1.0, interval=0.1, on_sample=seen.append, clock=clock, sleep=clock.sleep)
    assert len(samples) == 11 and seen == samples
    assert [s.seconds for s in samples] == [round(i * 0.1, 3) for i in range(11)]
    assert samples[0] == UsageSample(0.0, 7872512, 45819)
    assert cpu_rates(samples) == [(s.seconds, 0.0) for s in samples[1:]]
    assert average_cpus(samples) == 0.0


def test_sample_usage_keeps_to_schedule_when_reads_are_slow():
    proc, root = tree("limited-v2")
    dirs = resolve_cgroup_dirs(5120, proc=proc, root=root)
    clock = FakeClock(read_cost=0.03)
    samples = sample_usage(dirs, seconds=0.5, interval=0.1, clock=clock, sleep=clock.sleep)
    assert len(samples) == 6 and all(s < 0.1 for s in clock.sleeps)
    assert samples[-1].seconds == pytest.approx(0.5, abs=0.05)
    with pytest.raises(ValueError):
        sample_usage(dirs, interval=0)


def test_sample_usage_of_a_vanished_cgroup_gives_empty_readings(tmp_path: Path):
    clock = FakeClock()
    gone = CgroupDirs("v2", str(tmp_path / "gone"))
    samples = sample_usage(gone, seconds=0.2, interval=0.1, clock=clock, sleep=clock.sleep)
    assert [(s.memory_bytes, s.cpu_usage_usec) for s in samples] == [(None, None)] * 3
    assert cpu_rates(samples) == [] and average_cpus(samples) is None


def test_cpu_rates_and_average():
    samples = [UsageSample(0.0, 1, 0), UsageSample(0.1, 1, 50_000), UsageSample(0.2, None, None),
               UsageSample(0.3, 1, 150_000), UsageSample(0.4, 1, 180_000), UsageSample(0.4, 1, 190_000),
               UsageSample(0.5, 1, 100)]
    assert cpu_rates(samples) == [(0.1, pytest.approx(0.5)), (0.4, pytest.approx(0.3))]
    assert average_cpus(samples[:5]) == pytest.approx(0.45)
    assert average_cpus(samples[:1]) is None and average_cpus([]) is None
    assert average_cpus([UsageSample(1.0, 1, 5), UsageSample(1.0, 1, 9)]) is None
