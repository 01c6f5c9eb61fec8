"""Small text helpers shared across the package: ``${`` brace matching for the parsers, sizes for people."""

from __future__ import annotations

__all__ = ["closing_brace", "human_size"]


def closing_brace(text: str, start: int) -> int:
    """Index of the '}' closing a '${' whose body starts at ``start`` (nested '${' counted); -1 if none."""
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1

def human_size(size: int) -> str:
    """Bytes in decimal units, three significant digits: '0 B', '102 B', '3.22 kB', '1.98 MB'."""
    if size < 1000:
        return f"{size} B"
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 999.5 or unit == "TB":
            digits = 2 if value < 9.995 else 1 if value < 99.95 else 0
            return f"{value:.{digits}f} {unit}"
    raise AssertionError("unreachable")
