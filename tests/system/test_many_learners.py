"""Many learners on one engine: four owners run the same notebook at the same moment.

A workshop room shares one engine (a VM per table, a server per class). Four learners
(CONTAINERLAB_OWNER=learner1..4) each run every notebook top to bottom, all four on the same
notebook at once, in their own processes and kernels. No run may fail or show a LabError (a
name, port, network, image tag or path taken by another learner shows up as one of those),
and afterwards none of the four may have anything left. Slow: four runs of every notebook on
two cores.

A workshop server or a laptop is rarely idle: the lessons whose cells race on shared things (cgroups and
OOM kills in 03, cached build layers and image removal in 05, registry ports in 06, compose builds and
health checks in 08, the shared workspace image in 09) run with two CPU-busy processes beside the four
learners, so their cells are slow and interleave the way they do on a busy machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from course_runs import NOTEBOOKS, leftovers, lesson_files, owner_env, remove_everything

pytestmark = pytest.mark.slow

LEARNERS = [f"learner{number}" for number in range(1, 5)]
UNDER_LOAD = ("03", "05", "06", "08", "09")
BUSY = "while True: pass"
RUNNER = r"""
import json, sys, tempfile
from pathlib import Path
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
sys.path.insert(0, sys.argv[2])
from course_runs import private_kernel_config, run_problems
path = Path(sys.argv[1])
notebook = nbformat.read(path, as_version=4)
with tempfile.TemporaryDirectory(prefix="kernel-") as sockets:
    try:
        NotebookClient(notebook, timeout=600, kernel_name="python3", config=private_kernel_config(sockets),
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        print(json.dumps({"problems": run_problems(notebook)}))
    except CellExecutionError as err:
        print(json.dumps({"problems": [str(err)[-2000:]]}))
"""


def _run_together(path) -> dict[str, list[str]]:
    """Start one run of the notebook per learner at once; each learner's problems."""
    here = str(NOTEBOOKS.parent / "tests" / "system")
    runs = {owner: subprocess.Popen([sys.executable, "-c", RUNNER, str(path), here], env=owner_env(owner),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for owner in LEARNERS}
    problems = {}
    for owner, run in runs.items():
        stdout, stderr = run.communicate(timeout=900)
        lines = stdout.strip().splitlines()
        if run.returncode != 0 or not lines:
            shown = stderr if len(stderr) <= 3000 else f"{stderr[:1000]}\n[…]\n{stderr[-2000:]}"
            problems[owner] = [f"the runner failed ({run.returncode}): {shown}"]
            continue
        problems[owner] = json.loads(lines[-1])["problems"]
    return problems


@contextlib.contextmanager
def cpu_load(processes: int) -> Iterator[list[subprocess.Popen]]:
    """``processes`` busy loops beside the test (each takes a CPU when it can); killed afterwards."""
    busy = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(processes)]
    try:
        yield busy
    finally:
        for process in busy:
            process.kill()
            process.wait()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load_for(path) -> int:
    return 2 if path.name[:2] in UNDER_LOAD else 0


@pytest.mark.parametrize("path", lesson_files(), ids=lambda path: path.stem + ("-under-load" if _load_for(path) else ""))
def test_four_learners_run_the_same_notebook_at_once(path, lab_images):
    for owner in LEARNERS:  # what a run killed on this machine before left behind is not this run's
        remove_everything(lab_images, owner)
    try:
        with cpu_load(_load_for(path)) as busy:
            problems = {owner: found for owner, found in _run_together(path).items() if found}
            assert all(process.poll() is None for process in busy), "the CPU load ran the whole time"
            assert all(_cpu_seconds(process.pid) >= 1 for process in busy), "each busy process really used a CPU"
        assert not problems, f"{path.name} with {len(LEARNERS)} learners at once: {problems}"
        left = {owner: found for owner in LEARNERS if (found := leftovers(lab_images, owner))}
        assert not left, f"{path.name} left behind: {left}"
    finally:
        for owner in LEARNERS:
            remove_everything(lab_images, owner)


def test_learners_get_distinct_names_and_work_dirs():
    """What keeps them apart: every engine name and work directory carries the owner."""
    from containerlab.engine.lab import Lab
    from containerlab.engine.overlay import workdir_for

    labs = [Lab("04-rootfs-and-overlays", owner=owner) for owner in LEARNERS]
    assert len({lab.name_for("layered") for lab in labs}) == len(LEARNERS)
    assert len({workdir_for(lab) for lab in labs}) == len(LEARNERS)


def test_kernels_started_together_talk_over_their_own_sockets(tmp_path):
    """Six kernels started at the same moment, as the learners' runners do: each answers on ipc sockets of its own."""
    import nbformat

    probe = tmp_path / "probe.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from ipykernel.connect import get_connection_info; print(get_connection_info())")]), probe)
    here = str(NOTEBOOKS.parent / "tests" / "system")
    script = RUNNER.replace("run_problems(notebook)", "[notebook.cells[0].outputs[0].text]")
    runs = [subprocess.Popen([sys.executable, "-c", script, str(probe), here], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(6)]
    infos = []
    for run in runs:
        stdout, stderr = run.communicate(timeout=120)
        assert run.returncode == 0, stderr[-2000:]
        infos.append(json.loads(json.loads(stdout.strip().splitlines()[-1])["problems"][0]))
    assert {info["transport"] for info in infos} == {"ipc"}
    assert len({info["ip"] for info in infos}) == 6, "every kernel has a socket directory of its own"
    assert all("/kernel-" in info["ip"] for info in infos)
