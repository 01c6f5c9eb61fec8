"""Where each part of a Compose project was written: file, line and key path, across extends and include.

A project read from one file keeps the line table of that file. When ``extends`` or ``include`` brings in parts of
other files, each merged service or imported resource gets a table of its own: for a key path inside it, the file
it came from and the key path it has there. An error can then name the line a learner has to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Origin:
    """One file's line table, as :mod:`.yaml_lines` records it, and the name to show for the file."""

    source: str
    lines: Mapping[KeyPath, int]

    def line(self, path: KeyPath) -> int | None:
        """The 1-based line of ``path``, or of its nearest recorded parent."""
        lines = self.lines
        for end in range(len(path), -1, -1):
            found = lines.get(path[:end])
            if found is not None:
                return found
        return None


# A part of the merged document: the file it comes from and its key path there.
Placed = tuple[Origin, KeyPath]


@dataclass
class SourceMap:
    """Key path in the merged project -> (file shown, line, key path in that file)."""

    main: Origin
    moved: dict[KeyPath, dict[KeyPath, Placed]] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return self.main.source

    def place(self, resource: KeyPath, table: dict[KeyPath, Placed]) -> None:
        """Record where the parts of ``resource`` (a ("services", name)-like path) came from."""
        self.moved[resource] = table

    def where(self, path: KeyPath) -> tuple[str, int | None, KeyPath]:
        """The file, line and key path (as written in that file) of ``path`` of the merged project."""
        table = self.moved.get(path[:2]) if len(path) >= 2 else None
        if table is not None:
            rest = path[2:]
            for end in range(len(rest), -1, -1):
                placed = table.get(rest[:end])
                if placed is not None:
                    origin, there = placed
                    full = there + rest[end:]
                    return origin.source, origin.line(full), full
        return self.main.source, self.main.line(path), path

    def line(self, path: KeyPath) -> int | None:
        """The line of ``path`` in whichever file it was written."""
        return self.where(path)[1]


def format_path(path: KeyPath) -> str:
    """``("services", "web", "ports", 0)`` -> ``services.web.ports[0]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def located(source: str, line: int | None, path: KeyPath, message: str) -> str:
    """An error's first part: ``compose.yaml line 12, services.web.ports[0]: message``."""
    return source + (f" line {line}" if line else "") + (f", {format_path(path)}" if path else "") + f": {message}"
