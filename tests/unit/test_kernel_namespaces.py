"""Namespaces from /proc/PID/ns: fixture directories of symlinks, and the real kernel."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from containerlab.errors import ParseError
from containerlab.kernel import NAMESPACE_TYPES, Namespaces, compare_namespaces, parse_ns_link, read_namespaces
from containerlab.kernel import namespaces as namespaces_module

HOST = {"pid": 4026531836, "net": 4026531833, "ipc": 4026531839, "mnt": 4026531832,
        "uts": 4026531838, "user": 4026531837, "cgroup": 4026531835, "time": 4026531834}


def make_proc(root: Path, pid: str, inodes: dict[str, int]) -> Path:
    """A fake /proc/PID/ns directory of symlinks like the kernel's."""
    ns_dir = root / pid / "ns"
    ns_dir.mkdir(parents=True)
    for ns_type, inode in inodes.items():
        os.symlink(f"{ns_type}:[{inode}]", ns_dir / ns_type)
    return root


@pytest.fixture
def proc(tmp_path: Path) -> Path:
    """Host (pid 1), a container (4242) that shares the user, cgroup and time namespaces, one with no time ns."""
    make_proc(tmp_path, "1", HOST)
    container = {**HOST, "pid": 4026532183, "net": 4026532184, "ipc": 4026532182,
                 "mnt": 4026532180, "uts": 4026532181}
    make_proc(tmp_path, "4242", container)
    sidecar = {k: v for k, v in container.items() if k not in ("pid", "time")}
    make_proc(tmp_path, "4343", sidecar)
    return tmp_path


def test_namespace_types_start_with_the_talks_five():
    assert NAMESPACE_TYPES[:5] == ("pid", "net", "ipc", "mnt", "uts")
    assert set(NAMESPACE_TYPES) == set(HOST)


def test_parse_ns_link():
    assert parse_ns_link("net:[4026531840]") == 4026531840
    assert parse_ns_link("pid_for_children:[7]\n") == 7


@pytest.mark.parametrize("bad", ["net:4026531840", "", "net:[abc]", "[4026531840]", "net:[1] extra"])
def test_parse_ns_link_rejects_malformed(bad: str):
    with pytest.raises(ParseError) as caught:
        parse_ns_link(bad)
    assert caught.value.hint


def test_read_namespaces_from_fixture(proc: Path):
    host = read_namespaces(1, proc=proc)
    assert host == Namespaces(pid=1, inodes=HOST)
    sidecar = read_namespaces("4343", proc=proc)
    assert sidecar["time"] is None and sidecar["pid"] is None
    assert sidecar["net"] == 4026532184


def test_unreadable_namespace_is_none(proc: Path, monkeypatch: pytest.MonkeyPatch):
    real_readlink = os.readlink

    def deny_net(path):
        if str(path).endswith("/net"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_readlink(path)

    monkeypatch.setattr(namespaces_module.os, "readlink", deny_net)
    namespaces = read_namespaces(1, proc=proc)
    assert namespaces["net"] is None and namespaces["pid"] == HOST["pid"]


def test_missing_process_raises_process_lookup_error(proc: Path):
    with pytest.raises(ProcessLookupError):
        read_namespaces(99999, proc=proc)


def test_compare_namespaces(proc: Path):
    comparison = compare_namespaces({name: read_namespaces(pid, proc=proc)
                                     for name, pid in [("host", 1), ("web", 4242), ("sidecar", 4343)]})
    assert comparison.shared("host", "web") == ["user", "cgroup", "time"]
    assert comparison.isolated("host", "web") == ["pid", "net", "ipc", "mnt", "uts"]
    assert comparison.shared("web", "sidecar") == ["net", "ipc", "mnt", "uts", "user", "cgroup"]
    assert comparison.isolated("web", "sidecar") == []
    assert comparison.groups("net") == [["host"], ["web", "sidecar"]]
    assert comparison.groups("time") == [["host", "web"]]
    assert str(comparison) == "\n".join([
        "namespace  host  web  sidecar",
        "pid        A     B    ?",
        "net        A     B    B",
        "ipc        A     B    B",
        "mnt        A     B    B",
        "uts        A     B    B",
        "user       A     A    A",
        "cgroup     A     A    A",
        "time       A     A    ?",
    ])


def test_real_kernel_namespaces():
    own = read_namespaces()
    for ns_type in ("pid", "net", "ipc", "mnt", "uts", "user"):
        assert own[ns_type] == os.stat(f"/proc/self/ns/{ns_type}").st_ino
    same = compare_namespaces({"self": own, "me": read_namespaces(os.getpid())})
    known = [t for t in NAMESPACE_TYPES if own[t] is not None]
    assert same.shared("self", "me") == known and same.isolated("self", "me") == []
