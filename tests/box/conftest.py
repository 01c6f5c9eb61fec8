"""The course box under test: built from this clone, run on the engine the tests use, removed at the end.

The box image is built once per session (`containerlab.engine.box.build_box`, offline but for the host's Debian
mirror and pip's cache); each box gets a name of this test run's owner, so a learner's or another run's boxes are
never touched, and its finalizer removes it with its volumes and checks that nothing of it is left.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from box_support import box_name, copy_course_in, leftovers

from containerlab.engine import box as boxes


@pytest.fixture(scope="session")
def box_image(lab_images) -> str:
    """The box image, built from this clone (Docker's build cache makes a rebuild of an unchanged clone quick)."""
    if lab_images.is_podman:
        pytest.skip("the box tests build on Docker and copy the image to rootful Podman themselves")
    boxes.build_box(lab_images, image=boxes.BOX_IMAGE, progress=lambda line: None)
    return boxes.BOX_IMAGE


@pytest.fixture(scope="module")
def docker_box(box_image, lab_images) -> Iterator[boxes.Box]:
    """A running box on Docker (engine ready), removed with its volumes at the end; nothing of it may remain."""
    name = box_name("docker")
    boxes.remove_box("docker", name, volumes=True)
    started = boxes.start_box("docker", name=name, image=box_image, port=None, progress=lambda line: None)
    box_id = ""
    try:
        box_id = subprocess.run(["docker", "inspect", "--format", "{{.Id}}", name], capture_output=True,
                                text=True).stdout.strip()
        status = boxes.wait_ready(started, timeout=180)
        assert status.ready, status
        copy_course_in(started)
        yield started
    finally:
        boxes.remove_box("docker", name, volumes=True)
    assert leftovers("docker", name, box_id) == []
