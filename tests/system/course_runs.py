"""Helpers for the course-wide system tests: run notebooks with nbclient and list what a run left behind.

A run is owned by a private owner (``CONTAINERLAB_OWNER``), so "left behind" can be asked exactly:
labelled containers, networks, volumes and images of that owner; the owner's lesson work
directories in the temp dir and anything still mounted under them; and host processes that
belong to the run (they inherited the owner in their environment, or they are a registry
serving from a course directory). The tests import this module by name (pytest puts this
directory on sys.path).
"""

from __future__ import annotations

import os
import re
import signal
import tempfile
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
WORKDIR_PREFIX = "containerlab-"
REGISTRY_NAMES = ("registry", "docker-registry", "distribution")
# How containerlab.errors shows a LabError in a notebook (a check's verdict has "Hint:", not an arrow).
LAB_ERROR_SHOWN = re.compile(r"\N{CROSS MARK} (.*)\n\N{RIGHTWARDS ARROW} ")


def lesson_files() -> list[Path]:
    """Every lesson notebook, in course order (new notebooks are picked up as they land)."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def read_notebook(path: Path) -> Any:
    """A notebook as nbformat v4, with stored outputs."""
    return nbformat.read(path, as_version=4)


def code_cell_indexes(notebook: Any) -> list[int]:
    """Positions of the code cells."""
    return [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]


def outputs_text(notebook: Any) -> str:
    """Everything the cells printed or returned as text, plus error names and values."""
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts.append(str(output.get("data", {}).get("text/plain", "")))
            if output.get("output_type") == "error":
                texts.append(f"{output.get('ename')}: {output.get('evalue')}")
    return "\n".join(texts)


def run_problems(notebook: Any) -> list[str]:
    """What went wrong in an executed notebook although no cell raised: skips, tracebacks, LabErrors."""
    text = outputs_text(notebook)
    problems = []
    if "no container engine" in text:
        problems.append("an engine cell skipped although the engine is up")
    if "Traceback" in text:
        problems.append("a traceback was printed")
    shown = LAB_ERROR_SHOWN.search(text)
    if shown:
        problems.append(f"a LabError was shown: {shown.group(1)}")
    return problems


def private_kernel_config(directory: str) -> Any:
    """nbclient config whose kernel talks over UNIX sockets in ``directory``, not TCP ports.

    jupyter_client picks a kernel's five TCP ports by binding port 0 and closing the socket, so
    kernels started at the same moment by separate processes can be handed the same port and one
    dies before it answers ("Kernel died before replying to kernel_info"). Sockets under a
    directory of the caller's own cannot collide.
    """
    from traitlets.config import Config

    config = Config()
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = os.path.join(directory, "kernel")
    return config


def owner_env(owner: str) -> dict[str, str]:
    """This process's environment with the run's owner (the kernel inherits it)."""
    return {**os.environ, "CONTAINERLAB_OWNER": owner}


def _cmdline(pid: str) -> list[str]:
    try:
        raw = Path("/proc", pid, "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _environ(pid: str) -> bytes:
    try:
        return Path("/proc", pid, "environ").read_bytes()
    except OSError:
        return b""


def _ancestors() -> set[str]:
    """This process and its parents: they carry the owner too, legitimately."""
    chain, pid = set(), str(os.getpid())
    while pid not in ("0", "") and pid not in chain:
        chain.add(pid)
        try:
            status = Path("/proc", pid, "status").read_text()
        except OSError:
            break
        pid = re.search(r"^PPid:\s*(\d+)", status, re.M).group(1)
    return chain


# Shared engine daemons: never a run's process, even when started from a shell that had the run's owner set
# (killing one would take every learner's containers down with it).
ENGINE_DAEMONS = frozenset({"dockerd", "containerd", "podman", "conmon", "containerd-shim", "containerd-shim-runc-v2"})


def _pids_with_owner(owner: str) -> list[str]:
    """Processes (not this one nor its parents, nor an engine daemon) that inherited the run's owner."""
    marker = f"CONTAINERLAB_OWNER={owner}".encode()
    mine = _ancestors()
    return [entry.name for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and entry.name not in mine and marker in _environ(entry.name).split(b"\0")
            and _process_name(entry.name) not in ENGINE_DAEMONS]


def _process_name(pid: str) -> str:
    """The program a process runs (its comm), '' when it is gone."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def course_processes(owner: str) -> list[str]:
    """Host processes a run left: any with the owner in its environment, any registry of the course."""
    tmp = str(Path(tempfile.gettempdir()).resolve()) + "/"
    found = [f"process {pid} of the run still alive: {' '.join(_cmdline(pid))[:120]}"
             for pid in _pids_with_owner(owner)]
    for entry in Path("/proc").iterdir():
        argv = _cmdline(entry.name) if entry.name.isdigit() else []
        if not argv or Path(argv[0]).name not in REGISTRY_NAMES:
            continue
        # A registry the course started for this owner serves from the owner's directory in the temp dir.
        dirs = [arg[len(tmp):].split("/", 1)[0] for arg in argv[1:] if arg.startswith(tmp)]
        if any(_owners_dir(name, owner) for name in dirs) and not any(entry.name in item for item in found):
            found.append(f"registry process {entry.name}: {' '.join(argv)[:120]}")
    return found


def _owners_dir(name: str, owner: str) -> bool:
    """Whether a temp-dir entry is one of the owner's course dirs: containerlab-04-<owner>,
    containerlab-registry-<owner>-<port>, ..."""
    mine = re.escape(owner)
    return re.fullmatch(rf"{WORKDIR_PREFIX}[^/]+-{mine}(-[0-9]+)?", name) is not None


def owner_dirs(owner: str) -> list[Path]:
    """The owner's course directories in the temp dir."""
    tmp = Path(tempfile.gettempdir())
    return sorted(path for path in tmp.glob(f"{WORKDIR_PREFIX}*") if _owners_dir(path.name, owner))


def course_workdirs(owner: str) -> list[str]:
    """The owner's course directories in the temp dir, and mounts below any of them."""
    found = [f"work directory {path}" for path in owner_dirs(owner)]
    tmp = str(Path(tempfile.gettempdir()).resolve())
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        mount_point = line.split(" ")[4].replace("\\040", " ")
        parent, _, rest = mount_point.partition(tmp + "/")
        if not parent and rest and _owners_dir(rest.split("/", 1)[0], owner):
            found.append(f"mount {mount_point}")
    return found


def engine_leftovers(engine: Any, owner: str, lesson: str | None = None) -> list[str]:
    """Labelled containers, networks, volumes and images of this owner (and lesson, if given)."""
    from containerlab.engine.lab import label_filters, labelled_images

    filters = {"label": label_filters(lesson, owner)}
    client = engine.client
    found = [f"container {c.name}" for c in client.containers.list(all=True, filters=filters)]
    found += [f"network {n.name}" for n in client.networks.list(filters=filters)]
    found += [f"volume {v.name}" for v in client.volumes.list(filters=filters)]
    found += [f"image {i.tags or i.short_id}" for i in labelled_images(engine, lesson=lesson, owner=owner)]
    return found


def leftovers(engine: Any, owner: str, lesson: str | None = None) -> list[str]:
    """Everything a run of this owner left behind: engine resources, work dirs, mounts, processes."""
    return engine_leftovers(engine, owner, lesson) + course_workdirs(owner) + course_processes(owner)


def remove_everything(engine: Any, owner: str) -> None:
    """Best-effort cleanup after a failed run, so one failure does not spill into later tests."""
    import shutil
    import subprocess

    from containerlab.engine.lab import remove_labelled

    remove_labelled(engine, owner=owner, images=True)
    try:
        from containerlab.engine.registry import stop_registries
    except ImportError:  # no registry lesson yet
        pass
    else:
        stop_registries(owner)
    for pid in _pids_with_owner(owner):
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    for path in owner_dirs(owner):
        for line in reversed(Path("/proc/self/mountinfo").read_text().splitlines()):
            mount_point = line.split(" ")[4]
            if mount_point.startswith(str(path.resolve()) + "/"):
                subprocess.run(["umount", "-l", mount_point], capture_output=True, check=False)
        shutil.rmtree(path, ignore_errors=True)
