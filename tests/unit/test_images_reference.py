"""Image references, normalised as Docker / Distribution do."""

from __future__ import annotations

import pytest

from containerlab.errors import InvalidReferenceError, ParseError
from containerlab.images.reference import Reference, parse_reference

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize("text, registry, repository, tag, digest, canonical, familiar", [
    ("busybox", "docker.io", "library/busybox", "latest", None, "docker.io/library/busybox:latest", "busybox:latest"),
    ("busybox:1.36", "docker.io", "library/busybox", "1.36", None, "docker.io/library/busybox:1.36", "busybox:1.36"),
    ("library/busybox", "docker.io", "library/busybox", "latest", None, "docker.io/library/busybox:latest",
     "busybox:latest"),
    ("docker.io/busybox", "docker.io", "library/busybox", "latest", None, "docker.io/library/busybox:latest",
     "busybox:latest"),
    ("index.docker.io/library/debian:bookworm", "docker.io", "library/debian", "bookworm", None,
     "docker.io/library/debian:bookworm", "debian:bookworm"),
    ("jupyter/base-notebook", "docker.io", "jupyter/base-notebook", "latest", None,
     "docker.io/jupyter/base-notebook:latest", "jupyter/base-notebook:latest"),
    ("docker.io/library/a/b", "docker.io", "library/a/b", "latest", None, "docker.io/library/a/b:latest",
     "library/a/b:latest"),
    ("localhost/app", "localhost", "app", "latest", None, "localhost/app:latest", "localhost/app:latest"),
    ("localhost:5000/app:1.0", "localhost:5000", "app", "1.0", None, "localhost:5000/app:1.0",
     "localhost:5000/app:1.0"),
    ("127.0.0.1:5000/team/app", "127.0.0.1:5000", "team/app", "latest", None, "127.0.0.1:5000/team/app:latest",
     "127.0.0.1:5000/team/app:latest"),
    ("[::1]:5000/app:v2", "[::1]:5000", "app", "v2", None, "[::1]:5000/app:v2", "[::1]:5000/app:v2"),
    ("ghcr.io/owner/repo/sub:v1.2.3-rc_1", "ghcr.io", "owner/repo/sub", "v1.2.3-rc_1", None,
     "ghcr.io/owner/repo/sub:v1.2.3-rc_1", "ghcr.io/owner/repo/sub:v1.2.3-rc_1"),
    ("Registry.Example.com/app", "Registry.Example.com", "app", "latest", None, "Registry.Example.com/app:latest",
     "Registry.Example.com/app:latest"),
    ("Foo/bar", "Foo", "bar", "latest", None, "Foo/bar:latest", "Foo/bar:latest"),
    (f"busybox@{DIGEST}", "docker.io", "library/busybox", None, DIGEST, f"docker.io/library/busybox@{DIGEST}",
     f"busybox@{DIGEST}"),
    (f"busybox:1.36@{DIGEST}", "docker.io", "library/busybox", "1.36", DIGEST,
     f"docker.io/library/busybox:1.36@{DIGEST}", f"busybox:1.36@{DIGEST}"),
    (f"localhost:5000/app@{DIGEST}", "localhost:5000", "app", None, DIGEST, f"localhost:5000/app@{DIGEST}",
     f"localhost:5000/app@{DIGEST}"),
    ("localhost:5000", "docker.io", "library/localhost", "5000", None, "docker.io/library/localhost:5000",
     "localhost:5000"),
    ("a__b.c-d---e", "docker.io", "library/a__b.c-d---e", "latest", None, "docker.io/library/a__b.c-d---e:latest",
     "a__b.c-d---e:latest"),
])
def test_references_normalise_like_docker(text, registry, repository, tag, digest, canonical, familiar):
    reference = parse_reference(text)
    assert (reference.registry, reference.repository, reference.tag, reference.digest) == (
        registry, repository, tag, digest)
    assert str(reference) == canonical
    assert reference.familiar == familiar
    assert parse_reference(canonical) == reference


@pytest.mark.parametrize("text, part, fragment", [
    ("", "repository", "empty"),
    ("Busybox", "repository", "'Busybox' must be lowercase"),
    ("team/App", "repository", "'team/App' must be lowercase"),
    ("localhost:5000/App", "repository", "'App' must be lowercase"),
    ("busy box", "repository", "contains spaces"),
    ("-app", "repository", "invalid part '-app'"),
    ("app_", "repository", "invalid part"),
    ("a___b", "repository", "invalid part"),
    ("team//app", "repository", "invalid part ''"),
    ("localhost:5000/", "repository", "is empty"),
    ("ab" * 32, "repository", "64-digit hexadecimal"),
    ("busybox:-1", "tag", "'-1' may only contain"),
    ("busybox:.x", "tag", "may only contain"),
    ("busybox:a+b", "tag", "may only contain"),
    ("busybox:" + "t" * 129, "tag", "129 characters"),
    ("busybox:", "tag", "may only contain"),
    ("busybox@sha256:abc", "digest", "not a valid digest"),
    ("busybox@sha256:" + "AB" * 32, "digest", "not a valid digest"),
    ("busybox@", "digest", "not a valid digest"),
    ("host:99999/app", "registry", "port 99999 is out of range"),
    ("host:port/app", "registry", "port 'port' is not a number"),
    ("-bad.example.com/app", "registry", "not a valid host name"),
    ("bad_host.com/app", "registry", "not a valid host name"),
    ("[::1/app", "registry", "IPv6"),
    ("a/" + "b" * 260, "repository", "longer than 255"),
])
def test_invalid_references_name_the_bad_part(text, part, fragment):
    with pytest.raises(InvalidReferenceError) as caught:
        parse_reference(text)
    assert caught.value.part == part
    assert fragment in caught.value.message and repr(text) in caught.value.message
    assert isinstance(caught.value, ParseError) and caught.value.hint


def test_reference_helpers():
    reference = parse_reference("busybox", default_tag=None)
    assert reference.tag is None and str(reference) == "docker.io/library/busybox"
    assert reference.name == "docker.io/library/busybox" and reference.familiar_name == "busybox"
    assert reference.is_official and reference.api_host == "registry-1.docker.io"
    assert reference.manifest_key == "latest"
    tagged = reference.with_tag("1.36")
    assert tagged == Reference("docker.io", "library/busybox", "1.36", None)
    pinned = tagged.with_digest(DIGEST)
    assert pinned.manifest_key == DIGEST and pinned.familiar == f"busybox:1.36@{DIGEST}"
    local = parse_reference("localhost:5000/team/app:2")
    assert local.api_host == "localhost:5000" and not local.is_official and local.manifest_key == "2"
    with pytest.raises(InvalidReferenceError):
        local.with_tag("bad tag")
    with pytest.raises(InvalidReferenceError):
        local.with_digest("sha256:1")
