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
