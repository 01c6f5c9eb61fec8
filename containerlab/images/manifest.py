"""OCI and Docker image documents: index / manifest list, manifest, config; digests.

An image is a small tree of JSON documents that name each other by digest (the
sha256 of their exact bytes): an index (or Docker manifest list) points at one
manifest per platform, a manifest points at a config and at layer blobs, and the
config lists the uncompressed layers' digests (``rootfs.diff_ids``) and the
history that made them. Parsers here take bytes, validate every field they use
and raise :class:`ParseError` naming the field path (``manifest.layers[2].digest``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import DigestMismatchError, ParseError

__all__ = [
    "OCI_INDEX", "OCI_MANIFEST", "OCI_CONFIG", "OCI_LAYER", "OCI_LAYER_GZIP", "OCI_LAYER_ZSTD", "OCI_EMPTY",
    "DOCKER_MANIFEST_LIST", "DOCKER_MANIFEST", "DOCKER_CONFIG", "DOCKER_LAYER", "DOCKER_LAYER_GZIP",
    "DOCKER_LAYER_FOREIGN", "DOCKER_MANIFEST_V1", "INDEX_MEDIA_TYPES", "MANIFEST_MEDIA_TYPES", "MANIFEST_ACCEPT",
    "Platform", "Descriptor", "ImageIndex", "ImageManifest", "HistoryEntry", "ContainerSettings", "ImageConfig",
    "ArchiveEntry", "parse_index", "parse_manifest", "parse_config", "parse_document", "parse_archive_manifest",
    "parse_digest", "sha256_digest", "verify_digest", "layer_compression", "layer_history", "instruction_of",
]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
DOCKER_MANIFEST_V1 = "application/vnd.docker.distribution.manifest.v1+prettyjws"

INDEX_MEDIA_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
MANIFEST_MEDIA_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST))
"""The Accept header a registry client sends to get any of the four current document types."""

_LAYER_COMPRESSION = {
    OCI_LAYER: "none", DOCKER_LAYER: "none",
    OCI_LAYER_GZIP: "gzip", DOCKER_LAYER_GZIP: "gzip", DOCKER_LAYER_FOREIGN: "gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar": "none",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": "gzip",
    OCI_LAYER_ZSTD: "zstd",
}
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
_ENCODED = {"sha256": re.compile(r"^[a-f0-9]{64}$"), "sha512": re.compile(r"^[a-f0-9]{128}$")}
_SPEC_HINT = "Compare it with the OCI image spec (github.com/opencontainers/image-spec); it may be truncated or edited."
_DIGEST_HINT = "The data was corrupted or changed on the way; fetch it again and do not use this copy."

Json = Mapping[str, Any]


# -- digests ------------------------------------------------------------------------------
def parse_digest(text: str, where: str = "digest") -> tuple[str, str]:
    """Split 'sha256:<hex>' into (algorithm, encoded), checking the OCI digest grammar."""
    if not isinstance(text, str) or not _DIGEST.fullmatch(text):
        raise ParseError(f"{where} is not a digest: {text!r}.",
                         "A digest looks like 'sha256:' followed by 64 lowercase hex digits.")
    algorithm, encoded = text.split(":", 1)
    pattern = _ENCODED.get(algorithm)
    if pattern is not None and not pattern.fullmatch(encoded):
        raise ParseError(f"{where} is not a valid {algorithm} digest: {text!r}.",
                         f"A {algorithm} digest has {64 if algorithm == 'sha256' else 128} lowercase hex digits.")
    return algorithm, encoded


def sha256_digest(data: bytes | bytearray | memoryview) -> str:
    """The OCI digest of ``data``: 'sha256:' + the hex sha256 of the exact bytes."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def verify_digest(data: bytes | bytearray | memoryview, expected: str, *, what: str = "content") -> str:
    """Return ``expected`` if ``data`` hashes to it, else raise DigestMismatchError."""
    algorithm, _ = parse_digest(expected, f"the digest of the {what}")
    if algorithm not in _ENCODED:
        raise ParseError(f"The {what} uses the digest algorithm {algorithm!r}, which this course does not check.",
                         "Use sha256 (or sha512) digests.")
    actual = f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"
    if actual != expected:
        raise DigestMismatchError(f"The {what} does not match its digest: expected {expected}, got {actual}.",
                                  _DIGEST_HINT, expected=expected, actual=actual)
    return expected


def layer_compression(media_type: str) -> str:
    """'gzip', 'zstd' or 'none' for a layer media type; 'unknown' for anything else."""
    return _LAYER_COMPRESSION.get(media_type, "unknown")


# -- field access with paths ------------------------------------------------------------------
def _load(data: bytes | str | Json, where: str) -> Json:
    if isinstance(data, Mapping):
        return data
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise ParseError(f"{where} is not valid JSON ({err}).", _SPEC_HINT) from None
    if not isinstance(document, dict):
        raise ParseError(f"{where} must be a JSON object, not {type(document).__name__}.", _SPEC_HINT)
    return document


_KIND_NAMES = {str: "a string", int: "an integer", bool: "true or false", list: "a list", dict: "an object"}


def _field(obj: Json, key: str, kind: type, path: str, *, required: bool = True, default: Any = None) -> Any:
    """obj[key] checked to be of ``kind``; ParseError names ``path.key`` when missing or mistyped."""
    if key not in obj or obj[key] is None:
        if required:
            raise ParseError(f"{path}.{key} is missing.", _SPEC_HINT)
        return default
    value = obj[key]
    wrong_int = kind is int and isinstance(value, bool)
    if not isinstance(value, kind) or wrong_int:
        raise ParseError(f"{path}.{key} must be {_KIND_NAMES.get(kind, kind.__name__)}, not {value!r}.", _SPEC_HINT)
    return value


def _strings(obj: Json, key: str, path: str) -> tuple[str, ...] | None:
    values = _field(obj, key, list, path, required=False)
    if values is None:
        return None
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise ParseError(f"{path}.{key}[{i}] must be a string, not {value!r}.", _SPEC_HINT)
    return tuple(values)


def _string_map(obj: Json, key: str, path: str) -> dict[str, str]:
    values = _field(obj, key, dict, path, required=False, default={})
    for name, value in values.items():
        if not isinstance(value, str):
            raise ParseError(f"{path}.{key}[{name!r}] must be a string, not {value!r}.", _SPEC_HINT)
    return dict(values)


# -- models -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Platform:
    """Which OS and CPU an image runs on: linux/amd64, linux/arm64/v8, ..."""

    os: str
    architecture: str
    variant: str = ""
    os_version: str = ""
    os_features: tuple[str, ...] = ()

    def __str__(self) -> str:
        return "/".join(part for part in (self.os, self.architecture, self.variant) if part)


@dataclass(frozen=True)
class Descriptor:
    """A pointer to a blob: what it is (media type), its digest and its size in bytes."""

    media_type: str
    digest: str
    size: int
    annotations: dict[str, str] = field(default_factory=dict)
    platform: Platform | None = None
    urls: tuple[str, ...] = ()
    artifact_type: str = ""

    @property
    def short_digest(self) -> str:
        """The first 12 hex digits, as `docker images` shows IDs."""
        return self.digest.split(":", 1)[-1][:12]


@dataclass(frozen=True)
class ImageIndex:
    """An OCI image index or a Docker manifest list: one manifest per platform."""

    media_type: str
    manifests: tuple[Descriptor, ...]
    annotations: dict[str, str] = field(default_factory=dict)
    schema_version: int = 2

    @property
    def is_docker(self) -> bool:
        """True for a Docker manifest list, False for an OCI index."""
        return self.media_type == DOCKER_MANIFEST_LIST

    @property
    def platforms(self) -> list[str]:
        """The platforms offered, as 'os/arch[/variant]' ('' for entries without one)."""
        return [str(m.platform) if m.platform else "" for m in self.manifests]

    def for_platform(self, os: str = "linux", architecture: str = "amd64", variant: str = "") -> Descriptor:
        """The manifest for one platform (variant optional); ParseError if the index has none."""
        for manifest in self.manifests:
            p = manifest.platform
            if p and p.os == os and p.architecture == architecture and (not variant or p.variant == variant):
                return manifest
        wanted = "/".join(part for part in (os, architecture, variant) if part)
        raise ParseError(f"The index has no manifest for {wanted} (it has: {', '.join(self.platforms) or 'none'}).",
                         "Pick one of the listed platforms.")


@dataclass(frozen=True)
class ImageManifest:
    """An OCI image manifest or a Docker v2 schema 2 manifest: a config and ordered layers."""

    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: dict[str, str] = field(default_factory=dict)
    schema_version: int = 2
    subject: Descriptor | None = None
    artifact_type: str = ""

    @property
    def is_docker(self) -> bool:
        """True for a Docker schema 2 manifest, False for an OCI one."""
        return self.media_type == DOCKER_MANIFEST

    @property
    def layers_size(self) -> int:
        """Bytes to download for all layers (as stored: usually compressed)."""
        return sum(layer.size for layer in self.layers)


_NOP = re.compile(r"^/bin/sh -c #\(nop\)\s*")
_SHELL = re.compile(r"^/bin/sh -c\s+")
_ARG_PREFIX = re.compile(r"^\|(\d+)\s+")
# The Dockerfile instructions (also the Dockerfile parser's list): how a history entry names the one that made it.
DOCKERFILE_KEYWORDS = ("ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
                       "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR")


def instruction_of(created_by: str) -> str:
    """The Dockerfile instruction a history entry's ``created_by`` records, in one normal form.

    The classic builder writes '/bin/sh -c #(nop)  ENV A=b' for metadata, '/bin/sh -c make'
    for a shell-form RUN (prefixed by '|1 ARG=v ' when build args were set) and the bare
    command for an exec-form RUN; BuildKit writes 'RUN |1 ARG=v /bin/sh -c make # buildkit'.
    All become 'ENV A=b', 'RUN make', 'RUN /bin/busybox --install -s /bin', ...
    """
    text = created_by.strip()
    if text.endswith("# buildkit"):
        text = text[: -len("# buildkit")].rstrip()
    if not text:
        return ""
    keyword = text.split(None, 1)[0]
    if keyword in DOCKERFILE_KEYWORDS and keyword != "RUN":
        return text
    body = text[3:].strip() if keyword == "RUN" else text
    match = _ARG_PREFIX.match(body)
    if match:
        body = " ".join(body[match.end():].split(" ")[int(match.group(1)):])
    nop = _NOP.match(body)
    if nop:
        return body[nop.end():].strip()
    shell = _SHELL.match(body)
    return "RUN " + (body[shell.end():] if shell else body)


@dataclass(frozen=True)
class HistoryEntry:
    """One step that built the image; ``empty_layer`` steps changed only metadata."""

    created: str = ""
    created_by: str = ""
    author: str = ""
    comment: str = ""
    empty_layer: bool = False

    @property
    def instruction(self) -> str:
        """The Dockerfile instruction this step ran ('RUN make', 'COPY ...'); '' when unknown."""
        return instruction_of(self.created_by)

    @property
    def keyword(self) -> str:
        """RUN, COPY, ENV, ... ('' when the step is not a Dockerfile instruction)."""
        word = self.instruction.split(None, 1)[0] if self.instruction else ""
        return word if word in DOCKERFILE_KEYWORDS else ""


@dataclass(frozen=True)
class ContainerSettings:
    """The run defaults an image carries (config.config): user, env, entrypoint, cmd, ..."""

    user: str = ""
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    working_dir: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    exposed_ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    stop_signal: str = ""

    @property
    def env_map(self) -> dict[str, str]:
        """ENV as a dict (the last value of a repeated name wins)."""
        return {name: value for name, _, value in (item.partition("=") for item in self.env)}


@dataclass(frozen=True)
class ImageConfig:
    """The image config: platform, run defaults, layer diff_ids and build history."""

    architecture: str
    os: str
    diff_ids: tuple[str, ...]
    history: tuple[HistoryEntry, ...] = ()
    config: ContainerSettings = field(default_factory=ContainerSettings)
    created: str = ""
    author: str = ""
    variant: str = ""
    rootfs_type: str = "layers"

    @property
    def platform(self) -> Platform:
        """The platform this image was built for."""
        return Platform(self.os, self.architecture, self.variant)

    def layer_history(self) -> list[HistoryEntry | None]:
        """The history entry that made each layer, aligned with ``diff_ids``."""
        return layer_history(self.history, len(self.diff_ids))


def layer_history(history: Sequence[HistoryEntry], layer_count: int) -> list[HistoryEntry | None]:
    """Map history to layers: the non-empty entries, in order, made the layers bottom up.

    Entries with ``empty_layer`` (ENV, CMD, LABEL, ...) made no layer and are skipped.
    When the history is shorter than the layer list (imported or hand-made images) the
    remaining layers get None; surplus entries are ignored.
    """
    makers = [entry for entry in history if not entry.empty_layer]
    return [makers[i] if i < len(makers) else None for i in range(layer_count)]


@dataclass(frozen=True)
class ArchiveEntry:
    """One image in a `docker save` manifest.json: config file, tags, layer files bottom up."""

    config: str
    repo_tags: tuple[str, ...]
    layers: tuple[str, ...]


# -- parsers ------------------------------------------------------------------------------
def _platform(obj: Json, path: str) -> Platform:
    return Platform(
        os=_field(obj, "os", str, path),
        architecture=_field(obj, "architecture", str, path),
        variant=_field(obj, "variant", str, path, required=False, default=""),
        os_version=_field(obj, "os.version", str, path, required=False, default=""),
        os_features=_strings(obj, "os.features", path) or (),
    )


def _descriptor(obj: Any, path: str) -> Descriptor:
    if not isinstance(obj, dict):
        raise ParseError(f"{path} must be an object (a descriptor), not {obj!r}.", _SPEC_HINT)
    digest = _field(obj, "digest", str, path)
    parse_digest(digest, f"{path}.digest")
    size = _field(obj, "size", int, path)
    if size < 0:
        raise ParseError(f"{path}.size must not be negative ({size}).", _SPEC_HINT)
    platform = _field(obj, "platform", dict, path, required=False)
    return Descriptor(
        media_type=_field(obj, "mediaType", str, path),
        digest=digest,
        size=size,
        annotations=_string_map(obj, "annotations", path),
        platform=_platform(platform, f"{path}.platform") if platform is not None else None,
        urls=_strings(obj, "urls", path) or (),
        artifact_type=_field(obj, "artifactType", str, path, required=False, default=""),
    )


def _schema_version(obj: Json, where: str) -> int:
    version = _field(obj, "schemaVersion", int, where)
    if version == 1:
        raise ParseError(f"{where} is a Docker schema 1 manifest ({DOCKER_MANIFEST_V1}), retired in 2019.",
                         "Ask the registry for schema 2 or OCI (send the MANIFEST_ACCEPT header) or rebuild the image.")
    if version != 2:
        raise ParseError(f"{where}.schemaVersion must be 2, not {version}.", _SPEC_HINT)
    return version


def _check_media_type(obj: Json, where: str, allowed: tuple[str, ...], default: str) -> str:
    media_type = _field(obj, "mediaType", str, where, required=False, default=default)
    if media_type not in allowed:
        raise ParseError(f"{where}.mediaType is {media_type!r}; expected one of {', '.join(allowed)}.",
                         "Use parse_document() when you do not know what kind of document this is.")
    return media_type


def parse_index(data: bytes | str | Json, where: str = "index") -> ImageIndex:
    """An OCI image index or Docker manifest list, validated."""
    obj = _load(data, where)
    version = _schema_version(obj, where)
    media_type = _check_media_type(obj, where, INDEX_MEDIA_TYPES, OCI_INDEX)
    manifests = _field(obj, "manifests", list, where)
    return ImageIndex(
        media_type=media_type,
        manifests=tuple(_descriptor(m, f"{where}.manifests[{i}]") for i, m in enumerate(manifests)),
        annotations=_string_map(obj, "annotations", where),
        schema_version=version,
    )


def parse_manifest(data: bytes | str | Json, where: str = "manifest") -> ImageManifest:
    """An OCI image manifest or Docker v2 schema 2 manifest, validated."""
    obj = _load(data, where)
    version = _schema_version(obj, where)
    media_type = _check_media_type(obj, where, MANIFEST_MEDIA_TYPES, OCI_MANIFEST)
    config = _field(obj, "config", dict, where)
    layers = _field(obj, "layers", list, where)
    subject = _field(obj, "subject", dict, where, required=False)
    return ImageManifest(
        media_type=media_type,
        config=_descriptor(config, f"{where}.config"),
        layers=tuple(_descriptor(layer, f"{where}.layers[{i}]") for i, layer in enumerate(layers)),
        annotations=_string_map(obj, "annotations", where),
        schema_version=version,
        subject=_descriptor(subject, f"{where}.subject") if subject is not None else None,
        artifact_type=_field(obj, "artifactType", str, where, required=False, default=""),
    )


def parse_document(data: bytes | str | Json, media_type: str | None = None,
                   where: str = "document") -> ImageIndex | ImageManifest:
    """An index or a manifest, told apart by ``media_type`` (e.g. a Content-Type) or its own fields."""
    obj = _load(data, where)
    kind = media_type or obj.get("mediaType")
    if kind in INDEX_MEDIA_TYPES or (kind is None and "manifests" in obj):
        return parse_index(obj, where)
    if kind in MANIFEST_MEDIA_TYPES or (kind is None and "config" in obj and "layers" in obj):
        return parse_manifest(obj, where)
    if kind == DOCKER_MANIFEST_V1 or obj.get("schemaVersion") == 1:
        _schema_version({"schemaVersion": 1}, where)
    raise ParseError(f"{where} is neither an image index nor an image manifest (mediaType {kind!r}).",
                     "Registries also store other artifacts (signatures, SBOMs); only images are read here.")


def _history(obj: Json, where: str) -> tuple[HistoryEntry, ...]:
    entries = _field(obj, "history", list, where, required=False, default=[])
    history = []
    for i, item in enumerate(entries):
        path = f"{where}.history[{i}]"
        if not isinstance(item, dict):
            raise ParseError(f"{path} must be an object, not {item!r}.", _SPEC_HINT)
        history.append(HistoryEntry(
            created=_field(item, "created", str, path, required=False, default=""),
            created_by=_field(item, "created_by", str, path, required=False, default=""),
            author=_field(item, "author", str, path, required=False, default=""),
            comment=_field(item, "comment", str, path, required=False, default=""),
            empty_layer=_field(item, "empty_layer", bool, path, required=False, default=False),
        ))
    return tuple(history)


def _settings(obj: Json | None, path: str) -> ContainerSettings:
    if obj is None:
        return ContainerSettings()
    ports = _field(obj, "ExposedPorts", dict, path, required=False, default={})
    volumes = _field(obj, "Volumes", dict, path, required=False, default={})
    return ContainerSettings(
        user=_field(obj, "User", str, path, required=False, default=""),
        env=_strings(obj, "Env", path) or (),
        entrypoint=_strings(obj, "Entrypoint", path),
        cmd=_strings(obj, "Cmd", path),
        working_dir=_field(obj, "WorkingDir", str, path, required=False, default=""),
        labels=_string_map(obj, "Labels", path),
        exposed_ports=tuple(sorted(ports)),
        volumes=tuple(sorted(volumes)),
        stop_signal=_field(obj, "StopSignal", str, path, required=False, default=""),
    )


def parse_config(data: bytes | str | Json, where: str = "config") -> ImageConfig:
    """An OCI / Docker image config, validated; diff_ids are checked to be digests."""
    obj = _load(data, where)
    rootfs = _field(obj, "rootfs", dict, where)
    rootfs_type = _field(rootfs, "type", str, f"{where}.rootfs")
    if rootfs_type != "layers":
        raise ParseError(f"{where}.rootfs.type must be 'layers', not {rootfs_type!r}.", _SPEC_HINT)
    diff_ids = _strings(rootfs, "diff_ids", f"{where}.rootfs")
    if diff_ids is None:
        raise ParseError(f"{where}.rootfs.diff_ids is missing.", _SPEC_HINT)
    for i, diff_id in enumerate(diff_ids):
        parse_digest(diff_id, f"{where}.rootfs.diff_ids[{i}]")
    settings = _field(obj, "config", dict, where, required=False)
    return ImageConfig(
        architecture=_field(obj, "architecture", str, where),
        os=_field(obj, "os", str, where),
        diff_ids=diff_ids,
        history=_history(obj, where),
        config=_settings(settings, f"{where}.config"),
        created=_field(obj, "created", str, where, required=False, default=""),
        author=_field(obj, "author", str, where, required=False, default=""),
        variant=_field(obj, "variant", str, where, required=False, default=""),
        rootfs_type=rootfs_type,
    )


def parse_archive_manifest(data: bytes | str, where: str = "manifest.json") -> list[ArchiveEntry]:
    """The manifest.json of a `docker save` tarball: one entry per saved image."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise ParseError(f"{where} is not valid JSON ({err}).", "Save the image again with 'docker save'.") from None
    if not isinstance(document, list):
        raise ParseError(f"{where} must be a JSON list of images, not {type(document).__name__}.",
                         "Save the image again with 'docker save'.")
    entries = []
    for i, item in enumerate(document):
        path = f"{where}[{i}]"
        if not isinstance(item, dict):
            raise ParseError(f"{path} must be an object, not {item!r}.", "Save the image again with 'docker save'.")
        layers = _strings(item, "Layers", path)
        if layers is None:
            raise ParseError(f"{path}.Layers is missing.", "Save the image again with 'docker save'.")
        entries.append(ArchiveEntry(config=_field(item, "Config", str, path),
                                    repo_tags=_strings(item, "RepoTags", path) or (), layers=layers))
    return entries
