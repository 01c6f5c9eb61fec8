"""mountinfo and overlay options, on recorded and hand-made mount tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from containerlab.errors import ParseError
from containerlab.kernel import (
    filesystems_supported,
    find_mount,
    overlay_supported,
    parse_mountinfo,
    read_filesystems,
    read_mountinfo,
    root_mount,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kernel"
CONTAINER_ID = "37c12d33c3ee5c72b0a5ad57ceb126e755cd82ad398c74e10d7ff1f1d52cac3f"


def mounts_of(name: str):
    return parse_mountinfo((FIXTURES / "mountinfo" / name).read_text())


def by_id(mounts, mount_id: int):
    return next(m for m in mounts if m.mount_id == mount_id)


def test_docker_host_mountinfo_fields():
    mounts = mounts_of("docker-host-hybrid.txt")
    assert len(mounts) == 22
    docker = find_mount(mounts, "/var/lib/docker/image")
    assert (docker.root, docker.mount_point) == ("/var/lib/docker", "/var/lib/docker")
    assert docker.optional_fields == ("shared:1",)
    assert (docker.major, docker.minor, docker.fs_type, docker.source) == (254, 0, "ext4", "/dev/vda")
    netns = mounts[-1]
    assert (netns.fs_type, netns.root) == ("nsfs", "net:[4026532184]")
    layer = "4007ae17020107f95a5bd70f4fc7e25928fbbef7195e47595ff606b9ccfab95d"
    merged = find_mount(mounts, f"/var/lib/docker/overlay2/{layer}/merged/etc")
    assert merged.fs_type == "overlay" and len(merged.overlay.lowerdirs) == 2


def test_container_root_is_overlay_with_layers():
    mounts = mounts_of("container-on-hybrid.txt")
    root = root_mount(mounts)
    assert root.fs_type == "overlay" and root.optional_fields == ("master:2",)
    layers = root.overlay
    assert layers.lowerdirs == [
        "/var/lib/docker/overlay2/l/JKHX4DU7TAWUXWPYNDE2Z4H2NW",
        "/var/lib/docker/overlay2/l/HUPOIPIXPWUCN675FYPZ7VHHTU",
    ]
    assert layers.upperdir.endswith("/diff") and layers.workdir.endswith("/work")
    assert layers.other == {} and layers.data_lowerdirs == []


def test_find_mount_longest_prefix_in_container():
    mounts = mounts_of("container-on-hybrid.txt")
    hosts = find_mount(mounts, "/etc/hosts")
    assert hosts.root == f"/var/lib/docker/containers/{CONTAINER_ID}/hosts" and hosts.fs_type == "ext4"
    assert find_mount(mounts, "/proc/bus/pci").root == "/bus"
    assert find_mount(mounts, "/procfs").mount_point == "/"
    assert find_mount(mounts, "sys/fs/cgroup/memory/").mount_point == "/sys/fs/cgroup/memory"
    assert find_mount(mounts, "/etc/../proc").mount_point == "/proc"
    assert find_mount([], "/") is None and root_mount([]) is None


def test_v2_container_cgroup_mount_is_read_only():
    mount = find_mount(mounts_of("container-on-v2.txt"), "/sys/fs/cgroup/memory.max")
    assert mount.fs_type == "cgroup2" and mount.read_only
    assert mount.super_options == ("rw", "nsdelegate", "memory_recursiveprot")
    assert len(root_mount(mounts_of("container-on-v2.txt")).overlay.lowerdirs) == 3


def test_optional_fields_zero_several_and_unbindable():
    mounts = mounts_of("odd-lines.txt")
    assert by_id(mounts, 100).optional_fields == ()
    assert by_id(mounts, 101).optional_fields == ("shared:1", "master:2", "propagate_from:3")
    assert by_id(mounts, 102).optional_fields == ("unbindable",)


def test_octal_escapes_are_decoded():
    mounts = mounts_of("odd-lines.txt")
    assert by_id(mounts, 103).mount_point == "/media/alice/My Disk"
    odd = by_id(mounts, 104)
    assert odd.root == "/dir\twith\ttabs"
    assert odd.mount_point == "/mnt/odd\nname\\x"
    assert odd.source == "none at all"
    assert find_mount(mounts, "/media/alice/My Disk/photo.jpg").mount_id == 103


def test_forty_lowerdirs_and_other_options():
    layers = by_id(mounts_of("odd-lines.txt"), 105).overlay
    assert len(layers.lowerdirs) == 40
    assert all(d.startswith("/var/lib/containers/storage/overlay/l/") for d in layers.lowerdirs)
    assert len(set(layers.lowerdirs)) == 40
    assert layers.other == {"index": "off", "redirect_dir": "on", "xino": "off", "metacopy": "on", "userxattr": None}


def test_escaped_colons_commas_and_data_only_layers():
    layers = by_id(mounts_of("odd-lines.txt"), 106).overlay
    assert layers.lowerdirs == ["/lower/with:colon", "/lower/new:style", "/lower/comma,and space"]
    assert layers.data_lowerdirs == ["/data/only1", "/data/only2"]
    assert (layers.upperdir, layers.workdir) == ("/upper dir", "/work dir")
    assert layers.other == {"volatile": None}


def test_lowerdir_plus_and_datadir_plus():
    layers = by_id(mounts_of("odd-lines.txt"), 107).overlay
    assert layers.lowerdirs == ["/layers/a:b", "/layers/c"]
    assert layers.data_lowerdirs == ["/layers/data"]
    assert layers.upperdir is None and layers.workdir is None


def test_non_overlay_has_no_overlay_options():
    assert by_id(mounts_of("odd-lines.txt"), 100).overlay is None


def test_last_mount_on_the_same_point_wins():
    mounts = mounts_of("odd-lines.txt")
    assert find_mount(mounts, "/mnt/srv/data").mount_id == 108
    assert find_mount(mounts, "/mnt/srvx").mount_id == 100


@pytest.mark.parametrize(
    "bad, what",
    [
        ("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 ext3 /dev/root rw", "separator"),
        ("x 35 98:0 /mnt1 /mnt2 rw - ext3 /dev/root rw", "numbers"),
        ("36 35 98 /mnt1 /mnt2 rw - ext3 /dev/root rw", "numbers"),
        ("36 35 98:0 /mnt1 /mnt2 rw - ext3 /dev/root", "after ' - '"),
        ("garbage", "separator"),
    ],
)
def test_malformed_line_names_line_number(bad: str, what: str):
    text = "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n" + bad + "\n"
    with pytest.raises(ParseError) as caught:
        parse_mountinfo(text)
    assert "line 2" in caught.value.message and what in caught.value.message
    assert caught.value.hint


def test_blank_lines_and_empty_text():
    assert parse_mountinfo("") == []
    assert len(parse_mountinfo("\n1 0 8:1 / / rw - ext4 /dev/sda1 rw\n\n")) == 1


def test_read_mountinfo_from_fixture_proc():
    mounts = read_mountinfo(proc=FIXTURES / "v2-container" / "proc")
    assert root_mount(mounts).mount_id == 1254


def test_read_mountinfo_of_vanished_process():
    with pytest.raises(ProcessLookupError):
        read_mountinfo(99999, proc=FIXTURES / "v2-container" / "proc")


def test_read_mountinfo_real_kernel():
    mounts = read_mountinfo()
    assert root_mount(mounts) is not None
    assert find_mount(mounts, "/proc/self").fs_type == "proc"


def test_filesystems_supported():
    text = (FIXTURES / "proc-filesystems.txt").read_text()
    assert {"overlay", "ext4", "cgroup", "cgroup2", "proc"} <= filesystems_supported(text)
    assert overlay_supported(text)
    assert not overlay_supported("nodev\tsysfs\n\text4\n")
    assert isinstance(read_filesystems(), set)
