"""PURE: an OCI runtime bundle's config.json, read and edited as plain data.

`runc spec` writes a template config.json; a low-level runtime (runc, crun) reads nothing else.
Lesson 07 edits it from Python: the command, the hostname, a read-only root, which namespaces,
a memory limit. Every edit returns a new dict, so the template can be shown beside the result.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any, NamedTuple

from ..errors import ParseError

__all__ = ["OCI_NAMESPACES", "NAMESPACE_FLAGS", "load_spec", "dump_spec", "edit_spec", "namespace_types",
           "memory_limit", "parse_size", "spec_changes", "spec_summary", "IdRange", "parse_id_map"]

# The OCI names of the namespace types, and the kernel's names for them (/proc/PID/ns/<name>).
OCI_NAMESPACES: dict[str, str] = {"pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts", "mount": "mnt",
                                  "user": "user", "cgroup": "cgroup", "time": "time"}
NAMESPACE_FLAGS: dict[str, str] = {"pid": "--pid", "network": "--net", "ipc": "--ipc", "uts": "--uts",
                                   "mount": "--mount", "user": "--user", "cgroup": "--cgroup", "time": "--time"}
_KERNEL_TO_OCI = {kernel: oci for oci, kernel in OCI_NAMESPACES.items()}
_SIZE = re.compile(r"([0-9]{1,30}(?:\.[0-9]{1,30})?) ?([kmg]?)i?b?", re.IGNORECASE | re.ASCII)
_UNITS = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
_DIGITS = re.compile(r"[0-9]{1,20}")
MAX_SIZE = 2 ** 63 - 1
"""The largest size the OCI runtime spec can hold (an int64)."""
_SPEC_HINT = "Start from the template 'runc spec' writes and change fields with edit_spec."
_STRINGS = "a list of strings"
# What this module reads from a spec, parents first: (path, what it must be). Checked before any use.
_SHAPE: tuple[tuple[tuple[str, ...], str], ...] = (
    (("process",), "an object"), (("root",), "an object"), (("linux",), "an object"), (("hostname",), "a string"),
    (("mounts",), "a list of objects"), (("process", "args"), _STRINGS), (("process", "env"), _STRINGS),
    (("process", "terminal"), "true or false"), (("process", "user"), "an object"),
    (("process", "user", "uid"), "an integer"), (("process", "user", "gid"), "an integer"),
    (("root", "path"), "a string"), (("root", "readonly"), "true or false"),
    (("linux", "namespaces"), "a list of objects"), (("linux", "resources"), "an object"),
    (("linux", "resources", "memory"), "an object"), (("linux", "resources", "memory", "limit"), "an integer"),
    (("linux", "cgroupsPath"), "a string"),
)


def _is(value: Any, what: str) -> bool:
    if what == "an object":
        return isinstance(value, Mapping)
    if what == "a string":
        return isinstance(value, str)
    if what == "true or false":
        return isinstance(value, bool)
    if what == "an integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if what == _STRINGS:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return isinstance(value, list) and all(isinstance(item, Mapping) for item in value)


def _checked(spec: Any) -> Mapping[str, Any]:
    """``spec`` if every field this module reads has the type the OCI runtime spec gives it; else ParseError."""
    if not isinstance(spec, Mapping):
        raise ParseError(f"config.json must be a JSON object, not {type(spec).__name__}.", _SPEC_HINT)
    for path, what in _SHAPE:
        value: Any = spec
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        if value is not None and not _is(value, what):
            raise ParseError(f"config.json: {'.'.join(path)} must be {what}, not {json.dumps(value)[:60]}.", _SPEC_HINT)
    for i, namespace in enumerate(spec.get("linux", {}).get("namespaces") or []):
        if not isinstance(namespace.get("type"), str) or not isinstance(namespace.get("path", ""), str):
            raise ParseError(f"config.json: linux.namespaces[{i}] needs a string 'type' (and 'path', if any).",
                             _SPEC_HINT)
    for i, mount in enumerate(spec.get("mounts") or []):
        if not isinstance(mount.get("destination", ""), str):
            raise ParseError(f"config.json: mounts[{i}].destination must be a string.", _SPEC_HINT)
    return spec


def load_spec(text: str) -> dict[str, Any]:
    """Parse config.json text; a ParseError says what is wrong (bad JSON, a section missing or of the wrong type)."""
    try:
        spec = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise ParseError(f"config.json is not valid JSON: {str(err)[:120]}",
                         "Write it again with 'runc spec', or fix the line the message names.") from None
    if not isinstance(spec, dict) or "process" not in spec or "root" not in spec:
        raise ParseError("config.json has no 'process' or 'root' section, so it is not an OCI runtime spec.",
                         "Start from the template 'runc spec' writes.")
    _checked(spec)
    return spec


def dump_spec(spec: Mapping[str, Any]) -> str:
    """config.json text as runc writes it (tab-indented)."""
    return json.dumps(spec, indent="\t") + "\n"


def parse_size(size: int | str) -> int:
    """Bytes from 64m, 64M, 64MiB, 1.5g or a plain number of bytes (0 to 2**63 - 1, computed exactly)."""
    hint = "Write it like 64m, 512k, 1g, or a number of bytes."
    if isinstance(size, bool) or not isinstance(size, (int, str)):
        raise ParseError(f"{size!r} is not a size.", hint)
    if isinstance(size, int):
        value = size
    else:
        match = _SIZE.fullmatch(size.strip())
        if match is None:
            raise ParseError(f"{size[:40]!r} is not a size.", hint)
        value = int(Fraction(match.group(1)) * _UNITS[match.group(2).lower()])
    if not 0 <= value <= MAX_SIZE:
        raise ParseError(f"{str(size)[:40]} is out of range for a size (0 to 2**63 - 1 bytes).", hint)
    return value


def _oci_namespace(name: str) -> str:
    name = name.strip().lower()
    if name in OCI_NAMESPACES:
        return name
    if name in _KERNEL_TO_OCI:
        return _KERNEL_TO_OCI[name]
    raise ParseError(f"{name!r} is not a namespace type.", f"Use one of {', '.join(OCI_NAMESPACES)}.")


def edit_spec(spec: Mapping[str, Any], *, args: Sequence[str] | None = None, hostname: str | None = None,
              readonly: bool | None = None, namespaces: Iterable[str] | None = None,
              memory: int | str | None = None, cgroups_path: str | None = None,
              env: Mapping[str, str] | None = None, terminal: bool | None = None) -> dict[str, Any]:
    """A copy of ``spec`` with the given fields changed (None leaves a field alone).

    ``namespaces`` lists the types to create (OCI or kernel names: "network" or "net"); a UTS
    namespace is added when a hostname is set, since the runtime refuses a hostname without one.
    ``memory`` sets linux.resources.memory.limit (and the same swap limit: no swapping past it).
    """
    new = copy.deepcopy(dict(_checked(spec)))
    process = new.setdefault("process", {})
    linux = new.setdefault("linux", {})
    if args is not None:
        process["args"] = [str(arg) for arg in args]
    if terminal is not None:
        process["terminal"] = terminal
    if env is not None:
        kept = [item for item in process.get("env", []) if item.split("=", 1)[0] not in env]
        process["env"] = kept + [f"{key}={value}" for key, value in env.items()]
    if hostname is not None:
        new["hostname"] = hostname
    if readonly is not None:
        new.setdefault("root", {})["readonly"] = readonly
    if namespaces is not None:
        wanted = [_oci_namespace(name) for name in namespaces]
        if new.get("hostname") and "uts" not in wanted:
            wanted.append("uts")
        old = {ns["type"]: ns for ns in linux.get("namespaces", [])}
        linux["namespaces"] = [old.get(kind, {"type": kind}) for kind in OCI_NAMESPACES if kind in wanted]
    if memory is not None:
        limit = parse_size(memory)
        resources = linux.setdefault("resources", {})
        resources["memory"] = {"limit": limit, "swap": limit}
    if cgroups_path is not None:
        linux["cgroupsPath"] = cgroups_path
    return new


def namespace_types(spec: Mapping[str, Any]) -> list[str]:
    """The kernel names of the namespaces the runtime will create (those without a path to join)."""
    namespaces = _checked(spec).get("linux", {}).get("namespaces") or []
    return [OCI_NAMESPACES.get(ns["type"], ns["type"]) for ns in namespaces if not ns.get("path")]


def memory_limit(spec: Mapping[str, Any]) -> int | None:
    """linux.resources.memory.limit in bytes, or None."""
    linux = _checked(spec).get("linux") or {}
    return ((linux.get("resources") or {}).get("memory") or {}).get("limit")


def _flatten(value: Any) -> dict[str, Any]:
    """Nested objects as 'a.b.c' keys (iterative: any depth)."""
    flat: dict[str, Any] = {}
    pending: list[tuple[str, Any]] = [("", value)]
    while pending:
        prefix, item = pending.pop()
        if isinstance(item, Mapping) and item:
            pending.extend((f"{prefix}.{key}" if prefix else str(key), child) for key, child in item.items())
        else:
            flat[prefix] = {} if isinstance(item, Mapping) else item
    return flat


def spec_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """What differs between two specs, one line per changed field: 'hostname: runc -> box'."""
    old, new = _flatten(before), _flatten(after)
    lines = []
    for key in sorted(set(old) | set(new)):
        if key not in new:
            lines.append(f"{key}: removed")
        elif key not in old:
            lines.append(f"{key}: (none) -> {json.dumps(new[key])}")
        elif old[key] != new[key]:
            lines.append(f"{key}: {json.dumps(old[key])} -> {json.dumps(new[key])}")
    return lines


def spec_summary(spec: Mapping[str, Any]) -> list[str]:
    """The fields a learner looks at first, as short lines."""
    spec = _checked(spec)
    process = spec.get("process", {})
    limit = memory_limit(spec)
    return [
        f"process.args: {' '.join(process.get('args', []))}",
        f"process.user: uid {process.get('user', {}).get('uid', '?')}, gid {process.get('user', {}).get('gid', '?')}",
        f"root: {spec.get('root', {}).get('path', '?')} (read-only: {bool(spec.get('root', {}).get('readonly'))})",
        f"hostname: {spec.get('hostname', '(none)')}",
        f"namespaces: {' '.join(namespace_types(spec)) or '(none)'}",
        f"memory limit: {f'{limit // 1024 ** 2} MiB' if limit else 'none'}",
        f"mounts: {' '.join(m.get('destination', '?') for m in spec.get('mounts', []))}",
    ]


class IdRange(NamedTuple):
    """One line of /proc/PID/uid_map: ``count`` ids from ``inside`` are ``outside`` onwards on the host."""

    inside: int
    outside: int
    count: int  # type: ignore[assignment]  # the kernel's name for the field, though it hides tuple.count

    def to_host(self, uid: int) -> int | None:
        """The host id of ``uid`` inside, or None when this range does not cover it."""
        return self.outside + uid - self.inside if self.inside <= uid < self.inside + self.count else None


def parse_id_map(text: str) -> list[IdRange]:
    """Parse a uid_map/gid_map file ('0 1001 1' lines); a ParseError names a bad line."""
    ranges = []
    for line in text.split("\n"):  # kernel text: lines end at '\n' only, numbers are ASCII digits
        if not line.strip(" \t"):
            continue
        parts = line.strip(" \t").replace("\t", " ").split(" ")
        parts = [part for part in parts if part]
        if len(parts) != 3 or not all(_DIGITS.fullmatch(part) for part in parts):
            raise ParseError(f"{line.strip()!r} is not a uid_map line (three numbers).",
                             "Pass the text of /proc/PID/uid_map as it is.")
        ranges.append(IdRange(*(int(part) for part in parts)))
    return ranges
