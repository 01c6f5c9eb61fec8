"""Kernel text as the kernel writes it: bytes, lines ended by '\\n' only, fields split by spaces and tabs.

The kernel writes names (a process's comm, a mount point, a cgroup path) as the bytes it was given, which need
not be UTF-8, and it never treats U+0085, U+2028 or 0x1C as line breaks; ``str.splitlines()`` and
``str.split()`` do. Every reader of ``/proc`` and ``/sys/fs/cgroup`` goes through here: bytes decoded as UTF-8
with ``surrogateescape`` (the original bytes come back when the text is encoded again, e.g. to open a path),
lines split at '\\n', fields at ASCII blanks, numbers in ASCII digits. Budget: a kernel file is read up to
16 MiB (a host with ten thousand mounts has about 1.5 MB of mountinfo).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ParseError

__all__ = ["MAX_KERNEL_FILE", "read_kernel_text", "kernel_lines", "kernel_fields", "kernel_int", "proc_file"]

MAX_KERNEL_FILE = 16 << 20
_BLANKS = re.compile(r"[ \t]+")
_INTEGER = re.compile(r"-?[0-9]+")
BLANK = " \t"


def read_kernel_text(path: str | Path) -> str:
    """The text of a kernel file, any bytes kept (surrogateescape); ParseError for a directory or a huge file.

    FileNotFoundError and PermissionError pass through: callers decide what a missing file means.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_KERNEL_FILE + 1)
    except IsADirectoryError:
        raise ParseError(f"{path} is a directory, not a kernel file.",
                         "Pass the path of the file itself (e.g. .../memory.max), not of a directory.") from None
    if len(data) > MAX_KERNEL_FILE:
        raise ParseError(f"{path} is longer than {MAX_KERNEL_FILE >> 20} MiB, which no kernel file of this kind is.",
                         "Pass the unmodified kernel file (from /proc or /sys/fs/cgroup).")
    return data.decode("utf-8", "surrogateescape")


def kernel_lines(text: str) -> list[str]:
    """The lines of kernel text: split at '\\n' only (the trailing empty piece dropped)."""
    lines = text.split("\n")
    if lines and not lines[-1]:
        lines.pop()
    return lines


def kernel_fields(line: str) -> list[str]:
    """The blank-separated fields of a line (spaces and tabs only)."""
    stripped = line.strip(BLANK)
    return _BLANKS.split(stripped) if stripped else []


def kernel_int(text: str) -> int:
    """An integer written in ASCII digits (ValueError otherwise: no '1_000', no other scripts' digits)."""
    if not _INTEGER.fullmatch(text):
        raise ValueError(f"not a decimal integer: {text[:40]!r}")
    return int(text)


def proc_file(pid: int | str, name: str, proc: str | Path = "/proc") -> Path:
    """The path of /proc/PID/<name>; ProcessLookupError if the process is gone (or never was)."""
    process_dir = Path(proc) / str(pid)
    if not process_dir.is_dir():
        raise ProcessLookupError(f"no process {pid} under {proc}")
    return process_dir / name
