"""OCI / Docker manifests, indexes and configs from recorded JSON; digests; history -> layers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from containerlab.errors import DigestMismatchError, LabError, ParseError
from containerlab.images.manifest import (
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    MANIFEST_ACCEPT,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_LAYER_ZSTD,
    OCI_MANIFEST,
    HistoryEntry,
    ImageIndex,
    ImageManifest,
    Platform,
    instruction_of,
    layer_compression,
    layer_history,
    parse_archive_manifest,
    parse_config,
    parse_digest,
    parse_document,
    parse_index,
    parse_manifest,
    sha256_digest,
    verify_digest,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "images"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_digest_helpers():
    assert sha256_digest(b"") == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert verify_digest(b"", sha256_digest(b""), what="empty blob") == sha256_digest(b"")
    with pytest.raises(DigestMismatchError, match="The manifest does not match its digest") as caught:
        verify_digest(b"x", sha256_digest(b"y"), what="manifest")
    assert caught.value.expected == sha256_digest(b"y") and caught.value.actual == sha256_digest(b"x")
    assert isinstance(caught.value, LabError) and caught.value.hint
    assert parse_digest("sha256:" + "a" * 64) == ("sha256", "a" * 64)
    for bad in ("sha256:" + "A" * 64, "sha256:abc", "md5", "", "sha256:" + "a" * 63):
        with pytest.raises(ParseError, match="digest"):
            parse_digest(bad)
    with pytest.raises(ParseError, match="does not check"):
        verify_digest(b"", "blake3:" + "a" * 64)


def test_oci_index_from_a_registry():
    index = parse_index(fixture("oci-index.json"))
    assert isinstance(index, ImageIndex) and index.media_type == OCI_INDEX and not index.is_docker
    assert index.schema_version == 2
    assert index.platforms == ["linux/amd64", "linux/arm64/v8", "linux/arm/v7", "unknown/unknown"]
    amd64 = index.for_platform("linux", "amd64")
    assert amd64.digest == sha256_digest(fixture("oci-manifest-amd64.json"))
    assert amd64.size == len(fixture("oci-manifest-amd64.json")) and amd64.short_digest == amd64.digest[7:19]
    assert index.for_platform("linux", "arm", "v7").platform == Platform("linux", "arm", "v7")
    assert index.manifests[3].annotations["vnd.docker.reference.type"] == "attestation-manifest"
    with pytest.raises(ParseError, match="no manifest for linux/s390x"):
        index.for_platform("linux", "s390x")


def test_oci_manifest_and_config_chain_verifies():
    raw = fixture("oci-manifest-amd64.json")
    manifest = parse_manifest(raw)
    assert isinstance(manifest, ImageManifest) and manifest.media_type == OCI_MANIFEST and not manifest.is_docker
    assert manifest.config.media_type == OCI_CONFIG
    verify_digest(fixture("oci-config-amd64.json"), manifest.config.digest, what="config")
    assert [layer.media_type for layer in manifest.layers] == [OCI_LAYER_GZIP] * 4
    assert manifest.layers_size == 29150000 + 3512000 + 2310 + 93
    assert manifest.annotations == {"org.opencontainers.image.created": "2024-05-14T19:02:31Z"}
    assert manifest.subject is None and manifest.artifact_type == ""


def test_oci_config_history_maps_to_layers():
    config = parse_config(fixture("oci-config-amd64.json"))
    assert (config.architecture, config.os, config.variant) == ("amd64", "linux", "")
    assert str(config.platform) == "linux/amd64"
    assert config.created == "2024-05-14T19:02:31.503224133Z"
    settings = config.config
    assert settings.user == "app" and settings.working_dir == "/app" and settings.cmd == ("python3",)
    assert settings.entrypoint is None and settings.exposed_ports == ("8000/tcp",)
    assert settings.env_map["PYTHON_VERSION"] == "3.11.9" and settings.labels
    assert len(config.history) == 9 and len(config.diff_ids) == 4
    made = config.layer_history()
    assert [entry.instruction for entry in made] == [
        "ADD file:ac3b3fd8f5f6a1e2f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5 in /",
        "RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && "
        "rm -rf /var/lib/apt/lists/*",
        "COPY app/ /app/",
        "WORKDIR /app",
    ]
    assert [entry.keyword for entry in config.history] == ["ADD", "CMD", "ENV", "RUN", "COPY", "WORKDIR", "USER",
                                                           "EXPOSE", "CMD"]
    assert [entry.empty_layer for entry in config.history].count(True) == 5
    assert config.history[2].comment == "buildkit.dockerfile.v0"


def test_recorded_docker_configs():
    busybox = parse_config(fixture("docker-busybox-config.json"))
    assert busybox.config.env == ("PATH=/bin",) and busybox.config.cmd == ("sh",)
    assert busybox.config.labels["containerlab.base"] == "true"
    assert [entry.instruction for entry in busybox.layer_history()] == [
        "COPY file:73e2b2d48642b21b357384b0cb81c1869cc5e0c48a00f61553756196058304b9 in /bin/busybox",
        "RUN /bin/busybox --install -s /bin",
        "COPY dir:7eedafa3e53b8ae6a196ed8eb6ed82a8bc07fd85620cde197c158b1fee5efa75 in /etc/",
        "RUN /bin/mkdir -p /tmp /root /home /var /proc /sys /dev",
    ]
    debian = parse_config(fixture("docker-debian-config.json"))
    made = debian.layer_history()
    assert len(made) == 1 and made[0].created_by == "" and made[0].comment == "Imported from -"
    assert made[0].instruction == "" and made[0].keyword == ""
    assert [entry.instruction for entry in debian.history[1:3]] == ["ENV LANG=C.UTF-8", 'CMD ["bash"]']


def test_docker_manifest_list_and_schema2_manifest():
    listing = parse_index(fixture("docker-manifest-list.json"))
    assert listing.is_docker and listing.media_type == DOCKER_MANIFEST_LIST
    windows = listing.manifests[2].platform
    assert windows.os == "windows" and windows.os_version == "10.0.17763.5820"
    amd64 = listing.for_platform("linux", "amd64")
    verify_digest(fixture("docker-manifest-v2.json"), amd64.digest)
    manifest = parse_manifest(fixture("docker-manifest-v2.json"))
    assert manifest.is_docker and manifest.media_type == DOCKER_MANIFEST
    assert [layer.media_type for layer in manifest.layers] == [DOCKER_LAYER_GZIP] * 2


def test_parse_document_tells_kinds_apart():
    assert isinstance(parse_document(fixture("oci-index.json")), ImageIndex)
    assert isinstance(parse_document(fixture("docker-manifest-v2.json")), ImageManifest)
    no_media_type = json.loads(fixture("oci-manifest-amd64.json"))
    del no_media_type["mediaType"]
    assert isinstance(parse_document(json.dumps(no_media_type)), ImageManifest)
    assert isinstance(parse_document(fixture("docker-manifest-list.json"), DOCKER_MANIFEST_LIST), ImageIndex)
    with pytest.raises(ParseError, match="schema 1"):
        parse_document(fixture("docker-manifest-v1.json"))
    with pytest.raises(ParseError, match="neither an image index nor an image manifest"):
        parse_document(b'{"schemaVersion": 2, "mediaType": "application/vnd.cncf.helm.config.v1+json"}')
    assert "application/vnd.oci.image.index.v1+json" in MANIFEST_ACCEPT and DOCKER_MANIFEST in MANIFEST_ACCEPT


def _edited(name: str, edit) -> str:
    document = json.loads(fixture(name))
    edit(document)
    return json.dumps(document)


@pytest.mark.parametrize("name, edit, message", [
    ("oci-manifest-amd64.json", lambda d: d["layers"][2].update(digest="sha256:xyz"),
     r"manifest\.layers\[2\]\.digest is not a valid sha256 digest"),
    ("oci-manifest-amd64.json", lambda d: d["layers"][1].update(size="12"), r"manifest\.layers\[1\]\.size must be an integer"),
    ("oci-manifest-amd64.json", lambda d: d["layers"][0].update(size=-1), r"size must not be negative"),
    ("oci-manifest-amd64.json", lambda d: d["layers"][0].update(size=True), r"size must be an integer"),
    ("oci-manifest-amd64.json", lambda d: d.pop("config"), r"manifest\.config is missing"),
    ("oci-manifest-amd64.json", lambda d: d.update(schemaVersion=3), r"schemaVersion must be 2"),
    ("oci-manifest-amd64.json", lambda d: d.update(mediaType=OCI_INDEX), r"mediaType is .*expected one of"),
    ("oci-manifest-amd64.json", lambda d: d["layers"].append("oops"), r"manifest\.layers\[4\] must be an object"),
    ("oci-manifest-amd64.json", lambda d: d["config"].update(annotations={"a": 1}), r"annotations\['a'\]"),
])
def test_manifest_validation_names_the_field(name, edit, message):
    with pytest.raises(ParseError, match=message):
        parse_manifest(_edited(name, edit))


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["manifests"][1]["platform"].pop("architecture"), r"index\.manifests\[1\]\.platform\.architecture"),
    (lambda d: d.update(manifests={}), r"index\.manifests must be a list"),
    (lambda d: d["manifests"][0].pop("digest"), r"index\.manifests\[0\]\.digest is missing"),
])
def test_index_validation_names_the_field(edit, message):
    with pytest.raises(ParseError, match=message):
        parse_index(_edited("oci-index.json", edit))


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.pop("rootfs"), r"config\.rootfs is missing"),
    (lambda d: d["rootfs"].update(type="zfs"), r"rootfs\.type must be 'layers'"),
    (lambda d: d["rootfs"]["diff_ids"].__setitem__(1, "nope"), r"rootfs\.diff_ids\[1\] is not a digest"),
    (lambda d: d["history"][3].update(empty_layer="yes"), r"history\[3\]\.empty_layer must be true or false"),
    (lambda d: d["config"].update(Env="A=b"), r"config\.config\.Env must be a list"),
    (lambda d: d.pop("architecture"), r"config\.architecture is missing"),
])
def test_config_validation_names_the_field(edit, message):
    with pytest.raises(ParseError, match=message):
        parse_config(_edited("oci-config-amd64.json", edit))


@pytest.mark.parametrize("data", [b"", b"{", b"[]", b"\xff\xfe", b"[" * 100000 + b"]" * 100000, b"42"])
def test_broken_json_is_a_parse_error(data):
    for parser in (parse_manifest, parse_index, parse_config, parse_document):
        with pytest.raises(ParseError):
            parser(data)


def test_docker_save_manifest():
    [entry] = parse_archive_manifest(fixture("docker-save-manifest.json"))
    assert entry.repo_tags == ("containerlab/busybox:latest",)
    assert entry.config == "2f7126b2c1a708f18aae753b533caa7ba2029c8de8eb18de06da588fc5f057a1.json"
    assert len(entry.layers) == 4 and all(layer.endswith("/layer.tar") for layer in entry.layers)
    with pytest.raises(ParseError, match=r"manifest\.json\[0\]\.Layers is missing"):
        parse_archive_manifest(b'[{"Config": "x.json"}]')
    with pytest.raises(ParseError, match="must be a JSON list"):
        parse_archive_manifest(b"{}")


@pytest.mark.parametrize("created_by, instruction", [
    ('/bin/sh -c #(nop)  CMD ["sh"]', 'CMD ["sh"]'),
    ("/bin/sh -c #(nop) COPY file:abc in /bin/busybox ", "COPY file:abc in /bin/busybox"),
    ("/bin/sh -c apt-get update", "RUN apt-get update"),
    ("|1 VERSION=1.2 /bin/sh -c make install", "RUN make install"),
    ("|2 A=1 B=2 /bin/sh -c echo $A", "RUN echo $A"),
    ("/bin/busybox --install -s /bin", "RUN /bin/busybox --install -s /bin"),
    ("RUN /bin/sh -c apt-get update # buildkit", "RUN apt-get update"),
    ("RUN |1 TOKEN=abc /bin/sh -c echo hi # buildkit", "RUN echo hi"),
    ("RUN /bin/busybox true # buildkit", "RUN /bin/busybox true"),
    ("COPY busybox /bin/busybox # buildkit", "COPY busybox /bin/busybox"),
    ("WORKDIR /app", "WORKDIR /app"),
    ("", ""),
])
def test_instruction_of_history(created_by, instruction):
    assert instruction_of(created_by) == instruction
    assert HistoryEntry(created_by=created_by).instruction == instruction


def test_layer_history_skips_empty_layers_and_tolerates_short_histories():
    history = [HistoryEntry(created_by="ADD x /"), HistoryEntry(created_by="ENV A=b", empty_layer=True),
               HistoryEntry(created_by="RUN make")]
    assert [e.created_by if e else None for e in layer_history(history, 2)] == ["ADD x /", "RUN make"]
    assert [e.created_by if e else None for e in layer_history(history, 3)] == ["ADD x /", "RUN make", None]
    assert layer_history(history, 1)[0].created_by == "ADD x /"
    assert layer_history([], 2) == [None, None]


def test_layer_compression():
    assert layer_compression(OCI_LAYER_GZIP) == layer_compression(DOCKER_LAYER_GZIP) == "gzip"
    assert layer_compression(OCI_LAYER_ZSTD) == "zstd"
    assert layer_compression("application/vnd.oci.image.layer.v1.tar") == "none"
    assert layer_compression("text/plain") == "unknown"
