"""Read a process's namespaces from /proc/PID/ns and compare them across processes.

Two processes share a namespace exactly when their ``ns/<type>`` links name the
same inode, which is how the course shows what a container does and does not isolate.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ParseError
from .procfs import proc_file

NAMESPACE_TYPES: tuple[str, ...] = ("pid", "net", "ipc", "mnt", "uts", "user", "cgroup", "time")

_LINK = re.compile(r"([a-z_]+):\[([0-9]+)\]")


def parse_ns_link(link: str) -> int:
    """The inode number in a namespace link such as ``net:[4026531840]``."""
    match = _LINK.fullmatch(link.strip())
    if match is None:
        raise ParseError(
            f"namespace link {link!r} is not of the form 'type:[inode]'",
            "Pass the target of a /proc/PID/ns/<type> symlink, as os.readlink returns it.",
        )
    return int(match.group(2))


@dataclass(frozen=True)
class Namespaces:
    """The namespace inodes of one process; None where a type is missing or unreadable."""

    pid: int | str
    inodes: dict[str, int | None]

    def __getitem__(self, ns_type: str) -> int | None:
        """The inode of one namespace type (None if unknown)."""
        return self.inodes.get(ns_type)


def read_namespaces(pid: int | str = "self", proc: str | Path = "/proc") -> Namespaces:
    """Read /proc/PID/ns/*; raise ProcessLookupError only if the process itself is gone."""
    ns_dir = proc_file(pid, "ns", proc)
    inodes: dict[str, int | None] = {}
    for ns_type in NAMESPACE_TYPES:
        try:
            inodes[ns_type] = parse_ns_link(os.readlink(ns_dir / ns_type))
        except OSError:
            inodes[ns_type] = None
    return Namespaces(pid=pid, inodes=inodes)


@dataclass(frozen=True)
class NamespaceComparison:
    """Which of several named processes share each namespace type."""

    namespaces: dict[str, Namespaces]

    @property
    def names(self) -> list[str]:
        """The process names, in the order given."""
        return list(self.namespaces)

    def groups(self, ns_type: str) -> list[list[str]]:
        """Names grouped by shared inode, in order of first appearance; unknown inodes left out."""
        by_inode: dict[int, list[str]] = {}
        for name, ns in self.namespaces.items():
            inode = ns[ns_type]
            if inode is not None:
                by_inode.setdefault(inode, []).append(name)
        return list(by_inode.values())

    def _pairs(self, a: str, b: str) -> list[tuple[str, int, int]]:
        """(type, inode of a, inode of b) for every type known for both processes."""
        first, second = self.namespaces[a], self.namespaces[b]
        return [
            (t, first[t], second[t])  # type: ignore[misc]
            for t in NAMESPACE_TYPES
            if first[t] is not None and second[t] is not None
        ]

    def shared(self, a: str, b: str) -> list[str]:
        """Namespace types that processes a and b share (same inode)."""
        return [t for t, x, y in self._pairs(a, b) if x == y]

    def isolated(self, a: str, b: str) -> list[str]:
        """Namespace types in which a and b are isolated from each other (different inodes)."""
        return [t for t, x, y in self._pairs(a, b) if x != y]

    def table(self) -> list[list[str]]:
        """Rows of [type, letter per name]: same letter = same namespace, '?' = unknown."""
        rows = []
        for ns_type in NAMESPACE_TYPES:
            letter = {
                name: chr(ord("A") + i) for i, group in enumerate(self.groups(ns_type)) for name in group
            }
            rows.append([ns_type] + [letter.get(name, "?") for name in self.names])
        return rows

    def __str__(self) -> str:
        """A stable table (letters, not inode numbers) for notebooks and nbval."""
        header = ["namespace"] + self.names
        rows = [header] + self.table()
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        return "\n".join(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows
        )


def compare_namespaces(named: dict[str, Namespaces]) -> NamespaceComparison:
    """Compare the namespaces of named processes, e.g. {"host": ..., "web": ...}."""
    return NamespaceComparison(dict(named))
