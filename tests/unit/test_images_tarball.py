"""The streaming image-tarball reader, on tarballs these tests build themselves (both layouts)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import random
import tarfile
from pathlib import Path

import pytest

from containerlab.errors import DigestMismatchError, LabError, ParseError
from containerlab.images import (
    OCI_LAYER,
    OCI_LAYER_GZIP,
    OPAQUE,
    WHITEOUT,
    File,
    FileChange,
    HardLink,
    Layer,
    Step,
    Symlink,
    TarEntry,
    TarLayer,
    build_image,
    extract_layer,
    iter_layers,
    read_image,
    read_images,
)

LAYOUTS = ("oci", "docker")

STEPS = [
    Layer({"app/main.py": "print(1)\n", "app/big.bin": b"x" * 5000, "etc/secret.pem": b"K" * 300, "d/a": "a",
           "d/b": "bb", "d/sub/c": "ccc", "bin/tool": File(b"#!/bin/sh\n", 0o755, 1000, 1001)},
          "COPY . /", compression="none"),
    Layer({"app/big.bin": b"y" * 3000, "etc/secret.pem": WHITEOUT, "app/link": Symlink("/app/main.py"),
           "app/rel": Symlink("../etc/motd"), "app/hard": HardLink("app/main.py"), "app/main.py": "print(2)\n"},
          "RUN change"),
    Step("ENV A=b"),
    Layer({"d": OPAQUE, "d/new": "n"}, "RUN rm -rf /d && mkdir /d && echo n > /d/new"),
    Layer({"app/main.py": "print(3)\n", "bin/tool": WHITEOUT}, "RUN finish", compression="none"),
]
TAG = "localhost:5000/demo:1"


def entry(path: str, kind: str, size: int = 0, mode: int = 0o644, link: str = "", uid: int = 0,
          gid: int = 0) -> TarEntry:
    if kind == "dir" and mode == 0o644:
        mode = 0o755
    if kind == "symlink":
        mode = 0o777
    return TarEntry(path, kind, size, mode, uid, gid, 0, link)


@pytest.fixture(scope="module", params=LAYOUTS)
def built(request):
    return build_image(STEPS, tag=TAG, layout=request.param, env=("A=b",), cmd=("sh",))


@pytest.fixture(scope="module")
def report(built):
    return read_image(built.data)


def test_image_totals(built, report):
    assert report.layout == ("oci" if built.layout == "oci" else "docker-save")
    assert report.tags == (TAG,)
    assert report.name == TAG
    assert report.config_digest == report.id == built.config_digest
    assert report.manifest_digest == (built.manifest_digest if built.layout == "oci" else None)
    assert report.diff_ids == built.diff_ids
    assert [layer.digest for layer in report.layers] == list(built.layer_digests)
    assert report.config.config.env == ("A=b",) and report.config.config.cmd == ("sh",)
    assert [h.created_by for h in report.history] == ["COPY . /", "RUN change", "ENV A=b",
                                                      "RUN rm -rf /d && mkdir /d && echo n > /d/new", "RUN finish"]
    assert len(report.layers) == 4
    assert report.files_size == 5325 + 3009 + 1 + 9
    assert report.visible_size == 3000 + 9 + 9 + 1  # big.bin, main.py, the hard link's copy of print(2), d/new
    assert report.wasted_bytes == report.files_size - report.visible_size == 5325
    assert report.file_count == 6  # big.bin, link, rel, hard, main.py, d/new
    assert report.size == sum(layer.size for layer in report.layers)
    assert report.uncompressed_size == sum(layer.uncompressed_size for layer in report.layers)


def test_layer_blobs_and_history(built, report):
    layers = report.layers
    assert [layer.index for layer in layers] == [0, 1, 2, 3]
    assert [layer.compression for layer in layers] == ["none", "gzip", "gzip", "none"]
    assert [layer.instruction for layer in layers] == ["COPY . /", "RUN change",
                                                       "RUN rm -rf /d && mkdir /d && echo n > /d/new", "RUN finish"]
    assert layers[0].history.created_by == "COPY . /" and not layers[0].history.empty_layer
    for layer, digest, diff_id in zip(layers, built.layer_digests, built.diff_ids):
        assert layer.digest == digest and layer.diff_id == diff_id
        assert layer.short_id == diff_id[7:19]
        if built.layout == "oci":
            assert layer.member == f"blobs/sha256/{digest[7:]}"
            assert layer.media_type == (OCI_LAYER_GZIP if layer.compression == "gzip" else OCI_LAYER)
        else:
            assert layer.member.endswith("/layer.tar") and layer.media_type == ""
    assert layers[0].digest == layers[0].diff_id  # an uncompressed blob is its own tar
    assert layers[1].digest != layers[1].diff_id
    assert layers[1].uncompressed_size > layers[1].size  # gzip shrank it
    assert layers[0].size == layers[0].uncompressed_size


def test_first_layer_adds_everything(report):
    base = report.layers[0]
    assert base.entries == (
        entry("app", "dir"), entry("app/big.bin", "file", 5000), entry("app/main.py", "file", 9),
        entry("bin", "dir"), entry("bin/tool", "file", 10, 0o755, uid=1000, gid=1001), entry("d", "dir"),
        entry("d/a", "file", 1), entry("d/b", "file", 2), entry("d/sub", "dir"), entry("d/sub/c", "file", 3),
        entry("etc", "dir"), entry("etc/secret.pem", "file", 300))
    assert [c.path for c in base.added] == [e.path for e in base.entries]
    assert all(c.previous_layer is None for c in base.added)
    assert base.modified == () and base.deleted == () and base.whiteouts == () and base.opaque_dirs == ()
    assert base.files_size == base.disk_size == 5325
    assert base.wasted_bytes == 5325  # every byte of it is overwritten or deleted later
    assert base.counts() == {"added": 12, "modified": 0, "deleted": 0}


def test_whiteout_symlinks_and_hard_links(report):
    layer = report.layers[1]
    assert [e.path for e in layer.entries] == ["app", "app/big.bin", "app/link", "app/main.py", "app/rel", "etc",
                                               "app/hard"]
    assert layer.symlinks == {"app/link": "/app/main.py", "app/rel": "../etc/motd"}
    assert layer.hardlinks == {"app/hard": "app/main.py"}
    assert layer.added == (FileChange("app/link", "symlink", 0, "/app/main.py"),
                           FileChange("app/rel", "symlink", 0, "../etc/motd"),
                           FileChange("app/hard", "hardlink", 0, "app/main.py"))
    assert layer.modified == (FileChange("app/big.bin", "file", 3000, "", 0),
                              FileChange("app/main.py", "file", 9, "", 0))
    assert layer.deleted == (FileChange("etc/secret.pem", "file", 300, "", 0),)
    assert layer.whiteouts == ("etc/secret.pem",)
    assert layer.files_size == 3009
    assert layer.disk_size == 3009 + len("/app/main.py") + len("../etc/motd")
    assert layer.wasted_bytes == 0  # main.py is overwritten later, but the hard link keeps its bytes visible


def test_opaque_directory_hides_everything_below(report):
    layer = report.layers[2]
    assert layer.opaque_dirs == ("d",) and layer.whiteouts == ()
    assert [e.path for e in layer.entries] == ["d", "d/new"]
    assert layer.added == (FileChange("d/new", "file", 1, "", None),)
    assert layer.modified == ()
    assert {(c.path, c.kind, c.size, c.previous_layer) for c in layer.deleted} == {
        ("d/a", "file", 1, 0), ("d/b", "file", 2, 0), ("d/sub", "dir", 0, 0), ("d/sub/c", "file", 3, 0)}
    assert layer.wasted_bytes == 0


def test_file_deleted_and_overwritten_in_a_later_layer(report):
    layer = report.layers[3]
    assert layer.modified == (FileChange("app/main.py", "file", 9, "", 1),)
    assert layer.deleted == (FileChange("bin/tool", "file", 10, "", 0),)
    assert layer.added == ()
    assert layer.whiteouts == ("bin/tool",)


def test_hard_link_bytes_become_wasted_when_the_last_name_goes():
    image = build_image([Layer({"f": b"1234567", "g": HardLink("f")}), Layer({"f": "new"}), Layer({"g": WHITEOUT})],
                        layout="oci")
    layers = read_image(image.data).layers
    assert [layer.wasted_bytes for layer in layers] == [7, 0, 0]
    assert read_image(image.data).visible_size == 3


def test_dive_figures_follow_dives_formula():
    image = build_image([
        Layer({"f": b"x" * 10, "g": b"y" * 6, "h/x": b"z" * 5, "h/y": b"w" * 7}),
        Layer({"f": b"x" * 4, "g": WHITEOUT}),
        Layer({"h": WHITEOUT}),
    ])
    report = read_image(image.data)
    assert report.wasted_bytes == 10 + 6 + 5 + 7
    # dive counts every copy of a path seen in two layers (f: 10 + 4, g: 6 + 0), the surviving one too,
    # and misses the files of a deleted directory; its score is sum(min sizes) / sum(all sizes).
    assert report.dive_wasted_bytes == 20
    assert report.efficiency == pytest.approx((4 + 0 + 12 + 5 + 7) / (14 + 6 + 12 + 5 + 7))


def test_same_path_twice_in_one_layer_wastes_the_first_copy():
    first = tarfile.TarInfo("f")
    first.size = 5
    second = tarfile.TarInfo("f")
    second.size = 2
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        tar.addfile(first, io.BytesIO(b"12345"))
        tar.addfile(second, io.BytesIO(b"ab"))
    layer = read_image(build_image([TarLayer(raw.getvalue())]).data).layers[0]
    assert layer.added == (FileChange("f", "file", 2, "", None),)
    assert layer.wasted_bytes == 5


def test_empty_layer_and_image_without_history():
    image = build_image([Layer({}), Layer({"a": "1"})])
    report = read_image(image.data)
    assert report.layers[0].entries == () and report.layers[0].counts() == {"added": 0, "modified": 0, "deleted": 0}
    assert report.layers[1].instruction == ""


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("chunk", [1, 7, 511, 513, 4096])
def test_any_chunking_gives_the_same_report(layout, chunk):
    data = build_image(STEPS, tag=TAG, layout=layout).data
    expected = read_image(data)
    streamed = read_image(data[i:i + chunk] for i in range(0, len(data), chunk))
    assert streamed == expected


class _Pipe:
    """A read-only, non-seekable byte stream (like a pipe from `docker save`)."""

    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(min(size, 3000))


def test_paths_files_and_pipes(tmp_path, built):
    path = built.write(tmp_path / "image.tar")
    from_bytes = read_image(built.data)
    trusting = read_image(built.data, verify=False)  # digests as manifests and config state them
    if built.layout == "oci":
        assert trusting == from_bytes
    else:  # docker save names layers by diff_id only: a gzipped layer.tar's own digest is not stated
        assert [layer.digest for layer in trusting.layers] == [from_bytes.layers[0].digest, "", "",
                                                               from_bytes.layers[3].digest]
        assert trusting.diff_ids == from_bytes.diff_ids and trusting.id == from_bytes.id
    assert read_image(path) == read_image(str(path)) == from_bytes
    assert read_image(_Pipe(built.data)) == from_bytes
    with open(path, "rb") as handle:
        assert read_image(handle) == from_bytes
    assert list(iter_layers(path)) == list(from_bytes.layers)


def test_progress_reports_bytes_read(tmp_path, built):
    seen: list[tuple[int, int | None]] = []
    read_image(built.write(tmp_path / "image.tar"), progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (len(built.data), len(built.data))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    streamed: list[tuple[int, int | None]] = []
    read_image(_Pipe(built.data), progress=lambda done, total: streamed.append((done, total)))
    assert streamed[-1] == (len(built.data), None)


def test_layer_lookup(report):
    layer = report.layers[2]
    assert report.layer(2) is layer
    assert report.layer(layer.diff_id) is layer and report.layer(layer.digest) is layer
    assert report.layer(layer.short_id) is layer
    with pytest.raises(LabError, match="has no layer"):
        report.layer("sha256:" + "0" * 64)


def test_gnu_long_names_base256_numbers_pax_globals_and_devices():
    raw = io.BytesIO()
    long_name = "deep/" + "x" * 150 + "/file.txt"
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        info = tarfile.TarInfo(long_name)
        info.size, info.uid, info.gid, info.mtime = 3, 3_000_000, 7, 1_700_000_000
        tar.addfile(info, io.BytesIO(b"abc"))
        link = tarfile.TarInfo("deep/link")
        link.type, link.linkname = tarfile.SYMTYPE, "/" + "y" * 120
        tar.addfile(link)
        for name, kind in (("dev/null", tarfile.CHRTYPE), ("dev/sda", tarfile.BLKTYPE), ("run/fifo", tarfile.FIFOTYPE)):
            device = tarfile.TarInfo(name)
            device.type = kind
            tar.addfile(device)
    pax = io.BytesIO()
    with tarfile.open(fileobj=pax, mode="w", format=tarfile.PAX_FORMAT, pax_headers={"comment": "global"}) as tar:
        info = tarfile.TarInfo("ünïcode/" + "z" * 120)
        info.size = 1
        tar.addfile(info, io.BytesIO(b"1"))
    report = read_image(build_image([TarLayer(raw.getvalue()), TarLayer(pax.getvalue(), compression="none")]).data)
    entries = {e.path: e for e in report.layers[0].entries}
    assert entries[long_name] == TarEntry(long_name, "file", 3, 0o644, 3_000_000, 7, 1_700_000_000, "")
    assert entries["deep/link"].link_target == "/" + "y" * 120
    assert [entries[p].kind for p in ("dev/null", "dev/sda", "run/fifo")] == ["char", "block", "fifo"]
    assert [e.path for e in report.layers[1].entries] == ["ünïcode/" + "z" * 120]


def _merge_docker_saves(*tarballs: bytes) -> bytes:
    """One `docker save` tarball holding several images (what `docker save a b` writes)."""
    members: dict[str, tuple[tarfile.TarInfo, bytes | None]] = {}
    manifests: list = []
    for data in tarballs:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for info in tar.getmembers():
                if info.name == "manifest.json":
                    manifests += json.loads(tar.extractfile(info).read())
                elif info.name != "repositories":
                    members[info.name] = (info, tar.extractfile(info).read() if info.isfile() else None)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for info, data in members.values():
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
        blob = json.dumps(manifests).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(blob)
        tar.addfile(info, io.BytesIO(blob))
    return out.getvalue()


def test_several_images_in_one_tarball_share_layers():
    base = Layer({"bin/sh": b"shell"}, "COPY sh /bin/sh", compression="none")
    one = build_image([base, Layer({"a": "1"}, "RUN a")], tag="one:1", layout="docker").data
    two = build_image([base, Layer({"b": "2"}, "RUN b")], tag="two:2", layout="docker").data
    merged = _merge_docker_saves(one, two)
    images = read_images(merged)
    assert [image.tags for image in images] == [("one:1",), ("two:2",)]
    assert images[0].layers[0].diff_id == images[1].layers[0].diff_id
    assert read_image(merged, "two:2").tags == ("two:2",) and read_image(merged, "two").tags == ("two:2",)
    with pytest.raises(LabError, match="holds 2 images"):
        read_image(merged)
    with pytest.raises(LabError, match="no image tagged"):
        read_image(merged, "three:3")


def test_docker_layout_repeated_layer_is_a_symlink_in_the_tarball():
    data = build_image([Layer({"a": "1"}), Layer({"b": "2"}), Layer({"a": "1"})], layout="docker").data
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        links = [m for m in tar.getmembers() if m.issym()]
    assert len(links) == 1 and links[0].linkname.startswith("../")
    report = read_image(data)
    assert report.layers[2].member == report.layers[0].member
    assert report.layers[2].modified == (FileChange("a", "file", 1, "", 0),)


def test_oci_nested_index_and_attestations_are_followed():
    built = build_image(STEPS, tag=TAG, layout="oci")
    with tarfile.open(fileobj=io.BytesIO(built.data)) as tar:
        members = {m.name: (m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()}
    outer_index = json.loads(members["index.json"][1])
    nested = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                         "manifests": outer_index["manifests"] + [{
                             "mediaType": "application/vnd.oci.image.manifest.v1+json",
                             "digest": "sha256:" + "a" * 64, "size": 10,
                             "annotations": {"vnd.docker.reference.type": "attestation-manifest"}}]}).encode()
    nested_digest = hashlib.sha256(nested).hexdigest()
    members.pop("manifest.json")
    members[f"blobs/sha256/{nested_digest}"] = (tarfile.TarInfo(f"blobs/sha256/{nested_digest}"), nested)
    index = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
                                                           "digest": "sha256:" + nested_digest,
                                                           "size": len(nested)}]}).encode()
    members["index.json"] = (tarfile.TarInfo("index.json"), index)
    report = read_image(_tarball(members))
    assert report.diff_ids == built.diff_ids and report.tags == (TAG,)


def _tarball(members: dict[str, tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, (info, data) in members.items():
            info = tarfile.TarInfo(name) if info.name != name else info
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def _members(data: bytes) -> dict[str, tuple[tarfile.TarInfo, bytes | None]]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: (m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()}


# -- hostile and damaged input ------------------------------------------------------------------
def _layer_with(*infos: tuple[str, bytes, str]) -> bytes:
    """A raw layer tar: (name, type, linkname) entries written exactly as given."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, link in infos:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, link
            data = b"payload" if kind == tarfile.REGTYPE else None
            info.size = len(data) if data else 0
            tar.addfile(info, io.BytesIO(data) if data else None)
    return raw.getvalue()


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("infos, message", [
    ([("/etc/passwd", tarfile.REGTYPE, "")], "absolute path"),
    ([("../evil", tarfile.REGTYPE, "")], "contains '..'"),
    ([("a/../../b", tarfile.REGTYPE, "")], "contains '..'"),
    ([("x", tarfile.REGTYPE, ""), ("h", tarfile.LNKTYPE, "../../etc/shadow")], "points outside the image"),
    ([("h", tarfile.LNKTYPE, "/etc/shadow")], "points outside the image"),
    ([("a/b", tarfile.SYMTYPE, "../../../etc")], "climbs out of the image"),
])
def test_hostile_entries_are_refused_with_a_clear_message(layout, infos, message):
    data = build_image([TarLayer(_layer_with(*infos))], layout=layout).data
    with pytest.raises(ParseError, match=message) as caught:
        read_image(data)
    assert "layer" in caught.value.message and caught.value.hint


def test_absolute_symlinks_are_normal_in_images():
    data = build_image([TarLayer(_layer_with(("bin/sh", tarfile.SYMTYPE, "/bin/busybox"),
                                             ("lib", tarfile.SYMTYPE, "usr/lib")))]).data
    assert read_image(data).layers[0].symlinks == {"bin/sh": "/bin/busybox", "lib": "usr/lib"}


def test_truncated_tarball():
    data = build_image(STEPS).data
    with pytest.raises(ParseError, match="truncated"):
        read_image(data[: len(data) // 2])


def test_truncated_and_corrupt_gzip_layers():
    tar = _layer_with(("a", tarfile.REGTYPE, ""))
    zipped = gzip.compress(tar, mtime=0)
    with pytest.raises(ParseError, match="gzip stream is truncated"):
        read_image(build_image([TarLayer(zipped[:-12], compression="none")]).data)
    corrupt = zipped[:12] + bytes(b ^ 0xFF for b in zipped[12:30]) + zipped[30:]
    with pytest.raises(ParseError, match="gzip"):
        read_image(build_image([TarLayer(corrupt, compression="none")]).data)


def test_multi_member_gzip_and_trailing_zeros_are_fine():
    tar = _layer_with(("a", tarfile.REGTYPE, ""), ("b", tarfile.REGTYPE, ""))
    two_members = gzip.compress(tar[:1024], mtime=0) + gzip.compress(tar[1024:], mtime=0) + bytes(10)
    stored_as_given = build_image([TarLayer(two_members, compression="none")]).data
    with pytest.raises(DigestMismatchError) as caught:  # the builder took the gzip bytes for the tar
        read_image(stored_as_given)
    assert caught.value.actual == "sha256:" + hashlib.sha256(tar).hexdigest()
    layer = read_image(stored_as_given, verify=False).layers[0]
    assert layer.compression == "gzip"
    assert layer.uncompressed_size == len(tar)
    assert [e.path for e in layer.entries] == ["a", "b"]


def test_blob_that_does_not_match_its_name():
    image = build_image(STEPS, layout="oci")
    members = _members(image.data)
    name = f"blobs/sha256/{image.layer_digests[0][7:]}"
    info, data = members[name]
    members[name] = (info, data.replace(b"x" * 5000, b"x" * 4999 + b"!"))
    with pytest.raises(DigestMismatchError, match="does not match its digest") as caught:
        read_image(_tarball(members))
    assert caught.value.expected == image.layer_digests[0] and caught.value.actual != caught.value.expected
    trusting = read_image(_tarball(members), verify=False)  # digests as the manifest states them
    assert trusting.layers[0].digest == trusting.layers[0].diff_id == image.layer_digests[0]
    assert trusting.diff_ids == image.diff_ids and trusting.id == image.config_digest


def test_docker_layer_that_does_not_match_the_configs_diff_id():
    image = build_image([Layer({"a": "1"}, compression="none")], layout="docker")
    members = _members(image.data)
    name = next(n for n in members if n.endswith("layer.tar"))
    other = build_image([Layer({"a": "2"}, compression="none")], layout="docker")
    members[name] = (members[name][0], next(d for n, (_, d) in _members(other.data).items()
                                            if n.endswith("layer.tar")))
    with pytest.raises(DigestMismatchError, match="uncompressed layer 0"):
        read_image(_tarball(members))


def test_docker_config_that_does_not_match_its_name():
    image = build_image([Layer({"a": "1"})], layout="docker")
    members = _members(image.data)
    name = f"{image.config_digest[7:]}.json"
    members[name] = (members[name][0], members[name][1].replace(b'"os":"linux"', b'"os":"linuX"'))
    with pytest.raises(DigestMismatchError, match="image config"):
        read_image(_tarball(members))


def test_descriptor_size_that_does_not_match():
    image = build_image([Layer({"a": "1"})], layout="oci")
    members = _members(image.data)
    name = f"blobs/sha256/{image.manifest_digest[7:]}"
    manifest = json.loads(members[name][1])
    manifest["layers"][0]["size"] += 1
    blob = json.dumps(manifest).encode()
    digest = hashlib.sha256(blob).hexdigest()
    members.pop(name)
    members[f"blobs/sha256/{digest}"] = (tarfile.TarInfo(f"blobs/sha256/{digest}"), blob)
    index = json.loads(members["index.json"][1])
    index["manifests"][0].update(digest="sha256:" + digest, size=len(blob))
    members["index.json"] = (members["index.json"][0], json.dumps(index).encode())
    with pytest.raises(DigestMismatchError, match="says .* bytes"):
        read_image(_tarball(members))


@pytest.mark.parametrize("reference, message", [
    ("../../etc/passwd", "points outside the tarball"),
    ("/etc/passwd", "points outside the tarball"),
    ("nothere/layer.tar", "not in the tarball"),
])
def test_manifest_json_pointing_nowhere(reference, message):
    image = build_image([Layer({"a": "1"})], layout="docker")
    members = _members(image.data)
    manifest = json.loads(members["manifest.json"][1])
    manifest[0]["Layers"] = [reference]
    members["manifest.json"] = (members["manifest.json"][0], json.dumps(manifest).encode())
    with pytest.raises(ParseError, match=message):
        read_image(_tarball(members))


@pytest.mark.parametrize("target, message", [("../../../x", "points outside it"), ("loop/layer.tar", "loop")])
def test_links_inside_the_tarball_that_escape_or_loop(target, message):
    image = build_image([Layer({"a": "1"})], layout="docker")
    members = _members(image.data)
    manifest = json.loads(members["manifest.json"][1])
    manifest[0]["Layers"] = ["loop/layer.tar"]
    members["manifest.json"] = (members["manifest.json"][0], json.dumps(manifest).encode())
    link = tarfile.TarInfo("loop/layer.tar")
    link.type, link.linkname = tarfile.SYMTYPE, target
    members["loop/layer.tar"] = (link, None)
    with pytest.raises(ParseError, match=message):
        read_image(_tarball(members))


def test_not_a_tarball_empty_and_no_manifest():
    with pytest.raises(ParseError, match="not a valid tar header"):
        read_image(b"this is not a tarball at all " * 40)
    with pytest.raises(ParseError, match="empty"):
        read_image(b"")
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        tar.addfile(tarfile.TarInfo("hello.txt"), io.BytesIO(b""))
    with pytest.raises(ParseError, match="neither manifest.json"):
        read_image(out.getvalue())


def test_oversized_extended_header_is_refused():
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(tarfile.TarInfo("n" * (1 << 20) + "/x"))
    with pytest.raises(ParseError, match="extended tar header"):
        read_image(build_image([TarLayer(raw.getvalue(), compression="none")]).data)


def test_bad_header_checksum_zstd_and_non_tar_layers():
    tar = bytearray(_layer_with(("a", tarfile.REGTYPE, "")))
    tar[0] ^= 0x01
    with pytest.raises(ParseError, match="bad checksum|not a tar archive"):
        read_image(build_image([TarLayer(bytes(tar), compression="none")]).data)
    with pytest.raises(ParseError, match="zstd"):
        read_image(build_image([TarLayer(b"\x28\xb5\x2f\xfd" + bytes(600), compression="none")]).data)
    with pytest.raises(ParseError, match="not a tar archive"):
        read_image(build_image([TarLayer(b'{"not": "a layer"}', compression="none")]).data)


def test_config_with_fewer_diff_ids_than_layers():
    image = build_image([Layer({"a": "1"}), Layer({"b": "2"})], layout="docker")
    members = _members(image.data)
    name = f"{image.config_digest[7:]}.json"
    config = json.loads(members[name][1])
    config["rootfs"]["diff_ids"] = config["rootfs"]["diff_ids"][:1]
    blob = json.dumps(config).encode()
    members.pop(name)
    new = hashlib.sha256(blob).hexdigest() + ".json"
    members[new] = (tarfile.TarInfo(new), blob)
    manifest = json.loads(members["manifest.json"][1])
    manifest[0]["Config"] = new
    members["manifest.json"] = (members["manifest.json"][0], json.dumps(manifest).encode())
    with pytest.raises(ParseError, match="lists 2 layers but its config has 1"):
        read_image(_tarball(members))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_damage_anywhere_gives_a_lab_error_never_another_exception(layout):
    data = build_image(STEPS, layout=layout).data
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.getmembers()
        content_end = tar.offset  # after the last member: zero blocks and padding follow
    rng = random.Random(4)
    for cut in sorted(rng.sample(range(1, content_end), 40)):
        with pytest.raises(LabError):
            read_image(data[:cut])
    for position in rng.sample(range(len(data)), 150):
        damaged = bytearray(data)
        damaged[position] ^= 1 << rng.randrange(8)
        try:
            read_image(bytes(damaged))
        except LabError:
            pass


# -- explicit extraction ------------------------------------------------------------------------
def test_extracting_every_layer_in_order_builds_the_root_filesystem(tmp_path, built):
    path = built.write(tmp_path / "image.tar")
    report = read_image(path)
    root = tmp_path / "rootfs"
    results = [extract_layer(path, layer, root) for layer in report.layers]
    assert results[0].written[:3] == ("app", "app/big.bin", "app/main.py")
    assert results[1].removed == ("etc/secret.pem",)
    assert sorted(results[2].removed) == ["d/a", "d/b", "d/sub"]
    assert results[3].removed == ("bin/tool",)
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    assert files == ["app", "app/big.bin", "app/hard", "app/link", "app/main.py", "app/rel", "bin", "d", "d/new",
                     "etc"]
    assert (root / "app/main.py").read_text() == "print(3)\n"
    assert (root / "app/hard").read_text() == "print(2)\n"
    assert (root / "app/big.bin").read_bytes() == b"y" * 3000
    assert os.readlink(root / "app/link") == "/app/main.py"
    assert all(result.target == root and result.skipped == () for result in results)


def test_extraction_refuses_writing_through_a_symlink(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    layer = _layer_with(("evil", tarfile.SYMTYPE, str(outside)), ("evil/owned", tarfile.REGTYPE, ""))
    path = build_image([TarLayer(layer)]).write(tmp_path / "image.tar")
    report = read_image(path)
    with pytest.raises(ParseError, match="through the symbolic link 'evil'"):
        extract_layer(path, report.layers[0], tmp_path / "root")
    assert list(outside.iterdir()) == []


def test_extraction_skips_devices_and_needs_a_rereadable_source(tmp_path):
    layer = _layer_with(("dev/null", tarfile.CHRTYPE, ""), ("run/fifo", tarfile.FIFOTYPE, ""),
                        ("ok", tarfile.REGTYPE, ""))
    image = build_image([TarLayer(layer)])
    report = read_image(image.data)
    result = extract_layer(image.data, report.layers[0], tmp_path / "root")
    assert result.skipped == ("dev/null", "run/fifo") and "ok" in result.written
    assert not (tmp_path / "root/dev/null").exists()
    with pytest.raises(LabError, match="read only once"):
        extract_layer(_Pipe(image.data), report.layers[0], tmp_path / "again")


def test_extraction_checks_the_digest(tmp_path):
    image = build_image([Layer({"a": "1"}, compression="none")])
    report = read_image(image.data)
    other = build_image([Layer({"a": "2"}, compression="none")])
    members = _members(other.data)
    layer_blob = members[f"blobs/sha256/{other.layer_digests[0][7:]}"]
    members = _members(image.data)
    members[report.layers[0].member] = (members[report.layers[0].member][0], layer_blob[1])
    with pytest.raises(DigestMismatchError):
        extract_layer(_tarball(members), report.layers[0], tmp_path / "root")
    assert extract_layer(image.data, report.layers[0], Path(tmp_path / "ok")).written == ("a",)


# -- digests hashed on a second thread ----------------------------------------------------------
def test_digests_hold_when_the_caller_reuses_its_chunk_buffer(built):
    """The hash thread reads chunks after the reader moved on: a buffer the caller refills must not change them."""
    import threading

    def refilled(data: bytes, size: int = 700):
        buffer = bytearray(size)
        for start in range(0, len(data), size):
            piece = data[start:start + size]
            buffer[:len(piece)] = piece
            yield memoryview(buffer)[:len(piece)]
            buffer[:] = bytes(size)  # the caller reuses the buffer at once

    threads = threading.active_count()
    expected = read_image(built.data)
    got = read_image(refilled(built.data))
    assert [layer.digest for layer in got.layers] == [layer.digest for layer in expected.layers]
    assert got.diff_ids == tuple(built.diff_ids)
    assert threading.active_count() == threads, "the hash thread ends with the read"


def test_a_read_that_fails_half_way_stops_its_hash_thread(built):
    import threading

    threads = threading.active_count()
    with pytest.raises(LabError):
        read_image(built.data[: len(built.data) // 2])
    damaged = bytearray(built.data)
    layer = next(i for i in range(len(damaged) - 4) if damaged[i:i + 4] == b"x" * 4)  # inside a file of the uncompressed layer
    damaged[layer] ^= 1
    with pytest.raises(DigestMismatchError):
        read_image(bytes(damaged))
    assert threading.active_count() == threads
