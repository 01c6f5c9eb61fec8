"""The Dev Container: the Dev Containers CLI (`devcontainer up`) starts the box image from the repository's
.devcontainer/devcontainer.json, its entrypoint starts the nested engine, and `devcontainer exec` runs notebooks
under strict nbval in the workspace. The container and its volumes are removed at the end; nothing may remain."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from box_support import ROOT, box_name, leftovers

from containerlab.engine import box as boxes

pytestmark = pytest.mark.slow
DEVCONTAINER = shutil.which("devcontainer")


@pytest.fixture
def devcontainer_cli() -> str:
    if DEVCONTAINER is None:
        if os.environ.get("CONTAINERLAB_REQUIRE_ENGINE") == "1":
            pytest.fail("the Dev Containers CLI is missing ('./lab test' installs it: npm install -g @devcontainers/cli)")
        pytest.skip("the Dev Containers CLI is not installed (npm install -g @devcontainers/cli)")
    return DEVCONTAINER


def test_devcontainer_up_then_exec_runs_notebooks_under_nbval(box_image, devcontainer_cli, tmp_path):
    name = box_name("devcontainer")
    workspace = tmp_path / "course"
    shutil.copytree(ROOT / ".devcontainer", workspace / ".devcontainer")
    shutil.copytree(ROOT / "notebooks", workspace / "notebooks")
    shutil.copy2(ROOT / "tests" / "sanitize.cfg", workspace / "sanitize.cfg")
    config = workspace / ".devcontainer" / "devcontainer.json"
    # This run's image and engine volume (the repository's file names the defaults a learner uses).
    text = config.read_text().replace('"image": "containerlab/course"', f'"image": "{box_image}"')
    config.write_text(text.replace("containerlab-box-${devcontainerId}-engine", f"{name}-engine"))
    ids = ["--workspace-folder", str(workspace), "--id-label", f"{boxes.LABEL_BOX}={name}"]
    box_id = ""
    try:
        up = subprocess.run([devcontainer_cli, "up", *ids], capture_output=True, text=True, timeout=600)
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        result = json.loads(up.stdout.strip().splitlines()[-1])
        assert result["outcome"] == "success", result
        box_id = result["containerId"]
        run = subprocess.run([devcontainer_cli, "exec", *ids, "sh", "-c",
                              "containerlab-box wait 180 && CONTAINERLAB_OWNER=pytest python -m pytest "
                              "-p no:cacheprovider -q --nbval --nbval-sanitize-with sanitize.cfg --nbval-current-env "
                              "notebooks/00-lab-check.ipynb notebooks/03-cgroups.ipynb"],
                             capture_output=True, text=True, timeout=900)
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
        assert " passed" in run.stdout and "failed" not in run.stdout.splitlines()[-1]
        served = subprocess.run([devcontainer_cli, "exec", *ids, "cat", "/run/containerlab-box/url"],
                                capture_output=True, text=True, timeout=60)
        assert "/lab?token=" in served.stdout
    finally:
        for container in subprocess.run(["docker", "ps", "--all", "--quiet", f"--filter=label={boxes.LABEL_BOX}={name}"],
                                        capture_output=True, text=True).stdout.split():
            subprocess.run(["docker", "rm", "--force", "--volumes", container], capture_output=True)
        subprocess.run(["docker", "volume", "rm", "--force", f"{name}-engine"], capture_output=True)
    assert leftovers("docker", name, box_id) == []
