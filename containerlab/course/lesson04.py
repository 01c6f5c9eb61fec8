"""Exercise checks for lesson 04, root filesystems and overlays.

Each compares an answer with the real thing where there is one (the container's upper dir on
the host, its overlay mount's lowerdirs) and says what to look at next when it is wrong.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..kernel.overlay import LowerDir, entry_kind, is_whiteout
from .engine_checks import container_problem
from .grading import CheckResult, unanswered

__all__ = ["check_whiteout_marker", "check_whiteout_path", "check_layer_position", "check_deleted_in_terminal",
           "check_layer_hides"]

_CHAR_WORDS = ("c", "char", "chr", "character", "character device", "char device", "character special file",
               "s_ifchr")


def _marker_parts(answer: Any) -> tuple[str, list[int]]:
    """The file type words and the numbers of an answer given as a tuple, a list or a string."""
    items = answer if isinstance(answer, (tuple, list)) else [answer]
    text = " ".join(str(item) for item in items).lower()
    return " ".join(re.sub(r"[^a-z_ ]+", " ", text).split()), [int(n) for n in re.findall(r"\d+", text)]


def check_whiteout_marker(answer: Any) -> CheckResult:
    """Exercise 04.1: which file type and device numbers mark a whiteout in an upper dir."""
    hint = ("Look at upper/app.txt after deleting app.txt through the overlay: os.lstat() tells its type "
            "(stat.S_ISCHR, S_ISREG, ...) and st_rdev its numbers (os.major, os.minor).")
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    kind, numbers = _marker_parts(answer)
    if not kind:
        return CheckResult(False, "Name the file type too, e.g. ('character device', major, minor).", hint)
    if kind not in _CHAR_WORDS:
        if "block" in kind or kind == "b":
            return CheckResult(False, "Not a block device: look at the first letter `ls -l` prints for it.", hint)
        return CheckResult(False, f"A whiteout is not a {kind!r}.", hint)
    if len(numbers) != 2:
        return CheckResult(False, "Give both device numbers: major and minor.", hint)
    if numbers != [0, 0]:
        return CheckResult(False, f"The type is right, but {numbers[0]}/{numbers[1]} are not the numbers.", hint)
    return CheckResult(True, "Right: a character device with device number 0/0 means 'deleted here'; "
                             "overlayfs hides that path in every layer below.")


def check_whiteout_path(answer: Any, upper_dir: str) -> CheckResult:
    """Exercise 04.2: the host path, in the container's upper dir, that marks /etc/motd as deleted."""
    hint = ("The deletion is recorded in the container's writable layer on the host: its upper dir "
            "(overlay.upper, or upperdir= in the mount options) joined with the path inside the container.")
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    given = os.path.normpath(str(answer))
    expected = os.path.join(os.path.normpath(upper_dir), "etc", "motd")
    if given == "/etc/motd":
        return CheckResult(False, "/etc/motd is the path inside the container; the whiteout lives on the host, "
                                  "in the upper dir.", hint)
    if given != expected:
        if not given.startswith(os.path.normpath(upper_dir) + os.sep):
            return CheckResult(False, f"{given} is not inside this container's upper dir.", hint)
        return CheckResult(False, f"{given} is in the upper dir, but it is not the entry for /etc/motd.", hint)
    try:
        info = os.lstat(given)
    except FileNotFoundError:
        return CheckResult(False, "That is the right place, but there is no whiteout there yet: delete /etc/motd "
                                  "in the container first (rm /etc/motd).", hint)
    if not is_whiteout(info.st_mode, info.st_rdev):
        return CheckResult(False, f"That is the right place, but it holds a {entry_kind(info.st_mode, info.st_rdev)}, "
                                  "not a whiteout.", hint)
    return CheckResult(True, "Right: the upper dir holds a whiteout (character device 0/0) at etc/motd; the image "
                             "layer below still has the file, the container just cannot see it.")


def check_layer_position(answer: Any, lowers: Sequence[LowerDir], label: str = "COPY /etc/motd") -> CheckResult:
    """Exercise 04.3: where (1 = first in lowerdir=) the mount lists the image layer made by ``label``."""
    hint = ("lowerdir= lists the TOP layer first, and for a Docker container the very first entry is the "
            "engine's init layer. Count from 1.")
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    target = next((lower for lower in lowers if lower.layer is not None and lower.layer.label == label), None)
    if target is None:
        return CheckResult(False, f"This container's mount has no layer made by {label!r}.",
                           "Run the cells that build the image and start the container first.")
    try:
        position = int(answer)
    except (TypeError, ValueError):
        return CheckResult(False, f"{answer!r} is not a position (a whole number).", hint)
    actual = target.position + 1
    layer = target.layer
    assert layer is not None  # chosen above for having one
    if position == actual:
        return CheckResult(True, f"Right: lowerdir number {actual}. Below the init layer, the image's layers come "
                                 f"from the top down, so its layer {layer.index + 1} (counted from the bottom) "
                                 f"sits at position {actual}.")
    if position == layer.index + 1:
        return CheckResult(False, f"{position} counts from the bottom of the image; the mount lists the top first.",
                           hint)
    if position == actual - 1:
        return CheckResult(False, "One short: did you count from 0, or leave out the init layer?", hint)
    return CheckResult(False, f"Lowerdir {position} is not the {label} layer.", hint)


def check_deleted_in_terminal(lab: Any, overlay: Any, path: str = "/srv/www") -> CheckResult:
    """Exercise 04.4 (terminal): ``path`` deleted inside the running $LAB-layered, seen in its upper dir and diff.

    ``overlay`` is the container's `ContainerOverlay`: its upper dir on the host and the engine's `docker diff`.
    """
    hint = (f"In a terminal (after the source line): `$ENGINE exec $LAB-layered rm -r {path}`, then "
            "`$ENGINE diff $LAB-layered` lists it with a D.")
    _, problem = container_problem(lab.state(), "layered")
    if problem:
        return CheckResult(False, problem, hint)
    marker = os.path.join(overlay.upper, path.strip("/"))
    try:
        info = os.lstat(marker)
    except OSError:
        return CheckResult(False, f"The upper dir holds nothing at {path} yet: it is still the image's.", hint)
    if not is_whiteout(info.st_mode, info.st_rdev):
        return CheckResult(False, f"The upper dir holds {path} as a {entry_kind(info.st_mode)}, not a whiteout: "
                                  "it is still there inside the container.", hint)
    if not any(change.kind == "D" and change.path == path for change in overlay.engine_changes()):
        return CheckResult(False, f"The upper dir has a whiteout at {path}, but `$ENGINE diff` does not list "
                                  f"D {path}.", hint)
    return CheckResult(True, f"Right: deleting {path} left a whiteout (a 0/0 character device) in the container's "
                             f"upper dir, which `$ENGINE diff` reports as D {path}; the image layer below keeps it.")


def _mount_read_only(lowers: Sequence[Path], merged: Path) -> str:
    """Mount ``lowers`` (top first) as a read-only overlay at ``merged``: '' when mounted, else why not."""
    options = "lowerdir=" + ":".join(str(lower) for lower in lowers)
    ran = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, str(merged)],
                         capture_output=True, text=True, timeout=30)
    return "" if ran.returncode == 0 else (ran.stderr or ran.stdout).strip() or f"mount exited {ran.returncode}"


def _unmount(merged: Path) -> None:
    if subprocess.run(["umount", str(merged)], capture_output=True, timeout=30).returncode != 0:
        subprocess.run(["umount", "-l", str(merged)], capture_output=True, timeout=30)


def check_layer_hides(layer: Any, base: Any, hidden: str = "secret.txt", added: str = "hello.txt",
                      text: str = "hi") -> CheckResult:
    """Exercise 04.5 (build it): a layer directory that, stacked on ``base``, hides ``hidden`` and adds ``added``.

    The grader stacks the two as an image does, ``lowerdir=layer:base`` read-only at a fresh ``merged`` beside
    them, and reads the union: ``hidden`` must be gone (a whiteout in the layer), ``added`` must hold ``text``, the
    base's other files must show through, and the base itself must be untouched. Unmounted in a finally.
    """
    hint = (f"A deletion in a layer is a whiteout: a character device numbered 0/0 with the deleted file's name, "
            f"made with os.mknod(layer / '{hidden}', stat.S_IFCHR, os.makedev(0, 0)) (or `mknod {hidden} c 0 0`). "
            f"Then write {added}. Change nothing in the base: a layer never edits the ones below.")
    missing = unanswered(layer, hint)
    if missing is not None:
        return missing
    layer_dir, base_dir = Path(str(layer)), Path(str(base))
    if not layer_dir.is_dir():
        return CheckResult(False, f"{layer_dir} is not a directory.", hint)
    base_files = sorted(entry.name for entry in base_dir.iterdir())
    if hidden not in base_files:
        return CheckResult(False, f"The base has lost {hidden}: you deleted it there. Run the cell that makes the "
                                  "base again, and change only the layer.", hint)
    if os.geteuid() != 0:
        return CheckResult(False, "Mounting the layers needs root, which this notebook does not have here.", hint)
    merged = layer_dir.parent / "merged"
    merged.mkdir(exist_ok=True)
    problem = _mount_read_only([layer_dir, base_dir], merged)
    if problem:
        return CheckResult(False, f"The kernel would not mount your layer over the base: {problem}", hint)
    try:
        seen = sorted(entry.name for entry in merged.iterdir())
        added_text = (merged / added).read_text().strip() if (merged / added).is_file() else None
    finally:
        _unmount(merged)
    if hidden in seen:
        kind = entry_kind(os.lstat(layer_dir / hidden).st_mode) if os.path.lexists(layer_dir / hidden) else ""
        said = f" (the layer holds it as a {kind}, which replaces it)" if kind else ""
        return CheckResult(False, f"Mounted, the union still shows {hidden}{said}.", hint)
    lost = [name for name in base_files if name != hidden and name not in seen]
    if lost:
        return CheckResult(False, f"Mounted, the union hides {', '.join(lost)} too: only {hidden} should go.", hint)
    if added_text is None:
        return CheckResult(False, f"Mounted, the union hides {hidden}, but has no file {added}.", hint)
    if added_text != text:
        return CheckResult(False, f"{added} holds {added_text[:40]!r}, not {text!r}.", hint)
    return CheckResult(True, f"Right: mounted over the base, your layer hides {hidden} with a whiteout and adds "
                             f"{added}, while the base still holds {hidden}: what every image layer that deletes "
                             "a file does.")
