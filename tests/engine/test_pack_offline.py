"""The workshop pack for real: pack here, remove the lab images, unpack in a network namespace with
only loopback (no internet, no package index) into a fresh copy of the course, and run notebook 01 there."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from containerlab.engine.images import BASE_IMAGES, image_status
from containerlab.engine.workshop_pack import build_pack, load_images
from containerlab.engine.workspaces import SUPERVISOR_IMAGE
from containerlab.workshop.pack import read_manifest, unpack

ROOT = Path(__file__).resolve().parents[2]
OFFLINE = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "offline"]
RUN_NOTEBOOK = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
assert "Skipped:" not in text, text
print("notebook ran offline:", "uname -r inside == the host's" in text)
"""


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"),
                    reason="a network namespace needs root, unshare and ip")
def test_pack_round_trip_offline(lab_images, tmp_path):
    pack = tmp_path / "workshop.clab.tgz"
    build_pack(lab_images, pack, progress=lambda line: None)
    manifest = read_manifest(pack)
    assert any(name.startswith("wheels/containerlab-") for name in manifest.files)
    assert SUPERVISOR_IMAGE in manifest.images  # lesson 09 needs no Debian mirror on the workshop machines
    packed = [*BASE_IMAGES, SUPERVISOR_IMAGE]
    course = tmp_path / "course"
    shutil.copytree(ROOT, course, ignore=shutil.ignore_patterns(".venv", ".pack", ".git", "__pycache__", "*.egg-info"))
    try:
        for name in packed:
            lab_images.client.images.remove(name, force=True)
        assert not any(image_status(lab_images, name).present for name in packed)
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PIP_INDEX_URL")}
        result = subprocess.run([*OFFLINE, str(course / "lab"), "unpack", str(pack)], capture_output=True,
                                text=True, timeout=600, env=env)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "The course can run on this machine." in result.stdout
        assert all(image_status(lab_images, name).present for name in packed)
        notebook = course / "notebooks" / "01-what-is-a-container.ipynb"
        run = subprocess.run([*OFFLINE, str(course / ".venv/bin/python"), "-c", RUN_NOTEBOOK, str(notebook),
                              str(notebook.parent)], capture_output=True, text=True, timeout=600, env=env)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert "notebook ran offline: True" in run.stdout
    finally:
        if not all(image_status(lab_images, name).present for name in [*BASE_IMAGES, SUPERVISOR_IMAGE]):
            load_images(lab_images, tmp_path / "restore", unpack(pack, tmp_path / "restore", progress=lambda _: None),
                        progress=lambda _: None)


def test_pack_refuses_when_images_are_missing(lab_images, tmp_path, monkeypatch):
    from containerlab.engine import workshop_pack as pack_module
    from containerlab.errors import LabError

    monkeypatch.setattr(pack_module, "BASE_IMAGES", ("containerlab/not-built",))
    with pytest.raises(LabError, match="not built"):
        build_pack(lab_images, tmp_path / "x.tgz", wheels=False, progress=lambda _: None)
    assert not (tmp_path / "x.tgz").exists()
