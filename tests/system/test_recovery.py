"""Recovery: a lesson's kernel dies half-way, the learner runs the notebook again from the top.

For every notebook: run about half of its code cells, start the next one and kill the kernel
(SIGKILL to its process group, as the kernel manager does for a dead or hung kernel) while it
may still be running; then run the whole notebook in a fresh kernel. The fresh run must pass
although the dead kernel's containers, mounts and files are still there, and afterwards nothing
of the lesson may be left: no labelled container, network, volume or image, no work directory
or mount, no process of the run (a registry included). Running twice in ONE kernel is
tests/engine/test_notebooks_rerun.py. Slow: about two notebook runs per lesson.
"""

from __future__ import annotations

import inspect
import os
import time

import nbformat
import pytest
from course_runs import (
    NOTEBOOKS,
    code_cell_indexes,
    leftovers,
    lesson_files,
    owner_env,
    read_notebook,
    remove_everything,
    run_problems,
)
from jupyter_core.utils import run_sync
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

OWNER = f"{os.environ.get('CONTAINERLAB_OWNER', 'pytest')}-recovery"
KILL_AFTER_SECONDS = 0.5


def _client(notebook) -> NotebookClient:
    return NotebookClient(notebook, timeout=300, kernel_name="python3",
                          resources={"metadata": {"path": str(NOTEBOOKS)}})


def _blocking(method, *args, **kwargs):
    """Call a kernel-manager method that may be a coroutine function, and wait for its result."""
    return run_sync(method)(*args, **kwargs) if inspect.iscoroutinefunction(method) else method(*args, **kwargs)


def _run_half_then_kill(notebook) -> int:
    """Run the first half of the code cells, submit the next one, kill the kernel; the cells run."""
    code = code_cell_indexes(notebook)
    half = max(1, len(code) // 2)
    client = _client(notebook)
    client.km = client.create_kernel_manager()
    client.start_new_kernel(env=owner_env(OWNER))
    try:
        client.start_new_kernel_client()
        for index in range(code[half - 1] + 1):
            client.execute_cell(notebook.cells[index], index)
        if half < len(code):
            client.kc.execute(notebook.cells[code[half]].source)
            time.sleep(KILL_AFTER_SECONDS)
        assert _blocking(client.km.is_alive), "the kernel died before it was killed"
        _blocking(client.km.shutdown_kernel, now=True)
    finally:
        if client.kc is not None:
            client.kc.stop_channels()
        _blocking(client.km.cleanup_resources)
    return half


@pytest.mark.parametrize("path", lesson_files(), ids=lambda path: path.stem)
def test_rerun_from_the_top_after_the_kernel_was_killed(path, lab_images):
    lesson = path.stem
    try:
        ran = _run_half_then_kill(read_notebook(path))
        fresh = read_notebook(path)
        _client(fresh).execute(env=owner_env(OWNER))
        problems = run_problems(fresh)
        assert not problems, f"{path.name} re-run after a kill at code cell {ran + 1}: {problems}"
        left = leftovers(lab_images, OWNER, lesson)
        assert left == [], f"{path.name} left behind after its re-run: {left}"
    finally:
        remove_everything(lab_images, OWNER)


def test_the_harness_sees_a_leftover(lab_images):
    """The leftover check itself works: a container of a half-run lesson is reported, then removed."""
    from containerlab.engine.lab import Lab

    lab = Lab("99-harness-check", owner=OWNER, engine=lab_images)
    try:
        lab.start("containerlab/busybox", ["sleep", "60"], name="forgotten")
        assert any("forgotten" in item for item in leftovers(lab_images, OWNER, lab.lesson))
    finally:
        lab.cleanup()
    assert leftovers(lab_images, OWNER, lab.lesson) == []


def test_the_harness_sees_a_registry_left_running(tmp_path):
    """A registry process serving from the owner's course directory is reported (a stand-in: tail -f)."""
    import shutil
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from course_runs import course_processes

    tail = shutil.which("tail")
    directory = Path(tempfile.gettempdir()) / f"containerlab-registry-{OWNER}-15999"
    directory.mkdir(exist_ok=True)
    (directory / "config.yml").touch()
    stand_in = subprocess.Popen([sys.executable, "-c", "import os, sys; os.execv(sys.argv[1], sys.argv[2:])", tail,
                                 "/usr/bin/docker-registry", "-f", str(directory / "config.yml")])
    try:
        time.sleep(0.5)
        assert any(f"registry process {stand_in.pid}" in item for item in course_processes(OWNER))
        assert not any(str(stand_in.pid) in item for item in course_processes(f"{OWNER}-other"))
    finally:
        stand_in.kill()
        stand_in.wait()
        shutil.rmtree(directory)


def test_every_lesson_is_covered():
    assert len(lesson_files()) >= 5
    for path in lesson_files():
        notebook = nbformat.read(path, as_version=4)
        assert len(code_cell_indexes(notebook)) >= 2, f"{path.name} has too few code cells to cut in half"
