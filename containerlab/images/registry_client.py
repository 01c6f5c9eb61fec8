"""A small client of the registry HTTP API v2 (Distribution), and the same walk over an OCI layout.

Standard library only (urllib). Every document and blob is checked against its digest:
a manifest against the sha256 of the bytes actually received (and the registry's
``Docker-Content-Digest`` header, and the digest asked for), a config and a layer against
their descriptors. Layers are streamed, never held whole: while a gzipped layer streams
in, it is also gunzipped and hashed, which gives its ``diff_id`` (the digest of the
uncompressed tar that the config lists) beside its compressed blob digest.

By default the client talks only to loopback registries (127.0.0.0/8, ::1, localhost):
the course's own registry. ``allow_remote=True`` lifts that for learners at home.
"""

from __future__ import annotations

import hashlib
import io
import ipaddress
import json
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from ..errors import DigestMismatchError, LabError, ParseError
from .manifest import (
    INDEX_MEDIA_TYPES,
    MANIFEST_ACCEPT,
    MANIFEST_MEDIA_TYPES,
    Descriptor,
    ImageConfig,
    ImageIndex,
    ImageManifest,
    layer_compression,
    parse_config,
    parse_digest,
    parse_document,
    sha256_digest,
    verify_digest,
)
from .ocibuild import host_architecture

__all__ = ["RegistryError", "Fetched", "LayerCheck", "ManifestWalk", "RegistryClient", "OciLayout", "Store",
           "walk_image", "check_blob", "is_loopback_host"]

CHUNK = 1 << 16
_DIGEST_HINT = "The data was corrupted or changed on the way; fetch it again and do not use this copy."
_CODE_HINTS = {
    "MANIFEST_UNKNOWN": "Check the tag or digest (client.tags(repository) lists the tags), or push the image first.",
    "NAME_UNKNOWN": "The repository does not exist here yet: push to it first (client.catalog() lists them).",
    "BLOB_UNKNOWN": "The registry lost or never had this blob; push the image again.",
    "UNAUTHORIZED": "This registry wants a login: 'docker login HOST' first (the course's registry needs none).",
    "DENIED": "Your account may not read this repository: check its name and your permissions.",
    "TOOMANYREQUESTS": "Rate limited (Docker Hub counts pulls per IP): wait, log in, or use a mirror.",
}


class RegistryError(LabError):
    """The registry answered with an error, or did not answer at all."""

    def __init__(self, message: str, hint: str, *, status: int = 0, code: str = "") -> None:
        super().__init__(message, hint)
        self.status = status
        self.code = code


def is_loopback_host(host: str) -> bool:
    """True for localhost, ::1 and 127.0.0.0/8: addresses that never leave this machine."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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

    def fetch_manifest(self, reference: str) -> Fetched:
        """The manifest or index named by a tag or digest, digest-verified."""

    def fetch_blob(self, digest: str) -> Iterator[bytes]:
        """The blob's bytes, in chunks (checked by the caller)."""


def _fetched(reference: str, data: bytes, media_type: str, header_digest: str, where: str) -> Fetched:
    """Hash what came, compare with the header and the digest asked for, then parse it."""
    digest = sha256_digest(data)
    if header_digest and header_digest != digest:
        raise DigestMismatchError(f"The {where} hashes to {digest}, but the registry says {header_digest}.",
                                  _DIGEST_HINT, expected=header_digest, actual=digest)
    if reference.startswith("sha256:"):
        verify_digest(data, reference, what=where)
    kind = media_type.split(";", 1)[0].strip()
    document = parse_document(data, kind if kind in (*INDEX_MEDIA_TYPES, *MANIFEST_MEDIA_TYPES) else None, where)
    return Fetched(reference, document.media_type, digest, header_digest, data, document)


class _VerifyingStream:
    """Hashes a blob as it streams; gunzips it on the fly to hash the uncompressed tar as well."""

    def __init__(self, compression: str) -> None:
        self.raw = hashlib.sha256()
        self.size = 0
        self.tar = hashlib.sha256() if compression in ("gzip", "none") else None
        self._gunzip = zlib.decompressobj(16 + zlib.MAX_WBITS) if compression == "gzip" else None

    def update(self, chunk: bytes) -> None:
        self.raw.update(chunk)
        self.size += len(chunk)
        if self._gunzip is not None:
            self._inflate(self._gunzip.decompress, chunk)
        elif self.tar is not None:
            self.tar.update(chunk)

    def _inflate(self, step: Callable[..., bytes], *args: bytes) -> None:
        try:
            self.tar.update(step(*args))
        except zlib.error:
            self.tar = None  # corrupt gzip: the blob digest check below says so
            self._gunzip = None

    def finish(self) -> tuple[str, str]:
        """(blob digest, diff_id or '' when the compression is not one this reader undoes)."""
        if self._gunzip is not None:
            self._inflate(self._gunzip.flush)
        diff_id = "sha256:" + self.tar.hexdigest() if self.tar is not None else ""
        return "sha256:" + self.raw.hexdigest(), diff_id


def check_blob(chunks: Iterable[bytes], descriptor: Descriptor, *, sink: Callable[[bytes], Any] | None = None,
               progress: Callable[[int, int], None] | None = None) -> tuple[str, str]:
    """Stream a blob, check its digest and size against the descriptor; (digest, uncompressed digest)."""
    parse_digest(descriptor.digest, "the blob digest")
    stream = _VerifyingStream(layer_compression(descriptor.media_type))
    for chunk in chunks:
        stream.update(chunk)
        if sink is not None:
            sink(chunk)
        if progress is not None:
            progress(stream.size, descriptor.size)
    digest, diff_id = stream.finish()
    if digest != descriptor.digest:
        raise DigestMismatchError(f"The blob {descriptor.digest} hashes to {digest}.", _DIGEST_HINT,
                                  expected=descriptor.digest, actual=digest)
    if stream.size != descriptor.size:
        raise DigestMismatchError(f"The blob {descriptor.digest} has {stream.size} bytes, its descriptor says "
                                  f"{descriptor.size}.", _DIGEST_HINT, expected=str(descriptor.size),
                                  actual=str(stream.size))
    return digest, diff_id


def walk_image(store: Store, reference: str, *, platform: tuple[str, str] | None = None,
               fetch_layers: bool = True) -> ManifestWalk:
    """Follow an image from its tag or digest down to its layers, verifying every digest.

    An index (or manifest list) is resolved to the manifest of ``platform`` (default: this
    machine's linux/<arch>; an index with a single image needs none). With ``fetch_layers``
    each layer blob is streamed, its digest checked, and its uncompressed digest compared with
    the config's ``diff_ids``.
    """
    top = store.fetch_manifest(reference)
    index = None
    manifest = top
    if top.is_index:
        index = top
        chosen = _choose(top.document, platform)
        manifest = store.fetch_manifest(chosen.digest)
        if manifest.size != chosen.size:
            raise DigestMismatchError(f"The manifest {chosen.digest} has {manifest.size} bytes; the index says "
                                      f"{chosen.size}.", _DIGEST_HINT)
        if manifest.is_index:
            raise ParseError("The index points at another index.", "Walk that index's entries one by one.")
    document = manifest.document
    config_data = b"".join(store.fetch_blob(document.config.digest))
    verify_digest(config_data, document.config.digest, what="image config")
    if len(config_data) != document.config.size:
        raise DigestMismatchError(f"The config has {len(config_data)} bytes; the manifest says "
                                  f"{document.config.size}.", _DIGEST_HINT)
    config = parse_config(config_data)
    if len(config.diff_ids) != len(document.layers):
        raise ParseError(f"The manifest lists {len(document.layers)} layers but the config has "
                         f"{len(config.diff_ids)} diff_ids.", "The image is inconsistent; push it again.")
    layers = []
    for position, (descriptor, diff_id) in enumerate(zip(document.layers, config.diff_ids)):
        if not fetch_layers:
            layers.append(LayerCheck(position, descriptor, diff_id))
            continue
        _, computed = check_blob(store.fetch_blob(descriptor.digest), descriptor)
        if computed and computed != diff_id:
            raise DigestMismatchError(f"Layer {position} uncompressed hashes to {computed}, but the config's diff_id "
                                      f"is {diff_id}.", _DIGEST_HINT, expected=diff_id, actual=computed)
        layers.append(LayerCheck(position, descriptor, diff_id, fetched=True, computed_diff_id=computed))
    return ManifestWalk(store.name, reference, index, manifest, document.config, config, config_data, tuple(layers))


def _choose(index: ImageIndex, platform: tuple[str, str] | None) -> Descriptor:
    images = [m for m in index.manifests if m.media_type not in INDEX_MEDIA_TYPES
              and m.annotations.get("vnd.docker.reference.type") != "attestation-manifest"]
    if len(images) == 1 and (platform is None or images[0].platform is None):
        return images[0]
    os_name, architecture = platform or ("linux", host_architecture()[0])
    return index.for_platform(os_name, architecture)


# -- a registry over HTTP -----------------------------------------------------------------------------
class _LoopbackRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to loopback hosts (a registry may send blobs elsewhere)."""

    def __init__(self, allow_remote: bool) -> None:
        self.allow_remote = allow_remote

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        host = urllib.parse.urlsplit(newurl).hostname or ""
        if not self.allow_remote and not is_loopback_host(host):
            raise RegistryError(f"The registry redirected to {host}, which is not on this machine.",
                                "The course only talks to registries on 127.0.0.1; pass allow_remote=True "
                                "if you mean it.")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class RegistryClient:
    """The registry API v2 at ``url`` (e.g. 'http://127.0.0.1:5000' or '127.0.0.1:5000')."""

    def __init__(self, url: str, *, timeout: float = 10.0, allow_remote: bool = False) -> None:
        if "://" not in url:
            url = f"http://{url}"
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LabError(f"{url!r} is not a registry address.", "Write it as host:port, e.g. 127.0.0.1:5000.")
        if not allow_remote and not is_loopback_host(parts.hostname):
            raise LabError(f"{parts.hostname} is not on this machine; the course only talks to local registries.",
                           "Start the course's registry (Registry().start()) or pass allow_remote=True.")
        self.url = f"{parts.scheme}://{parts.netloc}"
        self.address = parts.netloc
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _LoopbackRedirects(allow_remote))

    # -- HTTP plumbing ----------------------------------------------------------------------------
    def _open(self, path: str, *, method: str = "GET", accept: str | None = None) -> Any:
        request = urllib.request.Request(self.url + path, method=method)
        if accept:
            request.add_header("Accept", accept)
        try:
            return self._opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as err:
            raise self._error(err, path) from None
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise RegistryError(f"The registry at {self.address} does not answer ({reason}).",
                                "Start it first: Registry().start() in a notebook, or "
                                "'python -m containerlab registry start'.") from None

    def _error(self, err: urllib.error.HTTPError, path: str) -> RegistryError:
        code, detail = "", ""
        try:
            body = json.loads(err.read() or b"{}")
            first = (body.get("errors") or [{}])[0]
            code, detail = str(first.get("code", "")), str(first.get("message", ""))
        except (ValueError, AttributeError):
            pass
        what = f"{detail} ({code})" if code else f"HTTP {err.code} {err.reason}"
        hint = _CODE_HINTS.get(code) or ("Rate limited: wait, or use a mirror." if err.code == 429 else
                                         "Check the repository name and tag, and that the registry is the right one.")
        return RegistryError(f"The registry at {self.address} refused {path}: {what}.", hint, status=err.code,
                             code=code)

    def _json(self, path: str) -> tuple[Any, Any]:
        with self._open(path) as response:
            data = response.read()
            headers = response.headers
        try:
            return json.loads(data), headers
        except ValueError:
            raise ParseError(f"The registry's answer to {path} is not JSON.", "Is this really a registry?") from None

    # -- the API ----------------------------------------------------------------------------------
    def ping(self) -> str:
        """The API version the registry reports ('registry/2.0'); RegistryError when it does not answer."""
        with self._open("/v2/") as response:
            return response.headers.get("Docker-Distribution-Api-Version", "")

    def catalog(self, page_size: int = 100) -> list[str]:
        """Every repository in the registry, following the paginated Link headers."""
        path: str | None = f"/v2/_catalog?n={page_size}"
        repositories: list[str] = []
        while path:
            body, headers = self._json(path)
            repositories += body.get("repositories") or []
            path = _next_link(headers.get("Link", ""))
        return repositories

    def tags(self, repository: str) -> list[str]:
        """The tags of one repository, sorted."""
        body, _ = self._json(f"/v2/{repository}/tags/list")
        return sorted(body.get("tags") or [])

    def manifest(self, repository: str, reference: str) -> Fetched:
        """GET a manifest or index by tag or digest (Accept: the four current types), verified."""
        with self._open(f"/v2/{repository}/manifests/{reference}", accept=MANIFEST_ACCEPT) as response:
            data = response.read()
            media_type = response.headers.get("Content-Type", "")
            header_digest = response.headers.get("Docker-Content-Digest", "")
        return _fetched(reference, data, media_type, header_digest, f"manifest {repository}:{reference}")

    def manifest_digest(self, repository: str, reference: str) -> str:
        """HEAD a manifest: the digest the registry reports for a tag, without downloading it."""
        with self._open(f"/v2/{repository}/manifests/{reference}", method="HEAD", accept=MANIFEST_ACCEPT) as response:
            return response.headers.get("Docker-Content-Digest", "")

    def blob_chunks(self, repository: str, digest: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """A blob's bytes as they arrive (unchecked: use check_blob or blob())."""
        parse_digest(digest, "the blob digest")
        with self._open(f"/v2/{repository}/blobs/{digest}") as response:
            while True:
                chunk = response.read(chunk_size)
                if not chunk:
                    return
                yield chunk

    def blob(self, repository: str, descriptor: Descriptor, *, sink: Callable[[bytes], Any] | None = None,
             progress: Callable[[int, int], None] | None = None) -> tuple[str, str]:
        """Stream a blob, verified against its descriptor: (digest, uncompressed digest)."""
        return check_blob(self.blob_chunks(repository, descriptor.digest), descriptor, sink=sink, progress=progress)

    def config(self, repository: str, descriptor: Descriptor) -> ImageConfig:
        """The image config a manifest points at, verified and parsed."""
        data = b"".join(self.blob_chunks(repository, descriptor.digest))
        verify_digest(data, descriptor.digest, what="image config")
        return parse_config(data)

    def repository(self, repository: str) -> _RepositoryStore:
        """A Store over one repository, for walk_image."""
        return _RepositoryStore(self, repository)

    def walk(self, repository: str, reference: str = "latest", **options: Any) -> ManifestWalk:
        """index → manifest → config → layers of repository:reference, every digest verified."""
        return walk_image(self.repository(repository), reference, **options)

    def __repr__(self) -> str:
        return f"<RegistryClient {self.address}>"


class _RepositoryStore:
    def __init__(self, client: RegistryClient, repository: str) -> None:
        self.client = client
        self.repository = repository
        self.name = f"{client.address}/{repository}"

    def fetch_manifest(self, reference: str) -> Fetched:
        return self.client.manifest(self.repository, reference)

    def fetch_blob(self, digest: str) -> Iterator[bytes]:
        return self.client.blob_chunks(self.repository, digest)


def _next_link(link: str) -> str | None:
    """The path of a Link: <...>; rel="next" header, or None."""
    if 'rel="next"' not in link:
        return None
    target = link.split(";", 1)[0].strip().strip("<>")
    return target if target.startswith("/") else urllib.parse.urlsplit(target)._replace(scheme="", netloc="").geturl()


# -- an OCI image layout (a tarball or its files) -------------------------------------------------------
class OciLayout:
    """An OCI image layout read into memory: index.json plus blobs/sha256/*, walkable like a registry."""

    def __init__(self, index: bytes, blobs: dict[str, bytes], name: str = "OCI layout") -> None:
        self.index_data = index
        self.blobs = blobs
        self.name = name

    @classmethod
    def from_tar(cls, source: bytes | BinaryIO, name: str = "OCI layout") -> OciLayout:
        """Read an OCI layout tarball (as build_image or `skopeo copy oci-archive:` write)."""
        fileobj = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
        blobs: dict[str, bytes] = {}
        index = None
        try:
            with tarfile.open(fileobj=fileobj, mode="r|*") as tar:
                for member in tar:
                    if not member.isfile():
                        continue
                    path = member.name.lstrip("./")
                    data = tar.extractfile(member).read()
                    if path == "index.json":
                        index = data
                    elif path.startswith("blobs/"):
                        _, algorithm, encoded = path.split("/", 2)
                        blobs[f"{algorithm}:{encoded}"] = data
        except (tarfile.TarError, ValueError) as err:
            raise ParseError(f"The OCI layout tarball cannot be read ({err}).",
                             "Make it again (build_image(..., layout='oci')).") from None
        if index is None:
            raise ParseError("The tarball has no index.json, so it is no OCI image layout.",
                             "A `docker save` tarball is read with read_image instead.")
        return cls(index, blobs, name)

    def fetch_manifest(self, reference: str) -> Fetched:
        """index.json for a tag (org.opencontainers.image.ref.name) or 'index.json'; a blob for a digest."""
        if reference.startswith("sha256:"):
            data = self._blob(reference)
            return _fetched(reference, data, "", "", f"manifest {reference[:19]}")
        return _fetched(reference, self.index_data, "", "", "index.json")

    def fetch_blob(self, digest: str) -> Iterator[bytes]:
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
