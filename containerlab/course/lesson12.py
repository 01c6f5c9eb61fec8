"""Exercise checks for lesson 12, data: they read the engine's state and run what the learner made.

Volumes and bind mounts are checked where they live: the engine's record of the mount, and a container
that reads (or tries to write) the data.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from ..errors import ImageMissingError, LabError
from .engine_checks import container_problem, lint_problem, volume_problem
from .grading import CheckResult

__all__ = ["check_journal_volume", "check_read_only_share", "check_volume_ready_image"]

BUSYBOX = "containerlab/busybox"


def check_journal_volume(lab: Any, line: str = "day one") -> CheckResult:
    """Exercise 12.1 (terminal): a labelled named volume $LAB-journal whose journal.txt holds ``line``."""
    hint = ("Create it with `$ENGINE volume create $LABELS $LAB-journal`, then mount it (-v $LAB-journal:/j) in a "
            f"busybox container that writes the line with `sh -c 'echo {line} > /j/journal.txt'`.")
    problem = volume_problem(lab.state(), "journal")
    if problem:
        return CheckResult(False, problem, hint)
    name = lab.name_for("journal")
    read = lab.run(BUSYBOX, ["cat", "/j/journal.txt"], volumes=[f"{name}:/j:ro"], echo=False)
    if not read.ok:
        return CheckResult(False, "The volume $LAB-journal has no journal.txt at its top.", hint)
    if read.output.strip() != line:
        return CheckResult(False, f"journal.txt holds {read.output.strip()!r}, not {line!r}.", hint)
    return CheckResult(True, "Right: the container that wrote it is gone, the volume and its file stay until "
                             "`$ENGINE volume rm $LAB-journal` (or `run --rm -v` of an anonymous one).")


def check_read_only_share(lab: Any, shared: str | Path) -> CheckResult:
    """Exercise 12.2: $LAB-reader runs with the host directory ``shared`` bind-mounted read-only at /shared."""
    hint = ("A bind mount is -v HOST_DIR:CONTAINER_PATH, and a third field (or `readonly` in --mount's long form) "
            "makes it read-only; run it detached with a command that keeps running.")
    found, problem = container_problem(lab.state(), "reader")
    if problem:
        return CheckResult(False, problem, hint)
    assert found is not None
    mount = found.mount_at("/shared")
    if mount is None:
        return CheckResult(False, "$LAB-reader has nothing mounted at /shared.", hint)
    if mount.type != "bind" or Path(mount.source).resolve() != Path(shared).resolve():
        return CheckResult(False, f"/shared in $LAB-reader is a {mount.type} mount of {mount.source or 'a volume'}, "
                                  "not the host directory $WORK/shared.", hint)
    if mount.read_write:
        return CheckResult(False, "/shared is writable in $LAB-reader: add :ro (or readonly).", hint)
    probe = lab.exec("reader", ["touch", "/shared/should-fail"], echo=False)
    if probe.ok:
        return CheckResult(False, "A write to /shared succeeded: the mount is not read-only.", hint)
    return CheckResult(True, "Right: the container sees the host's files live and cannot change them; the same "
                             "directory can be writable in another container at the same time.")


def check_volume_ready_image(lab: Any, tag: str, dockerfile: str | Path) -> CheckResult:
    """Exercise 12.3 (build it): an image that runs as a non-root user and can write to a fresh volume at /data.

    Run for real: a new, empty named volume is mounted at /data, the image's user writes a file there.
    """
    hint = ("In $WORK/data-image/Dockerfile: create /data in a RUN step and `chown 1000:1000 /data` in the same step, "
            "keep USER 1000. A new named volume starts as a copy of the image's /data, owner included. Build it as "
            "$REPO-data-ready.")
    path = Path(dockerfile)
    if not path.exists():
        return CheckResult(False, "There is no $WORK/data-image/Dockerfile yet.", hint)
    problem = lint_problem(path.read_text())
    if problem:
        return CheckResult(False, problem, hint)
    try:
        uid = lab.run(tag, ["id", "-u"], echo=False)
    except ImageMissingError:
        return CheckResult(False, "There is no image $REPO-data-ready yet: build it from $WORK/data-image.", hint)
    except LabError as err:
        return CheckResult(False, f"$REPO-data-ready does not run: {err.message}", hint)
    if uid.output.strip() in ("", "0"):
        return CheckResult(False, "The image runs as root: the exercise is a non-root user that can still write.",
                           hint)
    short = f"grader-{uuid.uuid4().hex[:8]}"
    volume = lab.volume(short, echo=False)
    try:
        wrote = lab.run(tag, ["sh", "-c", "echo ok > /data/probe && cat /data/probe"],
                        volumes=[f"{lab.name_for(short)}:/data"], echo=False)
    finally:
        volume.remove(force=True)
    if not wrote.ok or wrote.output.strip() != "ok":
        return CheckResult(False, f"As uid {uid.output.strip()}, writing to a fresh volume at /data failed: "
                                  f"{wrote.output.strip()[-120:]}", hint)
    return CheckResult(True, f"Right: uid {uid.output.strip()} owns /data in the image, so a new volume starts "
                             "owned by it too. (A bind mount would not: it shows the host directory as it is.)")
