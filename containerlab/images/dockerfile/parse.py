"""Dockerfiles parsed the way BuildKit reads them: instructions, their arguments, build stages and layers.

:mod:`.lines` reads the text into instructions (directives, continuations, flags, JSON or shell form,
heredocs); this module gives each instruction its meaning. ARG / ENV substitution
(:mod:`.substitute`) applies in the instructions where Docker applies it: ADD COPY ENV EXPOSE FROM LABEL
STOPSIGNAL USER VOLUME WORKDIR and ARG defaults. RUN, CMD and ENTRYPOINT are left alone (the shell expands
them when the container runs). FROM sees only the ARGs declared before the first FROM; a stage sees a global
ARG only after re-declaring it (``ARG NAME``). A FROM whose image comes from an ARG with no value here is kept
as written (``Stage.unresolved_args``): the build must pass ``--build-arg``. Two stages may share a name, as
in BuildKit: a FROM or COPY --from names the latest one defined before it.

Which instructions make a layer: RUN, COPY and ADD always do. WORKDIR makes one when its
directory is new, and this parser decides "new" from the Dockerfile alone: a directory is
known once an earlier WORKDIR, COPY or ADD of the same stage (or of the stage it builds
on) created it; anything else, including directories of the base image, counts as new.
Pass ``existing_dirs=`` when you know the base image's directories; :func:`map_to_history`
settles the question for a built image from its history.
"""

from __future__ import annotations

import difflib
import posixpath
import re
from collections.abc import Iterable, Mapping

from ...errors import ParseError
from ..manifest import DOCKERFILE_KEYWORDS
from .lines import HEREDOC_KEYWORDS, SourceLines, heredoc_words, json_array, raw_words, split_flags, split_keyword
from .model import Dockerfile, Heredoc, Instruction, Stage
from .substitute import Lookup, _lex, _substitute

KEYWORDS = DOCKERFILE_KEYWORDS
LAYER_KEYWORDS = ("RUN", "COPY", "ADD")
SUBSTITUTING_KEYWORDS = ("ADD", "ARG", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER", "VOLUME",
                         "WORKDIR")
_JSON_CAPABLE = ("RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME")
_FLAGS = {
    "FROM": {"platform"},
    "RUN": {"mount", "network", "security", "device"},
    "COPY": {"from", "chown", "chmod", "link", "parents", "exclude"},
    "ADD": {"chown", "chmod", "link", "checksum", "keep-git-dir", "exclude", "unpack"},
    "HEALTHCHECK": {"interval", "timeout", "start-period", "start-interval", "retries"},
}
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9_.-]*$")
_LEGACY_SPLIT = re.compile(r"[\t\v\f\r ]+")
_FORMAT_HINT = "See https://docs.docker.com/reference/dockerfile/ for the instruction's syntax."


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
        self.source = SourceLines(text)
        self.directives = self.source.directives
        self.escape = self.source.escape
        self.build_args = dict(build_args)
        self.existing_dirs = {posixpath.normpath("/" + d.lstrip("/")) for d in existing_dirs}
        self.global_args: dict[str, str | None] = {}
        self.instructions: list[Instruction] = []
        self.stages: list[tuple[Instruction, list[Instruction], str, int | None]] = []
        self.unresolved: list[tuple[str, ...]] = []
        self.scope: _Scope | None = None
        self.stage_scopes: list[_Scope] = []
        self.stage_dirs: list[set[str]] = []
        self.workdirs: list[str] = []

    def parse(self) -> Dockerfile:
        source = self.source
        for text, first, last in source.instructions():
            written, rest = split_keyword(text)
            if not written.isalpha() or written.upper() not in KEYWORDS:
                raise _unknown(written, first)
            keyword = written.upper()
            heredocs: list[Heredoc] = []
            target, target_rest = keyword, rest
            if keyword == "ONBUILD":
                inner, target_rest = split_keyword(rest)
                target = inner.upper()
            if target in HEREDOC_KEYWORDS and "<<" in target_rest:
                body = split_flags(target_rest)[1]
                if json_array(body, target, first) is None:
                    words = heredoc_words(body)
                    if words:
                        heredocs, last = source.heredocs(words, last)
            self.instructions.append(self.instruction(keyword, rest, first, last, heredocs))
        if not self.stages:
            raise ParseError("The Dockerfile has no FROM instruction.",
                             "Start the build stage with FROM (FROM scratch for an empty image).")
        stages = tuple(Stage(index=i, name=name, base=start.args[0], line=start.line, instructions=tuple(body),
                             base_stage=base, platform=start.flag("platform") or "",
                             unresolved_args=self.unresolved[i])
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
        """ENV / LABEL / ARG key=value pairs (and the legacy 'ENV key value' / 'LABEL key value' form)."""
        lookup = self.lookup()
        tokens = raw_words(text, self.escape)
        if keyword in ("ENV", "LABEL") and tokens and "=" not in tokens[0]:
            parts = _LEGACY_SPLIT.split(text.strip(), maxsplit=1)
            if len(parts) < 2:
                if keyword == "ENV":
                    raise ParseError(f"line {line}: ENV {parts[0]} has no value.", "Write ENV NAME=value.")
                raise ParseError(f"line {line}: LABEL expects key=value pairs, got {parts[0]!r}.",
                                 "Write LABEL key=value (quote values with spaces).")
            name = "".join(_lex(parts[0], lookup, self.escape, line)) if keyword == "LABEL" else parts[0]
            return [(name, "".join(_lex(parts[1].strip(), lookup, self.escape, line)))]
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
        flags, body = split_flags(rest)
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
            exec_form = json_array(body, keyword, line)
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
        written = body.split()
        missing: set[str] = set()
        words = ["".join(_lex(w, self.global_args.get, self.escape, line, missing=missing)) for w in written]
        if len(words) == 3 and words[1].lower() == "as":
            image, name = words[0], words[2].lower()
            if not _STAGE_NAME.match(name):
                raise ParseError(f"line {line}: {words[2]!r} is not a valid stage name.",
                                 "Stage names start with a letter and use letters, digits, '-', '_' and '.'.")
        elif len(words) == 1:
            image, name = words[0], ""
        else:
            raise ParseError(f"line {line}: FROM expects 'FROM image [AS name]', got {body!r}.", _FORMAT_HINT)
        valueless = {arg for arg in missing if arg in self.global_args}
        unresolved = tuple(sorted(missing if not image else valueless))
        if unresolved:
            image = written[0]
        base_stage = None
        if not unresolved:
            base_stage = next((i for i in range(len(self.stages) - 1, -1, -1)
                               if self.stages[i][2] == image.lower()), None)
        inherited = self.stage_scopes[base_stage] if base_stage is not None else None
        self.scope = _Scope(inherited.env if inherited else None)
        self.stage_scopes.append(self.scope)
        self.stage_dirs.append(set(self.stage_dirs[base_stage]) if base_stage is not None else set(self.existing_dirs))
        self.workdirs.append(self.workdirs[base_stage] if base_stage is not None else "/")
        self.unresolved.append(unresolved)
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
        exec_form = json_array(body, base["keyword"], line)
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
        parts = body.split(None, 1)
        word, command = parts[0], parts[1] if len(parts) > 1 else ""
        if word.upper() == "NONE":
            return Instruction(**base, args=("NONE",))
        if word.upper() != "CMD" or not command.strip():
            raise ParseError(f"line {base['line']}: HEALTHCHECK expects 'NONE' or '[options] CMD command'.",
                             _FORMAT_HINT)
        exec_form = json_array(command, "HEALTHCHECK CMD", base["line"])
        args = ("CMD", *exec_form) if exec_form is not None else ("CMD", command.strip())
        return Instruction(**base, args=args, json_form=exec_form is not None)

    def _onbuild(self, body: str, base: dict) -> Instruction:
        inner = body.split(None, 1)[0].upper()
        if inner in ("ONBUILD", "FROM", "MAINTAINER"):
            raise ParseError(f"line {base['line']}: ONBUILD {inner} is not allowed.", _FORMAT_HINT)
        if inner not in KEYWORDS:
            raise _unknown(body.split(None, 1)[0], base["line"])
        return Instruction(**base, args=(body,))


def parse_dockerfile(text: str, *, build_args: Mapping[str, str] | None = None,
                     existing_dirs: Iterable[str] = ()) -> Dockerfile:
    """Parse Dockerfile text; ParseError with the line number and a hint when it is malformed."""
    return _Parser(text, build_args or {}, existing_dirs).parse()
