"""Namespaces of a lesson's containers, and host tools (unshare, nsenter, ip) run with a timeout.

The kernel readers stay pure; this module only finds the processes to read (through the
engine) and runs host commands, so notebook cells stay short and never hang.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence

from ..errors import HostToolMissingError, LabError
from ..kernel.namespaces import NAMESPACE_TYPES, NamespaceComparison, Namespaces, compare_namespaces, read_namespaces
from ..render.nsmap import namespace_map
from ..render.svg import Diagram
from .lab import Lab, LabContainer

__all__ = ["container_namespaces", "lab_containers", "lab_namespace_map", "lab_namespaces",
           "missing_tools", "run_on_host", "sharing_flags", "tools_ready"]

_FLAGS = (("PidMode", "--pid"), ("NetworkMode", "--network"), ("IpcMode", "--ipc"),
          ("UTSMode", "--uts"), ("UsernsMode", "--userns"))
_SHOWN_MODES = ("host", "none")
# Namespaces a default container never shares with the host: when the kernel says it does, the flag was
# --<kind>=host whatever the engine reports (Podman 4.3 reports IpcMode "shareable" for --ipc=host).
_KERNEL_KINDS = {"PidMode": "pid", "NetworkMode": "net", "IpcMode": "ipc", "UTSMode": "uts"}


def missing_tools(*tools: str) -> list[str]:
    """The host programs among ``tools`` that are not on PATH."""
    return [tool for tool in tools if shutil.which(tool) is None]


def tools_ready(*tools: str, task: str) -> bool:
    """True when every tool is installed; else print one 'Skipped:' line naming the missing ones."""
    missing = missing_tools(*tools)
    if missing:
        print(f"Skipped: {task} needs {', '.join(missing)} (not installed here; Debian: util-linux, iproute2).")
        return False
    return True


def run_on_host(argv: Sequence[str], *, timeout: float = 10.0) -> str:
    """Run a host command and return its standard output; LabError if it fails or hangs."""
    command = " ".join(argv)
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise HostToolMissingError(f"{argv[0]} is not installed on this machine.",
                                   f"Install the package that provides {argv[0]} (util-linux, iproute2).") from None
    except subprocess.TimeoutExpired:
        raise LabError(f"'{command}' ran longer than {timeout:g} s and was stopped.",
                       "Make the command finish on its own, or give it a larger timeout=.") from None
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["no error message"])[-1]
        raise LabError(f"'{command}' failed with exit code {done.returncode}: {why}",
                       "Namespace tools need root: run the notebook as root, or read the cell's Skipped line.")
    return done.stdout


def lab_containers(lab: Lab) -> list[LabContainer]:
    """The lab's running containers, oldest first (a stable column order for maps)."""
    prefix = lab.name_for("x")[:-1]
    found = [c for c in lab.containers() if c.status == "running" and c.name.startswith(prefix)]
    found.sort(key=lambda c: (c.attrs.get("Created", ""), c.name))
    return [LabContainer(lab, c.name[len(prefix):], c) for c in found]


def sharing_flags(container: LabContainer, short_names: dict[str, str] | None = None) -> str:
    """The run flags that share namespaces, e.g. '--pid=host --network=container:web'.

    ``short_names`` maps container IDs to short names (the engine records IDs, not names).
    """
    config = container.inspect().get("HostConfig", {})
    flags = []
    for key, flag in _FLAGS:
        mode = str(config.get(key) or "")
        if mode in _SHOWN_MODES:
            flags.append(f"{flag}={mode}")
        elif key in _KERNEL_KINDS and not mode.startswith("container:") \
                and _shares_host(container, _KERNEL_KINDS[key]):
            flags.append(f"{flag}=host")
        elif mode.startswith("container:"):
            target = mode.split(":", 1)[1]
            flags.append(f"{flag}=container:{(short_names or {}).get(target, target[:12])}")
    return " ".join(flags)


def _shares_host(container: LabContainer, kind: str) -> bool:
    """True when the kernel shows the container in the host's namespace of this kind (False when unreadable).

    The host's is PID 1's, or this process's where PID 1's cannot be read (a VM's init may hide its /proc/1/ns
    even from root); this process runs in the host's namespaces, as every map of the course assumes."""
    try:
        inside, host = read_namespaces(container.pid)[kind], read_namespaces(1)[kind]
        if host is None:
            host = read_namespaces("self")[kind]
    except (OSError, ProcessLookupError):
        return False
    return inside is not None and inside == host


def container_namespaces(container: LabContainer) -> Namespaces:
    """A running container's namespaces, read on the host from /proc/PID/ns (unknown when not running)."""
    pid = container.pid
    if pid <= 0:
        return Namespaces(pid=0, inodes=dict.fromkeys(NAMESPACE_TYPES))
    try:
        return read_namespaces(pid)
    except ProcessLookupError:
        return Namespaces(pid=pid, inodes=dict.fromkeys(NAMESPACE_TYPES))


def lab_namespaces(lab: Lab, names: Sequence[str] | None = None, *,
                   reference: str = "host") -> tuple[NamespaceComparison, dict[str, str]]:
    """This notebook's namespaces (as ``reference``) beside the lab's containers, and their sharing flags.

    ``names`` picks and orders containers by short name; default: every running one, oldest first.
    """
    running = lab_containers(lab)
    if names is not None:
        by_name = {c.short_name: c for c in running}
        running = [by_name[name] if name in by_name else lab.container(name) for name in names]
    short_names = {c.id: c.short_name for c in running}
    named = {reference: read_namespaces("self")}
    notes: dict[str, str] = {}
    for container in running:
        named[container.short_name] = container_namespaces(container)
        flags = sharing_flags(container, short_names)
        if flags:
            notes[container.short_name] = flags
    return compare_namespaces(named), notes


def lab_namespace_map(lab: Lab, names: Sequence[str] | None = None, *, reference: str = "host",
                      title: str = "Namespace map") -> Diagram:
    """The namespace map of this notebook and the lab's containers, flags shown under their names."""
    comparison, notes = lab_namespaces(lab, names, reference=reference)
    return namespace_map(comparison, title=title, notes=notes)
