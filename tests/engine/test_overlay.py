"""Lesson 04 on the real host and engine: an overlay mounted by hand (copy-up, whiteout, opaque dir),
a container's lowerdirs mapped to its image's layers, its upper dir after writes, safe extraction,
and nothing left mounted or built afterwards."""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

from containerlab.engine.lab import Lab, labelled_images
from containerlab.engine.overlay import (
    LAYERS_IMAGE,
    HandOverlay,
    build_layers_image,
    chroot_run,
    container_overlay,
    export_rootfs,
    mounts_under,
    remove_workdir,
    reset_workdir,
    safe_extract,
    workdir_for,
)
from containerlab.errors import LabError
from containerlab.kernel.overlay import OPAQUE_XATTR, is_whiteout

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="overlay mounts, chroot and /var/lib/docker need root")


def mountinfo_text() -> str:
    return Path("/proc/self/mountinfo").read_text()


@pytest.fixture
def lab(lab_images):
    session = Lab("test-overlay", engine=lab_images)
    yield session
    session.cleanup()
    remove_workdir(workdir_for(session))


@pytest.fixture
def workdir():
    session = Lab("test-overlay-hand", engine=object())
    path = reset_workdir(workdir_for(session))
    yield path
    remove_workdir(path)
    assert not path.exists()


@needs_root
def test_hand_overlay_copy_up_whiteout_and_opaque_dir(workdir):
    hand = HandOverlay.create(workdir / "overlay", {"lower1": {"etc/motd": "hello", "docs/a": "a", "same": "1"},
                                                    "lower2": {"app": "v1", "same": "2"}})
    assert hand.options == "lowerdir=lower2:lower1,upperdir=upper,workdir=work"
    with hand.mounted() as merged:
        assert str(merged) in mountinfo_text()
        assert (merged / "same").read_text() == "2\n"            # the first lowerdir is the top one
        assert sorted(os.listdir(merged)) == ["app", "docs", "etc", "same"]
        with open(merged / "etc/motd", "a") as motd:                 # copy-up
            motd.write("edited\n")
        (merged / "app").unlink()                                    # whiteout
        shutil.rmtree(merged / "docs")                              # opaque dir
        (merged / "docs").mkdir()
        (merged / "docs/new").write_text("new\n")
        assert sorted(os.listdir(merged / "docs")) == ["new"]
        table = hand.table()
    assert (hand.upper / "etc/motd").read_text() == "hello\nedited\n"
    assert (hand.root / "lower1/etc/motd").read_text() == "hello\n"
    info = os.lstat(hand.upper / "app")
    assert stat.S_ISCHR(info.st_mode) and (os.major(info.st_rdev), os.minor(info.st_rdev)) == (0, 0)
    assert is_whiteout(info.st_mode, info.st_rdev) and (hand.root / "lower2/app").exists()
    assert os.getxattr(hand.upper / "docs", OPAQUE_XATTR) == b"y"
    assert sorted(os.listdir(hand.root / "lower1/docs")) == ["a"]
    assert "whiteout c 0/0" in table and "opaque dir" in table and "merged" in table.splitlines()[0]
    assert "+1 ~1 \N{MINUS SIGN}1" in hand.stack().summary
    assert mounts_under(workdir) == [] and str(workdir) not in mountinfo_text()


@needs_root
def test_mount_left_by_an_interrupted_run_is_undone(workdir):
    hand = HandOverlay.create(workdir / "overlay", {"lower1": {"f": "x"}})
    with pytest.raises(RuntimeError), hand.mounted():
        assert hand.is_mounted
        raise RuntimeError("a cell failed half way")
    assert not hand.is_mounted
    subprocess.run(hand.command, cwd=hand.root, check=True)       # as if a learner mounted it by hand
    assert mounts_under(workdir)
    HandOverlay.create(workdir / "overlay", {"lower1": {"f": "y"}})  # re-running the cell starts afresh
    assert mounts_under(workdir) == [] and not (workdir / "overlay/upper/f").exists()


@needs_root
def test_container_lowerdirs_are_its_image_layers_and_upper_holds_its_writes(lab):
    image = build_layers_image(lab, progress=lambda line: None)
    assert image == f"{LAYERS_IMAGE}:{lab.owner}"
    box = lab.start(image, ["sleep", "300"], name="layered")
    overlay = container_overlay(lab, box)
    assert overlay.mount.fs_type == "overlay" and overlay.mount.mount_point == "/"
    assert len(overlay.layers) == 7 and len(overlay.lowers) == len(overlay.layers) + 1
    assert [lower.role for lower in overlay.lowers] == ["init"] + ["image"] * 7
    assert [lower.layer.index for lower in overlay.lowers[1:]] == [6, 5, 4, 3, 2, 1, 0]
    assert overlay.lowers[3].layer.label == "COPY /etc/motd"
    assert overlay.agrees_with_inspect
    image_dirs = lab.engine.client.api.inspect_image(image)["GraphDriver"]["Data"]
    assert overlay.lowers[1].path == os.path.normpath(image_dirs["UpperDir"])
    assert lab.exec(box, ["sh", "-c", "echo hi > /tmp/new && rm /etc/motd"]).ok
    upper = {entry.path: entry.kind for entry in overlay.upper_entries()}
    assert upper["tmp/new"] == "file" and upper["etc/motd"] == "whiteout"
    assert (Path(overlay.upper) / "tmp/new").read_text() == "hi\n"
    assert [str(c) for c in overlay.changes()] == ["C /etc", "D /etc/motd", "C /tmp", "A /tmp/new"]
    assert overlay.engine_changes() == overlay.changes()
    assert "+1 \N{MINUS SIGN}1" in overlay.stack(counted=3).summary
    merged = overlay.graph["MergedDir"]
    assert merged in mountinfo_text()
    report = lab.cleanup()
    assert merged not in mountinfo_text()
    assert report.images == 1
    assert not labelled_images(lab.engine, lesson=lab.lesson, owner=lab.owner)


@needs_root
def test_exported_rootfs_runs_chrooted(lab):
    rootfs = export_rootfs(lab, reset_workdir(workdir_for(lab)) / "rootfs")
    assert (rootfs / "bin/busybox").is_file() and os.readlink(rootfs / "bin/sh") == "/bin/busybox"
    result = chroot_run(rootfs, "cat /etc/passwd; test -e /etc/os-release && echo host-file; true")
    assert result.returncode == 0
    assert result.stdout.startswith("root:x:0:0:root:/root:/bin/sh") and "host-file" not in result.stdout
    assert lab.containers() == []


def tar_with(*members: tarfile.TarInfo) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for member in members:
            tar.addfile(member, io.BytesIO(b"x" * member.size) if member.isfile() else None)
    buffer.seek(0)
    return buffer


def member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, linkname, 1 if kind == tarfile.REGTYPE else 0
    return info


@pytest.mark.parametrize("bad", [member("../evil"), member("/etc/evil"), member("a/../../evil"),
                                 member("hard", tarfile.LNKTYPE, "/etc/passwd"),
                                 member("hard", tarfile.LNKTYPE, "../../etc/passwd")])
def test_safe_extract_refuses_entries_outside_the_tree(tmp_path, bad):
    with pytest.raises(LabError, match="outside the root filesystem"):
        safe_extract(tar_with(member("ok"), bad), tmp_path / "root")
    assert not (tmp_path / "evil").exists()


def test_safe_extract_refuses_writing_through_a_symlink(tmp_path):
    archive = tar_with(member("link", tarfile.SYMTYPE, str(tmp_path / "outside")), member("link/evil"))
    (tmp_path / "outside").mkdir()
    with pytest.raises(LabError, match="outside the root filesystem"):
        safe_extract(archive, tmp_path / "root")
    assert not (tmp_path / "outside/evil").exists()


def test_safe_extract_keeps_absolute_symlinks_inside_a_rootfs(tmp_path):
    count = safe_extract(tar_with(member("bin/", tarfile.DIRTYPE), member("bin/busybox"),
                                  member("bin/sh", tarfile.SYMTYPE, "/bin/busybox")), tmp_path / "root")
    assert count == 3 and os.readlink(tmp_path / "root/bin/sh") == "/bin/busybox"


def test_work_dirs_outside_the_course_are_never_removed(tmp_path):
    with pytest.raises(LabError, match="not in a course work directory"):
        remove_workdir(tmp_path)
    with pytest.raises(LabError):
        reset_workdir("/")
    assert tmp_path.exists()
