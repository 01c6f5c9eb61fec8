"""What a reader of untrusted input may spend at most: one Budget for the image tarball reader, the registry
client, the OCI layout and the workshop pack, and the Meter that counts one read against it.

Input made by someone else (an image tarball, a registry's answers, a pack) decides how much work a reader does:
a 20 KB tarball of nested indexes can name 46,656 images, a 1 MB gzip stream can inflate to 1 GiB. Every reader
takes a ``budget`` (a :class:`Budget`, defaults below) and stops with :class:`BudgetExceededError` saying which
limit ran out; a caller who trusts the input passes a larger one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..errors import BudgetExceededError

__all__ = ["Budget", "Meter", "MIB", "GIB"]

MIB = 1 << 20
GIB = 1 << 30


@dataclass(frozen=True)
class Budget:
    """Limits of one read; each reader's docstring says which it uses and what they bound."""

    images: int = 1_000
    """Distinct images one tarball may describe (manifests after duplicates are merged)."""
    documents: int = 10_000
    """JSON documents (indexes, manifests, configs, registry answers) one read may parse."""
    document_bytes: int = 8 * MIB
    """Bytes of one JSON document (registries accept manifests up to 4 MiB)."""
    buffered_bytes: int = 64 * MIB
    """Bytes held in memory together: the documents of a tarball, the blobs of an OCI layout read from a stream."""
    members: int = 100_000
    """Members of one tar archive (the outer tarball, a pack)."""
    entries: int = 1_000_000
    """Entries of all layers listed together (each costs a few hundred bytes of memory)."""
    bytes: int = 1 << 40
    """Bytes read plus bytes inflated from gzip, together."""
    seconds: float = 600.0
    """Wall-clock seconds of one read (for a registry client: of one call)."""


_PHRASES = {
    "images": "more than {limit} images",
    "documents": "more than {limit} JSON documents",
    "document_bytes": "a JSON document larger than {size}",
    "buffered_bytes": "more than {size} held in memory",
    "members": "more than {limit} archive members",
    "entries": "more than {limit} layer entries",
    "bytes": "more than {size} of data (read and inflated)",
    "seconds": "longer than {limit} seconds",
}


def size_text(size: float) -> str:
    """A budget's byte count as people write it: '8 MiB', '1 GiB', '512 bytes'."""
    for unit, factor in (("TiB", 1 << 40), ("GiB", GIB), ("MiB", MIB), ("KiB", 1 << 10)):
        if size >= factor:
            return f"{size / factor:g} {unit}"
    return f"{size:g} bytes"


def exceeded(what: str, resource: str, limit: float) -> BudgetExceededError:
    """The one-line error for ``what`` running past ``resource`` of a budget."""
    phrase = _PHRASES[resource].format(limit=f"{limit:,}" if isinstance(limit, int) else f"{limit:g}",
                                       size=size_text(limit))
    return BudgetExceededError(
        f"{what} needs {phrase}, over the reader's budget; it stopped there.",
        f"Do not use this input unless you trust it; then pass a larger budget, e.g. budget=Budget({resource}=...).",
        resource=resource, limit=limit)


class Meter:
    """What one read has spent against its Budget: counters that raise BudgetExceededError when they run out."""

    __slots__ = ("budget", "buffered_bytes", "bytes", "deadline", "documents", "entries", "images", "members",
                 "what")

    def __init__(self, budget: Budget | None, what: str) -> None:
        self.budget = budget if budget is not None else Budget()
        self.what = what
        self.deadline = time.monotonic() + self.budget.seconds
        self.images = self.documents = self.buffered_bytes = self.members = self.entries = self.bytes = 0

    def spend(self, resource: str, amount: int = 1) -> None:
        """Count ``amount`` of a resource (images, documents, buffered_bytes, members, entries or bytes)."""
        total = getattr(self, resource) + amount
        setattr(self, resource, total)
        limit = getattr(self.budget, resource)
        if total > limit:
            raise exceeded(self.what, resource, limit)

    def fits(self, resource: str, amount: int) -> bool:
        """Whether ``amount`` more would stay within the budget (nothing is counted)."""
        return getattr(self, resource) + amount <= getattr(self.budget, resource)

    def document(self, size: int) -> None:
        """Count one JSON document of ``size`` bytes."""
        if size > self.budget.document_bytes:
            raise exceeded(self.what, "document_bytes", self.budget.document_bytes)
        self.spend("documents")

    def check_time(self) -> None:
        """Raise when the read has run past its seconds."""
        if time.monotonic() > self.deadline:
            raise exceeded(self.what, "seconds", self.budget.seconds)

    def remaining(self) -> float:
        """Seconds left (0 once the deadline passed)."""
        return max(0.0, self.deadline - time.monotonic())
