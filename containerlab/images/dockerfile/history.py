"""Dockerfile instructions mapped to a built image's history entries and layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..manifest import HistoryEntry
from .model import Dockerfile, Instruction


@dataclass(frozen=True)
class StepMatch:
    """An instruction and the history entry (and layer, if any) it produced in a built image."""

    instruction: Instruction
    history_index: int | None
    layer_index: int | None

    @property
    def matched(self) -> bool:
        """True when the instruction was found in the image's history."""
        return self.history_index is not None


def _norm(text: str) -> str:
    return " ".join(text.split())


def _step_score(instruction: Instruction, entry: HistoryEntry) -> int:
    """How well a history entry fits an instruction: 0 (not at all) to 3 (same text)."""
    if entry.keyword != instruction.keyword:
        return 0
    recorded = _norm(entry.instruction)
    if recorded == _norm(instruction.text):
        return 3
    body = _norm(recorded[len(instruction.keyword):])
    if instruction.keyword == "RUN":
        ours = _norm(instruction.command)
        return 3 if body == ours else 2 if ours and (body.startswith(ours[:40]) or ours.startswith(body[:40])) else 1
    if instruction.keyword in ("COPY", "ADD"):
        dest = body.split(" ")[-1].rstrip("/") if body else ""
        return 2 if dest and dest in (instruction.args[-1].rstrip("/"), instruction.destination.rstrip("/")) else 1
    if instruction.keyword in ("ENV", "LABEL"):
        return 2 if all(f"{k}=" in body for k, _ in instruction.pairs) else 1
    return 1


def map_to_history(dockerfile: Dockerfile, history: Sequence[HistoryEntry],
                   stage: int | str | None = None) -> list[StepMatch]:
    """Pair a stage's instructions (the final stage by default) with a built image's history.

    A best alignment (instructions and history both in order) by instruction keyword and
    text, preferring the newest entries, so the base image's history and steps the builder
    adds (such as `--label` LABELs) are skipped. FROM has no entry of its own.
    """
    chosen = dockerfile.final_stage if stage is None else dockerfile.stage(stage)
    steps = [i for i in chosen.instructions if i.keyword != "FROM"]
    n, m = len(steps), len(history)
    score = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        row, previous = score[i], score[i - 1]
        for j in range(1, m + 1):
            fit = _step_score(steps[i - 1], history[j - 1])
            row[j] = max(previous[j], row[j - 1], previous[j - 1] + fit if fit else 0)
    pairs: dict[int, int] = {}
    i, j = n, m
    while i > 0 and j > 0:
        fit = _step_score(steps[i - 1], history[j - 1])
        if fit and score[i][j] == score[i - 1][j - 1] + fit:
            pairs[i - 1] = j - 1
            i, j = i - 1, j - 1
        elif score[i][j] == score[i - 1][j]:
            i -= 1
        else:
            j -= 1
    layer_of: list[int | None] = []
    count = 0
    for entry in history:
        layer_of.append(None if entry.empty_layer else count)
        count += 0 if entry.empty_layer else 1
    return [StepMatch(step, pairs.get(k), layer_of[pairs[k]] if k in pairs else None) for k, step in enumerate(steps)]


# -- the linter -------------------------------------------------------------------------------------
