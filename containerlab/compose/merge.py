"""Compose's merge rules: how ``extends`` (and an override file) combines a service with the one it builds on.

As compose-go's override package does it: mappings merge key by key, lists are appended, scalars are replaced;
``command``, ``entrypoint`` and ``healthcheck.test`` are replaced whole; ``environment``, ``labels``, build
``args`` (and the like) merge by variable name, in list or mapping form; ``depends_on`` and ``networks`` merge
by name; ``ulimits`` entries are replaced; ``logging`` merges only for the same driver. The YAML tags ``!reset``
(drop the inherited value) and ``!override`` (replace it instead of merging) are applied here.

Every merged value keeps where it was written: each side comes with a table of placements (see
:mod:`.sources`), and the result gets one.
"""

from __future__ import annotations

from dataclasses import dataclass

from .sources import KeyPath, Placed


class Reset:
    """The value of a key tagged ``!reset``: remove what the key would inherit."""

    def __repr__(self) -> str:
        return "!reset"


RESET = Reset()


@dataclass(frozen=True)
class Override:
    """The value of a key tagged ``!override``: replace what the key would inherit, do not merge with it."""

    value: object


_REPLACED = {("command",), ("entrypoint",), ("healthcheck", "test")}
_BY_NAME = {("environment",), ("labels",), ("annotations",), ("sysctls",), ("build", "args"), ("build", "labels"),
            ("deploy", "labels"), ("build", "additional_contexts")}
_APPENDED = {("env_file",), ("label_file",), ("tmpfs",), ("dns",), ("dns_opt",), ("dns_search",),
             ("extra_hosts",), ("build", "extra_hosts")}


class Side:
    """One side of a merge: where each of its parts was written (paths relative to the service)."""

    def __init__(self, table: dict[KeyPath, Placed]) -> None:
        self.table = table

    def placed(self, rel: KeyPath) -> Placed:
        """Where the part at ``rel`` was written: the nearest recorded part plus the rest of the path."""
        for end in range(len(rel), -1, -1):
            found = self.table.get(rel[:end])
            if found is not None:
                origin, there = found
                return origin, there + rel[end:]
        raise KeyError(rel)  # pragma: no cover - every side records its root ()

    def copy(self, rel: KeyPath, to: KeyPath, out: dict[KeyPath, Placed]) -> None:
        """Record in ``out`` that the part at ``to`` is this side's part at ``rel`` (its sub-parts too)."""
        out[to] = self.placed(rel)
        size = len(rel)
        for key, value in self.table.items():
            if len(key) > size and key[:size] == rel:
                out[to + key[size:]] = value


def merge_service(base: dict, base_side: Side, child: dict, child_side: Side) -> tuple[dict, dict[KeyPath, Placed]]:
    """``child`` merged onto ``base`` with Compose's rules; the result and where each of its parts was written."""
    out: dict[KeyPath, Placed] = {}
    merged = _mapping(base, base_side, child, child_side, (), out)
    return merged, out


def _mapping(base: dict, base_side: Side, child: dict, child_side: Side, rel: KeyPath,
             out: dict[KeyPath, Placed]) -> dict:
    """Key by key; keys on both sides keep the base's position, as Compose's ordered merge does."""
    out[rel] = child_side.placed(rel)
    result: dict = {}
    for key in [*base, *(key for key in child if key not in base)]:
        path = (*rel, key)
        if key not in child:
            result[key] = base[key]
            base_side.copy(path, path, out)
            continue
        value = child[key]
        if value is RESET:
            continue
        if isinstance(value, Override) or key not in base:
            result[key] = strip_markers(value)
            child_side.copy(path, path, out)
        else:
            result[key] = _value(base[key], base_side, value, child_side, path, out)
    return result


def _rule(rel: KeyPath) -> KeyPath:
    """The rule path of a key path: names of networks, ulimits... replaced by '*'."""
    if len(rel) >= 2 and rel[0] in ("ulimits", "networks", "depends_on"):
        return (str(rel[0]), "*", *map(str, rel[2:]))
    return tuple(str(part) for part in rel)


def _value(base: object, base_side: Side, child: object, child_side: Side, rel: KeyPath,
           out: dict[KeyPath, Placed]) -> object:
    rule = _rule(rel)
    if rule in _REPLACED or (rule[:1] == ("ulimits",) and len(rule) == 2):
        child_side.copy(rel, rel, out)
        return strip_markers(child)
    if rule in _BY_NAME:
        return _by_name(base, base_side, child, child_side, rel, out)
    if rule in _APPENDED:
        return _appended(_as_list(base), base_side, _as_list(child), child_side, rel, out)
    if rule == ("build",):
        base = {"context": base} if isinstance(base, str) else base
        child = {"context": child} if isinstance(child, str) else child
    if rule in (("depends_on",), ("networks",)):
        default = {"condition": "service_started", "required": True} if rule == ("depends_on",) else None
        base, child = _as_mapping(base, default), _as_mapping(child, default)
    if rule == ("logging",) and isinstance(base, dict) and isinstance(child, dict) \
            and "driver" in base and "driver" in child and base["driver"] != child["driver"]:
        child_side.copy(rel, rel, out)
        return strip_markers(child)
    if child is None:
        base_side.copy(rel, rel, out)
        return base
    if isinstance(base, dict) and isinstance(child, dict):
        return _mapping(base, base_side, child, child_side, rel, out)
    if isinstance(base, list) and isinstance(child, list):
        return _appended(base, base_side, child, child_side, rel, out)
    child_side.copy(rel, rel, out)
    return strip_markers(child)


def _appended(base: list, base_side: Side, child: list, child_side: Side, rel: KeyPath,
              out: dict[KeyPath, Placed]) -> list:
    out[rel] = child_side.placed(rel)
    for i in range(len(base)):
        base_side.copy((*rel, i), (*rel, i), out)
    kept = [item for item in child if item is not RESET]
    for j in range(len(child)):
        child_side.copy((*rel, j), (*rel, len(base) + j), out)
    return [*base, *(strip_markers(item) for item in kept)]


def _as_list(value: object) -> list:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [key if item is None else f"{key}={item}" for key, item in sorted(value.items())]
    return [] if value is None else [value]


def _as_mapping(value: object, default: dict | None) -> object:
    if isinstance(value, list):
        return {str(item): dict(default) if default is not None else None for item in value}
    return value


def _by_name(base: object, base_side: Side, child: object, child_side: Side, rel: KeyPath,
             out: dict[KeyPath, Placed]) -> dict:
    """Two NAME=value lists or mappings merged by name: the child's value wins, the first position stays."""
    out[rel] = child_side.placed(rel)
    merged: dict = {}
    for value, side in ((base, base_side), (child, child_side)):
        if isinstance(value, dict):
            for key, item in value.items():
                if item is RESET:
                    merged.pop(key, None)
                    continue
                merged[key] = strip_markers(item)
                side.copy((*rel, key), (*rel, key), out)
        elif isinstance(value, list):
            for i, entry in enumerate(value):
                key, sep, item = str(entry).partition("=")
                merged[key] = item if sep else None
                side.copy((*rel, i), (*rel, key), out)
    return merged


def strip_markers(value: object) -> object:
    """The value with ``!reset`` keys and items removed and ``!override`` unwrapped (nothing left to merge)."""
    if isinstance(value, Override):
        return strip_markers(value.value)
    if isinstance(value, dict):
        if not any(isinstance(item, (Reset, Override, dict, list)) for item in value.values()):
            return value
        return {key: strip_markers(item) for key, item in value.items() if item is not RESET}
    if isinstance(value, list):
        if not any(isinstance(item, (Reset, Override, dict, list)) for item in value):
            return value
        return [strip_markers(item) for item in value if item is not RESET]
    return value
