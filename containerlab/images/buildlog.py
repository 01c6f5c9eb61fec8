"""Build logs read back: which step hit the build cache, which rebuilt, and why.

The classic builder (Docker's `docker build` without BuildKit, and docker-py's API builds)
prints ``Step 3/5 : COPY . /app`` then either `` ---> Using cache`` or the work it did;
Podman / Buildah print ``STEP 3/5: COPY . /app`` and ``--> Using cache <id>``. Steps are the
Dockerfile's instructions in order, so step N is instruction N: that ties every cache hit or
miss to a Dockerfile line. The rule behind the result is simple: a step is reused when the
builder has an image made by the *same instruction* on the *same parent* (for COPY / ADD:
from files with the same contents). The first miss gives every later step a new parent, so
everything after it rebuilds too.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .dockerfile import Dockerfile, Instruction

__all__ = ["BuildStep", "CacheDecision", "line_kind", "plain", "parse_build_log", "explain_cache", "predict_rebuild"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_STAGE = re.compile(r"^\[(\d+)/(\d+)\] ")  # Buildah's "[stage/stages] " in front of a multi-stage build's lines
_STEP = re.compile(r"^(?:Step|STEP) (\d+)/(\d+)\s*:\s*(.*)$")
_CACHED = re.compile(r"^\s*-{2,3}> Using cache\b")
_IMAGE = re.compile(r"^\s*-{2,3}> ([0-9a-f]{10,64})\s*$")
_NOISE = re.compile(r"^\s*(-{2,3}> Running in [0-9a-f]+|Removing intermediate container [0-9a-f]+|"
                    r"Successfully built [0-9a-f]+|Successfully tagged \S+|COMMIT\b.*|[0-9a-f]{64})\s*$")


def plain(line: str) -> str:
    """A log line without its terminal colour codes (the builder colours what a step wrote to stderr)."""
    return _ANSI.sub("", line)


def _unstaged(line: str) -> tuple[int | None, str]:
    """(stage number or None, the line without Buildah's ``[stage/stages]`` prefix)."""
    found = _STAGE.match(line.strip())
    return (int(found.group(1)), line.strip()[found.end():]) if found else (None, line)


def line_kind(line: str) -> str:
    """What a build log line is: 'step', 'cached', 'image', 'noise' (IDs, intermediate containers), 'blank'
    or 'output' (what the step's command printed)."""
    line = _unstaged(_ANSI.sub("", line))[1]
    if not line.strip():
        return "blank"
    if _STEP.match(line.strip()):
        return "step"
    if _CACHED.match(line):
        return "cached"
    if _IMAGE.match(line):
        return "image"
    return "noise" if _NOISE.match(line) else "output"


@dataclass(frozen=True)
class BuildStep:
    """One step of a build as its log tells it: instruction, cache hit or not, the lines it printed."""

    number: int
    total: int
    instruction: str
    cached: bool = False
    image: str = ""
    output: tuple[str, ...] = ()

    @property
    def keyword(self) -> str:
        """FROM, RUN, COPY, ... (upper case)."""
        return self.instruction.split(None, 1)[0].upper() if self.instruction else ""


@dataclass(frozen=True)
class CacheDecision:
    """A build step tied to its Dockerfile line, with the reason it was reused or rebuilt."""

    step: BuildStep
    instruction: Instruction | None
    status: str
    reason: str

    @property
    def line(self) -> int | None:
        """The Dockerfile line of the instruction (None for steps the builder added, like --label)."""
        return self.instruction.line if self.instruction else None

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "(builder)"
        return f"{where:8} {self.status:8} {self.step.instruction[:48]:48}  {self.reason}"


@dataclass
class _Open:
    number: int
    total: int
    instruction: str
    cached: bool = False
    image: str = ""
    output: list[str] = field(default_factory=list)


def parse_build_log(lines: Iterable[str]) -> list[BuildStep]:
    """The steps of a classic-builder or Podman build log (a list of lines or one text).

    Steps are numbered over the whole Dockerfile as the classic builder does: Buildah numbers them
    per stage (``[2/2] STEP 1/4: FROM ...``), so its numbers are shifted by the earlier stages' steps."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    steps: list[BuildStep] = []
    current: _Open | None = None
    stage, offset, stage_total = None, 0, 0

    def close() -> None:
        if current is not None:
            steps.append(BuildStep(current.number, current.total, current.instruction, current.cached,
                                   current.image, tuple(current.output)))

    for raw in lines:
        for line in _ANSI.sub("", str(raw)).splitlines():
            line_stage, line = _unstaged(line)
            match = _STEP.match(line.strip())
            if match:
                close()
                number, total = int(match.group(1)), int(match.group(2))
                if line_stage is not None and line_stage != stage:
                    offset += stage_total if stage is not None else 0
                    stage = line_stage
                stage_total = total
                current = _Open(offset + number, offset + total, match.group(3).strip())
                continue
            kind = line_kind(line)
            if current is None or kind in ("blank", "noise"):
                continue
            if kind == "cached":
                current.cached = True
                current.image = current.image or line.split("Using cache", 1)[1].strip()
            elif kind == "image":
                found = _IMAGE.match(line)
                current.image = found.group(1) if found else current.image
            else:
                current.output.append(line.rstrip())
    close()
    return steps


def _copy_sources(instruction: Instruction) -> list[str]:
    return [posixpath.normpath(source) for source in instruction.sources]


def _covers(source: str, path: str) -> bool:
    """Whether a COPY source (a file, a directory or a glob in the context) includes ``path``."""
    source = source.lstrip("./") if source not in (".", "./") else "."
    path = posixpath.normpath(path).lstrip("/")
    if source == ".":
        return True
    if any(ch in source for ch in "*?["):
        return fnmatch.fnmatchcase(path, source) or fnmatch.fnmatchcase(path, source + "/*")
    return path == source or path.startswith(source.rstrip("/") + "/")


def _reads_changed(instruction: Instruction, changed: Sequence[str]) -> list[str]:
    if instruction.keyword not in ("COPY", "ADD") or instruction.flag("from"):
        return []
    return [path for path in changed if any(_covers(source, path) for source in _copy_sources(instruction))]


def explain_cache(dockerfile: Dockerfile, steps: Sequence[BuildStep], *, changed: Sequence[str] = (),
                  nocache: bool = False) -> list[CacheDecision]:
    """Tie each logged step to its Dockerfile line and say why it was reused or rebuilt.

    ``changed``: context files you know changed since the last build (to name them);
    ``nocache``: the build was asked not to use the cache at all.
    """
    instructions = list(dockerfile.instructions)
    decisions: list[CacheDecision] = []
    first_miss: CacheDecision | None = None
    for step in steps:
        instruction = instructions[step.number - 1] if step.number <= len(instructions) else None
        if instruction is not None and instruction.keyword != step.keyword:
            instruction = None
        if step.keyword == "FROM":
            first_miss = None
            decisions.append(CacheDecision(step, instruction, "base", "the starting image: nothing to build"))
            continue
        if instruction is None:
            decisions.append(CacheDecision(step, None, "cached" if step.cached else "rebuilt",
                                           "a step the builder added (e.g. a --label), not in the Dockerfile"))
            continue
        if step.cached:
            what = "the same files" if step.keyword in ("COPY", "ADD") else "the same instruction"
            decisions.append(CacheDecision(step, instruction, "cached",
                                           f"cache hit: {what} on the same parent layer"))
            continue
        if nocache:
            decision = CacheDecision(step, instruction, "built", "built from scratch: the cache was not used")
        elif first_miss is not None:
            decision = CacheDecision(step, instruction, "rebuilt",
                                     f"its parent changed (line {first_miss.line} rebuilt above)")
        elif step.keyword in ("COPY", "ADD") and not instruction.flag("from"):
            named = _reads_changed(instruction, changed)
            reason = (f"cache miss: the files it copies changed ({', '.join(named)})" if named else
                      "cache miss: no earlier build copied these exact files onto this parent")
            decision = CacheDecision(step, instruction, "rebuilt", reason)
        elif step.keyword == "COPY":
            decision = CacheDecision(step, instruction, "rebuilt",
                                     f"cache miss: what it copies from {instruction.flag('from')!r} is new")
        else:
            decision = CacheDecision(step, instruction, "rebuilt",
                                     "cache miss: no earlier build ran this instruction on this parent")
        if first_miss is None and not nocache:
            first_miss = decision
        decisions.append(decision)
    return decisions


def predict_rebuild(dockerfile: Dockerfile, changed: Iterable[str], *, stage: int | str | None = None) -> list[int]:
    """The Dockerfile lines that rebuild when only the context files ``changed`` changed.

    The first COPY / ADD of the stage that reads a changed file misses the cache; it and every
    instruction after it in the stage rebuild. (Files that .dockerignore excludes never reach the
    builder: leave them out of ``changed``.)
    """
    chosen = dockerfile.final_stage if stage is None else dockerfile.stage(stage)
    changed = list(changed)
    lines: list[int] = []
    missed = False
    for instruction in chosen.instructions:
        if instruction.keyword == "FROM":
            continue
        if not missed and _reads_changed(instruction, changed):
            missed = True
        if missed:
            lines.append(instruction.line)
    return lines
