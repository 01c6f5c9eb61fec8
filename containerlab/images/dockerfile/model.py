"""The parsed Dockerfile: instructions (with their lines, flags, words, heredocs), build stages, the whole file.

Frozen dataclasses that :mod:`.parse` fills; which instructions make a layer is decided there.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from ...errors import ParseError


@dataclass(frozen=True)
class Heredoc:
    """A here-document: its name, body, whether the builder expands variables in it, where it starts."""

    name: str
    body: str
    expand: bool
    strip_tabs: bool
    line: int


@dataclass(frozen=True)
class Instruction:
    """One instruction with its source lines, flags, arguments (substituted where Docker does)."""

    keyword: str
    raw: str
    line: int
    end_line: int
    flags: tuple[tuple[str, str | None], ...] = ()
    args: tuple[str, ...] = ()
    json_form: bool = False
    heredocs: tuple[Heredoc, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()
    stage: int = -1
    workdir: str = "/"
    creates_layer: bool = False

    def flag(self, name: str, default: str | None = None) -> str | None:
        """The value of --name (the last one wins); '' for a bare --name; ``default`` when absent."""
        found = default
        for key, value in self.flags:
            if key == name:
                found = "" if value is None else value
        return found

    @property
    def command(self) -> str:
        """RUN / CMD / ENTRYPOINT: the shell command, or the exec-form list joined by spaces."""
        return " ".join(self.args)

    @property
    def script(self) -> str:
        """The command plus any heredoc bodies: everything the shell will run."""
        return "\n".join([self.command, *(doc.body for doc in self.heredocs)])

    @property
    def sources(self) -> tuple[str, ...]:
        """COPY / ADD: the sources (heredoc names included)."""
        return self.args[:-1] if self.keyword in ("COPY", "ADD") else ()

    @property
    def destination(self) -> str:
        """COPY / ADD: the destination, made absolute with the WORKDIR in effect."""
        if self.keyword not in ("COPY", "ADD") or not self.args:
            return ""
        dest = self.args[-1]
        absolute = posixpath.normpath(posixpath.join(self.workdir, dest))
        return absolute + "/" if dest.endswith("/") and absolute != "/" else absolute

    @property
    def text(self) -> str:
        """The instruction on one line as written (after joining continuations)."""
        return f"{self.keyword} {self.raw}".strip()

    def __str__(self) -> str:
        return f"line {self.line}: {self.text}"


@dataclass(frozen=True)
class Stage:
    """A build stage: FROM and what follows until the next FROM.

    ``base`` is the image (or earlier stage) it starts from. When FROM names it through build arguments that
    have no value here (``ARG BASE`` then ``FROM ${BASE}``), ``base`` is the reference as written and
    ``unresolved_args`` names those arguments: ``docker build --build-arg`` must supply them.
    """

    index: int
    name: str
    base: str
    line: int
    instructions: tuple[Instruction, ...]
    base_stage: int | None = None
    platform: str = ""
    unresolved_args: tuple[str, ...] = ()

    @property
    def layer_instructions(self) -> list[Instruction]:
        """The instructions of this stage that add a filesystem layer."""
        return [i for i in self.instructions if i.creates_layer]

    @property
    def user(self) -> str:
        """The USER the stage's image runs as ('' when never set: root)."""
        users = [i.args[0] for i in self.instructions if i.keyword == "USER" and i.args]
        return users[-1] if users else ""

    def copies_from(self) -> list[str]:
        """The stages or images this stage copies from (COPY --from=...)."""
        return [i.flag("from") or "" for i in self.instructions if i.keyword == "COPY" and i.flag("from")]


@dataclass(frozen=True)
class Dockerfile:
    """A parsed Dockerfile: directives, global ARGs, stages, and every instruction in order."""

    instructions: tuple[Instruction, ...]
    stages: tuple[Stage, ...]
    directives: dict[str, str] = field(default_factory=dict)
    build_args: dict[str, str] = field(default_factory=dict)

    @property
    def escape(self) -> str:
        """The escape character ('\\' unless '# escape=`')."""
        return self.directives.get("escape", "\\")

    @property
    def syntax(self) -> str:
        """The '# syntax=' frontend image, '' when not given."""
        return self.directives.get("syntax", "")

    @property
    def global_args(self) -> tuple[Instruction, ...]:
        """ARG instructions before the first FROM (visible to FROM lines)."""
        return tuple(i for i in self.instructions if i.stage == -1)

    @property
    def final_stage(self) -> Stage:
        """The last stage: what `docker build` produces without --target."""
        return self.stages[-1]

    def stage(self, key: int | str) -> Stage:
        """A stage by index or name (case-insensitive; of two stages with one name, the later, as BuildKit)."""
        if isinstance(key, int):
            return self.stages[key]
        for stage in reversed(self.stages):
            if stage.name == key.lower():
                return stage
        raise ParseError(f"The Dockerfile has no stage named {key!r}.",
                         f"Stages: {', '.join(s.name or str(s.index) for s in self.stages)}.")

    def layer_instructions(self, stage: int | str | None = None) -> list[Instruction]:
        """The layer-making instructions of a stage (the final one by default)."""
        return (self.final_stage if stage is None else self.stage(stage)).layer_instructions
