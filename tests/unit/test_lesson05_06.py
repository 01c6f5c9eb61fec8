"""Exercise checks of lessons 05 and 06: right answers pass, common wrong ones get a pointed hint."""

import hashlib

from containerlab.course.grading import NOT_ANSWERED
from containerlab.course.lesson05 import (
    check_dockerfile_prints,
    check_layer_count,
    check_rebuilt_lines,
    check_recovered_secret,
)
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


def _never_built(text: str):
    raise AssertionError(f"a Dockerfile the linter refuses must not be built: {text!r}")


def test_dockerfile_prints_refuses_what_the_linter_finds_before_building():
    """Lint findings and parse errors fail the exercise with the rule's name and its explanation; nothing is built."""
    latest = check_dockerfile_prints('FROM containerlab/busybox\nUSER nobody\nCMD ["echo", "hi"]\n', "hi",
                                     _never_built)
    assert not latest and "from-latest" in latest.message and "Pin a version tag" in latest.hint
    as_root = check_dockerfile_prints('FROM containerlab/busybox:1.35\nCMD ["echo", "hi"]\n', "hi", _never_built)
    assert not as_root and "no-user" in as_root.message and "USER" in as_root.hint
    two = check_dockerfile_prints("FROM debian\nADD a /a\nUSER nobody\n", "hi", _never_built)
    assert "2 thing(s)" in two.message and "add-instead-of-copy" in two.message and "from-latest" in two.message
    broken = check_dockerfile_prints("FROM containerlab/busybox:1.35 AS\n", "hi", _never_built)
    assert not broken and broken.message.startswith("The Dockerfile does not parse")
    assert check_dockerfile_prints(None, "hi", _never_built).message == NOT_ANSWERED


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
