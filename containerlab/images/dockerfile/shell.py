"""RUN scripts read the way /bin/sh reads them, as far as the linter needs: simple commands and pipes.

Not a shell: words lose their quotes and escapes, ``$(...)`` and backquotes are read for the commands inside
them, redirections (``> file``, ``2>&1``, ``<<EOF``) are set aside, and compound commands (``if``, ``for``,
``while``, ``{ ...; }``, ``( ... )``) give the simple commands they hold; tests in brackets (``[ -e f ]``) are
conditions, not commands (as ShellCheck parses them). Enough to find ``apt-get install``,
``cd``, ``rm`` and ``|`` the way hadolint (through ShellCheck's parser) finds them.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from .model import Instruction

_OPERATORS = frozenset({"&&", "||", ";;", "|&", "|", "&", ";", "(", ")", "\n"})
_PLAIN = re.compile(r"[^ \t\r\n'\"\\$`#&|;()<>]+")
_QUOTED_PLAIN = re.compile(r'[^"\\$]+')
_REDIRECTIONS = ("<<<", "<<-", "&>>", "<<", ">>", ">&", "<&", ">|", "<>", "&>", ">", "<")
_RESERVED = frozenset({"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time"})
_COMPOUND_HEADS = frozenset({"for", "case", "select", "function"})
_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh"})


@dataclass(frozen=True)
class Script:
    """The simple commands of a script (each a tuple of words), and whether any pipeline joins two."""

    commands: tuple[tuple[str, ...], ...]
    pipes: bool
    programs: tuple[str, ...] = ()  # each command's program without its directory

    def named(self, *names: str) -> list[tuple[str, ...]]:
        """The commands whose program is one of ``names`` (compared without the directory)."""
        return [command for command, program in zip(self.commands, self.programs) if program in names]


def _substitution(script: str, start: int) -> tuple[str, int]:
    """The text of a ``$(`` substitution whose body starts at ``start``; returns (body, index after ')')."""
    depth, i, n = 1, start, len(script)
    quote = ""
    while i < n:
        ch = script[i]
        if ch == "\\":
            i += 2
            continue
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return script[start:i], i + 1
        i += 1
    return script[start:], n


def _tokens(script: str, nested: list[str]) -> list[tuple[str, str]]:
    """("word", text) and ("op", operator) tokens; command substitutions are appended to ``nested``."""
    tokens: list[tuple[str, str]] = []
    word: list[str] = []
    in_word = False
    i, n = 0, len(script)
    plain = _PLAIN.match

    def flush() -> None:
        nonlocal word, in_word
        if in_word:
            tokens.append(("word", "".join(word)))
        word, in_word = [], False

    while i < n:
        run = plain(script, i)
        if run is not None:
            word.append(run.group())
            in_word, i = True, run.end()
            continue
        ch = script[i]
        if ch in " \t\r":
            flush()
            i += 1
        elif ch == "\\":
            if i + 1 < n and script[i + 1] != "\n":
                word.append(script[i + 1])
                in_word = True
            i += 2
        elif ch == "'":
            close = script.find("'", i + 1)
            close = n if close < 0 else close
            word.append(script[i + 1:close])
            in_word, i = True, close + 1
        elif ch == '"':
            i = _double_quoted(script, i + 1, word, nested)
            in_word = True
        elif ch == "$":
            if script.startswith("$(", i) and not script.startswith("$((", i):
                body, i = _substitution(script, i + 2)
                nested.append(body)
                word.append(f"$({body})")
            else:
                word.append(ch)
                i += 1
            in_word = True
        elif ch == "`":
            close = script.find("`", i + 1)
            close = n if close < 0 else close
            nested.append(script[i + 1:close])
            word.append(script[i:close + 1])
            in_word, i = True, close + 1
        elif ch == "#":
            if in_word:
                word.append(ch)
                i += 1
            else:
                newline = script.find("\n", i)
                i = n if newline < 0 else newline
        elif ch in "<>" or (ch == "&" and script.startswith(">", i + 1)):
            if in_word and "".join(word).isdigit():
                word, in_word = [], False  # the file descriptor of '2>&1'
            flush()
            i = _skip_redirection(script, i)
        else:
            operator = script[i:i + 2] if script[i:i + 2] in _OPERATORS else ch
            flush()
            tokens.append(("op", operator))
            i += len(operator)
    flush()
    return tokens


def _double_quoted(script: str, i: int, word: list[str], nested: list[str]) -> int:
    """Append the text of a double-quoted string opening before ``i`` to ``word``; returns the index after it."""
    n = len(script)
    while i < n and script[i] != '"':
        run = _QUOTED_PLAIN.match(script, i)
        if run is not None:
            word.append(run.group())
            i = run.end()
        elif script[i] == "\\" and i + 1 < n:
            if script[i + 1] != "\n":
                word.append(script[i + 1] if script[i + 1] in '"\\$`' else script[i:i + 2])
            i += 2
        elif script.startswith("$(", i) and not script.startswith("$((", i):
            body, i = _substitution(script, i + 2)
            nested.append(body)
            word.append(f"$({body})")
        else:
            word.append(script[i])
            i += 1
    return i + 1


def _skip_redirection(script: str, i: int) -> int:
    """The index after a redirection operator at ``i`` and its target word."""
    operator = next(op for op in _REDIRECTIONS if script.startswith(op, i))
    i += len(operator)
    n = len(script)
    if operator in (">&", "<&") and i < n and (script[i].isdigit() or script[i] == "-"):
        return i + 1
    while i < n and script[i] in " \t":
        i += 1
    quote = ""
    while i < n and (quote or script[i] not in " \t\n;&|()<>"):
        if quote and script[i] == quote:
            quote = ""
        elif not quote and script[i] in "'\"":
            quote = script[i]
        i += 1
    return i


def read_script(script: str) -> Script:
    """The simple commands of ``script`` (those inside $(...) too) and whether it has a pipe."""
    nested: list[str] = []
    commands: list[tuple[str, ...]] = []
    pipes = False
    current: list[str] = []
    heads_compound = False
    for kind, text in _tokens(script, nested):
        if kind == "op":
            pipes = pipes or text in ("|", "|&")
            if current and not heads_compound:
                commands.append(tuple(current))
            current, heads_compound = [], False
            continue
        if not current and (text in _RESERVED or ("=" in text and text.split("=", 1)[0].isidentifier())):
            continue
        if not current and text in _COMPOUND_HEADS:
            heads_compound = True
        current.append(text)
    if current and not heads_compound:
        commands.append(tuple(current))
    commands = [command for command in commands if command[0] not in ("[", "[[")]
    for body in nested:
        inner = read_script(body)
        commands += inner.commands
        pipes = pipes or inner.pipes
    return Script(tuple(commands), pipes, tuple(command[0].rpartition("/")[2] for command in commands))


def run_scripts(run: Instruction) -> list[str]:
    """What the shell of a RUN executes: its command line, the heredoc bodies it runs as scripts
    (``RUN <<EOF`` or ``RUN bash <<EOF``), or for the exec form the string after ``sh -c``."""
    if run.json_form:
        args = run.args
        if args and posixpath.basename(args[0]) in _SHELLS and "-c" in args[:-1]:
            return [args[args.index("-c") + 1]]
        return [" ".join(_quoted(arg) for arg in args)]
    first = run.command.split(None, 1)[0] if run.command.strip() else ""
    runs_bodies = first.startswith("<<") or posixpath.basename(first) in _SHELLS
    return [run.command, *(doc.body for doc in run.heredocs if runs_bodies)]


def _quoted(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'" if not word or any(c in word for c in " \t\n'\"\\$|&;<>()`") \
        else word
