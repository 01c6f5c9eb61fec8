"""The lab-check report: a list of checks, each ok / warn / fail / skip with a hint. Pure.

`python -m containerlab doctor` prints it as text or JSON; a notebook shows it as an SVG board.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Check", "Report", "STATUSES"]

STATUSES = ("ok", "warn", "fail", "skip")
_MARKS = {"ok": "[ok]  ", "warn": "[warn]", "fail": "[FAIL]", "skip": "[skip]"}


@dataclass(frozen=True)
class Check:
    """One line of the lab check: what was checked, what was found, what to do if it failed."""

    name: str
    status: str
    detail: str
    hint: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")


@dataclass
class Report:
    """All checks; the course can run when none failed."""

    checks: list[Check] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, status: str, detail: str, hint: str = "") -> Check:
        """Append a check and return it."""
        check = Check(name, status, detail, hint)
        self.checks.append(check)
        return check

    @property
    def ok(self) -> bool:
        """True when no check failed."""
        return not any(c.status == "fail" for c in self.checks)

    def __getitem__(self, name: str) -> Check:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def to_text(self) -> str:
        """The checklist as terminal text, a hint under each failure or warning."""
        width = max((len(c.name) for c in self.checks), default=0)
        lines = []
        for check in self.checks:
            lines.append(f"{_MARKS[check.status]} {check.name.ljust(width)}  {check.detail}")
            if check.hint and check.status in ("fail", "warn"):
                lines.append(f"{' ' * 7} {' ' * width}  -> {check.hint}")
        verdict = "The course can run on this machine." if self.ok else \
            "The course cannot run yet: fix the [FAIL] lines above."
        return "\n".join(lines + ["", verdict])

    def to_json(self) -> str:
        """Machine-readable report for collecting results from a room of machines."""
        return json.dumps({"ok": self.ok, "checks": [asdict(c) for c in self.checks], "facts": self.facts},
                          indent=2, sort_keys=True)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from .render.diagrams import checklist

        board = checklist([(c.status, c.name, c.detail) for c in self.checks], title="Lab check")
        return {**board._repr_mimebundle_(include, exclude), "text/plain": self.to_text()}
