"""Build real image tarballs in pure Python: tar + JSON + sha256, no engine needed.

An image is only a few files: one tar per layer, a config naming the layers'
digests and the build history, a manifest naming config and layers by digest, and an
index. :func:`build_image` writes them as an OCI image layout (with Docker's
``manifest.json`` beside ``index.json``, so ``docker load`` of any version accepts it)
or in the classic ``docker save`` layout. Output is deterministic: same input, same
bytes, same digests. Tests use it to make small images; on Binder (no engine)
:func:`busybox_image` makes a real, runnable image from the host's static busybox.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import platform
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from ..errors import LabError
from .manifest import OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_LAYER_GZIP, OCI_MANIFEST
from .reference import parse_reference
from .tarball import OPAQUE_MARKER, WHITEOUT_PREFIX

__all__ = [
    "File", "Symlink", "HardLink", "Directory", "Marker", "WHITEOUT", "OPAQUE", "Layer", "TarLayer", "Step",
    "BuiltImage",
    "layer_tar", "build_image", "busybox_image", "host_architecture", "DEFAULT_APPLETS", "EPOCH",
]

EPOCH = "1970-01-01T00:00:00Z"
DEFAULT_APPLETS = (
    "[", "ash", "awk", "basename", "cat", "chmod", "chown", "cp", "cut", "date", "df", "dirname", "du", "echo",
    "env", "false", "find", "grep", "gzip", "head", "hostname", "httpd", "id", "ip", "kill", "less", "ln", "ls",
    "mkdir", "more", "mount", "mv", "nc", "nslookup", "ping", "printf", "ps", "pwd", "readlink", "rm", "sed",
    "seq", "sh", "sha256sum", "sleep", "sort", "stat", "tail", "tar", "tee", "test", "top", "touch", "tr", "true",
    "umount", "uname", "uniq", "vi", "wc", "wget", "whoami", "xargs",
)
# The same two files engine/images.py puts in containerlab/busybox.
PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
GROUP = "root:x:0:\nnogroup:x:65534:\n"
_GOARCH = {"x86_64": ("amd64", ""), "amd64": ("amd64", ""), "aarch64": ("arm64", ""), "arm64": ("arm64", ""),
           "armv7l": ("arm", "v7"), "armv6l": ("arm", "v6"), "ppc64le": ("ppc64le", ""), "s390x": ("s390x", ""),
           "riscv64": ("riscv64", ""), "i686": ("386", ""), "i386": ("386", "")}
_BUILD_HINT = "Layer paths are relative to the image root and never contain '..'."


@dataclass(frozen=True)
class File:
    """A regular file with its bytes, permission bits and owner."""

    data: bytes
    mode: int = 0o644
    uid: int = 0
    gid: int = 0


@dataclass(frozen=True)
class Symlink:
    """A symbolic link (the target is stored as written, absolute or relative)."""

    target: str


@dataclass(frozen=True)
class HardLink:
    """A hard link to another path of the same layer."""

    target: str


@dataclass(frozen=True)
class Directory:
    """A directory (parents of other paths are added automatically with mode 0755)."""

    mode: int = 0o755
    uid: int = 0
    gid: int = 0


class Marker(Enum):
    """Whiteouts: delete a path of the layers below, or hide everything below in a directory."""

    WHITEOUT = "whiteout"
    OPAQUE = "opaque"


WHITEOUT = Marker.WHITEOUT
OPAQUE = Marker.OPAQUE
Content = bytes | str | File | Symlink | HardLink | Directory | Marker


@dataclass(frozen=True)
class Layer:
    """One filesystem layer: {path: content}; str content is stored as UTF-8 text."""

    files: Mapping[str, Content]
    created_by: str = ""
    comment: str = ""
    compression: str = "gzip"


@dataclass(frozen=True)
class TarLayer:
    """A layer from an existing tar (like `docker import` of a root filesystem tarball), stored as given."""

    tar: bytes
    created_by: str = ""
    comment: str = ""
    compression: str = "gzip"


@dataclass(frozen=True)
class Step:
    """A build step that changed only metadata (ENV, CMD, LABEL, ...): history, no layer."""

    created_by: str
    comment: str = ""


@dataclass(frozen=True)
class BuiltImage:
    """A built image tarball and the digests inside it."""

    data: bytes
    tag: str
    layout: str
    config_digest: str
    manifest_digest: str
    diff_ids: tuple[str, ...]
    layer_digests: tuple[str, ...]
    config: dict = field(repr=False)

    @property
    def image_id(self) -> str:
        """What `docker load` will call this image: the config digest."""
        return self.config_digest

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Save the tarball to ``path`` and return it."""
        target = Path(path)
        target.write_bytes(self.data)
        return target


def host_architecture() -> tuple[str, str]:
    """(architecture, variant) of this machine in OCI/Go terms: ('amd64', ''), ('arm', 'v7'), ..."""
    return _GOARCH.get(platform.machine().lower(), (platform.machine().lower() or "amd64", ""))


def _clean(path: str) -> str:
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts or not parts:
        raise LabError(f"The layer path {path!r} is not a path inside the image.", _BUILD_HINT)
    return "/".join(parts)


def _info(name: str, kind: bytes, mode: int, uid: int = 0, gid: int = 0, size: int = 0,
          link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.uid, info.gid = uid, gid
    info.uname = info.gname = ""
    info.mtime = 0
    info.size = size
    info.linkname = link
    return info


def layer_tar(files: Mapping[str, Content]) -> bytes:
    """The tar of one layer, deterministic: sorted, parents added, whiteout files made, hard links last."""
    entries: dict[str, tuple[tarfile.TarInfo, bytes | None]] = {}

    def add_parents(path: str) -> None:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            parent = "/".join(parts[:i])
            if parent not in entries:
                entries[parent] = (_info(parent + "/", tarfile.DIRTYPE, 0o755), None)

    explicit = {_clean(path): content for path, content in files.items()}
    for path in sorted(explicit):
        content = explicit[path]
        add_parents(path)
        directory, _, base = path.rpartition("/")
        if content is WHITEOUT:
            name = f"{directory}/{WHITEOUT_PREFIX}{base}" if directory else WHITEOUT_PREFIX + base
            entries[name] = (_info(name, tarfile.REGTYPE, 0o644), b"")
        elif content is OPAQUE:
            entries.setdefault(path, (_info(path + "/", tarfile.DIRTYPE, 0o755), None))
            marker = f"{path}/{OPAQUE_MARKER}"
            entries[marker] = (_info(marker, tarfile.REGTYPE, 0o644), b"")
        elif isinstance(content, Directory):
            entries[path] = (_info(path + "/", tarfile.DIRTYPE, content.mode, content.uid, content.gid), None)
        elif isinstance(content, Symlink):
            entries[path] = (_info(path, tarfile.SYMTYPE, 0o777, link=content.target), None)
        elif isinstance(content, HardLink):
            entries[path] = (_info(path, tarfile.LNKTYPE, 0o644, link=_clean(content.target)), None)
        else:
            if isinstance(content, str):
                content = File(content.encode())
            elif isinstance(content, (bytes, bytearray)):
                content = File(bytes(content))
            if not isinstance(content, File):
                raise LabError(f"The layer path {path!r} has content of type {type(content).__name__}.",
                               "Use bytes, str, File, Symlink, HardLink, Directory, WHITEOUT or OPAQUE.")
            entries[path] = (_info(path, tarfile.REGTYPE, content.mode, content.uid, content.gid,
                                   len(content.data)), content.data)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(entries, key=lambda key: (entries[key][0].type == tarfile.LNKTYPE, key)):
            info, data = entries[name]
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _json(document: object) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _history(step: Layer | TarLayer | Step, created: str) -> dict:
    entry: dict = {"created": created, "created_by": step.created_by}
    if step.comment:
        entry["comment"] = step.comment
    if isinstance(step, Step):
        entry["empty_layer"] = True
    return entry


def build_image(steps: Sequence[Layer | TarLayer | Step | Mapping[str, Content]], *,
                tag: str = "containerlab/ocibuild:latest",
                layout: str = "oci", env: Sequence[str] = (), cmd: Sequence[str] | None = None,
                entrypoint: Sequence[str] | None = None, working_dir: str = "", user: str = "",
                labels: Mapping[str, str] | None = None, architecture: str | None = None, variant: str | None = None,
                os_name: str = "linux", created: str = EPOCH) -> BuiltImage:
    """An image tarball from layers (bottom first) and metadata-only steps, in order.

    ``layout='oci'``: oci-layout, index.json, blobs/sha256/... plus Docker's manifest.json;
    ``layout='docker'``: the classic `docker save` layout (<id>/layer.tar, <config>.json,
    manifest.json, repositories). A plain mapping is a Layer with no history text.
    """
    if layout not in ("oci", "docker"):
        raise LabError(f"Unknown layout {layout!r}.", "Use layout='oci' or layout='docker'.")
    reference = parse_reference(tag)
    arch, host_variant = host_architecture()
    built_steps: list[Layer | TarLayer | Step] = [Layer(step) if isinstance(step, Mapping) else step for step in steps]
    layers: list[tuple[Layer | TarLayer, bytes, bytes]] = []
    for step in built_steps:
        if isinstance(step, (Layer, TarLayer)):
            if step.compression not in ("gzip", "none"):
                raise LabError(f"Unknown layer compression {step.compression!r}.", "Use 'gzip' or 'none'.")
            tar = layer_tar(step.files) if isinstance(step, Layer) else step.tar
            blob = gzip.compress(tar, compresslevel=6, mtime=0) if step.compression == "gzip" else tar
            layers.append((step, tar, blob))
    diff_ids = [_digest(tar) for _, tar, _ in layers]
    settings: dict = {}
    if env:
        settings["Env"] = list(env)
    if cmd is not None:
        settings["Cmd"] = list(cmd)
    if entrypoint is not None:
        settings["Entrypoint"] = list(entrypoint)
    if working_dir:
        settings["WorkingDir"] = working_dir
    if user:
        settings["User"] = user
    if labels:
        settings["Labels"] = dict(labels)
    config: dict = {
        "architecture": architecture or arch, "os": os_name, "created": created, "config": settings,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [_history(step, created) for step in built_steps],
    }
    chosen_variant = host_variant if variant is None and architecture is None else (variant or "")
    if chosen_variant:
        config["variant"] = chosen_variant
    config_bytes = _json(config)
    config_digest = _digest(config_bytes)
    layer_digests = [_digest(blob) for _, _, blob in layers]
    manifest = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config_bytes)},
        "layers": [{"mediaType": OCI_LAYER_GZIP if step.compression == "gzip" else OCI_LAYER,
                    "digest": digest, "size": len(blob)}
                   for (step, _, blob), digest in zip(layers, layer_digests)],
    }
    manifest_bytes = _json(manifest)
    manifest_digest = _digest(manifest_bytes)
    short_tag = str(reference) if reference.registry != "docker.io" else reference.familiar
    members: dict[str, bytes | str | None] = {}
    if layout == "oci":
        members["blobs/"] = None
        members["blobs/sha256/"] = None
        for blob_bytes in [config_bytes, manifest_bytes] + [blob for _, _, blob in layers]:
            members[f"blobs/sha256/{_digest(blob_bytes)[7:]}"] = blob_bytes
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [{
            "mediaType": OCI_MANIFEST, "digest": manifest_digest, "size": len(manifest_bytes),
            "annotations": {"io.containerd.image.name": str(reference),
                            "org.opencontainers.image.ref.name": reference.tag or "latest"}}]}
        members["index.json"] = _json(index)
        members["oci-layout"] = _json({"imageLayoutVersion": "1.0.0"})
        members["manifest.json"] = _json([{"Config": f"blobs/sha256/{config_digest[7:]}", "RepoTags": [short_tag],
                                           "Layers": [f"blobs/sha256/{d[7:]}" for d in layer_digests]}])
    else:
        layer_files = []
        parent = ""
        first_dir_for: dict[str, str] = {}
        for (_, _, blob), diff_id in zip(layers, diff_ids):
            layer_id = hashlib.sha256(f"{parent} {diff_id}".encode()).hexdigest()
            members[f"{layer_id}/"] = None
            members[f"{layer_id}/VERSION"] = b"1.0"
            members[f"{layer_id}/json"] = _json({"id": layer_id, **({"parent": parent} if parent else {})})
            blob_key = _digest(blob)
            if blob_key in first_dir_for:
                members[f"{layer_id}/layer.tar"] = f"../{first_dir_for[blob_key]}/layer.tar"
            else:
                members[f"{layer_id}/layer.tar"] = blob
                first_dir_for[blob_key] = layer_id
            layer_files.append(f"{layer_id}/layer.tar")
            parent = layer_id
        members[f"{config_digest[7:]}.json"] = config_bytes
        members["manifest.json"] = _json([{"Config": f"{config_digest[7:]}.json", "RepoTags": [short_tag],
                                           "Layers": layer_files}])
        if parent:
            members["repositories"] = _json({short_tag.rsplit(":", 1)[0]: {reference.tag or "latest": parent}})
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(members):
            data = members[name]
            if data is None:
                archive.addfile(_info(name, tarfile.DIRTYPE, 0o755))
            elif isinstance(data, str):
                archive.addfile(_info(name, tarfile.SYMTYPE, 0o777, link=data))
            else:
                archive.addfile(_info(name, tarfile.REGTYPE, 0o644, size=len(data)), io.BytesIO(data))
    return BuiltImage(data=buffer.getvalue(), tag=short_tag, layout=layout, config_digest=config_digest,
                      manifest_digest=manifest_digest, diff_ids=tuple(diff_ids), layer_digests=tuple(layer_digests),
                      config=config)


def busybox_image(busybox: bytes, *, tag: str = "containerlab/busybox:ocibuild",
                  applets: Sequence[str] = DEFAULT_APPLETS, labels: Mapping[str, str] | None = None,
                  layout: str = "oci") -> BuiltImage:
    """A runnable FROM-scratch image around a static busybox binary, like containerlab/busybox.

    Same steps as the engine-built image (COPY busybox, RUN --install -s, COPY etc/,
    RUN mkdir, ENV, CMD), made without running anything: the applet links are written
    directly. ``busybox`` must be a statically linked binary for this machine.
    """
    if busybox[:4] != b"\x7fELF":
        raise LabError("The busybox bytes are not an ELF program.",
                       "Read a static busybox binary, e.g. Path('/bin/busybox').read_bytes().")
    directories = ("tmp", "root", "home", "var", "proc", "sys", "dev")
    steps: list[Layer | Step] = [
        Layer({"bin/busybox": File(busybox, 0o755)}, "COPY busybox /bin/busybox"),
        Layer({f"bin/{applet}": Symlink("/bin/busybox") for applet in applets if applet != "busybox"},
              "RUN /bin/busybox --install -s /bin"),
        Layer({"etc/passwd": PASSWD, "etc/group": GROUP}, "COPY etc/ /etc/"),
        Layer({name: Directory() for name in directories},
              "RUN /bin/mkdir -p " + " ".join(f"/{d}" for d in directories)),
        Step("ENV PATH=/bin"),
        Step('CMD ["sh"]'),
    ]
    return build_image(steps, tag=tag, layout=layout, env=("PATH=/bin",), cmd=("sh",), labels=labels)
