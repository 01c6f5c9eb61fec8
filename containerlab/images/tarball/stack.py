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
Every blob is checked against its digest in the digest's own algorithm (sha256 or sha512):
its file name, the descriptor that names it, the config's ``diff_ids``; a blob stored as a
link is refused. A mismatch raises :class:`DigestMismatchError`; ``verify=False`` skips
hashing and trusts the stated digests. Malformed or hostile input (truncated tars, odd pax
values, ``..`` or absolute entry names, whiteouts of ``.`` or ``..``, links that climb out of
the image) raises :class:`ParseError` saying which layer and entry; input past the read's
:class:`~containerlab.images.budget.Budget` raises :class:`BudgetExceededError`.
:func:`extract_layer` is the only code that writes files, only when called, and refuses
entries that would land outside its target.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ...errors import DigestMismatchError, LabError, ParseError
from ..budget import Budget, Meter
from ..manifest import (
    INDEX_MEDIA_TYPES,
    MANIFEST_MEDIA_TYPES,
    Descriptor,
    ImageConfig,
    layer_history,
    parse_archive_manifest,
    parse_config,
    parse_digest,
    parse_index,
    parse_manifest,
)
from ..reference import parse_reference
from .blobs import HASHES, _Archive, _archive_path, _BlobScan, _scan, document_bytes
from .report import FileChange, ImageReport, LayerReport, TarEntry
from .tar import (
    _BLOB_NAME,
    _HEX_CONFIG,
    _HOSTILE_HINT,
    _TAR_HINT,
    WHITEOUT_PREFIX,
    ByteProgress,
    Source,
    whiteout_of,
)


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
        match = _BLOB_NAME.fullmatch(name)
        if match and match.group(1) in HASHES and blob.digest != f"{match.group(1)}:{match.group(2)}":
            raise _mismatch(f"blob {name}", f"{match.group(1)}:{match.group(2)}", blob.digest)


def _descriptor_blob(archive: _Archive, descriptor: Descriptor, where: str, verify: bool) -> _BlobScan:
    """The blob a descriptor names, checked against it: its size, and (verifying) its digest in its own algorithm."""
    algorithm, encoded = parse_digest(descriptor.digest, f"{where}.digest")
    blob = archive.resolve(f"blobs/{algorithm}/{encoded}", where)
    if not verify:
        return blob
    if blob.size != descriptor.size:
        raise DigestMismatchError(
            f"{where} says {descriptor.size} bytes but blobs/{algorithm}/{encoded} has {blob.size}.",
            "The tarball was corrupted or tampered with; save or download the image again.",
            expected=str(descriptor.size), actual=str(blob.size))
    if algorithm not in HASHES:
        raise ParseError(f"{where} names its blob with the digest algorithm {algorithm!r}, which cannot be checked.",
                         "Use sha256 (or sha512) digests, or read it with verify=False if you trust it.")
    if blob.digest != descriptor.digest:
        raise _mismatch(f"blob {blob.name}", descriptor.digest, blob.digest)
    return blob


def _oci_plans(archive: _Archive, verify: bool) -> list[_Plan]:
    """One plan per distinct manifest the index names (directly or through nested indexes), tags merged."""
    meter = archive.meter
    index = parse_index(archive.json("index.json", "index.json"), "index.json")
    docker_tags: dict[str, list[str]] = {}
    if "manifest.json" in archive.blobs:
        for entry in parse_archive_manifest(archive.json("manifest.json", "manifest.json")):
            match = _BLOB_NAME.fullmatch(_archive_path(entry.config))
            if match:
                docker_tags.setdefault(f"{match.group(1)}:{match.group(2)}", []).extend(entry.repo_tags)
    plans: dict[str, _Plan] = {}
    visited_indexes: set[str] = set()

    def document(descriptor: Descriptor, where: str) -> bytes:
        return document_bytes(_descriptor_blob(archive, descriptor, where, verify), where, meter)

    def visit(descriptors: tuple[Descriptor, ...], where: str, depth: int) -> None:
        for i, descriptor in enumerate(descriptors):
            path = f"{where}.manifests[{i}]"
            meter.check_time()
            if descriptor.annotations.get("vnd.docker.reference.type") == "attestation-manifest":
                continue
            names = [descriptor.annotations.get("io.containerd.image.name", ""),
                     descriptor.annotations.get("org.opencontainers.image.ref.name", "")]
            if descriptor.media_type in INDEX_MEDIA_TYPES:
                if depth > 4:
                    raise ParseError(f"{path}: indexes nest too deep.", _HOSTILE_HINT)
                if descriptor.digest in visited_indexes:
                    continue
                visited_indexes.add(descriptor.digest)
                visit(parse_index(document(descriptor, path), path).manifests, path, depth + 1)
                continue
            if descriptor.media_type not in MANIFEST_MEDIA_TYPES:
                continue
            known = plans.get(descriptor.digest)
            if known is not None:
                known.tags = _familiar_tags(known.tags + [n for n in names if "/" in n or ":" in n])
                continue
            meter.spend("images")
            manifest = parse_manifest(document(descriptor, path), path)
            config = parse_config(document(manifest.config, f"{path}.config"), f"config {manifest.config.digest}")
            tags = _familiar_tags([n for n in names if "/" in n or ":" in n]
                                  + docker_tags.get(manifest.config.digest, []))
            plans[descriptor.digest] = _Plan(
                layout="oci", tags=tags, config_digest=manifest.config.digest,
                manifest_digest=descriptor.digest, config=config,
                layer_members=[_descriptor_blob(archive, layer, f"{path}.layers[{j}]", verify).name
                               for j, layer in enumerate(manifest.layers)],
                layer_descriptors=list(manifest.layers))

    visit(index.manifests, "index.json", 0)
    return list(plans.values())


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


def _docker_plans(archive: _Archive, verify: bool) -> list[_Plan]:
    """One plan per distinct (config, layers) entry of manifest.json, tags merged."""
    meter = archive.meter
    plans: dict[tuple[str, tuple[str, ...]], _Plan] = {}
    for i, entry in enumerate(parse_archive_manifest(archive.json("manifest.json", "manifest.json"))):
        where = f"manifest.json[{i}]"
        meter.check_time()
        config_blob = archive.resolve(entry.config, f"{where}.Config")
        layer_members = [archive.resolve(layer, f"{where}.Layers[{j}]").name for j, layer in enumerate(entry.layers)]
        key = (config_blob.name, tuple(layer_members))
        known = plans.get(key)
        if known is not None:
            known.tags = _familiar_tags(known.tags + list(entry.repo_tags))
            continue
        meter.spend("images")
        named = _BLOB_NAME.fullmatch(config_blob.name)
        match = _HEX_CONFIG.fullmatch(config_blob.name)
        expected = f"{named.group(1)}:{named.group(2)}" if named else f"sha256:{match.group(1)}" if match else ""
        if expected and verify and expected != config_blob.digest:
            raise _mismatch(f"image config {config_blob.name}", expected, config_blob.digest)
        config = parse_config(document_bytes(config_blob, f"{where}.Config", meter), f"config {config_blob.name}")
        plans[key] = _Plan(layout="docker-save", tags=_familiar_tags(entry.repo_tags),
                           config_digest=config_blob.digest, manifest_digest=None, config=config,
                           layer_members=layer_members, layer_descriptors=[None] * len(entry.layers))
    return list(plans.values())


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
    if verify:
        actual = blob.diff_ids.get(expected.partition(":")[0])
        if actual is None:
            raise ParseError(f"The config names {what} by {expected.partition(':')[0]}, but its blob is named by "
                             f"{blob.algorithm}: its diff_id cannot be checked.",
                             "Use sha256 diff_ids, or read it with verify=False if you trust it.")
        if actual != expected:
            raise _mismatch(f"uncompressed {what}", expected, actual)
    return blob


class _Node:
    """A path in the stacked filesystem: which layer wrote it and what it is."""

    __slots__ = ("children", "gid", "kind", "layer", "link", "mode", "size", "uid")

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
        return parent, (parent.children or {}).get(name), name

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
        """Record every path under ``node`` (itself included) as deleted; returns their total size.

        Iterative: a tree thousands of directories deep costs time in proportion to its size, never recursion.
        """
        total = 0
        pending = [(node, path)]
        while pending:
            current, where = pending.pop()
            total += current.size
            self._drop(current, where)
            deleted[where] = FileChange(where, current.kind, current.size, current.link, current.layer)
            if current.children:
                pending.extend((child, f"{where}/{name}") for name, child in reversed(current.children.items()))
        return total

    def apply(self, index: int, entries: list[TarEntry]
              ) -> tuple[list[TarEntry], list[FileChange], list[FileChange], list[FileChange], list[str], list[str]]:
        whiteouts: list[str] = []
        opaque: list[str] = []
        files: list[TarEntry] = []
        for entry in entries:
            if WHITEOUT_PREFIX not in entry.path:
                files.append(entry)
                continue
            role, subject = whiteout_of(entry.path)
            if role == "entry":
                files.append(entry)
            elif role == "whiteout":
                whiteouts.append(subject)
            elif role == "opaque":
                opaque.append(subject)
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
        archive.meter.spend("entries", len(blob.entries))
        archive.meter.check_time()
        files, added, modified, deleted, whiteouts, opaque = stack.apply(index, blob.entries)
        descriptor = plan.layer_descriptors[index]
        media_type = descriptor.media_type if descriptor else ""
        computed = blob.diff_ids.get(config.diff_ids[index].partition(":")[0], "")
        digest = blob.digest or (descriptor.digest if descriptor else computed)
        diff_id = computed or config.diff_ids[index]
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


def read_images(source: Source, *, verify: bool = True, progress: ByteProgress | None = None,
                budget: Budget | None = None) -> list[ImageReport]:
    """Every image in a tarball (`docker save` of one or more images, or an OCI image layout; gzipped or not).

    ``source``: a path, bytes, a binary file object (a pipe is fine) or an iterable of byte
    chunks such as docker-py's ``api.get_image(name)``. Blobs are hashed on a second thread
    while this one parses headers. ``verify=False`` skips hashing the layers (saves CPU; on
    one core it is about twice as fast) and trusts the digests the manifests and config state (a
    gzipped layer.tar in a `docker save` layout then has no stated digest: '').
    ``progress(bytes_read, total_or_None)`` is called per chunk.

    Budget (``budget``, defaults of :class:`Budget`): at most 1,000 distinct images (an index naming a
    manifest many times gives one image), 10,000 JSON documents of at most 8 MiB each and 64 MiB held
    together, 100,000 tarball members, 1,000,000 layer entries read plus stacked (about 300 bytes of memory
    each), 1 TiB read and inflated, 600 seconds. Memory is otherwise a few MiB whatever the tarball's size:
    gzip is inflated 1 MiB at a time and layer contents are never kept.
    """
    meter = Meter(budget, "the image tarball")
    archive = _scan(source, progress, hashing=verify, meter=meter)
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
               progress: ByteProgress | None = None, budget: Budget | None = None) -> ImageReport:
    """The one image in a tarball, or the one with ``tag`` when it holds several (budget: see read_images)."""
    images = read_images(source, verify=verify, progress=progress, budget=budget)
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


def iter_layers(source: Source, tag: str | None = None, *, verify: bool = True,
                budget: Budget | None = None) -> Iterator[LayerReport]:
    """The layers of an image in a tarball, bottom up (wasted bytes need all layers read first; budget: read_images)."""
    yield from read_image(source, tag, verify=verify, budget=budget).layers


