"""ARG and ENV substitution in Dockerfile words, as BuildKit's shell lexer (frontend/dockerfile/shell) does it.

``$VAR ${VAR}``, the defaults ``${VAR:-word} ${VAR-word} ${VAR:+word} ${VAR+word} ${VAR:?msg} ${VAR?msg}``, the
pattern forms ``${VAR#p} ${VAR##p} ${VAR%p} ${VAR%%p} ${VAR/p/r} ${VAR//p/r}`` (``*`` and ``?`` wildcards,
shortest or longest match, first or every replacement), quotes and the escape character.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from ...errors import ParseError

Lookup = Callable[[str], "str | None"]

_SPECIAL_PARAMETERS = "@*#?-$!0"
_SYNTAX_HINT = "Write variables as ${NAME} or ${NAME:-default}."
_QUOTE_HINT = ("Close the quote. (BuildKit's parser lets it pass, but docker build stops at this instruction for the "
               "same reason before any step runs: this parser says so at once.)")
_REGEX_SPECIAL = frozenset("[]{}.+()|^$")


def _name(text: str, i: int) -> tuple[str, int]:
    """The variable name at text[i] as BuildKit reads it: digits, one special character, or a word."""
    n = len(text)
    if i < n and text[i].isdigit():
        j = i
        while j < n and text[j].isdigit():
            j += 1
        return text[i:j], j
    if i < n and text[i] in _SPECIAL_PARAMETERS:
        return text[i], i + 1
    j = i
    while j < n and (text[j].isalnum() or text[j] == "_"):
        j += 1
    return text[i:j], j


def _pattern(pattern: str, greedy: bool, anchored: bool, line: int) -> re.Pattern[str]:
    """A ${VAR#pattern} shell pattern as a regular expression (BuildKit's convertShellPatternToRegex)."""
    out = ["^"] if anchored else []
    star = ".*" if greedy else ".*?"
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append(star)
        elif ch == "?":
            out.append(".")
        elif ch == "\\":
            if i < n and pattern[i] in "}/":
                continue  # the escape of } or / inside ${...} is not part of the pattern
            if i >= n or pattern[i] not in "*?\\":
                raise ParseError(f"line {line}: invalid pattern {pattern!r} in a substitution (only \\*, \\? and "
                                 "\\\\ may be escaped).", "Write * ? for wildcards and \\* \\? for the characters.")
            out.append("\\" + pattern[i])
            i += 1
        else:
            out.append("\\" + ch if ch in _REGEX_SPECIAL else re.escape(ch) if not ch.isalnum() else ch)
    return re.compile("".join(out))


def _reverse_pattern(pattern: str) -> str:
    """The pattern backwards, keeping each escape before the character it escapes (a\\*c -> c\\*a)."""
    tokens: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            tokens.append(pattern[i:i + 2])
            i += 2
        else:
            tokens.append(pattern[i])
            i += 1
    return "".join(reversed(tokens))


def _trim_prefix(pattern: str, value: str, greedy: bool, line: int) -> str:
    match = _pattern(pattern, greedy, True, line).search(value)
    return value[match.end():] if match else value


def _trim_suffix(pattern: str, value: str, greedy: bool, line: int) -> str:
    """Reverse pattern and value so the rightmost shortest match becomes a leftmost one, as BuildKit does."""
    return _trim_prefix(_reverse_pattern(pattern), value[::-1], greedy, line)[::-1]


def _double_quoted(text: str, i: int, lookup: Lookup, escape: str, line: int,
                   missing: set[str] | None) -> tuple[str, int]:
    """The text of a double-quoted string opening at text[i - 1]; returns (value, index after the quote)."""
    out: list[str] = []
    n = len(text)
    while True:
        if i >= n:
            raise ParseError(f"line {line}: unmatched double quote in {text!r}.", _QUOTE_HINT)
        c = text[i]
        if c == '"':
            return "".join(out), i + 1
        if c == escape and i + 1 < n and text[i + 1] in ('"', "$", escape):
            out.append(text[i + 1])
            i += 2
        elif c == "$":
            value, i = _dollar(text, i, lookup, escape, line, missing)
            out.append(value)
        else:
            out.append(c)
            i += 1


def _stop_on(text: str, i: int, stop: str, lookup: Lookup, escape: str, line: int, missing: set[str] | None,
             *, raw_escapes: bool) -> tuple[str, int]:
    """The word of a ${...} form up to ``stop`` (quotes and $variables processed; escapes kept when
    ``raw_escapes``, as BuildKit keeps them in patterns); returns (word, index after ``stop``)."""
    out: list[str] = []
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == stop:
            return "".join(out), i + 1
        if ch == "$":
            value, i = _dollar(text, i, lookup, escape, line, missing)
            out.append(value)
        elif ch == "'":
            close = text.find("'", i + 1)
            if close < 0:
                raise ParseError(f"line {line}: unmatched single quote in {text!r}.", _QUOTE_HINT)
            out.append(text[i + 1:close])
            i = close + 1
        elif ch == '"':
            value, i = _double_quoted(text, i + 1, lookup, escape, line, missing)
            out.append(value)
        elif ch == escape:
            if raw_escapes:
                out.append(ch)
            if i + 1 < n:
                out.append(text[i + 1])
            i += 2
        else:
            out.append(ch)
            i += 1
    raise ParseError(f"line {line}: '${{' without a closing '{stop}' in {text!r}.", _SYNTAX_HINT)


def _dollar(text: str, i: int, lookup: Lookup, escape: str, line: int,
            missing: set[str] | None = None) -> tuple[str, int]:
    """Expand the variable reference starting at text[i] == '$'; returns (value, next index).

    ``missing`` collects the names of plain references ($NAME, ${NAME}) that have no value.
    """
    n = len(text)
    if i + 1 >= n:
        return "$", i + 1
    if text[i + 1] != "{":
        name, end = _name(text, i + 1)
        if not name:
            return "$", i + 1
        value = lookup(name)
        if value is None and missing is not None:
            missing.add(name)
        return value or "", end
    j = i + 2
    if j >= n or "}" not in text[j:]:
        raise ParseError(f"line {line}: '${{' without a closing '}}' in {text!r}.", _SYNTAX_HINT)
    if text[j] in "{}:":
        raise ParseError(f"line {line}: bad variable reference in {text!r}.", _SYNTAX_HINT)
    name, j = _name(text, j)
    if not name or j >= n:
        raise ParseError(f"line {line}: bad variable reference in {text!r}.", _SYNTAX_HINT)
    operator = text[j]
    j += 1
    if operator == "}":
        value = lookup(name)
        if value is None and missing is not None:
            missing.add(name)
        return value or "", j
    colon = operator == ":"
    if colon:
        operator = text[j] if j < n else ""
        j += 1
    if operator in ("-", "+", "?"):
        word, j = _stop_on(text, j, "}", lookup, escape, line, missing, raw_escapes=False)
        value = lookup(name)
        unset = value is None or (colon and value == "")
        if operator == "-":
            return (word if unset else value or ""), j
        if operator == "+":
            return ("" if unset else word), j
        if unset:
            raise ParseError(f"line {line}: {name}: {word or 'is not set'}.",
                             f"Pass --build-arg {name}=... or declare ARG {name}.")
        return value or "", j
    if not colon and operator in ("#", "%"):
        word, j = _stop_on(text, j, "}", lookup, escape, line, missing, raw_escapes=True)
        greedy = word.startswith(operator)
        pattern = word[1:] if greedy else word
        value = lookup(name) or ""
        trim = _trim_prefix if operator == "#" else _trim_suffix
        return trim(pattern, value, greedy, line), j
    if not colon and operator == "/":
        every = j < n and text[j] == "/"
        pattern, j = _stop_on(text, j + 1 if every else j, "/", lookup, escape, line, missing, raw_escapes=True)
        replacement, j = _stop_on(text, j, "}", lookup, escape, line, missing, raw_escapes=True)
        value = lookup(name) or ""
        regex = _pattern(pattern, True, False, line)
        return regex.sub(lambda _: replacement, value, count=0 if every else 1), j
    shown = text[i:text.find("}", j) + 1] if "}" in text[j:] else text[i:]
    raise ParseError(f"line {line}: {shown} uses a modifier Docker does not support.",
                     "Supported: ${NAME:-default} ${NAME:+alt} ${NAME:?message} (also without ':'), "
                     "${NAME#pattern} ${NAME%pattern} (## and %% for the longest match), ${NAME/pattern/new}.")


def _lex(text: str, lookup: Lookup, escape: str, line: int, *, split: bool = False,
         missing: set[str] | None = None) -> list[str]:
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
                raise ParseError(f"line {line}: unmatched single quote in {text!r}.", _QUOTE_HINT)
            current.append(text[i + 1:close])
            i = close + 1
            started = True
        elif ch == '"':
            value, i = _double_quoted(text, i + 1, lookup, escape, line, missing)
            current.append(value)
            started = True
        elif ch == "$":
            value, i = _dollar(text, i, lookup, escape, line, missing)
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
