"""Shared pieces of the fuzz tests (tests/unit/test_fuzz_*.py): the one property and a few strategies.

The property every reader must keep on any input: it returns, or it raises the course's own
error (a :class:`containerlab.errors.LabError`) with a message and a hint a learner can act on;
never an unrelated exception. The tests import this module by name (pytest puts this
directory on sys.path).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from containerlab.errors import LabError

# Bounded: each fuzz test stays within a few seconds on two cores. For a deeper hunt, scale every
# test's example count: CONTAINERLAB_FUZZ_SCALE=20 .venv/bin/python -m pytest tests/unit/test_fuzz_*.py
SCALE = max(1, int(os.environ.get("CONTAINERLAB_FUZZ_SCALE", "1")))
FUZZ = settings(max_examples=150 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_SLOW = settings(max_examples=40 * SCALE, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# Text as kernel files have it: printable ASCII, spaces, tabs, newlines, a few odd characters.
KERNEL_ALPHABET = st.sampled_from(list("0123456789abcdefxyz:/-=,[]() \t\n\\_.") + ["\x00", "é", "\u2028", "\u0085",
                                                                                "\x1c", "\x0b", "\r", "٣"])
kernel_text = st.text(KERNEL_ALPHABET, max_size=300)
any_text = st.text(max_size=300)


def returns_or_lab_error(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the reader; a LabError with a message and a hint is fine, any other exception fails."""
    try:
        return call(*args, **kwargs)
    except LabError as err:
        assert err.message.strip(), f"{type(err).__name__} without a message"
        assert err.hint.strip(), f"{type(err).__name__} without a hint: {err.message}"
        return err


def mutations(text: str) -> st.SearchStrategy[str]:
    """Real file text, damaged: a slice cut out, a piece replaced, or truncated."""
    size = len(text)
    cut = st.tuples(st.integers(0, size), st.integers(0, size)).map(
        lambda ends: text[:min(ends)] + text[max(ends):])
    replaced = st.tuples(st.integers(0, size), st.integers(0, 20), kernel_text).map(
        lambda args: text[:args[0]] + args[2] + text[args[0] + args[1]:])
    truncated = st.integers(0, size).map(lambda end: text[:end])
    return st.one_of(cut, replaced, truncated)


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Every path under root (not following links) with its kind and size: to prove nothing changed."""
    found: dict[str, tuple[str, int]] = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(directory, name)
            info = path.lstat()
            kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
            found[str(path.relative_to(root))] = (kind, 0 if kind == "dir" else info.st_size)
    return found
