"""Variable interpolation the way Docker Compose does it: ``$VAR``, ``${VAR:-default}``, ``${VAR:?err}``, ``$$``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..errors import ParseError
from ..text import closing_brace

_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")
_BRACED = re.compile(r"([_A-Za-z][_A-Za-z0-9]*)(?:(:?[-+?])(.*))?", re.DOTALL)
_INTERPOLATION_HINT = "Write $$ for a literal dollar sign; variables look like $NAME or ${NAME:-default}."

# --------------------------------------------------------------------------- interpolation


class _TemplateError(ValueError):
    """An interpolation failure, turned into a located ParseError by the caller."""

    def __init__(self, message: str, hint: str = _INTERPOLATION_HINT) -> None:
        super().__init__(message)
        self.hint = hint


def interpolate(template: str, mapping: Mapping[str, str], *, missing: list[str] | None = None) -> str:
    """Substitute variables as Compose does; unset plain variables become "" (listed in ``missing``).

    ``$$`` is a literal ``$``; a ``$`` not followed by a name or ``{`` is kept as it is.
    Raises ParseError for ``${VAR:?message}`` when VAR is missing and for malformed ``${...}``.
    """
    try:
        return _substitute(template, mapping, missing)
    except _TemplateError as err:
        raise ParseError(str(err), err.hint) from None


def _substitute(template: str, mapping: Mapping[str, str], missing: list[str] | None) -> str:
    out: list[str] = []
    i, n = 0, len(template)
    while i < n:
        dollar = template.find("$", i)
        if dollar < 0:
            out.append(template[i:])
            break
        out.append(template[i:dollar])
        i = dollar
        following = template[i + 1: i + 2]
        if following == "$":
            out.append("$")
            i += 2
        elif following == "{":
            end = closing_brace(template, i + 2)
            if end < 0:
                raise _TemplateError(f"invalid interpolation format in {template!r}: "
                                     "'${' has no closing '}'.")
            out.append(_braced(template[i + 2: end], template, mapping, missing))
            i = end + 1
        else:
            name = _NAME.match(template, i + 1)
            if name is None:
                out.append("$")
                i += 1
                continue
            out.append(_lookup(name.group(), mapping, missing))
            i = name.end()
    return "".join(out)



def _lookup(name: str, mapping: Mapping[str, str], missing: list[str] | None) -> str:
    value = mapping.get(name)
    if value is None:
        if missing is not None and name not in missing:
            missing.append(name)
        return ""
    return value


def _braced(content: str, template: str, mapping: Mapping[str, str], missing: list[str] | None) -> str:
    match = _BRACED.fullmatch(content)
    if match is None:
        raise _TemplateError(f"invalid interpolation format in {template!r}: "
                             f"'${{{content}}}' is not a variable name with an optional "
                             ":-, -, :?, ?, :+ or + part.")
    name, operator, argument = match.group(1), match.group(2), match.group(3) or ""
    if operator is None:
        return _lookup(name, mapping, missing)
    value = mapping.get(name)
    present = value is not None if not operator.startswith(":") else bool(value)
    kind = operator[-1]
    if kind == "-":
        return value if present else _substitute(argument, mapping, missing)  # type: ignore[return-value]
    if kind == "+":
        return _substitute(argument, mapping, missing) if present else ""
    if not present:
        message = _substitute(argument, mapping, missing)
        raise _TemplateError(f"required variable {name} is missing a value" + (f": {message}" if message else ""),
                             f"Set {name} in the environment or in the .env file next to the compose file.")
    return value  # type: ignore[return-value]

