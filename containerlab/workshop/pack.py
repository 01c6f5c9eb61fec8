"""The offline workshop pack: one archive with the lab images, the Python wheels and the notebooks.

Standard library only, so a fresh machine can verify and unpack it before anything is
installed. The archive is a gzip'd tar whose first member, MANIFEST.json, lists every
other member with its size and sha256. Unpacking reads it with the image package's one tar
reader, checks each member while it streams into a directory beside the destination, and
moves the files into place only once all of them are verified.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from ..errors import LabError, ParseError
from ..images.budget import Budget, Meter
from ..images.tarball.blobs import parse_archive
from ..images.tarball.tar import _Member

__all__ = ["PACK_FORMAT", "PACK_VERSION", "PackManifest", "PackError", "write_pack", "read_manifest", "unpack"]

PACK_FORMAT = "containerlab-pack"
PACK_VERSION = 1
MANIFEST = "MANIFEST.json"
CHUNK = 1 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")


class PackError(LabError):
    """The pack is foreign, truncated or corrupted."""


@dataclass
class PackManifest:
    """What a pack holds: each member's size and sha256, and which lab images it carries."""

    format: str = PACK_FORMAT
    version: int = PACK_VERSION
    created: str = ""
    course_version: str = ""
    python: str = ""
    images: list[str] = field(default_factory=list)
    files: dict[str, dict[str, object]] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode()

    @property
    def total_bytes(self) -> int:
        """Size of everything listed, uncompressed."""
        return sum(size for entry in self.files.values() if isinstance(size := entry.get("size"), int))


_MAX_DEPTH = 64


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _safe_name(name: str) -> str:
    """A member name that stays inside the destination (no '..', no absolute path)."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or len(path.parts) > _MAX_DEPTH:
        raise PackError(f"The pack lists an unsafe path {name[:80]!r}.",
                        "Only use packs made by 'python -m containerlab pack'.")
    return str(path)


def write_pack(target: Path, members: Iterable[tuple[str, Path]], *, images: list[str], course_version: str,
               python: str, progress: Callable[[str], None] = print) -> PackManifest:
    """Write the archive: MANIFEST.json first, then each (name in the pack, file on disk)."""
    members = [(_safe_name(name), Path(path)) for name, path in members]
    manifest = PackManifest(created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                            course_version=course_version, python=python, images=images)
    for name, path in members:
        manifest.files[name] = {"size": path.stat().st_size, "sha256": _sha256_file(path)}
    partial = target.with_name(target.name + ".partial")
    with tarfile.open(partial, "w:gz", compresslevel=1) as archive:
        data = manifest.to_bytes()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime = len(data), int(time.time())
        archive.addfile(info, io.BytesIO(data))
        for index, (name, path) in enumerate(members, 1):
            progress(f"  [{index}/{len(members)}] {name} ({path.stat().st_size / 1e6:.1f} MB)")
            archive.add(path, arcname=name, recursive=False)
    partial.replace(target)
    return manifest


_FOREIGN_HINT = "Make one with 'python -m containerlab pack FILE' on a machine that has the course."
_ALTERED_HINT = "The pack was altered after it was made; make a new one."
PACK_BUDGET = Budget(seconds=3600.0)
"""unpack's budget: MANIFEST.json at most 8 MiB, at most 100,000 members, an hour (a pack of many GB on a slow disk)."""


def _foreign(path: Path) -> PackError:
    return PackError(f"{path} is not a containerlab pack (no {MANIFEST} at its start).", _FOREIGN_HINT)


def _parse_manifest(data: bytes, path: Path) -> PackManifest:
    """MANIFEST.json checked field by field; PackError names what is wrong."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        raise _foreign(path) from None
    if not isinstance(document, dict) or document.get("format") != PACK_FORMAT:
        raise _foreign(path)
    if document.get("version") != PACK_VERSION:
        raise PackError(f"{path} is a version {str(document.get('version'))[:20]} pack; this course reads version "
                        f"{PACK_VERSION}.",
                        "Make the pack with the same course version as the machines that unpack it.")
    known = set(PackManifest.__dataclass_fields__)
    manifest = PackManifest(**{key: value for key, value in document.items() if key in known})
    if not _well_formed(manifest):
        raise PackError(f"{path} has a damaged {MANIFEST} (a field of the wrong kind).",
                        "Copy the pack again, or make a new one with 'python -m containerlab pack FILE'.")
    return manifest


def _well_formed(manifest: PackManifest) -> bool:
    """Whether every field has the type write_pack gives it: names, sizes and sha256 digests; no name below another."""
    texts = (manifest.created, manifest.course_version, manifest.python)
    if not all(isinstance(text, str) for text in texts) or not isinstance(manifest.images, list) \
            or not all(isinstance(image, str) for image in manifest.images) or not isinstance(manifest.files, dict):
        return False
    for name, entry in manifest.files.items():
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            return False
        size = entry.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            return False
        try:
            if _safe_name(name) != name:
                return False
        except PackError:
            return False
    names = set(manifest.files)
    return not any(str(parent) in names for name in names for parent in PurePosixPath(name).parents)


class _ManifestSink:
    def __init__(self) -> None:
        self.data = bytearray()
        self.done = False

    def write(self, data: memoryview) -> None:
        self.data += data

    def close(self) -> None:
        self.done = True


class _VerifiedFile:
    """A member written into the temporary directory while its sha256 is computed; checked when it ends."""

    def __init__(self, handle: BinaryIO, name: str, expected: str) -> None:
        self.handle = handle
        self.name = name
        self.expected = expected
        self.digest = hashlib.sha256()

    def write(self, data: memoryview) -> None:
        self.digest.update(data)
        self.handle.write(data)

    def close(self) -> None:
        self.handle.close()
        if self.digest.hexdigest() != self.expected:
            raise PackError(f"{self.name} in the pack does not match its checksum.",
                            "The pack is corrupted: copy it again or make a new one.")


class _PackReader:
    """The members of a pack as the one tar reader reports them: MANIFEST.json first, then the listed files."""

    def __init__(self, path: Path, meter: Meter, staging: Path | None = None,
                 progress: Callable[[str], None] = print) -> None:
        self.path = path
        self.meter = meter
        self.staging = staging
        self.progress = progress
        self.manifest_sink: _ManifestSink | None = None
        self.manifest: PackManifest | None = None
        self.seen: set[str] = set()
        self._pending: _VerifiedFile | None = None

    def on_member(self, member: _Member) -> _ManifestSink | _VerifiedFile | None:
        self.meter.spend("members")
        self._finish_pending()
        if self.manifest_sink is None:
            if member.name != MANIFEST or member.kind != "file" or member.size > self.meter.budget.document_bytes:
                raise _foreign(self.path)
            self.manifest_sink = _ManifestSink()
            return self.manifest_sink
        manifest = self.manifest_read()
        if self.staging is None:
            return None
        name = _safe_name(member.name)
        expected = manifest.files.get(name)
        if expected is None or member.kind != "file" or name in self.seen:
            raise PackError(f"The pack holds {name!r}, which its manifest does not list (once, as a file).",
                            _ALTERED_HINT)
        if member.size != expected["size"]:
            raise PackError(f"{name} in the pack has {member.size} bytes; its manifest says {expected['size']}.",
                            _ALTERED_HINT)
        self.seen.add(name)
        target = self.staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        self._pending = _VerifiedFile(open(target, "xb"), name, str(expected["sha256"]))  # noqa: SIM115
        return self._pending

    def _finish_pending(self) -> None:
        if self._pending is not None:
            self.progress(f"  verified {self._pending.name}")
            self._pending = None

    def manifest_read(self) -> PackManifest:
        """The manifest, parsed the first time it is asked for (once its member has ended)."""
        if self.manifest is None:
            if self.manifest_sink is None or not self.manifest_sink.done:
                raise _foreign(self.path)
            self.manifest = _parse_manifest(bytes(self.manifest_sink.data), self.path)
        return self.manifest

    def finish(self) -> None:
        self._finish_pending()


def _read(path: Path, reader: _PackReader, *, whole: bool) -> None:
    """Run a pack through the tar reader; its errors become PackErrors (foreign before the manifest, else damaged)."""
    def stop() -> bool:
        return not whole and reader.manifest_sink is not None and reader.manifest_sink.done

    try:
        parse_archive(path, reader.meter, str(path), reader.on_member, stop=stop)
    except PackError:
        raise
    except LabError as err:
        if isinstance(err, ParseError) and reader.manifest is None and not stop():
            raise _foreign(path) from None
        if isinstance(err, ParseError):
            raise PackError(f"{path} is truncated or damaged: it ends before every file in it was read.",
                            "Copy the pack again (compare its size with the original) and re-run unpack.") from None
        raise PackError(err.message, err.hint) from None
    except OSError as err:
        raise PackError(f"Cannot read {path}: {err.strerror}.", "Check the path of the pack.") from None
    reader.finish()


def read_manifest(path: Path, *, budget: Budget | None = None) -> PackManifest:
    """The manifest of a pack, without reading the rest (MANIFEST.json at most 8 MiB)."""
    reader = _PackReader(path, Meter(budget if budget is not None else PACK_BUDGET, str(path)))
    _read(path, reader, whole=False)
    return reader.manifest_read()


def _check_target(dest: Path, name: str) -> Path:
    """Where a member goes: below dest, through directories only (no file in the way, no link out)."""
    target = dest / name
    for parent in reversed(target.relative_to(dest).parents):
        folder = dest / parent
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise PackError(f"The pack puts {name!r} below {parent}, which is not a directory.",
                            "Move that file away, or unpack into an empty directory.")
    if target.is_symlink() or target.is_dir():
        raise PackError(f"The pack writes a file at {name!r}, where a directory (or a link) already is.",
                        "Unpack into an empty directory, or make a new pack.")
    return target


def unpack(path: Path, dest: Path, progress: Callable[[str], None] = print, *,
           budget: Budget | None = None) -> PackManifest:
    """Verify every member while extracting it beside ``dest``, then move the verified files into place.

    Verify, then move: members are written into a temporary directory beside ``dest`` (same file system), each
    refused from its header on when its size differs from the manifest's and checked against its sha256 when it
    ends; only when the whole pack is read and every listed file arrived are they renamed into ``dest``, so a
    damaged or cut pack leaves ``dest`` as it was, and an existing file is replaced only by a verified one.
    Budget (:data:`PACK_BUDGET`): MANIFEST.json at most 8 MiB, 100,000 members, names at most 64 levels deep,
    an hour; the listed files must fit on the disk beside ``dest`` (checked before anything is written).
    """
    meter = Meter(budget if budget is not None else PACK_BUDGET, str(path))
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(path, budget=budget)
    free = shutil.disk_usage(dest.parent).free
    if manifest.total_bytes > free:
        raise PackError(f"The pack holds {manifest.total_bytes / 1e6:.0f} MB, more than the "
                        f"{free / 1e6:.0f} MB free beside {dest}.", "Free some disk space, or unpack elsewhere.")
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.unpacking-", dir=dest.parent))
    try:
        reader = _PackReader(path, meter, staging, progress)
        _read(path, reader, whole=True)
        if reader.seen != set(manifest.files):
            raise PackError(f"{path} is truncated or damaged: it ends before every file in it was read.",
                            "Copy the pack again (compare its size with the original) and re-run unpack.")
        targets = {name: _check_target(dest, name) for name in manifest.files}
        for name, target in targets.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest
