"""A streaming reader of image tarballs (`docker save` and OCI image layouts), and extraction of one layer. Pure.

- :mod:`.tar`: an incremental tar parser fed by chunks, and the path rules of image layers;
- :mod:`.blobs`: one pass over the outer tarball, every blob hashed, layer blobs gunzipped and listed;
- :mod:`.stack`: the manifests planned into images and their layers stacked as overlayfs stacks them;
- :mod:`.report`: what the reader reports (entries, changes, layers, images);
- :mod:`.extract`: the one safe extractor: a layer (or a root filesystem) written to a directory,
  refusing anything that would land outside it.

Every reader takes a ``budget`` (:class:`~containerlab.images.budget.Budget`) and states in its
docstring what it bounds.
"""

from .extract import extract_layer, extract_rootfs
from .report import ExtractResult, FileChange, ImageReport, LayerReport, TarEntry
from .stack import iter_layers, read_image, read_images
from .tar import OPAQUE_MARKER, WHITEOUT_PREFIX, Source

__all__ = [
    "TarEntry", "FileChange", "LayerReport", "ImageReport", "ExtractResult", "Source",
    "read_images", "read_image", "iter_layers", "extract_layer", "extract_rootfs", "WHITEOUT_PREFIX", "OPAQUE_MARKER",
]
