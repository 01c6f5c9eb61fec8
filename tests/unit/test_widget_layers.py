"""The layer explorer widget: picking a layer redraws the stack outline and the change tree."""

import pytest

from containerlab.errors import LabError
from containerlab.images import WHITEOUT, Layer, Step, build_image, read_image

widgets = pytest.importorskip("ipywidgets")
from containerlab.widgets.layers import LayerExplorer, layer_options  # noqa: E402

BASE = Layer({"bin/tool": "t" * 500}, "COPY tool /bin/tool")


def image(tag, *layers):
    return read_image(build_image([BASE, *layers, Step('CMD ["tool"]')], tag=tag).data)


APP = image("app:1", Layer({"app/main.py": "print(1)\n", "app/api.key": "k" * 40}, "COPY . /app"),
            Layer({"app/api.key": WHITEOUT}, "RUN rm /app/api.key"))
OTHER = image("app:2", Layer({"app/main.py": "print(2)\n"}, "COPY . /app"))


def test_options_list_layers_newest_first():
    assert [index for _, index in layer_options(APP)] == [2, 1, 0]
    assert layer_options(APP)[0][0] == "#2  RUN rm /app/api.key"


def test_picking_a_layer_redraws_both_views():
    explorer = LayerExplorer(APP)
    assert explorer.selected == 2 and "−1" in explorer.changes_diagram.summary
    top_stack = explorer.stack_view.value
    explorer.picker.value = 1
    assert explorer.selected == 1
    assert explorer.changes_diagram.summary == "layer #1: +3 ~0 −0"
    assert "api.key" in explorer.changes_view.value and explorer.stack_view.value != top_stack
    assert "3 added" in explorer.caption.value
    assert explorer.select(-1).summary.startswith("layer #2") and explorer.picker.value == 2


def test_select_refuses_a_missing_layer():
    with pytest.raises(LabError):
        LayerExplorer(APP).select(7)


def test_comparing_colours_shared_layers_and_shows_the_comparison():
    explorer = LayerExplorer(APP, other=OTHER, names=("app:1", "app:2"))
    assert explorer.shared == {APP.layers[0].diff_id}
    assert len(explorer.diagrams()) == 3 and "share 1 layers" in explorer.compare_diagram.summary
    assert explorer.compare_view.value == explorer.compare_diagram.svg


def test_a_stored_notebook_gets_the_drawings_too():
    bundle = LayerExplorer(APP, selected=0)._repr_mimebundle_()
    assert bundle["image/svg+xml"].startswith("<svg") and bundle["text/html"].count("<img") == 2
    assert "layer #0" in bundle["text/plain"]
