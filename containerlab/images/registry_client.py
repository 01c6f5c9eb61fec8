"""A small client of the registry HTTP API v2 (Distribution): tags, catalog, manifests and blobs, each checked
against its digest (images.image_walk walks an image through it, or through an OCI layout, the same way).

Standard library only (urllib). Nothing a registry sends can make the client read without end. Budget
(:class:`Budget`): a body is never read past the size its descriptor states (nor past ``document_bytes``, 8 MiB, for
a manifest fetched by tag, a config or a JSON answer; 64 KiB for an error); a catalog follows at most ``documents``
(10,000) pages and never the same one twice; every JSON answer must arrive whole within ``timeout`` seconds and
every blob within ``budget.seconds`` (600): when the time is up the connection is shut, however slowly bytes still
trickle in.

By default the client talks only to loopback registries (127.0.0.0/8, ::1, localhost):
the course's own registry. ``allow_remote=True`` lifts that for learners at home.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import InvalidReferenceError, LabError, ParseError
from .budget import Budget, Meter, exceeded
from .image_walk import (
    CHUNK,
    LAYOUT_BUDGET,
    Fetched,
    LayerCheck,
    ManifestWalk,
    OciLayout,
    Store,
    _fetched,
    _is_digest,
    _join,
    _too_long,
    check_blob,
    walk_image,
)
from .manifest import (
    MANIFEST_ACCEPT,
    Descriptor,
    ImageConfig,
    parse_config,
    parse_digest,
    verify_digest,
)
from .reference import _PATH_COMPONENT, _TAG

__all__ = ["RegistryError", "Fetched", "LayerCheck", "ManifestWalk", "RegistryClient", "OciLayout", "Store",
           "walk_image", "check_blob", "is_loopback_host", "LAYOUT_BUDGET"]

_ERROR_BODY_LIMIT = 64 * 1024
_ANSWER_HINT = "Is this really a registry? The course's own one is started with Registry().start()."
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


class _WatchedHTTPSConnection(_WatchedHTTPConnection, http.client.HTTPSConnection):
    """The same watch on the TLS socket (HTTPSConnection.connect wraps it before the watch starts)."""


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
