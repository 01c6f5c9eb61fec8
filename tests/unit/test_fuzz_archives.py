"""Fuzzed archives: workshop packs (truncated, bit-flipped, wrong digests, hostile paths and links, odd
manifests) and the root-filesystem tar streams lesson 04 extracts.

Each must unpack or raise the course's own error with a hint, and nothing may ever be written
outside the target directory: every case runs in a jail directory whose contents outside the
target are compared before and after, and hostile names aim into that jail.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import json
import tarfile
import tempfile
from pathlib import Path

from fuzz_support import FUZZ_SLOW, returns_or_lab_error, snapshot
from hypothesis import example, given
from hypothesis import strategies as st

from containerlab.engine.overlay import safe_extract
from containerlab.errors import LabError
from containerlab.workshop.pack import MANIFEST, PACK_FORMAT, PACK_VERSION, PackError, read_manifest, unpack, write_pack

FILES = {"images/busybox.tar": b"layer bytes " * 40, "wheels/x.whl": b"PK\x03\x04wheel", "notebooks/01.ipynb": b"{}"}


def _jail(tmp_path_factory) -> tuple[Path, Path]:
    """A jail with a file beside the target directory (the thing an escape would overwrite)."""
    jail = tmp_path_factory.mktemp("jail")
    (jail / "beside.txt").write_text("must stay")
    return jail, jail / "dest"


def _outside(jail: Path) -> dict:
    return {path: kind for path, kind in snapshot(jail).items() if not path.startswith("dest")}


@functools.cache
def _valid_pack() -> bytes:
    """One real pack, made once (its bytes must not change between examples)."""
    with tempfile.TemporaryDirectory() as scratch:
        return _write_valid_pack(Path(scratch))


def _write_valid_pack(folder: Path) -> bytes:
    sources = folder / "sources"
    for name, data in FILES.items():
        (sources / name).parent.mkdir(parents=True, exist_ok=True)
        (sources / name).write_bytes(data)
    target = folder / "good.pack"
    write_pack(target, [(name, sources / name) for name in FILES], images=["containerlab/busybox"],
               course_version="0.1.0", python="3.11", progress=lambda line: None)
    return target.read_bytes()


def _unpack_in_jail(tmp_path_factory, data: bytes, keep: bool = False) -> object:
    jail, dest = _jail(tmp_path_factory)
    archive = jail / "in.pack"
    archive.write_bytes(data)
    before = _outside(jail)
    outcome = returns_or_lab_error(unpack, archive, dest, progress=lambda line: None)
    after = _outside(jail)
    assert after == before, f"unpack wrote outside its target: {set(after) ^ set(before)}"
    assert (jail / "beside.txt").read_text() == "must stay"
    for path, (kind, _) in snapshot(dest).items() if dest.exists() else []:
        assert kind in ("file", "dir"), f"unpack made a {kind} at {path}"
    if not isinstance(outcome, LabError):
        assert isinstance(returns_or_lab_error(read_manifest, archive), object)
    return (outcome, dest) if keep else outcome


def test_a_valid_pack_unpacks(tmp_path_factory):
    data = _valid_pack()
    manifest = _unpack_in_jail(tmp_path_factory, data)
    assert not isinstance(manifest, LabError) and set(manifest.files) == set(FILES)


@FUZZ_SLOW
@given(st.data())
def test_truncated_or_damaged_packs(tmp_path_factory, data):
    good = _valid_pack()
    how = data.draw(st.sampled_from(["truncate", "flip", "splice"]))
    if how == "truncate":
        damaged = good[:data.draw(st.integers(0, len(good) - 1))]
    elif how == "flip":
        at = data.draw(st.integers(0, len(good) - 1))
        damaged = good[:at] + bytes([good[at] ^ data.draw(st.integers(1, 255))]) + good[at + 1:]
    else:
        at = data.draw(st.integers(0, len(good)))
        damaged = good[:at] + data.draw(st.binary(max_size=64)) + good[at:]
    jail_dest = _unpack_in_jail(tmp_path_factory, damaged, keep=True)
    outcome, dest = jail_dest
    if not isinstance(outcome, PackError):  # accepted: then every file arrived whole (only padding was lost)
        assert {name: (dest / name).read_bytes() for name in outcome.files} == FILES


hostile_names = st.sampled_from([
    "../escaped", "../../escaped", "a/../../escaped", "/JAIL/escaped", "./a", "a//b", "a/", ".", "",
    "dest/../escaped", "images/busybox.tar/inner", "a\\..\\escaped", "links/evil", "links/evil/file",
    "images", "wheels/x.whl", MANIFEST, "ok.txt",
])
member_kinds = st.sampled_from(["file", "dir", "symlink", "hardlink", "fifo", "chardev"])
link_targets = st.sampled_from(["/JAIL", "/JAIL/beside.txt", "..", "../beside.txt", "ok.txt", "/etc/passwd"])


def _tar(jail: Path, manifest: object, members: list[tuple[str, str, str, bytes]], compress: bool) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        body = json.dumps(manifest).encode() if not isinstance(manifest, bytes) else manifest
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(body)
        archive.addfile(info, io.BytesIO(body))
        for name, kind, target, content in members:
            info = tarfile.TarInfo(name.replace("/JAIL", str(jail)))
            info.type = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
                         "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE, "chardev": tarfile.CHRTYPE}[kind]
            info.linkname = target.replace("/JAIL", str(jail))
            info.size = len(content) if kind == "file" else 0
            archive.addfile(info, io.BytesIO(content) if kind == "file" else None)
    raw = buffer.getvalue()
    return gzip.compress(raw) if compress else raw


def _listing(members, lie: bool) -> dict:
    files = {}
    for name, _, _, content in members:
        digest = hashlib.sha256(content).hexdigest()
        files[name.lstrip("/")] = {"size": len(content), "sha256": ("0" * 64) if lie else digest}
    return files


@FUZZ_SLOW
@given(st.lists(st.tuples(hostile_names, member_kinds, link_targets, st.binary(max_size=32)), min_size=1, max_size=5),
       st.booleans(), st.booleans())
@example([("../escaped", "file", "", b"x")], False, True)
@example([("links/evil", "symlink", "/JAIL", b""), ("links/evil/file", "file", "", b"x")], False, True)
@example([("ok.txt", "hardlink", "/JAIL/beside.txt", b"")], False, False)
@example([("images", "file", "", b"x"), ("images/busybox.tar", "file", "", b"y")], False, True)
@example([("images/busybox.tar", "file", "", b"y"), ("images", "file", "", b"x")], False, True)
def test_hostile_members(tmp_path_factory, members, lie, compress):
    jail, _ = _jail(tmp_path_factory)
    manifest = {"format": PACK_FORMAT, "version": PACK_VERSION, "files": _listing(members, lie)}
    _unpack_in_jail(tmp_path_factory, _tar(jail, manifest, members, compress))


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                           max_leaves=8)
manifests = st.one_of(json_values, st.binary(max_size=40), st.fixed_dictionaries(
    {"format": st.sampled_from([PACK_FORMAT, "other"]), "version": st.one_of(st.just(PACK_VERSION), json_values)},
    optional={"files": st.one_of(json_values, st.dictionaries(st.sampled_from(["ok.txt", "x"]), json_values)),
              "images": json_values, "created": json_values}))


@FUZZ_SLOW
@given(manifests)
@example({"format": PACK_FORMAT, "version": PACK_VERSION, "files": ["ok.txt"]})
@example({"format": PACK_FORMAT, "version": PACK_VERSION, "files": {"ok.txt": "abc"}})
@example({"format": PACK_FORMAT, "version": PACK_VERSION, "files": {"ok.txt": {"size": "x", "sha256": 5}}})
def test_odd_manifests(tmp_path_factory, manifest):
    jail, _ = _jail(tmp_path_factory)
    _unpack_in_jail(tmp_path_factory, _tar(jail, manifest, [("ok.txt", "file", "", b"data")], True))


# -- root filesystems exported by the engine (lesson 04) ---------------------------------------

rootfs_names = st.sampled_from(["bin", "bin/sh", "etc/passwd", "../escaped", "/JAIL/escaped", "link", "link/x",
                                "a/../../escaped", "dev/null", "./etc", "etc/../../escaped", "etc"])


@FUZZ_SLOW
@given(st.lists(st.tuples(rootfs_names, member_kinds, link_targets, st.binary(max_size=16)), max_size=6),
       st.integers(0, 5))
@example([("link", "symlink", "/JAIL", b""), ("link/x", "file", "", b"x")], 0)
@example([("link", "symlink", "..", b""), ("link/beside.txt", "file", "", b"x")], 0)
@example([("etc", "hardlink", "/JAIL/beside.txt", b"")], 0)
def test_safe_extract_of_hostile_root_filesystems(tmp_path_factory, members, cut):
    jail, dest = _jail(tmp_path_factory)
    dest.mkdir()
    raw = _tar(jail, {"format": "none"}, members, False)
    if cut:
        raw = raw[:len(raw) * cut // 6]
    before = _outside(jail)
    returns_or_lab_error(safe_extract, io.BytesIO(raw), dest)
    assert _outside(jail) == before, "safe_extract wrote outside its target"
    assert (jail / "beside.txt").read_text() == "must stay"
