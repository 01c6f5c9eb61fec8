"""The workshop pack format: round trip, and clear errors for truncated, foreign, corrupted or hostile packs."""

import io
import json
import tarfile

import pytest

from containerlab.workshop.pack import MANIFEST, PackError, read_manifest, unpack, write_pack


def make_pack(tmp_path, files):
    sources = []
    for name, data in files.items():
        path = tmp_path / "src" / name.replace("/", "_")
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        sources.append((name, path))
    target = tmp_path / "w.clab.tgz"
    write_pack(target, sources, images=["containerlab/busybox"], course_version="0.1.0", python="3.11",
               progress=lambda line: None)
    return target


def test_round_trip_verifies_and_extracts(tmp_path):
    files = {"images/a.tar": b"A" * 5000, "wheels/x-1.0-py3-none-any.whl": b"wheel", "notebooks/00.ipynb": b"{}"}
    pack = make_pack(tmp_path, files)
    manifest = read_manifest(pack)
    assert set(manifest.files) == set(files) and manifest.images == ["containerlab/busybox"]
    lines = []
    unpack(pack, tmp_path / "out", progress=lines.append)
    for name, data in files.items():
        assert (tmp_path / "out" / name).read_bytes() == data
    assert len(lines) == 3


def test_truncated_pack(tmp_path):
    pack = make_pack(tmp_path, {"images/a.tar": bytes(range(256)) * 4000})
    data = pack.read_bytes()
    pack.write_bytes(data[: len(data) // 2])
    with pytest.raises(PackError, match="truncated or damaged") as err:
        unpack(pack, tmp_path / "out")
    assert "Copy the pack again" in err.value.hint


def test_foreign_archives(tmp_path):
    plain = tmp_path / "plain.tgz"
    with tarfile.open(plain, "w:gz") as archive:
        info = tarfile.TarInfo("README")
        archive.addfile(info, io.BytesIO(b""))
    with pytest.raises(PackError, match="not a containerlab pack"):
        unpack(plain, tmp_path / "out")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"this is no archive at all" * 10)
    with pytest.raises(PackError, match="not a containerlab pack"):
        read_manifest(junk)


def _hand_made(tmp_path, manifest, members):
    path = tmp_path / "hand.tgz"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in [(MANIFEST, json.dumps(manifest).encode())] + members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_corrupted_member_fails_its_checksum(tmp_path):
    manifest = {"format": "containerlab-pack", "version": 1, "files": {"a": {"size": 3, "sha256": "0" * 64}}}
    with pytest.raises(PackError, match="does not match its checksum"):
        unpack(_hand_made(tmp_path, manifest, [("a", b"abc")]), tmp_path / "out")
    assert not (tmp_path / "out" / "a").exists()


def test_hostile_and_unlisted_members_are_refused(tmp_path):
    manifest = {"format": "containerlab-pack", "version": 1, "files": {}}
    with pytest.raises(PackError, match="unsafe path"):
        unpack(_hand_made(tmp_path, manifest, [("../escape", b"x")]), tmp_path / "out")
    assert not (tmp_path / "escape").exists()
    with pytest.raises(PackError, match="does not list"):
        unpack(_hand_made(tmp_path, manifest, [("extra", b"x")]), tmp_path / "out")


def test_newer_pack_version(tmp_path):
    manifest = {"format": "containerlab-pack", "version": 99, "files": {}}
    with pytest.raises(PackError, match="version 99 pack"):
        read_manifest(_hand_made(tmp_path, manifest, []))
