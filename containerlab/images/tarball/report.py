"""What the image tarball reader reports: tar entries, file changes, layers, images, extraction results.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ...errors import LabError
from ..manifest import (
    HistoryEntry,
    ImageConfig,
)


# -- models -------------------------------------------------------------------------------
class TarEntry(NamedTuple):
    """One entry of a layer's tar, name normalised ('etc/passwd', no './', no trailing '/')."""

    path: str
    kind: str
    size: int
    mode: int
    uid: int
    gid: int
    mtime: int
    link_target: str = ""


class FileChange(NamedTuple):
    """A path a layer added, modified or deleted; ``previous_layer`` held the version it replaced."""

    path: str
    kind: str
    size: int
    link_target: str = ""
    previous_layer: int | None = None


@dataclass(frozen=True)
class LayerReport:
    """One layer: its blob, what made it, and what it changed in the stacked filesystem."""

    index: int
    member: str
    digest: str
    diff_id: str
    media_type: str
    compression: str
    size: int
    uncompressed_size: int
    history: HistoryEntry | None
    entries: tuple[TarEntry, ...]
    added: tuple[FileChange, ...]
    modified: tuple[FileChange, ...]
    deleted: tuple[FileChange, ...]
    whiteouts: tuple[str, ...]
    opaque_dirs: tuple[str, ...]
    wasted_bytes: int

    @property
    def instruction(self) -> str:
        """The Dockerfile instruction that made this layer ('' when the history does not say)."""
        return self.history.instruction if self.history else ""

    @property
    def files_size(self) -> int:
        """Bytes of regular-file content this layer stores (hard links add none)."""
        return sum(entry.size for entry in self.entries if entry.kind == "file")

    @property
    def disk_size(self) -> int:
        """Bytes on disk as Docker counts a layer (`docker history` SIZE): file contents plus symlink targets."""
        return self.files_size + sum(len(e.link_target.encode("utf-8", "surrogateescape"))
                                     for e in self.entries if e.kind == "symlink")

    @property
    def symlinks(self) -> dict[str, str]:
        """Symbolic links in this layer: path -> target as written."""
        return {e.path: e.link_target for e in self.entries if e.kind == "symlink"}

    @property
    def hardlinks(self) -> dict[str, str]:
        """Hard links in this layer: path -> the path it shares its data with."""
        return {e.path: e.link_target for e in self.entries if e.kind == "hardlink"}

    @property
    def short_id(self) -> str:
        """The first 12 hex digits of the diff_id."""
        return self.diff_id.split(":", 1)[-1][:12]

    def counts(self) -> dict[str, int]:
        """How many paths this layer added, modified and deleted."""
        return {"added": len(self.added), "modified": len(self.modified), "deleted": len(self.deleted)}


@dataclass(frozen=True)
class ImageReport:
    """An image read from a tarball: config, history, layers and whole-image totals."""

    layout: str
    tags: tuple[str, ...]
    config_digest: str
    manifest_digest: str | None
    config: ImageConfig
    layers: tuple[LayerReport, ...]
    file_count: int
    visible_size: int
    dive_wasted_bytes: int
    efficiency: float

    @property
    def id(self) -> str:
        """The image ID: the digest of its config."""
        return self.config_digest

    @property
    def history(self) -> tuple[HistoryEntry, ...]:
        """Every build step, including the ones that made no layer."""
        return self.config.history

    @property
    def diff_ids(self) -> tuple[str, ...]:
        """The uncompressed layer digests, bottom up."""
        return tuple(layer.diff_id for layer in self.layers)

    @property
    def size(self) -> int:
        """Bytes of all layer blobs as stored in the tarball (compressed where they are)."""
        return sum(layer.size for layer in self.layers)

    @property
    def uncompressed_size(self) -> int:
        """Bytes of all layer tars, uncompressed."""
        return sum(layer.uncompressed_size for layer in self.layers)

    @property
    def files_size(self) -> int:
        """Bytes of file content in all layers together."""
        return sum(layer.files_size for layer in self.layers)

    @property
    def wasted_bytes(self) -> int:
        """Bytes stored in some layer but hidden in the final image (overwritten or deleted later)."""
        return sum(layer.wasted_bytes for layer in self.layers)

    @property
    def name(self) -> str:
        """The first tag, or the short image ID when untagged."""
        return self.tags[0] if self.tags else self.config_digest.split(":", 1)[-1][:12]

    def layer(self, key: int | str) -> LayerReport:
        """A layer by index, diff_id, blob digest or 12-digit short ID."""
        if isinstance(key, int):
            return self.layers[key]
        for layer in self.layers:
            if key in (layer.diff_id, layer.digest, layer.short_id):
                return layer
        raise LabError(f"The image {self.name} has no layer {key!r}.",
                       "Use an index, a diff_id or a digest from image.layers.")


@dataclass(frozen=True)
class ExtractResult:
    """What extract_layer wrote into its target, and what it deliberately skipped."""

    target: Path
    written: tuple[str, ...]
    removed: tuple[str, ...]
    skipped: tuple[str, ...]


