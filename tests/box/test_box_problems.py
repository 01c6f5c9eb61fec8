"""A box started without the privileges its engine needs, and one whose engine fails: JupyterLab still answers,
and `doctor` and notebook 00 say in one line what is wrong (which flag is missing, or why the engine did not
start) instead of a traceback. Each box is removed with its volumes, and nothing of it may remain."""

from __future__ import annotations

import json
import subprocess

import pytest
from box_support import box_name, leftovers

from containerlab.engine import box as boxes

pytestmark = pytest.mark.slow

RUN_00 = """
import json, nbformat
from nbclient import NotebookClient
nb = nbformat.read("/course/00-lab-check.ipynb", as_version=4)
NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": "/course"}}).execute()
print(json.dumps([o for c in nb.cells for o in c.get("outputs", [])]))
"""


def _texts(outputs: list[dict]) -> str:
    parts = []
    for output in outputs:
        parts.append(output.get("text", "") if isinstance(output.get("text", ""), str) else "".join(output["text"]))
        parts.append(str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def _check_one_line_report(name: str, expected: str) -> None:
    """doctor exits 1 with the reason on the engine line; notebook 00 runs through and shows the same line."""
    waited = subprocess.run(["docker", "exec", name, "containerlab-box", "wait", "120"], capture_output=True,
                            text=True, timeout=180)
    assert waited.returncode == 1 and expected in waited.stderr, waited.stderr
    doctor = subprocess.run(["docker", "exec", name, "containerlab", "doctor"], capture_output=True, text=True,
                            timeout=120)
    assert doctor.returncode == 1
    engine_line = next(line for line in doctor.stdout.splitlines() if line.startswith("[FAIL] engine"))
    assert expected in engine_line, doctor.stdout
    assert "Traceback" not in doctor.stdout + doctor.stderr
    notebook = subprocess.run(["docker", "exec", name, "python", "-c", RUN_00], capture_output=True, text=True,
                              timeout=400)
    assert notebook.returncode == 0, notebook.stderr[-3000:]
    outputs = json.loads(notebook.stdout.strip().splitlines()[-1])
    assert not [o for o in outputs if o.get("output_type") == "error"]
    report_lines = [line for line in _texts(outputs).splitlines() if expected in line]
    assert report_lines, _texts(outputs)[:3000]
    assert "Skipped: running a first container needs engine" in _texts(outputs)


def test_box_without_privileges_says_which_flag_is_missing(box_image):
    name = box_name("plain")
    subprocess.run(["docker", "rm", "--force", "--volumes", name], capture_output=True)
    # What a learner types who forgot the flags: no --privileged, no own cgroup namespace.
    started = subprocess.run(["docker", "run", "--detach", f"--name={name}", f"--label={boxes.LABEL_BOX}={name}",
                              "--publish=127.0.0.1::8888", box_image], capture_output=True, text=True)
    assert started.returncode == 0, started.stderr
    box_id = started.stdout.strip()
    try:
        _check_one_line_report(name, "started without --privileged")
        doctor = subprocess.run(["docker", "exec", name, "containerlab", "doctor"], capture_output=True, text=True)
        assert "add --privileged" in doctor.stdout and "'docker run'" in doctor.stdout
    finally:
        subprocess.run(["docker", "rm", "--force", "--volumes", name], capture_output=True)
    assert leftovers("docker", name, box_id) == []


def test_box_whose_engine_fails_says_why_in_one_line(box_image):
    name = box_name("broken")
    boxes.remove_box("docker", name, volumes=True)
    # A storage driver the kernel does not have: the nested dockerd exits at once, as on a host it would.
    box = boxes.start_box("docker", name=name, image=box_image, port=None, progress=lambda line: None,
                          env={"CONTAINERLAB_BOX_DOCKERD_ARGS": "--storage-driver=no-such-driver"})
    box_id = subprocess.run(["docker", "inspect", "--format", "{{.Id}}", name], capture_output=True,
                            text=True).stdout.strip()
    try:
        status = boxes.wait_ready(box, timeout=180)
        assert status.state == "failed" and "driver not supported" in status.message, status
        _check_one_line_report(name, "The box's Docker engine did not start")
    finally:
        boxes.remove_box("docker", name, volumes=True)
    assert leftovers("docker", name, box_id) == []
