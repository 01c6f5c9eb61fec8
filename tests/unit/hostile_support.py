"""Builders of hostile input for the tests of issue 14 (test_hostile_*.py, test_fuzz_*.py): raw tar headers with
any field (negative sizes, odd PAX records), OCI layouts made member by member, an HTTP server on 127.0.0.1 that
answers slowly, endlessly or with odd JSON, and a probe that runs a call in a child process and reports its peak
memory and time.

Nothing here goes through the code under test: tars are written byte by byte, so the tests can say exactly what a
hostile archive holds.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

BLOCK = 512
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
REPO_ROOT = Path(__file__).resolve().parents[2]


# -- tars, byte by byte ---------------------------------------------------------------------------
def _octal(value: int, width: int) -> bytes:
    return f"{value:0{width - 1}o}".encode() + b"\0"


def header(name: str | bytes, *, size: int = 0, kind: bytes = b"0", link: str | bytes = "", mode: int = 0o644,
           size_field: bytes | None = None, uid: int = 0, gid: int = 0, mtime: int = 0) -> bytes:
    """One ustar header block; ``size_field`` writes the 12-byte size field verbatim (e.g. base-256 negatives)."""
    raw_name = name.encode("utf-8", "surrogateescape") if isinstance(name, str) else name
    raw_link = link.encode("utf-8", "surrogateescape") if isinstance(link, str) else link
    block = bytearray(BLOCK)
    prefix = b""
    if len(raw_name) > 100 and b"/" in raw_name[-101:]:  # ustar: the directory part goes in the 155-byte prefix
        cut = raw_name.index(b"/", len(raw_name) - 101)
        prefix, raw_name = raw_name[:cut], raw_name[cut + 1:]
    block[0:len(raw_name[:100])] = raw_name[:100]
    block[345:345 + len(prefix[:155])] = prefix[:155]
    block[100:108] = _octal(mode, 8)
    block[108:116] = _octal(uid, 8)
    block[116:124] = _octal(gid, 8)
    block[124:136] = size_field if size_field is not None else _octal(size, 12)
    block[136:148] = _octal(mtime, 12)
    block[148:156] = b" " * 8
    block[156:157] = kind
    block[157:157 + len(raw_link[:100])] = raw_link[:100]
    block[257:265] = b"ustar\x0000"
    block[148:156] = f"{sum(block):06o}".encode() + b"\0 "
    return bytes(block)


def padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % BLOCK)


def member(name: str | bytes, data: bytes = b"", *, kind: bytes = b"0", link: str | bytes = "",
           mode: int = 0o644) -> bytes:
    """A complete tar member: header, data, padding (links and directories carry no data)."""
    size = len(data) if kind in (b"0", b"\0") else 0
    raw = name.encode("utf-8", "surrogateescape") if isinstance(name, str) else name
    long = b"" if len(raw.rpartition(b"/")[2]) <= 100 and len(raw) <= 255 else pax({"path": raw})
    return long + header(name, size=size, kind=kind, link=link, mode=mode) + padded(data if size else b"")


def pax_record(key: str | bytes, value: str | bytes) -> bytes:
    """One PAX record 'LEN key=value\\n' with its self-counting length."""
    body = (key.encode() if isinstance(key, str) else key) + b"=" + (
        value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value) + b"\n"
    length = len(body) + 2
    while len(str(length).encode()) + 1 + len(body) != length:
        length += 1
    return str(length).encode() + b" " + body


def pax(records: dict[str, str | bytes] | list[tuple[str | bytes, str | bytes]], *, kind: bytes = b"x") -> bytes:
    """A PAX extended header member ('x' for the next member, 'g' global)."""
    items = records.items() if isinstance(records, dict) else records
    data = b"".join(pax_record(key, value) for key, value in items)
    return header("././@PaxHeader", size=len(data), kind=kind) + padded(data)


def end() -> bytes:
    return bytes(2 * BLOCK)


def tar(*members: bytes) -> bytes:
    return b"".join(members) + end()


def gnu_long_name(name: str) -> bytes:
    data = name.encode("utf-8", "surrogateescape") + b"\0"
    return header("././@LongLink", size=len(data), kind=b"L") + padded(data)


# -- OCI layouts, member by member -------------------------------------------------------------------
def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def canonical(document: object) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


@dataclass
class Layout:
    """An OCI image layout being written: named members in order, plus helpers to add content-addressed blobs."""

    members: list[tuple[str, bytes, bytes, str]]

    @classmethod
    def new(cls) -> Layout:
        return cls([("oci-layout", b'{"imageLayoutVersion":"1.0.0"}', b"0", "")])

    def blob(self, data: bytes, algorithm: str = "sha256", *, name_as: bytes | None = None) -> str:
        """Store ``data`` under blobs/<algorithm>/<hex of name_as or data>; returns the digest it is stored as."""
        digest = digest_of(name_as if name_as is not None else data, algorithm)
        self.members.append((f"blobs/{algorithm}/{digest.split(':', 1)[1]}", data, b"0", ""))
        return digest

    def link(self, name: str, target: str, kind: bytes = b"2") -> None:
        self.members.append((name, b"", kind, target))

    def file(self, name: str, data: bytes) -> None:
        self.members.append((name, data, b"0", ""))

    def image(self, layers: list[bytes], *, algorithm: str = "sha256", gzip_layers: bool = False,
              env: str = "A=1") -> tuple[str, int]:
        """Config + manifest for uncompressed layer tars; returns the manifest's (digest, size)."""
        blobs = [gzip.compress(layer, mtime=0) if gzip_layers else layer for layer in layers]
        config = config_bytes(layers, env, algorithm)
        manifest = canonical({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": self.blob(config, algorithm), "size": len(config)},
            "layers": [{"mediaType": OCI_LAYER_GZIP if gzip_layers else OCI_LAYER,
                        "digest": self.blob(blob, algorithm), "size": len(blob)} for blob in blobs]})
        return self.blob(manifest, algorithm), len(manifest)

    def index(self, manifests: list[tuple[str, int]], media_type: str = OCI_MANIFEST) -> bytes:
        return canonical({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
            {"mediaType": media_type, "digest": digest, "size": size} for digest, size in manifests]})

    def tar(self, index: bytes) -> bytes:
        out = [member(name, data, kind=kind, link=target) for name, data, kind, target in self.members]
        out.append(member("index.json", index))
        return tar(*out)


def config_bytes(layers: list[bytes], env: str = "A=1", algorithm: str = "sha256") -> bytes:
    """An image config whose diff_ids name the given (uncompressed) layer tars."""
    return canonical({"architecture": "amd64", "os": "linux", "config": {"Env": [env]},
                      "rootfs": {"type": "layers", "diff_ids": [digest_of(layer, algorithm) for layer in layers]}})


def manifest_bytes(config: tuple[str, int], layers: list[tuple[str, int]], layer_type: str = OCI_LAYER) -> bytes:
    return canonical({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                      "config": {"mediaType": OCI_CONFIG, "digest": config[0], "size": config[1]},
                      "layers": [{"mediaType": layer_type, "digest": d, "size": n} for d, n in layers]})


def layer_tar(*files: tuple[str, bytes]) -> bytes:
    return tar(*(member(name, data) for name, data in files))


# -- an HTTP server on 127.0.0.1 with scripted answers ---------------------------------------------------
Answer = Callable[[http.server.BaseHTTPRequestHandler], None]


class _Scripted(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, Answer]] = {}
    requests: ClassVar[list[str]] = []
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        answer = type(self).routes.get(self.path.split("?", 1)[0]) or type(self).routes.get("*")
        if answer is None:
            send(self, 404, b'{"errors":[{"code":"NAME_UNKNOWN","message":"unknown"}]}')
            return
        try:
            answer(self)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_HEAD = do_GET

    def log_message(self, *args: object) -> None:
        pass


def send(handler: http.server.BaseHTTPRequestHandler, status: int, body: bytes,
         headers: dict[str, str] | None = None, *, length: int | None = None) -> None:
    """Answer with a body; ``length`` overrides Content-Length (a lie or a huge promise)."""
    handler.send_response(status)
    for key, value in (headers or {"Content-Type": "application/json"}).items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body) if length is None else length))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


def endless(handler: http.server.BaseHTTPRequestHandler, chunk: bytes = b"\0" * 65536, *,
            headers: dict[str, str] | None = None, limit: int = 2 << 30) -> None:
    """A 200 answer that promises and sends ``limit`` bytes (until the client hangs up)."""
    handler.send_response(200)
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(limit))
    handler.end_headers()
    sent = 0
    while sent < limit:
        handler.wfile.write(chunk)
        sent += len(chunk)


def dribble(handler: http.server.BaseHTTPRequestHandler, body: bytes, per_second: float = 1.0,
            *, in_headers: bool = False) -> None:
    """An answer that arrives one byte at a time (in the headers, or in the body)."""
    if in_headers:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for byte in b"X-Slow: " + b"a" * 100000:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(1 / per_second)
        return
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    for byte in body:
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(1 / per_second)


@contextmanager
def http_server(routes: dict[str, Answer]) -> Iterator[tuple[str, list[str]]]:
    """Serve scripted answers on 127.0.0.1; yields (address, the paths requested)."""
    handler = type("Handler", (_Scripted,), {"routes": routes, "requests": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", handler.requests
    finally:
        server.shutdown()
        server.server_close()


# -- measuring a call in a child process ---------------------------------------------------------------
@dataclass
class Probe:
    """What a call did in a child process: its outcome line, peak RSS (VmHWM) in MiB, seconds, whether it finished."""

    outcome: str
    peak_mb: float
    baseline_mb: float
    seconds: float
    finished: bool

    @property
    def grew_mb(self) -> float:
        """Peak RSS above what the child had after its imports and set-up."""
        return self.peak_mb - self.baseline_mb


PROBE = """
import resource, sys, time
def peak_mb():
    # VmHWM: this process's own peak RSS (getrusage's ru_maxrss keeps the parent's peak across exec on Linux)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
resource.setrlimit(resource.RLIMIT_AS, ({memory_cap}, {memory_cap}))
{setup}
baseline = peak_mb()
started = time.perf_counter()
try:
    result = ({call})
    outcome = "ok " + repr(result)[:200]
except MemoryError:
    outcome = "MemoryError"
except RecursionError:
    outcome = "RecursionError"
except Exception as err:
    outcome = type(err).__name__ + " " + " ".join(str(err).split())[:300]
seconds = time.perf_counter() - started
print("PROBE", outcome.replace("\\n", " "), file=sys.stderr)
print("PROBE-NUMBERS", peak_mb(), baseline, seconds, file=sys.stderr)
"""


def probe(setup: str, call: str, *, timeout: float = 60, memory_cap_mb: int = 2048) -> Probe:
    """Run ``call`` (an expression, after ``setup``) in a fresh Python with an address-space cap and a timeout."""
    code = PROBE.format(setup=textwrap.dedent(setup), call=call, memory_cap=memory_cap_mb << 20)
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                              cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "")})
    except subprocess.TimeoutExpired:
        return Probe(f"timed out after {timeout} s", 0.0, 0.0, time.perf_counter() - started, False)
    outcome = next((line[6:] for line in done.stderr.splitlines() if line.startswith("PROBE ")),
                   f"crashed: {done.stderr.strip()[-300:]}")
    numbers = next((line.split()[1:] for line in done.stderr.splitlines() if line.startswith("PROBE-NUMBERS")), None)
    if numbers is None:
        return Probe(outcome, 0.0, 0.0, time.perf_counter() - started, False)
    peak, baseline, seconds = (float(value) for value in numbers)
    return Probe(outcome, peak, baseline, seconds, True)


def lab_error_outcome(result: Probe) -> bool:
    """Whether a probe ended in one of the course's own errors."""
    names = ("ParseError", "DigestMismatchError", "BudgetExceededError", "RegistryError", "PackError", "LabError",
             "InvalidReferenceError")
    return result.finished and result.outcome.split(" ", 1)[0] in names


def json_nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def anything(*_: Any) -> None:
    """A progress callback that ignores what it is told."""
