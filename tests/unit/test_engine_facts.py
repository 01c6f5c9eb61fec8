"""What connect() reports about an engine, from recorded `version` and `info` answers."""

import hashlib
import json
from pathlib import Path

import pytest

from containerlab.engine.connect import _describe, candidate_sockets, current_context
from containerlab.errors import EngineTooOldError, LabError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "engine"


class Recorded:
    """A client that answers version() and info() from recorded JSON."""

    def __init__(self, version, info):
        self._version, self._info = version, info

    def version(self):
        return self._version

    def info(self):
        return self._info


def recorded(name):
    return (json.loads((FIXTURES / f"{name}-version.json").read_text()),
            json.loads((FIXTURES / f"{name}-info.json").read_text()))


def test_docker_facts():
    version, info = recorded("docker-20.10")
    engine = _describe(Recorded(version, info), "unix:///var/run/docker.sock")
    assert (engine.name, engine.version, engine.api_version) == ("docker", "20.10.24+dfsg1", "1.41")
    assert engine.rootless is False and engine.cgroup_version == "1" and engine.storage_driver == "overlay2"
    assert engine.summary() == "docker 20.10.24+dfsg1 (API 1.41, rootful, cgroup v1, storage overlay2)"


def test_podman_rootless_is_recognised():
    version, info = recorded("docker-20.10")
    version = {**version, "Components": [{"Name": "Podman Engine", "Version": "4.3.1"}], "Version": "4.3.1"}
    info = {**info, "SecurityOptions": ["name=seccomp", "name=rootless"], "CgroupVersion": "2"}
    engine = _describe(Recorded(version, info), "unix:///run/user/1000/podman/podman.sock")
    assert engine.is_podman and engine.rootless and engine.cgroup_version == "2"


def test_too_old_engine_is_refused_with_a_hint():
    version, info = recorded("docker-20.10")
    with pytest.raises(EngineTooOldError, match="API 1.30") as err:
        _describe(Recorded({**version, "ApiVersion": "1.30"}, info), "unix:///x")
    assert "Upgrade Docker" in err.value.hint


def test_docker_host_means_that_engine_only(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
    assert candidate_sockets(None) == [("docker", "tcp://127.0.0.1:2375")]
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/user/1000/podman/podman.sock")
    assert candidate_sockets(None) == [("podman", "unix:///run/user/1000/podman/podman.sock")]


def test_without_docker_host_the_defaults_follow_the_choice(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/1000")
    urls = [url for _, url in candidate_sockets(None)]
    assert urls[0] == "unix:///var/run/docker.sock" and "unix:///run/user/1000/podman/podman.sock" in urls
    assert all("docker.sock" not in url for _, url in candidate_sockets("podman"))
    assert all("podman" not in url for _, url in candidate_sockets("docker"))


def _context(config: Path, name: str, host: str) -> None:
    """A docker CLI context as `docker context create NAME --docker host=HOST` stores it."""
    meta = config / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({"Name": name, "Metadata": {},
                                                "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}}}))


def test_the_current_docker_context_names_the_engine(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    _context(tmp_path, "colima", "unix:///Users/me/.colima/default/docker.sock")
    (tmp_path / "config.json").write_text(json.dumps({"auths": {}, "currentContext": "colima"}))
    assert current_context() == ("colima", "unix:///Users/me/.colima/default/docker.sock")
    assert candidate_sockets(None) == [("docker", "unix:///Users/me/.colima/default/docker.sock")]
    monkeypatch.setenv("DOCKER_CONTEXT", "default")  # the variable wins over config.json, as in the CLI
    assert candidate_sockets("docker")[0] == ("docker", "unix:///var/run/docker.sock")


def test_a_context_that_cannot_be_read_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setenv("DOCKER_CONTEXT", "gone")
    with pytest.raises(LabError, match="'gone' is selected") as caught:
        candidate_sockets(None)
    assert "docker context use default" in caught.value.hint


def test_unknown_engine_choice(monkeypatch):
    from containerlab.engine.connect import connect

    monkeypatch.setenv("CONTAINERLAB_ENGINE", "lxc")
    with pytest.raises(LabError, match="not an engine the course knows"):
        connect(refresh=True)
