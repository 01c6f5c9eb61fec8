"""Lessons 07 and 10: the exercise checks pass right answers (the notebooks' solutions), explain wrong ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from containerlab.course.grading import NOT_ANSWERED
from containerlab.course.lesson07 import check_exercise_spec, check_low_level, check_rootless_root
from containerlab.course.lesson10 import check_tiny_pids_limit, check_tiny_shares
from containerlab.kernel.namespaces import Namespaces, compare_namespaces
from containerlab.runtime.spec import edit_spec, load_spec, parse_id_map

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runtime"
UID_MAP = (FIXTURES / "rootless-uid_map.txt").read_text()


@pytest.fixture
def template() -> dict:
    return load_spec((FIXTURES / "runc-1.1-spec.json").read_text())


@pytest.mark.parametrize("check", [check_low_level, check_exercise_spec,
                                   lambda answer: check_tiny_pids_limit(answer, "/nowhere", "/tmp"),
                                   lambda answer: check_rootless_root(answer, UID_MAP)])
def test_unanswered(check):
    result = check(None)
    assert not result and result.message == NOT_ANSWERED and result.hint


def test_low_level():
    assert check_low_level({"runc", "crun"})
    assert check_low_level(["RunC", "crun"])
    talk = check_low_level({"runc", "crun", "containerd"})
    assert not talk and "containerd is high-level by the rule" in talk.message and "ctr images pull" in talk.message
    wrong = check_low_level({"runc", "podman"})
    assert not wrong and "podman is high-level" in wrong.message and "crun is low-level too" in wrong.message
    assert "not among the choices" in check_low_level({"kubernetes"}).message


def test_exercise_spec_solution_passes(template):
    assert check_exercise_spec(edit_spec(template, args=["hostname"], hostname="exercise",
                                         namespaces=["pid", "ipc", "uts", "mount"]))


@pytest.mark.parametrize("changes, words", [
    ({"args": ["hostname"], "hostname": "other"}, "not 'exercise'"),
    ({"args": ["hostname"], "hostname": "exercise"}, "network namespace"),
    ({"args": ["sh"], "hostname": "exercise", "namespaces": ["pid", "uts", "mnt"]}, "does not print"),
    ({"args": ["hostname"], "hostname": "exercise", "namespaces": ["uts"]}, "Keep the PID and mount"),
])
def test_exercise_spec_wrong(template, changes, words):
    result = check_exercise_spec(edit_spec(template, **changes))
    assert not result and words in result.message


def test_exercise_spec_without_uts(template):
    spec = edit_spec(template, args=["hostname"], namespaces=["pid", "mnt"])
    spec["hostname"] = "exercise"
    assert "UTS namespace" in check_exercise_spec(spec).message
    assert "not a runtime spec" in check_exercise_spec({"a": 1}).message


def test_rootless_root():
    assert check_rootless_root(parse_id_map(UID_MAP)[0].outside, UID_MAP)
    assert check_rootless_root("1001", UID_MAP)
    assert "0 is root inside" in check_rootless_root(0, UID_MAP).message
    assert not check_rootless_root(100000, UID_MAP)
    assert "did not run" in check_rootless_root(1001, None).message
    assert "not a uid" in check_rootless_root("me", UID_MAP).message


def test_pids_limit_refuses_before_making_anything(tmp_path):
    assert "not a function" in check_tiny_pids_limit(20, tmp_path, tmp_path).message
    assert "no root filesystem" in check_tiny_pids_limit(lambda group, limit: group, None, tmp_path).message
    assert "no root filesystem" in check_tiny_pids_limit(lambda group, limit: group, tmp_path, tmp_path).message


def _ns(**inodes: int) -> Namespaces:
    return Namespaces(pid=1, inodes=inodes)


def test_tiny_shares_reads_the_comparison():
    host = _ns(pid=1, net=2, ipc=3, mnt=4, uts=5, user=6, cgroup=7, time=8)
    tiny = _ns(pid=11, net=12, ipc=13, mnt=14, uts=15, user=6, cgroup=17, time=8)
    comparison = compare_namespaces({"host": host, "tiny": tiny})
    assert check_tiny_shares({"user", "time"}, comparison)
    assert not check_tiny_shares({"user"}, comparison)
    assert "users is not among the namespace types" in check_tiny_shares({"users"}, comparison).message
    assert "did not run" in check_tiny_shares({"user"}, None).message
