"""Pure overlay logic on facts recorded from a real container: which lowerdir is which image layer,
whiteouts from stat results, and an upper dir's changes agreeing with `docker diff`."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from containerlab.errors import ParseError
from containerlab.kernel.mountinfo import parse_mountinfo, root_mount
from containerlab.kernel.overlay import (
    ChangeCounts,
    ImageLayer,
    LayerEntry,
    diff_changes,
    entry_kind,
    history_label,
    image_layer_dirs,
    image_layers,
    is_whiteout,
    layer_change_counts,
    map_lowerdirs,
    merged_paths,
    upper_changes,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "overlay"
LABELS = ["COPY /bin/busybox", "RUN /bin/busybox --install -s /bin", "COPY /etc/",
          "RUN /bin/mkdir -p /tmp /root /home /var /proc /sys /dev", "COPY /etc/motd",
          "RUN mkdir -p /srv/www && echo '<h1>hello from a layer</h1>' > /srv/www/index.html", "COPY /opt/app/"]


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


def entries(rows: list[dict]) -> list[LayerEntry]:
    return [LayerEntry(row["path"], row["kind"], row["opaque"]) for row in rows]


@pytest.fixture(scope="module")
def layers() -> list[ImageLayer]:
    return image_layers(load("image-config.json"), load("image-history.json"))


@pytest.fixture(scope="module")
def mount():
    return root_mount(parse_mountinfo((FIXTURES / "container-mountinfo.txt").read_text()))


def test_image_layers_pair_history_with_layers(layers):
    inspect = load("image-inspect.json")
    assert [layer.diff_id for layer in layers] == inspect["RootFS"]["Layers"]
    assert [layer.label for layer in layers] == LABELS
    assert [layer.index for layer in layers] == list(range(7))
    assert layers[0].size > 1_000_000 and layers[3].size == 0


def test_image_layers_without_sizes_and_with_bad_input():
    config = load("image-config.json")
    assert all(layer.size is None for layer in image_layers(config))
    with pytest.raises(ParseError, match="history"):
        image_layers(config, load("image-history.json")[1:])
    with pytest.raises(ParseError, match="diff_ids"):
        image_layers({"history": []})
    broken = {**config, "rootfs": {"diff_ids": config["rootfs"]["diff_ids"][1:]}}
    with pytest.raises(ParseError, match="6 layers but 7"):
        image_layers(broken)
    bare = image_layers({"rootfs": {"diff_ids": ["sha256:a", "sha256:b"]}})
    assert [layer.label for layer in bare] == ["(no instruction recorded)"] * 2


@pytest.mark.parametrize("created_by, comment, label", [
    ("/bin/sh -c #(nop) COPY file:73e2b2d48642b21b in /bin/busybox ", "", "COPY /bin/busybox"),
    ("/bin/sh -c #(nop) ADD multi:0a1b2c3d in /app/ ", "", "ADD /app/"),
    ("/bin/sh -c #(nop)  CMD [\"sh\"]", "", 'CMD ["sh"]'),
    ("/bin/sh -c apt-get   update", "", "RUN apt-get update"),
    ("|2 VERSION=1 USER=x /bin/sh -c make install", "", "RUN make install"),
    ("/bin/busybox --install -s /bin", "", "RUN /bin/busybox --install -s /bin"),
    ("RUN /bin/sh -c echo hi # buildkit", "buildkit.dockerfile.v0", "RUN echo hi"),
    ("COPY motd /etc/motd # buildkit", "buildkit.dockerfile.v0", "COPY motd /etc/motd"),
    ("", "Imported from -", "import"),
    ("", "", "(no instruction recorded)"),
])
def test_history_label(created_by, comment, label):
    assert history_label(created_by, comment) == label


def test_image_layer_dirs_bottom_first():
    data = load("image-inspect.json")["GraphDriver"]["Data"]
    dirs = image_layer_dirs(load("image-inspect.json")["GraphDriver"])
    assert len(dirs) == 7 and dirs[-1] == data["UpperDir"] and dirs[0] == data["LowerDir"].split(":")[-1]
    with pytest.raises(ParseError, match="overlay"):
        image_layer_dirs({"Name": "vfs", "Data": None})


def test_lowerdirs_map_to_the_image_layers_plus_init(layers, mount):
    lowerdirs = mount.overlay.lowerdirs
    mapped = map_lowerdirs(lowerdirs, image_layer_dirs(load("image-inspect.json")["GraphDriver"]), layers,
                           load("links.json"))
    assert len(mapped) == len(layers) + 1
    assert [lower.role for lower in mapped] == ["init"] + ["image"] * 7
    assert [lower.layer.index for lower in mapped[1:]] == [6, 5, 4, 3, 2, 1, 0]
    assert all(lower.via_link and "/l/" in lower.mounted_as for lower in mapped)
    assert mapped[0].path.endswith("-init/diff")
    assert mapped[0].describe() == "init layer (made by the engine for this container)"
    assert mapped[3].describe() == "image layer 5: COPY /etc/motd"
    container = load("container-inspect.json")["GraphDriver"]["Data"]
    assert [lower.path for lower in mapped] == container["LowerDir"].split(":")
    assert mount.overlay.upperdir == container["UpperDir"]


def test_unresolved_links_are_not_mistaken_for_layers(layers, mount):
    dirs = image_layer_dirs(load("image-inspect.json")["GraphDriver"])
    mapped = map_lowerdirs(mount.overlay.lowerdirs, dirs, layers)
    assert [lower.role for lower in mapped] == ["init"] + ["unknown"] * 7
    assert mapped[1].describe() == "not an image layer"
    with pytest.raises(ParseError, match="6 layer directories for 7"):
        map_lowerdirs(mount.overlay.lowerdirs, dirs[1:], layers)


def test_whiteouts_from_stat_results():
    whiteout = stat.S_IFCHR
    assert is_whiteout(whiteout, os.makedev(0, 0))
    assert not is_whiteout(whiteout, os.makedev(1, 3))
    assert not is_whiteout(stat.S_IFREG | 0o644, 0)
    assert not is_whiteout(stat.S_IFBLK, os.makedev(0, 0))
    assert entry_kind(whiteout, os.makedev(0, 0)) == "whiteout"
    assert entry_kind(whiteout, os.makedev(1, 3)) == "device"
    assert [entry_kind(mode) for mode in (stat.S_IFDIR, stat.S_IFREG, stat.S_IFLNK, stat.S_IFIFO)] == [
        "dir", "file", "symlink", "other"]


def test_upper_dir_changes_agree_with_docker_diff():
    recorded = load("layer-entries.json")
    below = merged_paths([entries(layer) for layer in recorded["lower_bottom_first"]])
    assert "/etc/motd" in below and "/bin/busybox" in below and "/tmp/hello" not in below
    changes = upper_changes(entries(recorded["upper"]), below)
    assert changes == diff_changes(load("docker-diff.json"))
    assert [str(c) for c in changes] == ["C /etc", "D /etc/motd", "C /srv", "C /srv/www", "C /srv/www/index.html",
                                         "C /tmp", "A /tmp/hello"]


def test_change_counts_per_layer():
    recorded = load("layer-entries.json")
    counts = layer_change_counts([*(entries(layer) for layer in recorded["lower_bottom_first"]),
                                  entries(recorded["upper"])])
    assert counts[-1] == ChangeCounts(added=1, changed=1, deleted=1)
    assert counts[4:7] == [ChangeCounts(1), ChangeCounts(1), ChangeCounts(2)]
    assert str(counts[-1]) == "+1 ~1 \N{MINUS SIGN}1" and str(ChangeCounts()) == "no files"


def test_whiteouts_and_opaque_dirs_hide_what_is_below():
    lower1 = [LayerEntry("docs", "dir"), LayerEntry("docs/a", "file"), LayerEntry("docs/b", "file"),
              LayerEntry("etc", "dir"), LayerEntry("etc/motd", "file")]
    lower2 = [LayerEntry("app", "file")]
    upper = [LayerEntry("app", "whiteout"), LayerEntry("docs", "dir", opaque=True), LayerEntry("docs/new", "file"),
             LayerEntry("etc", "dir"), LayerEntry("etc/motd", "file")]
    counts = layer_change_counts([lower1, lower2, upper])
    assert counts == [ChangeCounts(3), ChangeCounts(1), ChangeCounts(added=1, changed=1, deleted=1)]
    assert merged_paths([lower1, lower2, upper]) == {"/docs", "/docs/new", "/etc", "/etc/motd"}
    gone_dir = merged_paths([lower1, [LayerEntry("docs", "whiteout")]])
    assert gone_dir == {"/etc", "/etc/motd"}


def test_layer_entry_shown():
    assert LayerEntry("a", "file", text="hi").shown == "'hi'"
    assert LayerEntry("a", "file").shown == "file"
    assert LayerEntry("d", "dir", opaque=True).shown == "opaque dir"
    assert LayerEntry("w", "whiteout").shown == "whiteout c 0/0"


def test_bad_diff_entries():
    with pytest.raises(ParseError):
        diff_changes([{"Path": "/x", "Kind": 7}])
    assert diff_changes(None) == []
