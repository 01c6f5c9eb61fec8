"""The rules every lab container keeps, checked before the engine is asked: a memory and a pids limit, ports on
127.0.0.1 only, never the engine's socket, and no fork bomb where no pids limit can hold it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import UnsafeRequestError

__all__ = ["LOOPBACK", "looks_like_fork_bomb"]

LOOPBACK = "127.0.0.1"
_ENGINE_SOCKETS = ("docker.sock", "podman.sock", "containerd.sock")


# A shell function that calls itself in the background or through a pipe (`bomb() { bomb | bomb & }`,
# `:(){ :|:& };:`), and Python forking in an endless loop: the shapes of a fork bomb.
_SHELL_FORK_BOMB = re.compile(r"(?P<name>[\w:.-]+)\s*\(\)\s*\{(?P<body>[^}]*)\}")
_PYTHON_FORK_LOOP = re.compile(r"while\s+(True|1)\s*:[^\n]*(\n\s+[^\n]*)*?\bfork\(", re.MULTILINE)


def looks_like_fork_bomb(command: Any) -> bool:
    """True when a container command has the shape of a fork bomb (a self-calling backgrounded shell function,
    or a Python loop that forks forever). Checked only where no pids limit can hold the container."""
    if command is None:
        return False
    text = command if isinstance(command, str) else " ".join(str(part) for part in command)
    for match in _SHELL_FORK_BOMB.finditer(text):
        name, body = re.escape(match["name"]), match["body"]
        calls = re.findall(rf"(?<![\w:.-]){name}(?![\w:.-])", body)
        if calls and ("&" in body or "|" in body):
            return True
    return bool(_PYTHON_FORK_LOOP.search(text))


_MEMORY_SIZE = re.compile(r"(?:[0-9]*\.)?[0-9]+[bkmg]?", re.IGNORECASE)


def _required_memory_limit(value: Any) -> Any:
    """A memory limit as given (bytes or '64m'); refuse none, zero or -1, which mean unlimited."""
    if isinstance(value, bool) or not (
            (isinstance(value, int) and value > 0)
            or (isinstance(value, str) and _MEMORY_SIZE.fullmatch(value.strip()) and re.search(r"[1-9]", value))):
        raise UnsafeRequestError(f"mem_limit={value!r} would let a lab container use all of this machine's memory.",
                                 "Every lab container has a memory limit: pass a size such as mem_limit='64m'.")
    return value


def _required_pids_limit(value: Any) -> int:
    """A pids limit; refuse none, zero or -1, which mean unlimited."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise UnsafeRequestError(f"pids_limit={value!r} would let a lab container fork without bound.",
                                 "Every lab container has a pids limit: pass a number such as pids_limit=64.")
    return value


def _loopback_ports(ports: Mapping[Any, Any]) -> dict[str, Any]:
    """Port bindings with every host side on 127.0.0.1; refuse any other address."""
    bindings: dict[str, Any] = {}
    for container_port, host in ports.items():
        key = str(container_port) if "/" in str(container_port) else f"{container_port}/tcp"
        if isinstance(host, (tuple, list)):
            address, port = host[0], (host[1] if len(host) > 1 else None)
            if address != LOOPBACK:
                raise UnsafeRequestError(f"Publishing port {key} on {address} would expose it beyond this machine.",
                                         f"Lab ports bind {LOOPBACK} only: pass just the port number.")
            bindings[key] = (LOOPBACK, port)
        else:
            bindings[key] = (LOOPBACK, host)
    return bindings


def _safe_binds(volumes: Mapping[str, Any] | Iterable[str]) -> Any:
    """Bind mounts as given, refusing the engine's own socket."""
    sources = volumes.keys() if isinstance(volumes, Mapping) else [str(v).split(":")[0] for v in volumes]
    for source in sources:
        if str(source).rstrip("/").endswith(_ENGINE_SOCKETS):
            raise UnsafeRequestError(
                f"Mounting {source} would hand the container control of the engine (and the host).",
                "Lab containers never get the engine socket; talk to the engine from the notebook.")
    return volumes if isinstance(volumes, Mapping) else list(volumes)
