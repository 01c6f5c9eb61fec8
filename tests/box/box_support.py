"""Shared pieces of the course box tests (the tests import this module by name: pytest puts this directory on
sys.path): box names of this run's owner, copying the course in, strict nbval inside a box, what a box left behind."""

from __future__ import annotations

import glob
import subprocess
from pathlib import Path

from containerlab.engine import box as boxes
from containerlab.engine.lab import default_owner

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))
VALIDATE = "/tmp/validate"


def box_name(kind: str) -> str:
    """A box name of this run's owner (so parallel runs never share a box)."""
    return f"clab-box-{default_owner()}-{kind}"


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
