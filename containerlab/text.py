"""Small text helpers shared by the pure parsers (Dockerfile and Compose variable substitution)."""

from __future__ import annotations

__all__ = ["closing_brace"]


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
