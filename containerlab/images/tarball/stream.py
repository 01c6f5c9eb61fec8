"""A streaming reader of image tarballs: `docker save` and OCI image layouts, nothing extracted.

One sequential pass over the bytes (a file, a pipe, or the chunks `docker save` streams
from the engine API) hashes every blob, gunzips compressed layers on the fly and reads
only the tar headers inside them. Then the manifests say which blobs are layers, in which
order, and the layers are stacked the way overlayfs stacks them:

- a path not present below is **added**, a path present below is **modified**;
- ``.wh.NAME`` **deletes** NAME (and everything under it) from the layers below;
- ``.wh..wh..opq`` makes its directory **opaque**: everything under it from lower layers
  is deleted, what this layer puts there stays;
- bytes of a file that a later layer overwrites or deletes are **wasted**: they are still
  stored and shipped in the older layer, but nobody can see them (a file that a surviving
  hard link still names is not wasted). ``ImageReport.dive_wasted_bytes`` is dive's own
  figure, which also counts the surviving copy of every path found in two layers.

Wasted bytes depend on later layers, so layer reports come once the whole tarball is read.
Every blob is checked against its digest (its file name, its descriptor, the config's
``diff_ids``): a mismatch raises :class:`DigestMismatchError`; ``verify=False`` skips
hashing the layers and trusts the stated digests. Malformed or hostile input
(truncated tars, ``..`` or absolute entry names, links that climb out of the image) raises
:class:`ParseError` saying which layer and entry. :func:`extract_layer` is the only code
that writes files, only when called, and refuses entries that would land outside its target.
"""

from __future__ import annotations

import hashlib
import os
import queue
import re
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple, Protocol, Union

from ..errors import DigestMismatchError, LabError, ParseError
from .manifest import (
    INDEX_MEDIA_TYPES,
    MANIFEST_MEDIA_TYPES,
    Descriptor,
    HistoryEntry,
    ImageConfig,
    layer_history,
    parse_archive_manifest,
    parse_config,
    parse_digest,
    parse_index,
    parse_manifest,
)
from .reference import parse_reference

__all__ = [
    "TarEntry", "FileChange", "LayerReport", "ImageReport", "ExtractResult", "Source",
    "read_images", "read_image", "iter_layers", "extract_layer", "WHITEOUT_PREFIX", "OPAQUE_MARKER",
]

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
CHUNK_SIZE = 1 << 20
BLOCK = 512
_ZERO_BLOCK = bytes(BLOCK)
_MAX_EXTENDED_HEADER = 1 << 20
_MAX_BUFFERED_MEMBER = 16 << 20
_MAX_INFLATE = 4 << 20
_MAX_LINK_HOPS = 16
_BLOB_NAME = re.compile(r"^blobs/(sha256|sha512)/([a-f0-9]+)$")
_HEX_CONFIG = re.compile(r"^(?:.*/)?([a-f0-9]{64})(?:\.json)?$")
_KINDS = {b"0": "file", b"\0": "file", b"7": "file", b"1": "hardlink", b"2": "symlink", b"3": "char",
          b"4": "block", b"5": "dir", b"6": "fifo"}
_HEADER_ONLY = frozenset(("hardlink", "symlink", "char", "block", "dir", "fifo"))
_TAR_HINT = "The tarball is damaged or incomplete; save the image again ('docker save -o image.tar IMAGE')."
_HOSTILE_HINT = ("Image layers never contain such entries; this tarball was crafted or damaged. "
                 "Do not load or extract it.")

Source = Union[str, os.PathLike, bytes, bytearray, memoryview, BinaryIO, Iterable[bytes]]
Progress = Callable[[int, Union[int, None]], None]


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
    previous_layer: Union[int, None] = None


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


# -- an incremental tar parser ----------------------------------------------------------------
class _Member:
    """A tar header after extension headers (pax, GNU long names) are applied."""

    __slots__ = ("name", "kind", "size", "mode", "uid", "gid", "mtime", "linkname", "offset")

    def __init__(self, name: str, kind: str, size: int, mode: int, uid: int, gid: int, mtime: int,
                 linkname: str, offset: int) -> None:
        self.name, self.kind, self.size, self.mode = name, kind, size, mode
        self.uid, self.gid, self.mtime, self.linkname, self.offset = uid, gid, mtime, linkname, offset


class _Sink(Protocol):
    """Where a member's data goes: write() any number of times, then close()."""

    def write(self, data: memoryview) -> None: ...

    def close(self) -> None: ...


_HEADER, _DATA, _PAD, _EXTENDED, _END = range(5)


def _number(field_bytes: bytes, what: str, label: str, offset: int) -> int:
    """A tar numeric field: octal text, or GNU base-256 when the high bit is set."""
    if field_bytes and field_bytes[0] & 0x80:
        value = int.from_bytes(field_bytes, "big")
        if field_bytes[0] & 0x40:
            return value - (1 << (8 * len(field_bytes)))
        return value & ~(0x80 << (8 * (len(field_bytes) - 1)))
    try:
        return int(field_bytes.rstrip(b"\0 ") or b"0", 8)
    except ValueError:
        pass
    text = field_bytes.split(b"\0", 1)[0].strip(b" ")
    try:
        return int(text or b"0", 8)
    except ValueError:
        raise ParseError(f"{label}: the tar header at byte {offset} has a bad {what} field {text!r}.",
                         _TAR_HINT) from None


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


class _TarStream:
    """Reads a tar archive from bytes fed in any chunking; reports each member to ``on_member``.

    ``on_member(member)`` returns a _Sink for the member's data or None to skip it. Only
    headers are parsed: skipped data costs nothing but moving a position.
    """

    def __init__(self, label: str, on_member: Callable[[_Member], _Sink | None]) -> None:
        self.label = label
        self._on_member = on_member
        self._state = _HEADER
        self._partial = bytearray()
        self._left = 0
        self._sink: _Sink | None = None
        self._extended = bytearray()
        self._extended_type = b""
        self._pax: dict[str, str] = {}
        self._global_pax: dict[str, str] = {}
        self._long_name: str | None = None
        self._long_link: str | None = None
        self._member_name = ""
        self._data_size = 0
        self.consumed = 0

    @property
    def ended(self) -> bool:
        """True once the end-of-archive marker has been read."""
        return self._state == _END

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Parse the next bytes of the archive."""
        view = memoryview(data)
        end = len(view)
        pos = 0
        while pos < end:
            state = self._state
            if state == _DATA:
                take = min(self._left, end - pos)
                if self._sink is not None:
                    self._sink.write(view[pos:pos + take])
                pos += take
                self._left -= take
                if not self._left:
                    self._end_data()
            elif state == _HEADER:
                if self._partial:
                    take = min(BLOCK - len(self._partial), end - pos)
                    self._partial += view[pos:pos + take]
                    pos += take
                    if len(self._partial) < BLOCK:
                        break
                    block = bytes(self._partial)
                    self._partial.clear()
                elif end - pos >= BLOCK:
                    block = view[pos:pos + BLOCK].tobytes()
                    pos += BLOCK
                else:
                    self._partial += view[pos:end]
                    pos = end
                    break
                self._header(block, self.consumed + pos - BLOCK)
            elif state == _PAD:
                take = min(self._left, end - pos)
                pos += take
                self._left -= take
                if not self._left:
                    self._state = _HEADER
            elif state == _EXTENDED:
                take = min(self._left, end - pos)
                self._extended += view[pos:pos + take]
                pos += take
                self._left -= take
                if not self._left:
                    self._end_extended()
            else:
                break
        self.consumed += end

    def close(self) -> None:
        """Check the archive ended properly (a truncated one raises ParseError)."""
        if self._state == _END:
            return
        if self.consumed == 0:
            raise ParseError(f"{self.label} is empty.", _TAR_HINT)
        where = f" inside {self._member_name!r}" if self._state in (_DATA, _PAD, _EXTENDED) else ""
        raise ParseError(f"{self.label} is truncated: it stops after {self.consumed} bytes{where}, "
                         "before the end-of-archive marker.", _TAR_HINT)

    def _checksum(self, block: bytes, offset: int) -> None:
        try:
            stored = _number(block[148:156], "checksum", self.label, offset)
        except ParseError:
            stored = -1
        unsigned = sum(block) - sum(block[148:156]) + 8 * 32
        if stored == unsigned:
            return
        signed = unsigned - 256 * sum(1 for b in block[:148] + block[156:] if b > 127)
        if stored != signed:
            raise ParseError(f"{self.label}: the data at byte {offset} is not a valid tar header (bad checksum).",
                             _TAR_HINT)

    def _header(self, block: bytes, offset: int) -> None:
        if block == _ZERO_BLOCK:
            self._state = _END
            return
        self._checksum(block, offset)
        type_flag = block[156:157]
        size = _number(block[124:136], "size", self.label, offset)
        if size < 0:
            raise ParseError(f"{self.label}: the tar header at byte {offset} has a negative size.", _TAR_HINT)
        if type_flag in (b"x", b"g", b"L", b"K"):
            if size > _MAX_EXTENDED_HEADER:
                raise ParseError(f"{self.label}: an extended tar header at byte {offset} claims {size} bytes.",
                                 _HOSTILE_HINT)
            self._extended_type = type_flag
            self._extended.clear()
            self._left = size
            self._member_name = "(extended header)"
            self._state = _EXTENDED if size else _HEADER
            if not size:
                self._end_extended()
            return
        name = _text(block[0:100])
        if block[257:263] == b"ustar\x00" and block[345]:
            name = _text(block[345:500]) + "/" + name
        linkname = _text(block[157:257]) if block[157] else ""
        kind = _KINDS.get(type_flag, "file")
        pax = {**self._global_pax, **self._pax} if self._global_pax else self._pax
        if self._long_name is not None:
            name = self._long_name
        if self._long_link is not None:
            linkname = self._long_link
        mtime = _number(block[136:148], "mtime", self.label, offset)
        uid = _number(block[108:116], "uid", self.label, offset)
        gid = _number(block[116:124], "gid", self.label, offset)
        if pax:
            name = pax.get("path", name)
            linkname = pax.get("linkpath", linkname)
            try:
                size = int(pax.get("size", size))
                uid = int(pax.get("uid", uid))
                gid = int(pax.get("gid", gid))
                mtime = int(float(pax.get("mtime", mtime)))
            except ValueError:
                raise ParseError(f"{self.label}: a pax header before byte {offset} has a non-numeric value.",
                                 _TAR_HINT) from None
            self._pax = {}
        self._long_name = self._long_link = None
        member = _Member(name, kind, size, _number(block[100:108], "mode", self.label, offset), uid, gid,
                         mtime, linkname, offset)
        self._member_name = name
        if kind in _HEADER_ONLY:
            size = 0
        self._sink = self._on_member(member)
        self._left = self._data_size = size
        if size:
            self._state = _DATA
        else:
            self._state = _HEADER
            if self._sink is not None:
                self._sink.close()
                self._sink = None

    def _end_data(self) -> None:
        if self._sink is not None:
            sink, self._sink = self._sink, None
            sink.close()
        self._left = (BLOCK - self._data_size % BLOCK) % BLOCK
        self._state = _PAD if self._left else _HEADER

    def _end_extended(self) -> None:
        data = bytes(self._extended)
        self._left = (BLOCK - len(data) % BLOCK) % BLOCK
        kind = self._extended_type
        if kind == b"L":
            self._long_name = _text(data)
        elif kind == b"K":
            self._long_link = _text(data)
        else:
            records = self._pax_records(data)
            if kind == b"g":
                self._global_pax.update(records)
            else:
                self._pax.update(records)
        self._state = _PAD if self._left else _HEADER

    def _pax_records(self, data: bytes) -> dict[str, str]:
        records: dict[str, str] = {}
        pos = 0
        while pos < len(data):
            if data[pos] == 0:
                break
            space = data.find(b" ", pos)
            try:
                length = int(data[pos:space]) if space > pos else 0
            except ValueError:
                length = 0
            record = data[pos:pos + length]
            if length <= 0 or space < 0 or len(record) != length or not record.endswith(b"\n") or b"=" not in record:
                raise ParseError(f"{self.label}: a pax extended header is malformed.", _TAR_HINT)
            key, _, value = record[space - pos + 1:-1].partition(b"=")
            records[key.decode("utf-8", "replace")] = value.decode("utf-8", "surrogateescape")
            pos += length
        return records


# -- path rules ---------------------------------------------------------------------------------
def _layer_path(name: str, label: str) -> str:
    """A layer entry's name as a clean relative path; ParseError for absolute names and '..'."""
    if name.startswith("/"):
        raise ParseError(f"{label}: the entry {name!r} has an absolute path.", _HOSTILE_HINT)
    parts = name.split("/")
    if ".." in parts:
        raise ParseError(f"{label}: the entry {name!r} contains '..' and could land outside the image.",
                         _HOSTILE_HINT)
    if "" in parts or "." in parts:
        parts = [part for part in parts if part not in ("", ".")]
    return "/".join(parts)


def _climbs_out(directory: str, target: str) -> bool:
    """Whether a relative link target, seen from ``directory``, climbs above the root."""
    depth = len([part for part in directory.split("/") if part]) if directory else 0
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def _check_link(entry: TarEntry, label: str) -> TarEntry:
    target = entry.link_target
    if entry.kind == "hardlink":
        if not target:
            raise ParseError(f"{label}: the hard link {entry.path!r} has no target.", _HOSTILE_HINT)
        if target.startswith("/") or ".." in target.split("/"):
            raise ParseError(f"{label}: the hard link {entry.path!r} points outside the image ({target!r}).",
                             _HOSTILE_HINT)
        return entry._replace(link_target=_layer_path(target, label))
    if not target.startswith("/") and _climbs_out(entry.path.rpartition("/")[0], target):
        raise ParseError(f"{label}: the symbolic link {entry.path!r} -> {target!r} climbs out of the image.",
                         _HOSTILE_HINT)
    return entry


# -- decoding one layer blob --------------------------------------------------------------------
class _LayerDecoder:
    """Gunzips (if needed) a layer blob fed in chunks, hashes the tar stream and parses its headers."""

    def __init__(self, label: str, compressed: bool, on_member: Callable[[_Member], _Sink | None],
                 new_hash: Callable[[], Any] | None = hashlib.sha256) -> None:
        self.label = label
        self.compressed = compressed
        self.parser = _TarStream(label, on_member)
        self.tar_hash = new_hash() if compressed and new_hash is not None else None
        self.tar_size = 0
        self._inflate: "zlib._Decompress | None" = None
        self._members = 0

    def feed(self, data: memoryview | bytes) -> None:
        if not self.compressed:
            self.tar_size += len(data)
            self.parser.feed(data)
            return
        while len(data):
            if self._inflate is None:
                stripped = bytes(data).lstrip(b"\0")
                if not stripped:
                    return
                data = stripped
                self._inflate = zlib.decompressobj(wbits=31)
            inflate = self._inflate
            try:
                out = inflate.decompress(data, _MAX_INFLATE)
                while True:
                    self._tar(out)
                    if not inflate.unconsumed_tail:
                        break
                    out = inflate.decompress(inflate.unconsumed_tail, _MAX_INFLATE)
            except zlib.error as err:
                raise ParseError(f"{self.label}: the gzip data is corrupt ({err}).", _TAR_HINT) from None
            if not inflate.eof:
                return
            self._members += 1
            data = inflate.unused_data
            self._inflate = None

    def _tar(self, data: bytes) -> None:
        if self.tar_hash is not None:
            self.tar_hash.update(data)
        self.tar_size += len(data)
        self.parser.feed(data)

    def finish(self) -> None:
        """Check both the gzip stream and the tar archive ended properly."""
        if self.compressed and (self._inflate is not None or not self._members):
            raise ParseError(f"{self.label}: the gzip stream is truncated.", _TAR_HINT)
        self.parser.close()


class _BlobScan:
    """One member of the outer tarball: hashed always; read as a layer when it is a (gzipped) tar."""

    def __init__(self, name: str, size: int, new_hash: Callable[[], Any] | None = hashlib.sha256) -> None:
        self.name = name
        self._new_hash = new_hash
        self.size = size
        self.kind = ""
        self.digest = ""
        self.diff_id = ""
        self.tar_size = 0
        self.data: bytes | None = None
        self.entries: list[TarEntry] = []
        self.error: LabError | None = None
        self._hash = new_hash() if new_hash is not None else None
        self._head = bytearray()
        self._buffer: bytearray | None = None
        self._decoder: _LayerDecoder | None = None

    @property
    def label(self) -> str:
        return f"layer {self.name}"

    def write(self, data: memoryview) -> None:
        if self._hash is not None:
            self._hash.update(data)
        if not self.kind:
            self._head += data
            if len(self._head) < BLOCK:
                return
            self._decide()
            data, self._head = memoryview(bytes(self._head)), bytearray()
        self._consume(data)

    def close(self) -> None:
        if not self.kind:
            self._decide()
            head, self._head = bytes(self._head), bytearray()
            self._consume(memoryview(head))
        if self._buffer is not None:
            self.data = bytes(self._buffer)
        if self._hash is not None:
            self.digest = "sha256:" + self._hash.hexdigest()
        elif self.data is not None:
            self.digest = "sha256:" + hashlib.sha256(self.data).hexdigest()
        decoder = self._decoder
        if decoder is None:
            return
        if self.error is None:
            try:
                decoder.finish()
            except LabError as err:
                self.error = err
        self.tar_size = decoder.tar_size
        if decoder.tar_hash is not None:
            self.diff_id = "sha256:" + decoder.tar_hash.hexdigest()
        elif not decoder.compressed:
            self.diff_id = self.digest

    def _decide(self) -> None:
        head = bytes(self._head)
        if head[:2] == b"\x1f\x8b":
            self.kind = "gzip"
        elif head[:4] == b"\x28\xb5\x2f\xfd":
            self.kind = "zstd"
        elif len(head) >= BLOCK and (head[257:262] == b"ustar" or head[:BLOCK] == _ZERO_BLOCK
                                     or _valid_checksum(head[:BLOCK])):
            self.kind = "tar"
        else:
            self.kind = "other"
        if self.kind in ("tar", "gzip"):
            self._decoder = _LayerDecoder(self.label, self.kind == "gzip", self._on_entry, self._new_hash)
        elif self.size <= _MAX_BUFFERED_MEMBER:
            self._buffer = bytearray()

    def _consume(self, data: memoryview) -> None:
        if self._buffer is not None:
            self._buffer += data
        elif self._decoder is not None and self.error is None:
            try:
                self._decoder.feed(data)
            except LabError as err:
                self.error = err

    def _on_entry(self, member: _Member) -> None:
        label = self.label
        path = _layer_path(member.name, label)
        if not path:
            return None
        entry = TarEntry(path, member.kind, member.size if member.kind == "file" else 0, member.mode & 0o7777,
                         member.uid, member.gid, member.mtime, member.linkname)
        if member.kind in ("hardlink", "symlink"):
            entry = _check_link(entry, label)
        self.entries.append(entry)
        return None


def _valid_checksum(block: bytes) -> bool:
    try:
        stored = int(block[148:156].split(b"\0", 1)[0].strip(b" ") or b"-1", 8)
    except ValueError:
        return False
    return stored == sum(block) - sum(block[148:156]) + 8 * 32


# -- the outer tarball --------------------------------------------------------------------------
def _archive_path(name: str) -> str:
    parts = [part for part in name.split("/") if part not in ("", ".")]
    return "/".join(parts)


class _QueuedHash:
    """A sha256 whose updates run on a _HashWorker's thread, in order; hexdigest() waits for them."""

    def __init__(self, work: "queue.Queue[Any]") -> None:
        self._queue = work
        self._hash = hashlib.sha256()

    def update(self, data: bytes | memoryview) -> None:
        # The worker reads the bytes later: only immutable bytes may be shared (a caller's bytearray is copied).
        if not isinstance(data.obj if isinstance(data, memoryview) else data, bytes):
            data = bytes(data)
        self._queue.put((self._hash, data))

    def hexdigest(self) -> str:
        self._queue.join()
        return self._hash.hexdigest()


class _HashWorker:
    """One thread that hashes blobs while the reading thread parses tar headers.

    hashlib drops the GIL while it hashes a large buffer, so on two cores checking every
    digest costs less: the pass overlaps parsing and hashing instead of adding them (226 MB, two cores:
    about 200 ms instead of 260; trusting the digests takes about 115 ms).
    """

    def __init__(self) -> None:
        self._queue: "queue.Queue[Any]" = queue.Queue(maxsize=4)  # at most 4 chunks (4 MiB) waiting
        self._thread = threading.Thread(target=self._run, name="containerlab-image-hash", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                item[0].update(item[1])
            finally:
                self._queue.task_done()

    def new(self) -> _QueuedHash:
        return _QueuedHash(self._queue)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()


class _Archive:
    """Everything one pass over the outer tarball collected: blobs by member name, and links."""

    def __init__(self, hashes: _HashWorker | None = None) -> None:
        self.hashes = hashes
        self.blobs: dict[str, _BlobScan] = {}
        self.links: dict[str, str] = {}

    def on_member(self, member: _Member) -> _Sink | None:
        name = _archive_path(member.name)
        if member.kind == "file":
            self.links.pop(name, None)
            scan = _BlobScan(name, member.size, self.hashes.new if self.hashes is not None else None)
            self.blobs[name] = scan
            return scan
        if member.kind == "symlink":
            base = name.rpartition("/")[0]
            target = member.linkname if member.linkname.startswith("/") else f"{base}/{member.linkname}"
            self.links[name] = target
        elif member.kind == "hardlink":
            self.links[name] = member.linkname
        return None

    def resolve(self, reference: str, where: str) -> _BlobScan:
        """The blob a manifest names, following links inside the archive; ParseError if absent."""
        if reference.startswith("/") or ".." in reference.split("/"):
            raise ParseError(f"{where} points outside the tarball ({reference!r}).", _HOSTILE_HINT)
        name = _archive_path(reference)
        for _ in range(_MAX_LINK_HOPS):
            if name in self.blobs:
                return self.blobs[name]
            if name not in self.links:
                raise ParseError(f"{where} names {reference!r}, which is not in the tarball.", _TAR_HINT)
            name = _resolve_link(self.links[name], where)
        raise ParseError(f"{where}: {reference!r} is a loop of links.", _HOSTILE_HINT)

    def json(self, name: str, where: str) -> bytes:
        """A small member's bytes (a JSON document)."""
        blob = self.resolve(name, where)
        if blob.data is None:
            raise ParseError(f"{where}: {name!r} is not a JSON document.", _TAR_HINT)
        return blob.data


def _resolve_link(target: str, where: str) -> str:
    parts: list[str] = []
    for part in target.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise ParseError(f"{where}: a link in the tarball points outside it ({target!r}).", _HOSTILE_HINT)
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def _chunks(source: Source, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Bytes of a source in chunks: a path, bytes, a binary file object or an iterable of chunks."""
    if isinstance(source, (str, os.PathLike)):
        try:
            handle = open(source, "rb")
        except OSError as err:
            raise LabError(f"Cannot open the image tarball {os.fspath(source)!r}: {err.strerror}.",
                           "Check the path; create it with 'docker save -o image.tar IMAGE'.") from None
        with handle:
            yield from _chunks(handle, chunk_size)
        return
    if isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source)
        for start in range(0, len(view), chunk_size):
            yield view[start:start + chunk_size]
        return
    read = getattr(source, "read", None)
    if read is not None:
        while True:
            chunk = read(chunk_size)
            if not chunk:
                return
            yield chunk
    else:
        yield from source


def _total_size(source: Source) -> int | None:
    if isinstance(source, (str, os.PathLike)):
        try:
            return os.stat(source).st_size
        except OSError:
            return None
    if isinstance(source, (bytes, bytearray, memoryview)):
        return len(source)
    return None


def _scan(source: Source, progress: Progress | None, hashing: bool = True) -> _Archive:
    hashes = _HashWorker() if hashing else None
    try:
        archive = _Archive(hashes)
        parser = _TarStream("the image tarball", archive.on_member)
        total = _total_size(source)
        for chunk in _chunks(source):
            parser.feed(chunk)
            if progress is not None:
                progress(parser.consumed, total)
        parser.close()
    finally:
        if hashes is not None:
            hashes.close()
    return archive


# -- assembling images --------------------------------------------------------------------------
@dataclass
class _Plan:
    """One image found in the archive: where its config and layers are, and what they should hash to."""

    layout: str
    tags: list[str]
    config_digest: str
    manifest_digest: str | None
    config: ImageConfig
    layer_members: list[str]
    layer_descriptors: list[Descriptor | None] = field(default_factory=list)


def _mismatch(what: str, expected: str, actual: str) -> DigestMismatchError:
    return DigestMismatchError(f"The {what} does not match its digest: expected {expected}, got {actual}.",
                               "The tarball was corrupted or tampered with; save or download the image again.",
                               expected=expected, actual=actual)


def _check_named_blobs(archive: _Archive, verify: bool) -> None:
    """Blobs stored under blobs/<algorithm>/<hex> must hash to their own name."""
    if not verify:
        return
    for name, blob in archive.blobs.items():
        match = _BLOB_NAME.match(name)
        if match and match.group(1) == "sha256" and blob.digest != f"sha256:{match.group(2)}":
            raise _mismatch(f"blob {name}", f"sha256:{match.group(2)}", blob.digest)


def _oci_plans(archive: _Archive, verify: bool) -> list[_Plan]:
    index = parse_index(archive.json("index.json", "index.json"), "index.json")
    docker_tags: dict[str, list[str]] = {}
    if "manifest.json" in archive.blobs:
        for entry in parse_archive_manifest(archive.json("manifest.json", "manifest.json")):
            match = _BLOB_NAME.match(_archive_path(entry.config))
            if match:
                docker_tags.setdefault(f"{match.group(1)}:{match.group(2)}", []).extend(entry.repo_tags)
    plans: list[_Plan] = []

    def descriptor_blob(descriptor: Descriptor, where: str) -> _BlobScan:
        algorithm, encoded = parse_digest(descriptor.digest, f"{where}.digest")
        blob = archive.resolve(f"blobs/{algorithm}/{encoded}", where)
        if verify and blob.size != descriptor.size:
            raise DigestMismatchError(
                f"{where} says {descriptor.size} bytes but blobs/{algorithm}/{encoded} has {blob.size}.",
                "The tarball was corrupted or tampered with; save or download the image again.",
                expected=str(descriptor.size), actual=str(blob.size))
        return blob

    def visit(descriptors: tuple[Descriptor, ...], where: str, depth: int) -> None:
        for i, descriptor in enumerate(descriptors):
            path = f"{where}.manifests[{i}]"
            if descriptor.annotations.get("vnd.docker.reference.type") == "attestation-manifest":
                continue
            if descriptor.media_type in INDEX_MEDIA_TYPES:
                if depth > 4:
                    raise ParseError(f"{path}: indexes nest too deep.", _HOSTILE_HINT)
                blob = descriptor_blob(descriptor, path)
                visit(parse_index(_blob_bytes(blob, path), path).manifests, path, depth + 1)
                continue
            if descriptor.media_type not in MANIFEST_MEDIA_TYPES:
                continue
            blob = descriptor_blob(descriptor, path)
            manifest = parse_manifest(_blob_bytes(blob, path), path)
            config_blob = descriptor_blob(manifest.config, f"{path}.config")
            config = parse_config(_blob_bytes(config_blob, f"{path}.config"), f"config {manifest.config.digest}")
            names = [descriptor.annotations.get("io.containerd.image.name", ""),
                     descriptor.annotations.get("org.opencontainers.image.ref.name", "")]
            tags = _familiar_tags([n for n in names if "/" in n or ":" in n]
                                  + docker_tags.get(manifest.config.digest, []))
            plans.append(_Plan(
                layout="oci", tags=tags, config_digest=manifest.config.digest,
                manifest_digest=descriptor.digest, config=config,
                layer_members=[descriptor_blob(layer, f"{path}.layers[{j}]").name
                               for j, layer in enumerate(manifest.layers)],
                layer_descriptors=list(manifest.layers)))

    visit(index.manifests, "index.json", 0)
    return plans


def _familiar_tags(names: Iterable[str]) -> list[str]:
    """Tags as `docker images` shows them ('busybox:latest'), duplicates dropped; unparsable ones kept as is."""
    tags: list[str] = []
    for name in names:
        try:
            tag = parse_reference(name).familiar
        except ParseError:
            tag = name
        if tag not in tags:
            tags.append(tag)
    return tags


def _blob_bytes(blob: _BlobScan, where: str) -> bytes:
    if blob.data is None:
        raise ParseError(f"{where}: the blob {blob.name} is too large or not JSON.", _TAR_HINT)
    return blob.data


def _docker_plans(archive: _Archive, verify: bool) -> list[_Plan]:
    plans = []
    for i, entry in enumerate(parse_archive_manifest(archive.json("manifest.json", "manifest.json"))):
        where = f"manifest.json[{i}]"
        config_blob = archive.resolve(entry.config, f"{where}.Config")
        match = _HEX_CONFIG.match(config_blob.name) or _BLOB_NAME.match(config_blob.name)
        config_digest = config_blob.digest
        if match and verify:
            expected = f"sha256:{match.groups()[-1]}"
            if expected != config_blob.digest:
                raise _mismatch(f"image config {config_blob.name}", expected, config_blob.digest)
        config = parse_config(_blob_bytes(config_blob, f"{where}.Config"), f"config {config_blob.name}")
        plans.append(_Plan(layout="docker-save", tags=_familiar_tags(entry.repo_tags),
                           config_digest=config_digest, manifest_digest=None, config=config,
                           layer_members=[archive.resolve(layer, f"{where}.Layers[{j}]").name
                                          for j, layer in enumerate(entry.layers)],
                           layer_descriptors=[None] * len(entry.layers)))
    return plans


def _layer_blob(archive: _Archive, plan: _Plan, index: int, verify: bool) -> _BlobScan:
    blob = archive.blobs[plan.layer_members[index]]
    what = f"layer {index} ({blob.name})"
    if blob.kind == "zstd":
        raise ParseError(f"{what} is compressed with zstd, which Python's standard library cannot read.",
                         "Save the image with gzip or uncompressed layers (docker save does).")
    if blob.kind not in ("tar", "gzip"):
        raise ParseError(f"{what} is not a tar archive.", _TAR_HINT)
    if blob.error is not None:
        raise blob.error
    expected = plan.config.diff_ids[index]
    if verify and blob.diff_id != expected:
        raise _mismatch(f"uncompressed {what}", expected, blob.diff_id)
    return blob


class _Node:
    """A path in the stacked filesystem: which layer wrote it and what it is."""

    __slots__ = ("children", "kind", "size", "layer", "mode", "uid", "gid", "link")

    def __init__(self, kind: str, size: int, layer: int, mode: int = 0o755, uid: int = 0, gid: int = 0,
                 link: str = "") -> None:
        self.children: dict[str, _Node] | None = {} if kind == "dir" else None
        self.kind, self.size, self.layer, self.mode, self.uid, self.gid, self.link = (
            kind, size, layer, mode, uid, gid, link)


class _Stack:
    """Layers applied one by one, as overlayfs would present them."""

    def __init__(self, layer_count: int) -> None:
        self.root = _Node("dir", 0, -1)
        self.wasted = [0] * layer_count
        self.dive: dict[str, list[int]] = {}
        self.links: dict[tuple[int, str], int] = {}
        self.orphans: dict[tuple[int, str], int] = {}

    def _drop(self, node: _Node, path: str) -> None:
        """A node leaves the visible filesystem: its bytes become wasted, unless a hard link keeps them."""
        if node.layer < 0:
            return
        if node.kind == "hardlink":
            key = (node.layer, node.link)
            self.links[key] -= 1
            if not self.links[key]:
                del self.links[key]
                self.wasted[node.layer] += self.orphans.pop(key, 0)
        elif self.links.get((node.layer, path)):
            self.orphans[(node.layer, path)] = node.size
        else:
            self.wasted[node.layer] += node.size

    def _place(self, parent: _Node, name: str, entry: TarEntry, index: int) -> None:
        assert parent.children is not None
        parent.children[name] = _Node(entry.kind, entry.size, index, entry.mode, entry.uid, entry.gid,
                                      entry.link_target)
        if entry.kind == "hardlink":
            key = (index, entry.link_target)
            self.links[key] = self.links.get(key, 0) + 1

    def _find(self, path: str) -> tuple[_Node | None, _Node | None, str]:
        """(parent node, node, last name) for a path; nodes are None when absent."""
        parent = self.root
        *dirs, name = path.split("/")
        for part in dirs:
            child = parent.children.get(part) if parent.children is not None else None
            if child is None or child.children is None:
                return None, None, name
            parent = child
        return parent, parent.children.get(name), name

    def _parent_for_write(self, path: str, layer: int, deleted: dict[str, FileChange]) -> _Node:
        """The directory node an entry goes into, creating missing parents (a non-directory in the way is replaced)."""
        parent = self.root
        prefix = ""
        for part in path.split("/")[:-1]:
            assert parent.children is not None
            prefix = f"{prefix}/{part}" if prefix else part
            child = parent.children.get(part)
            if child is None or child.children is None:
                if child is not None:
                    self._remove_subtree(child, prefix, deleted)
                child = _Node("dir", 0, layer)
                parent.children[part] = child
            parent = child
        return parent

    def _remove_subtree(self, node: _Node, path: str, deleted: dict[str, FileChange]) -> int:
        """Record every path under ``node`` (itself included) as deleted; returns their total size."""
        total = node.size
        self._drop(node, path)
        deleted[path] = FileChange(path, node.kind, node.size, node.link, node.layer)
        if node.children:
            for name, child in node.children.items():
                total += self._remove_subtree(child, f"{path}/{name}", deleted)
        return total

    def apply(self, index: int, entries: list[TarEntry]
              ) -> tuple[list[TarEntry], list[FileChange], list[FileChange], list[FileChange], list[str], list[str]]:
        whiteouts: list[str] = []
        opaque: list[str] = []
        files: list[TarEntry] = []
        for entry in entries:
            directory, _, base = entry.path.rpartition("/")
            if base.startswith(WHITEOUT_PREFIX):
                if base == OPAQUE_MARKER:
                    opaque.append(directory)
                elif not base.startswith(WHITEOUT_PREFIX + WHITEOUT_PREFIX):
                    whiteouts.append(f"{directory}/{base[4:]}" if directory else base[4:])
            else:
                files.append(entry)
        deleted: dict[str, FileChange] = {}
        dive_sizes: dict[str, int] = {}
        for path in whiteouts:
            parent, node, name = self._find(path)
            removed = 0
            if node is not None and parent is not None and parent.children is not None:
                removed = self._remove_subtree(node, path, deleted)
                del parent.children[name]
            dive_sizes[path] = removed if node is not None and node.kind == "dir" else 0
        for directory in opaque:
            node = self.root if not directory else self._find(directory)[1]
            if node is not None and node.children:
                for name, child in list(node.children.items()):
                    self._remove_subtree(child, f"{directory}/{name}" if directory else name, deleted)
                node.children.clear()
        added: dict[str, FileChange] = {}
        modified: dict[str, FileChange] = {}
        for entry in files:
            parent = self._parent_for_write(entry.path, index, deleted)
            assert parent.children is not None
            name = entry.path.rpartition("/")[2]
            old = parent.children.get(name)
            change = FileChange(entry.path, entry.kind, entry.size, entry.link_target,
                                None if old is None else old.layer)
            if old is None:
                added[entry.path] = change
                self._place(parent, name, entry, index)
                continue
            if old.kind == "dir" and entry.kind == "dir":
                if old.layer != index and (old.mode, old.uid, old.gid) != (entry.mode, entry.uid, entry.gid):
                    modified[entry.path] = change
                old.mode, old.uid, old.gid, old.layer = entry.mode, entry.uid, entry.gid, index
                continue
            self._drop(old, entry.path)
            if old.layer == index:
                if entry.path in modified:
                    modified[entry.path] = change._replace(previous_layer=modified[entry.path].previous_layer)
                else:
                    added[entry.path] = change._replace(previous_layer=None)
            else:
                modified[entry.path] = change
            if old.children:
                for child_name, child in old.children.items():
                    self._remove_subtree(child, f"{entry.path}/{child_name}", deleted)
            self._place(parent, name, entry, index)
        self._count_for_dive(files, dive_sizes)
        return files, list(added.values()), list(modified.values()), list(deleted.values()), whiteouts, opaque

    def _count_for_dive(self, files: list[TarEntry], whiteout_sizes: dict[str, int]) -> None:
        """dive's bookkeeping: each leaf path of this layer, and the size it claims."""
        sizes = {entry.path: entry.size for entry in files}
        sizes.update(whiteout_sizes)
        inner: set[str] = set()
        for path in sizes:
            directory = path.rpartition("/")[0]
            while directory and directory not in inner:
                inner.add(directory)
                directory = directory.rpartition("/")[0]
        for path, size in sizes.items():
            if path in inner:
                continue
            record = self.dive.get(path)
            if record is None:
                self.dive[path] = [1, size, size]
            else:
                record[0] += 1
                record[1] += size
                record[2] = min(record[2], size)

    def totals(self) -> tuple[int, int]:
        """(files visible in the final image, their bytes; hard links count once)."""
        count, size = 0, sum(self.orphans.values())
        stack = [self.root]
        while stack:
            node = stack.pop()
            for child in (node.children or {}).values():
                if child.kind == "dir":
                    stack.append(child)
                else:
                    count += 1
                    size += child.size
        return count, size

    def dive_figures(self) -> tuple[int, float]:
        """dive's 'wasted bytes' (every copy of a path found in 2+ layers, the surviving one too) and score."""
        wasted = sum(record[1] for record in self.dive.values() if record[0] > 1)
        discovered = sum(record[1] for record in self.dive.values())
        minimum = sum(record[2] for record in self.dive.values())
        return wasted, (minimum / discovered if discovered else 1.0)


def _build(archive: _Archive, plan: _Plan, verify: bool) -> ImageReport:
    config = plan.config
    if len(plan.layer_members) != len(config.diff_ids):
        raise ParseError(f"The image {plan.tags[0] if plan.tags else plan.config_digest} lists "
                         f"{len(plan.layer_members)} layers but its config has {len(config.diff_ids)} diff_ids.",
                         _TAR_HINT)
    histories = layer_history(config.history, len(config.diff_ids))
    stack = _Stack(len(plan.layer_members))
    pending = []
    for index in range(len(plan.layer_members)):
        blob = _layer_blob(archive, plan, index, verify)
        files, added, modified, deleted, whiteouts, opaque = stack.apply(index, blob.entries)
        descriptor = plan.layer_descriptors[index]
        media_type = descriptor.media_type if descriptor else ""
        digest = blob.digest or (descriptor.digest if descriptor else blob.diff_id)
        diff_id = blob.diff_id or config.diff_ids[index]
        if not blob.digest and blob.kind == "tar":
            digest = diff_id
        pending.append((index, blob, digest, diff_id, media_type, files, added, modified, deleted, whiteouts, opaque))
    layers = tuple(
        LayerReport(index=index, member=blob.name, digest=digest, diff_id=diff_id, media_type=media_type,
                    compression="gzip" if blob.kind == "gzip" else "none", size=blob.size,
                    uncompressed_size=blob.tar_size, history=histories[index], entries=tuple(files),
                    added=tuple(added), modified=tuple(modified), deleted=tuple(deleted),
                    whiteouts=tuple(whiteouts), opaque_dirs=tuple(opaque), wasted_bytes=stack.wasted[index])
        for index, blob, digest, diff_id, media_type, files, added, modified, deleted, whiteouts, opaque in pending)
    file_count, visible = stack.totals()
    dive_wasted, efficiency = stack.dive_figures()
    return ImageReport(layout=plan.layout, tags=tuple(plan.tags), config_digest=plan.config_digest,
                       manifest_digest=plan.manifest_digest, config=config, layers=layers, file_count=file_count,
                       visible_size=visible, dive_wasted_bytes=dive_wasted, efficiency=efficiency)


def read_images(source: Source, *, verify: bool = True, progress: Progress | None = None) -> list[ImageReport]:
    """Every image in a tarball (`docker save` of one or more images, or an OCI image layout).

    ``source``: a path, bytes, a binary file object (a pipe is fine) or an iterable of byte
    chunks such as docker-py's ``api.get_image(name)``. Blobs are hashed on a second thread
    while this one parses headers. ``verify=False`` skips hashing the layers (saves CPU; on
    one core it is about twice as fast) and trusts the digests the manifests and config state (a
    gzipped layer.tar in a `docker save` layout then has no stated digest: '').
    ``progress(bytes_read, total_or_None)`` is called per chunk.
    """
    archive = _scan(source, progress, hashing=verify)
    _check_named_blobs(archive, verify)
    if "index.json" in archive.blobs:
        plans = _oci_plans(archive, verify)
    elif "manifest.json" in archive.blobs:
        plans = _docker_plans(archive, verify)
    else:
        raise ParseError("The tarball has neither manifest.json (docker save) nor index.json (OCI image layout).",
                         "Make it with 'docker save -o image.tar IMAGE' (or skopeo copy ... oci-archive:...).")
    return [_build(archive, plan, verify) for plan in plans]


def read_image(source: Source, tag: str | None = None, *, verify: bool = True,
               progress: Progress | None = None) -> ImageReport:
    """The one image in a tarball, or the one with ``tag`` when it holds several."""
    images = read_images(source, verify=verify, progress=progress)
    if not images:
        raise ParseError("The tarball holds no image.", "Save an image into it with 'docker save'.")
    if tag is None:
        if len(images) > 1:
            names = ", ".join(image.name for image in images)
            raise LabError(f"The tarball holds {len(images)} images ({names}).", "Pass tag= to pick one.")
        return images[0]
    for image in images:
        if tag in image.tags or any(t.rsplit(":", 1)[0] == tag for t in image.tags) or tag == image.config_digest:
            return image
    raise LabError(f"The tarball has no image tagged {tag!r} (it has: "
                   f"{', '.join(i.name for i in images)}).", "Pass one of the listed tags.")


def iter_layers(source: Source, tag: str | None = None, *, verify: bool = True) -> Iterator[LayerReport]:
    """The layers of an image in a tarball, bottom up (wasted bytes need all layers read first)."""
    yield from read_image(source, tag, verify=verify).layers


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
