"""Image references, parsed and normalised the way Docker and Distribution do.

``[registry[:port]/]repository[:tag][@digest]``: ``busybox`` means
``docker.io/library/busybox:latest``; ``localhost:5000/app`` and ``127.0.0.1:5000/app``
name a local registry; the first path part is a registry only when it contains a
``.`` or a ``:``, is ``localhost``, or has upper-case letters (repositories are
lower case), as Distribution's current ``splitDockerDomain`` decides. (Engines
built on older Distribution code, like Docker 20.10, reject ``Foo/bar`` outright.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import InvalidReferenceError, ParseError
from .manifest import parse_digest

__all__ = ["Reference", "parse_reference", "DEFAULT_REGISTRY", "DEFAULT_TAG", "OFFICIAL_PREFIX"]

DEFAULT_REGISTRY = "docker.io"
LEGACY_REGISTRY = "index.docker.io"
OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"
MAX_NAME_LENGTH = 255

_PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_DOMAIN_COMPONENT = re.compile(r"^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$")
_IPV6 = re.compile(r"^\[[a-fA-F0-9:]+\]$")
_PORT = re.compile(r"^[0-9]+$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$", re.ASCII)
_HEX64 = re.compile(r"^[a-f0-9]{64}$")


def _bad(text: str, part: str, why: str, hint: str) -> InvalidReferenceError:
    return InvalidReferenceError(f"Invalid image reference {text!r}: the {part} {why}.", hint, part=part)


@dataclass(frozen=True)
class Reference:
    """A fully qualified image reference: registry, repository, tag and/or digest."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """registry/repository, without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def familiar_name(self) -> str:
        """The name as `docker images` shows it: docker.io/ and library/ dropped."""
        if self.registry != DEFAULT_REGISTRY:
            return self.name
        if self.repository.startswith(OFFICIAL_PREFIX) and self.repository.count("/") == 1:
            return self.repository[len(OFFICIAL_PREFIX):]
        return self.repository

    @property
    def familiar(self) -> str:
        """The short form people type: 'busybox:latest', 'localhost:5000/app:1.0', 'debian@sha256:…'."""
        return self.familiar_name + self._suffix()

    @property
    def is_official(self) -> bool:
        """True for Docker Hub's official images (docker.io/library/...)."""
        return self.registry == DEFAULT_REGISTRY and self.repository.startswith(OFFICIAL_PREFIX)

    @property
    def api_host(self) -> str:
        """The host to send registry API v2 requests to (Docker Hub's API lives at registry-1.docker.io)."""
        return "registry-1.docker.io" if self.registry == DEFAULT_REGISTRY else self.registry

    @property
    def manifest_key(self) -> str:
        """What to ask the registry's /manifests/ endpoint for: the digest when pinned, else the tag."""
        return self.digest or self.tag or DEFAULT_TAG

    def with_tag(self, tag: str) -> Reference:
        """The same repository with another tag (and no digest)."""
        if not _TAG.match(tag):
            raise _bad(tag, "tag", "may only contain letters, digits, '_', '.' and '-' (at most 128, not "
                       "starting with '.' or '-')", "Choose a tag like 'v1.2' or '2024-05-01'.")
        return Reference(self.registry, self.repository, tag, None)

    def with_digest(self, digest: str) -> Reference:
        """The same repository pinned to a digest (the tag is kept for readability)."""
        _check_digest(digest, digest)
        return Reference(self.registry, self.repository, self.tag, digest)

    def _suffix(self) -> str:
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def __str__(self) -> str:
        return self.name + self._suffix()


def _check_digest(text: str, digest: str) -> None:
    try:
        parse_digest(digest, "the digest")
    except ParseError as err:
        raise _bad(text, "digest", f"{digest!r} is not a valid digest", err.hint) from None


def _split_registry(name: str) -> tuple[str, str, bool]:
    """(registry, remainder, explicit) as Distribution's splitDockerDomain decides."""
    first, slash, rest = name.partition("/")
    explicit = bool(slash) and ("." in first or ":" in first or first == "localhost" or first.lower() != first)
    if explicit:
        registry, remainder = first, rest
    else:
        registry, remainder = DEFAULT_REGISTRY, name
    if registry == LEGACY_REGISTRY:
        registry = DEFAULT_REGISTRY
    if registry == DEFAULT_REGISTRY and "/" not in remainder:
        remainder = OFFICIAL_PREFIX + remainder
    return registry, remainder, explicit


def _check_registry(text: str, registry: str) -> None:
    if registry.startswith("["):
        end = registry.find("]")
        host, rest = (registry[: end + 1], registry[end + 1:]) if end > 0 else (registry, "")
        if not _IPV6.match(host) or (rest and not rest.startswith(":")):
            raise _bad(text, "registry", f"{registry!r} is not a valid IPv6 address",
                       "Write an IPv6 registry in brackets, e.g. '[::1]:5000'.")
        port = rest[1:] if rest else None
    else:
        host, colon, port_text = registry.partition(":")
        port = port_text if colon else None
        for component in host.split("."):
            if not _DOMAIN_COMPONENT.match(component):
                raise _bad(text, "registry", f"{registry!r} is not a valid host name",
                           "A registry is a host name or IP address with an optional :port, "
                           "e.g. 'localhost:5000'.")
    if port is not None and not _PORT.match(port):
        raise _bad(text, "registry", f"port {port!r} is not a number",
                   "Write the registry as host:port, e.g. 'localhost:5000'.")
    if port is not None and not 0 < int(port) < 65536:
        raise _bad(text, "registry", f"port {port} is out of range", "Ports go from 1 to 65535.")


def _check_repository(text: str, repository: str, shown: str) -> None:
    """Check the path components; messages quote ``shown`` (the name as typed, without library/)."""
    if not repository:
        raise _bad(text, "repository", "is empty", "Give a repository name, e.g. 'busybox' or 'team/app'.")
    if repository.lower() != repository:
        raise _bad(text, "repository", f"{shown!r} must be lowercase",
                   f"Use {shown.lower()!r}; only registries and tags may contain capitals.")
    for component in repository.split("/"):
        if not _PATH_COMPONENT.match(component):
            raise _bad(text, "repository", f"{shown!r} has an invalid part {component!r}",
                       "Repository parts use a-z, 0-9 and single separators '.', '_', '__' or '-', "
                       "starting and ending with a letter or digit.")


def parse_reference(text: str, *, default_tag: str | None = DEFAULT_TAG) -> Reference:
    """Parse and normalise an image reference; InvalidReferenceError names the bad part.

    Without tag and digest the tag is ``default_tag`` ('latest', as `docker pull` does);
    pass ``default_tag=None`` to keep it unset.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidReferenceError(f"The image reference {text!r} is empty.", "Give a name like 'busybox' or "
                                    "'localhost:5000/app:1.0'.", part="repository")
    if text != text.strip() or any(ch.isspace() for ch in text):
        raise _bad(text, "repository", "contains spaces", "Remove the spaces.")
    remainder, at, digest = text.partition("@")
    if at:
        _check_digest(text, digest)
    slash, colon = remainder.rfind("/"), remainder.rfind(":")
    tag = None
    name = remainder
    if colon > slash:
        name, tag = remainder[:colon], remainder[colon + 1:]
        if len(tag) > 128:
            raise _bad(text, "tag", f"is {len(tag)} characters long (at most 128)", "Choose a shorter tag.")
        if not _TAG.match(tag):
            raise _bad(text, "tag", f"{tag!r} may only contain letters, digits, '_', '.' and '-' (at most 128, "
                       "not starting with '.' or '-')", "Choose a tag like 'v1.2' or '2024-05-01'.")
    if not at and _HEX64.match(name):
        raise _bad(text, "repository", "is a 64-digit hexadecimal string, which could be an image ID",
                   "Use the ID directly with docker commands, or choose a real repository name.")
    registry, repository, explicit = _split_registry(name)
    if explicit or registry != DEFAULT_REGISTRY:
        _check_registry(text, registry)
    shown = name.split("/", 1)[1] if explicit else name
    _check_repository(text, repository, shown)
    if len(f"{registry}/{repository}") > MAX_NAME_LENGTH:
        raise _bad(text, "repository", f"name is longer than {MAX_NAME_LENGTH} characters", "Shorten the name.")
    if tag is None and not at:
        tag = default_tag
    return Reference(registry, repository, tag, digest if at else None)
