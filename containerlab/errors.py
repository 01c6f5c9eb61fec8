"""Errors a learner can act on: one sentence of what happened, one of what to do.

Every expected failure in the course (no engine, socket permission, a missing image,
a bad input file) is a :class:`LabError`. In a notebook it prints as two short lines
instead of a traceback wall (see :func:`install_notebook_handler`).
"""

from __future__ import annotations

__all__ = [
    "LabError",
    "NoEngineError",
    "EnginePermissionError",
    "EngineTooOldError",
    "ImageMissingError",
    "HostToolMissingError",
    "ParseError",
    "UnsafeRequestError",
    "NameConflictError",
    "ContainerNotRunningError",
    "ContainerStartError",
    "DigestMismatchError",
    "InvalidReferenceError",
    "BudgetExceededError",
    "install_notebook_handler",
]


class LabError(Exception):
    """An expected failure with a one-line explanation and a one-line hint."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\nHint: {self.hint}"

    def one_line(self) -> str:
        """The message and hint on a single line, for logs and CLI output."""
        return f"{self.message} (hint: {self.hint})"


class NoEngineError(LabError):
    """No Docker or Podman engine answered."""


class EnginePermissionError(LabError):
    """The engine socket exists but this user may not use it."""


class EngineTooOldError(LabError):
    """The engine answers but speaks an API older than the course needs."""


class ImageMissingError(LabError):
    """A lab image the lesson needs has not been built yet."""


class HostToolMissingError(LabError):
    """A host program (busybox, debootstrap, runc, ...) is not installed."""


class ParseError(LabError):
    """Input text (a kernel file, a Dockerfile, a manifest) is malformed."""


class UnsafeRequestError(LabError):
    """A lesson asked for something the course refuses (public ports, the engine socket)."""


class NameConflictError(LabError):
    """A resource name is taken by something the course did not create."""


class ContainerNotRunningError(LabError):
    """The container has stopped (or was never started): nothing can run in it, and it has no cgroup any more."""


class ContainerStartError(LabError):
    """The engine created a container but could not start it (a flag this machine cannot honour)."""


def _show_lab_error(shell, etype, value, tb, tb_offset=None):
    """Print a LabError as two readable lines instead of a traceback."""
    print(f"\N{CROSS MARK} {value.message}\n\N{RIGHTWARDS ARROW} {value.hint}")
    return None


def install_notebook_handler() -> bool:
    """In IPython, show LabError as message + hint, not a traceback; True if installed."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc((LabError,), _show_lab_error)
    return True


class DigestMismatchError(LabError):
    """Content does not hash to the digest (or size) that names or describes it."""

    def __init__(self, message: str, hint: str, *, expected: str = "", actual: str = "") -> None:
        super().__init__(message, hint)
        self.expected = expected
        self.actual = actual


class InvalidReferenceError(ParseError):
    """An image reference (registry/repository:tag@digest) is malformed; `part` names the bad part."""

    def __init__(self, message: str, hint: str, *, part: str) -> None:
        super().__init__(message, hint)
        self.part = part


class BudgetExceededError(LabError):
    """Input would cost more than a reader's budget (images, documents, entries, bytes or seconds) allows.

    ``resource`` names the budget field that ran out and ``limit`` its value, so a caller who trusts the input
    can pass a larger budget.
    """

    def __init__(self, message: str, hint: str, *, resource: str, limit: float) -> None:
        super().__init__(message, hint)
        self.resource = resource
        self.limit = limit
