"""Today's known divergences from the references: ONE list, each marked xfail(strict=True) in the tests.

An entry is removed when its divergence is fixed: a fixed file then passes, and strict xfail makes the stale
entry fail until it is removed. DIVERGENCES describes each kind (where the course is at fault, what to
do); KNOWN_* map a corpus file (its path under tests/fixtures/corpus) to the kinds that make its test fail.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Divergence:
    """One kind of divergence: what differs, the module/function at fault, and the suggested fix."""

    summary: str
    at_fault: str
    fix: str


# Phase 2 fixed every divergence phase 1 found (issue 17: the Dockerfile parser, the compose model and
# rm-in-later-layer); a new one is described here and its files listed below until it is fixed.
DIVERGENCES: dict[str, Divergence] = {}

KNOWN_COMPOSE: dict[str, tuple[str, ...]] = {}

KNOWN_DOCKERFILE: dict[str, tuple[str, ...]] = {}

KNOWN_LINT: dict[str, tuple[str, ...]] = {}


def reason(kinds: tuple[str, ...]) -> str:
    """The xfail reason for a file: the summaries of its divergences."""
    return "; ".join(f"[{kind}] {DIVERGENCES[kind].summary}" for kind in kinds)
