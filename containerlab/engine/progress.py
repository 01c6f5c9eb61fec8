"""How long work reports itself: one line at a time, to a callable (the notebook or the terminal by default)."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress", "print_progress"]

Progress = Callable[[str], None]


def print_progress(line: str) -> None:
    """Default progress: one flushed line per step, so a notebook or a terminal shows the work as it goes."""
    print(line, flush=True)
