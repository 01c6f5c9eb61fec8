"""The course box under test: built from this clone, run on the engine the tests use, removed at the end.

The box image is built once per session (`containerlab.engine.box.build_box`, offline but for the host's Debian
mirror and pip's cache); each box gets a name of this test run's owner, so a learner's or another run's boxes are
never touched, and its finalizer removes it with its volumes and checks that nothing of it is left.
"""

from __future__ import annotations

import glob
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from containerlab.engine import box as boxes
from containerlab.engine.lab import default_owner

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))
VALIDATE = "/tmp/validate"


def box_name(kind: str) -> str:
    """A box name of this run's owner (so parallel runs never share a box)."""
    return f"clab-box-{default_owner()}-{kind}"


@pytest.fixture(scope="session")
def box_image(lab_images) -> str:
    """The box image, built from this clone (Docker's build cache makes a rebuild of an unchanged clone quick)."""
    if lab_images.is_podman:
        pytest.skip("the box tests build on Docker and copy the image to rootful Podman themselves")
    boxes.build_box(lab_images, image=boxes.BOX_IMAGE, progress=lambda line: None)
    return boxes.BOX_IMAGE


def copy_course_in(box: boxes.Box) -> None:
    """Put this clone's stored notebooks and sanitize file into the box, for nbval to compare against."""
    archive = subprocess.run(["tar", "-c", "-C", str(ROOT), "notebooks", "-C", str(ROOT / "tests"), "sanitize.cfg"],
                             capture_output=True, check=True).stdout
    done = subprocess.run([box.cli, "exec", "-i", box.name, "sh", "-c",
                           f"rm -rf {VALIDATE} && mkdir -p {VALIDATE} && tar -x -C {VALIDATE}"],
                          input=archive, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()


def nbval_in_box(box: boxes.Box, notebooks: list[str], timeout: float = 900) -> subprocess.CompletedProcess:
    """Strict nbval of ``notebooks`` inside the box, with the course's sanitize file (what CI does on a host)."""
    return subprocess.run([box.cli, "exec", "--env=CONTAINERLAB_OWNER=pytest", f"--workdir={VALIDATE}", box.name,
                           "python", "-m", "pytest", "-p", "no:cacheprovider", "-q", "--nbval",
                           "--nbval-sanitize-with", "sanitize.cfg", "--nbval-current-env",
                           *[f"notebooks/{name}" for name in notebooks]],
                          capture_output=True, text=True, timeout=timeout)


def leftovers(cli: str, name: str, box_id: str) -> list[str]:
    """What a removed box could leave on the host: labelled containers and volumes, networks, cgroup dirs."""
    found = []
    for kind in ("ps --all", "volume ls", "network ls"):
        listed = subprocess.run([cli, *kind.split(), "--quiet", f"--filter=label={boxes.LABEL_BOX}={name}"],
                                capture_output=True, text=True).stdout.split()
        found += [f"{kind.split()[0]}: {item}" for item in listed]
    for volume in (f"{name}-engine", f"{name}-work"):
        if subprocess.run([cli, "volume", "inspect", volume], capture_output=True).returncode == 0:
            found.append(f"volume: {volume}")
    if box_id:  # Docker: <hierarchy>/docker/<id>; Podman: <hierarchy>/libpod_parent/libpod-<id>
        for pattern in (f"/sys/fs/cgroup/*/*{box_id}*", f"/sys/fs/cgroup/*/*/*{box_id}*"):
            found += [f"cgroup: {path}" for path in glob.glob(pattern)]
    return found


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
