"""The course's engine layer on rootful Podman through its Docker-compatible API (CONTAINERLAB_ENGINE=podman)."""

from __future__ import annotations

import io
import os
import tarfile

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
