"""Issue 14, one regression test per failure it lists: hostile image tarballs, registries, packs and kernel files.

Each test failed on the code before the fix (the report of the branch says how that was checked) and passes
now: the input ends in the course's own error with a one-line reason, or in the correct result; nothing outside
a target is written or deleted; no digest is skipped. Memory and time are measured in a child process
(``hostile_support.probe``) with generous bounds, since the machine running the tests may be busy.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import subprocess
import tarfile
import time
import zlib
from pathlib import Path

import pytest
from fuzz_support import snapshot
from hostile_support import (
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    Layout,
    canonical,
    config_bytes,
    digest_of,
    dribble,
    endless,
    gnu_long_name,
    header,
    http_server,
    json_nested,
    lab_error_outcome,
    layer_tar,
    manifest_bytes,
    member,
    pax,
    probe,
    send,
    tar,
)

from containerlab.errors import DigestMismatchError, LabError, ParseError
from containerlab.images import TarLayer, build_image, extract_layer, read_image
from containerlab.images.registry_client import RegistryClient
from containerlab.kernel.cgroups import cgroup_dirs, parse_proc_cgroup, read_cgroup_stats, read_proc_cgroup
from containerlab.kernel.mountinfo import parse_mountinfo, read_mountinfo
from containerlab.kernel.process import parse_status, read_process
from containerlab.runtime.spec import edit_spec, load_spec, memory_limit, namespace_types, parse_size, spec_summary
from containerlab.workshop.pack import PackError, unpack, write_pack

MIB = 1 << 20


def _jail(tmp_path: Path) -> Path:
    """A directory with a file beside the extraction target: the thing an escape would change."""
    jail = tmp_path / "jail"
    jail.mkdir()
    (jail / "beside.txt").write_text("must stay")
    return jail


def _outside(jail: Path, target: str = "rootfs") -> dict:
    return {path: kind for path, kind in snapshot(jail).items() if not path.startswith(target)}


def _layer_report_for(tarball: bytes, member_name: str):
    """A LayerReport naming one member of a tarball, as if a reader had accepted it (for extract_layer alone)."""
    benign = read_image(build_image([TarLayer(layer_tar(("x", b"1")), compression="none")]).data).layers[0]
    return dataclasses.replace(benign, member=member_name, compression="none")


# -- 1. extract_layer deletes outside its target ---------------------------------------------------------
@pytest.mark.parametrize("whiteout", [".wh...", "d/.wh...", ".wh..", ".wh.", "d/.wh."])
def test_1_whiteouts_of_dot_and_dot_dot_are_refused_by_reader_and_extractor(tmp_path, whiteout):
    layer = tar(member("d/", kind=b"5"), member("d/keep", b"k"), member(whiteout))
    image = build_image([TarLayer(layer, compression="none")], layout="oci")
    with pytest.raises(ParseError, match="whiteout"):
        read_image(image.data)
    jail = _jail(tmp_path)
    target = jail / "rootfs"
    (target / "d").mkdir(parents=True)
    (target / "d" / "learner.txt").write_text("mine")
    before = _outside(jail)
    layer_report = _layer_report_for(image.data, f"blobs/sha256/{image.layer_digests[0][7:]}")
    with pytest.raises(ParseError, match="whiteout"):
        extract_layer(image.data, layer_report, target, verify=False)
    assert _outside(jail) == before and (jail / "beside.txt").read_text() == "must stay"
    assert (target / "d" / "learner.txt").read_text() == "mine", "the whiteout emptied the target"


# -- 2. digest checks bypassed on an OCI layout --------------------------------------------------------------
def test_2_a_blob_stored_as_a_symlink_to_other_content_is_refused():
    good_layer, evil_layer = layer_tar(("a", b"1")), layer_tar(("a", b"2"))
    good_config, evil_config = config_bytes([good_layer], "A=1"), config_bytes([evil_layer], "A=2")
    assert len(good_config) == len(evil_config) and len(good_layer) == len(evil_layer)
    layout = Layout.new()
    layout.file("evil/config", evil_config)
    layout.file("evil/layer", evil_layer)
    layout.link(f"blobs/sha256/{digest_of(good_config)[7:]}", "../../evil/config")
    layout.link(f"blobs/sha256/{digest_of(good_layer)[7:]}", "../../evil/layer")
    manifest = layout.blob(manifest_bytes((digest_of(good_config), len(good_config)),
                                          [(digest_of(good_layer), len(good_layer))]))
    size = len(manifest_bytes((digest_of(good_config), len(good_config)), [(digest_of(good_layer), len(good_layer))]))
    data = layout.tar(layout.index([(manifest, size)]))
    with pytest.raises((ParseError, DigestMismatchError)) as caught:
        read_image(data)
    assert "link" in caught.value.message or "match" in caught.value.message


def _sha512_layout(config_content: bytes | None = None) -> tuple[bytes, bytes]:
    """An image whose manifest names its config by sha512; ``config_content`` replaces what is stored there."""
    layer = layer_tar(("a", b"1"))
    config = config_bytes([layer], "A=1")
    layout = Layout.new()
    layer_digest = layout.blob(layer)
    config_digest = layout.blob(config_content if config_content is not None else config, "sha512", name_as=config)
    manifest = manifest_bytes((config_digest, len(config)), [(layer_digest, len(layer))])
    return layout.tar(layout.index([(layout.blob(manifest, "sha512"), len(manifest))])), config


def test_2_a_blob_under_sha512_is_hashed_with_sha512():
    honest, config = _sha512_layout()
    report = read_image(honest)
    assert report.config_digest == digest_of(config, "sha512") and report.manifest_digest.startswith("sha512:")
    forged, _ = _sha512_layout(config.replace(b"A=1", b"A=2"))
    with pytest.raises(DigestMismatchError):
        read_image(forged)


# -- 3. registry walk: a manifest named by sha512 ---------------------------------------------------------
def test_3_a_manifest_fetched_by_sha512_digest_is_verified():
    real = manifest_bytes(("sha256:" + "a" * 64, 10), [])
    other = real.replace(b'"size":10', b'"size":11')
    reference = digest_of(real, "sha512")
    with http_server({f"/v2/r/manifests/{reference}": lambda h: send(
            h, 200, other, {"Content-Type": OCI_MANIFEST})}) as (address, _), pytest.raises(DigestMismatchError):
        RegistryClient(address).manifest("r", reference)


# -- 4. a global PAX header with a negative size ------------------------------------------------------------
@pytest.mark.parametrize("records, kind", [({"size": "-1"}, b"g"), ({"size": "-512"}, b"g"), ({"size": "-1024"}, b"g"),
                                           ({"size": "-1536"}, b"x"), ({"size": "1e3"}, b"x")])
def test_4_pax_size_is_checked_after_it_replaces_the_header_size(records, kind):
    data = repr(tar(pax(records, kind=kind), member("a", b"xyz"), member("b", b"abc")))
    result = probe(f"from containerlab.images import read_images\ndata = {data}", "read_images(data)",
                   timeout=30, memory_cap_mb=1024)
    assert result.finished and result.seconds < 10, result
    assert lab_error_outcome(result) and result.outcome.startswith("ParseError"), result


# -- 5. index fan-out ---------------------------------------------------------------------------------------
def _fan_out(k: int, depth: int) -> bytes:
    layout = Layout.new()
    current = [layout.image([layer_tar(("a", b"1"))])] * k
    media_type = OCI_MANIFEST
    for _ in range(depth):
        index = layout.index(current, media_type)
        current = [(layout.blob(index), len(index))] * k
        media_type = "application/vnd.oci.image.index.v1+json"
    return layout.tar(layout.index(current, media_type))


def test_5_nested_indexes_naming_the_same_manifest_many_times_give_one_image(tmp_path):
    path = tmp_path / "fan-out.tar"
    path.write_bytes(_fan_out(6, 5))
    assert path.stat().st_size < 64 * 1024
    result = probe(f"from containerlab.images import read_images\npath = {str(path)!r}",
                   "len(read_images(path))", timeout=120, memory_cap_mb=2048)
    assert result.outcome == "ok 1", result
    assert result.grew_mb < 100 and result.seconds < 20, result


# -- 6. Python exceptions instead of the course's errors -------------------------------------------------------
@pytest.mark.parametrize("records", [{"mtime": "inf"}, {"mtime": "nan"}, {"mtime": "1e999"}, {"uid": "-5"},
                                     {"path": "a\0b"}, {"linkpath": "x\0y"}, {"gid": "９"}])
def test_6_odd_pax_values_are_parse_errors(records):
    layer = tar(pax(records), member("a", b"1", kind=b"2" if "linkpath" in records else b"0"))
    with pytest.raises(ParseError, match="pax"):
        read_image(build_image([TarLayer(layer, compression="none")]).data)


def test_6_a_whiteout_of_a_1100_deep_tree_is_read():
    deep = "/".join(["a"] * 1100)
    first = tar(pax({"path": deep + "/f"}), member("x", b"1"))
    data = build_image([TarLayer(first, compression="none"), TarLayer(tar(member(".wh.a")), compression="none")]).data
    report = read_image(data)
    assert len(report.layers[1].deleted) == 1101 and report.file_count == 0


def test_6_names_longer_than_the_file_system_allows_are_lab_errors(tmp_path):
    layer = tar(pax({"path": "d/" + "n" * 300}), member("x", b"1"))
    image = build_image([TarLayer(layer, compression="none")])
    report = read_image(image.data)
    with pytest.raises(LabError, match="too long"):
        extract_layer(image.data, report.layers[0], tmp_path / "rootfs")


@pytest.mark.parametrize("path, body, call", [
    ("/v2/r/manifests/x", b'{"errors": 5}', lambda c: c.manifest("r", "x")),
    ("/v2/r/manifests/x", b'{"errors": [5, "a"]}', lambda c: c.manifest("r", "x")),
    ("/v2/_catalog", b"[]", lambda c: c.catalog()),
    ("/v2/_catalog", b'{"repositories": [1, {"a": 2}]}', lambda c: c.catalog()),
    ("/v2/r/tags/list", b'{"tags": [1, "a", null]}', lambda c: c.tags("r")),
    ("/v2/r/tags/list", b'{"tags": "latest"}', lambda c: c.tags("r")),
    ("/v2/r/tags/list", json_nested(100_000), lambda c: c.tags("r")),
    ("/v2/r/manifests/x", json_nested(100_000), lambda c: c.manifest("r", "x")),
])
def test_6_odd_json_from_a_registry_is_a_lab_error(path, body, call):
    status = 404 if b"errors" in body else 200
    with http_server({path: lambda h: send(h, status, body)}) as (address, _), pytest.raises(LabError) as caught:
        call(RegistryClient(address, timeout=5))
    assert caught.value.hint


def _recorded_proc(tmp_path: Path, files: dict[str, bytes]) -> Path:
    proc = tmp_path / "proc"
    for name, data in files.items():
        (proc / name).parent.mkdir(parents=True, exist_ok=True)
        (proc / name).write_bytes(data)
    return proc


def test_6_non_utf8_process_status(tmp_path):
    proc = _recorded_proc(tmp_path, {"7/status": b"Name:\tcaf\xe9\xff\nPid:\t7\nPPid:\t1\nUid:\t0\t0\t0\t0\n",
                                     "7/cmdline": b"caf\xe9\0-x\0"})
    status = read_process(7, proc)
    assert status.pid == 7 and status.name.encode("utf-8", "surrogateescape") == b"caf\xe9\xff"


def test_6_non_utf8_mountinfo(tmp_path):
    line = b"36 35 98:0 / /mnt/caf\xe9 rw - ext4 /dev/sda1 rw\n"
    proc = _recorded_proc(tmp_path, {"7/mountinfo": line})
    mounts = read_mountinfo(7, proc)
    assert mounts[0].mount_point.encode("utf-8", "surrogateescape") == b"/mnt/caf\xe9"


def test_6_non_utf8_proc_cgroup(tmp_path):
    proc = _recorded_proc(tmp_path, {"7/cgroup": b"0::/system.slice/caf\xe9.scope\n"})
    assert read_proc_cgroup(7, proc)[0].path.encode("utf-8", "surrogateescape") == b"/system.slice/caf\xe9.scope"


def test_6_a_cgroup_file_that_is_a_directory(tmp_path):
    (tmp_path / "memory.max").mkdir()
    (tmp_path / "pids.max").write_text("max\n")
    with pytest.raises(ParseError, match="directory"):
        read_cgroup_stats(tmp_path)


@pytest.mark.parametrize("call", [
    lambda: load_spec('{"process": [], "root": {}}'),
    lambda: load_spec('{"process": {"args": "sh"}, "root": {}}'),
    lambda: load_spec('{"process": {}, "root": {}, "linux": {"namespaces": [5]}}'),
    lambda: load_spec("[" * 100_000),
    lambda: edit_spec({"process": [], "root": {}}, args=["sh"]),
    lambda: edit_spec({"process": {}, "root": {}, "linux": {"namespaces": "pid"}}, namespaces=["pid"]),
    lambda: edit_spec({"process": {"env": 5}, "root": {}}, env={"A": "b"}),
    lambda: spec_summary({"process": 5, "root": 5}),
    lambda: spec_summary({"process": {"args": [1, 2]}, "root": {}, "mounts": [7]}),
    lambda: namespace_types({"linux": {"namespaces": [5]}}),
    lambda: memory_limit({"linux": []}),
    lambda: memory_limit({"linux": {"resources": {"memory": {"limit": "big"}}}}),
])
def test_6_runtime_specs_of_the_wrong_types(call):
    with pytest.raises(ParseError):
        call()


@pytest.mark.parametrize("size", ["9" * 400, "1" + "0" * 30 + "g", True, False, 10**30, -5, "1e9", "nan", 2.5])
def test_6_parse_size_of_huge_numbers_and_booleans(size):
    with pytest.raises(ParseError):
        parse_size(size)


def test_6_parse_size_still_reads_sizes():
    assert [parse_size(s) for s in ("64m", "64MiB", "1g", "1.5k", 512, " 7 ")] == [64 * MIB, 64 * MIB, 1 << 30, 1536,
                                                                                 512, 7]


# -- 7. unbounded memory and time ----------------------------------------------------------------------------
BIG_DOCUMENTS = """
from containerlab.images import read_images
from hostile_support import header, padded, end
def chunks():
    for i in range(20):
        body = b'{"a": "' + b"x" * ((16 << 20) - 10) + b'"}'
        yield header(f"doc{i}.json", size=len(body))
        for start in range(0, len(body), 1 << 20):
            yield body[start:start + (1 << 20)]
        yield padded(body)[len(body):]
    yield end()
"""


def test_7_large_non_layer_members_are_not_all_kept_in_memory():
    result = probe("import sys; sys.path.insert(0, 'tests/unit')\n" + BIG_DOCUMENTS, "read_images(chunks())",
                   timeout=120, memory_cap_mb=3000)
    assert result.finished and lab_error_outcome(result), result  # no manifest.json or index.json in it
    assert result.grew_mb < 250, result


def test_7_a_body_larger_than_its_descriptor_is_not_read():
    with http_server({"*": endless}) as (address, _):
        result = probe(
            f"from containerlab.images import Descriptor\n"
            f"from containerlab.images.registry_client import RegistryClient\n"
            f"client = RegistryClient({address!r}, timeout=20)\n"
            f"config = Descriptor('application/vnd.oci.image.config.v1+json', 'sha256:' + 'a' * 64, 10)",
            "client.config('r', config)", timeout=60, memory_cap_mb=3000)
    assert lab_error_outcome(result), result
    assert result.grew_mb < 100 and result.seconds < 10, result


def test_7_a_manifest_body_is_capped():
    with http_server({"*": lambda h: endless(h, b"{" * 65536, headers={"Content-Type": OCI_MANIFEST})}) as (address, _):
        result = probe(f"from containerlab.images.registry_client import RegistryClient\n"
                       f"client = RegistryClient({address!r}, timeout=20)",
                       "client.manifest('r', 'latest')", timeout=60, memory_cap_mb=3000)
    assert lab_error_outcome(result), result
    assert result.grew_mb < 100 and result.seconds < 10, result


@pytest.mark.parametrize("in_headers", [False, True])
def test_7_a_one_byte_per_second_answer_is_cut_at_the_timeout(in_headers):
    body = b'{"name": "r", "tags": ["1", "2", "3", "4", "5"]}'
    with http_server({"/v2/r/tags/list": lambda h: dribble(h, body, 1.0, in_headers=in_headers)}) as (address, _):
        started = time.monotonic()
        with pytest.raises(LabError, match="seconds|does not answer"):
            RegistryClient(address, timeout=3).tags("r")
        assert time.monotonic() - started < 8


def test_7_a_catalog_whose_link_points_to_itself():
    def looping(handler):
        send(handler, 200, b'{"repositories": ["a"]}',
             {"Content-Type": "application/json", "Link": '</v2/_catalog?n=100>; rel="next"'})

    with http_server({"/v2/_catalog": looping}) as (address, requests):
        result = probe(f"from containerlab.images.registry_client import RegistryClient\n"
                       f"client = RegistryClient({address!r}, timeout=5)", "client.catalog()", timeout=30)
    assert lab_error_outcome(result), result
    assert len(requests) < 1000


def _bomb(uncompressed_mib: int) -> bytes:
    """A gzipped layer tar holding one file of zeros: about 1 MB that inflates to ``uncompressed_mib`` MiB."""
    zipper = zlib.compressobj(9, zlib.DEFLATED, 31)
    size = uncompressed_mib * MIB
    parts = [zipper.compress(header("zeros", size=size))]
    zero = bytes(MIB)
    parts += [zipper.compress(zero) for _ in range(uncompressed_mib)]
    parts += [zipper.compress(bytes(1024)), zipper.flush()]
    return b"".join(parts)


@pytest.fixture(scope="module")
def bomb_layout(tmp_path_factory) -> Path:
    """An OCI layout whose one gzipped layer is a 1 MB gzip bomb (1 GiB of zeros), named with true digests."""
    bomb = _bomb(1000)
    tar_hash = hashlib.sha256()
    inflate = zlib.decompressobj(31)
    data = bomb
    while data:
        tar_hash.update(inflate.decompress(data, 16 * MIB))
        data = inflate.unconsumed_tail
    layout = Layout.new()
    config = canonical({"architecture": "amd64", "os": "linux",
                        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + tar_hash.hexdigest()]}})
    manifest = manifest_bytes((layout.blob(config), len(config)), [(layout.blob(bomb), len(bomb))], OCI_LAYER_GZIP)
    path = tmp_path_factory.mktemp("bomb") / "bomb.tar"
    path.write_bytes(layout.tar(layout.index([(layout.blob(manifest), len(manifest))])))
    return path


def test_7_gzip_inflation_is_bounded_per_chunk_in_the_walk(bomb_layout):
    result = probe(f"from containerlab.images.registry_client import OciLayout\n"
                   f"data = open({str(bomb_layout)!r}, 'rb').read()",
                   "OciLayout.from_tar(data).walk().verified", timeout=180, memory_cap_mb=3000)
    assert result.outcome == "ok True", result
    assert result.grew_mb < 20, result  # inflated 1 MiB at a time (a 64 KiB chunk inflated whole: 64 MiB)


def test_7_oci_layout_from_a_small_tar_gz_holding_a_gibibyte(tmp_path):
    path = tmp_path / "layout.tar.gz"
    zipper = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(path, "wb") as out:
        out.write(zipper.compress(header("blobs/sha256/" + "0" * 64, size=1 << 30)))
        zero = bytes(MIB)
        for _ in range(1024):
            out.write(zipper.compress(zero))
        out.write(zipper.compress(member("index.json", b"{}") + bytes(1024)) + zipper.flush())
    assert path.stat().st_size < 2 * MIB
    result = probe(f"from containerlab.images.registry_client import OciLayout\nhandle = open({str(path)!r}, 'rb')",
                   "OciLayout.from_tar(handle)", timeout=180, memory_cap_mb=3000)
    assert result.finished and lab_error_outcome(result), result
    assert result.grew_mb < 400, result


def test_7_extracting_hundreds_of_1000_deep_paths(tmp_path):
    deep = "/".join(["d"] * 1000)
    members = [pax({"path": f"{deep}/file{i}"}) + member("x", b"1") for i in range(300)]
    image = build_image([TarLayer(tar(*members), compression="none")])
    path = tmp_path / "deep.tar"
    path.write_bytes(image.data)
    try:
        result = probe(f"from containerlab.images import read_image, extract_layer\n"
                       f"report = read_image({str(path)!r})",
                       f"len(extract_layer({str(path)!r}, report.layers[0], {str(tmp_path / 'rootfs')!r}).written)",
                       timeout=90)
    finally:  # pytest's own clean-up (shutil.rmtree) recurses once per directory level: remove the tree here
        subprocess.run(["rm", "-rf", str(tmp_path / "rootfs")], check=True)
    assert result.outcome.startswith("ok"), result
    assert result.seconds < 20, result


# -- 8. unpack writes before it verifies -----------------------------------------------------------------------
def _pack(tmp_path: Path, listed: dict[str, bytes], stored: list[tuple[str, bytes]], name: str = "p.tgz") -> Path:
    manifest = {"format": "containerlab-pack", "version": 1, "files": {
        key: {"size": len(value), "sha256": hashlib.sha256(value).hexdigest()} for key, value in listed.items()}}
    path = tmp_path / name
    with tarfile.open(path, "w:gz") as archive:
        for key, value in [("MANIFEST.json", json.dumps(manifest).encode())] + stored:
            info = tarfile.TarInfo(key)
            info.size = len(value)
            archive.addfile(info, io.BytesIO(value))
    return path


def test_8_a_member_larger_than_its_listed_size_is_never_written(tmp_path):
    listed = b"abc"
    zipper = zlib.compressobj(9, zlib.DEFLATED, 31)
    manifest = json.dumps({"format": "containerlab-pack", "version": 1, "files": {
        "a": {"size": 3, "sha256": hashlib.sha256(listed).hexdigest()}}}).encode()
    path = tmp_path / "p.tgz"
    with open(path, "wb") as out:
        out.write(zipper.compress(member("MANIFEST.json", manifest) + header("a", size=200 * MIB)))
        for _ in range(200):
            out.write(zipper.compress(bytes(MIB)))
        out.write(zipper.compress(bytes(1024)) + zipper.flush())
    result = probe("import resource, signal\nfrom pathlib import Path\n"
                   "from containerlab.workshop.pack import unpack\n"
                   "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
                   "resource.setrlimit(resource.RLIMIT_FSIZE, (8 << 20, 8 << 20))",
                   f"unpack(Path({str(path)!r}), Path({str(tmp_path / 'out')!r}), progress=lambda line: None)",
                   timeout=60)
    assert result.outcome.startswith("PackError"), result
    assert not (tmp_path / "out" / "a").exists()



def test_8_a_pack_cut_short_leaves_no_partial_files(tmp_path):
    files = {"a.txt": b"A" * 5000, "b.bin": os.urandom(300_000)}
    path = _pack(tmp_path, files, list(files.items()))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 4])
    dest = tmp_path / "out"
    with pytest.raises(PackError):
        unpack(path, dest, progress=lambda line: None)
    assert not dest.exists() or list(dest.rglob("*")) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "a temporary directory was left"


def test_8_a_damaged_member_never_overwrites_a_learners_file(tmp_path):
    dest = tmp_path / "course"
    (dest / "notebooks").mkdir(parents=True)
    (dest / "notebooks" / "01.ipynb").write_text("my answers")
    path = _pack(tmp_path, {"notebooks/01.ipynb": b"{}", "extra.txt": b"e"},
                 [("notebooks/01.ipynb", b"{?"), ("extra.txt", b"e")])
    with pytest.raises(PackError, match="checksum"):
        unpack(path, dest, progress=lambda line: None)
    assert (dest / "notebooks" / "01.ipynb").read_text() == "my answers"
    assert not (dest / "extra.txt").exists()


def test_8_a_verified_pack_replaces_existing_files(tmp_path):
    dest = tmp_path / "course"
    (dest / "notebooks").mkdir(parents=True)
    (dest / "notebooks" / "01.ipynb").write_text("old")
    sources = tmp_path / "src"
    sources.mkdir()
    (sources / "n").write_bytes(b"new")
    write_pack(tmp_path / "w.tgz", [("notebooks/01.ipynb", sources / "n")], images=[], course_version="0",
               python="3.11", progress=lambda line: None)
    unpack(tmp_path / "w.tgz", dest, progress=lambda line: None)
    assert (dest / "notebooks" / "01.ipynb").read_text() == "new"


def test_8_a_100000_deep_manifest_is_a_pack_error(tmp_path):
    path = tmp_path / "deep.tgz"
    with tarfile.open(path, "w:gz") as archive:
        body = json_nested(100_000)
        info = tarfile.TarInfo("MANIFEST.json")
        info.size = len(body)
        archive.addfile(info, io.BytesIO(body))
    with pytest.raises(PackError):
        unpack(path, tmp_path / "out", progress=lambda line: None)


# -- 9. kernel text the readers misread --------------------------------------------------------------------------
@pytest.mark.parametrize("odd", ["\u0085", "\u2028", "\x1c", "\x1d", "\x1e", "\x0b", "\x0c", "\r"])
def test_9_kernel_text_splits_only_at_newlines(odd):
    status = parse_status(f"Name:\tweb{odd}app\nPid:\t42\nPPid:\t1\nUid:\t0\t0\t0\t0\nNSpid:\t42\t1\n")
    assert status.name == f"web{odd}app" and status.ns_pids == (42, 1)
    mounts = parse_mountinfo(f"36 35 98:0 / /mnt/a{odd}b rw - ext4 /dev/sda1 rw\n")
    assert len(mounts) == 1 and mounts[0].mount_point == f"/mnt/a{odd}b"
    entries = parse_proc_cgroup(f"0::/system.slice/a{odd}b.scope\n")
    assert [entry.path for entry in entries] == [f"/system.slice/a{odd}b.scope"]


@pytest.mark.parametrize("path", ["/../../../etc", "/a/../../../etc", "/../etc/../../x", "/.."])
def test_9_a_cgroup_path_never_maps_outside_the_cgroup_mount(path):
    mounts = parse_mountinfo("30 25 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n")
    dirs = cgroup_dirs(parse_proc_cgroup(f"0::{path}\n"), mounts)
    assert dirs.v2 is None or os.path.normpath(dirs.v2).startswith("/sys/fs/cgroup"), dirs.v2


def test_9_a_cgroup_path_with_dot_dot_inside_the_mount_still_maps():
    mounts = parse_mountinfo("30 25 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n")
    dirs = cgroup_dirs(parse_proc_cgroup("0::/a/b/../c\n"), mounts)
    assert dirs.v2 == "/sys/fs/cgroup/a/c"


def test_gnu_long_names_with_a_nul_still_end_at_the_nul():
    layer = tar(gnu_long_name("long/" + "n" * 120), member("x", b"1"))
    report = read_image(build_image([TarLayer(layer, compression="none")]).data)
    assert report.layers[0].entries[0].path == "long/" + "n" * 120
