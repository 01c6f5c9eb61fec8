"""Parse /proc/PID/mountinfo (proc(5)) and overlayfs options into models.

Pure parsers take text; the thin readers take a pid and a ``proc`` prefix so
tests can point them at recorded fixtures.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ParseError
from .procfs import BLANK, kernel_fields, kernel_lines, proc_file, read_kernel_text

_OCTAL = re.compile(r"\\([0-7]{3})")
_NUMBER = re.compile(r"[0-9]+")
_HINT = "Pass the unmodified contents of /proc/PID/mountinfo; see proc(5) for the format."


def unescape(text: str) -> str:
    """Decode the kernel's octal escapes (\\040 space, \\011 tab, \\012 newline, \\134 backslash).

    ``\\000`` stays as it is: no path holds a NUL byte, and one would break every later file access.
    """
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)) if int(m.group(1), 8) else m.group(0), text)


@dataclass(frozen=True)
class OverlayOptions:
    """The layers of an overlay mount: lowerdirs (top first), upperdir, workdir, other options."""

    lowerdirs: list[str]
    upperdir: str | None = None
    workdir: str | None = None
    data_lowerdirs: list[str] = field(default_factory=list)
    other: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Mount:
    """One line of mountinfo: where a filesystem (or a part of it) is mounted, and how."""

    mount_id: int
    parent_id: int
    major: int
    minor: int
    root: str
    mount_point: str
    options: tuple[str, ...]
    optional_fields: tuple[str, ...]
    fs_type: str
    source: str
    super_options: tuple[str, ...]

    @property
    def read_only(self) -> bool:
        """Whether this mount is read-only (per-mount flag, not the superblock's)."""
        return "ro" in self.options

    @property
    def overlay(self) -> OverlayOptions | None:
        """The overlay layers when this is an overlay mount, else None."""
        if self.fs_type != "overlay":
            return None
        return parse_overlay_options(self.super_options)


def _split_lowerdir(raw: str) -> tuple[list[str], list[str]]:
    """Split a raw lowerdir value on ':' (honouring ``\\:`` and ``\\134:``); '::' starts data-only layers."""
    pieces: list[str] = []
    current = ""
    i = 0
    while i < len(raw):
        if raw.startswith("\\134:", i):
            current += ":"
            i += 5
        elif raw.startswith("\\:", i):
            current += ":"
            i += 2
        elif raw[i] == ":":
            pieces.append(current)
            current = ""
            i += 1
        else:
            current += raw[i]
            i += 1
    pieces.append(current)
    lower: list[str] = []
    data: list[str] = []
    target = lower
    for piece in pieces:
        if piece == "":
            target = data
            continue
        target.append(unescape(piece))
    return lower, data


def parse_overlay_options(super_options: tuple[str, ...] | list[str]) -> OverlayOptions:
    """Turn an overlay mount's super options into its layer directories and remaining options."""
    lower: list[str] = []
    data: list[str] = []
    values: dict[str, str] = {}
    other: dict[str, str | None] = {}
    for option in super_options:
        key, sep, value = option.partition("=")
        if key == "lowerdir":
            new_lower, new_data = _split_lowerdir(value)
            lower += new_lower
            data += new_data
        elif key == "lowerdir+":
            lower.append(unescape(value))
        elif key == "datadir+":
            data.append(unescape(value))
        elif key in ("upperdir", "workdir"):
            values[key] = unescape(value)
        elif key not in ("rw", "ro"):
            other[key] = unescape(value) if sep else None
    return OverlayOptions(lower, values.get("upperdir"), values.get("workdir"), data, other)


def _parse_line(line: str, number: int) -> Mount:
    """Parse one mountinfo line; raise ParseError naming the line number on any defect."""
    if "\0" in line:
        raise ParseError(f"mountinfo line {number}: a NUL byte, which the kernel never writes: {line!r}", _HINT)
    fields = line.split(" ")
    try:
        dash = fields.index("-", 6)
    except ValueError:
        raise ParseError(
            f"mountinfo line {number}: no ' - ' separator after the optional fields: {line!r}", _HINT
        ) from None
    if len(fields) - dash - 1 < 3:
        raise ParseError(
            f"mountinfo line {number}: expected fs type, source and super options after ' - ', "
            f"got {len(fields) - dash - 1} fields: {line!r}",
            _HINT,
        )
    mount_id, parent_id, dev = fields[0], fields[1], fields[2]
    major, colon, minor = dev.partition(":")
    if not (colon and all(_NUMBER.fullmatch(n) for n in (mount_id, parent_id, major, minor))):
        raise ParseError(
            f"mountinfo line {number}: mount id, parent id and major:minor must be numbers, got "
            f"{mount_id!r} {parent_id!r} {dev!r}",
            _HINT,
        )
    return Mount(
        mount_id=int(mount_id),
        parent_id=int(parent_id),
        major=int(major),
        minor=int(minor),
        root=unescape(fields[3]),
        mount_point=unescape(fields[4]),
        options=tuple(fields[5].split(",")),
        optional_fields=tuple(fields[6:dash]),
        fs_type=unescape(fields[dash + 1]),
        source=unescape(fields[dash + 2]),
        super_options=tuple(" ".join(fields[dash + 3 :]).split(",")),
    )


def parse_mountinfo(text: str) -> list[Mount]:
    """Parse the text of /proc/PID/mountinfo into Mounts, in file order; lines end at '\n' only, blank ones skipped."""
    return [_parse_line(line, n) for n, line in enumerate(kernel_lines(text), 1) if line.strip(BLANK)]


def read_mountinfo(pid: int | str = "self", proc: str | Path = "/proc") -> list[Mount]:
    """Read and parse the mount table a process sees (its mount namespace, its root); any bytes in paths kept."""
    return parse_mountinfo(read_kernel_text(proc_file(pid, "mountinfo", proc)))


def _is_under(path: str, mount_point: str) -> bool:
    """Whether path equals mount_point or lies below it, compared by whole components."""
    return mount_point == "/" or path == mount_point or path.startswith(mount_point.rstrip("/") + "/")


def find_mount(mounts: list[Mount], path: str) -> Mount | None:
    """The mount that serves path: longest mount point prefix; the last one stacked on a point wins."""
    path = posixpath.normpath("/" + path.lstrip("/"))
    best: Mount | None = None
    for mount in mounts:
        if _is_under(path, mount.mount_point) and (
            best is None or len(mount.mount_point) >= len(best.mount_point)
        ):
            best = mount
    return best


def root_mount(mounts: list[Mount]) -> Mount | None:
    """The mount at / (for a container, usually its overlay root filesystem)."""
    return find_mount(mounts, "/")


def filesystems_supported(proc_filesystems_text: str) -> set[str]:
    """Filesystem types named in /proc/filesystems (modules not yet loaded are absent)."""
    return {kernel_fields(line)[-1] for line in kernel_lines(proc_filesystems_text) if line.strip(BLANK)}


def overlay_supported(proc_filesystems_text: str) -> bool:
    """Whether the kernel lists overlayfs, the union filesystem container engines use."""
    return "overlay" in filesystems_supported(proc_filesystems_text)


def read_filesystems(proc: str | Path = "/proc") -> set[str]:
    """Read the filesystem types this kernel currently supports."""
    return filesystems_supported(read_kernel_text(Path(proc) / "filesystems"))
