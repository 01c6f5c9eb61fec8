"""A small client of the registry HTTP API v2 (Distribution), and the same walk over an OCI layout.

Standard library only (urllib). Every document and blob is checked against its digest, in the digest's own
algorithm (sha256 or sha512): a manifest against the bytes actually received (and the registry's
``Docker-Content-Digest`` header, and the digest asked for), a config and a layer against their descriptors.
Layers are streamed, never held whole: while a gzipped layer streams in, it is also gunzipped (1 MiB at a time)
and hashed, which gives its ``diff_id`` (the digest of the uncompressed tar that the config lists) beside its
compressed blob digest.

Nothing a registry sends can make the client read without end. Budget (:class:`Budget`): a body is never read past
the size its descriptor states (nor past ``document_bytes``, 8 MiB, for a manifest fetched by tag, a config or
a JSON answer; 64 KiB for an error); a catalog follows at most ``documents`` (10,000) pages and never the same one
twice; every JSON answer must arrive whole within ``timeout`` seconds and every blob within ``budget.seconds``
(600): when the time is up the connection is shut, however slowly bytes still trickle in.

By default the client talks only to loopback registries (127.0.0.0/8, ::1, localhost):
the course's own registry. ``allow_remote=True`` lifts that for learners at home.
"""

from __future__ import annotations

import hashlib
import http.client
import ipaddress
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import BudgetExceededError, DigestMismatchError, InvalidReferenceError, LabError, ParseError
from .budget import MIB, Budget, Meter, exceeded
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
    verify_digest,
)
from .ocibuild import host_architecture
from .reference import _PATH_COMPONENT, _TAG
from .tarball.blobs import HASHES, Gunzip, _archive_path, check_blob_member, parse_archive
from .tarball.tar import _BLOB_NAME, Source, _Member, _Sink

__all__ = ["RegistryError", "Fetched", "LayerCheck", "ManifestWalk", "RegistryClient", "OciLayout", "Store",
           "walk_image", "check_blob", "is_loopback_host", "LAYOUT_BUDGET"]

CHUNK = 1 << 16
_ERROR_BODY_LIMIT = 64 * 1024
_DIGEST_HINT = "The data was corrupted or changed on the way; fetch it again and do not use this copy."
_ANSWER_HINT = "Is this really a registry? The course's own one is started with Registry().start()."
_CODE_HINTS = {
    "MANIFEST_UNKNOWN": "Check the tag or digest (client.tags(repository) lists the tags), or push the image first.",
    "NAME_UNKNOWN": "The repository does not exist here yet: push to it first (client.catalog() lists them).",
    "BLOB_UNKNOWN": "The registry lost or never had this blob; push the image again.",
    "UNAUTHORIZED": "This registry wants a login: 'docker login HOST' first (the course's registry needs none).",
    "DENIED": "Your account may not read this repository: check its name and your permissions.",
    "TOOMANYREQUESTS": "Rate limited (Docker Hub counts pulls per IP): wait, log in, or use a mirror.",
}
LAYOUT_BUDGET = Budget(buffered_bytes=256 * MIB)
"""OciLayout.from_tar's default budget: every blob of the layout is held in memory, 256 MiB at most."""


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
                                      _DIGEST_HINT, expected=header_digest, actual=actual)
    kind = media_type.split(";", 1)[0].strip()
    document = parse_document(data, kind if kind in (*INDEX_MEDIA_TYPES, *MANIFEST_MEDIA_TYPES) else None, where)
    return Fetched(reference, document.media_type, digest, header_digest, data, document)


def _too_long(what: str, size: int) -> DigestMismatchError:
    return DigestMismatchError(f"The {what} has more than the {size} bytes its descriptor says; reading stopped there.",
                               _DIGEST_HINT, expected=str(size), actual=f"more than {size}")


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
        raise DigestMismatchError(f"The {what} has {len(data)} bytes; its descriptor says {exact}.", _DIGEST_HINT,
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
        raise DigestMismatchError(f"The blob {descriptor.digest} hashes to {digest}.", _DIGEST_HINT,
                                  expected=descriptor.digest, actual=digest)
    if stream.size != descriptor.size:
        raise DigestMismatchError(f"The blob {descriptor.digest} has {stream.size} bytes, its descriptor says "
                                  f"{descriptor.size}.", _DIGEST_HINT, expected=str(descriptor.size),
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
                                      f"{chosen.size}.", _DIGEST_HINT)
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
                                      f"is {diff_id}.", _DIGEST_HINT, expected=diff_id, actual=computed)
        layers.append(LayerCheck(position, descriptor, diff_id, fetched=True, computed_diff_id=computed))
    return ManifestWalk(store.name, reference, index, manifest, document.config, config, config_data, tuple(layers))


def _choose(index: ImageIndex, platform: tuple[str, str] | None) -> Descriptor:
    images = list({m.digest: m for m in index.manifests if m.media_type not in INDEX_MEDIA_TYPES
                   and m.annotations.get("vnd.docker.reference.type") != "attestation-manifest"}.values())
    if len(images) == 1 and (platform is None or images[0].platform is None):
        return images[0]
    os_name, architecture = platform or ("linux", host_architecture()[0])
    return index.for_platform(os_name, architecture)


# -- time limits: a watchdog that shuts the connection of an answer that takes too long ------------------------
class _Deadline:
    """The time one answer may take: when it is up, its sockets are shut down, so a blocked read returns."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return max(0.001, self.expires - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def cancel(self) -> None:
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain socket's, also under TLS: no TLS state touched
    except OSError:
        pass


_DEADLINE = "_containerlab_deadline"


class _WatchedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, deadline: _Deadline | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def connect(self) -> None:
        super().connect()
        if self._deadline is not None:
            self._deadline.watch(self.sock)


class _WatchedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, deadline: _Deadline | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def connect(self) -> None:
        super().connect()
        if self._deadline is not None:
            self._deadline.watch(self.sock)


class _WatchedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_WatchedHTTPConnection, req, deadline=getattr(req, _DEADLINE, None))


class _WatchedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_WatchedHTTPSConnection, req, context=self._context,  # type: ignore[attr-defined]
                            deadline=getattr(req, _DEADLINE, None))


# -- a registry over HTTP -----------------------------------------------------------------------------
class _LoopbackRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to loopback hosts (a registry may send blobs elsewhere); the time limit follows."""

    def __init__(self, allow_remote: bool) -> None:
        self.allow_remote = allow_remote

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> urllib.request.Request | None:
        host = urllib.parse.urlsplit(newurl).hostname or ""
        if not self.allow_remote and not is_loopback_host(host):
            raise RegistryError(f"The registry redirected to {host}, which is not on this machine.",
                                "The course only talks to registries on 127.0.0.1; pass allow_remote=True "
                                "if you mean it.")
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            setattr(new, _DEADLINE, getattr(req, _DEADLINE, None))
        return new


def _check_repository(repository: str) -> str:
    if not isinstance(repository, str) or not repository or not all(
            _PATH_COMPONENT.fullmatch(part) for part in repository.split("/")):
        raise InvalidReferenceError(f"{repository!r} is not a repository name.",
                                    "Repository names use a-z, 0-9, '/' and single '.', '_' or '-', e.g. 'course/app'.",
                                    part="repository")
    return repository


def _check_reference(reference: str) -> str:
    if isinstance(reference, str) and _is_digest(reference):
        parse_digest(reference, "the manifest digest")
        return reference
    if not isinstance(reference, str) or not _TAG.fullmatch(reference):
        raise InvalidReferenceError(f"{reference!r} is neither a tag nor a digest.",
                                    "A tag looks like '1.0' or 'latest'; a digest like 'sha256:' + 64 hex digits.",
                                    part="tag")
    return reference


class _Answer:
    """One HTTP answer being read, within its time limit; its errors become RegistryErrors."""

    def __init__(self, client: RegistryClient, path: str, seconds: float, *, method: str = "GET",
                 accept: str | None = None) -> None:
        self.client = client
        self.path = path
        self.deadline = _Deadline(seconds)
        try:
            self.response = client._open(path, method=method, accept=accept, deadline=self.deadline)
        except BaseException:
            self.deadline.cancel()
            raise

    def __enter__(self) -> _Answer:
        return self

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        self.deadline.cancel()
        self.response.close()
        if isinstance(error, (OSError, http.client.HTTPException)) or (error is None and self.deadline.expired):
            # A connection shut at the time limit can look like an answer that ended: never take it as one.
            raise self.client._broken(self.path, error or TimeoutError(), self.deadline) from None

    @property
    def headers(self) -> Any:
        return self.response.headers

    def read(self, limit: int, what: str, *, exact: int | None = None) -> bytes:
        """The whole body, never more than ``limit`` bytes (``exact``: what its descriptor says)."""
        length = self.headers.get("Content-Length", "")
        if length.isdigit() and exact is not None and int(length) > exact:
            raise _too_long(what, exact)
        if length.isdigit() and int(length) > limit:
            raise exceeded(f"the {what}", "document_bytes", limit)
        return _join(self.chunks(), limit, what, exact=exact)

    def chunks(self, chunk_size: int = CHUNK) -> Iterator[bytes]:
        while True:
            chunk = self.response.read(chunk_size)
            if not chunk:
                if self.deadline.expired:
                    raise self.client._broken(self.path, TimeoutError(), self.deadline)
                return
            yield chunk


class RegistryClient:
    """The registry API v2 at ``url`` (e.g. 'http://127.0.0.1:5000' or '127.0.0.1:5000').

    ``timeout``: seconds for a whole JSON answer (and for connecting); blobs stream for at most
    ``budget.seconds``. See the module docstring for the rest of the budget.
    """

    def __init__(self, url: str, *, timeout: float = 10.0, allow_remote: bool = False,
                 budget: Budget | None = None) -> None:
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
        self.budget = budget if budget is not None else Budget()
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _LoopbackRedirects(allow_remote),
                                                   _WatchedHTTPHandler(), _WatchedHTTPSHandler())

    # -- HTTP plumbing ----------------------------------------------------------------------------
    def _open(self, path: str, *, method: str = "GET", accept: str | None = None,
              deadline: _Deadline | None = None) -> Any:
        request = urllib.request.Request(self.url + path, method=method)
        setattr(request, _DEADLINE, deadline)
        if accept:
            request.add_header("Accept", accept)
        timeout = min(self.timeout, deadline.remaining()) if deadline is not None else self.timeout
        try:
            return self._opener.open(request, timeout=timeout)
        except urllib.error.HTTPError as err:
            raise self._error(err, path) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as err:
            if deadline is not None and deadline.expired:
                raise self._broken(path, err, deadline) from None
            reason = getattr(err, "reason", err)
            raise RegistryError(f"The registry at {self.address} does not answer ({reason}).",
                                "Start it first: Registry().start() in a notebook, or "
                                "'python -m containerlab registry start'.") from None

    def _broken(self, path: str, err: BaseException, deadline: _Deadline) -> RegistryError:
        if deadline.expired:
            return RegistryError(f"The registry at {self.address} did not finish its answer to {path} within "
                                 f"{deadline.seconds:g} seconds; the connection was closed.",
                                 "A registry on this machine answers at once: restart it (Registry().start()).")
        return RegistryError(f"The registry at {self.address} broke off its answer to {path} "
                             f"({type(err).__name__}).", "Try again; if it keeps happening, restart the registry.")

    def _error(self, err: urllib.error.HTTPError, path: str) -> RegistryError:
        code, detail = "", ""
        try:
            body = json.loads(err.read(_ERROR_BODY_LIMIT) or b"{}")
        except (ValueError, RecursionError, OSError, http.client.HTTPException):
            body = None
        errors = body.get("errors") if isinstance(body, dict) else None
        first = errors[0] if isinstance(errors, list) and errors else None
        if isinstance(first, dict):
            code, detail = str(first.get("code", ""))[:80], str(first.get("message", ""))[:200]
        what = f"{detail} ({code})" if code else f"HTTP {err.code} {err.reason}"
        hint = _CODE_HINTS.get(code) or ("Rate limited: wait, or use a mirror." if err.code == 429 else
                                         "Check the repository name and tag, and that the registry is the right one.")
        return RegistryError(f"The registry at {self.address} refused {path}: {what}.", hint, status=err.code,
                             code=code)

    def _json(self, path: str, what: str) -> tuple[Any, Any]:
        with _Answer(self, path, self.timeout) as answer:
            data = answer.read(self.budget.document_bytes, what)
            headers = answer.headers
        try:
            return json.loads(data), headers
        except (ValueError, RecursionError):
            raise ParseError(f"The registry's answer to {path} is not JSON.", _ANSWER_HINT) from None

    def _strings(self, body: Any, key: str, path: str) -> list[str]:
        """body[key] as a list of strings (null or absent: none); ParseError for any other shape."""
        if not isinstance(body, dict):
            raise ParseError(f"The registry's answer to {path} is a JSON {type(body).__name__}, not an object.",
                             _ANSWER_HINT)
        values = body.get(key)
        if values is None:
            return []
        if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
            raise ParseError(f"The registry's answer to {path} has {key!r} that is not a list of names.", _ANSWER_HINT)
        return values

    # -- the API ----------------------------------------------------------------------------------
    def ping(self) -> str:
        """The API version the registry reports ('registry/2.0'); RegistryError when it does not answer."""
        with _Answer(self, "/v2/", self.timeout) as answer:
            return str(answer.headers.get("Docker-Distribution-Api-Version", ""))

    def catalog(self, page_size: int = 100) -> list[str]:
        """Every repository in the registry, following the paginated Link headers (each page once)."""
        path: str | None = f"/v2/_catalog?n={int(page_size)}"
        repositories: list[str] = []
        seen: set[str] = set()
        meter = Meter(self.budget, f"the catalog of {self.address}")
        while path:
            if path in seen:
                raise RegistryError(f"The registry's catalog at {self.address} links back to a page it already "
                                    f"sent ({path}).", "The registry is misbehaving; restart it.")
            seen.add(path)
            meter.spend("documents")
            meter.check_time()
            body, headers = self._json(path, "catalog page")
            repositories += self._strings(body, "repositories", path)
            path = _next_link(headers.get("Link", ""))
        return repositories

    def tags(self, repository: str) -> list[str]:
        """The tags of one repository, sorted."""
        path = f"/v2/{_check_repository(repository)}/tags/list"
        body, _ = self._json(path, "tag list")
        return sorted(self._strings(body, "tags", path))

    def manifest(self, repository: str, reference: str, size: int | None = None) -> Fetched:
        """GET a manifest or index by tag or digest (Accept: the four current types), verified.

        Never read past ``size`` (a descriptor's) or the budget's ``document_bytes``.
        """
        path = f"/v2/{_check_repository(repository)}/manifests/{_check_reference(reference)}"
        what = f"manifest {repository}:{reference}"
        with _Answer(self, path, self.timeout, accept=MANIFEST_ACCEPT) as answer:
            data = answer.read(self.budget.document_bytes, what, exact=size)
            media_type = str(answer.headers.get("Content-Type", ""))
            header_digest = str(answer.headers.get("Docker-Content-Digest", ""))
        return _fetched(reference, data, media_type, header_digest, what)

    def manifest_digest(self, repository: str, reference: str) -> str:
        """HEAD a manifest: the digest the registry reports for a tag, without downloading it."""
        path = f"/v2/{_check_repository(repository)}/manifests/{_check_reference(reference)}"
        with _Answer(self, path, self.timeout, method="HEAD", accept=MANIFEST_ACCEPT) as answer:
            digest = str(answer.headers.get("Docker-Content-Digest", ""))
        if digest:
            parse_digest(digest, f"the digest the registry reports for {repository}:{reference}")
        return digest

    def blob_chunks(self, repository: str, digest: str, chunk_size: int = CHUNK, *,
                    size: int | None = None) -> Iterator[bytes]:
        """A blob's bytes as they arrive (unchecked: use check_blob or blob()); never more than ``size``."""
        parse_digest(digest, "the blob digest")
        path = f"/v2/{_check_repository(repository)}/blobs/{digest}"
        with _Answer(self, path, self.budget.seconds) as answer:
            length = answer.headers.get("Content-Length", "")
            if size is not None and length.isdigit() and int(length) > size:
                raise _too_long(f"blob {digest}", size)
            received = 0
            for chunk in answer.chunks(chunk_size):
                received += len(chunk)
                if size is not None and received > size:
                    raise _too_long(f"blob {digest}", size)
                yield chunk

    def blob(self, repository: str, descriptor: Descriptor, *, sink: Callable[[bytes], Any] | None = None,
             progress: Callable[[int, int], None] | None = None) -> tuple[str, str]:
        """Stream a blob, verified against its descriptor: (digest, uncompressed digest)."""
        return check_blob(self.blob_chunks(repository, descriptor.digest, size=descriptor.size), descriptor,
                          sink=sink, progress=progress, budget=self.budget)

    def config(self, repository: str, descriptor: Descriptor) -> ImageConfig:
        """The image config a manifest points at, verified and parsed (never read past its descriptor's size)."""
        limit = self.budget.document_bytes
        if descriptor.size > limit:
            raise exceeded("the image config", "document_bytes", limit)
        data = _join(self.blob_chunks(repository, descriptor.digest, size=descriptor.size), limit, "image config",
                     exact=descriptor.size)
        verify_digest(data, descriptor.digest, what="image config")
        return parse_config(data)

    def repository(self, repository: str) -> _RepositoryStore:
        """A Store over one repository, for walk_image."""
        return _RepositoryStore(self, _check_repository(repository))

    def walk(self, repository: str, reference: str = "latest", **options: Any) -> ManifestWalk:
        """index → manifest → config → layers of repository:reference, every digest verified."""
        return walk_image(self.repository(repository), reference, **{"budget": self.budget, **options})

    def __repr__(self) -> str:
        return f"<RegistryClient {self.address}>"


class _RepositoryStore:
    def __init__(self, client: RegistryClient, repository: str) -> None:
        self.client = client
        self.repository = repository
        self.name = f"{client.address}/{repository}"

    def fetch_manifest(self, reference: str, size: int | None = None) -> Fetched:
        return self.client.manifest(self.repository, reference, size)

    def fetch_blob(self, digest: str, size: int | None = None) -> Iterator[bytes]:
        return self.client.blob_chunks(self.repository, digest, size=size)


def _next_link(link: str) -> str | None:
    """The path of a Link: <...>; rel="next" header, or None (only ever a path on the same registry)."""
    if 'rel="next"' not in link:
        return None
    target = link.split(";", 1)[0].strip().strip("<>")
    path = target if target.startswith("/") else urllib.parse.urlsplit(target)._replace(scheme="", netloc="").geturl()
    if not path.startswith("/v2/") or any(ord(char) < 33 or ord(char) > 126 for char in path):
        return None
    return path


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
                                          _DIGEST_HINT, expected=key, actual=actual)
            blobs[key] = b"".join(sink.parts)
        index = blobs.pop("index.json")
        return cls(index, blobs, name)

    def fetch_manifest(self, reference: str, size: int | None = None) -> Fetched:
        """index.json for a tag (org.opencontainers.image.ref.name) or 'index.json'; a blob for a digest."""
        if _is_digest(reference):
            data = self._blob(reference)
            if size is not None and len(data) != size:
                raise DigestMismatchError(f"The manifest {reference} has {len(data)} bytes; its descriptor says "
                                          f"{size}.", _DIGEST_HINT, expected=str(size), actual=str(len(data)))
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
