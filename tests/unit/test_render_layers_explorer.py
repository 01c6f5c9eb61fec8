"""The layer explorer's SVGs: a layer stack, one layer's change tree, two images compared."""

from __future__ import annotations

import io
import re
import tarfile
import xml.etree.ElementTree as ET

import pytest

from containerlab.images import (
    OPAQUE,
    WHITEOUT,
    HardLink,
    Layer,
    Step,
    Symlink,
    TarLayer,
    build_image,
    read_image,
)
from containerlab.render.layers_explorer import (
    compare_images,
    image_layer_stack,
    layer_changes,
    one_line_instruction,
)
from containerlab.render.svg import PALETTE, Diagram
from containerlab.text import human_size

SVG = "{http://www.w3.org/2000/svg}"

BASE = Layer({"bin/busybox": b"\x7fELF" + b"b" * 1996, "etc/passwd": "root:x:0:0::/root:/bin/sh\n"},
             "/bin/sh -c #(nop) COPY file:73e2b2d48642b21b357384b0cb81c1869cc5e0c48a00f61553756196058304b9 in / ")


def app_image(tag: str = "app:1", extra: str = "v1"):
    return read_image(build_image([
        BASE,
        Layer({"app/secret.pem": b"K" * 400, "app/main.py": "print(1)\n", "app/data/a": "a", "app/data/b": "b"},
              "COPY . /app"),
        Step("ENV MODE=prod"),
        Layer({"app/secret.pem": WHITEOUT, "app/main.py": f"print('{extra}')\n", "app/link": Symlink("main.py"),
               "app/hard": HardLink("app/main.py"), "app/data": OPAQUE, "app/data/c": "c"},
              "RUN rm /app/secret.pem && echo ... && ln -s main.py /app/link"),
    ], tag=tag).data)


def texts(svg: str) -> list[str]:
    return ["".join(node.itertext()) for node in ET.fromstring(svg).iter(f"{SVG}text")]


@pytest.mark.parametrize("size, shown", [(0, "0 B"), (999, "999 B"), (1000, "1.00 kB"), (3220, "3.22 kB"),
                                         (99_949, "99.9 kB"), (999_499, "999 kB"), (999_500, "1.00 MB"),
                                         (1_982_256, "1.98 MB"), (190_686_273, "191 MB"), (12 * 10**12, "12.0 TB")])
def test_human_size(size, shown):
    assert human_size(size) == shown


def test_short_instruction():
    assert one_line_instruction("COPY file:73e2b2d48642b21b357384b0cb81c1869cc5e0c48a00f61553756196058304b9 in /x") == (
        "COPY file:73e2b2d48642 in /x")
    assert one_line_instruction("RUN  apt-get   update\n && x") == "RUN apt-get update && x"
    assert one_line_instruction("") == "(no history: imported or hand-made)"


def test_layer_stack_shows_every_layer_newest_on_top():
    image = app_image()
    diagram = image_layer_stack(image, selected=2)
    assert isinstance(diagram, Diagram)
    assert diagram.summary == f"app:1: 3 layers, {human_size(sum(l.disk_size for l in image.layers))}, 411 B wasted"
    root = ET.fromstring(diagram.svg)
    assert root.find(f"{SVG}title").text == "Layers of app:1"
    shown = texts(diagram.svg)
    rows = [t for t in shown if re.fullmatch(r"#\d", t)]
    assert rows == ["#2", "#1", "#0"]
    assert "COPY file:73e2b2d48642 in /" in shown and "COPY . /app" in shown
    assert any(t.startswith("RUN rm /app/secret.pem") for t in shown)
    assert "+3" in shown and "−3" in shown and "~1" in shown  # layer 2: link, hard, data/c; main.py; 3 deleted
    assert "411 B wasted (overwritten or deleted later)" in shown  # secret.pem, main.py, data/a, data/b
    assert 'stroke="#db2777"' in diagram.svg and 'fill="#fdf2f8"' in diagram.svg  # selected layer outlined
    assert PALETTE.highlight in diagram.svg  # wasted bytes are highlighted on the bar
    assert image_layer_stack(app_image()).svg == image_layer_stack(app_image()).svg  # deterministic


def test_bars_are_proportional_to_layer_size():
    image = app_image()
    svg = image_layer_stack(image).svg
    widths = [float(w) for w in re.findall(r'<rect x="58" y="[\d.]+" width="([\d.]+)" height="22" rx="3" '
                                           r'fill="#e0ecff"', svg)]
    sizes = [layer.disk_size for layer in reversed(image.layers)]
    assert len(widths) == 3
    largest = max(sizes)
    for width, size in zip(widths, sizes):
        assert width == pytest.approx(max(2.0, 200 * size / largest), abs=0.01)


def test_a_hundred_layers():
    steps = [Layer({f"f{i}": b"x" * (i * 10)}, f"RUN step {i}", compression="none") for i in range(100)]
    image = read_image(build_image(steps).data)
    diagram = image_layer_stack(image)
    assert len([t for t in texts(diagram.svg) if re.fullmatch(r"#\d+", t)]) == 100
    assert float(ET.fromstring(diagram.svg).get("height")) > 100 * 38


def test_shared_layers_get_the_shared_colour():
    first, second = app_image("a:1"), app_image("b:1", extra="v2")
    svg = image_layer_stack(first, shared=[first.layers[0].diff_id, first.layers[1].diff_id]).svg
    assert svg.count(f'fill="{PALETTE.shared.fill}"') == 2 + 1  # two bars and the legend swatch
    assert "shared with the other image (same diff_id)" in texts(svg)
    assert second.layers[1].diff_id == first.layers[1].diff_id and second.layers[2].diff_id != first.layers[2].diff_id


def test_layer_changes_tree():
    image = app_image()
    diagram = layer_changes(image.layers[2])
    shown = texts(diagram.svg)
    assert diagram.summary == "layer #2: +3 ~1 −3"
    assert shown[0].startswith("Layer #2: RUN rm /app/secret.pem")
    assert shown[1] == "3 added · 1 modified · 3 deleted · 20 B in this layer"  # print(...) 12 + c 1 + "main.py" 7
    assert "app/" in shown and "secret.pem" in shown and "from layer #1" in shown
    assert "→ main.py" in shown and "hard link to app/main.py" in shown
    assert "replaces the copy from layer #1" in shown
    assert "data/" in shown and "c" in shown
    assert texts(layer_changes(image.layers[1]).svg)[1].endswith("411 B of it wasted later")


def test_large_change_trees_are_cut():
    many = read_image(build_image([Layer({f"dir{d}/file{i}": "x" for d in range(12) for i in range(30)})]).data)
    shown = texts(layer_changes(many.layers[0], max_lines=60, per_dir=5).svg)
    assert shown.count("… 25 more entries (25 changes)") == 5  # five directories shown, five files each
    assert "… 7 more entries (217 changes)" in shown  # seven directories hidden: each with its 30 files
    assert shown[-1] == "… 342 more changed paths not shown"  # 372 changes, 30 on screen
    assert texts(layer_changes(many.layers[0], max_lines=10).svg)[-1] == "… 363 more changed paths not shown"
    deleted = read_image(build_image([Layer({f"d/sub/f{i}": "x" for i in range(5)}), Layer({"d": WHITEOUT})]).data)
    tree = texts(layer_changes(deleted.layers[1]).svg)
    assert "deleted with everything in it (6 paths)" in tree and "f0" not in tree


def test_empty_layer_tree_and_image_without_layers():
    empty = read_image(build_image([Layer({})]).data)
    assert "This layer changes no files." in texts(layer_changes(empty.layers[0]).svg)
    nothing = read_image(build_image([Step("CMD x")]).data)
    assert image_layer_stack(nothing).summary.endswith("0 layers, 0 B, 0 B wasted")
    assert "no layers" in texts(compare_images(nothing, nothing).svg)


def test_devices_are_named_in_the_tree():
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, kind in (("dev/null", tarfile.CHRTYPE), ("dev/sda", tarfile.BLKTYPE), ("run/pipe", tarfile.FIFOTYPE)):
            info = tarfile.TarInfo(name)
            info.type = kind
            tar.addfile(info)
    shown = texts(layer_changes(read_image(build_image([TarLayer(raw.getvalue())]).data).layers[0]).svg)
    assert {"character device", "block device", "named pipe"} <= set(shown)


def test_compare_images_links_shared_layers():
    first, second = app_image("a:1"), app_image("b:1", extra="v2")
    diagram = compare_images(first, second)
    shared_bytes = first.layers[0].disk_size + first.layers[1].disk_size
    assert diagram.summary == f"a:1 (3 layers) and b:1 (3 layers) share 2 layers, {human_size(shared_bytes)}"
    assert diagram.svg.count('stroke-dasharray="4 3"') == 2  # one connector per shared layer
    assert f"2 shared layers ({human_size(shared_bytes)} stored and pulled once); oldest layer at the bottom" in (
        texts(diagram.svg))
    named = compare_images(first, read_image(build_image([Layer({"x": "1"})]).data), names=("left", "right"))
    assert named.summary.endswith("share 0 layers, 0 B") and "left vs right" in texts(named.svg)
    assert compare_images(first, second).svg == diagram.svg
