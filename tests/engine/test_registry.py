"""The course's registry for real: start, stop, a taken port, the CLI, and a push / pull round trip."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from containerlab.engine import registry as registry_module
from containerlab.engine.builds import build, lesson_tag
from containerlab.engine.lab import Lab
from containerlab.engine.registry import PortInUseError, Registry, pull, push, running_registries
from containerlab.errors import HostToolMissingError
from containerlab.images import sha256_digest

OWNER = os.environ.get("CONTAINERLAB_OWNER", "pytest")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def registry_binary():
    try:
        return registry_module.find_registry_binary()
    except HostToolMissingError as err:
        if os.environ.get("CONTAINERLAB_REQUIRE_ENGINE") == "1":
            pytest.fail(f"docker-registry is not installed: {err.message}")
        pytest.skip(err.message)


def _pid_alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def test_start_answers_on_loopback_and_stop_removes_everything(registry_binary):
    registry = Registry(owner=OWNER, lesson="test-registry")
    registry.start()
    try:
        pid = running_registries(OWNER, "test-registry")[0].pid
        assert registry.running and _pid_alive(pid)
        assert registry.address.startswith("127.0.0.1:") and registry.client().ping() == "registry/2.0"
        assert registry.storage.is_dir() and registry.directory.name == f"containerlab-registry-{OWNER}-{registry.port}"
        listening = Path("/proc/net/tcp").read_text()
        assert f"0100007F:{registry.port:04X}" in listening  # 127.0.0.1 only
        assert f"00000000:{registry.port:04X}" not in listening
    finally:
        directory = registry.directory
        assert registry.stop() is True
    assert not _pid_alive(pid) or b"registry" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    assert not directory.exists() and not registry.running
    assert registry.stop() is False
    assert running_registries(OWNER, "test-registry") == []


def test_context_manager_stops_even_when_the_block_fails(registry_binary):
    with pytest.raises(RuntimeError), Registry(owner=OWNER, lesson="test-registry") as registry:
        directory = registry.directory
        raise RuntimeError("boom")
    assert not directory.exists() and running_registries(OWNER, "test-registry") == []


def test_a_taken_port_is_a_clear_error(registry_binary):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUseError) as caught:
            Registry(port, owner=OWNER, lesson="test-registry").start()
    assert f"Port {port}" in caught.value.message and "another program" in caught.value.message
    assert "leave the port unset" in caught.value.hint
    assert running_registries(OWNER, "test-registry") == []


def test_default_ports_differ_per_owner_and_restart_replaces_the_old_one(registry_binary):
    first = Registry(owner=f"{OWNER}-a", lesson="test-registry").start()
    second = Registry(owner=f"{OWNER}-b", lesson="test-registry").start()
    try:
        assert first.port != second.port
        (old,) = running_registries(f"{OWNER}-a", "test-registry")
        again = Registry(owner=f"{OWNER}-a", lesson="test-registry").start()
        (new,) = running_registries(f"{OWNER}-a", "test-registry")
        assert again.port == old.port and new.pid != old.pid and not old.alive and new.alive
        again.stop()
    finally:
        first.stop()
        second.stop()
    assert running_registries(f"{OWNER}-a") == running_registries(f"{OWNER}-b") == []


def test_a_port_taken_between_the_check_and_the_bind_is_picked_again(registry_binary, monkeypatch):
    """Two learners' registries start in the same moment: the second saw the port free, then lost the bind.
    Another learner's registry answering on that port must not be taken for ours; a free port is picked again."""
    other = Registry(owner=f"{OWNER}-first", lesson="test-registry").start()
    try:
        real_port_free = registry_module._port_free
        checks = []

        def free_at_first_look(host: str, port: int) -> bool:
            checks.append(port)
            return True if len(checks) == 1 else real_port_free(host, port)

        monkeypatch.setattr(registry_module, "preferred_port", lambda owner: other.port)
        monkeypatch.setattr(registry_module, "_port_free", free_at_first_look)
        late = Registry(owner=f"{OWNER}-late", lesson="test-registry").start()
        try:
            assert checks[0] == other.port and late.port != other.port
            assert registry_module._listens_on(late._process.pid, late.port)
            assert not registry_module._listens_on(late._process.pid, other.port)
            assert late.running and other.running
        finally:
            late.stop()
    finally:
        other.stop()


def test_missing_program_says_how_to_install(monkeypatch):
    monkeypatch.setattr(registry_module, "_BINARIES", ("no-such-registry-program",))
    with pytest.raises(HostToolMissingError) as caught:
        Registry(owner=OWNER).start()
    assert "apt-get install -y docker-registry" in caught.value.hint


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "containerlab", "registry", *args, "--owner", f"{OWNER}-cli"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_cli_start_status_stop(registry_binary):
    started = _cli("start")
    try:
        assert started.returncode == 0, started.stderr
        assert "Registry running at 127.0.0.1:" in started.stdout
        status = _cli("status")
        assert status.returncode == 0 and "running" in status.stdout and f"owner={OWNER}-cli" in status.stdout
        (state,) = running_registries(f"{OWNER}-cli")
        taken = subprocess.run([sys.executable, "-m", "containerlab", "registry", "start", "--port", str(state.port),
                                "--owner", f"{OWNER}-other"], capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert taken.returncode == 1 and "already in use" in taken.stderr and "hint:" in taken.stderr
    finally:
        stopped = _cli("stop")
    assert stopped.returncode == 0 and "Stopped 1 registry" in stopped.stdout
    assert _cli("status").returncode == 1 and running_registries(f"{OWNER}-cli") == []


DOCKERFILE = b'FROM containerlab/busybox\nCOPY message.txt /message.txt\nCMD ["cat", "/message.txt"]\n'


def test_push_pull_round_trip_with_verified_digests(lab_images, registry_binary):
    with Lab("test-registry", engine=lab_images) as lab, Registry(owner=lab.owner, lesson=lab.lesson) as registry:
        api = lab.engine.client.api
        first = lesson_tag(lab, "hello", "v1")
        build(lab, first, {"Dockerfile": DOCKERFILE, "message.txt": b"one\n"}, progress=None)
        remote = registry.reference("course/hello", "latest")
        api.tag(first, remote)
        lines: list[str] = []
        pushed = push(lab.engine, remote, progress=lines.append)
        assert pushed.counts() == {"Pushed": 5} and lines[-1].endswith("5/5 layers")
        client = registry.client()
        assert client.catalog() == ["course/hello"] and client.tags("course/hello") == ["latest"]
        walk = client.walk("course/hello", "latest")
        inspect = api.inspect_image(first)
        assert walk.verified and walk.manifest.digest == pushed.digest == sha256_digest(walk.manifest.data)
        assert walk.image_id == inspect["Id"] and list(walk.config.diff_ids) == inspect["RootFS"]["Layers"]
        assert f"{registry.reference('course/hello')}@{pushed.digest}" in api.inspect_image(remote)["RepoDigests"]
        assert all(layer.digest != layer.diff_id for layer in walk.layers)

        second = lesson_tag(lab, "hello", "v2")
        build(lab, second, {"Dockerfile": DOCKERFILE, "message.txt": b"two\n"}, progress=None)
        api.tag(second, remote)
        moved = push(lab.engine, remote, progress=None)
        assert moved.digest != pushed.digest and client.manifest_digest("course/hello", "latest") == moved.digest
        assert moved.counts() == {"Layer already exists": 4, "Pushed": 1}

        api.remove_image(inspect["Id"], force=True)
        pinned = f"{registry.reference('course/hello')}@{pushed.digest}"
        fetched = pull(lab.engine, pinned, progress=None, layers=5)
        assert fetched.counts() == {"Already exists": 4, "Pull complete": 1}
        assert lab.run(pinned).output == "one\n" and lab.run(remote).output == "two\n"
        storage = registry.storage
    assert not storage.exists()
    assert lab_images.client.images.list(filters={"label": f"containerlab.lesson={lab.lesson}"}) == []
