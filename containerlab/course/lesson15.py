"""Exercise checks for lesson 15, GPUs and HPC: a device passed into a container, and an image that runs
the way batch systems run containers (any uid, read-only, results in a bound directory); both run for real."""

from __future__ import annotations

import os
import random
import uuid
from pathlib import Path
from typing import Any

from ..errors import ImageMissingError, LabError
from .engine_checks import container_problem, lint_problem
from .grading import CheckResult

__all__ = ["check_device_container", "check_batch_image"]

BATCH_UID = 4242


def check_device_container(lab: Any, device: str = "/dev/fuse") -> CheckResult:
    """Exercise 15.1 (terminal): $LAB-dev runs with the host's ``device`` passed in (--device)."""
    hint = ("`--device HOST_PATH` adds a device node and lets the container's device cgroup use it; start $LAB-dev "
            "detached (sleep 3600) with it, the course's limits and $LABELS.")
    found, problem = container_problem(lab.state(), "dev")
    if problem:
        return CheckResult(False, problem, hint)
    assert found is not None
    if device not in found.devices:
        return CheckResult(False, f"$LAB-dev has no device {device} passed in (its devices: "
                                  f"{', '.join(found.devices) or 'none'}).", hint)
    opened = lab.exec("dev", ["sh", "-c", f"test -c {device} && exec 3<{device} && echo opened"], echo=False)
    if opened.output.strip() != "opened":
        return CheckResult(False, f"{device} is listed, but the container cannot open it.", hint)
    return CheckResult(True, f"Right: {device} is a character device inside, and the device cgroup lets the "
                             "container open it. `--gpus` and CDI do the same for /dev/nvidia*, plus the driver's "
                             "libraries.")


def check_batch_image(lab: Any, tag: str, dockerfile: str | Path, scratch: str | Path) -> CheckResult:
    """Exercise 15.2 (build it): run the image as a batch system would (uid 4242, --read-only, a host directory
    at /data): it must read /data/in.txt and write 'sum N' to /data/out.txt, owned by that uid on the host."""
    hint = ("The default command may use /data and nothing else: a shell one-liner (awk sums a column) that reads "
            "/data/in.txt and writes /data/out.txt. It must not care which uid runs it.")
    path = Path(dockerfile)
    if not path.exists():
        return CheckResult(False, "There is no $WORK/batch/Dockerfile yet.", hint)
    problem = lint_problem(path.read_text())
    if problem:
        return CheckResult(False, problem, hint)
    job = Path(scratch) / f"job-{uuid.uuid4().hex[:8]}"
    job.mkdir(parents=True)
    numbers = [random.randint(1, 1000) for _ in range(5)]
    (job / "in.txt").write_text("".join(f"{n}\n" for n in numbers))
    os.chown(job, BATCH_UID, BATCH_UID)
    try:
        done = lab.run(tag, volumes=[f"{job}:/data"], user=f"{BATCH_UID}:{BATCH_UID}", read_only=True, echo=False)
    except ImageMissingError:
        return CheckResult(False, "There is no image $REPO-batch yet: build it from $WORK/batch.", hint)
    except LabError as err:
        return CheckResult(False, f"$REPO-batch did not run: {err.message}", hint)
    out = job / "out.txt"
    if not done.ok or not out.exists():
        return CheckResult(False, f"Run as uid {BATCH_UID}, read-only, it wrote no /data/out.txt "
                                  f"(exit {done.exit_code}: {done.output.strip()[-80:]}).", hint)
    if out.read_text().split() != ["sum", str(sum(numbers))]:
        return CheckResult(False, f"out.txt says {out.read_text().strip()[:40]!r}, not 'sum {sum(numbers)}' for "
                                  f"{numbers}.", hint)
    if out.stat().st_uid != BATCH_UID:
        return CheckResult(False, f"out.txt belongs to uid {out.stat().st_uid}, not {BATCH_UID}.", hint)
    return CheckResult(True, f"Right: run as uid {BATCH_UID} with a read-only image, it read its input and left "
                             f"its result on the host, owned by uid {BATCH_UID}: what Apptainer does for every job.")
