"""Writing a layer (or an exported root filesystem) to a directory: the package's one safe extractor.

Every name comes through :func:`~.tar.layer_entry` (clean, relative, whiteouts decoded and checked), then is
written through file descriptors: each directory is opened relative to its parent with ``O_NOFOLLOW``, every
file, link and removal happens relative to its directory's descriptor. So nothing is written or deleted through
a symbolic link, no path is resolved against anything but the target, and a path thousands of directories deep
costs one system call per new directory (the directories already seen are remembered), not one per component
per entry. Device nodes are never made, set-uid bits never kept; owners only for root filesystems extracted
by root.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

from ...errors import LabError, ParseError
from ..budget import Budget, Meter
from .blobs import _archive_path, _LayerDecoder, parse_archive
from .report import ExtractResult, LayerReport, TarEntry
from .stack import _mismatch
from .tar import _HOSTILE_HINT, Source, _Member, _Sink, layer_entry, whiteout_of

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_WRITE_HINT = "Extract into an empty directory on a disk with room; names must fit the file system."


class _FileWriter:
    def __init__(self, handle: int, tree: _SafeTree, relative: str) -> None:
        self.handle = handle
        self.tree = tree
        self.relative = relative

    def write(self, data: memoryview) -> None:
        try:
            while len(data):
                written = os.write(self.handle, data)
                data = data[written:]
        except OSError as err:
            raise self.tree.os_error(err, self.relative) from None

    def close(self) -> None:
        os.close(self.handle)


class _SafeTree:
    """Writes checked entries under a target directory, relative to directory descriptors, never through a link."""

    def __init__(self, target: Path, label: str, *, scope: str, whiteouts: bool, owners: bool) -> None:
        self.target = target
        self.label = label
        self.scope = scope
        self.outside = "target" if scope == "image" else scope
        self.whiteouts = whiteouts
        self.owners = owners
        self.written: list[str] = []
        self.removed: list[str] = []
        self.skipped: list[str] = []
        self.opaque: list[str] = []
        self._known: dict[str, dict] = {}
        self._open_dir: tuple[str, int] | None = None
        try:
            target.mkdir(parents=True, exist_ok=True)
            self.root = os.open(target, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as err:
            raise LabError(f"Cannot use {target} as the target: {err.strerror}.", _WRITE_HINT) from None

    # -- descriptors ---------------------------------------------------------------------------
    def os_error(self, err: OSError, relative: str) -> LabError:
        """A failed write, as a one-line LabError naming the entry."""
        if err.errno == errno.ENAMETOOLONG:
            return LabError(f"{self.label}: the entry {relative[:80]!r} is too long a name for the file system under "
                            f"{self.target}; nothing more is extracted.", _WRITE_HINT)
        return LabError(f"{self.label}: cannot write {relative[:80]!r} under {self.target} ({err.strerror}); "
                        "nothing more is extracted.", _WRITE_HINT)

    def _forget(self, relative: str) -> None:
        """A directory (and everything under it) was removed or replaced: drop what was remembered of it."""
        *parents, name = relative.split("/")
        node = self._known
        for part in parents:
            node = node.get(part)  # type: ignore[assignment]
            if node is None:
                break
        else:
            node.pop(name, None)
        cached = self._open_dir
        if cached is not None and (cached[0] == relative or cached[0].startswith(relative + "/")):
            os.close(cached[1])
            self._open_dir = None

    def directory(self, relative: str, *, create: bool, keep: bool = True) -> int | None:
        """A descriptor of the directory ``relative`` (''= the target), made when ``create``; None when absent.

        Refuses to pass through a symbolic link. With ``keep`` the descriptor stays this object's (valid until
        the next call); without, the caller closes it (unless it is ``self.root``).
        """
        if not relative:
            return self.root
        if self._open_dir is not None and self._open_dir[0] == relative:
            return self._open_dir[1] if keep else os.dup(self._open_dir[1])
        parts = relative.split("/")
        node = self._known
        known = 0
        while known < len(parts) and parts[known] in node:
            node = node[parts[known]]
            known += 1
        fd = os.open("/".join(parts[:known]), _DIRECTORY, dir_fd=self.root) if known else self.root
        try:
            for index in range(known, len(parts)):
                part = parts[index]
                try:
                    info = os.stat(part, dir_fd=fd, follow_symlinks=False)
                except FileNotFoundError:
                    info = None
                if info is not None and stat.S_ISLNK(info.st_mode):
                    link = "/".join(parts[:index + 1])
                    raise ParseError(f"{self.label}: the entry {relative!r} would be written through the symbolic "
                                     f"link {link!r}, which could point outside the {self.outside}.", _HOSTILE_HINT)
                if info is None or not stat.S_ISDIR(info.st_mode):
                    if not create:
                        self._close(fd)
                        return None
                    if info is not None:
                        os.unlink(part, dir_fd=fd)
                    os.mkdir(part, 0o755, dir_fd=fd)
                child = os.open(part, _DIRECTORY, dir_fd=fd)
                self._close(fd)
                fd = child
                node = node.setdefault(part, {})
        except BaseException:
            self._close(fd)
            raise
        if keep:
            if self._open_dir is not None:
                os.close(self._open_dir[1])
            self._open_dir = (relative, fd)
        return fd

    def _close(self, fd: int) -> None:
        if fd != self.root:
            os.close(fd)

    def close(self) -> None:
        if self._open_dir is not None:
            os.close(self._open_dir[1])
            self._open_dir = None
        os.close(self.root)

    # -- removing ------------------------------------------------------------------------------
    def remove(self, parent: int, name: str, relative: str) -> bool:
        """Remove a file, link or whole directory tree (never following a link); False when nothing was there."""
        try:
            info = os.stat(name, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return False
        if not stat.S_ISDIR(info.st_mode):
            os.unlink(name, dir_fd=parent)
            return True
        self._forget(relative)
        _remove_tree(parent, name)
        return True

    # -- entries -------------------------------------------------------------------------------
    def on_member(self, member: _Member) -> _Sink | None:
        entry = layer_entry(member, self.label, scope=self.scope, whiteouts=self.whiteouts)
        if entry is None:
            return None
        try:
            return self._apply(entry)
        except OSError as err:
            raise self.os_error(err, entry.path) from None

    def _apply(self, entry: TarEntry) -> _Sink | None:
        relative = entry.path
        role, subject = whiteout_of(relative) if self.whiteouts else ("entry", relative)
        if role == "opaque":
            self.opaque.append(subject)
            return None
        if role == "ignored":
            return None
        if role == "whiteout":
            directory, _, name = subject.rpartition("/")
            parent = self.directory(directory, create=False)
            if parent is not None and self.remove(parent, name, subject):
                self.removed.append(subject)
            return None
        if entry.kind in ("char", "block", "fifo"):
            self.skipped.append(relative)
            return None
        directory, _, name = relative.rpartition("/")
        parent = self.directory(directory, create=True)
        assert parent is not None
        if entry.kind == "dir":
            try:
                info: os.stat_result | None = os.stat(name, dir_fd=parent, follow_symlinks=False)
            except FileNotFoundError:
                info = None
            if info is None or not stat.S_ISDIR(info.st_mode):
                if info is not None:
                    os.unlink(name, dir_fd=parent)
                os.mkdir(name, 0o700, dir_fd=parent)
            os.chmod(name, (entry.mode & 0o777) | 0o700, dir_fd=parent)
            self._own(parent, name, entry)
            self.written.append(relative)
            return None
        if entry.kind == "hardlink" and entry.link_target == relative:
            raise ParseError(f"{self.label}: the hard link {relative!r} points at itself.", _HOSTILE_HINT)
        self.remove(parent, name, relative)
        self.written.append(relative)
        if entry.kind == "symlink":
            os.symlink(entry.link_target, name, dir_fd=parent)
            self._own(parent, name, entry)
            return None
        if entry.kind == "hardlink":
            self._hard_link(entry, parent, name)
            return None
        handle = os.open(name, _NEW_FILE, entry.mode & 0o777, dir_fd=parent)
        if self.owners:
            os.fchown(handle, entry.uid, entry.gid)
        return _FileWriter(handle, self, relative)

    def _hard_link(self, entry: TarEntry, parent: int, name: str) -> None:
        source_dir, _, source_name = entry.link_target.rpartition("/")
        refused = ParseError(f"{self.label}: the hard link {entry.path!r} points at {entry.link_target!r}, "
                             "which is not a file extracted before it.", _HOSTILE_HINT)
        source = self.directory(source_dir, create=False, keep=False)
        if source is None:
            raise refused
        try:
            try:
                info = os.stat(source_name, dir_fd=source, follow_symlinks=False)
            except FileNotFoundError:
                raise refused from None
            if not stat.S_ISREG(info.st_mode):
                raise refused
            os.link(source_name, name, src_dir_fd=source, dst_dir_fd=parent, follow_symlinks=False)
        finally:
            self._close(source)

    def _own(self, parent: int, name: str, entry: TarEntry) -> None:
        if self.owners:
            os.chown(name, entry.uid, entry.gid, dir_fd=parent, follow_symlinks=False)

    def finish(self) -> None:
        """Apply the opaque directories: what lower layers left in them goes, what this layer wrote stays."""
        if not self.opaque:
            return
        kept: set[str] = set()
        for path in self.written:
            while path and path not in kept:
                kept.add(path)
                path = path.rpartition("/")[0]
        for directory in self.opaque:
            try:
                fd = self.directory(directory, create=False)
                if fd is None:
                    continue
                prefix = f"{directory}/" if directory else ""
                for name in sorted(entry.name for entry in os.scandir(fd)):
                    relative = prefix + name
                    if relative not in kept:
                        self.remove(fd, name, relative)
                        self.removed.append(relative)
            except OSError as err:
                raise self.os_error(err, directory) from None


def _remove_tree(parent: int, name: str) -> None:
    """Delete the directory ``name`` under ``parent`` with all it holds; iterative, one directory open at a time."""
    path: list[str] = []
    fd = os.open(name, _DIRECTORY, dir_fd=parent)
    try:
        while True:
            below = None
            with os.scandir(fd) as entries:
                for item in entries:
                    if item.is_dir(follow_symlinks=False):
                        below = below or item.name
                    else:
                        os.unlink(item.name, dir_fd=fd)
            if below is not None:
                child = os.open(below, _DIRECTORY, dir_fd=fd)
                os.close(fd)
                fd = child
                path.append(below)
                continue
            if not path:
                break
            up = os.open("..", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = up
            os.rmdir(path.pop(), dir_fd=fd)
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=parent)


class _LayerSink:
    """Receives the chosen layer blob, hashes it, gunzips it and hands its entries to the safe tree."""

    def __init__(self, compressed: bool, tree: _SafeTree, algorithm: str, tar_algorithm: str, meter: Meter) -> None:
        self.tree = tree
        self.raw_hash = hashlib.new(algorithm)
        self.algorithm = algorithm
        self.tar_algorithm = tar_algorithm
        self.decoder = _LayerDecoder(tree.label, compressed, self._on_member,
                                     {tar_algorithm: lambda: hashlib.new(tar_algorithm)}, meter)
        self.meter = meter
        self.seen = False

    def _on_member(self, member: _Member) -> _Sink | None:
        self.meter.spend("entries")
        return self.tree.on_member(member)

    def write(self, data: memoryview) -> None:
        self.seen = True
        self.raw_hash.update(data)
        self.decoder.feed(data)

    def close(self) -> None:
        self.seen = True
        self.decoder.finish()
        self.tree.finish()

    @property
    def digests(self) -> tuple[str, str]:
        """(blob digest, diff_id) of what was extracted."""
        return f"{self.algorithm}:{self.raw_hash.hexdigest()}", self.decoder.diff_ids()[self.tar_algorithm]


def extract_layer(source: Source, layer: LayerReport, target: str | os.PathLike[str], *,
                  verify: bool = True, budget: Budget | None = None) -> ExtractResult:
    """Write one layer's files under ``target`` (created if missing), applying its whiteouts.

    Extract the layers of an image in order into one directory to get its root filesystem.
    Refuses absolute or '..' names, whiteouts of '.' or '..', hard links leaving the image, and any
    write through a symbolic link; never creates device nodes, setuid bits or other owners. ``source``
    must be readable again (a path or bytes), since the reader does not keep layer contents.
    Budget (:class:`Budget`): 1,000,000 entries, 1 TiB read and inflated, 600 seconds; memory a few MiB.
    """
    if not isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview)):
        raise LabError("extract_layer needs to read the tarball again, and a stream can be read only once.",
                       "Pass the tarball's path (or its bytes).")
    meter = Meter(budget, f"layer {layer.member}")
    root = Path(target)
    tree = _SafeTree(root, f"layer {layer.member}", scope="image", whiteouts=True, owners=False)
    def algorithm_of(digest: str) -> str:
        return digest.partition(":")[0] if digest.startswith("sha512:") else "sha256"

    sink = _LayerSink(layer.compression == "gzip", tree, algorithm_of(layer.digest), algorithm_of(layer.diff_id), meter)
    wanted = _archive_path(layer.member)

    def on_member(member: _Member) -> _Sink | None:
        return sink if member.kind == "file" and _archive_path(member.name) == wanted and not sink.seen else None

    try:
        parse_archive(source, meter, "the image tarball", on_member)
    finally:
        tree.close()
    if not sink.seen:
        raise ParseError(f"The tarball has no member {layer.member!r}.", "Pass a layer read from this same tarball.")
    digest, diff_id = sink.digests
    if verify and (digest != layer.digest or diff_id != layer.diff_id):
        raise _mismatch(f"layer {layer.member} (already written to {root})", layer.diff_id, diff_id)
    return ExtractResult(root, tuple(tree.written), tuple(tree.removed), tuple(tree.skipped))


def extract_rootfs(source: Source, target: str | os.PathLike[str], *, budget: Budget | None = None) -> ExtractResult:
    """Write a root filesystem tar (`docker export`, a plain tar stream) under ``target``, safely.

    The same rules as :func:`extract_layer`, with '.wh.' names taken as plain files (a root filesystem has no
    whiteouts) and, when run as root, the entries' numeric owners kept. Device nodes are skipped (listed in
    ``skipped``): the course's runtimes make their own /dev. Budget as for extract_layer.
    """
    meter = Meter(budget, "the root filesystem archive")
    root = Path(target)
    tree = _SafeTree(root, "the root filesystem archive", scope="root filesystem", whiteouts=False,
                     owners=os.geteuid() == 0)

    def on_member(member: _Member) -> _Sink | None:
        meter.spend("entries")
        return tree.on_member(member)

    try:
        parse_archive(source, meter, "the root filesystem archive", on_member)
    finally:
        tree.close()
    return ExtractResult(root, tuple(tree.written), tuple(tree.removed), tuple(tree.skipped))
