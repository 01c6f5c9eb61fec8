"""Lesson 03's graders and file table, on recorded v1 and v2 cgroup trees."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from containerlab.course.grading import NOT_ANSWERED
from containerlab.course.lesson03 import (
    OOM_EXIT_CODE,
    check_oom_exit_code,
    check_quarter_cpu,
    check_v2_file,
    files_table,
)
from containerlab.kernel.cgroups import CGROUP_FILES

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kernel"
QUARTER = {"limited-v1": 8149, "limited-v2": 5120}  # containers run with --cpus 0.25
HALF = ("hybrid-host", 4293)  # a container run with --cpus 0.5


def graded(tree: str, pid: int, answer):
    container = SimpleNamespace(pid=pid, short_name="quarter")
    return check_quarter_cpu(container, answer, proc=str(FIXTURES / tree / "proc"), root=str(FIXTURES / tree))


@pytest.mark.parametrize("check", [check_oom_exit_code, check_v2_file, lambda a: check_quarter_cpu(None, a)])
def test_unanswered_gives_the_not_answered_result(check):
    result = check(None)
    assert not result and result.message == NOT_ANSWERED and result.hint


def test_oom_exit_code():
    assert OOM_EXIT_CODE == 137
    assert check_oom_exit_code(137) and check_oom_exit_code("137\n")
    assert "signal" in check_oom_exit_code(9).message
    assert not check_oom_exit_code(1) and not check_oom_exit_code(0)
    assert "not an exit code" in check_oom_exit_code("killed").message


def test_v2_file():
    assert check_v2_file("memory.max") and check_v2_file("/sys/fs/cgroup/x/memory.max")
    assert "v1 name" in check_v2_file("memory.limit_in_bytes").message
    assert not check_v2_file("memory.current")


@pytest.mark.parametrize("tree", sorted(QUARTER))
def test_quarter_cpu_graded_against_the_cgroup_files(tree: str):
    pid = QUARTER[tree]
    assert graded(tree, pid, (25000, 100000))
    assert graded(tree, pid, [25000, 100000])
    assert "wrong way round" in graded(tree, pid, (100000, 25000)).message
    assert "not what the container's cgroup files say" in graded(tree, pid, (250, 1000)).message
    assert "pair" in graded(tree, pid, 0.25).message


def test_quarter_cpu_rejects_other_containers():
    tree, pid = HALF
    assert "0.5 CPU, not 0.25" in graded(tree, pid, (50000, 100000)).message
    unlimited = graded("v2-host", 3377, (25000, 100000))
    assert not unlimited and "no CPU quota" in unlimited.message
    assert "not running" in graded("limited-v2", 0, (25000, 100000)).message
    assert "not visible" in graded("limited-v2", 99999, (25000, 100000)).message
    assert "no container" in check_quarter_cpu(None, (25000, 100000)).message


@pytest.mark.parametrize("version, marked", [("v1", "v1"), ("hybrid", "v1"), ("v2", "v2"), ("none", None)])
def test_files_table_marks_the_hosts_column(version: str, marked: str | None):
    table = files_table(version)
    lines = table.splitlines()
    assert len(lines) == 2 + len(CGROUP_FILES)
    assert set(lines[1]) == {"-", " "}
    header = lines[0]
    if marked:
        assert f"cgroup {marked} file (this host)" in header and header.count("(this host)") == 1
    else:
        assert "(this host)" not in header
    assert any(line.split()[:3] == ["memory", "limit", "memory.limit_in_bytes"] for line in lines)
    assert all(files["v2"] in table and files["v1"] in table for files in CGROUP_FILES.values())
    assert files_table(version) == table


def test_describe_limits_limited_and_unlimited():
    from containerlab.course.lesson03 import describe_limits
    from containerlab.kernel.cgroups import CgroupStats, read_pid_cgroup_stats

    limited = describe_limits(read_pid_cgroup_stats(8149, proc=FIXTURES / "limited-v1" / "proc",
                                                    root=FIXTURES / "limited-v1"))
    assert limited == ["memory: limit 64.0 MiB, 7.5 MiB in use",
                       "CPU: limit 0.25 CPU, 0.0 s of CPU time used so far",
                       "processes: limit 30, 30 running"]
    assert describe_limits(CgroupStats()) == ["memory: no limit, use unknown", "CPU: no limit, use unknown",
                                              "processes: no limit, use unknown"]
