"""Writing one layer's files to a directory, the only code of the reader that writes, refusing entries that
would land outside the target.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ...errors import LabError, ParseError
from .blobs import _archive_path, _chunks, _LayerDecoder
from .report import ExtractResult, LayerReport, TarEntry
from .stack import _mismatch
from .tar import (
    _HOSTILE_HINT,
    OPAQUE_MARKER,
    WHITEOUT_PREFIX,
    Source,
    _check_link,
    _layer_path,
    _Member,
    _Sink,
    _TarStream,
)


# -- explicit extraction ------------------------------------------------------------------------
class _FileWriter:
    def __init__(self, handle: int) -> None:
        self.handle = handle

    def write(self, data: memoryview) -> None:
        while len(data):
            written = os.write(self.handle, data)
            data = data[written:]

    def close(self) -> None:
        os.close(self.handle)


class _Extractor:
    """Receives the chosen layer blob, checks its digest, and writes its entries under ``target``."""

    def __init__(self, blob_name: str, compressed: bool, target: Path) -> None:
        self.label = f"layer {blob_name}"
        self.target = target
        self.real_target = os.path.realpath(target)
        self.written: list[str] = []
        self.removed: list[str] = []
        self.skipped: list[str] = []
        self.opaque: list[str] = []
        self.raw_hash = hashlib.sha256()
        self.decoder = _LayerDecoder(self.label, compressed, self._on_entry)
        self.seen = False

    def write(self, data: memoryview) -> None:
        self.seen = True
        self.raw_hash.update(data)
        self.decoder.feed(data)

    def close(self) -> None:
        self.seen = True
        self.decoder.finish()
        for directory in self.opaque:
            self._clear_opaque(directory)

    @property
    def digests(self) -> tuple[str, str]:
        """(blob digest, diff_id) of what was extracted."""
        raw = "sha256:" + self.raw_hash.hexdigest()
        tar = "sha256:" + self.decoder.tar_hash.hexdigest() if self.decoder.tar_hash else raw
        return raw, tar

    def _inside(self, relative: str, *, create: bool) -> Path:
        """The target path for an entry; refuses to pass through any symlink (so nothing escapes)."""
        current = self.target
        parts = relative.split("/")
        for part in parts[:-1]:
            current = current / part
            if current.is_symlink():
                raise ParseError(f"{self.label}: the entry {relative!r} would be written through the symbolic "
                                 f"link {str(current.relative_to(self.target))!r}, which could point outside "
                                 "the target.", _HOSTILE_HINT)
            if create and not current.exists():
                current.mkdir(mode=0o755)
            elif create and not current.is_dir():
                current.unlink()
                current.mkdir(mode=0o755)
        final = current / parts[-1]
        real_parent = os.path.realpath(final.parent)
        if real_parent != self.real_target and not real_parent.startswith(self.real_target + os.sep):
            raise ParseError(f"{self.label}: the entry {relative!r} resolves outside the target.", _HOSTILE_HINT)
        return final

    def _clear(self, path: Path) -> None:
        """Remove a file, link or directory tree without following any link."""
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            path.unlink()
        elif path.is_dir():
            for child in list(path.iterdir()):
                self._clear(child)
            path.rmdir()

    def _clear_opaque(self, directory: str) -> None:
        base = self._inside(directory, create=False) if directory else self.target
        if base.is_symlink() or not base.is_dir():
            return
        prefix = f"{directory}/" if directory else ""
        kept = {p for p in self.written if p.startswith(prefix)}
        for child in sorted(base.iterdir()):
            relative = prefix + child.name
            if relative not in kept and not any(k.startswith(relative + "/") for k in kept):
                self._clear(child)
                self.removed.append(relative)

    def _on_entry(self, member: _Member) -> _Sink | None:
        relative = _layer_path(member.name, self.label)
        if not relative:
            return None
        entry = TarEntry(relative, member.kind, member.size, member.mode & 0o777, 0, 0, 0, member.linkname)
        if entry.kind in ("hardlink", "symlink"):
            entry = _check_link(entry, self.label)
        directory, _, base = relative.rpartition("/")
        if base == OPAQUE_MARKER:
            self.opaque.append(directory)
            return None
        if base.startswith(WHITEOUT_PREFIX):
            if not base.startswith(WHITEOUT_PREFIX * 2):
                doomed = f"{directory}/{base[4:]}" if directory else base[4:]
                path = self._inside(doomed, create=False)
                if path.exists() or path.is_symlink():
                    self._clear(path)
                    self.removed.append(doomed)
            return None
        if entry.kind in ("char", "block", "fifo"):
            self.skipped.append(relative)
            return None
        path = self._inside(relative, create=True)
        if path.is_symlink() or (path.exists() and not (path.is_dir() and entry.kind == "dir")):
            self._clear(path)
        self.written.append(relative)
        if entry.kind == "dir":
            path.mkdir(mode=0o700, exist_ok=True)
            os.chmod(path, entry.mode | 0o700, follow_symlinks=False)
            return None
        if entry.kind == "symlink":
            os.symlink(entry.link_target, path)
            return None
        if entry.kind == "hardlink":
            source = self._inside(entry.link_target, create=False)
            if source.is_symlink() or not source.is_file():
                raise ParseError(f"{self.label}: the hard link {relative!r} points at {entry.link_target!r}, "
                                 "which is not a file extracted before it.", _HOSTILE_HINT)
            os.link(source, path, follow_symlinks=False)
            return None
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        return _FileWriter(os.open(path, flags, entry.mode & 0o777))


def extract_layer(source: Source, layer: LayerReport, target: str | os.PathLike[str], *,
                  verify: bool = True) -> ExtractResult:
    """Write one layer's files under ``target`` (created if missing), applying its whiteouts.

    Extract the layers of an image in order into one directory to get its root filesystem.
    Refuses absolute or '..' names, hard links leaving the image, and any write through a
    symbolic link; never creates device nodes, setuid bits or other owners. ``source`` must
    be readable again (a path or bytes), since the reader does not keep layer contents.
    """
    if not isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview)):
        raise LabError("extract_layer needs to read the tarball again, and a stream can be read only once.",
                       "Pass the tarball's path (or its bytes).")
    root = Path(target)
    root.mkdir(parents=True, exist_ok=True)
    extractor = _Extractor(layer.member, layer.compression == "gzip", root)
    wanted = _archive_path(layer.member)

    def on_member(member: _Member) -> _Sink | None:
        return extractor if member.kind == "file" and _archive_path(member.name) == wanted else None

    parser = _TarStream("the image tarball", on_member)
    for chunk in _chunks(source):
        parser.feed(chunk)
    parser.close()
    if not extractor.seen:
        raise ParseError(f"The tarball has no member {layer.member!r}.", "Pass a layer read from this same tarball.")
    digest, diff_id = extractor.digests
    if verify and (digest != layer.digest or diff_id != layer.diff_id):
        raise _mismatch(f"layer {layer.member} (already written to {root})", layer.diff_id, diff_id)
    return ExtractResult(root, tuple(extractor.written), tuple(extractor.removed), tuple(extractor.skipped))
