"""ARG and ENV substitution in Dockerfile words, as BuildKit's shell lexer does it.

``$VAR ${VAR} ${VAR:-default} ${VAR:+alt}`` and the ``-`` ``+`` ``?`` forms; the escape character; words
split the way BuildKit splits them for the instructions that take several.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from ...errors import ParseError
from ...text import closing_brace

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

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
