"""The image reader and builder against the real engine: docker save, history, inspect and load agree."""

from __future__ import annotations

from pathlib import Path

import pytest
from docker.errors import ImageNotFound

from containerlab.engine.images import BUSYBOX_IMAGE, build_from_context, find_static_busybox
from containerlab.engine.lab import Lab
from containerlab.images import (
    OPAQUE,
    WHITEOUT,
    File,
    Layer,
    build_image,
    busybox_image,
    extract_layer,
    read_image,
)
from containerlab.images.dockerfile import map_to_history, parse_dockerfile

MULTI_LAYER_DOCKERFILE = """\
FROM containerlab/busybox
COPY secret.pem /secret.pem
RUN mkdir -p /d/sub && echo a > /d/a && echo c > /d/sub/c && echo big > /big
RUN rm /secret.pem && echo big2 > /big
RUN rm -rf /d && mkdir /d && echo b > /d/b
RUN ln /big /big.hard && ln -s /big /big.sym
WORKDIR /work
ENV X=1
"""


@pytest.fixture
def lab(lab_images):
    with Lab("test-images", engine=lab_images) as session:
        yield session


def _remove(lab: Lab, tag: str) -> None:
    try:
        lab.engine.client.api.remove_image(tag, force=True)
    except ImageNotFound:
        pass


def _agrees_with_engine(lab: Lab, name: str, report) -> None:
    """Layer count, diff_ids, image ID, history and per-layer sizes as `docker inspect` / `history` say."""
    api = lab.engine.client.api
    inspect = api.inspect_image(name)
    assert report.id == inspect["Id"]
    assert report.diff_ids == tuple(inspect["RootFS"]["Layers"])
    history = list(reversed(api.history(name)))
    assert [step["CreatedBy"] for step in history] == [entry.created_by for entry in report.history]
    layer_steps = [step for step, entry in zip(history, report.history) if not entry.empty_layer]
    assert len(layer_steps) == len(report.layers)
    assert [step["Size"] for step in layer_steps] == [layer.disk_size for layer in report.layers]


def test_reader_agrees_with_docker_on_the_lab_busybox(lab):
    report = read_image(lab.engine.client.api.get_image(BUSYBOX_IMAGE))  # streamed, no file on disk
    assert report.tags == ("containerlab/busybox:latest",) and report.layout == "docker-save"
    _agrees_with_engine(lab, BUSYBOX_IMAGE, report)
    assert report.layers[0].files_size > 500_000  # the static busybox binary
    assert len(report.layers[1].symlinks) > 100  # one per applet
    assert report.wasted_bytes == 0


def test_reader_on_a_multi_layer_image_with_deletions(lab, tmp_path):
    tag = f"{lab.name_for('multi')}:1"
    api = lab.engine.client.api
    try:
        build_from_context(lab.engine, tag, {"Dockerfile": MULTI_LAYER_DOCKERFILE.encode(), "secret.pem": b"KEY"},
                           progress=lambda line: None, labels=lab.labels())
        path = tmp_path / "multi.tar"
        with open(path, "wb") as handle:
            for chunk in api.get_image(tag):
                handle.write(chunk)
        report = read_image(path)
        _agrees_with_engine(lab, tag, report)
        assert len(report.layers) == 10  # 4 from busybox, COPY, 4 RUN, WORKDIR (a new directory)
        copy, made, removed, recreated, linked, workdir = report.layers[4:]
        assert [c.path for c in copy.added] == ["secret.pem"] and copy.wasted_bytes == 3
        assert {c.path for c in made.added} == {"big", "d", "d/a", "d/sub", "d/sub/c"}
        assert [c.path for c in removed.deleted] == ["secret.pem"] and removed.whiteouts == ("secret.pem",)
        assert [c.path for c in removed.modified] == ["big"]
        assert {c.path for c in recreated.deleted} == {"d/a", "d/sub", "d/sub/c"}
        assert recreated.opaque_dirs in ((), ("d",)) and [c.path for c in recreated.added] == ["d/b"]
        assert linked.hardlinks == {"big.hard": "big"} and linked.symlinks == {"big.sym": "/big"}
        assert [c.path for c in workdir.added] == ["work"]
        assert report.wasted_bytes == report.files_size - report.visible_size > 0
        matches = map_to_history(parse_dockerfile(MULTI_LAYER_DOCKERFILE), report.history)
        assert all(m.matched for m in matches)
        assert [m.layer_index for m in matches] == [4, 5, 6, 7, 8, 9, None]
        recovered = extract_layer(path, copy, tmp_path / "layer4")
        assert recovered.written == ("secret.pem",) and (tmp_path / "layer4/secret.pem").read_bytes() == b"KEY"
        assert not lab.run(tag, ["cat", "/secret.pem"]).ok
        assert lab.run(tag, ["ls", "/d"]).output.split() == ["b"]
    finally:
        _remove(lab, tag)


@pytest.mark.parametrize("layout", ["oci", "docker"])
def test_ocibuild_output_loads_and_runs(lab, layout):
    tag = f"{lab.name_for('ocibuild-' + layout)}:1"
    api = lab.engine.client.api
    built = busybox_image(Path(find_static_busybox()).read_bytes(), tag=tag, labels=lab.labels(), layout=layout)
    try:
        api.load_image(built.data)
        inspect = api.inspect_image(tag)
        assert inspect["Id"] == built.config_digest
        assert tuple(inspect["RootFS"]["Layers"]) == built.diff_ids
        assert lab.run(tag, ["/bin/busybox", "true"]).ok
        assert lab.run(tag, ["sh", "-c", "echo $PATH; id -u"]).output.split() == ["/bin", "0"]
        saved = read_image(api.get_image(tag))
        assert saved.diff_ids == built.diff_ids and saved.id == built.config_digest
    finally:
        _remove(lab, tag)


def test_whiteouts_and_opaque_dirs_built_in_python_apply_in_docker(lab):
    tag = f"{lab.name_for('whiteouts')}:1"
    busybox = Path(find_static_busybox()).read_bytes()
    steps = [Layer({"bin/busybox": File(busybox, 0o755)}, "COPY busybox /bin/busybox"),
             Layer({"d/a": "a", "d/sub/c": "c", "gone": "g", "kept": "k"}, "COPY files"),
             Layer({"gone": WHITEOUT, "d": OPAQUE, "d/b": "b"}, "RUN change")]
    built = build_image(steps, tag=tag, labels=lab.labels())
    try:
        lab.engine.client.api.load_image(built.data)
        found = lab.run(tag, ["/bin/busybox", "find", "/d", "/kept", "/gone"]).output.splitlines()
        assert [line for line in found if not line.startswith("find:")] == ["/d", "/d/b", "/kept"]
        assert any("/gone" in line and "No such file" in line for line in found)
    finally:
        _remove(lab, tag)
