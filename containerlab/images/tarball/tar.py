"""An incremental tar parser (ustar, pax and GNU extensions) fed by chunks, and the path rules of image layers.

This is the package's one tar reader: image tarballs, their layers, OCI layouts, exported root filesystems and
workshop packs all go through :class:`_TarStream`, and every name goes through the rules at the end of this
module (:func:`layer_entry`), so each rule is written once:

- a header is trusted only after its extensions are applied: a pax ``size`` replaces the header's and is then
  checked like it; pax numbers are plain decimals (no ``inf``, no sign where none belongs), names hold no NUL
  and are at most 4,095 bytes (PATH_MAX), and extension headers waiting for their member hold at most 1 MiB;
- a name is clean and relative (no absolute path, no ``..``); a whiteout ``.wh.NAME`` is decoded and NAME must
  be a real file name (not empty, ``.`` or ``..``); a hard link names a path inside, a symbolic link does not
  climb above the root.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from typing import BinaryIO, Protocol

from ...errors import ParseError
from .report import TarEntry

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
CHUNK_SIZE = 1 << 20
BLOCK = 512
MAX_NAME_BYTES = 4095
_ZERO_BLOCK = bytes(BLOCK)
_MAX_EXTENDED_HEADER = 1 << 20
_MAX_PENDING_EXTENDED = 1 << 20
_MAX_INFLATE = 1 << 20
_MAX_LINK_HOPS = 16
_BLOB_NAME = re.compile(r"blobs/([a-z0-9]+)/([a-f0-9]+)", re.ASCII)
_HEX_CONFIG = re.compile(r"(?:.*/)?([a-f0-9]{64})(?:\.json)?", re.ASCII)
_PAX_COUNT = re.compile(rb"[0-9]{1,20}")
_PAX_TIME = re.compile(rb"-?[0-9]{1,20}(?:\.[0-9]{0,20})?")
_PAX_NUMBERS = {"size": _PAX_COUNT, "uid": _PAX_COUNT, "gid": _PAX_COUNT, "mtime": _PAX_TIME}
_KINDS = {b"0": "file", b"\0": "file", b"7": "file", b"1": "hardlink", b"2": "symlink", b"3": "char",
          b"4": "block", b"5": "dir", b"6": "fifo"}
_HEADER_ONLY = frozenset(("hardlink", "symlink", "char", "block", "dir", "fifo"))
_TAR_HINT = "The tarball is damaged or incomplete; save the image again ('docker save -o image.tar IMAGE')."
_HOSTILE_HINT = ("Image layers never contain such entries; this tarball was crafted or damaged. "
                 "Do not load or extract it.")

Source = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO | Iterable[bytes]
# How the reader reports how far it got: (bytes read so far, total bytes or None when unknown).
ByteProgress = Callable[[int, int | None], None]


# -- an incremental tar parser ----------------------------------------------------------------
class _Member:
    """A tar header after extension headers (pax, GNU long names) are applied."""

    __slots__ = ("gid", "kind", "linkname", "mode", "mtime", "name", "offset", "size", "uid")

    def __init__(self, name: str, kind: str, size: int, mode: int, uid: int, gid: int, mtime: int,
                 linkname: str, offset: int) -> None:
        self.name, self.kind, self.size, self.mode = name, kind, size, mode
        self.uid, self.gid, self.mtime, self.linkname, self.offset = uid, gid, mtime, linkname, offset


class _Sink(Protocol):
    """Where a member's data goes: write() any number of times, then close()."""

    def write(self, data: memoryview) -> None: ...

    def close(self) -> None: ...


_HEADER, _DATA, _PAD, _EXTENDED, _END = range(5)


def _number(field_bytes: bytes, what: str, label: str, offset: int) -> int:
    """A tar numeric field: octal text, or GNU base-256 when the high bit is set."""
    if field_bytes and field_bytes[0] & 0x80:
        value = int.from_bytes(field_bytes, "big")
        if field_bytes[0] & 0x40:
            return value - (1 << (8 * len(field_bytes)))
        return value & ~(0x80 << (8 * (len(field_bytes) - 1)))
    try:
        return int(field_bytes.rstrip(b"\0 ") or b"0", 8)
    except ValueError:
        pass
    text = field_bytes.split(b"\0", 1)[0].strip(b" ")
    try:
        return int(text or b"0", 8)
    except ValueError:
        raise ParseError(f"{label}: the tar header at byte {offset} has a bad {what} field {text!r}.",
                         _TAR_HINT) from None


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


_QUICK_NAME = MAX_NAME_BYTES // 4  # a name of fewer characters cannot be longer than PATH_MAX in UTF-8


def _too_long(name: str) -> bool:
    """Whether a name is longer than PATH_MAX allows (4,095 bytes)."""
    return len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES


class _TarStream:
    """Reads a tar archive from bytes fed in any chunking; reports each member to ``on_member``.

    ``on_member(member)`` returns a _Sink for the member's data or None to skip it. Only
    headers are parsed: skipped data costs nothing but moving a position. Memory: one block,
    plus at most 1 MiB of extension headers waiting for their member.
    """

    def __init__(self, label: str, on_member: Callable[[_Member], _Sink | None]) -> None:
        self.label = label
        self._on_member = on_member
        self._state = _HEADER
        self._partial = bytearray()
        self._left = 0
        self._sink: _Sink | None = None
        self._extended = bytearray()
        self._extended_type = b""
        self._pending = 0
        self._global_size = 0
        self._pax: dict[str, str] = {}
        self._global_pax: dict[str, str] = {}
        self._long_name: str | None = None
        self._long_link: str | None = None
        self._member_name = ""
        self._data_size = 0
        self.consumed = 0

    @property
    def ended(self) -> bool:
        """True once the end-of-archive marker has been read."""
        return self._state == _END

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Parse the next bytes of the archive."""
        view = memoryview(data)
        end = len(view)
        pos = 0
        while pos < end:
            state = self._state
            if state == _DATA:
                take = min(self._left, end - pos)
                if self._sink is not None:
                    self._sink.write(view[pos:pos + take])
                pos += take
                self._left -= take
                if not self._left:
                    self._end_data()
            elif state == _HEADER:
                if self._partial:
                    take = min(BLOCK - len(self._partial), end - pos)
                    self._partial += view[pos:pos + take]
                    pos += take
                    if len(self._partial) < BLOCK:
                        break
                    block = bytes(self._partial)
                    self._partial.clear()
                elif end - pos >= BLOCK:
                    block = view[pos:pos + BLOCK].tobytes()
                    pos += BLOCK
                else:
                    self._partial += view[pos:end]
                    pos = end
                    break
                self._header(block, self.consumed + pos - BLOCK)
            elif state == _PAD:
                take = min(self._left, end - pos)
                pos += take
                self._left -= take
                if not self._left:
                    self._state = _HEADER
            elif state == _EXTENDED:
                take = min(self._left, end - pos)
                self._extended += view[pos:pos + take]
                pos += take
                self._left -= take
                if not self._left:
                    self._end_extended()
            else:
                break
        self.consumed += end

    def close(self) -> None:
        """Check the archive ended properly (a truncated one raises ParseError)."""
        if self._state == _END:
            return
        if self.consumed == 0:
            raise ParseError(f"{self.label} is empty.", _TAR_HINT)
        where = f" inside {self._member_name!r}" if self._state in (_DATA, _PAD, _EXTENDED) else ""
        raise ParseError(f"{self.label} is truncated: it stops after {self.consumed} bytes{where}, "
                         "before the end-of-archive marker.", _TAR_HINT)

    def _checksum(self, block: bytes, offset: int) -> None:
        try:
            stored = _number(block[148:156], "checksum", self.label, offset)
        except ParseError:
            stored = -1
        unsigned = sum(block) - sum(block[148:156]) + 8 * 32
        if stored == unsigned:
            return
        signed = unsigned - 256 * sum(1 for b in block[:148] + block[156:] if b > 127)
        if stored != signed:
            raise ParseError(f"{self.label}: the data at byte {offset} is not a valid tar header (bad checksum).",
                             _TAR_HINT)

    def _hostile(self, offset: int, what: str) -> ParseError:
        return ParseError(f"{self.label}: the tar header at byte {offset} {what}.", _HOSTILE_HINT)

    def _header(self, block: bytes, offset: int) -> None:
        if block == _ZERO_BLOCK:
            self._state = _END
            return
        self._checksum(block, offset)
        type_flag = block[156:157]
        size = _number(block[124:136], "size", self.label, offset)
        if type_flag in (b"x", b"g", b"L", b"K"):
            if size < 0 or size > _MAX_EXTENDED_HEADER:
                raise ParseError(f"{self.label}: an extended tar header at byte {offset} claims {size} bytes.",
                                 _HOSTILE_HINT)
            self._pending += size
            if self._pending > _MAX_PENDING_EXTENDED:
                raise self._hostile(offset, "adds to more than 1 MiB of extended headers in a row")
            self._extended_type = type_flag
            self._extended.clear()
            self._left = size
            self._member_name = "(extended header)"
            self._state = _EXTENDED if size else _HEADER
            if not size:
                self._end_extended()
            return
        self._pending = 0
        name = _text(block[0:100])
        if block[257:263] == b"ustar\x00" and block[345]:
            name = _text(block[345:500]) + "/" + name
        linkname = _text(block[157:257]) if block[157] else ""
        kind = _KINDS.get(type_flag, "file")
        pax = {**self._global_pax, **self._pax} if self._global_pax else self._pax
        if self._long_name is not None:
            name = self._long_name
        if self._long_link is not None:
            linkname = self._long_link
        mtime = _number(block[136:148], "mtime", self.label, offset)
        uid = _number(block[108:116], "uid", self.label, offset)
        gid = _number(block[116:124], "gid", self.label, offset)
        if pax:
            name = pax.get("path", name)
            linkname = pax.get("linkpath", linkname)
            size = int(pax.get("size", size))
            uid = int(pax.get("uid", uid))
            gid = int(pax.get("gid", gid))
            if "mtime" in pax:
                mtime = int(pax["mtime"].partition(".")[0])
            self._pax = {}
        self._long_name = self._long_link = None
        if size < 0:
            raise self._hostile(offset, f"gives {name!r} a negative size ({size})")
        if (len(name) > _QUICK_NAME or len(linkname) > _QUICK_NAME) and (_too_long(name) or _too_long(linkname)):
            raise self._hostile(offset, f"has a name longer than {MAX_NAME_BYTES} bytes ({name[:40]!r}...)")
        member = _Member(name, kind, size, _number(block[100:108], "mode", self.label, offset), uid, gid,
                         mtime, linkname, offset)
        self._member_name = name
        if kind in _HEADER_ONLY:
            size = 0
        self._sink = self._on_member(member)
        self._left = self._data_size = size
        if size:
            self._state = _DATA
        else:
            self._state = _HEADER
            if self._sink is not None:
                self._sink.close()
                self._sink = None

    def _end_data(self) -> None:
        if self._sink is not None:
            sink, self._sink = self._sink, None
            sink.close()
        self._left = (BLOCK - self._data_size % BLOCK) % BLOCK
        self._state = _PAD if self._left else _HEADER

    def _end_extended(self) -> None:
        data = bytes(self._extended)
        self._left = (BLOCK - len(data) % BLOCK) % BLOCK
        kind = self._extended_type
        if kind == b"L":
            self._long_name = _text(data)
        elif kind == b"K":
            self._long_link = _text(data)
        else:
            records = self._pax_records(data)
            if kind == b"g":
                self._global_size += len(data)
                if self._global_size > _MAX_PENDING_EXTENDED:
                    raise ParseError(f"{self.label}: its global pax headers add to more than 1 MiB.", _HOSTILE_HINT)
                self._global_pax.update(records)
            else:
                self._pax.update(records)
        self._state = _PAD if self._left else _HEADER

    def _pax_records(self, data: bytes) -> dict[str, str]:
        """The records of a pax header, the values the parser uses checked: decimal numbers, names without NUL."""
        records: dict[str, str] = {}
        pos = 0
        while pos < len(data):
            if data[pos] == 0:
                break
            space = data.find(b" ", pos)
            try:
                length = int(data[pos:space]) if space > pos else 0
            except ValueError:
                length = 0
            record = data[pos:pos + length]
            if length <= 0 or space < 0 or len(record) != length or not record.endswith(b"\n") or b"=" not in record:
                raise ParseError(f"{self.label}: a pax extended header is malformed.", _TAR_HINT)
            raw_key, _, value = record[space - pos + 1:-1].partition(b"=")
            key = raw_key.decode("utf-8", "replace")
            pattern = _PAX_NUMBERS.get(key)
            if pattern is not None and not pattern.fullmatch(value):
                raise ParseError(f"{self.label}: a pax header gives {key} the value {value[:40]!r}, "
                                 "which is no plain decimal number.", _HOSTILE_HINT)
            if key in ("path", "linkpath") and b"\0" in value:
                raise ParseError(f"{self.label}: a pax header gives a {key} with a NUL byte in it.", _HOSTILE_HINT)
            records[key] = value.decode("utf-8", "surrogateescape")
            pos += length
        return records


# -- path rules ---------------------------------------------------------------------------------
def _layer_path(name: str, label: str, scope: str = "image") -> str:
    """An entry's name as a clean relative path; ParseError for absolute names and '..'."""
    if name.startswith("/"):
        raise ParseError(f"{label}: the entry {name!r} has an absolute path, which could land outside the {scope}.",
                         _HOSTILE_HINT)
    parts = name.split("/")
    if ".." in parts:
        raise ParseError(f"{label}: the entry {name!r} contains '..' and could land outside the {scope}.",
                         _HOSTILE_HINT)
    if "" in parts or "." in parts:
        parts = [part for part in parts if part not in ("", ".")]
    return "/".join(parts)


def _climbs_out(directory: str, target: str) -> bool:
    """Whether a relative link target, seen from ``directory``, climbs above the root."""
    depth = len([part for part in directory.split("/") if part]) if directory else 0
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def _check_link(entry: TarEntry, label: str, scope: str = "image") -> TarEntry:
    target = entry.link_target
    if entry.kind == "hardlink":
        if not target:
            raise ParseError(f"{label}: the hard link {entry.path!r} has no target.", _HOSTILE_HINT)
        if target.startswith("/") or ".." in target.split("/"):
            raise ParseError(f"{label}: the hard link {entry.path!r} points outside the {scope} ({target!r}).",
                             _HOSTILE_HINT)
        cleaned = _layer_path(target, label, scope)
        if not cleaned:
            raise ParseError(f"{label}: the hard link {entry.path!r} points at the root ({target!r}).", _HOSTILE_HINT)
        return entry._replace(link_target=cleaned)
    if not target.startswith("/") and _climbs_out(entry.path.rpartition("/")[0], target):
        raise ParseError(f"{label}: the symbolic link {entry.path!r} -> {target!r} climbs out of the {scope}.",
                         _HOSTILE_HINT)
    return entry


def whiteout_of(path: str) -> tuple[str, str]:
    """What a layer entry's path means to overlayfs, the one decoding of whiteouts.

    ('entry', path) for an ordinary entry, ('whiteout', path deleted), ('opaque', directory made opaque)
    or ('ignored', path) for AUFS metadata ('.wh..wh.plnk', ...), which no layer applies.
    """
    directory, _, base = path.rpartition("/")
    if not base.startswith(WHITEOUT_PREFIX):
        return "entry", path
    if base == OPAQUE_MARKER:
        return "opaque", directory
    if base.startswith(WHITEOUT_PREFIX + WHITEOUT_PREFIX):
        return "ignored", path
    deleted = base[len(WHITEOUT_PREFIX):]
    return "whiteout", f"{directory}/{deleted}" if directory else deleted


def layer_entry(member: _Member, label: str, *, scope: str = "image", whiteouts: bool = True) -> TarEntry | None:
    """A tar member as a checked entry: a clean relative path, a whiteout that names a file, links kept inside.

    None for the root entry ('./'). Every reader and extractor of layers (and of root filesystems, with
    ``whiteouts=False``: their '.wh.' names are plain files) goes through here, so the rules hold everywhere.
    """
    path = _layer_path(member.name, label, scope)
    if not path:
        return None
    if whiteouts and WHITEOUT_PREFIX in path:
        role, subject = whiteout_of(path)
        if role == "whiteout" and subject.rpartition("/")[2] in ("", ".", ".."):
            raise ParseError(f"{label}: the whiteout {path!r} names {subject.rpartition('/')[2]!r}, which would "
                             f"delete a directory around it instead of a file in the {scope}.", _HOSTILE_HINT)
    entry = TarEntry(path, member.kind, member.size if member.kind == "file" else 0, member.mode & 0o7777,
                     member.uid, member.gid, member.mtime, member.linkname)
    if member.kind in ("hardlink", "symlink"):
        entry = _check_link(entry, label, scope)
    return entry
