"""What every exercise check shares: the verdict, the "not answered yet" rule, and the set-answer grader.

A check never raises for a wrong or missing answer; it returns a CheckResult that shows a tick, or what is
wrong and a hint for the next try. Each lesson's checks live in `course.lessonNN` and compare the answer
with the real machine where they can.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CheckResult", "NOT_ANSWERED", "unanswered", "answer_set", "grade_set"]

NOT_ANSWERED = "Not answered yet: replace None with your answer and run the cell again."


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one exercise: passed or not, what was found, a hint."""

    passed: bool
    message: str
    hint: str = ""

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        if self.passed:
            return f"\N{WHITE HEAVY CHECK MARK} {self.message}"
        return f"\N{CROSS MARK} {self.message}\n   Hint: {self.hint}" if self.hint else f"\N{CROSS MARK} {self.message}"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        colour = "#1a7f37" if self.passed else "#b42318"
        hint = "" if self.passed or not self.hint else f"<br><em>Hint:</em> {html.escape(self.hint)}"
        mark = "\N{WHITE HEAVY CHECK MARK}" if self.passed else "\N{CROSS MARK}"
        style = f"border-left:4px solid {colour};padding:4px 10px"
        body = f'<div style="{style}">{mark} {html.escape(self.message)}{hint}</div>'
        return {"text/plain": str(self), "text/html": body}


def unanswered(answer: Any, hint: str) -> CheckResult | None:
    """The verdict for an answer left as None (or ...), else None: the check goes on."""
    if answer is None or answer is ...:
        return CheckResult(False, NOT_ANSWERED, hint)
    return None


def _plain(item: Any) -> str:
    return str(item).strip().lower()


def answer_set(answer: Any, normalise: Callable[[Any], str] = _plain, separators: str = r"[,;]+") -> set[str]:
    """An answer given as a set, a list or a 'pid, net' string, as a set of normalised names.

    Text is split at ``separators`` (commas or semicolons: choices may hold spaces, as "root filesystem").
    Raises TypeError for an answer that is neither text nor a collection (a number, say).
    """
    items = re.split(separators, answer) if isinstance(answer, str) else list(answer)
    return {name for name in (normalise(item) for item in items) if name}


def _are(names: Sequence[str]) -> str:
    return f"{', '.join(names)} {'is' if len(names) == 1 else 'are'}"


def grade_set(answer: Any, expected: Iterable[str], choices: Sequence[str], *, hint: str, right: str,
              extra: str, lacking: str, normalise: Callable[[Any], str] = _plain,
              separators: str = r"[,;]+", what: str = "the choices") -> CheckResult:
    """Grade an answer that names a set of ``choices`` against the ``expected`` set (from the real machine).

    A wrong answer is told what it listed that does not belong (``extra``, e.g. "its own") and what it left
    out (``lacking``, e.g. "shared too"), in the order of ``choices``.
    """
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    try:
        given = answer_set(answer, normalise, separators)
    except TypeError:
        return CheckResult(False, f"{answer!r} is not a set of names from {what}.", hint)
    unknown = sorted(given - set(choices))
    if unknown:
        return CheckResult(False, f"{_are(unknown)} not among {what}: {', '.join(choices)}.", hint)
    wanted = set(expected)
    if given == wanted:
        return CheckResult(True, right)
    parts = []
    if given - wanted:
        parts.append(f"{_are([c for c in choices if c in given - wanted])} {extra}")
    if wanted - given:
        parts.append(f"{_are([c for c in choices if c in wanted - given])} {lacking}")
    return CheckResult(False, "Not quite: " + "; ".join(parts) + ".", hint)


