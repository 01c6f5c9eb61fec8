"""Walking an image as the registry API v2 (Distribution) serves it, from a registry or an OCI image layout, with
every document and blob checked against its digest.

Standard library only. A manifest is checked against the bytes actually received (and the registry's
``Docker-Content-Digest`` header, and the digest asked for), a config and a layer against their descriptors, each
in the digest's own algorithm (sha256 or sha512). Layers are streamed, never held whole: while a gzipped layer
streams in, it is also gunzipped (1 MiB at a time) and hashed, which gives its ``diff_id`` (the digest of the
uncompressed tar that the config lists) beside its compressed blob digest. `Store` is what a walk reads from:
`RegistryClient`'s repositories (images.registry_client) and `OciLayout` here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import BudgetExceededError, DigestMismatchError, ParseError
from .budget import MIB, Budget, Meter, exceeded
from .manifest import (
    INDEX_MEDIA_TYPES,
    MANIFEST_MEDIA_TYPES,
    Descriptor,
    ImageConfig,
    ImageIndex,
    ImageManifest,
    layer_compression,
    parse_config,
    parse_digest,
    parse_document,
    verify_digest,
)
from .ocibuild import host_architecture
from .tarball.blobs import HASHES, Gunzip, _archive_path, check_blob_member, parse_archive
from .tarball.tar import _BLOB_NAME, Source, _Member, _Sink

__all__ = ["Fetched", "LayerCheck", "ManifestWalk", "Store", "OciLayout", "walk_image", "check_blob", "LAYOUT_BUDGET"]

CHUNK = 1 << 16
DIGEST_HINT = "The data was corrupted or changed on the way; fetch it again and do not use this copy."
LAYOUT_BUDGET = Budget(buffered_bytes=256 * MIB)
"""OciLayout.from_tar's default budget: every blob of the layout is held in memory, 256 MiB at most."""


# -- models ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fetched:
    """A manifest or index as received: its bytes, their digest (verified) and the parsed document."""

    reference: str
    media_type: str
    digest: str
    header_digest: str
    data: bytes
    document: ImageIndex | ImageManifest

    @property
    def size(self) -> int:
        """Bytes received."""
        return len(self.data)

    @property
    def is_index(self) -> bool:
        """True for an OCI index or a Docker manifest list."""
        return isinstance(self.document, ImageIndex)


@dataclass(frozen=True)
class LayerCheck:
    """One layer: its descriptor (compressed blob) and its config diff_id, and what checking them found."""

    index: int
    descriptor: Descriptor
    diff_id: str
    fetched: bool = False
    computed_diff_id: str = ""

    @property
    def compression(self) -> str:
        """'gzip', 'zstd', 'none' or 'unknown', from the media type."""
        return layer_compression(self.descriptor.media_type)

    @property
    def digest(self) -> str:
        """The blob digest: of the bytes as stored and sent (compressed)."""
        return self.descriptor.digest

    @property
    def verified(self) -> bool:
        """True when the blob was fetched and both its digest and its diff_id checked out."""
        return self.fetched and self.computed_diff_id == self.diff_id


@dataclass(frozen=True)
class ManifestWalk:
    """index → manifest → config → layers of one image, each digest checked on the way."""

    source: str
    reference: str
    index: Fetched | None
    manifest: Fetched
    config_descriptor: Descriptor
    config: ImageConfig
    config_data: bytes
    layers: tuple[LayerCheck, ...]

    @property
    def image_id(self) -> str:
        """What `docker images` calls the image: the config's digest."""
        return self.config_descriptor.digest

    @property
    def pinned(self) -> str:
        """The digest that pins this image (the index's when there is one, else the manifest's)."""
        return (self.index or self.manifest).digest

    @property
    def verified(self) -> bool:
        """True when every layer was fetched and checked (documents are always checked)."""
        return all(layer.verified for layer in self.layers)

    def lines(self) -> list[str]:
        """The walk as indented text lines (digests shortened to 12 hex digits)."""
        def short(digest: str) -> str:
            return digest.split(":", 1)[0] + ":" + digest.split(":", 1)[-1][:12]

        out = [f"{self.source}"]
        if self.index is not None:
            out.append(f"  index     {short(self.index.digest)}  {self.index.size} B  ✓")
        out.append(f"  manifest  {short(self.manifest.digest)}  {self.manifest.size} B  ✓")
        out.append(f"    config  {short(self.image_id)}  {self.config_descriptor.size} B  ✓")
        for layer in self.layers:
            mark = "✓" if layer.verified else "(not fetched)"
            out.append(f"    layer {layer.index}  {short(layer.digest)} "
                       f"({layer.compression}, {layer.descriptor.size} B)"
                       f" → diff_id {short(layer.diff_id)}  {mark}")
        return out


# -- stores: where documents and blobs come from -----------------------------------------------------
class Store(Protocol):
    """Where a walk reads from: a registry repository, or an OCI image layout."""

    name: str

    def fetch_manifest(self, reference: str, size: int | None = None) -> Fetched:
        """The manifest or index named by a tag or digest, digest-verified; never read past ``size`` bytes."""

    def fetch_blob(self, digest: str, size: int | None = None) -> Iterator[bytes]:
        """The blob's bytes, in chunks (checked by the caller); never more than ``size`` bytes."""


def _is_digest(reference: str) -> bool:
    """A reference with a ':' is a digest (tags cannot hold one)."""
    return ":" in reference


def _hash(data: bytes, algorithm: str) -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def _fetched(reference: str, data: bytes, media_type: str, header_digest: str, where: str) -> Fetched:
    """Hash what came in the algorithm that names it, compare with the header and the digest asked for, parse it."""
    digest = _hash(data, "sha256")
    if _is_digest(reference):
        digest = verify_digest(data, reference, what=where)
    if header_digest:
        algorithm, _ = parse_digest(header_digest, f"the Docker-Content-Digest header of the {where}")
        if algorithm not in HASHES:
            raise ParseError(f"The registry names the {where} by {algorithm}, which the course cannot check.",
                             "Use a registry that reports sha256 digests (Distribution does).")
        actual = _hash(data, algorithm)
        if header_digest != actual:
            raise DigestMismatchError(f"The {where} hashes to {actual}, but the registry says {header_digest}.",
                                      DIGEST_HINT, expected=header_digest, actual=actual)
    kind = media_type.split(";", 1)[0].strip()
    document = parse_document(data, kind if kind in (*INDEX_MEDIA_TYPES, *MANIFEST_MEDIA_TYPES) else None, where)
    return Fetched(reference, document.media_type, digest, header_digest, data, document)


def _too_long(what: str, size: int) -> DigestMismatchError:
    return DigestMismatchError(f"The {what} has more than the {size} bytes its descriptor says; reading stopped there.",
                               DIGEST_HINT, expected=str(size), actual=f"more than {size}")


def _join(chunks: Iterable[bytes], limit: int, what: str, *, exact: int | None = None) -> bytes:
    """A small body from chunks, never more than ``limit`` bytes (``exact``: the descriptor's size)."""
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if exact is not None and len(data) > exact:
            raise _too_long(what, exact)
        if len(data) > limit:
            raise exceeded(f"the {what}", "document_bytes", limit)
    if exact is not None and len(data) != exact:
        raise DigestMismatchError(f"The {what} has {len(data)} bytes; its descriptor says {exact}.", DIGEST_HINT,
                                  expected=str(exact), actual=str(len(data)))
    return bytes(data)


def _algorithm(digest: str, what: str) -> str:
    algorithm, _ = parse_digest(digest, what)
    if algorithm not in HASHES:
        raise ParseError(f"{what} uses the digest algorithm {algorithm!r}, which the course cannot check.",
                         "Use sha256 (or sha512) digests.")
    return algorithm


class _VerifyingStream:
    """Hashes a blob as it streams, never past its descriptor's size; gunzips it (1 MiB at a time) to hash the
    uncompressed tar as well."""

    def __init__(self, descriptor: Descriptor, diff_id_algorithm: str, meter: Meter) -> None:
        self.descriptor = descriptor
        self.meter = meter
        self.raw = hashlib.new(_algorithm(descriptor.digest, "the blob digest"))
        self.size = 0
        compression = layer_compression(descriptor.media_type)
        self.tar = hashlib.new(diff_id_algorithm) if compression in ("gzip", "none") else None
        self._gunzip = Gunzip(f"the blob {descriptor.digest}") if compression == "gzip" else None

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.descriptor.size:
            raise _too_long(f"blob {self.descriptor.digest}", self.descriptor.size)
        self.meter.spend("bytes", len(chunk))
        self.meter.check_time()
        self.raw.update(chunk)
        if self._gunzip is not None:
            try:
                for piece in self._gunzip.feed(chunk):
                    self.meter.spend("bytes", len(piece))
                    if self.tar is not None:
                        self.tar.update(piece)
            except ParseError:
                self._gunzip = self.tar = None  # corrupt gzip: the blob digest check says so
        elif self.tar is not None:
            self.tar.update(chunk)

    def finish(self) -> tuple[str, str]:
        """(blob digest, diff_id or '' when the compression is not one this reader undoes)."""
        if self._gunzip is not None:
            try:
                self._gunzip.finish()
            except ParseError:
                self.tar = None
        algorithm = self.descriptor.digest.partition(":")[0]
        diff_id = f"{self.tar.name}:{self.tar.hexdigest()}" if self.tar is not None else ""
        return f"{algorithm}:{self.raw.hexdigest()}", diff_id


def check_blob(chunks: Iterable[bytes], descriptor: Descriptor, *, sink: Callable[[bytes], Any] | None = None,
               progress: Callable[[int, int], None] | None = None, diff_id_algorithm: str = "sha256",
               budget: Budget | None = None) -> tuple[str, str]:
    """Stream a blob, check its digest and size against the descriptor; (digest, uncompressed digest).

    Stops as soon as more bytes arrive than the descriptor says. Budget: bytes read plus inflated and seconds
    of :class:`Budget`; memory: one chunk plus 1 MiB of inflated data.
    """
    stream = _VerifyingStream(descriptor, diff_id_algorithm, Meter(budget, f"the blob {descriptor.digest}"))
    for chunk in chunks:
        stream.update(chunk)
        if sink is not None:
            sink(chunk)
        if progress is not None:
            progress(stream.size, descriptor.size)
    digest, diff_id = stream.finish()
    if digest != descriptor.digest:
        raise DigestMismatchError(f"The blob {descriptor.digest} hashes to {digest}.", DIGEST_HINT,
                                  expected=descriptor.digest, actual=digest)
    if stream.size != descriptor.size:
        raise DigestMismatchError(f"The blob {descriptor.digest} has {stream.size} bytes, its descriptor says "
                                  f"{descriptor.size}.", DIGEST_HINT, expected=str(descriptor.size),
                                  actual=str(stream.size))
    return digest, diff_id


def walk_image(store: Store, reference: str, *, platform: tuple[str, str] | None = None,
               fetch_layers: bool = True, budget: Budget | None = None) -> ManifestWalk:
    """Follow an image from its tag or digest down to its layers, verifying every digest.

    An index (or manifest list) is resolved to the manifest of ``platform`` (default: this
    machine's linux/<arch>; an index with a single image needs none). With ``fetch_layers``
    each layer blob is streamed, its digest checked, and its uncompressed digest compared with
    the config's ``diff_ids``. Every document is read only up to the size its descriptor states.
    """
    limit = (budget or Budget()).document_bytes
    top = store.fetch_manifest(reference)
    index = None
    manifest = top
    if isinstance(top.document, ImageIndex):
        index = top
        chosen = _choose(top.document, platform)
        manifest = store.fetch_manifest(chosen.digest, chosen.size)
        if manifest.size != chosen.size:
            raise DigestMismatchError(f"The manifest {chosen.digest} has {manifest.size} bytes; the index says "
                                      f"{chosen.size}.", DIGEST_HINT)
    document = manifest.document
    if not isinstance(document, ImageManifest):
        raise ParseError("The index points at another index.", "Walk that index's entries one by one.")
    if document.config.size > limit:
        raise exceeded("the image config", "document_bytes", limit)
    config_data = _join(store.fetch_blob(document.config.digest, document.config.size), limit, "image config",
                        exact=document.config.size)
    verify_digest(config_data, document.config.digest, what="image config")
    config = parse_config(config_data)
    if len(config.diff_ids) != len(document.layers):
        raise ParseError(f"The manifest lists {len(document.layers)} layers but the config has "
                         f"{len(config.diff_ids)} diff_ids.", "The image is inconsistent; push it again.")
    layers = []
    for position, (descriptor, diff_id) in enumerate(zip(document.layers, config.diff_ids)):
        if not fetch_layers:
            layers.append(LayerCheck(position, descriptor, diff_id))
            continue
        algorithm = _algorithm(diff_id, f"config.rootfs.diff_ids[{position}]")
        _, computed = check_blob(store.fetch_blob(descriptor.digest, descriptor.size), descriptor,
                                 diff_id_algorithm=algorithm, budget=budget)
        if computed and computed != diff_id:
            raise DigestMismatchError(f"Layer {position} uncompressed hashes to {computed}, but the config's diff_id "
                                      f"is {diff_id}.", DIGEST_HINT, expected=diff_id, actual=computed)
        layers.append(LayerCheck(position, descriptor, diff_id, fetched=True, computed_diff_id=computed))
    return ManifestWalk(store.name, reference, index, manifest, document.config, config, config_data, tuple(layers))


def _choose(index: ImageIndex, platform: tuple[str, str] | None) -> Descriptor:
    images = list({m.digest: m for m in index.manifests if m.media_type not in INDEX_MEDIA_TYPES
                   and m.annotations.get("vnd.docker.reference.type") != "attestation-manifest"}.values())
    if len(images) == 1 and (platform is None or images[0].platform is None):
        return images[0]
    os_name, architecture = platform or ("linux", host_architecture()[0])
    return index.for_platform(os_name, architecture)


# -- an OCI image layout (a tarball or its files) -------------------------------------------------------
class _Collect:
    """A blob member's bytes, hashed as they come (by the algorithm of its name, when it has one)."""

    def __init__(self, algorithm: str | None) -> None:
        self.parts: list[bytes] = []
        self.hash = hashlib.new(algorithm) if algorithm else None

    def write(self, data: memoryview) -> None:
        self.parts.append(bytes(data))
        if self.hash is not None:
            self.hash.update(data)

    def close(self) -> None:
        pass


class OciLayout:
    """An OCI image layout read into memory: index.json plus blobs/sha256/*, walkable like a registry."""

    def __init__(self, index: bytes, blobs: dict[str, bytes], name: str = "OCI layout") -> None:
        self.index_data = index
        self.blobs = blobs
        self.name = name

    @classmethod
    def from_tar(cls, source: Source, name: str = "OCI layout", *, budget: Budget | None = None) -> OciLayout:
        """Read an OCI layout tarball (as build_image or `skopeo copy oci-archive:` write; gzipped or not).

        Read with the image package's one tar reader: every blob is hashed while it is read and must match its
        name; a blob that is a link is refused. Every blob is held in memory: at most ``budget.buffered_bytes``
        (:data:`LAYOUT_BUDGET`: 256 MiB), refused from its header on, before its bytes are read; index.json at
        most ``document_bytes`` (8 MiB); members, bytes and seconds as in :class:`Budget`. For larger images
        use read_image, which streams.
        """
        meter = Meter(budget if budget is not None else LAYOUT_BUDGET, "the OCI layout tarball")
        collected: dict[str, tuple[str, _Collect]] = {}

        def on_member(member: _Member) -> _Sink | None:
            meter.spend("members")
            path = _archive_path(member.name)
            named = _BLOB_NAME.fullmatch(path)
            if named:
                check_blob_member(path, member.kind)
            if member.kind != "file" or not (named or path == "index.json"):
                return None
            if path == "index.json" and member.size > meter.budget.document_bytes:
                raise exceeded("index.json of the OCI layout", "document_bytes", meter.budget.document_bytes)
            meter.spend("buffered_bytes", member.size)
            algorithm = named.group(1) if named and named.group(1) in HASHES else None
            sink = _Collect(algorithm)
            key = f"{named.group(1)}:{named.group(2)}" if named else "index.json"
            collected[key] = (path, sink)
            return sink

        try:
            parse_archive(source, meter, "the OCI layout tarball", on_member)
        except BudgetExceededError:
            raise
        except ParseError as err:
            raise ParseError(err.message, "Make it again (build_image(..., layout='oci')).") from None
        if "index.json" not in collected:
            raise ParseError("The tarball has no index.json, so it is no OCI image layout.",
                             "A `docker save` tarball is read with read_image instead.")
        blobs: dict[str, bytes] = {}
        for key, (path, sink) in collected.items():
            if sink.hash is not None and f"{sink.hash.name}:{sink.hash.hexdigest()}" != key:
                actual = f"{sink.hash.name}:{sink.hash.hexdigest()}"
                raise DigestMismatchError(f"The blob {path} does not match its digest: expected {key}, got {actual}.",
                                          DIGEST_HINT, expected=key, actual=actual)
            blobs[key] = b"".join(sink.parts)
        index = blobs.pop("index.json")
        return cls(index, blobs, name)

    def fetch_manifest(self, reference: str, size: int | None = None) -> Fetched:
        """index.json for a tag (org.opencontainers.image.ref.name) or 'index.json'; a blob for a digest."""
        if _is_digest(reference):
            data = self._blob(reference)
            if size is not None and len(data) != size:
                raise DigestMismatchError(f"The manifest {reference} has {len(data)} bytes; its descriptor says "
                                          f"{size}.", DIGEST_HINT, expected=str(size), actual=str(len(data)))
            return _fetched(reference, data, "", "", f"manifest {reference[:19]}")
        return _fetched(reference, self.index_data, "", "", "index.json")

    def fetch_blob(self, digest: str, size: int | None = None) -> Iterator[bytes]:
        """The blob from blobs/<algorithm>/<hex>, in chunks."""
        data = self._blob(digest)
        for start in range(0, len(data), CHUNK):
            yield data[start:start + CHUNK]
        if not data:
            yield b""

    def _blob(self, digest: str) -> bytes:
        try:
            return self.blobs[digest]
        except KeyError:
            raise ParseError(f"The layout has no blob {digest}.", "The layout is incomplete; build it again.") from None

    def walk(self, reference: str = "index.json", **options: Any) -> ManifestWalk:
        """index.json → manifest → config → layers, every digest verified."""
        return walk_image(self, reference, **options)
