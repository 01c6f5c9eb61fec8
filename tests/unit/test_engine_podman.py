"""Podman's compat API as connect() sees it (recorded from Podman 4.3 run rootless by an ordinary user)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from containerlab.engine import connect as connect_module
from containerlab.engine.connect import _can_create, _describe, _has_subordinate_ids, _rootless_podman_socket

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "engine"


class Recorded:
    def __init__(self, name: str) -> None:
        self._version = json.loads((FIXTURES / f"{name}-version.json").read_text())
        self._info = json.loads((FIXTURES / f"{name}-info.json").read_text())

    def version(self):
        return self._version

    def info(self):
        return self._info


def test_rootless_podman_is_recognised_from_its_info_even_outside_a_login_session():
    engine = _describe(Recorded("podman-4.3-rootless"), "unix:///tmp/podman-run-1001/podman/podman.sock")
    assert engine.is_podman and engine.rootless
    assert engine.summary() == "podman 4.3.1 (API 1.41, rootless, cgroup v1, storage vfs)"


def test_rootful_podman_is_not_rootless():
    recorded = Recorded("podman-4.3-rootless")
    recorded._info = {**recorded._info, "Rootless": False}
    engine = _describe(recorded, "unix:///run/podman/podman.sock")
    assert engine.is_podman and not engine.rootless


def test_rootless_socket_without_a_login_session_falls_back_like_podman(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(os, "getuid", lambda: 987654)
    monkeypatch.setattr(connect_module.tempfile, "gettempdir", lambda: str(tmp_path))
    assert _rootless_podman_socket() == f"{tmp_path}/podman-run-987654/podman/podman.sock"
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/987654")
    assert _rootless_podman_socket() == "/run/user/987654/podman/podman.sock"


def test_a_missing_runtime_dir_can_be_created_when_its_parent_is_writable(tmp_path):
    assert _can_create(tmp_path / "podman-run-1" / "podman")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        assert _can_create(locked / "x") is (os.geteuid() == 0)
    finally:
        locked.chmod(0o700)


def test_rootless_podman_is_only_started_for_a_user_with_subordinate_ids(tmp_path):
    subuid = tmp_path / "subuid"
    subuid.write_text(f"someone:100000:65536\n{os.getuid()}:200000:65536\n")
    assert _has_subordinate_ids(str(subuid))
    subuid.write_text("someone:100000:65536\n")
    assert not _has_subordinate_ids(str(subuid))
    assert not _has_subordinate_ids(str(tmp_path / "missing"))


class _Response:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.reason = "error"
        self.url = "http+docker://localhost/v1.41/containers/x"


def _api_error(status: int, explanation: str):
    from docker.errors import APIError

    return APIError("error", response=_Response(status), explanation=explanation)


def test_a_name_conflict_is_recognised_from_docker_and_from_podman():
    from containerlab.engine.lab import _is_name_conflict

    assert _is_name_conflict(_api_error(409, 'Conflict. The container name "/x" is already in use'))
    assert _is_name_conflict(_api_error(500, 'container create: creating container storage: the container name '
                                             '"clab-x-web" is already in use by 0123. You have to remove that container'))
    assert not _is_name_conflict(_api_error(500, "no space left on device"))


def test_podmans_dependent_containers_are_read_from_its_error():
    from containerlab.engine.cleanup import _dependents

    first, second = "a" * 64, "b" * 64
    err = _api_error(500, f"container {'c' * 64} has dependent containers which must be removed before it: "
                          f"{first},{second}: container already exists")
    assert _dependents(err) == [first, second]
    assert _dependents(_api_error(500, "something else")) == []
