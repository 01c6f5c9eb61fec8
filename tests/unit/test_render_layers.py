"""The layer-stack diagram: deterministic, well-formed, escaped, scales to 100 layers; the side-by-side table."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from containerlab.kernel.overlay import ChangeCounts, ImageLayer, LayerEntry
from containerlab.render.layers import SIZE_CATEGORIES, StackLayer, overlay_stack, side_by_side, size_category

NS = "{http://www.w3.org/2000/svg}"
NASTY = 'a<&"b\'>'


def sample(**options):
    layers = [StackLayer("COPY /bin/busybox", 1_982_256), StackLayer("RUN mkdir -p /srv", 0, ChangeCounts(1)),
              StackLayer("made by the engine: /etc/hosts", kind="init")]
    return overlay_stack(layers, upper=StackLayer("writable", changes=ChangeCounts(1, 1, 1)),
                       merged="what box sees as /", title="Box", **options)


def texts(svg: str) -> list[str]:
    return [el.text or "" for el in ET.fromstring(svg).iter() if el.tag in (f"{NS}text", f"{NS}title")]


def test_deterministic():
    first, second = sample(), sample()
    assert first.svg == second.svg and first.summary == second.summary


def test_well_formed_self_contained_and_inside_its_canvas():
    root = ET.fromstring(sample().svg)
    assert root.tag == f"{NS}svg" and root[0].tag == f"{NS}title" and root[0].text == "Box"
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    width, height = float(root.get("width")), float(root.get("height"))
    for rect in root.iter(f"{NS}rect"):
        assert float(rect.get("x")) >= 0 and float(rect.get("x")) + float(rect.get("width")) <= width
        assert float(rect.get("y")) >= 0 and float(rect.get("y")) + float(rect.get("height")) <= height
    for text in root.iter(f"{NS}text"):
        assert 0 <= float(text.get("x")) <= width and 0 <= float(text.get("y")) <= height
    assert "<style" not in sample().svg


def test_rows_top_down_in_the_summary():
    assert sample().summary.splitlines() == [
        "Box",
        "merged: what box sees as /",
        "upper: writable (+1 ~1 \N{MINUS SIGN}1)",
        "init: made by the engine: /etc/hosts",
        "layer 2: RUN mkdir -p /srv (empty, +1)",
        "layer 1: COPY /bin/busybox (1–10 MB)",
    ]
    shown = texts(sample().svg)
    assert "COPY /bin/busybox" in shown and "1–10 MB" in shown and "+1 ~1 \N{MINUS SIGN}1" in shown


def test_labels_are_escaped():
    diagram = overlay_stack([StackLayer(NASTY, 5)], upper=StackLayer(NASTY), merged=NASTY, title=NASTY)
    shown = texts(diagram.svg)
    assert shown.count(NASTY) >= 4
    assert "<&" not in diagram.svg


def test_one_hundred_layers():
    layers = [StackLayer(f"RUN step {i} " + "x" * 300, i * 1000, ChangeCounts(i)) for i in range(100)]
    diagram = overlay_stack(layers, upper=StackLayer("upper"))
    root = ET.fromstring(diagram.svg)
    rows = [t for t in root.iter(f"{NS}text") if (t.text or "").startswith("layer ")]
    assert len(rows) == 100
    assert any((t.text or "").endswith("…") for t in root.iter(f"{NS}text"))
    assert len(diagram.summary.splitlines()) == 1 + 1 + 1 + 100


def test_accepts_any_layer_like():
    layers = [ImageLayer(0, "sha256:a", "/bin/sh -c #(nop) COPY file:abc in /x ", 10),
              {"label": "from a mapping", "size": None, "tag": "mine"}]
    summary = overlay_stack(layers, merged=None).summary.splitlines()
    assert summary == ["Overlay layer stack", "mine: from a mapping", "layer 1: COPY /x (< 1 kB)"]


def test_empty_stack_and_bad_kind():
    assert "no read-only layers" in texts(overlay_stack([]).svg)
    with pytest.raises(ValueError, match="upper="):
        overlay_stack([StackLayer("x", kind="upper")])


@pytest.mark.parametrize("size, label", [(None, ""), (0, "empty"), (1, "< 1 kB"), (999, "< 1 kB"),
                                         (1000, "1–10 kB"), (99_999, "10–100 kB"), (1_982_256, "1–10 MB"),
                                         (250_000_000, "0.1–1 GB"), (5 * 10**12, "≥ 1 GB")])
def test_size_categories(size, label):
    assert size_category(size)[1] == label
    assert size_category(size)[0] == (SIZE_CATEGORIES.index(label) if label else -1)


def test_side_by_side_table():
    table = side_by_side({"lower": [LayerEntry("app.txt", "file", text="v1"), LayerEntry("docs", "dir")],
                          "upper": [LayerEntry("app.txt", "whiteout"), LayerEntry("docs", "dir", opaque=True)]},
                         width=10)
    assert table.splitlines() == [
        "path     lower       upper",
        "app.txt  'v1'        whiteout …",
        "docs     dir         opaque dir",
    ]


def test_legend_names_only_what_is_drawn():
    assert "engine's init layer" in texts(sample().svg)
    plain = texts(overlay_stack([StackLayer("lower1/", kind="lower", tag="lower1")], merged=None).svg)
    assert "engine's init layer" not in plain and "writable upper" not in plain and "merged view" not in plain
