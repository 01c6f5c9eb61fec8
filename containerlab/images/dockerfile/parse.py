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
import json
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ...errors import ParseError
from ...text import closing_brace
from ..manifest import DOCKERFILE_KEYWORDS
from .substitute import Lookup, _lex, _substitute

KEYWORDS = DOCKERFILE_KEYWORDS
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
        base = {"keyword": keyword, "raw": rest, "line": first, "end_line": last, "flags": tuple(flags),
                "heredocs": tuple(heredocs), "stage": stage,
                "workdir": self.workdirs[stage] if stage >= 0 else "/"}
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
                raise ParseError(f"line {line}: the stage name {name!r} is used twice.",
                                 "Give each stage its own name.")
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
        return Instruction(**base, args=tuple(f"{k}={v}" for k, v in pairs),
                           pairs=tuple((k, v or "") for k, v in pairs))

    def _label(self, body: str, base: dict) -> Instruction:
        pairs = self.pairs(body, base["line"], "LABEL")
        return Instruction(**base, args=tuple(f"{k}={v}" for k, v in pairs),
                           pairs=tuple((k, v or "") for k, v in pairs))

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
