"""The offline workshop pack: one archive with the lab images, the Python wheels and the notebooks.

Standard library only, so a fresh machine can verify and unpack it before anything is
installed. The archive is a gzip'd tar whose first member, MANIFEST.json, lists every
other member with its size and sha256; unpacking checks each one while it streams.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import LabError

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
        return sum(int(entry["size"]) for entry in self.files.values())


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _safe_name(name: str) -> str:
    """A member name that stays inside the destination (no '..', no absolute path)."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise PackError(f"The pack lists an unsafe path {name!r}.",
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


def _open(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r|*")
    except (tarfile.TarError, OSError, EOFError) as err:
        raise PackError(f"{path} is not a containerlab pack ({err}).",
                        "Make one with 'python -m containerlab pack FILE' on a machine that has the course.") from None


def _manifest_from(archive: tarfile.TarFile, path: Path) -> PackManifest:
    foreign = PackError(f"{path} is not a containerlab pack (no {MANIFEST} at its start).",
                        "Make one with 'python -m containerlab pack FILE' on a machine that has the course.")
    try:
        first = archive.next()
    except (tarfile.TarError, OSError, EOFError):
        raise foreign from None
    if first is None or first.name != MANIFEST:
        raise foreign
    try:
        data = json.loads(archive.extractfile(first).read())
    except (ValueError, AttributeError, OSError, EOFError, tarfile.TarError):
        raise foreign from None
    if not isinstance(data, dict) or data.get("format") != PACK_FORMAT:
        raise foreign
    if data.get("version") != PACK_VERSION:
        raise PackError(f"{path} is a version {data.get('version')} pack; this course reads version {PACK_VERSION}.",
                        "Make the pack with the same course version as the machines that unpack it.")
    known = set(PackManifest.__dataclass_fields__)
    manifest = PackManifest(**{key: value for key, value in data.items() if key in known})
    if not _well_formed(manifest):
        raise PackError(f"{path} has a damaged {MANIFEST} (a field of the wrong kind).",
                        "Copy the pack again, or make a new one with 'python -m containerlab pack FILE'.")
    return manifest


def _well_formed(manifest: PackManifest) -> bool:
    """Whether every field has the type write_pack gives it: names, sizes and sha256 digests."""
    texts = (manifest.created, manifest.course_version, manifest.python)
    if not all(isinstance(text, str) for text in texts) or not isinstance(manifest.images, list) \
            or not all(isinstance(image, str) for image in manifest.images) or not isinstance(manifest.files, dict):
        return False
    for name, entry in manifest.files.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str) \
                or not _SHA256.fullmatch(entry["sha256"]):
            return False
        size = entry.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            return False
        try:
            _safe_name(name)
        except PackError:
            return False
    return True


def read_manifest(path: Path) -> PackManifest:
    """The manifest of a pack, without reading the rest."""
    with _open(path) as archive:
        return _manifest_from(archive, path)


def _target(dest: Path, name: str) -> Path:
    """Where a member goes: below dest, through directories only (no file in the way, no link out)."""
    target = dest / name
    for parent in reversed(target.relative_to(dest).parents):
        folder = dest / parent
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise PackError(f"The pack puts {name!r} below {parent}, which is not a directory.",
                            "The pack was altered after it was made; make a new one.")
        folder.mkdir(exist_ok=True)
    if target.is_symlink() or target.is_dir():
        raise PackError(f"The pack writes a file at {name!r}, where a directory (or a link) already is.",
                        "Unpack into an empty directory, or make a new pack.")
    return target


def unpack(path: Path, dest: Path, progress: Callable[[str], None] = print) -> PackManifest:
    """Verify every member's sha256 while extracting it under dest; raise PackError on any mismatch."""
    dest.mkdir(parents=True, exist_ok=True)
    truncated = PackError(f"{path} is truncated or damaged: it ends before every file in it was read.",
                          "Copy the pack again (compare its size with the original) and re-run unpack.")
    with _open(path) as archive:
        manifest = _manifest_from(archive, path)
        seen: set[str] = set()
        try:
            for member in archive:
                if member.name == MANIFEST:
                    continue
                name = _safe_name(member.name)
                expected = manifest.files.get(name)
                if expected is None or not member.isfile() or name in seen:
                    raise PackError(f"The pack holds {name!r}, which its manifest does not list (once, as a file).",
                                    "The pack was altered after it was made; make a new one.")
                target = _target(dest, name)
                digest = hashlib.sha256()
                source = archive.extractfile(member)
                with open(target, "wb") as out:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                if digest.hexdigest() != expected["sha256"]:
                    target.unlink()
                    raise PackError(f"{name} in the pack does not match its checksum.",
                                    "The pack is corrupted: copy it again or make a new one.")
                seen.add(name)
                progress(f"  verified {name}")
        except (tarfile.TarError, EOFError, OSError, ValueError) as err:
            if isinstance(err, OSError) and err.errno is not None:
                raise
            raise truncated from None
    if seen != set(manifest.files):
        raise truncated
    return manifest
