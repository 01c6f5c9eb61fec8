"""Fuzzed hostile shapes (issue 14): whiteouts of '.' and '..', PAX headers with odd values, OCI layouts whose blobs
are links, lie about their size or are named by sha512, nested indexes, and registries on 127.0.0.1 that answer
slowly, endlessly, with lying lengths or odd JSON.

Each property can fail: a layout the generator made dishonest must be refused (no digest skipped), an honest one
must be read; nothing outside an extraction target changes; every call ends within its time limit.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import time
from pathlib import Path

from fuzz_support import FUZZ, FUZZ_SLOW, returns_or_lab_error, snapshot
from hostile_support import (
    OCI_LAYER,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    Layout,
    canonical,
    config_bytes,
    digest_of,
    dribble,
    endless,
    header,
    http_server,
    layer_tar,
    manifest_bytes,
    member,
    padded,
    pax,
    send,
    tar,
)
from hypothesis import example, given
from hypothesis import strategies as st

from containerlab.errors import LabError
from containerlab.images import Descriptor, TarLayer, build_image, extract_layer, read_images
from containerlab.images.budget import Budget
from containerlab.images.registry_client import OciLayout, RegistryClient

# -- layers with whiteouts and PAX headers -------------------------------------------------------------
WHITEOUT_NAMES = [".wh..", ".wh...", ".wh.", "d/.wh..", "d/.wh...", "d/.wh.", ".wh..wh..opq", "d/.wh..wh..opq",
                  ".wh.d", "d/.wh.keep", ".wh..wh.plnk", "d/sub/.wh...", "./.wh...", "d//.wh...", ".wh.%2e%2e"]
PAX_KEYS = ["path", "linkpath", "size", "uid", "gid", "mtime", "comment", "hdrcharset", "atime", "GNU.sparse.size"]
PAX_VALUES = ["-1", "-512", "-1536", "0", "3", "1e3", "inf", "nan", "-inf", "1.5", "99999999999999999999999", "٣",
              "a\x00b", "/etc/passwd", "../x", "d/.wh...", "x" * 300, "", " 1", "0x10", "1_0"]
pax_records = st.lists(st.tuples(st.sampled_from(PAX_KEYS), st.sampled_from(PAX_VALUES)), max_size=4)
layer_members = st.lists(st.one_of(
    st.tuples(st.just("file"), st.sampled_from(["d/keep", "d/sub/f", "x", "d", "d/sub"] + WHITEOUT_NAMES)),
    st.tuples(st.just("dir"), st.sampled_from(["d", "d/sub", "e"])),
    st.tuples(st.just("pax"), pax_records),
    st.tuples(st.just("gpax"), pax_records),
), min_size=1, max_size=6)


def _layer(items: list) -> bytes:
    out = []
    for kind, value in items:
        if kind == "file":
            out.append(member(value, b"data"))
        elif kind == "dir":
            out.append(member(value + "/", kind=b"5"))
        else:
            out.append(pax(value, kind=b"g" if kind == "gpax" else b"x"))
    return tar(*out)


@FUZZ_SLOW
@given(layer_members)
@example([("file", "d/keep"), ("file", ".wh...")])
@example([("file", "d/.wh...")])
@example([("pax", [("size", "-512")]), ("file", "x")])
@example([("gpax", [("size", "-1536")]), ("file", "x")])
@example([("pax", [("path", "a\x00b")]), ("file", "x")])
def test_hostile_layers_never_touch_outside_the_target(tmp_path_factory, items):
    raw = _layer(items)
    data = build_image([TarLayer(raw, compression="none")]).data
    started = time.monotonic()
    images = returns_or_lab_error(read_images, data)
    assert time.monotonic() - started < 10
    jail = tmp_path_factory.mktemp("jail")
    (jail / "beside.txt").write_text("must stay")
    target = jail / "rootfs"
    (target / "d").mkdir(parents=True)
    (target / "d" / "learner.txt").write_text("mine")
    before = {path: kind for path, kind in snapshot(jail).items() if not path.startswith("rootfs")}
    if not isinstance(images, LabError):
        for layer in images[0].layers:
            returns_or_lab_error(extract_layer, data, layer, target)
    assert {path: kind for path, kind in snapshot(jail).items() if not path.startswith("rootfs")} == before
    assert target.is_dir() and (jail / "beside.txt").read_text() == "must stay"


@FUZZ
@given(st.lists(st.one_of(st.tuples(st.just("pax"), pax_records), st.tuples(st.just("gpax"), pax_records),
                          st.tuples(st.just("file"), st.sampled_from(["index.json", "a", "blobs/sha256/" + "0" * 64]))),
                min_size=1, max_size=6), st.booleans())
def test_pax_headers_in_the_outer_tarball(items, zipped):
    raw = _layer(items)
    started = time.monotonic()
    returns_or_lab_error(read_images, gzip.compress(raw) if zipped else raw)
    returns_or_lab_error(OciLayout.from_tar, raw)
    assert time.monotonic() - started < 10


# -- OCI layouts that lie ---------------------------------------------------------------------------------
LIES = ["honest", "symlink-config", "symlink-layer", "hardlink-layer", "symlink-same-content", "wrong-content",
        "size-plus", "size-minus", "unknown-algorithm", "sha512-wrong", "manifest-size"]


def _layout(lie: str, algorithm: str, zipped: bool, fan_out: int, depth: int) -> bytes:
    layers = [layer_tar(("a", b"1")), layer_tar(("b", b"22"))]
    blobs = [gzip.compress(layer, mtime=0) if zipped else layer for layer in layers]
    layout = Layout.new()
    config = config_bytes(layers, "A=1", algorithm if not zipped else "sha256")
    wrong = config_bytes(layers, "A=2", algorithm if not zipped else "sha256")
    if lie == "symlink-config":
        layout.file("other", wrong)
        config_digest = digest_of(config, algorithm)
        layout.link(f"blobs/{algorithm}/{config_digest.split(':')[1]}", "../../other")
    elif lie in ("wrong-content", "sha512-wrong"):
        config_digest = layout.blob(wrong, "sha512" if lie == "sha512-wrong" else algorithm, name_as=config)
    elif lie == "unknown-algorithm":
        config_digest = "md5:" + "0" * 32
        layout.file("blobs/md5/" + "0" * 32, config)
    else:
        config_digest = layout.blob(config, algorithm)
    layer_descriptors = []
    for index, blob in enumerate(blobs):
        digest = digest_of(blob, algorithm)
        if index == 1 and lie in ("symlink-layer", "hardlink-layer", "symlink-same-content"):
            layout.file("other-layer", blob if lie == "symlink-same-content" else blobs[0])
            name = f"blobs/{algorithm}/{digest.split(':')[1]}"
            if lie == "hardlink-layer":
                layout.link(name, "other-layer", kind=b"1")
            else:
                layout.link(name, "../../other-layer")
        else:
            layout.blob(blob, algorithm)
        size = len(blob) + (1 if lie == "size-plus" and index == 0 else -1 if lie == "size-minus" and index == 0 else 0)
        layer_descriptors.append((digest, size))
    manifest = manifest_bytes((config_digest, len(config)), layer_descriptors, OCI_LAYER_GZIP if zipped else OCI_LAYER)
    current = [(layout.blob(manifest, algorithm), len(manifest) + (1 if lie == "manifest-size" else 0))] * fan_out
    media_type = OCI_MANIFEST
    for _ in range(depth):
        index = layout.index(current, media_type)
        current = [(layout.blob(index, algorithm), len(index))] * fan_out
        media_type = "application/vnd.oci.image.index.v1+json"
    return layout.tar(layout.index(current, media_type))


@FUZZ_SLOW
@given(st.sampled_from(LIES), st.sampled_from(["sha256", "sha512"]), st.booleans(), st.integers(1, 4),
       st.integers(0, 6))
@example("symlink-layer", "sha256", False, 1, 0)
@example("sha512-wrong", "sha256", False, 1, 0)
@example("honest", "sha512", True, 3, 5)
def test_every_digest_is_checked_and_nested_indexes_give_one_image(lie, algorithm, zipped, fan_out, depth):
    data = _layout(lie, algorithm, zipped, fan_out, depth)
    started = time.monotonic()
    images = returns_or_lab_error(read_images, data)
    assert time.monotonic() - started < 10
    if lie != "honest":
        assert isinstance(images, LabError), f"a layout with '{lie}' was read without complaint"
    elif depth > 5:
        assert isinstance(images, LabError) and "nest" in images.message
    else:
        assert not isinstance(images, LabError), images
        assert len(images) == 1 and images[0].config.config.env == ("A=1",)
    layout = returns_or_lab_error(OciLayout.from_tar, data)
    if not isinstance(layout, LabError) and depth == 0:  # the walk follows one index, as a registry serves it
        walked = returns_or_lab_error(layout.walk)
        if lie == "honest":
            assert not isinstance(walked, LabError) and walked.verified, walked
        elif lie not in ("size-plus", "size-minus") or not isinstance(walked, LabError):
            assert isinstance(walked, LabError), f"the walk accepted a layout with '{lie}'"


# -- registries that answer badly ----------------------------------------------------------------------------
SCRIPT: dict[str, object] = {"behaviour": "json", "body": b"{}", "status": 200, "headers": {}}
json_bodies = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-2, 2**70), st.text(max_size=8)),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.sampled_from(
                                                       ["errors", "code", "message", "tags", "repositories", "name",
                                                        "schemaVersion", "mediaType", "config", "layers"]),
                                                       inner, max_size=3)), max_leaves=8)
behaviours = st.sampled_from(["json", "lying-length", "short-length", "dribble", "dribble-headers", "endless",
                              "redirect-remote", "redirect-self", "garbage-status", "link-self", "link-remote"])


def _answer(handler) -> None:
    behaviour, body = SCRIPT["behaviour"], SCRIPT["body"]
    headers = {"Content-Type": "application/json", **SCRIPT["headers"]}  # type: ignore[dict-item]
    if behaviour == "json":
        send(handler, SCRIPT["status"], body, headers)  # type: ignore[arg-type]
    elif behaviour == "lying-length":
        send(handler, 200, body, headers, length=len(body) + 1000)  # type: ignore[arg-type]
    elif behaviour == "short-length":
        send(handler, 200, body, headers, length=max(0, len(body) - 3))  # type: ignore[arg-type]
    elif behaviour == "dribble":
        dribble(handler, body + b" " * 40, 40)  # type: ignore[operator]
    elif behaviour == "dribble-headers":
        dribble(handler, b"", 40, in_headers=True)
    elif behaviour == "endless":
        endless(handler, b"[" * 65536, headers=headers)
    elif behaviour == "redirect-remote":
        send(handler, 307, b"", {"Location": "http://192.0.2.1/v2/"})
    elif behaviour == "redirect-self":
        send(handler, 307, b"", {"Location": handler.path})
    elif behaviour == "garbage-status":
        handler.wfile.write(b"NOT HTTP AT ALL\r\n\r\n")
    elif behaviour == "link-self":
        send(handler, 200, b'{"repositories": ["a"], "tags": ["1"]}', {**headers, "Link": f'<{handler.path}>; rel="next"'})
    else:
        send(handler, 200, b'{"repositories": ["a"]}', {**headers, "Link": '<http://192.0.2.1/v2/_catalog?n=1>; rel="next"'})


CALLS = {
    "ping": lambda c: c.ping(),
    "catalog": lambda c: c.catalog(),
    "tags": lambda c: c.tags("r"),
    "manifest": lambda c: c.manifest("r", "1"),
    "manifest-by-digest": lambda c: c.manifest("r", "sha512:" + "a" * 128),
    "manifest-digest": lambda c: c.manifest_digest("r", "1"),
    "config": lambda c: c.config("r", Descriptor("application/vnd.oci.image.config.v1+json", "sha256:" + "a" * 64, 20)),
    "blob": lambda c: c.blob("r", Descriptor(OCI_LAYER_GZIP, "sha256:" + "a" * 64, 100)),
    "walk": lambda c: c.walk("r", "1"),
}


@FUZZ_SLOW
@given(behaviours, st.one_of(json_bodies.map(lambda value: json.dumps(value).encode()), st.binary(max_size=40)),
       st.sampled_from([200, 201, 401, 404, 429, 500]), st.sampled_from(sorted(CALLS)),
       st.dictionaries(st.sampled_from(["Docker-Content-Digest", "Content-Type"]),
                       st.sampled_from(["sha256:" + "b" * 64, "sha512:xyz", "md5:" + "0" * 32, OCI_MANIFEST, "\x7f"]),
                       max_size=2))
@example("dribble", b"{}", 200, "tags", {})
@example("endless", b"", 200, "manifest", {})
@example("link-self", b"", 200, "catalog", {})
@example("json", b'{"errors": 5}', 404, "manifest", {})
def test_registry_answers_end_in_a_result_or_a_lab_error_in_time(behaviour, body, status, call, headers):
    SCRIPT.update(behaviour=behaviour, body=body, status=status, headers=headers)
    client = RegistryClient(_REGISTRY[0], timeout=0.5, budget=Budget(seconds=1.0, document_bytes=1 << 20))
    started = time.monotonic()
    outcome = returns_or_lab_error(CALLS[call], client)
    assert time.monotonic() - started < 4, f"{call} against '{behaviour}' took too long"
    reads_a_body = call not in ("ping", "manifest-digest")
    if behaviour in ("dribble-headers", "redirect-remote", "garbage-status") or (behaviour == "endless" and reads_a_body):
        assert isinstance(outcome, LabError), outcome


_REGISTRY: list[str] = []
_SERVER = contextlib.ExitStack()


def setup_module() -> None:
    address, _ = _SERVER.enter_context(http_server({"*": _answer}))
    _REGISTRY.append(address)


def teardown_module() -> None:
    _SERVER.close()


def test_the_builders_write_what_the_reader_reads(tmp_path: Path):
    raw = tar(header("a", size=3) + padded(b"abc"), member("b/", kind=b"5"))
    report = read_images(build_image([TarLayer(raw, compression="none")]).data)[0]
    assert [entry.path for entry in report.layers[0].entries] == ["a", "b"]
    assert json.loads(canonical({"b": 1, "a": 2})) == {"a": 2, "b": 1}
