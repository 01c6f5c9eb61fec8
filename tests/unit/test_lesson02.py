"""Lesson 02's checks, graded against fake /proc trees (and, for the UTS exercise, the real kernel as root)."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from containerlab.course.grading import NOT_ANSWERED
from containerlab.course.lesson02 import (
    INITIAL_INODES,
    check_net_and_uts,
    check_new_uts_hostname,
    check_pid_host_shares,
    initial_namespaces,
    normalise_types,
)
from containerlab.kernel.namespaces import NAMESPACE_TYPES, read_namespaces

HOST = {"pid": 4026531836, "net": 4026531833, "ipc": 4026531839, "mnt": 4026531832,
        "uts": 4026531838, "user": 4026531837, "cgroup": 4026531835, "time": 4026531834}
WEB = {**HOST, "pid": 900, "net": 901, "ipc": 902, "mnt": 903, "uts": 904}


def make_proc(root: Path, pid: str, inodes: dict[str, int]) -> None:
    ns_dir = root / pid / "ns"
    ns_dir.mkdir(parents=True)
    for ns_type, inode in inodes.items():
        os.symlink(f"{ns_type}:[{inode}]", ns_dir / ns_type)


@pytest.fixture
def proc(tmp_path: Path) -> Path:
    """self = the host; 10 = web; 20 = --pid=host; 30 = web's net + host's uts; 40 = also host's ipc;
    50 = unreadable; 60 = on cgroup v2 (own cgroup namespace) with --pid=host."""
    make_proc(tmp_path, "self", HOST)
    make_proc(tmp_path, "10", WEB)
    make_proc(tmp_path, "20", {**HOST, "net": 201, "ipc": 202, "mnt": 203, "uts": 204})
    make_proc(tmp_path, "30", {**HOST, "pid": 301, "net": 901, "ipc": 302, "mnt": 303})
    make_proc(tmp_path, "40", {**HOST, "pid": 401, "net": 901, "mnt": 403})
    (tmp_path / "50" / "ns").mkdir(parents=True)
    make_proc(tmp_path, "60", {**HOST, "net": 601, "ipc": 602, "mnt": 603, "uts": 604, "cgroup": 605})
    return tmp_path


def box(pid: int) -> SimpleNamespace:
    return SimpleNamespace(pid=pid)


def test_initial_namespaces_use_the_kernels_fixed_numbers():
    assert {t: INITIAL_INODES[t] for t in HOST if t not in ("net", "mnt")} == \
        {t: v for t, v in HOST.items() if t not in ("net", "mnt")}
    assert initial_namespaces()["net"] is None and initial_namespaces()["mnt"] is None


def test_normalise_types_accepts_sets_strings_and_aliases():
    assert normalise_types({"PID", " user ", "--time"}) == {"pid", "user", "time"}
    assert normalise_types("pid, network mount") == {"pid", "net", "mnt"}


def test_pid_host_unanswered_and_bad_answers(proc: Path):
    assert check_pid_host_shares(box(20), None, proc).message == NOT_ANSWERED
    wrong_type = check_pid_host_shares(box(20), {"pid", "disk"}, proc)
    assert not wrong_type and "disk" in wrong_type.message and wrong_type.hint
    assert not check_pid_host_shares(box(20), 42, proc)


def test_pid_host_graded_against_the_kernel(proc: Path):
    right = check_pid_host_shares(box(20), {"pid", "user", "cgroup", "time"}, proc)
    assert right and "pid, user, cgroup, time" in right.message
    close = check_pid_host_shares(box(20), {"pid", "net", "user", "time"}, proc)
    assert not close and "net is its own" in close.message and "cgroup is shared too" in close.message
    on_v2 = check_pid_host_shares(box(60), "pid user time", proc)
    assert on_v2


def test_pid_host_cannot_grade_what_it_cannot_read(proc: Path):
    unreadable = check_pid_host_shares(box(50), {"pid"}, proc)
    assert not unreadable and "needs root" in unreadable.message
    stopped = check_pid_host_shares(box(0), {"pid"}, proc)
    assert not stopped and "not running" in stopped.message
    gone = check_pid_host_shares(box(77), {"pid"}, proc)
    assert not gone and "gone" in gone.message


def test_net_and_uts(proc: Path):
    web = box(10)
    assert check_net_and_uts(None, web, proc).message == NOT_ANSWERED
    assert check_net_and_uts(box(30), web, proc)
    leaky = check_net_and_uts(box(40), web, proc)
    assert not leaky and "ipc" in leaky.message
    default = check_net_and_uts(web, web, proc)
    assert not default and "UTS namespace is not the host's" in default.message
    wrong_net = check_net_and_uts(box(20), web, proc)
    assert not wrong_net and "not web's" in wrong_net.message
    assert not check_net_and_uts("mine", web, proc)
    assert "web container is not running" in check_net_and_uts(box(30), box(0), proc).message


def test_uts_command_that_is_not_unshare_is_never_run():
    before = socket.gethostname()
    for command in (["hostname", "exercise-02"], "sh -c 'hostname exercise-02'", ["unshare", "--pid", "hostname"]):
        refused = check_new_uts_hostname(command)
        assert not refused and "Not run" in refused.message
    assert socket.gethostname() == before
    assert check_new_uts_hostname(None).message == NOT_ANSWERED


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="unshare --uts needs root")
def test_uts_command_graded_for_real():
    before = socket.gethostname()
    assert check_new_uts_hostname(["unshare", "--uts", "sh", "-c", "hostname exercise-02 && hostname"])
    assert check_new_uts_hostname("unshare -u sh -c 'hostname exercise-02; hostname'")
    silent = check_new_uts_hostname(["unshare", "--uts", "hostname", "exercise-02"])
    assert not silent and "did not print" in silent.message
    failing = check_new_uts_hostname(["unshare", "--uts", "false"])
    assert not failing and "exit 1" in failing.message
    assert socket.gethostname() == before


def test_checks_read_the_real_kernel_for_this_process():
    mine = read_namespaces("self")
    if None in mine.inodes.values():
        pytest.skip("this kernel lacks a namespace type")
    assert check_pid_host_shares(SimpleNamespace(pid=os.getpid()), [t for t in NAMESPACE_TYPES if mine[t]])
