"""Host and engine side of lesson 04: export a root filesystem, chroot into it, mount overlays by
hand, build a small layered image and map a container's overlay mount to that image's layers.

Every mount made here is undone in a ``finally``; every directory lives under the lesson's work
directory in the temp dir and is removed at cleanup. The pure logic lives in
``containerlab.kernel.overlay``; this module only gathers the facts (stat, readlink, inspect).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import LabError
from ..images.tarball import extract_rootfs, read_image
from ..kernel.mountinfo import Mount, OverlayOptions, read_mountinfo, root_mount
from ..kernel.overlay import (
    OPAQUE_XATTR,
    Change,
    ImageLayer,
    LayerEntry,
    LowerDir,
    diff_changes,
    entry_kind,
    image_layer_dirs,
    image_layers,
    layer_change_counts,
    map_lowerdirs,
    merged_paths,
    upper_changes,
)
from ..render.layers import StackLayer, overlay_stack, side_by_side
from ..render.svg import Diagram
from .images import BUSYBOX_IMAGE, _require_tool, build_from_context
from .lab import WORKDIR_PREFIX, Lab, LabContainer
from .progress import Progress

__all__ = ["ENGINE_MARKERS", "LAYERS_IMAGE", "LAYERS_DOCKERFILE", "OWN_LAYERS", "ContainerOverlay", "HandOverlay",
           "build_layers_image",
           "chroot_run", "layers_image", "container_overlay", "export_rootfs", "image_config", "mounts_under",
           "remove_workdir", "reset_workdir", "safe_extract", "scan_layer_dir",
           "workdir_for"]

LAYERS_IMAGE = "containerlab/lesson04-layers"
LAYERS_DOCKERFILE = f"""\
FROM {BUSYBOX_IMAGE}
COPY motd /etc/motd
RUN mkdir -p /srv/www && echo '<h1>hello from a layer</h1>' > /srv/www/index.html
COPY app/ /opt/app/
"""
OWN_LAYERS = 3  # the layers LAYERS_DOCKERFILE adds on top of its base image
LAYERS_FILES = {
    "motd": b"Welcome to the lesson 04 image: this file comes from its own layer.\n",
    "app/run.sh": b"#!/bin/sh\necho 'the app layer says hello'\n",
    "app/settings.conf": b"mode=demo\n",
}
_TEXT_LIMIT = 40
_WORKDIR_PREFIX = WORKDIR_PREFIX


# -- the lesson's work directory ------------------------------------------------------------

def workdir_for(lab: Lab) -> Path:
    """The lesson's scratch directory: <tmp>/containerlab-<lesson number>-<owner> (Lab.workdir, $WORK)."""
    return lab.workdir


def _check_scratch(path: str | os.PathLike[str]) -> Path:
    """Refuse to empty anything but a course work dir in the temp dir, or a path inside one."""
    path = Path(path).resolve()
    tmp = Path(tempfile.gettempdir()).resolve()
    inside = [p for p in (path, *path.parents) if p.parent == tmp and p.name.startswith(_WORKDIR_PREFIX)]
    if not inside:
        raise LabError(f"{path} is not in a course work directory, so it is not removed.",
                       f"Use a directory named {_WORKDIR_PREFIX}* in {tmp} (see workdir_for).")
    return path


def mounts_under(path: str | os.PathLike[str], mounts: Iterable[Mount] | None = None) -> list[str]:
    """Mount points at or below ``path`` in this process's mount table, deepest first."""
    top = os.path.realpath(path)
    table = read_mountinfo("self") if mounts is None else mounts
    found = {m.mount_point for m in table if m.mount_point == top or m.mount_point.startswith(top + "/")}
    return sorted(found, key=lambda p: (-p.count("/"), p))


def _unmount(mount_point: str) -> None:
    result = subprocess.run(["umount", mount_point], capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        subprocess.run(["umount", "-l", mount_point], capture_output=True, text=True, timeout=30)


def remove_workdir(path: str | os.PathLike[str]) -> bool:
    """Unmount whatever is mounted below a course work dir (or a dir in one), then delete it.

    True when there was something to remove.
    """
    path = _check_scratch(path)
    if not path.exists():
        return False
    for mount_point in mounts_under(path):
        _unmount(mount_point)
    shutil.rmtree(path)
    return True


def reset_workdir(path: str | os.PathLike[str]) -> Path:
    """An empty directory at ``path`` (in a course work dir): what an earlier run left is unmounted
    and removed first, so re-running a cell starts from scratch."""
    remove_workdir(path)
    path = _check_scratch(path)
    path.mkdir(mode=0o755, parents=True)
    return path


# -- a root filesystem is a directory tree ------------------------------------------------------

def safe_extract(archive: BinaryIO | Iterable[bytes], dest: str | os.PathLike[str]) -> int:
    """Extract a root filesystem tar stream into ``dest`` safely; return how many entries it had.

    The image package's one safe extractor (:func:`containerlab.images.tarball.extract_rootfs`):
    absolute names, '..', hard links out of the tree and writes through a symbolic link are refused; device
    nodes are skipped; numeric owners are kept when run as root (a root filesystem's files belong to its uids).
    """
    result = extract_rootfs(archive, dest)
    return len(result.written) + len(result.skipped)


# The file each engine puts in every container to say "you are in a container": not the image's.
ENGINE_MARKERS = (".dockerenv", "run/.containerenv")


def export_rootfs(lab: Lab, dest: str | os.PathLike[str], image: str = BUSYBOX_IMAGE) -> Path:
    """`docker export` a fresh container of ``image`` into the directory ``dest`` (created).

    The engine's marker file (Docker's /.dockerenv, Podman's /run/.containerenv, and the empty /run
    Podman makes for it) is left out, so the tree is the same whichever engine exported it.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    box = lab.start(image, ["sleep", "60"], name="exported")
    try:
        safe_extract(box.container.export(), dest)
    finally:
        box.remove()
    for marker in ENGINE_MARKERS:
        (dest / marker).unlink(missing_ok=True)
    if (dest / "run").is_dir() and not any((dest / "run").iterdir()):
        (dest / "run").rmdir()
    return dest


def chroot_run(rootfs: str | os.PathLike[str], script: str, timeout: float = 10) -> subprocess.CompletedProcess:
    """Run ``/bin/sh -c script`` chrooted into ``rootfs`` (as root), with a minimal environment."""
    return subprocess.run([_require_tool("chroot", "coreutils"), str(rootfs), "/bin/sh", "-c", script],
                          capture_output=True, text=True, timeout=timeout,
                          env={"PATH": "/bin:/sbin:/usr/bin:/usr/sbin", "HOME": "/root"})


# -- reading layer directories ------------------------------------------------------------------

def _opaque(path: str) -> bool:
    try:
        return os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False


def _short_text(path: str, size: int) -> str | None:
    if size > _TEXT_LIMIT:
        return None
    try:
        return Path(path).read_bytes().decode("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def scan_layer_dir(root: str | os.PathLike[str]) -> list[LayerEntry]:
    """Every path under a layer (or merged) directory: kind, opaque flag, a small file's text."""
    root = os.fspath(root)
    entries = []
    for current, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(dirs + files):
            full = os.path.join(current, name)
            info = os.lstat(full)
            kind = entry_kind(info.st_mode, info.st_rdev)
            entries.append(LayerEntry(
                path=os.path.relpath(full, root).replace(os.sep, "/"),
                kind=kind,
                opaque=kind == "dir" and _opaque(full),
                text=_short_text(full, info.st_size) if kind == "file" else None,
                size=info.st_size if kind == "file" else 0,
            ))
    return sorted(entries, key=lambda e: e.path)


# -- an overlay mounted by hand -----------------------------------------------------------------

@dataclass(frozen=True)
class HandOverlay:
    """Directories for an overlay mounted by hand: lowers (bottom first), upper, work, merged."""

    root: Path
    lowers: tuple[str, ...]

    @classmethod
    def create(cls, root: str | os.PathLike[str], lowers: Mapping[str, Mapping[str, str]]) -> HandOverlay:
        """Make root/<lower> (bottom first, with their files), root/upper, root/work, root/merged.

        ``root`` must lie in a course work dir: whatever an earlier run left there is removed.
        """
        root = reset_workdir(root)
        for name, files in lowers.items():
            for relative, text in files.items():
                target = root / name / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text + "\n")
        for name in ("upper", "work", "merged"):
            (root / name).mkdir(exist_ok=True)
        return cls(root, tuple(lowers))

    @property
    def upper(self) -> Path:
        return self.root / "upper"

    @property
    def merged(self) -> Path:
        return self.root / "merged"

    @property
    def options(self) -> str:
        """The mount options, relative to root: lowerdir lists the top layer first."""
        return f"lowerdir={':'.join(reversed(self.lowers))},upperdir=upper,workdir=work"

    @property
    def command(self) -> list[str]:
        """The mount command, run from root."""
        return ["mount", "-t", "overlay", "overlay", "-o", self.options, "merged"]

    @property
    def is_mounted(self) -> bool:
        return bool(mounts_under(self.merged))

    @contextmanager
    def mounted(self) -> Iterator[Path]:
        """Mount the overlay on merged for the ``with`` block; unmounted in a finally, always."""
        result = subprocess.run(self.command, cwd=self.root, capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            raise LabError(f"Mounting the overlay failed: {(result.stderr or result.stdout).strip()}",
                           "Overlay mounts need root with CAP_SYS_ADMIN and a kernel with overlayfs.")
        try:
            yield self.merged
        finally:
            _unmount(str(self.merged))

    def columns(self) -> dict[str, list[LayerEntry]]:
        """Each lower, the upper and (while mounted) the merged dir, scanned."""
        names = [*self.lowers, "upper"] + (["merged"] if self.is_mounted else [])
        return {name: scan_layer_dir(self.root / name) for name in names}

    def table(self) -> str:
        """The directories side by side, one row per path."""
        return side_by_side(self.columns(), width=18)

    def stack(self, title: str = "The overlay mounted by hand") -> Diagram:
        """The layer-stack diagram of this overlay, with sizes and change counts per layer."""
        entries = [scan_layer_dir(self.root / name) for name in (*self.lowers, "upper")]
        counts = layer_change_counts(entries)
        sizes = [sum(e.size for e in layer) for layer in entries]
        lowers = [StackLayer(f"{name}/: {_listing(layer)}", size, count, kind="lower", tag=name)
                  for name, layer, size, count in zip(self.lowers, entries, sizes, counts)]
        upper = StackLayer(f"upper/: {_listing(entries[-1])}", sizes[-1], counts[-1], tag="upper")
        return overlay_stack(lowers, upper=upper, merged="the union that the mount shows at merged/", title=title)


def _listing(entries: list[LayerEntry]) -> str:
    names = [e.path + ("/" if e.kind == "dir" else "") for e in entries if "/" not in e.path]
    return " ".join(names) if names else "(empty)"


# -- a container's overlay ----------------------------------------------------------------------

def _print_instructions(line: str) -> None:
    """Print the build's 'Step N/M : INSTRUCTION' lines, except the LABEL steps (they name the owner)."""
    text = line.strip()
    if text.startswith("Step ") and " : LABEL " not in text:
        print(text, flush=True)


def layers_image(lab: Lab) -> str:
    """This owner's tag of the lesson image, ``containerlab/lesson04-layers:<owner>``.

    One tag per owner: learners sharing an engine each build, run and clean up their own image,
    so one learner's cleanup never removes (or is blocked by) the image another one is using.
    """
    return f"{LAYERS_IMAGE}:{lab.owner[:128]}"


def build_layers_image(lab: Lab, progress: Progress = _print_instructions) -> str:
    """Build the lesson's small layered image (FROM busybox + 3 layers) with the lab's labels; its tag."""
    files = {"Dockerfile": LAYERS_DOCKERFILE.encode(), **LAYERS_FILES}
    tag = layers_image(lab)
    build_from_context(lab.engine, tag, files, progress, lab.labels(), executables={"app/run.sh"})
    return tag


def image_config(lab: Lab, image: str) -> dict[str, Any]:
    """What the image's config says about its layers (rootfs.diff_ids, a history marking empty layers), read from
    `docker save` with the image package's tarball reader (the engine's own digests trusted)."""
    config = read_image(lab.engine.client.api.get_image(image), verify=False).config
    return {"rootfs": {"type": config.rootfs_type, "diff_ids": list(config.diff_ids)},
            "history": [{"created": step.created, "created_by": step.created_by, "comment": step.comment,
                         "empty_layer": step.empty_layer} for step in config.history]}


@dataclass
class ContainerOverlay:
    """A running container's root overlay mount, read from its mountinfo and mapped to image layers."""

    container: LabContainer
    mount: Mount
    lowers: list[LowerDir]
    layers: list[ImageLayer]
    graph: dict[str, Any] = field(repr=False)

    @property
    def name(self) -> str:
        return self.container.short_name

    @property
    def options(self) -> OverlayOptions:
        options = self.mount.overlay
        assert options is not None  # a ContainerOverlay is only made from an overlay mount
        return options

    @property
    def upper(self) -> str:
        """The host directory holding the container's writable layer."""
        return self.options.upperdir or ""

    @property
    def agrees_with_inspect(self) -> bool:
        """Whether mountinfo's lowerdirs (resolved) and upperdir are what `docker inspect` reports."""
        listed = [os.path.normpath(d) for d in (self.graph.get("LowerDir") or "").split(":") if d]
        return ([d.path for d in self.lowers] == listed
                and os.path.normpath(self.upper) == os.path.normpath(self.graph.get("UpperDir", "")))

    def upper_entries(self) -> list[LayerEntry]:
        """What the container's writable layer holds right now."""
        return scan_layer_dir(self.upper)

    def lower_entries(self) -> list[list[LayerEntry]]:
        """The read-only layers' contents, bottom first (the init layer last)."""
        return [scan_layer_dir(d.path) for d in reversed(self.lowers)]

    def changes(self) -> list[Change]:
        """The upper dir's contents as A/C/D changes, worked out from the layer dirs on the host."""
        return upper_changes(self.upper_entries(), merged_paths(self.lower_entries()))

    def engine_changes(self) -> list[Change]:
        """What the engine's `docker diff` says changed."""
        return diff_changes(self.container.container.diff())

    def stack(self, *, counted: int | None = None, title: str = "") -> Diagram:
        """The layer-stack diagram; file-change counts for the top ``counted`` image layers (None: all)."""
        below = self.lower_entries()
        counts = layer_change_counts([*below, self.upper_entries()])
        first_counted = 0 if counted is None else len(self.layers) - counted
        rows = []
        for lower, entries, count in zip(reversed(self.lowers), below, counts):
            if lower.layer is not None:
                shown = count if lower.layer.index >= first_counted else None
                rows.append(StackLayer(lower.layer.label, lower.layer.size, shown))
            else:
                rows.append(StackLayer(_init_label(entries), kind="init"))
        upper = StackLayer("the container's writable layer", changes=counts[-1])
        return overlay_stack(rows, upper=upper, merged=f"what {self.name} sees as /",
                           title=title or f"Container {self.name}: its overlay root")


def _init_label(entries: list[LayerEntry]) -> str:
    files = ["/" + e.path for e in entries if e.kind != "dir"]
    return "made by the engine: " + (", ".join(files) or "(empty)")


def container_overlay(lab: Lab, container: LabContainer) -> ContainerOverlay:
    """Read a running container's root mount from /proc/PID/mountinfo and map it to its image's layers."""
    data = container.inspect()
    graph = data.get("GraphDriver") or {}
    if graph.get("Name") not in ("overlay2", "overlay"):
        raise LabError(f"{container.short_name} is stored by the {graph.get('Name')!r} driver, not overlay.",
                       "This part needs an engine using overlay2 (Docker's default) or overlay.")
    mount = root_mount(read_mountinfo(data["State"]["Pid"]))
    if mount is None or mount.overlay is None:
        raise LabError(f"{container.short_name}'s root is not an overlay mount.",
                       "Check 'docker info' for the storage driver; rootless engines may use fuse-overlayfs.")
    options = mount.overlay
    image = lab.engine.client.api.inspect_image(data["Image"])
    layers = image_layers(image_config(lab, data["Image"]), lab.engine.client.api.history(data["Image"]))
    links = {d: os.path.realpath(d) for d in options.lowerdirs}
    lowers = map_lowerdirs(options.lowerdirs, image_layer_dirs(image["GraphDriver"]), layers, links)
    return ContainerOverlay(container, mount, lowers, layers, graph.get("Data") or {})


