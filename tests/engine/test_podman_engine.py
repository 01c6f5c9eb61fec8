"""The course's engine layer on rootful Podman through its Docker-compatible API (CONTAINERLAB_ENGINE=podman)."""

from __future__ import annotations

import io
import os
import tarfile
import time

import pytest

from containerlab.engine.connect import connect
from containerlab.engine.images import BASE_IMAGES, BUSYBOX_IMAGE, image_status, setup_images
from containerlab.engine.lab import Lab
from containerlab.engine.runtimes import podman_ready
from containerlab.kernel.namespaces import read_namespaces

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not podman_ready(), reason="needs root and podman")


@pytest.fixture(scope="module")
def podman_engine():
    saved = os.environ.get("CONTAINERLAB_ENGINE")
    os.environ["CONTAINERLAB_ENGINE"] = "podman"
    try:
        engine = connect(refresh=True)
    finally:
        if saved is None:
            os.environ.pop("CONTAINERLAB_ENGINE")
        else:
            os.environ["CONTAINERLAB_ENGINE"] = saved
    setup_images(engine, progress=lambda line: None)
    return engine


@pytest.fixture
def lab(podman_engine):
    session = Lab("test-podman-engine", engine=podman_engine)
    yield session
    session.cleanup()


def test_rootful_podman_answers_the_docker_api(podman_engine):
    assert podman_engine.is_podman and not podman_engine.rootless
    assert all(image_status(podman_engine, name).present for name in BASE_IMAGES)


def test_an_import_keeps_the_tag_given_with_the_repository(podman_engine):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = 6
        tar.addfile(info, io.BytesIO(b"hello\n"))
    api = podman_engine.client.api
    api.import_image_from_data(buffer.getvalue(), repository="containerlab/test-import:rootfs")
    try:
        assert image_status(podman_engine, "containerlab/test-import:rootfs").present
    finally:
        api.remove_image("containerlab/test-import:rootfs", force=True)


def test_lab_runs_starts_and_cleans_up_on_podman(lab):
    assert lab.run(BUSYBOX_IMAGE, ["echo", "hello"]).output == "hello\n"
    box = lab.start(BUSYBOX_IMAGE, ["sleep", "60"], name="box")
    assert lab.exec(box, ["cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]).output.strip() == str(256 << 20)
    assert read_namespaces(box.pid)["pid"] != read_namespaces("self")["pid"]
    assert lab.cleanup().containers == 1
    assert lab.containers() == []


def test_a_container_others_share_a_namespace_with_is_replaced_and_removed(lab):
    web = lab.start(BUSYBOX_IMAGE, ["sleep", "60"], name="web")
    lab.start(BUSYBOX_IMAGE, ["sleep", "60"], name="joined", network_mode=f"container:{web.id}")
    again = lab.start(BUSYBOX_IMAGE, ["sleep", "60"], name="web")  # Podman answers 500 "already in use"
    assert again.id != web.id
    assert lab.cleanup().containers >= 1
    assert lab.containers() == []


# ---------------------------------------------------------------- Compose, health checks and a registry on Podman

ORDERED_APP = """\
name: ordered
services:
  store:
    image: containerlab/busybox
    command: ["sh", "-c", "sleep 2; touch /tmp/ready; exec sleep 600"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
      retries: 30
  web:
    image: containerlab/busybox
    command: ["sleep", "600"]
    networks: [inside]
    depends_on:
      store:
        condition: service_healthy
  peer:
    image: containerlab/busybox
    command: ["sh", "-c", "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www"]
    networks: [inside]
networks:
  inside:
    internal: true
"""


def _started_at(engine, name: str) -> str:
    return engine.client.api.inspect_container(name)["State"]["StartedAt"]


def test_compose_on_podman_waits_for_health_and_keeps_checking(lab, tmp_path):
    """podman-compose with Podman 4.3 ignores `service_healthy` and `--wait`, and without systemd nothing runs
    health checks: the driver starts services in order, runs the checks, and a timer keeps running them."""
    from containerlab.engine.compose import ComposeApp, quiet
    from containerlab.engine.health import needs_health_timer

    (tmp_path / "compose.yaml").write_text(ORDERED_APP)
    app = ComposeApp(lab, tmp_path / "compose.yaml", progress=quiet)
    assert app.tool.is_podman
    try:
        containers = {c.short_name: c for c in app.up(timeout=60)}
        assert containers["store-1"].health == "healthy" and containers["web-1"].running
        assert app.events.index(("store-1", "Healthy")) < app.events.index(("web-1", "Started"))
        store_ready = lab.engine.client.api.inspect_container(containers["store-1"].name)["State"]["Health"]["Log"]
        assert any(entry["ExitCode"] == 0 for entry in store_ready)
        assert _started_at(lab.engine, containers["web-1"].name) > _started_at(lab.engine, containers["store-1"].name)
        # an internal network: the two containers on it reach each other by name (Docker's FORWARD DROP aside)
        fetched = app.exec("web", "for i in 1 2 3 4 5 6 7 8 9 10; do printf 'GET / HTTP/1.0\\r\\n\\r\\n' "
                                  "| nc -w 2 peer 8080 && break; sleep 0.5; done")
        assert fetched.output.splitlines()[-1] == "hello", fetched.output
        if needs_health_timer(lab.engine):
            app.exec("store", "rm /tmp/ready")  # the check now fails: only checks that really run can count it

            def failing_streak() -> int:
                state = lab.engine.client.api.inspect_container(containers["store-1"].name)["State"]
                return int(state["Health"]["FailingStreak"])

            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and failing_streak() < 3:
                time.sleep(0.5)
            assert failing_streak() >= 3 and app._health_timer.running
    finally:
        app.down(volumes=True)
    assert app.ps() == []
    assert app._health_timer is None or not app._health_timer.running


def test_push_and_pull_on_podman_report_layers_and_the_registry_digest(lab):
    from containerlab.engine.registry import Registry, pull, push, tag

    with Registry(lesson=lab.lesson, owner=lab.owner) as registry:
        remote = registry.reference("test/podman", "v1")
        tag(lab.engine, BUSYBOX_IMAGE, remote)
        pushed = push(lab.engine, remote, progress=None)
        layers = lab.engine.client.api.inspect_image(BUSYBOX_IMAGE)["RootFS"]["Layers"]
        assert len(pushed.layers) == len(layers) and pushed.digest.startswith("sha256:")
        assert registry.client().manifest_digest("test/podman", "v1") == pushed.digest
        lab.engine.client.api.remove_image(remote)
        pulled = pull(lab.engine, f"{registry.reference('test/podman')}@{pushed.digest}", progress=None)
        assert pulled.digest == pushed.digest and len(pulled.layers) == len(layers)
