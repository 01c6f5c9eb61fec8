"""Lesson 04's exercise checks: right answers pass, wrong ones say what to look at, unanswered ones ask."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from containerlab.course.grading import NOT_ANSWERED
from containerlab.course.lesson04 import check_layer_position, check_whiteout_marker, check_whiteout_path
from containerlab.kernel.mountinfo import parse_mountinfo, root_mount
from containerlab.kernel.overlay import LowerDir, image_layer_dirs, image_layers, map_lowerdirs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "overlay"


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(scope="module")
def lowers() -> list[LowerDir]:
    mount = root_mount(parse_mountinfo((FIXTURES / "container-mountinfo.txt").read_text()))
    layers = image_layers(load("image-config.json"))
    return map_lowerdirs(mount.overlay.lowerdirs, image_layer_dirs(load("image-inspect.json")["GraphDriver"]),
                         layers, load("links.json"))


@pytest.mark.parametrize("answer", [("character device", 0, 0), "c 0 0", "char 0/0", ["S_IFCHR", 0, 0],
                                    "Character device 0:0"])
def test_whiteout_marker_right(answer):
    assert check_whiteout_marker(answer).passed


@pytest.mark.parametrize("answer, says", [
    (None, NOT_ANSWERED), ("block 0 0", "block device"), (("character device", 1, 3), "1/3"),
    ("regular file 0 0", "regular file"), ("character device", "both device numbers"), ((0, 0), "file type"),
])
def test_whiteout_marker_wrong(answer, says):
    result = check_whiteout_marker(answer)
    assert not result.passed and says in result.message and result.hint


def test_whiteout_path_checks_the_real_upper_dir(tmp_path):
    upper = tmp_path / "diff"
    (upper / "etc").mkdir(parents=True)
    expected = str(upper / "etc" / "motd")
    assert check_whiteout_path(None, str(upper)).message == NOT_ANSWERED
    assert "inside the container" in check_whiteout_path("/etc/motd", str(upper)).message
    assert "not inside" in check_whiteout_path("/var/lib/docker/x/etc/motd", str(upper)).message
    assert "not the entry" in check_whiteout_path(str(upper / "etc"), str(upper)).message
    assert "no whiteout there yet" in check_whiteout_path(expected, str(upper)).message
    Path(expected).write_text("still here\n")
    assert "holds a file" in check_whiteout_path(expected, str(upper)).message
    if os.geteuid() != 0:
        pytest.skip("making a whiteout (a 0/0 character device) needs root")
    Path(expected).unlink()
    os.mknod(expected, 0o600 | 0o020000, os.makedev(0, 0))
    assert check_whiteout_path(expected, str(upper)).passed
    assert check_whiteout_path(expected + "/", str(upper)).passed


def test_layer_position(lowers):
    assert check_layer_position(4, lowers).passed
    assert check_layer_position("4", lowers).passed
    assert "from the bottom" in check_layer_position(5, lowers).message
    assert "One short" in check_layer_position(3, lowers).message
    assert "not the COPY /etc/motd layer" in check_layer_position(8, lowers).message
    assert "not a position" in check_layer_position("four", lowers).message
    assert check_layer_position(None, lowers).message == NOT_ANSWERED
    assert "no layer made by" in check_layer_position(1, lowers[:1]).message
    assert check_layer_position(2, lowers, label="COPY /opt/app/").passed


def _base_and_layer(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "base").mkdir()
    (tmp_path / "layer").mkdir()
    (tmp_path / "base/keep.txt").write_text("kept\n")
    (tmp_path / "base/secret.txt").write_text("do not ship me\n")
    return tmp_path / "layer", tmp_path / "base"


def test_layer_hides_unanswered_and_a_touched_base(tmp_path):
    from containerlab.course.lesson04 import check_layer_hides

    layer, base = _base_and_layer(tmp_path)
    assert check_layer_hides(None, base).message == NOT_ANSWERED
    (base / "secret.txt").unlink()
    assert "The base has lost secret.txt" in check_layer_hides(layer, base).message


@pytest.mark.skipif(os.geteuid() != 0, reason="whiteouts and overlay mounts need root")
def test_layer_hides_mounts_the_learners_layer(tmp_path):
    from containerlab.course.lesson04 import check_layer_hides
    from containerlab.kernel.mountinfo import read_mountinfo

    layer, base = _base_and_layer(tmp_path)
    assert "still shows secret.txt" in check_layer_hides(layer, base).message
    (layer / "secret.txt").write_text("emptied\n")
    assert "as a file, which replaces it" in check_layer_hides(layer, base).message
    (layer / "secret.txt").unlink()
    os.mknod(layer / "secret.txt", 0o600 | 0o020000, os.makedev(0, 0))
    assert "no file hello.txt" in check_layer_hides(layer, base).message
    (layer / "hello.txt").write_text("hello\n")
    assert "not 'hi'" in check_layer_hides(layer, base).message
    (layer / "hello.txt").write_text("hi\n")
    verdict = check_layer_hides(layer, base)
    assert verdict.passed, verdict.message
    assert (base / "secret.txt").exists()
    assert not [m for m in read_mountinfo("self") if m.mount_point.startswith(str(tmp_path))]
