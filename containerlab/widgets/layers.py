"""The layer explorer: pick a layer of an image and see its file changes; compare two images.

It wraps the pure drawings of :mod:`containerlab.render.layers_explorer` (stack, change tree,
comparison) around an :class:`~containerlab.images.tarball.ImageReport`, so it works on any image
tarball, with or without an engine. A stored notebook shows the same drawings without a kernel:
the widget's display also carries the stack's SVG and both drawings as HTML images.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from ..errors import LabError
from ..images.tarball import ImageReport
from ..render.layers_explorer import compare_images, image_layer_stack, layer_changes, one_line_instruction
from ..render.svg import Diagram

__all__ = ["LayerExplorer", "layer_options"]


def layer_options(image: ImageReport, width: int = 70) -> list[tuple[str, int]]:
    """(label, index) per layer, newest first, as the picker lists them: '#2  RUN python3 -m compileall ...'."""
    options = []
    for layer in reversed(image.layers):
        text = one_line_instruction(layer.instruction)
        if len(text) > width:
            text = text[: width - 1] + "…"
        options.append((f"#{layer.index}  {text}", layer.index))
    return options


class LayerExplorer(widgets.VBox):
    """A layer picker, the image's layer stack (the picked layer outlined) and that layer's change tree.

    With ``other`` the layers both images share (same diff_id) are coloured, and a side-by-side
    comparison is shown below.
    """

    def __init__(self, image: ImageReport, *, other: ImageReport | None = None, selected: int | None = None,
                 names: tuple[str, str] | None = None, max_lines: int = 30) -> None:
        if not image.layers:
            raise LabError(f"The image {image.name} has no layers to explore.",
                           "Pick an image with at least one layer.")
        self.image = image
        self.other = other
        self.names = names
        self.max_lines = max_lines
        self.shared = ({layer.diff_id for layer in other.layers} & set(image.diff_ids)) if other else set()
        self.picker = widgets.Dropdown(options=layer_options(image), description="layer",
                                       layout=widgets.Layout(width="640px"))
        self.caption = widgets.HTML()
        self.stack_view = widgets.HTML()
        self.changes_view = widgets.HTML()
        self.compare_view = widgets.HTML()
        self._syncing = False
        self.stack_diagram: Diagram | None = None
        self.changes_diagram: Diagram | None = None
        self.compare_diagram = compare_images(image, other, names=names) if other is not None else None
        if self.compare_diagram is not None:
            self.compare_view.value = self.compare_diagram.svg
        children = [self.picker, self.caption, self.stack_view, self.changes_view]
        super().__init__(children + ([self.compare_view] if other is not None else []))
        self.picker.observe(self._picked, names="value")
        self.select(image.layers[-1].index if selected is None else selected)

    @property
    def selected(self) -> int:
        """The index of the layer shown."""
        return int(self.picker.value)

    def select(self, index: int) -> Diagram:
        """Show layer ``index`` (negative counts from the top): outline it in the stack, draw its changes."""
        count = len(self.image.layers)
        if not -count <= index < count:
            raise LabError(f"The image {self.image.name} has layers #0 to #{count - 1}, not #{index}.",
                           "Pick one of the layers the list shows.")
        index %= count
        self._draw(index)
        if self.picker.value != index:
            self._syncing = True
            try:
                self.picker.value = index
            finally:
                self._syncing = False
        assert self.changes_diagram is not None  # drawn by _draw above
        return self.changes_diagram

    def _picked(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self._draw(int(change["new"]))

    def _draw(self, index: int) -> None:
        layer = self.image.layers[index]
        self.stack_diagram = image_layer_stack(self.image, selected=index, shared=self.shared)
        self.changes_diagram = layer_changes(layer, max_lines=self.max_lines)
        counts = layer.counts()
        self.caption.value = (f"<span>Layer #{index}: {counts['added']} added, {counts['modified']} modified, "
                              f"{counts['deleted']} deleted — {html.escape(one_line_instruction(layer.instruction))}"
                              "</span>")
        self.stack_view.value = self.stack_diagram.svg
        self.changes_view.value = self.changes_diagram.svg

    def diagrams(self) -> list[Diagram]:
        """The drawings shown now: stack, changes, and the comparison when there is one."""
        shown = [self.stack_diagram, self.changes_diagram, self.compare_diagram]
        return [diagram for diagram in shown if diagram is not None]

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget, plus the stack's SVG and every drawing as HTML, so a stored notebook shows them."""
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        if isinstance(bundle, tuple):
            bundle = bundle[0]
        drawings = self.diagrams()
        assert self.stack_diagram is not None  # drawn when the widget is made
        bundle.update({"text/plain": "\n".join(d.summary for d in drawings),
                       "image/svg+xml": self.stack_diagram.svg,
                       "text/html": "<br>".join(d.html() for d in drawings)})
        return bundle
