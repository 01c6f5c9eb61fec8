"""Package installs in RUN commands, and which of them name no version (the linter's unpinned-packages rule).

Each package manager's rule follows hadolint's (DL3008 apt-get, DL3018 apk, DL3013 pip, DL3016 npm, DL3033 yum,
DL3041 dnf/microdnf, DL3037 zypper, DL3028 gem): which words are packages, and what counts as a version (for yum as
hadolint 2.15 checks it: a version part after a '-', as for dnf).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable

Command = tuple[str, ...]

_PIP = re.compile(r"pip[0-9.]*")
_PYTHON = re.compile(r"python[0-9.]*")
_PIP_VALUE_FLAGS = {"abi", "b", "build", "e", "editable", "extra-index-url", "f", "find-links", "i", "index-url",
                    "implementation", "no-binary", "only-binary", "platform", "prefix", "progress-bar", "proxy",
                    "python-version", "root", "src", "t", "target", "trusted-host", "upgrade-strategy"}
_PIP_VERSION = ("==", ">=", "<=", ">", "<", "!=", "~=", "===")
_DNF_VERSION_CHARS = re.compile(r"[0-9A-Za-z.~^_:+]*")


def _flag_names(word: str) -> list[str]:
    """The flag names a word stands for: --name[=v] -> [name], -abc -> [a, b, c], other words -> []."""
    if word in ("-", "--") or not word.startswith("-"):
        return []
    if word.startswith("--"):
        return [word[2:].split("=", 1)[0]]
    return list(word[1:])


def _operands(args: Iterable[str], value_flags: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """The words that are not flags, without the word after a flag of ``value_flags`` (hadolint's
    getArgsNoFlags after dropFlagArg)."""
    found = []
    skip = False
    for word in args:
        names = _flag_names(word)
        if names:
            skip = "=" not in word and any(name in value_flags for name in names)
            continue
        if skip:
            skip = False
            continue
        found.append(word)
    return found


def _after(words: list[str], *verbs: str) -> list[str]:
    """The operands with the verb words (install, add, ...) left out."""
    return [word for word in words if word not in verbs]


def _apt_get(command: Command) -> list[str] | None:
    if "install" not in command[1:]:
        return None
    return [p for p in _after(_operands(command[1:], {"t", "target-release"}), "install")
            if "=" not in p and "/" not in p and not p.endswith(".deb")]


def _apk(command: Command) -> list[str] | None:
    if "add" not in command[1:]:
        return None
    return [p for p in _after(_operands(command[1:], {"t", "virtual", "repository", "X"}), "add")
            if "=" not in p and "~" not in p and not p.endswith(".apk")]


def _pip_args(command: Command) -> list[str] | None:
    """The arguments after the program of a pip command (pip install / python -m pip install), else None."""
    program = posixpath.basename(command[0])
    if _PIP.fullmatch(program):
        return list(command[1:])
    if _PYTHON.fullmatch(program) and "-m" in command and "pip" in command:
        return list(command[command.index("pip") + 1:])
    return None


def _pip(command: Command) -> list[str] | None:
    args = _pip_args(command)
    if args is None or "install" not in args:
        return None
    if any(word in ("-r", "--requirement", ".") for word in args):
        return None
    if any(name in ("c", "constraint") for word in args for name in _flag_names(word)):
        return None
    operands = _operands(args, _PIP_VALUE_FLAGS)
    if "install" in operands:
        operands = operands[operands.index("install"):]
    return [p for p in _after(operands, "install")
            if not any(symbol in p for symbol in _PIP_VERSION) and not ("git+http" in p and "@" in p)
            and not p.endswith((".whl", ".tar.gz"))]


def _npm_pinned(package: str) -> bool:
    if package.startswith(("git://", "git+ssh://", "git+http://", "git+https://")):
        return "#" in package
    if package.endswith((".tar", ".tar.gz", ".tgz")) or package.startswith(("/", "./", "../", "~/")):
        return True
    name = package.split("/", 1)[1] if package.startswith("@") and "/" in package else package
    return "@" in name


def _npm(command: Command) -> list[str] | None:
    operands = _operands(command[1:])
    if not operands or operands[0] != "install":
        return None
    return [p for p in _after(operands, "install") if not _npm_pinned(p)]


def _yum(command: Command) -> list[str] | None:
    if "install" not in command[1:] or "module" in command[1:]:
        return None
    return [p for p in _after(_operands(command[1:]), "install", "module") if not _rpm_pinned(p)]


def _rpm_pinned(package: str) -> bool:
    """name-version (a part after a '-' starting with a digit, e.g. curl-7.76.1) or an .rpm file."""
    parts = package.split("-")
    if len(parts) <= 1:
        return False
    if package.endswith(".rpm"):
        return True
    rest = parts[1:]
    return all(_DNF_VERSION_CHARS.fullmatch(part) for part in rest) and any(part[:1].isdigit() for part in rest)


def _dnf(command: Command) -> list[str] | None:
    if "install" not in command[1:] or "module" in command[1:] or "group" in command[1:]:
        return None
    return [p for p in _after(_operands(command[1:]), "install", "module") if not _rpm_pinned(p)]


def _zypper(command: Command) -> list[str] | None:
    if "install" not in command[1:] and "in" not in command[1:]:
        return None
    return [p for p in _after(_operands(command[1:]), "install", "in")
            if not any(symbol in p for symbol in ("=", ">", "<")) and not p.endswith(".rpm")]


def _gem(command: Command) -> list[str] | None:
    args = command[1:]
    if ("install" not in args and "i" not in args) or "-v" in args or "--version" in args \
            or any(word.startswith("--version=") for word in args):
        return None
    return [p for p in _after(_operands(args), "install", "i") if ":" not in p]


_MANAGERS: dict[str, Callable[[Command], list[str] | None]] = {
    "apt-get": _apt_get, "apk": _apk, "npm": _npm, "yum": _yum, "dnf": _dnf, "microdnf": _dnf,
    "zypper": _zypper, "gem": _gem,
}


def unpinned_packages(commands: Iterable[Command]) -> dict[str, list[str]]:
    """Package manager -> the packages its install commands name without a version (managers with none left out)."""
    found: dict[str, list[str]] = {}
    for command in commands:
        program = command[0].rpartition("/")[2]
        reader = _MANAGERS.get(program)
        if reader is None and _pip_args(command) is not None:
            reader = _pip
        unpinned = reader(command) if reader is not None else None
        if unpinned:
            name = "pip" if reader is _pip else program
            found.setdefault(name, []).extend(p for p in unpinned if p not in found.get(name, []))
    return found
