"""Exercise checks of lessons 05 and 06: right answers pass, common wrong ones get a pointed hint."""

import hashlib

from containerlab.course.grading import NOT_ANSWERED
from containerlab.course.lesson05 import check_layer_count, check_rebuilt_lines, check_recovered_secret
from containerlab.course.lesson06 import check_manifest_digest, check_pinned_reference, check_reference_parts

EXERCISE = ("FROM containerlab/debian\nENV APP_HOME=/srv/app\nCOPY requirements.txt /srv/app/\nRUN install\n"
            "COPY . /srv/app\nEXPOSE 8000\nUSER nobody\nCMD [\"python3\", \"/srv/app/app.py\"]\n")


def test_layer_count():
    assert check_layer_count(3, EXERCISE) and "line 3 COPY" in check_layer_count("3", EXERCISE).message
    assert not check_layer_count(7, EXERCISE) and "every instruction" in check_layer_count(7, EXERCISE).message
    assert check_layer_count(None, EXERCISE).message == NOT_ANSWERED
    assert not check_layer_count("many", EXERCISE)


def test_rebuilt_lines():
    assert check_rebuilt_lines({5, 6, 7, 8}, EXERCISE, ["app.py"])
    assert "new parent" in check_rebuilt_lines({5}, EXERCISE, ["app.py"]).message
    assert "cache" in check_rebuilt_lines({3, 4, 5, 6, 7, 8}, EXERCISE, ["app.py"]).message
    assert not check_rebuilt_lines(["x"], EXERCISE, ["app.py"])
    assert check_rebuilt_lines(None, EXERCISE, []).message == NOT_ANSWERED


def test_recovered_secret():
    assert check_recovered_secret("key-123\n", "key-123")
    assert check_recovered_secret(b"key-123", "key-123")
    assert "contained" in check_recovered_secret("/tmp/api.key", "key-123").message
    assert not check_recovered_secret("nope", "key-123")


def test_reference_parts():
    assert check_reference_parts(("docker.io", "library/busybox", "latest"), "busybox")
    assert "library/" in check_reference_parts(("docker.io", "busybox", "latest"), "busybox").message
    assert "tag" in check_reference_parts(("docker.io", "library/busybox", "stable"), "busybox").message
    assert not check_reference_parts("busybox", "busybox")


def test_manifest_digest():
    data = b'{"schemaVersion":2}'
    good = "sha256:" + hashlib.sha256(data).hexdigest()
    assert check_manifest_digest(good, data)
    assert "sha256:" in check_manifest_digest(good.split(":")[1], data).message
    assert not check_manifest_digest("sha256:" + "0" * 64, data)


def test_pinned_reference():
    digest = "sha256:" + "ab" * 32
    assert check_pinned_reference(f"127.0.0.1:15000/course/hello@{digest}", "127.0.0.1:15000", "course/hello", digest)
    assert check_pinned_reference(f"127.0.0.1:15000/course/hello:latest@{digest}", "127.0.0.1:15000",
                                  "course/hello", digest)
    assert "tag can move" in check_pinned_reference("127.0.0.1:15000/course/hello:latest", "127.0.0.1:15000",
                                                    "course/hello", digest).message
    assert not check_pinned_reference(f"127.0.0.1:15000/other@{digest}", "127.0.0.1:15000", "course/hello", digest)
    assert not check_pinned_reference("not a reference!", "127.0.0.1:15000", "course/hello", digest)
