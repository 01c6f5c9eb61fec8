"""A Dockerfile's text read into instructions the way BuildKit's parser (frontend/dockerfile/parser) reads it.

Lines end at LF (a CR before it is dropped, except inside heredoc bodies, which keep their bytes). Parser
directives (``# syntax=``, ``# escape=``, ``# check=``) come first, whitespace allowed before the ``#``. An
instruction continues while its line ends with the escape character that is not itself escaped; comment lines
and empty lines inside a continuation are skipped, and the end of the file ends it. The keyword is split from
its arguments at any whitespace, ``--flags`` are read with their quotes, a JSON array must hold strings only,
and heredoc words (``<<EOF``, ``<<-EOF``, ``<<"EOF"``) of RUN, COPY and ADD take the lines after the instruction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from ...errors import ParseError
from ...text import closing_brace
from .model import Heredoc

_DIRECTIVE = re.compile(r"#[ \t\f\r]*([a-zA-Z][a-zA-Z0-9]*)[ \t\f\r]*=[ \t\f\r]*(.+?)[ \t\f\r]*")
_KNOWN_DIRECTIVES = ("syntax", "escape", "check")
_CONTINUATION = {escape: re.compile(rf"([^{re.escape(escape)}]){re.escape(escape)}[ \t]*$|^{re.escape(escape)}[ \t]*$")
                 for escape in ("\\", "`")}
_KEYWORD_SPLIT = re.compile(r"[\t\v\f\r ]+")
_PLAIN_FLAG = re.compile(r"[^\s'\"\\]+")
_HEREDOC_WORD = re.compile(r"(\d*)<<(-?)([^<]*)")
HEREDOC_KEYWORDS = ("RUN", "COPY", "ADD")


class SourceLines:
    """The lines of one Dockerfile, its directives, and an iterator over its logical instructions."""

    def __init__(self, text: str) -> None:
        pieces = text.removeprefix("\ufeff").split("\n")
        self.ends_with_newline = bool(pieces) and pieces[-1] == ""
        if self.ends_with_newline:
            pieces.pop()
        self.pieces = pieces
        self.lines = [piece.rstrip("\r") for piece in pieces]
        self.directives, self.start = _directives(self.lines)
        self.escape = self.directives.get("escape", "\\")
        if self.escape not in ("\\", "`"):
            raise ParseError(f"line 1: the escape directive must be '\\' or '`', not {self.escape!r}.",
                             "Use '# escape=`' (Windows paths) or leave the default backslash.")
        self.continuation = _CONTINUATION[self.escape]
        self.next_line = self.start

    def instructions(self) -> Iterator[tuple[str, int, int]]:
        """(joined text, first line, last line) of each instruction; heredoc bodies are read by
        :meth:`heredocs`, which moves ``next_line`` past them."""
        lines = self.lines
        count = len(lines)
        continuation = self.continuation
        i = self.start
        while i < count:
            line = lines[i].lstrip()
            if not line or line[0] == "#":
                i += 1
                continue
            first = i
            match = continuation.search(line)
            parts = [line if match is None else line[:match.start()] + (match.group(1) or "")]
            ended = match is None
            while not ended and i + 1 < count:
                i += 1
                following = lines[i]
                stripped = following.lstrip()
                if not stripped or stripped[0] == "#":
                    continue
                match = continuation.search(following)
                if match is None:
                    parts.append(following)
                    ended = True
                else:
                    parts.append(following[:match.start()] + (match.group(1) or ""))
            self.next_line = i + 1
            yield "".join(parts), first + 1, i + 1
            i = self.next_line

    def heredocs(self, words: list[tuple[str, bool, bool]], after: int) -> tuple[list[Heredoc], int]:
        """Read the bodies of heredocs (name, strip tabs, expand) after line ``after``; returns the last line."""
        docs = []
        i = after
        pieces, count = self.pieces, len(self.pieces)
        for name, strip_tabs, expand in words:
            start = i + 1
            body: list[str] = []
            while True:
                if i >= count:
                    raise ParseError(f"line {after}: the heredoc <<{name} starting here is never closed.",
                                     f"End it with a line containing only {name}"
                                     + (" (tabs allowed before it with <<-)." if strip_tabs else "."))
                piece = pieces[i]
                i += 1
                if strip_tabs:
                    piece = piece.lstrip("\t")
                if piece.rstrip("\r") == name:
                    break
                body.append(piece + ("\n" if i < count or self.ends_with_newline else ""))
            docs.append(Heredoc(name, "".join(body), expand, strip_tabs, start))
        self.next_line = i
        return docs, i


def _directives(lines: list[str]) -> tuple[dict[str, str], int]:
    """The parser directives at the top of the file, and the index of the first line after them."""
    found: dict[str, str] = {}
    for number, line in enumerate(lines):
        match = _DIRECTIVE.fullmatch(line.lstrip())
        if not match or match.group(1).lower() not in _KNOWN_DIRECTIVES:
            return found, number
        name = match.group(1).lower()
        if name in found:
            raise ParseError(f"line {number + 1}: the parser directive {name!r} is given twice.",
                             f"Keep one '# {name}=' line at the top.")
        found[name] = match.group(2)
    return found, len(lines)


def split_keyword(text: str) -> tuple[str, str]:
    """(keyword as written, the rest): split at the first run of whitespace, as BuildKit does."""
    parts = _KEYWORD_SPLIT.split(text.strip(), maxsplit=1)
    return parts[0], parts[1] if len(parts) > 1 else ""


def split_flags(rest: str) -> tuple[list[tuple[str, str | None]], str]:
    """Leading ``--name[=value]`` flags (quotes and backslashes processed, as BuildKit's extractBuilderFlags)
    and the arguments after them."""
    flags: list[tuple[str, str | None]] = []
    pos, n = 0, len(rest)
    while True:
        while pos < n and rest[pos].isspace():
            pos += 1
        if not rest.startswith("--", pos):
            return flags, rest[pos:].strip()
        plain = _PLAIN_FLAG.match(rest, pos)
        word: list[str] = []
        if plain is not None:
            word.append(plain.group())
            pos = plain.end()
        quote = ""
        while pos < n and (quote or not rest[pos].isspace()):
            ch = rest[pos]
            if quote and ch == quote:
                quote = ""
            elif not quote and ch in "'\"":
                quote = ch
            elif ch == "\\":
                if pos + 1 < n:
                    pos += 1
                    word.append(rest[pos])
            else:
                word.append(ch)
            pos += 1
        text = "".join(word)
        if text == "--":
            return flags, rest[pos:].strip()
        name, eq, value = text[2:].partition("=")
        flags.append((name.lower(), value if eq else None))


def json_array(rest: str, keyword: str, line: int) -> list[str] | None:
    """The exec-form words when ``rest`` is a JSON array, None when it is not one (then it is shell form).

    A JSON array with an item that is not a string is refused, as BuildKit refuses it.
    """
    text = rest.strip()
    if not text.startswith("["):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    wrong = [item for item in value if not isinstance(item, str)]
    if wrong:
        raise ParseError(f"line {line}: {keyword} {text}: a JSON array must hold strings only, not "
                         f"{json.dumps(wrong[0])}.",
                         f"Quote every item, e.g. {keyword} [\"sleep\", \"1\"] (or write the shell form).")
    return value


def heredoc_words(rest: str) -> list[tuple[str, bool, bool]]:
    """The heredocs a RUN/COPY/ADD names: (name, strip leading tabs, expand variables) for each ``<<WORD``
    (BuildKit reads these words with the backslash as escape, whatever the escape directive says)."""
    found = []
    for word in raw_words(rest, "\\"):
        match = _HEREDOC_WORD.fullmatch(word)
        if match is None or not match.group(3):
            continue
        raw = match.group(3)
        name = re.sub(r"""\\(.)|['"]""", lambda m: m.group(1) or "", raw)
        if not name:
            continue
        found.append((name, match.group(2) == "-", not any(q in raw for q in "'\"")))
    return found


def raw_words(text: str, escape: str) -> list[str]:
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
