"""The same box image on rootful Podman: it starts (with the form Podman accepts here), its nested Docker engine
comes up, lessons 00, 02, 03 and 10 pass strict nbval inside it, and removing it with its volumes leaves no
container, volume or cgroup. The image is copied from Docker (`docker save | podman load`) and removed after."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from box_support import box_name, copy_course_in, leftovers, nbval_in_box

from containerlab.engine import box as boxes

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("podman") is None or os.geteuid() != 0,
                                 reason="the box on Podman needs rootful Podman (root and the podman CLI)")]

PODMAN_LESSONS = ["00-lab-check.ipynb", "02-namespaces.ipynb", "03-cgroups.ipynb",
                  "10-build-your-own-container.ipynb"]


def _image_id(cli: str, image: str) -> str:
    return subprocess.run([cli, "image", "inspect", "--format", "{{.Id}}", image], capture_output=True,
                          text=True).stdout.strip().removeprefix("sha256:")


@pytest.fixture(scope="module")
def podman_box(box_image):
    copied = _image_id("podman", box_image) != _image_id("docker", box_image)
    if copied:
        save = subprocess.Popen(["docker", "save", box_image], stdout=subprocess.PIPE)
        load = subprocess.run(["podman", "load", "--quiet"], stdin=save.stdout, capture_output=True, timeout=600)
        save.stdout.close()
        assert save.wait() == 0 and load.returncode == 0, load.stderr.decode()[-2000:]
    name = box_name("podman")
    boxes.remove_box("podman", name, volumes=True)
    box_id = ""
    try:
        box = boxes.start_box("podman", name=name, image=box_image, port=None, progress=lambda line: None)
        box_id = subprocess.run(["podman", "inspect", "--format", "{{.Id}}", name], capture_output=True,
                                text=True).stdout.strip()
        status = boxes.wait_ready(box, timeout=240)
        assert status.ready, status
        copy_course_in(box)
        yield box
    finally:
        boxes.remove_box("podman", name, volumes=True)
        if copied:
            subprocess.run(["podman", "rmi", "--force", box_image], capture_output=True)
    assert leftovers("podman", name, box_id) == []


def test_box_starts_on_rootful_podman_with_its_own_engine(podman_box):
    assert podman_box.cli == "podman"
    done = podman_box.exec(["containerlab", "doctor"], timeout=120)
    assert done.returncode == 0, done.stdout.decode()
    assert "inside the course box, as root with its own engine" in done.stdout.decode()


@pytest.mark.parametrize("notebook", PODMAN_LESSONS)
def test_lesson_passes_strict_nbval_in_the_box_on_podman(podman_box, notebook):
    done = nbval_in_box(podman_box, [notebook])
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
