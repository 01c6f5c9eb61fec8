"""The course box on Docker: built from this clone with no registry, every notebook strictly validated inside it
against the same stored notebooks, `doctor` inside saying the course runs as on a Linux host as root, and nothing
left on the host once it is removed with its volumes (the module's box fixture checks that at teardown)."""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request

import pytest
from box_support import NOTEBOOKS, nbval_in_box

from containerlab.engine import box as boxes

pytestmark = pytest.mark.slow


def test_box_image_is_built_offline_and_keeps_no_wheel(box_image):
    found = subprocess.run(["docker", "run", "--rm", "--network=none", "--entrypoint=sh", box_image, "-c",
                            "find / -xdev -name '*.whl' -not -path '/usr/share/python-wheels/*'; "
                            "ls /opt/containerlab/images; python -m pip --version || true"],
                           capture_output=True, text=True, timeout=120)
    lines = found.stdout.split()
    assert lines[0] == boxes.ENGINE_SEED, found.stdout  # no wheel anywhere; the lab images carried, loaded
    assert "No module named pip" in found.stderr
    history = subprocess.run(["docker", "history", "--no-trunc", "--format", "{{.CreatedBy}}", box_image],
                             capture_output=True, text=True).stdout
    assert "wheels" not in history  # the wheels were only ever in the build stage, never in the image's layers


def test_doctor_inside_the_box_says_it_runs_as_on_a_linux_host(docker_box):
    done = docker_box.exec(["containerlab", "doctor"], timeout=120)
    text = done.stdout.decode()
    assert done.returncode == 0, text
    assert "inside the course box, as root with its own engine" in text
    assert "The course can run on this machine." in text


def test_jupyterlab_is_published_on_loopback_only_and_wants_its_token(docker_box):
    published = subprocess.run(["docker", "port", docker_box.name], capture_output=True, text=True).stdout.split()
    assert published and all(item.startswith("127.0.0.1:") for item in published if ":" in item), published
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{docker_box.port}/api/contents", timeout=10)
    assert refused.value.code == 403
    with urllib.request.urlopen(f"http://127.0.0.1:{docker_box.port}/api/contents?token={docker_box.token}",
                                timeout=10) as answer:
        assert answer.status == 200 and b"00-lab-check.ipynb" in answer.read()


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_passes_strict_nbval_inside_the_box(docker_box, notebook):
    done = nbval_in_box(docker_box, [notebook])
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout.splitlines()[-1]


def test_workshop_pack_carries_the_box_image(box_image, lab_images, tmp_path):
    from containerlab.engine.pack import build_pack
    from containerlab.pack import read_manifest

    pack = tmp_path / "workshop.clab.tgz"
    build_pack(lab_images, pack, wheels=False, box=True, progress=lambda line: None)
    manifest = read_manifest(pack)
    assert box_image in manifest.images
    assert f"images/{box_image.replace('/', '_')}.tar" in manifest.files
