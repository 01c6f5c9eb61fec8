"""The Compose reader's coercions: each value checked for its expected kind, each failure located in its file.

Every error names the file, line and key path (``compose.yaml line 12, services.web.ports[0]: ...``), also for
keys that ``extends`` or ``include`` brought from another file (:mod:`.sources` knows where they were written).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

from ..errors import ParseError
from .fields import _RESOURCE_NAME, go_string, parse_duration
from .sources import KeyPath, SourceMap, located

_TRUTHY = {"y", "yes", "true", "on"}
_FALSY = {"n", "no", "false", "off"}


class Coercer:
    """Reads values of the resolved project, raising ParseErrors located where the value was written."""

    def __init__(self, where: SourceMap, variables: Mapping[str, str]) -> None:
        self.where = where
        self.source = where.source
        self.variables = variables
        self.warnings: list[str] = []

    def error(self, path: KeyPath, message: str, hint: str) -> ParseError:
        source, line, shown = self.where.where(path)
        return ParseError(located(source, line, shown, message), hint)

    def mapping(self, value: object, path: KeyPath, allowed: set[str] | None = None) -> dict[str, object]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(path, f"expected a mapping of keys, got {_kind(value)}.",
                             "Indent the keys below this one, e.g. 'image: busybox'." if path else
                             "A compose file is a mapping: services:, and optionally networks: and volumes:.")
        if allowed is not None:
            for key in value:
                if key not in allowed and not key.startswith("x-"):
                    close = difflib.get_close_matches(key, sorted(allowed), n=1)
                    hint = f"Did you mean '{close[0]}'?" if close else \
                        "Check the spelling against the Compose Specification (extensions start with x-)."
                    raise self.error((*path, key), f"'{key}' is not a valid key here.", hint)
        return value

    def string(self, value: object, path: KeyPath) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return go_string(value)
        raise self.error(path, f"expected a string, got {_kind(value)}.", "Quote the value.")

    def optional_string(self, value: object, path: KeyPath) -> str | None:
        return None if value is None else self.string(value, path)

    def integer(self, value: object, path: KeyPath, minimum: int = 0) -> int:
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and re.fullmatch(r"[-+]?[0-9]+", value.strip()):
            number = int(value)
        if number is None:
            raise self.error(path, f"expected a whole number, got {_kind(value)}.", "Write a number such as 3.")
        if number < minimum:
            raise self.error(path, f"{number} is below the minimum {minimum}.", f"Use {minimum} or more.")
        return number

    def boolean(self, value: object, path: KeyPath) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUTHY | _FALSY:
            return value.strip().lower() in _TRUTHY
        raise self.error(path, f"expected true or false, got {_kind(value)}.", "Write true or false.")

    def duration(self, value: object, path: KeyPath) -> float:
        try:
            return parse_duration(value)  # type: ignore[arg-type]
        except ValueError as err:
            raise self.error(path, f"{err}.", "Durations are written like 10s, 1m30s, 500ms or 1h.") from None

    def strings(self, value: object, path: KeyPath, *, single: bool = True) -> tuple[str, ...]:
        if isinstance(value, str) and single:
            return (value,)
        if not isinstance(value, list):
            raise self.error(path, f"expected a list, got {_kind(value)}.", "Write one '- item' per line.")
        return tuple(self.string(item, (*path, i)) for i, item in enumerate(value))

    def list_or_dict(self, value: object, path: KeyPath, *, inherit: bool) -> dict[str, str | None]:
        """``[A=1, B]`` or ``{A: 1, B: null}``; a bare name takes its value from the environment
        when ``inherit`` (environment, build args), else becomes "" (labels)."""
        result: dict[str, str | None] = {}
        if value is None:
            return result
        if isinstance(value, dict):
            items = [(key, item, (*path, key)) for key, item in value.items()]
        elif isinstance(value, list):
            items = []
            for i, entry in enumerate(value):
                text = self.string(entry, (*path, i))
                key, sep, item = text.partition("=")
                items.append((key, item if sep else None, (*path, i)))
        else:
            raise self.error(path, f"expected a list of NAME=value or a mapping, got {_kind(value)}.",
                             "Write '- NAME=value' lines or 'NAME: value' keys.")
        for key, item, item_path in items:
            if not key:
                raise self.error(item_path, "an entry has an empty name.", "Write NAME=value.")
            if item is None:
                result[key] = self.variables.get(key) if inherit else ""
            elif isinstance(item, (dict, list)):
                raise self.error(item_path, f"expected a single value, got {_kind(item)}.", "Quote the value.")
            else:
                result[key] = go_string(item)
        return result

    def list_of(self, value: object, path: KeyPath) -> list[object]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(path, f"expected a list, got {_kind(value)}.", "Write one '- item' per line.")
        return value

    def resource_name(self, name: str, path: KeyPath, what: str) -> None:
        if not _RESOURCE_NAME.fullmatch(name):
            raise self.error(path, f"{what} name {name!r} has characters Compose does not allow.",
                             "Use letters, digits, '.', '_' and '-' only.")


def _kind(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return f"{value!r}"
