"""The manifest walker's drawing: reference → index → manifest → config and layers, digests checked.

Input is a :class:`~containerlab.images.registry_client.ManifestWalk` (from a registry or an
OCI layout). Each document is a row with its kind, media type, short digest, size and a tick
when its digest was verified; each layer shows both of its digests: the compressed blob's
(what the registry stores and sends) and the uncompressed tar's ``diff_id`` (what the config
lists and the engine stacks). Deterministic: the same walk gives the same SVG.
"""

from __future__ import annotations

from ..images.manifest import (
    DOCKER_CONFIG,
    DOCKER_LAYER,
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    ImageIndex,
)
from ..images.registry_client import ManifestWalk
from ..text import human_size
from .svg import PALETTE, Diagram, Svg, Tone, truncate

__all__ = ["media_type_name", "short_digest", "manifest_tree"]

_WIDTH = 900.0
_ROW = 46.0
_GAP = 8.0
_INDENT = 30.0
_NAMES = {
    OCI_INDEX: "OCI image index", DOCKER_MANIFEST_LIST: "Docker manifest list",
    OCI_MANIFEST: "OCI image manifest", DOCKER_MANIFEST: "Docker image manifest (schema 2)",
    OCI_CONFIG: "OCI image config", DOCKER_CONFIG: "Docker image config",
    OCI_LAYER_GZIP: "layer: tar + gzip", DOCKER_LAYER_GZIP: "layer: tar + gzip",
    OCI_LAYER: "layer: plain tar", DOCKER_LAYER: "layer: plain tar",
}


def media_type_name(media_type: str) -> str:
    """A short readable name for an image media type ('OCI image manifest'); the type itself if unknown."""
    return _NAMES.get(media_type, media_type or "unknown type")


def short_digest(digest: str) -> str:
    """'sha256:' and the first 12 hex digits."""
    algorithm, _, encoded = digest.partition(":")
    return f"{algorithm}:{encoded[:12]}" if encoded else digest


def _node(svg: Svg, depth: int, y: float, tone: Tone, kind: str, title: str, detail: str, right: str = "",
          right_detail: str = "") -> tuple[float, float]:
    """One row box; returns the point where child connectors start (left edge + a little, bottom)."""
    p = PALETTE
    x = 20 + depth * _INDENT
    width = _WIDTH - 20 - x
    with svg.group(f"{kind}: {title}"):
        svg.rect(x, y, width, _ROW, fill=tone.fill, stroke=tone.stroke, rx=6)
        svg.text(x + 10, y + 18, kind, size=12, bold=True, fill=tone.ink)
        kind_w = 118.0
        svg.text(x + 10 + kind_w, y + 18, truncate(title, width - kind_w - 230, 12.5, mono=True), size=12.5,
                 mono=True)
        svg.text(x + 10 + kind_w, y + 36, truncate(detail, width - kind_w - 230, 11), size=11, fill=p.muted)
        if right:
            svg.text(x + width - 10, y + 18, right, size=11.5, bold=True, fill=p.ok, anchor="end")
        if right_detail:
            svg.text(x + width - 10, y + 36, truncate(right_detail, 210, 11, mono=True), size=11, mono=True,
                     fill=p.muted, anchor="end")
    return x + 12, y + _ROW


def _connect(svg: Svg, start: tuple[float, float], depth: int, y: float) -> None:
    """An elbow from a parent's bottom-left to the left edge of a child row."""
    x0, y0 = start
    x1 = 20 + depth * _INDENT
    svg.path(f"M{x0} {y0}L{x0} {y + _ROW / 2}L{x1} {y + _ROW / 2}", stroke=PALETTE.faint, width=1.2)


def manifest_tree(walk: ManifestWalk, *, title: str | None = None) -> Diagram:
    """The walk as a tree of rows, top-down: what a pull fetches, in the order it fetches it."""
    p = PALETTE
    rows = 2 + (1 if walk.index else 0) + 1 + len(walk.layers)
    head = 76.0
    height = head + rows * (_ROW + _GAP) + 44
    heading = title or f"What {walk.source}:{walk.reference} is made of"
    if walk.reference.startswith("sha256:") or walk.reference == "index.json":
        heading = title or f"What {walk.source} is made of"
    svg = Svg(_WIDTH, height, heading, description="image index, manifest, config and layers, each named by digest")
    svg.text(20, 32, truncate(heading, _WIDTH - 40, 18, bold=True), size=18, bold=True)
    fetched = sum(1 for layer in walk.layers if layer.fetched)
    status = ("every digest verified: sha256 of the bytes received" if walk.verified else
              f"documents verified; {fetched} of {len(walk.layers)} layer blobs fetched and checked")
    svg.text(20, 54, status, size=12.5, fill=p.muted)
    y = head
    depth = 0
    parent = _node(svg, 0, y, p.plain, "reference", f"{walk.source}" + (
        f":{walk.reference}" if not walk.reference.startswith("sha256:") and walk.reference != "index.json" else ""),
        "a tag (a movable name) resolves to a digest (a fixed one)" if not walk.reference.startswith("sha256:")
        else "pinned by digest: always the same bytes", right_detail=short_digest(walk.pinned))
    y += _ROW + _GAP
    if walk.index is not None:
        depth += 1
        _connect(svg, parent, depth, y)
        document = walk.index.document
        count = len(document.manifests) if isinstance(document, ImageIndex) else 0
        parent = _node(svg, depth, y, p.vm, "index", short_digest(walk.index.digest),
                       f"{media_type_name(walk.index.media_type)} · {count} manifest{'s' if count != 1 else ''} "
                       "(one per platform)", right="✓ verified", right_detail=human_size(walk.index.size))
        y += _ROW + _GAP
    depth += 1
    _connect(svg, parent, depth, y)
    manifest = walk.manifest
    parent = _node(svg, depth, y, p.host, "manifest", short_digest(manifest.digest),
                   f"{media_type_name(manifest.media_type)} · {walk.config.platform} · {len(walk.layers)} layers",
                   right="✓ verified", right_detail=human_size(manifest.size))
    y += _ROW + _GAP
    depth += 1
    _connect(svg, parent, depth, y)
    _node(svg, depth, y, p.kernel, "config", short_digest(walk.image_id),
          f"{media_type_name(walk.config_descriptor.media_type)} · its digest is the image ID · "
          f"{len(walk.config.diff_ids)} diff_ids, {len(walk.config.history)} history steps",
          right="✓ verified", right_detail=human_size(walk.config_descriptor.size))
    y += _ROW + _GAP
    for layer in walk.layers:
        _connect(svg, parent, depth, y)
        mark = "✓ blob + diff_id" if layer.verified else ("✓ blob" if layer.fetched else "not fetched")
        _node(svg, depth, y, p.container, f"layer {layer.index}", short_digest(layer.digest),
              f"{media_type_name(layer.descriptor.media_type)} · {human_size(layer.descriptor.size)} as stored "
              "(compressed digest)", right=mark, right_detail="diff_id " + short_digest(layer.diff_id))
        y += _ROW + _GAP
    legend_y = y + 16
    svg.text(20, legend_y, "Left: the digest of the bytes as stored and sent (compressed). Right: the layer's "
             "diff_id, the digest of the uncompressed tar, as the config lists it.", size=11, fill=p.muted)
    summary = (f"{walk.source}: {'index → ' if walk.index else ''}manifest → config + {len(walk.layers)} layers; "
               + ("all digests verified" if walk.verified else "documents verified"))
    return Diagram(svg.to_string(), summary)
