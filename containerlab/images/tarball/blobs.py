"""One pass over the outer tarball: every member hashed (on a second thread) with the algorithm its name says,
layer blobs gunzipped and their tar headers read, small documents (manifests, configs) kept for the planner.

Bounded by the read's :class:`~containerlab.images.budget.Meter`: members, layer entries, bytes read and
inflated, documents held in memory, seconds. Gzip is inflated at most 1 MiB at a time, so a gzip bomb costs
time (bounded by the bytes budget), never memory.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from ...errors import BudgetExceededError, LabError, ParseError
from ..budget import Meter, exceeded
from .report import TarEntry
from .tar import (
    _BLOB_NAME,
    _HOSTILE_HINT,
    _MAX_INFLATE,
    _MAX_LINK_HOPS,
    _TAR_HINT,
    _ZERO_BLOCK,
    BLOCK,
    CHUNK_SIZE,
    ByteProgress,
    Source,
    _Member,
    _Sink,
    _TarStream,
    layer_entry,
)

HASHES = ("sha256", "sha512")
"""The digest algorithms the readers check; a blob named with another one is refused where it is used."""


# -- gzip, inflated a bounded piece at a time ----------------------------------------------------------
class Gunzip:
    """Gunzips a stream fed in chunks, handing out at most 1 MiB per piece: a gzip bomb costs time, not memory.

    Concatenated gzip members (pigz, `docker save | gzip` of parts) and zero padding after a member are read as
    one stream. ``finish()`` raises ParseError when the stream stopped inside a member.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self.members = 0
        self._inflate: zlib._Decompress | None = None

    def feed(self, data: bytes | memoryview) -> Iterator[bytes]:
        """The inflated pieces of the next compressed bytes."""
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
                    if out:
                        yield out
                    if not inflate.unconsumed_tail and len(out) < _MAX_INFLATE:
                        break
                    out = inflate.decompress(inflate.unconsumed_tail, _MAX_INFLATE)
            except zlib.error as err:
                raise ParseError(f"{self.label}: the gzip data is corrupt ({err}).", _TAR_HINT) from None
            if not inflate.eof:
                return
            self.members += 1
            data = inflate.unused_data
            self._inflate = None

    def finish(self) -> None:
        """Check the gzip stream ended after a whole member."""
        if self._inflate is not None or not self.members:
            raise ParseError(f"{self.label}: the gzip stream is truncated.", _TAR_HINT)


# -- decoding one layer blob --------------------------------------------------------------------
class _LayerDecoder:
    """Gunzips (if needed) a layer blob fed in chunks, hashes the tar stream and parses its headers."""

    def __init__(self, label: str, compressed: bool, on_member: Callable[[_Member], _Sink | None],
                 tar_hashes: dict[str, Callable[[], Any]] | None = None, meter: Meter | None = None) -> None:
        self.label = label
        self.compressed = compressed
        self.parser = _TarStream(label, on_member)
        self.tar_hashes = {algorithm: new() for algorithm, new in (tar_hashes or {}).items()}
        self.tar_size = 0
        self._gunzip = Gunzip(label) if compressed else None
        self._meter = meter

    def feed(self, data: memoryview | bytes) -> None:
        if self._gunzip is None:
            for tar_hash in self.tar_hashes.values():
                tar_hash.update(data)
            self.tar_size += len(data)
            self.parser.feed(data)
            return
        for piece in self._gunzip.feed(data):
            if self._meter is not None:
                self._meter.spend("bytes", len(piece))
            for tar_hash in self.tar_hashes.values():
                tar_hash.update(piece)
            self.tar_size += len(piece)
            self.parser.feed(piece)

    def diff_ids(self) -> dict[str, str]:
        """The digests of the tar stream by algorithm ('sha256' -> 'sha256:...')."""
        return {algorithm: f"{algorithm}:{tar_hash.hexdigest()}" for algorithm, tar_hash in self.tar_hashes.items()}

    def finish(self) -> None:
        """Check both the gzip stream and the tar archive ended properly."""
        if self._gunzip is not None:
            self._gunzip.finish()
        self.parser.close()


class _BlobScan:
    """One member of the outer tarball: hashed always; read as a layer when it is a (gzipped) tar."""

    __slots__ = ("_buffer", "_decoder", "_hash", "_hashes", "_head", "_meter", "algorithm", "data", "diff_ids",
                 "digest", "entries", "error", "kind", "name", "size", "tar_size", "unbuffered")

    def __init__(self, name: str, size: int, hashes: Callable[[str], Callable[[], Any]] | None = None,
                 algorithm: str = "sha256", meter: Meter | None = None) -> None:
        """``hashes(algorithm)``: a factory of hashes (None: nothing is hashed, digests are trusted)."""
        self.name = name
        self._hashes = hashes
        self._meter = meter if meter is not None else Meter(None, "the image tarball")
        self.algorithm = algorithm
        self.size = size
        self.kind = ""
        self.digest = ""
        self.diff_ids: dict[str, str] = {}
        self.tar_size = 0
        self.data: bytes | None = None
        self.unbuffered = ""
        self.entries: list[TarEntry] = []
        self.error: LabError | None = None
        self._hash = hashes(algorithm)() if hashes is not None else None
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
            self._buffer = None
        if self._hash is not None:
            self.digest = f"{self.algorithm}:{self._hash.hexdigest()}"
        elif self.data is not None:
            self.digest = f"{self.algorithm}:{hashlib.new(self.algorithm, self.data).hexdigest()}"
        decoder = self._decoder
        if decoder is None:
            return
        if self.error is None:
            try:
                decoder.finish()
            except BudgetExceededError:
                raise
            except LabError as err:
                self.error = err
        self.tar_size = decoder.tar_size
        self.diff_ids = decoder.diff_ids()
        if not decoder.compressed and self.digest:
            self.diff_ids[self.algorithm] = self.digest

    @property
    def diff_id(self) -> str:
        """The digest of the uncompressed tar in the blob's own algorithm ('' when not hashed)."""
        return self.diff_ids.get(self.algorithm, "")

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
            # The tar is hashed with sha256 (what configs use) and with the blob's own algorithm; an uncompressed
            # blob's own digest is already its diff_id in that algorithm.
            wanted = {"sha256", self.algorithm} - ({self.algorithm} if self.kind == "tar" else set())
            factories = {algorithm: self._hashes(algorithm) for algorithm in wanted} if self._hashes else {}
            self._decoder = _LayerDecoder(self.label, self.kind == "gzip", self._on_entry, factories, self._meter)
        elif self.size > self._meter.budget.document_bytes:
            self.unbuffered = "document_bytes"
        elif not self._meter.fits("buffered_bytes", self.size):
            self.unbuffered = "buffered_bytes"
        elif self.kind == "other":
            self._meter.spend("buffered_bytes", self.size)
            self._buffer = bytearray()

    def _consume(self, data: memoryview) -> None:
        if self._buffer is not None:
            self._buffer += data
        elif self._decoder is not None and self.error is None:
            try:
                self._decoder.feed(data)
            except BudgetExceededError:
                raise
            except LabError as err:
                self.error = err

    def _on_entry(self, member: _Member) -> None:
        entry = layer_entry(member, self.label)
        if entry is not None:
            meter = self._meter
            meter.entries += 1  # Meter.spend("entries"), inlined: this runs once per entry of every layer
            if meter.entries > meter.budget.entries:
                meter.spend("entries", 0)
            self.entries.append(entry)


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
    """A hash whose updates run on a _HashWorker's thread, in order; hexdigest() waits for them."""

    def __init__(self, work: queue.Queue[Any], algorithm: str) -> None:
        self._queue = work
        self._hash = hashlib.new(algorithm)

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
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=4)  # at most 4 chunks (4 MiB) waiting
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

    def new(self, algorithm: str = "sha256") -> Callable[[], _QueuedHash]:
        """A factory of hashes with ``algorithm`` that run on this worker."""
        return lambda: _QueuedHash(self._queue, algorithm)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()


class _Archive:
    """Everything one pass over the outer tarball collected: blobs by member name, and links."""

    def __init__(self, hashes: _HashWorker | None = None, meter: Meter | None = None) -> None:
        self.hashes = hashes
        self.meter = meter if meter is not None else Meter(None, "the image tarball")
        self.blobs: dict[str, _BlobScan] = {}
        self.links: dict[str, str] = {}

    def on_member(self, member: _Member) -> _Sink | None:
        self.meter.spend("members")
        name = _archive_path(member.name)
        named = _BLOB_NAME.fullmatch(name)
        if member.kind == "file":
            self.links.pop(name, None)
            algorithm = named.group(1) if named and named.group(1) in HASHES else "sha256"
            scan = _BlobScan(name, member.size, self.hashes.new if self.hashes is not None else None, algorithm,
                             self.meter)
            self.blobs[name] = scan
            return scan
        if named:
            check_blob_member(name, member.kind)
        self.blobs.pop(name, None)
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
        """A small member's bytes (a JSON document), counted against the documents budget."""
        return document_bytes(self.resolve(name, where), where, self.meter)


def check_blob_member(name: str, kind: str) -> None:
    """A content-addressed member (blobs/<algorithm>/<hex>) must be a regular file: a link would be checked by
    the bytes it points at, which another name already vouches for."""
    if kind != "file":
        raise ParseError(f"The blob {name} is a {kind}, not a file: a blob is checked by hashing its own bytes, so "
                         "it may not point at other ones.", _HOSTILE_HINT)


def document_bytes(blob: _BlobScan, where: str, meter: Meter) -> bytes:
    """The bytes of a blob read as a JSON document; the budget it ran past when it was too large to keep."""
    if blob.data is None:
        if blob.unbuffered:
            raise exceeded(f"{where} ({blob.name}, {blob.size:,} bytes)", blob.unbuffered,
                           getattr(meter.budget, blob.unbuffered))
        raise ParseError(f"{where}: the blob {blob.name} is not a JSON document.", _TAR_HINT)
    meter.document(len(blob.data))
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


def _chunks(source: Source, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes | memoryview]:
    """Bytes of a source in chunks: a path, bytes, a binary file object or an iterable of chunks."""
    if isinstance(source, (str, os.PathLike)):
        try:
            handle = open(source, "rb")  # noqa: SIM115 - closed by the with below; opened here to word the error
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


def archive_chunks(source: Source, meter: Meter, label: str,
                   progress: ByteProgress | None = None) -> Iterator[bytes | memoryview]:
    """The tar bytes of a source, gunzipped when it is gzip (``docker save | gzip``, a pack), within the budget.

    Counts bytes read and inflated, checks the deadline per chunk, and reports (bytes read, total) to
    ``progress``.
    """
    total = _total_size(source)
    done = 0
    gunzip: Gunzip | None = None
    first = True
    for chunk in _chunks(source):
        if not len(chunk):
            continue
        done += len(chunk)
        meter.spend("bytes", len(chunk))
        meter.check_time()
        if first:
            first = False
            if bytes(chunk[:2]) == b"\x1f\x8b":
                gunzip = Gunzip(label)
        if gunzip is None:
            yield chunk
        else:
            for piece in gunzip.feed(chunk):
                meter.spend("bytes", len(piece))
                yield piece
        if progress is not None:
            progress(done, total)
    if gunzip is not None:
        gunzip.finish()


def parse_archive(source: Source, meter: Meter, label: str, on_member: Callable[[_Member], _Sink | None],
                  progress: ByteProgress | None = None, *, stop: Callable[[], bool] | None = None) -> _TarStream:
    """Feed a source through the one tar parser; ParseError when it is truncated (unless ``stop()`` said enough)."""
    parser = _TarStream(label, on_member)
    for chunk in archive_chunks(source, meter, label, progress):
        parser.feed(chunk)
        if stop is not None and stop():
            return parser
    parser.close()
    return parser


def _scan(source: Source, progress: ByteProgress | None, hashing: bool = True, meter: Meter | None = None) -> _Archive:
    meter = meter if meter is not None else Meter(None, "the image tarball")
    hashes = _HashWorker() if hashing else None
    try:
        archive = _Archive(hashes, meter)
        parse_archive(source, meter, "the image tarball", archive.on_member, progress)
    finally:
        if hashes is not None:
            hashes.close()
    return archive
