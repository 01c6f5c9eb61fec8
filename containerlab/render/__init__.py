"""Pure rendering: models in, deterministic SVG strings out (standard library only)."""

from .compose_graph import compose_graph
from .diagrams import checklist, containers_vs_vms, user_kernel_split
from .layers import StackLayer, overlay_stack
from .manifest_tree import manifest_tree
from .nsmap import namespace_map
from .svg import PALETTE, Diagram, Palette, Svg, Tone, esc, num, text_width, truncate, wrap
from .usage import usage_chart

__all__ = [
    "PALETTE",
    "Diagram",
    "Palette",
    "StackLayer",
    "Svg",
    "Tone",
    "checklist",
    "compose_graph",
    "containers_vs_vms",
    "esc",
    "overlay_stack",
    "manifest_tree",
    "namespace_map",
    "num",
    "text_width",
    "truncate",
    "usage_chart",
    "user_kernel_split",
    "wrap",
]
