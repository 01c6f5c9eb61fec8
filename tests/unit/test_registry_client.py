"""The registry API v2 client against a real registry's recorded answers, served over HTTP on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path
from typing import ClassVar

import pytest

from containerlab.errors import DigestMismatchError, LabError
from containerlab.images import MANIFEST_ACCEPT, Layer, Step, build_image, sha256_digest
from containerlab.images.registry_client import OciLayout, RegistryClient, RegistryError, is_loopback_host

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "registry"
RESPONSES = json.loads((FIXTURES / "responses.json").read_text())
REPOSITORY = "course/tiny"


class Recorded(http.server.BaseHTTPRequestHandler):
    """Serves the recorded answers; `tamper` (a class attribute) corrupts one body on the way."""

    tamper: ClassVar[dict[str, bytes]] = {}
    accepts: ClassVar[list[str]] = []

    def _answer(self, body_too: bool) -> None:
        Recorded.accepts.append(self.headers.get("Accept", ""))
        answer = RESPONSES.get(self.path)
        if answer is None:
            body = json.dumps({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}).encode()
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body_too:
                self.wfile.write(body)
            return
        body = Recorded.tamper.get(self.path) or (FIXTURES / "bodies" / answer["body"]).read_bytes()
        self.send_response(answer["status"])
        for key, value in answer["headers"].items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body_too:
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(True)

    def do_HEAD(self) -> None:
        self._answer(False)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorded)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def client(server):
    Recorded.tamper = {}
    Recorded.accepts = []
    return RegistryClient(server)


def _path(kind: str) -> str:
    return next(path for path, answer in RESPONSES.items() if answer["body"] == kind)


def test_ping_catalog_and_tags(client):
    assert client.ping() == "registry/2.0"
    assert client.catalog() == [REPOSITORY]
    assert client.tags(REPOSITORY) == ["1"]


def test_manifest_is_asked_with_every_current_type_and_verified(client):
    fetched = client.manifest(REPOSITORY, "1")
    assert Recorded.accepts[-1] == MANIFEST_ACCEPT
    assert fetched.digest == sha256_digest((FIXTURES / "bodies" / "manifest.json").read_bytes())
    assert fetched.digest == fetched.header_digest
    assert fetched.media_type == "application/vnd.docker.distribution.manifest.v2+json"
    assert not fetched.is_index and len(fetched.document.layers) == 2
    assert client.manifest_digest(REPOSITORY, "1") == fetched.digest
    assert client.manifest(REPOSITORY, fetched.digest).data == fetched.data


def test_a_changed_manifest_is_refused(client):
    path = f"/v2/{REPOSITORY}/manifests/1"
    Recorded.tamper = {path: (FIXTURES / "bodies" / "manifest.json").read_bytes().replace(b'"size": 1', b'"size": 2', 1)}
    with pytest.raises(DigestMismatchError) as caught:
        client.manifest(REPOSITORY, "1")
    assert caught.value.expected == RESPONSES[path]["headers"]["Docker-Content-Digest"]


def test_the_walk_checks_config_blobs_and_diff_ids(client):
    walk = client.walk(REPOSITORY, "1")
    config = json.loads((FIXTURES / "bodies" / "config.json").read_bytes())
    assert walk.image_id == sha256_digest((FIXTURES / "bodies" / "config.json").read_bytes())
    assert list(walk.config.diff_ids) == config["rootfs"]["diff_ids"]
    assert walk.verified and [layer.computed_diff_id for layer in walk.layers] == config["rootfs"]["diff_ids"]
    assert all(layer.digest != layer.diff_id and layer.compression == "gzip" for layer in walk.layers)
    assert walk.index is None and walk.pinned == walk.manifest.digest
    assert len(walk.lines()) == 3 + len(walk.layers)


def test_a_changed_layer_blob_is_refused(client):
    layer_path = _path("layer0.tar.gz")
    Recorded.tamper = {layer_path: (FIXTURES / "bodies" / "layer1.tar.gz").read_bytes()}
    with pytest.raises(DigestMismatchError):
        client.walk(REPOSITORY, "1")


def test_walk_without_layers_fetches_no_blob(client):
    walk = client.walk(REPOSITORY, "1", fetch_layers=False)
    assert not walk.verified and not any(layer.fetched for layer in walk.layers)


def test_registry_errors_carry_the_code_and_a_hint(client):
    with pytest.raises(RegistryError) as caught:
        client.manifest(REPOSITORY, "no-such-tag")
    assert caught.value.status == 404 and caught.value.code == "MANIFEST_UNKNOWN"
    assert "tags" in caught.value.hint


def test_nothing_listening_is_a_clear_error():
    with pytest.raises(RegistryError) as caught:
        RegistryClient("127.0.0.1:9", timeout=2).ping()
    assert "does not answer" in caught.value.message and "registry start" in caught.value.hint


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("127.8.9.10", True), ("localhost", True),
                                             ("[::1]", True), ("10.0.0.1", False), ("registry-1.docker.io", False)])
def test_only_loopback_registries_by_default(host, loopback):
    assert is_loopback_host(host) is loopback
    if not loopback:
        with pytest.raises(LabError):
            RegistryClient(f"{host}:5000")
        assert RegistryClient(f"{host}:5000", allow_remote=True).address == f"{host}:5000"


def test_an_oci_layout_walks_like_a_registry():
    image = build_image([Layer({"a.txt": "a"}, "COPY a.txt /"), Layer({"b.txt": "b"}, "COPY b.txt /"),
                         Step("CMD [\"sh\"]")], tag="x/y:1", architecture="amd64")
    walk = OciLayout.from_tar(image.data, name="x/y:1").walk()
    assert walk.index is not None and walk.manifest.digest == image.manifest_digest
    assert walk.image_id == image.config_digest and walk.verified
    assert [layer.digest for layer in walk.layers] == list(image.layer_digests)
    assert [layer.computed_diff_id for layer in walk.layers] == list(image.diff_ids)
    assert walk.pinned == walk.index.digest


def test_an_oci_layout_with_a_changed_blob_is_refused():
    image = build_image([Layer({"a.txt": "a"})], tag="x/y:1", architecture="amd64")
    layout = OciLayout.from_tar(image.data)
    digest = image.layer_digests[0]
    blob = layout.blobs[digest]
    layout.blobs[digest] = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(DigestMismatchError):
        layout.walk()


def test_a_docker_save_tarball_is_no_oci_layout():
    image = build_image([Layer({"a.txt": "a"})], tag="x/y:1", layout="docker")
    with pytest.raises(LabError, match="index.json"):
        OciLayout.from_tar(image.data)
