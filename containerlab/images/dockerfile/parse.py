"""Dockerfiles, parsed the way BuildKit reads them; instructions mapped to image layers; a short linter.

Parsing follows BuildKit's frontend: parser directives at the top (``# syntax=``,
``# escape=``, ``# check=``), line continuations with the escape character (comment
lines inside a continuation are dropped), JSON (exec) versus shell form, heredocs
(``<<EOF``, ``<<-EOF``, ``<<"EOF"``) for RUN / COPY / ADD, ``--flags``, and ARG / ENV
substitution (``$VAR ${VAR} ${VAR:-default} ${VAR:+alt}`` and the ``-`` ``+`` ``?`` forms)
in the instructions where Docker applies it: ADD COPY ENV EXPOSE FROM LABEL STOPSIGNAL
USER VOLUME WORKDIR and ARG defaults. RUN, CMD and ENTRYPOINT are left alone (the shell
expands them when the container runs). FROM sees only the ARGs declared before the first
FROM; a stage sees a global ARG only after re-declaring it (``ARG NAME``).

Which instructions make a layer: RUN, COPY and ADD always do. WORKDIR makes one when its
directory is new, and this parser decides "new" from the Dockerfile alone: a directory is
known once an earlier WORKDIR, COPY or ADD of the same stage (or of the stage it builds
on) created it; anything else, including directories of the base image, counts as new.
Pass ``existing_dirs=`` when you know the base image's directories; :func:`map_to_history`
settles the question for a built image from its history.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import posixpath
import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ._text import closing_brace
from .errors import InvalidReferenceError, ParseError
from .images.manifest import HistoryEntry
from .images.reference import parse_reference

__all__ = [
    "KEYWORDS", "LAYER_KEYWORDS", "SUBSTITUTING_KEYWORDS", "Heredoc", "Instruction", "Stage", "Dockerfile",
    "StepMatch", "Finding", "parse_dockerfile", "map_to_history", "lint", "expand",
]

KEYWORDS = ("ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
            "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR")
LAYER_KEYWORDS = ("RUN", "COPY", "ADD")
SUBSTITUTING_KEYWORDS = ("ADD", "ARG", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER", "VOLUME",
                         "WORKDIR")
_JSON_CAPABLE = ("RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME")
_FLAGS = {
    "FROM": {"platform"},
    "RUN": {"mount", "network", "security"},
    "COPY": {"from", "chown", "chmod", "link", "parents", "exclude"},
    "ADD": {"chown", "chmod", "link", "checksum", "keep-git-dir", "exclude", "unpack"},
    "HEALTHCHECK": {"interval", "timeout", "start-period", "start-interval", "retries"},
}
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$")
_KNOWN_DIRECTIVES = ("syntax", "escape", "check")
_HEREDOC = re.compile(r"(?<![<\w])(\d*)<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_.-]*)\3(?=\s|$)")
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9_.-]*$")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FORMAT_HINT = "See https://docs.docker.com/reference/dockerfile/ for the instruction's syntax."


# -- variable substitution --------------------------------------------------------------------
Lookup = Callable[[str], "str | None"]



def _dollar(text: str, i: int, lookup: Lookup, escape: str, line: int) -> tuple[str, int]:
    """Expand the variable reference starting at text[i] == '$'; returns (value, next index)."""
    if i + 1 >= len(text):
        return "$", i + 1
    if text[i + 1] != "{":
        match = _NAME.match(text, i + 1)
        if not match:
            return "$", i + 1
        return lookup(match.group()) or "", match.end()
    end = closing_brace(text, i + 2)
    if end < 0:
        raise ParseError(f"line {line}: '${{' without a closing '}}' in {text!r}.",
                         "Write variables as ${NAME} or ${NAME:-default}.")
    body = text[i + 2:end]
    match = re.match(r"[A-Za-z0-9_]+", body)
    if not match:
        raise ParseError(f"line {line}: bad variable reference ${{{body}}}.",
                         "Write variables as ${NAME} or ${NAME:-default}.")
    name, rest = match.group(), body[match.end():]
    value = lookup(name)
    if not rest:
        return value or "", end + 1
    colon = rest.startswith(":")
    operator = rest[1:2] if colon else rest[:1]
    word = rest[2:] if colon else rest[1:]
    if operator not in ("-", "+", "?"):
        raise ParseError(f"line {line}: ${{{body}}} uses a modifier this parser does not support.",
                         "Supported: ${NAME}, ${NAME:-default}, ${NAME:+alt}, ${NAME-default}, ${NAME+alt}, "
                         "${NAME:?message}.")
    unset = value is None or (colon and value == "")
    if operator == "-":
        return ("".join(_lex(word, lookup, escape, line)) if unset else value or ""), end + 1
    if operator == "+":
        return ("" if unset else "".join(_lex(word, lookup, escape, line))), end + 1
    if unset:
        message = "".join(_lex(word, lookup, escape, line)) or "is not set"
        raise ParseError(f"line {line}: {name}: {message}.", f"Pass --build-arg {name}=... or declare ARG {name}.")
    return value or "", end + 1


def _lex(text: str, lookup: Lookup, escape: str, line: int, *, split: bool = False) -> list[str]:
    """Process quotes, escapes and $variables like BuildKit's shell lexer; words when ``split``."""
    words: list[str] = []
    current: list[str] = []
    started = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == escape:
            if i + 1 < n:
                current.append(text[i + 1])
            i += 2
            started = True
        elif ch == "'":
            close = text.find("'", i + 1)
            if close < 0:
                raise ParseError(f"line {line}: unmatched single quote in {text!r}.", "Close the quote.")
            current.append(text[i + 1:close])
            i = close + 1
            started = True
        elif ch == '"':
            i += 1
            started = True
            while True:
                if i >= n:
                    raise ParseError(f"line {line}: unmatched double quote in {text!r}.", "Close the quote.")
                c = text[i]
                if c == '"':
                    i += 1
                    break
                if c == escape and i + 1 < n and text[i + 1] in ('"', "$", escape):
                    current.append(text[i + 1])
                    i += 2
                elif c == "$":
                    value, i = _dollar(text, i, lookup, escape, line)
                    current.append(value)
                else:
                    current.append(c)
                    i += 1
        elif ch == "$":
            value, i = _dollar(text, i, lookup, escape, line)
            current.append(value)
            started = True
        elif split and ch.isspace():
            if started or current:
                words.append("".join(current))
            current, started = [], False
            i += 1
        else:
            current.append(ch)
            started = True
            i += 1
    if started or current:
        words.append("".join(current))
    return words


def _substitute(text: str, lookup: Lookup, line: int) -> str:
    """Replace $variables only (quotes and escapes stay): how COPY / ADD expand unquoted heredocs."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "$":
            value, i = _dollar(text, i, lookup, "\\", line)
            out.append(value)
        else:
            j = text.find("$", i)
            j = len(text) if j < 0 else j
            out.append(text[i:j])
            i = j
    return "".join(out)


def expand(text: str, variables: Mapping[str, str], *, escape: str = "\\") -> str:
    """Substitute $VAR / ${VAR...} in ``text`` and remove quotes, as Docker does for ENV values."""
    return "".join(_lex(text, variables.get, escape, 0))


# -- models ------------------------------------------------------------------------------------
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
    """A build stage: FROM and what follows until the next FROM."""

    index: int
    name: str
    base: str
    line: int
    instructions: tuple[Instruction, ...]
    base_stage: int | None = None
    platform: str = ""

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
        """A stage by index or name (case-insensitive)."""
        if isinstance(key, int):
            return self.stages[key]
        for stage in self.stages:
            if stage.name == key.lower():
                return stage
        raise ParseError(f"The Dockerfile has no stage named {key!r}.",
                         f"Stages: {', '.join(s.name or str(s.index) for s in self.stages)}.")

    def layer_instructions(self, stage: int | str | None = None) -> list[Instruction]:
        """The layer-making instructions of a stage (the final one by default)."""
        return (self.final_stage if stage is None else self.stage(stage)).layer_instructions

    def lint(self) -> list["Finding"]:
        """Best-practice findings; see :func:`lint`."""
        return lint(self)


# -- parsing ---------------------------------------------------------------------------------------
def _directives(lines: list[str]) -> tuple[dict[str, str], int]:
    found: dict[str, str] = {}
    for number, line in enumerate(lines):
        match = _DIRECTIVE.match(line)
        if not match or match.group(1).lower() not in _KNOWN_DIRECTIVES:
            return found, number
        name = match.group(1).lower()
        if name in found:
            raise ParseError(f"line {number + 1}: the parser directive {name!r} is given twice.",
                             "Keep one '# {name}=' line at the top.")
        found[name] = match.group(2)
    return found, len(lines)


def _continues(line: str, escape: str) -> bool:
    return line.rstrip(" \t").endswith(escape)


def _split_flags(rest: str) -> tuple[list[tuple[str, str | None]], str]:
    flags: list[tuple[str, str | None]] = []
    while rest.startswith("--"):
        word, _, remainder = rest.partition(" ")
        if word == "--":
            break
        name, eq, value = word[2:].partition("=")
        flags.append((name.lower(), value if eq else None))
        rest = remainder.lstrip()
    return flags, rest


def _json_list(rest: str) -> list[str] | None:
    text = rest.strip()
    if not text.startswith("["):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


def _unknown(word: str, number: int) -> ParseError:
    close = difflib.get_close_matches(word.upper(), KEYWORDS, n=1, cutoff=0.6)
    hint = f"Did you mean {close[0]}?" if close else f"Instructions are {', '.join(KEYWORDS)}."
    return ParseError(f"line {number}: unknown instruction {word!r}.", hint)


class _Scope:
    """Variables visible to one stage: its ENV and the ARGs declared in it."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.env: dict[str, str] = dict(env or {})
        self.args: dict[str, str | None] = {}

    def lookup(self, name: str) -> str | None:
        if name in self.env:
            return self.env[name]
        return self.args.get(name)


class _Parser:
    def __init__(self, text: str, build_args: Mapping[str, str], existing_dirs: Iterable[str]) -> None:
        self.lines = text.lstrip("\ufeff").splitlines()
        self.build_args = dict(build_args)
        self.existing_dirs = {posixpath.normpath("/" + d.lstrip("/")) for d in existing_dirs}
        self.directives, self.start = _directives(self.lines)
        self.escape = self.directives.get("escape", "\\")
        if self.escape not in ("\\", "`"):
            raise ParseError(f"line 1: the escape directive must be '\\' or '`', not {self.escape!r}.",
                             "Use '# escape=`' (Windows paths) or leave the default backslash.")
        self.global_args: dict[str, str | None] = {}
        self.instructions: list[Instruction] = []
        self.stages: list[tuple[Instruction, list[Instruction], str, int | None]] = []
        self.scope: _Scope | None = None
        self.stage_scopes: list[_Scope] = []
        self.stage_dirs: list[set[str]] = []
        self.workdirs: list[str] = []

    # -- reading logical lines ------------------------------------------------------------------
    def logical_lines(self) -> Iterable[tuple[str, int, int]]:
        """(joined text, first line, last line) of each instruction, with heredoc bodies attached later."""
        i = self.start
        lines = self.lines
        while i < len(lines):
            line = lines[i]
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                i += 1
                continue
            first = i
            text = line
            while _continues(text, self.escape):
                text = text.rstrip(" \t")[:-1]
                i += 1
                while i < len(lines) and lines[i].strip().startswith("#"):
                    i += 1
                if i >= len(lines):
                    raise ParseError(f"line {first + 1}: the instruction starting here continues past the end of "
                                     f"the file (its last line ends with {self.escape!r}).",
                                     f"Remove the trailing {self.escape!r} or add the missing line.")
                text += lines[i]
            self.next_line = i + 1
            yield text, first + 1, i + 1
            i = self.next_line

    def heredocs(self, rest: str, after: int) -> tuple[list[Heredoc], int]:
        """Read the bodies of the heredocs named in ``rest``, starting after line ``after``; returns the last line."""
        docs = []
        i = after
        for match in _HEREDOC.finditer(rest):
            strip_tabs, quote, name = match.group(2) == "-", match.group(3), match.group(4)
            start = i + 1
            body: list[str] = []
            while True:
                if i >= len(self.lines):
                    raise ParseError(f"line {after}: the heredoc <<{name} starting here is never closed.",
                                     f"End it with a line containing only {name}"
                                     + (" (tabs allowed before it with <<-)." if strip_tabs else "."))
                line = self.lines[i]
                i += 1
                candidate = line.lstrip("\t") if strip_tabs else line
                if candidate.rstrip("\r") == name:
                    break
                body.append(candidate)
            docs.append(Heredoc(name, "\n".join(body) + ("\n" if body else ""), not quote, strip_tabs, start))
        return docs, i

    # -- instructions ------------------------------------------------------------------------------
    def parse(self) -> Dockerfile:
        for text, first, last in self.logical_lines():
            keyword, _, rest = text.strip().partition(" ")
            if not keyword.isalpha() or keyword.upper() not in KEYWORDS:
                raise _unknown(keyword, first)
            keyword = keyword.upper()
            rest = rest.strip()
            heredocs: list[Heredoc] = []
            if keyword in LAYER_KEYWORDS and "<<" in rest and _json_list(_split_flags(rest)[1]) is None:
                heredocs, end = self.heredocs(rest, last)
                if heredocs:
                    last = end
                    self.next_line = end
            self.instructions.append(self.instruction(keyword, rest, first, last, heredocs))
        if not self.stages:
            raise ParseError("The Dockerfile has no FROM instruction.",
                             "Start the build stage with FROM (FROM scratch for an empty image).")
        stages = tuple(Stage(index=i, name=name, base=start.args[0], line=start.line, instructions=tuple(body),
                             base_stage=base, platform=start.flag("platform") or "")
                       for i, (start, body, name, base) in enumerate(self.stages))
        return Dockerfile(tuple(self.instructions), stages, dict(self.directives), dict(self.build_args))

    def lookup(self) -> Lookup:
        if self.scope is None:
            return lambda name: self.global_args.get(name)
        return self.scope.lookup

    def words(self, text: str, line: int, *, substitute: bool = True) -> list[str]:
        """Whitespace-separated words, each with quotes removed and variables substituted."""
        lookup = self.lookup() if substitute else (lambda name: None)
        return ["".join(_lex(word, lookup, self.escape, line)) for word in text.split()]

    def pairs(self, text: str, line: int, keyword: str) -> list[tuple[str, str | None]]:
        """ENV / LABEL / ARG key=value pairs (and ENV's legacy 'ENV key value' form)."""
        lookup = self.lookup()
        tokens = _raw_words(text, self.escape)
        if keyword == "ENV" and tokens and "=" not in tokens[0]:
            name, _, value = text.partition(" ")
            if not value.strip():
                raise ParseError(f"line {line}: ENV {name} has no value.", "Write ENV NAME=value.")
            return [(name, "".join(_lex(value.strip(), lookup, self.escape, line)))]
        result = []
        for token in tokens:
            name, eq, value = token.partition("=")
            if keyword != "ARG" and not eq:
                raise ParseError(f"line {line}: {keyword} expects key=value pairs, got {token!r}.",
                                 f"Write {keyword} key=value (quote values with spaces).")
            key = "".join(_lex(name, lookup, self.escape, line)) if keyword == "LABEL" else name
            result.append((key, "".join(_lex(value, lookup, self.escape, line)) if eq else None))
        return result

    def instruction(self, keyword: str, rest: str, first: int, last: int, heredocs: list[Heredoc]) -> Instruction:
        flags, body = _split_flags(rest)
        allowed = _FLAGS.get(keyword, set())
        for name, _ in flags:
            if name not in allowed:
                raise ParseError(f"line {first}: {keyword} does not take the flag --{name}.",
                                 f"{keyword} flags: {', '.join('--' + f for f in sorted(allowed)) or 'none'}.")
        if not body:
            raise ParseError(f"line {first}: {keyword} needs arguments.", _FORMAT_HINT)
        if self.scope is None and keyword not in ("ARG", "FROM"):
            raise ParseError(f"line {first}: {keyword} comes before the first FROM.",
                             "Every build stage starts with FROM; only ARG may come before it.")
        if keyword in SUBSTITUTING_KEYWORDS and keyword in _FLAGS:
            lookup = self.lookup() if keyword != "FROM" else (lambda name: self.global_args.get(name))
            flags = [(name, "".join(_lex(value, lookup, self.escape, first)) if value is not None else None)
                     for name, value in flags]
        stage = len(self.stages) - 1
        base = dict(keyword=keyword, raw=rest, line=first, end_line=last, flags=tuple(flags),
                    heredocs=tuple(heredocs), stage=stage,
                    workdir=self.workdirs[stage] if stage >= 0 else "/")
        handler = getattr(self, f"_{keyword.lower()}", None)
        made = handler(body, base) if handler else self._plain(body, base)
        if made.stage >= 0 and made.keyword != "FROM":
            self.stages[made.stage][1].append(made)
        return made

    def _plain(self, body: str, base: dict) -> Instruction:
        keyword = base["keyword"]
        line = base["line"]
        if keyword in _JSON_CAPABLE:
            exec_form = _json_list(body)
            if exec_form is not None:
                args = exec_form
                if keyword == "VOLUME":
                    args = ["".join(_lex(a, self.lookup(), self.escape, line)) for a in exec_form]
                return Instruction(**base, args=tuple(args), json_form=True)
        if keyword == "SHELL":
            raise ParseError(f"line {line}: SHELL must be written in JSON form, e.g. SHELL [\"/bin/bash\", \"-c\"].",
                             _FORMAT_HINT)
        if keyword in ("RUN", "CMD", "ENTRYPOINT", "MAINTAINER"):
            return Instruction(**base, args=(body,) if body else ())
        if keyword in ("EXPOSE", "VOLUME"):
            return Instruction(**base, args=tuple(self.words(body, line)))
        if keyword in ("USER", "STOPSIGNAL"):
            words = self.words(body, line)
            if len(words) != 1:
                raise ParseError(f"line {line}: {keyword} takes one value, got {len(words)}.", _FORMAT_HINT)
            return Instruction(**base, args=tuple(words))
        return Instruction(**base, args=(body,))

    def _from(self, body: str, base: dict) -> Instruction:
        line = base["line"]
        words = ["".join(_lex(w, lambda n: self.global_args.get(n), self.escape, line)) for w in body.split()]
        if len(words) == 3 and words[1].lower() == "as":
            image, name = words[0], words[2].lower()
            if not _STAGE_NAME.match(name):
                raise ParseError(f"line {line}: {words[2]!r} is not a valid stage name.",
                                 "Stage names start with a letter and use letters, digits, '-', '_' and '.'.")
            if any(existing == name for _, _, existing, _ in self.stages):
                raise ParseError(f"line {line}: the stage name {name!r} is used twice.", "Give each stage its own name.")
        elif len(words) == 1:
            image, name = words[0], ""
        else:
            raise ParseError(f"line {line}: FROM expects 'FROM image [AS name]', got {body!r}.", _FORMAT_HINT)
        if not image:
            raise ParseError(f"line {line}: FROM names no image (an ARG it uses is empty?).",
                             "Give the ARG a default or pass --build-arg.")
        base_stage = next((i for i, (_, _, existing, _) in enumerate(self.stages) if existing == image.lower()), None)
        inherited = self.stage_scopes[base_stage] if base_stage is not None else None
        self.scope = _Scope(inherited.env if inherited else None)
        self.stage_scopes.append(self.scope)
        self.stage_dirs.append(set(self.stage_dirs[base_stage]) if base_stage is not None else set(self.existing_dirs))
        self.workdirs.append(self.workdirs[base_stage] if base_stage is not None else "/")
        base["stage"] = len(self.stages)
        base["workdir"] = self.workdirs[-1]
        made = Instruction(**base, args=(image, name) if name else (image,))
        self.stages.append((made, [made], name, base_stage))
        return made

    def _arg(self, body: str, base: dict) -> Instruction:
        """ARG name[=default]: the value is a --build-arg, else the default, else (in a stage) the global one."""
        resolved = []
        for name, value in self.pairs(body, base["line"], "ARG"):
            if self.scope is None:
                self.global_args[name] = self.build_args.get(name, value)
                resolved.append((name, self.global_args[name] or ""))
            else:
                default = value if value is not None else self.global_args.get(name)
                self.scope.args[name] = self.build_args.get(name, default)
                resolved.append((name, self.scope.args[name] or ""))
        return Instruction(**base, args=tuple(name for name, _ in resolved), pairs=tuple(resolved))

    def _env(self, body: str, base: dict) -> Instruction:
        pairs = self.pairs(body, base["line"], "ENV")
        assert self.scope is not None
        for name, value in pairs:
            self.scope.env[name] = value or ""
        return Instruction(**base, args=tuple(f"{k}={v}" for k, v in pairs), pairs=tuple(pairs))

    def _label(self, body: str, base: dict) -> Instruction:
        pairs = self.pairs(body, base["line"], "LABEL")
        return Instruction(**base, args=tuple(f"{k}={v}" for k, v in pairs), pairs=tuple(pairs))

    def _workdir(self, body: str, base: dict) -> Instruction:
        line = base["line"]
        path = "".join(_lex(body, self.lookup(), self.escape, line))
        stage = base["stage"]
        absolute = posixpath.normpath(posixpath.join(self.workdirs[stage], path))
        known = self.stage_dirs[stage]
        new = absolute not in known and absolute != "/"
        self._know(stage, absolute)
        self.workdirs[stage] = absolute
        base["creates_layer"] = new
        return Instruction(**base, args=(path,))

    def _know(self, stage: int, directory: str) -> None:
        known = self.stage_dirs[stage]
        while directory not in ("/", ""):
            known.add(directory)
            directory = posixpath.dirname(directory)

    def _copy(self, body: str, base: dict) -> Instruction:
        line = base["line"]
        exec_form = _json_list(body)
        if exec_form is not None:
            args = ["".join(_lex(a, self.lookup(), self.escape, line)) for a in exec_form]
        else:
            args = self.words(body, line)
        if len(args) < 2:
            raise ParseError(f"line {line}: {base['keyword']} needs at least one source and a destination.",
                             f"Write {base['keyword']} SOURCE... DEST.")
        base["creates_layer"] = True
        base["heredocs"] = tuple(
            Heredoc(doc.name, _substitute(doc.body, self.lookup(), line), doc.expand, doc.strip_tabs, doc.line)
            if doc.expand else doc for doc in base["heredocs"])
        made = Instruction(**base, args=tuple(args), json_form=exec_form is not None)
        dest = made.destination
        directory = dest.rstrip("/") if dest.endswith("/") or len(args) > 2 else posixpath.dirname(dest)
        self._know(base["stage"], directory or "/")
        return made

    _add = _copy

    def _run(self, body: str, base: dict) -> Instruction:
        base["creates_layer"] = True
        return self._plain(body, base)

    def _healthcheck(self, body: str, base: dict) -> Instruction:
        word, _, command = body.partition(" ")
        if word.upper() == "NONE":
            return Instruction(**base, args=("NONE",))
        if word.upper() != "CMD" or not command.strip():
            raise ParseError(f"line {base['line']}: HEALTHCHECK expects 'NONE' or '[options] CMD command'.",
                             _FORMAT_HINT)
        exec_form = _json_list(command)
        args = ("CMD", *exec_form) if exec_form is not None else ("CMD", command.strip())
        return Instruction(**base, args=args, json_form=exec_form is not None)

    def _onbuild(self, body: str, base: dict) -> Instruction:
        inner = body.split(None, 1)[0].upper()
        if inner in ("ONBUILD", "FROM", "MAINTAINER"):
            raise ParseError(f"line {base['line']}: ONBUILD {inner} is not allowed.", _FORMAT_HINT)
        if inner not in KEYWORDS:
            raise _unknown(body.split(None, 1)[0], base["line"])
        return Instruction(**base, args=(body,))


def _raw_words(text: str, escape: str) -> list[str]:
    """Split on unquoted, unescaped whitespace, keeping quotes and escapes for later processing."""
    words: list[str] = []
    current: list[str] = []
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == escape and quote != "'" and i + 1 < len(text):
            current.append(text[i:i + 2])
            i += 2
            continue
        if text.startswith("${", i) and quote != "'":
            close = closing_brace(text, i + 2)
            end = len(text) if close < 0 else close + 1
            current.append(text[i:end])
            i = end
            continue
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch.isspace():
            if current:
                words.append("".join(current))
                current = []
            i += 1
            continue
        current.append(ch)
        i += 1
    if current:
        words.append("".join(current))
    return words


def parse_dockerfile(text: str, *, build_args: Mapping[str, str] | None = None,
                     existing_dirs: Iterable[str] = ()) -> Dockerfile:
    """Parse Dockerfile text; ParseError with the line number and a hint when it is malformed."""
    return _Parser(text, build_args or {}, existing_dirs).parse()


# -- instructions <-> history --------------------------------------------------------------------
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
@dataclass(frozen=True)
class Finding:
    """One best-practice finding: rule id, line, what was found, and why it matters."""

    rule: str
    line: int
    message: str
    explanation: str
    severity: str = "warning"

    def __str__(self) -> str:
        return f"line {self.line}: [{self.rule}] {self.message}"


_APT_UPDATE = re.compile(r"\bapt(?:-get)?\s+(?:-\S+\s+)*update\b")
_APT_INSTALL = re.compile(r"\bapt(?:-get)?\s+(?:-\S+\s+)*install\b")
_SECRET_FILES = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".env", ".env.*", "*.pem", "*.key", "*.p12",
                 ".netrc", ".npmrc", ".pypirc", "credentials")
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|PRIVATE_KEY", re.IGNORECASE)
_ARCHIVE = re.compile(r"\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst)$", re.IGNORECASE)
_REMOTE = re.compile(r"^(https?://|git@|git://)", re.IGNORECASE)
_SEGMENTS = re.compile(r"&&|\|\||;|\||\n")


def _looks_secret(path: str) -> bool:
    name = posixpath.basename(path.rstrip("/"))
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in _SECRET_FILES)


def _rm_targets(script: str) -> list[str]:
    targets = []
    for segment in _SEGMENTS.split(script):
        try:
            words = shlex.split(segment)
        except ValueError:
            words = segment.split()
        if words and posixpath.basename(words[0]) == "rm":
            targets += [w for w in words[1:] if not w.startswith("-")]
    return targets


def _covers(created: str, removed: str) -> bool:
    """Whether removing ``removed`` deletes something at or under ``created`` (globs allowed)."""
    created, removed = created.rstrip("/") or "/", removed.rstrip("/") or "/"
    if any(ch in removed for ch in "*?["):
        prefix = re.split(r"[*?\[]", removed, maxsplit=1)[0]
        return fnmatch.fnmatchcase(created, removed) or created.startswith(prefix) or prefix.startswith(created + "/")
    return created == removed or created.startswith(removed + "/") or removed.startswith(created + "/")


def _inside(created: str, removed: str) -> bool:
    """Whether removing ``removed`` (globs allowed) deletes ``created`` itself or a directory holding it."""
    removed = removed.rstrip("/") or "/"
    if any(ch in removed for ch in "*?["):
        return fnmatch.fnmatchcase(created, removed) or fnmatch.fnmatchcase(created, removed + "/*")
    return created == removed or created.startswith(removed + "/")


def _lint_stage(stage: Stage) -> list[Finding]:
    findings: list[Finding] = []
    runs = [i for i in stage.instructions if i.keyword == "RUN"]
    for k, run in enumerate(runs):
        script = run.script
        if _APT_UPDATE.search(script) and not _APT_INSTALL.search(script):
            later = next((r for r in runs[k + 1:] if _APT_INSTALL.search(r.script)), None)
            if later is not None:
                findings.append(Finding(
                    "apt-update-separate", run.line,
                    f"apt-get update (line {run.line}) and apt-get install (line {later.line}) are in separate RUNs.",
                    "Each RUN is its own cached layer. When you later change the install line, the build cache "
                    "reuses the old 'update' layer and installs from a stale package index (or fails). Write "
                    "'RUN apt-get update && apt-get install -y ... && rm -rf /var/lib/apt/lists/*' in one RUN."))
    for instruction in stage.instructions:
        line = instruction.line
        if instruction.keyword == "ADD":
            sources = instruction.sources
            if sources and not any(_REMOTE.match(s) or _ARCHIVE.search(s) for s in sources):
                findings.append(Finding(
                    "add-instead-of-copy", line, f"ADD {' '.join(sources)} could be COPY.",
                    "ADD also downloads URLs and unpacks local tar archives. For plain files COPY does the same "
                    "and says only what you mean, so a later archive in the context is not unpacked by surprise."))
        if instruction.keyword in ("COPY", "ADD"):
            secrets = [s for s in instruction.sources if _looks_secret(s)]
            if _looks_secret(instruction.args[-1]) and not secrets:
                secrets = [instruction.args[-1]]
            if secrets:
                findings.append(Finding(
                    "secret-in-layer", line, f"{', '.join(secrets)} looks like a secret and is copied into a layer.",
                    "Everything copied into a layer ships with the image: anyone who can pull it can read the file, "
                    "even if a later step deletes it. Use 'RUN --mount=type=secret,id=...' (BuildKit) or a "
                    "multi-stage build, and list secrets in .dockerignore."))
        if instruction.keyword in ("ENV", "ARG"):
            for name, _ in instruction.pairs:
                if _SECRET_NAME.search(name):
                    where = ("is stored in the image config: 'docker inspect' shows it to anyone with the image"
                             if instruction.keyword == "ENV" else
                             "is recorded in the history of every RUN after it: 'docker history' shows the value")
                    findings.append(Finding(
                        f"secret-in-{instruction.keyword.lower()}", line,
                        f"{instruction.keyword} {name} looks like it holds a secret.",
                        f"A value set with {instruction.keyword} {where}. Pass secrets at build time with "
                        "'RUN --mount=type=secret' or at run time (environment, mounted files)."))
    findings += _lint_rm(stage)
    return findings


def _lint_rm(stage: Stage) -> list[Finding]:
    findings = []
    earlier: list[Instruction] = []
    for instruction in stage.instructions:
        if instruction.keyword == "RUN":
            for target in _rm_targets(instruction.script):
                removed = posixpath.normpath(posixpath.join(instruction.workdir, target))
                for maker in earlier:
                    made = [maker.destination] if maker.keyword in ("COPY", "ADD") else []
                    if maker.keyword in ("COPY", "ADD") and maker.destination.endswith("/"):
                        made += [maker.destination + posixpath.basename(s.rstrip("/")) for s in maker.sources]
                    found = any(_covers(path, removed) for path in made)
                    if maker.keyword == "RUN" and not found:
                        if removed.startswith("/var/lib/apt/lists") and _APT_UPDATE.search(maker.script):
                            found = True
                        else:
                            words = {posixpath.normpath(posixpath.join(maker.workdir, word))
                                     for word in re.split(r"[\s=;&|<>]+", maker.script) if "/" in word
                                     and "://" not in word}
                            found = any(_inside(path, removed) for path in words)
                    if found:
                        findings.append(Finding(
                            "rm-in-later-layer", instruction.line,
                            f"rm {target} (line {instruction.line}) deletes what line {maker.line} added "
                            "in an earlier layer.",
                            "Layers only add: the later layer records a deletion (a whiteout), but the bytes stay "
                            "in the earlier layer, so the image does not shrink and the file can still be read "
                            "from the image tarball. Create and delete it in the same RUN, or use a multi-stage "
                            "build and copy only what you need."))
                        break
        if instruction.creates_layer:
            earlier.append(instruction)
    return findings


def lint(dockerfile: Dockerfile) -> list[Finding]:
    """A short best-practice check, findings sorted by line.

    Rules: apt-update-separate, add-instead-of-copy, secret-in-layer, secret-in-env,
    secret-in-arg, runs-as-root (final stage), from-latest, rm-in-later-layer.
    """
    findings: list[Finding] = []
    names = {stage.name for stage in dockerfile.stages if stage.name}
    for stage in dockerfile.stages:
        findings += _lint_stage(stage)
        start = stage.instructions[0]
        image = stage.base
        if stage.base_stage is None and image.lower() != "scratch" and image.lower() not in names:
            try:
                reference = parse_reference(image, default_tag=None)
            except InvalidReferenceError:
                reference = None
            if reference is not None and not reference.digest and reference.tag in (None, "latest"):
                findings.append(Finding(
                    "from-latest", start.line, f"FROM {image} uses the 'latest' tag"
                    + (" (implicitly)." if reference.tag is None else "."),
                    "'latest' moves whenever a new version is pushed, so the same Dockerfile builds different "
                    "images on different days. Pin a version tag (debian:bookworm-slim) or a digest "
                    "(image@sha256:...)."))
    for global_arg in dockerfile.global_args:
        for name, _ in global_arg.pairs:
            if _SECRET_NAME.search(name):
                findings.append(Finding(
                    "secret-in-arg", global_arg.line, f"ARG {name} looks like it holds a secret.",
                    "Build-arg values are recorded in the image history ('docker history' shows them). Use "
                    "'RUN --mount=type=secret' instead."))
    final = dockerfile.final_stage
    users = [i for i in final.instructions if i.keyword == "USER"]
    if not users or users[-1].args[0].split(":")[0] in ("root", "0"):
        line = users[-1].line if users else final.line
        findings.append(Finding(
            "runs-as-root", line,
            "The image runs as root (" + ("USER root" if users else "no USER instruction") + ").",
            "A process running as root in a container is root on the host's kernel too: a container escape or "
            "a writable host mount then has full power. Add 'USER someone' (create the user first) near the end.",
            severity="info"))
    return sorted(findings, key=lambda finding: (finding.line, finding.rule))
