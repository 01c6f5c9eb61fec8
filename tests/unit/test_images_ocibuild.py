"""Building image tarballs in pure Python: structure, digests, determinism (docker load is an engine test)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile

import pytest

from containerlab.errors import LabError
from containerlab.images import (
    OPAQUE,
    WHITEOUT,
    Directory,
    File,
    HardLink,
    Layer,
    Step,
    Symlink,
    TarLayer,
    build_image,
    busybox_image,
    layer_tar,
    ocibuild,
    parse_config,
    parse_index,
    parse_manifest,
    read_image,
)
from containerlab.images.manifest import OCI_LAYER, OCI_LAYER_GZIP, OCI_MANIFEST

FAKE_BUSYBOX = b"\x7fELF" + bytes(60) + b"busybox"


def members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: m for m in tar.getmembers()}


def content(data: bytes, name: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.extractfile(name).read()


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_layer_tar_adds_parents_whiteouts_and_puts_hard_links_last():
    tar = layer_tar({"/usr/bin/tool": File(b"x", 0o4755, 10, 20), "usr/lib/old": WHITEOUT, "var/cache": OPAQUE,
                     "usr/bin/alias": HardLink("/usr/bin/tool"), "etc/link": Symlink("../usr/bin/tool"),
                     "home/user": Directory(0o700, 1000, 1000), "etc/motd": "hello\n"})
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        infos = archive.getmembers()
    assert [(i.name, i.type) for i in infos] == [
        ("etc", tarfile.DIRTYPE), ("etc/link", tarfile.SYMTYPE), ("etc/motd", tarfile.REGTYPE),
        ("home", tarfile.DIRTYPE), ("home/user", tarfile.DIRTYPE), ("usr", tarfile.DIRTYPE),
        ("usr/bin", tarfile.DIRTYPE), ("usr/bin/tool", tarfile.REGTYPE), ("usr/lib", tarfile.DIRTYPE),
        ("usr/lib/.wh.old", tarfile.REGTYPE), ("var", tarfile.DIRTYPE), ("var/cache", tarfile.DIRTYPE),
        ("var/cache/.wh..wh..opq", tarfile.REGTYPE), ("usr/bin/alias", tarfile.LNKTYPE)]
    by_name = {i.name: i for i in infos}
    assert (by_name["usr/bin/tool"].mode, by_name["usr/bin/tool"].uid, by_name["usr/bin/tool"].gid) == (0o4755, 10, 20)
    assert by_name["usr/bin/alias"].linkname == "usr/bin/tool" and by_name["etc/link"].linkname == "../usr/bin/tool"
    assert (by_name["home/user"].mode, by_name["home/user"].uid) == (0o700, 1000)
    assert all(i.mtime == 0 and i.uname == "" for i in infos)


@pytest.mark.parametrize("path", ["../escape", "a/../../b", "", "/"])
def test_layer_paths_must_stay_inside(path):
    with pytest.raises(LabError, match="not a path inside the image"):
        layer_tar({path: "x"})


def test_bad_arguments_are_lab_errors():
    with pytest.raises(LabError, match="content of type int"):
        layer_tar({"a": 1})
    with pytest.raises(LabError, match="Unknown layout"):
        build_image([], layout="zip")
    with pytest.raises(LabError, match="Unknown layer compression"):
        build_image([Layer({"a": "1"}, compression="bzip2")])
    with pytest.raises(LabError, match="not an ELF program"):
        busybox_image(b"#!/bin/sh\n")


def test_oci_layout_is_complete_and_self_consistent():
    image = build_image([Layer({"a": "1"}, "COPY a /a"), Step("ENV A=1"),
                         Layer({"b": "2"}, "RUN b", compression="none")],
                        tag="localhost:5000/team/app:2", env=("A=1",), cmd=("sh",), entrypoint=("/init",),
                        working_dir="/srv", user="app", labels={"k": "v"}, architecture="arm64", variant="v8")
    names = members(image.data)
    blobs = {n for n in names if n.startswith("blobs/sha256/") and names[n].isfile()}
    assert {"oci-layout", "index.json", "manifest.json", "blobs", "blobs/sha256"} <= set(names)
    assert len(blobs) == 4  # config, manifest, two layers
    for name in blobs:
        assert sha(content(image.data, name)) == "sha256:" + name.rsplit("/", 1)[1]
    assert json.loads(content(image.data, "oci-layout")) == {"imageLayoutVersion": "1.0.0"}
    index = parse_index(content(image.data, "index.json"))
    [descriptor] = index.manifests
    assert descriptor.media_type == OCI_MANIFEST and descriptor.digest == image.manifest_digest
    assert descriptor.annotations == {"io.containerd.image.name": "localhost:5000/team/app:2",
                                      "org.opencontainers.image.ref.name": "2"}
    manifest_bytes = content(image.data, f"blobs/sha256/{image.manifest_digest[7:]}")
    manifest = parse_manifest(manifest_bytes)
    assert descriptor.size == len(manifest_bytes)
    assert manifest.config.digest == image.config_digest == image.image_id
    assert [layer.media_type for layer in manifest.layers] == [OCI_LAYER_GZIP, OCI_LAYER]
    assert [layer.digest for layer in manifest.layers] == list(image.layer_digests)
    config = parse_config(content(image.data, f"blobs/sha256/{image.config_digest[7:]}"))
    assert config.diff_ids == image.diff_ids and (config.architecture, config.variant) == ("arm64", "v8")
    assert config.created == "1970-01-01T00:00:00Z"
    settings = config.config
    assert (settings.env, settings.cmd, settings.entrypoint, settings.working_dir, settings.user, settings.labels) == (
        ("A=1",), ("sh",), ("/init",), "/srv", "app", {"k": "v"})
    assert [(h.created_by, h.empty_layer) for h in config.history] == [("COPY a /a", False), ("ENV A=1", True),
                                                                        ("RUN b", False)]
    gz = content(image.data, f"blobs/sha256/{image.layer_digests[0][7:]}")
    assert sha(gzip.decompress(gz)) == image.diff_ids[0]
    assert image.layer_digests[1] == image.diff_ids[1]
    assert json.loads(content(image.data, "manifest.json")) == [{
        "Config": f"blobs/sha256/{image.config_digest[7:]}", "RepoTags": ["localhost:5000/team/app:2"],
        "Layers": [f"blobs/sha256/{d[7:]}" for d in image.layer_digests]}]


def test_docker_layout_matches_docker_save():
    image = build_image([Layer({"a": "1"}), Layer({"b": "2"})], tag="busybox", layout="docker")
    names = members(image.data)
    [entry] = json.loads(content(image.data, "manifest.json"))
    assert entry["Config"] == f"{image.config_digest[7:]}.json" and entry["RepoTags"] == ["busybox:latest"]
    first, second = (path.split("/")[0] for path in entry["Layers"])
    assert {f"{first}/VERSION", f"{first}/json", f"{first}/layer.tar", f"{second}/layer.tar"} <= set(names)
    assert json.loads(content(image.data, f"{second}/json")) == {"id": second, "parent": first}
    assert json.loads(content(image.data, "repositories")) == {"busybox": {"latest": second}}
    assert sha(content(image.data, entry["Config"])) == image.config_digest


def test_builds_are_deterministic():
    steps = [Layer({"a": b"1" * 1000, "b": Symlink("a")}), Step("CMD x"), TarLayer(layer_tar({"c": "3"}))]
    first, second = build_image(steps), build_image(steps)
    assert first.data == second.data and first == second
    assert build_image(steps, layout="docker").data == build_image(steps, layout="docker").data
    assert build_image(steps, tag="other:1").config_digest == first.config_digest  # the tag is not in the config


def test_write(tmp_path):
    image = build_image([{"a": "1"}])
    path = image.write(tmp_path / "x.tar")
    assert path.read_bytes() == image.data and read_image(path).diff_ids == image.diff_ids


def test_busybox_image_mirrors_the_lab_image():
    image = busybox_image(FAKE_BUSYBOX, tag="containerlab/busybox:ocibuild", labels={"containerlab.lesson": "x"},
                          applets=("sh", "ls", "busybox"))
    report = read_image(image.data)
    assert report.tags == ("containerlab/busybox:ocibuild",)
    assert [layer.instruction for layer in report.layers] == [
        "COPY busybox /bin/busybox", "RUN /bin/busybox --install -s /bin", "COPY etc/ /etc/",
        "RUN /bin/mkdir -p /tmp /root /home /var /proc /sys /dev"]
    assert [h.instruction for h in report.history[4:]] == ["ENV PATH=/bin", 'CMD ["sh"]']
    assert report.layers[0].entries[1].mode == 0o755 and report.layers[0].files_size == len(FAKE_BUSYBOX)
    assert report.layers[1].symlinks == {"bin/ls": "/bin/busybox", "bin/sh": "/bin/busybox"}
    assert content(image.data, f"blobs/sha256/{report.layers[2].digest[7:]}")  # etc layer stored
    assert report.config.config.env == ("PATH=/bin",) and report.config.config.cmd == ("sh",)
    assert report.config.config.labels == {"containerlab.lesson": "x"}


@pytest.mark.parametrize("machine, expected", [("x86_64", ("amd64", "")), ("aarch64", ("arm64", "")),
                                               ("armv7l", ("arm", "v7")), ("riscv64", ("riscv64", ""))])
def test_host_architecture_in_oci_terms(monkeypatch, machine, expected):
    monkeypatch.setattr(ocibuild.platform, "machine", lambda: machine)
    assert ocibuild.host_architecture() == expected
    config = build_image([{"a": "1"}]).config
    assert (config["architecture"], config.get("variant", "")) == expected
