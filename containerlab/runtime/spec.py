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
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmg]?)i?b?", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}


def load_spec(text: str) -> dict[str, Any]:
    """Parse config.json text; a ParseError says what is wrong."""
    try:
        spec = json.loads(text)
    except ValueError as err:
        raise ParseError(f"config.json is not valid JSON: {err}",
                         "Write it again with 'runc spec', or fix the line the message names.") from None
    if not isinstance(spec, dict) or "process" not in spec or "root" not in spec:
        raise ParseError("config.json has no 'process' or 'root' section, so it is not an OCI runtime spec.",
                         "Start from the template 'runc spec' writes.")
    return spec


def dump_spec(spec: Mapping[str, Any]) -> str:
    """config.json text as runc writes it (tab-indented)."""
    return json.dumps(spec, indent="\t") + "\n"


def parse_size(size: int | str) -> int:
    """Bytes from 64m, 64M, 64MiB, 1g or a plain number of bytes."""
    if isinstance(size, int):
        return size
    match = _SIZE.fullmatch(str(size).strip())
    if match is None:
        raise ParseError(f"{size!r} is not a size.", "Write it like 64m, 512k, 1g, or a number of bytes.")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


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
    new = copy.deepcopy(dict(spec))
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
    return [OCI_NAMESPACES.get(ns["type"], ns["type"]) for ns in spec.get("linux", {}).get("namespaces", [])
            if not ns.get("path")]


def memory_limit(spec: Mapping[str, Any]) -> int | None:
    """linux.resources.memory.limit in bytes, or None."""
    return spec.get("linux", {}).get("resources", {}).get("memory", {}).get("limit")


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat or {prefix: {}}
    return {prefix: value}


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
    count: int

    def to_host(self, uid: int) -> int | None:
        """The host id of ``uid`` inside, or None when this range does not cover it."""
        return self.outside + uid - self.inside if self.inside <= uid < self.inside + self.count else None


def parse_id_map(text: str) -> list[IdRange]:
    """Parse a uid_map/gid_map file ('0 1001 1' lines); a ParseError names a bad line."""
    ranges = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 3 or not all(part.isdigit() for part in parts):
            raise ParseError(f"{line.strip()!r} is not a uid_map line (three numbers).",
                             "Pass the text of /proc/PID/uid_map as it is.")
        ranges.append(IdRange(*(int(part) for part in parts)))
    return ranges
