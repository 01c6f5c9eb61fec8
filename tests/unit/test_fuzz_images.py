"""Fuzzed image input: references, digests, manifests, configs, indexes, image tarballs (truncated,
bit-flipped, wrong digests, hostile entry names and links) and Dockerfiles.

Every reader returns its model or raises the course's own error (ParseError, DigestMismatchError,
InvalidReferenceError: all LabErrors) with a hint; extract_layer never writes outside its target.
"""

from __future__ import annotations

import functools
import io
import json
import tarfile
from pathlib import Path

from fuzz_support import FUZZ, FUZZ_SLOW, any_text, mutations, returns_or_lab_error, snapshot
from hypothesis import example, given
from hypothesis import strategies as st

from containerlab.errors import LabError
from containerlab.images import (
    HistoryEntry,
    Layer,
    Step,
    Symlink,
    TarLayer,
    build_image,
    extract_layer,
    parse_archive_manifest,
    parse_config,
    parse_digest,
    parse_document,
    parse_index,
    parse_manifest,
    parse_reference,
    read_images,
    verify_digest,
)
from containerlab.images.dockerfile import lint, map_to_history, parse_dockerfile
from containerlab.images.ocibuild import WHITEOUT

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "images"
DOCUMENTS = sorted(FIXTURES.glob("*.json"))

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2, 2**64), st.floats(allow_nan=False),
                         st.text(max_size=12), st.sampled_from(["sha256:" + "a" * 64, "sha256:xyz", "application/"
                                                                "vnd.oci.image.manifest.v1+json", "amd64", "linux"]))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(
        ["schemaVersion", "mediaType", "config", "layers", "manifests", "digest", "size", "rootfs", "diff_ids",
         "history", "platform", "architecture", "os", "Config", "RepoTags", "Layers", "created_by", "x"]),
        inner, max_size=5)), max_leaves=15)
damaged_documents = st.sampled_from([path.read_text() for path in DOCUMENTS]).flatmap(mutations)


def test_the_fixtures_are_there():
    assert len(DOCUMENTS) >= 5


@FUZZ
@given(st.one_of(any_text, st.text(st.sampled_from(list("abc019:/@._-AZ")), max_size=80),
                 st.sampled_from(["localhost:5000/a/b:1@sha256:" + "a" * 64, "UPPER/case", "a" * 300, "@sha256:"])))
def test_references(text):
    returns_or_lab_error(parse_reference, text)


@FUZZ
@given(st.one_of(any_text, st.builds(lambda algo, hexa: f"{algo}:{hexa}", st.sampled_from(["sha256", "sha512", "", "md5"]),
                                     st.text("0123456789abcdefG", max_size=70))), st.binary(max_size=40))
def test_digests(text, data):
    returns_or_lab_error(parse_digest, text)
    returns_or_lab_error(verify_digest, data, text)


@FUZZ
@given(st.one_of(json_values.filter(lambda value: isinstance(value, dict)), damaged_documents, st.binary(max_size=60),
                 json_values.map(json.dumps)))
@example(b"\xff\xfe")
@example('{"schemaVersion": 2, "layers": [{"digest": "sha256:' + "a" * 64 + '", "size": -1}]}')
def test_image_documents(document):
    """Documents arrive as bytes or text (a registry, a tarball) or as an already parsed JSON object."""
    for reader in (parse_manifest, parse_config, parse_index, parse_document):
        returns_or_lab_error(reader, document)
    if isinstance(document, (str, bytes)):
        returns_or_lab_error(parse_archive_manifest, document)


@FUZZ
@given(st.one_of(json_values, st.sampled_from([None, "text/plain", "application/vnd.oci.image.index.v1+json"])))
def test_documents_with_a_stated_media_type(media_type):
    document = (FIXTURES / "oci-manifest-amd64.json").read_text()
    returns_or_lab_error(parse_document, document, media_type if isinstance(media_type, str) or media_type is None
                         else str(media_type))


# -- image tarballs ----------------------------------------------------------------------------

@functools.cache
def _tarballs() -> dict[str, bytes]:
    """Two small real image tarballs (OCI layout and docker save), made once."""
    steps = [Layer({"etc/motd": "hi\n", "bin/sh": b"\x7fELF" + b"x" * 100, "d/a": "a"}, "COPY . /"),
             Step("ENV A=b"),
             Layer({"etc/motd": WHITEOUT, "link": Symlink("/etc"), "d/b": "b"}, "RUN change", compression="none")]
    return {layout: build_image(steps, tag="localhost/fuzz:1", layout=layout).data for layout in ("oci", "docker")}


@FUZZ_SLOW
@given(st.sampled_from(["oci", "docker"]), st.sampled_from(["truncate", "flip", "splice"]), st.data())
def test_damaged_image_tarballs(layout, how, data):
    good = _tarballs()[layout]
    at = data.draw(st.integers(0, len(good) - 1))
    if how == "truncate":
        damaged = good[:at]
    elif how == "flip":
        damaged = good[:at] + bytes([good[at] ^ data.draw(st.integers(1, 255))]) + good[at + 1:]
    else:
        damaged = good[:at] + data.draw(st.binary(min_size=1, max_size=600)) + good[at:]
    for verify in (True, False):
        returns_or_lab_error(read_images, damaged, verify=verify)


def _raw_tar(members: list[tuple[str, str, str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for name, kind, target, content in members:
            info = tarfile.TarInfo(name)
            info.type = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
                         "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE, "chardev": tarfile.CHRTYPE}[kind]
            info.linkname = target
            info.size = len(content) if kind == "file" else 0
            info.mode = 0o4755 if name.endswith("suid") else 0o644
            archive.addfile(info, io.BytesIO(content) if kind == "file" else None)
    return buffer.getvalue()


hostile_names = st.sampled_from(["../escaped", "/abs/escaped", "a/../../escaped", "./ok", "ok", "dir/", "link",
                                 "link/inner", "link/../../escaped", "hard", "dev/null", ".wh.ok", "d/.wh..wh..opq",
                                 "suid", "ok/child", "", "."])
kinds = st.sampled_from(["file", "dir", "symlink", "hardlink", "fifo", "chardev"])
targets = st.sampled_from(["/", "..", "../..", "../../escaped", "/etc/passwd", "ok", "link", "hard", "missing"])


@FUZZ_SLOW
@given(st.lists(st.tuples(hostile_names, kinds, targets, st.binary(max_size=20)), min_size=1, max_size=6),
       st.sampled_from(["oci", "docker"]))
@example([("link", "symlink", "..", b""), ("link/escaped", "file", "", b"x")], "oci")
@example([("link", "symlink", "/", b""), ("link/tmp/x", "file", "", b"x")], "docker")
@example([("hard", "hardlink", "../../escaped", b"")], "oci")
@example([("ok", "file", "", b"x"), ("ok/child", "file", "", b"y")], "oci")
def test_hostile_layers_are_refused_or_extracted_inside(tmp_path_factory, members, layout):
    tarball = build_image([TarLayer(_raw_tar(members), "ADD rootfs.tar /", compression="none")],
                          tag="localhost/hostile:1", layout=layout).data
    images = returns_or_lab_error(read_images, tarball)
    if isinstance(images, LabError):
        return
    jail = tmp_path_factory.mktemp("jail")
    (jail / "beside.txt").write_text("must stay")
    before = {path: kind for path, kind in snapshot(jail).items() if not path.startswith("rootfs")}
    for image in images:
        for layer in image.layers:
            returns_or_lab_error(extract_layer, tarball, layer, jail / "rootfs")
    after = {path: kind for path, kind in snapshot(jail).items() if not path.startswith("rootfs")}
    assert after == before, f"extract_layer wrote outside its target: {set(after) ^ set(before)}"
    assert (jail / "beside.txt").read_text() == "must stay"


# -- Dockerfiles -------------------------------------------------------------------------------

DOCKERFILE = """\
# syntax=docker/dockerfile:1
ARG BASE=containerlab/busybox
FROM ${BASE} AS build
ENV A=1 B="two words"
RUN mkdir -p /srv && \\
    echo hi > /srv/x
COPY --chown=1:1 app/ /opt/app/
FROM scratch
COPY --from=build /srv /srv
RUN <<EOF
echo heredoc
EOF
LABEL a=b
CMD ["sh", "-c", "echo $A"]
"""
DOCKER_TOKENS = st.one_of(st.sampled_from(list("abcAZ019 $\\{}[]\"'=:-/#\n\t<")), st.sampled_from(
    ["FROM ", "RUN ", "COPY ", "ADD ", "ENV ", "ARG ", "LABEL ", "CMD ", "ENTRYPOINT ", "WORKDIR ", "USER ",
     "ONBUILD ", "HEALTHCHECK ", "SHELL ", "--from=", "--mount=type=cache,target=/x ", " AS ", "<<EOF\n", "EOF\n",
     "${A:-b}", "${A:+x}", "${A?}", "\\\n", "# escape=`\n", '["a", ', "scratch\n"]))
dockerfile_text = st.lists(DOCKER_TOKENS, max_size=80).map("".join)


@FUZZ
@given(st.one_of(dockerfile_text, mutations(DOCKERFILE), any_text),
       st.dictionaries(st.sampled_from(["BASE", "A"]), st.text(max_size=6), max_size=2))
@example("FROM a\nRUN <<EOF", {})
@example("# escape=x\nFROM a", {})
def test_dockerfiles(text, build_args):
    parsed = returns_or_lab_error(parse_dockerfile, text, build_args=build_args)
    if isinstance(parsed, LabError):
        return
    returns_or_lab_error(lint, parsed)
    history = [HistoryEntry(created_by=f"/bin/sh -c #(nop) {word}", empty_layer=word.startswith("ENV"))
               for word in ("ENV A=1", "RUN mkdir -p /srv", "COPY dir:abc in /srv")]
    returns_or_lab_error(map_to_history, parsed, history)
