"""Pure overlayfs logic: whiteouts and opaque dirs from stat results, what an upper dir changed,
and which lowerdir of a container's overlay mount is which image layer.

Standard library only. The host side (stat, readlink, the engine's inspect data) is gathered
by ``containerlab.engine.overlay``; everything here takes that data as plain values, so tests
run on recorded fixtures.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ParseError
from ..images.manifest import instruction_of

__all__ = ["OPAQUE_XATTR", "WHITEOUT_DEVICE", "Change", "ChangeCounts", "ImageLayer", "LayerEntry",
           "LowerDir", "diff_changes", "entry_kind", "image_layer_dirs", "image_layers", "is_whiteout",
           "layer_change_counts", "map_lowerdirs", "merged_paths", "history_label", "upper_changes"]

OPAQUE_XATTR = "trusted.overlay.opaque"
WHITEOUT_DEVICE = (0, 0)
_INSPECT_HINT = "Pass the unmodified JSON of `docker inspect` and `docker history` for this image."


def is_whiteout(mode: int, rdev: int) -> bool:
    """Whether a stat result is an overlayfs whiteout: a character device numbered 0/0."""
    return stat.S_ISCHR(mode) and (os.major(rdev), os.minor(rdev)) == WHITEOUT_DEVICE


def entry_kind(mode: int, rdev: int = 0) -> str:
    """A layer entry's kind from its stat mode: file, dir, symlink, whiteout, device or other."""
    if is_whiteout(mode, rdev):
        return "whiteout"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "other"


@dataclass(frozen=True)
class LayerEntry:
    """One path inside a layer directory (relative, '/'-separated) and what it is there."""

    path: str
    kind: str
    opaque: bool = False
    text: str | None = None
    size: int = 0

    @property
    def shown(self) -> str:
        """A short description: a small file's text, 'whiteout', 'opaque dir', 'dir', ..."""
        if self.kind == "dir":
            return "opaque dir" if self.opaque else "dir"
        if self.kind == "whiteout":
            return "whiteout c 0/0"
        if self.kind == "file" and self.text is not None:
            return repr(self.text)
        return self.kind


@dataclass(frozen=True, order=True)
class Change:
    """A change as `docker diff` reports it: A (added), C (changed) or D (deleted), and the path."""

    path: str
    kind: str

    def __str__(self) -> str:
        return f"{self.kind} {self.path}"


@dataclass(frozen=True)
class ChangeCounts:
    """How many non-directory paths a layer adds, changes and deletes."""

    added: int = 0
    changed: int = 0
    deleted: int = 0

    def __str__(self) -> str:
        parts = [f"+{self.added}" if self.added else "", f"~{self.changed}" if self.changed else "",
                 f"\N{MINUS SIGN}{self.deleted}" if self.deleted else ""]
        return " ".join(part for part in parts if part) or "no files"


def _container_path(path: str) -> str:
    return "/" + path.strip("/")


def upper_changes(entries: Iterable[LayerEntry], in_lower: Collection[str]) -> list[Change]:
    """What an upper dir changed, docker-diff style: whiteouts are D, paths also below are C, the rest A.

    ``in_lower`` holds the container paths ('/etc/motd') that the lower layers provide.
    """
    changes = []
    for entry in entries:
        path = _container_path(entry.path)
        kind = "D" if entry.kind == "whiteout" else ("C" if path in in_lower else "A")
        changes.append(Change(path, kind))
    return sorted(changes)


_DIFF_KINDS = {0: "C", 1: "A", 2: "D"}


def diff_changes(diff: Iterable[Mapping[str, Any]] | None) -> list[Change]:
    """The engine's `docker diff` answer ([{'Path': ..., 'Kind': 0|1|2}]) as sorted Changes."""
    changes = []
    for item in diff or []:
        try:
            changes.append(Change(item["Path"], _DIFF_KINDS[item["Kind"]]))
        except (KeyError, TypeError):
            raise ParseError(f"not a docker diff entry: {item!r}",
                             "Pass the list the engine returns for GET /containers/ID/changes.") from None
    return sorted(changes)


def _apply_layer(present: set[str], entries: Iterable[LayerEntry]) -> ChangeCounts:
    """Lay one layer over ``present`` (container paths, updated in place) as overlayfs would.

    A whiteout removes a path and everything under it; an opaque dir hides what the layers below
    had inside it. Counts only non-directory paths.
    """
    added = changed = deleted = 0
    ordered = sorted(entries, key=lambda e: e.path)
    for entry in ordered:
        if entry.kind == "dir" and entry.opaque:
            inside = _container_path(entry.path) + "/"
            present.difference_update({p for p in present if p.startswith(inside)})
    for entry in ordered:
        path = _container_path(entry.path)
        if entry.kind == "whiteout":
            deleted += 1
            present.difference_update({p for p in present if p == path or p.startswith(path + "/")})
        elif entry.kind == "dir":
            present.add(path)
        elif path in present:
            changed += 1
        else:
            added += 1
            present.add(path)
    return ChangeCounts(added, changed, deleted)


def layer_change_counts(layers: Sequence[Iterable[LayerEntry]]) -> list[ChangeCounts]:
    """Per layer (bottom first): non-directory paths it adds, changes (had below) and deletes."""
    present: set[str] = set()
    return [_apply_layer(present, entries) for entries in layers]


def merged_paths(layers: Sequence[Iterable[LayerEntry]]) -> set[str]:
    """The container paths ('/etc/motd', dirs too) that a stack of layers (bottom first) shows."""
    present: set[str] = set()
    for entries in layers:
        _apply_layer(present, entries)
    return present


# -- image layers ---------------------------------------------------------------------------

_SOURCE_HASH = re.compile(r"^(COPY|ADD)\s+(?:(?:file|dir|multi):[0-9a-f]+\s+)?in\s+")


def history_label(created_by: str, comment: str = "") -> str:
    """A short, stable label for a history entry: 'COPY /etc/motd', 'RUN mkdir -p /srv', 'import'.

    The instruction in the images model's one normal form (:func:`containerlab.images.manifest.instruction_of`),
    without what varies between hosts: content hashes of COPY / ADD sources.
    """
    text = instruction_of(" ".join(created_by.split()))
    if not text:
        return "import" if "import" in comment.lower() else "(no instruction recorded)"
    hashed = _SOURCE_HASH.match(text)
    if hashed:
        text = f"{hashed.group(1)} {text[hashed.end():]}"
    return text.strip()


@dataclass(frozen=True)
class ImageLayer:
    """One read-only layer of an image, bottom layer first (index 0)."""

    index: int
    diff_id: str
    created_by: str
    size: int | None = None
    comment: str = ""

    @property
    def label(self) -> str:
        """The instruction that made this layer, shortened ('RUN mkdir -p /srv/www')."""
        return history_label(self.created_by, self.comment)


def image_layers(config: Mapping[str, Any], history: Sequence[Mapping[str, Any]] | None = None) -> list[ImageLayer]:
    """Pair an image config's layers (rootfs.diff_ids) with the history entries that made them.

    ``config`` is the image's config JSON (from `docker save` or a registry); its history marks
    instructions that made no layer with ``empty_layer``. ``history`` is the engine's history
    answer (newest first), used only for per-layer sizes.
    """
    rootfs = config.get("rootfs") if isinstance(config, Mapping) else None
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, Mapping) else None
    if not isinstance(diff_ids, list) or not _is_list_of(diff_ids, str):
        raise ParseError("image config without rootfs.diff_ids (a list of digests)", _INSPECT_HINT)
    steps = config.get("history") or []
    if not isinstance(steps, list) or not _is_list_of(steps, Mapping) or not all(
            isinstance(step.get(key, ""), str) for step in steps for key in ("created_by", "comment")):
        raise ParseError("the image config's history is not a list of entries with text", _INSPECT_HINT)
    sizes: list[int | None] = [None] * len(steps)
    if history is not None:
        if not isinstance(history, list) or not _is_list_of(history, Mapping) or not all(
                isinstance(entry.get("Size", 0), int) for entry in history):
            raise ParseError("the engine's history is not a list of entries with a Size", _INSPECT_HINT)
        if len(history) != len(steps):
            raise ParseError(f"the engine's history has {len(history)} entries, the config {len(steps)}",
                             _INSPECT_HINT)
        sizes = [int(entry.get("Size", 0)) for entry in reversed(history)]
    made = [(step, size) for step, size in zip(steps, sizes) if not step.get("empty_layer")]
    if steps and len(made) != len(diff_ids):
        raise ParseError(f"the config names {len(diff_ids)} layers but {len(made)} history entries made one",
                         _INSPECT_HINT)
    if not steps:
        made = [({}, None)] * len(diff_ids)
    return [ImageLayer(index, diff_id, step.get("created_by", ""), size, step.get("comment", ""))
            for index, (diff_id, (step, size)) in enumerate(zip(diff_ids, made))]


def _is_list_of(value: Any, kind: type) -> bool:
    """Whether a JSON value is a list whose items are all of one kind."""
    return isinstance(value, list) and all(isinstance(item, kind) for item in value)


def image_layer_dirs(graph_driver: Mapping[str, Any]) -> list[str]:
    """An overlay image's layer directories, bottom first, from its inspect GraphDriver.

    For an image, UpperDir is its top layer and LowerDir (top first, ':'-separated) the rest.
    """
    data = graph_driver.get("Data") if isinstance(graph_driver, Mapping) else None
    if not isinstance(data, Mapping):
        data = {}
    upper = data.get("UpperDir")
    lower_text = data.get("LowerDir") or ""
    if not upper or not isinstance(upper, str) or not isinstance(lower_text, str):
        raise ParseError("GraphDriver.Data has no UpperDir: not an overlay image",
                         "The layer mapping needs the overlay2 (or overlay) storage driver.")
    lower = [d for d in lower_text.split(":") if d]
    return [*reversed(lower), upper]


@dataclass(frozen=True)
class LowerDir:
    """One lowerdir of a container's overlay mount: where it points and what it holds."""

    position: int
    mounted_as: str
    path: str
    role: str
    layer: ImageLayer | None = None

    @property
    def via_link(self) -> bool:
        """Whether the mount names it through a short symlink (overlay2's l/ directory)."""
        return self.mounted_as != self.path

    def describe(self) -> str:
        """'init layer (made by the engine for this container)' or 'image layer 3: RUN ...'."""
        if self.layer is not None:
            return f"image layer {self.layer.index + 1}: {self.layer.label}"
        if self.role == "init":
            return "init layer (made by the engine for this container)"
        return "not an image layer"


def map_lowerdirs(lowerdirs: Sequence[str], layer_dirs: Sequence[str], layers: Sequence[ImageLayer],
                  links: Mapping[str, str] | None = None) -> list[LowerDir]:
    """Say which image layer each lowerdir (top first, as the mount lists them) is.

    ``layer_dirs`` are the image's layer directories bottom first (see image_layer_dirs) and
    ``layers`` its layers in the same order; ``links`` maps a mounted path (e.g. overlay2's short
    ``l/ABC`` symlinks) to the directory it resolves to. A lowerdir above every image layer that
    is no image layer is the engine's per-container init layer.
    """
    if len(layer_dirs) != len(layers):
        raise ParseError(f"{len(layer_dirs)} layer directories for {len(layers)} image layers",
                         _INSPECT_HINT)
    links = links or {}
    by_dir = {os.path.normpath(path): layer for path, layer in zip(layer_dirs, layers)}
    mapped = []
    for position, mounted in enumerate(lowerdirs):
        path = os.path.normpath(links.get(mounted, mounted))
        layer = by_dir.get(path)
        if layer is not None:
            role = "image"
        elif position == 0 and (path.endswith("-init/diff") or len(lowerdirs) == len(layers) + 1):
            role = "init"
        else:
            role = "unknown"
        mapped.append(LowerDir(position, mounted, path, role, layer))
    return mapped
