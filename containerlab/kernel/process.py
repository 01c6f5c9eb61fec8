"""A process as the kernel describes it in /proc/PID/status and /proc/PID/cmdline. Pure.

`NSpid` is the lesson in one line: the same process has one PID per PID namespace,
e.g. `NSpid: 48213 1` is PID 48213 on the host and PID 1 inside its container.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ParseError
from .procfs import BLANK, kernel_fields, kernel_int, kernel_lines, read_kernel_text

__all__ = ["ProcessStatus", "parse_status", "read_process", "list_pids"]


@dataclass(frozen=True)
class ProcessStatus:
    """The fields of /proc/PID/status a lesson needs."""

    pid: int
    ppid: int
    name: str
    uid: int
    ns_pids: tuple[int, ...]
    rss_kb: int | None
    cmdline: tuple[str, ...] = ()

    @property
    def innermost_pid(self) -> int:
        """The PID as seen inside the process's own (deepest) PID namespace."""
        return self.ns_pids[-1] if self.ns_pids else self.pid

    @property
    def command(self) -> str:
        """The command line, or [name] for kernel threads without one."""
        return " ".join(self.cmdline) if self.cmdline else f"[{self.name}]"


def parse_status(text: str, cmdline: bytes = b"") -> ProcessStatus:
    """Parse /proc/PID/status text (and optionally the NUL-separated cmdline); lines end at '\n' only."""
    fields: dict[str, str] = {}
    for line in kernel_lines(text):
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip(BLANK)] = value.strip(BLANK)
    try:
        pid = kernel_int(fields["Pid"])
        ppid = kernel_int(fields.get("PPid", "0"))
        uid = kernel_int(kernel_fields(fields.get("Uid", "0"))[0])
        ns_pids = tuple(kernel_int(p) for p in kernel_fields(fields.get("NSpid", str(pid))))
        rss = fields.get("VmRSS")
        rss_kb = kernel_int(kernel_fields(rss)[0]) if rss else None
    except (KeyError, ValueError, IndexError) as err:
        raise ParseError(f"This is not /proc/PID/status text ({err!r} while reading it).",
                         "Pass the contents of /proc/<pid>/status.") from None
    args = tuple(part.decode(errors="replace") for part in cmdline.split(b"\0") if part)
    return ProcessStatus(pid, ppid, fields.get("Name", "?"), uid, ns_pids, rss_kb, args)


def read_process(pid: int | str = "self", proc: str | Path = "/proc") -> ProcessStatus:
    """Read one process from /proc (FileNotFoundError once it has exited); any bytes in its name are kept."""
    base = Path(proc, str(pid))
    try:
        with open(base / "cmdline", "rb") as handle:
            cmdline = handle.read(1 << 20)
    except PermissionError:
        cmdline = b""
    return parse_status(read_kernel_text(base / "status"), cmdline)


def list_pids(proc: str | Path = "/proc") -> list[int]:
    """Every PID visible in this PID namespace's /proc, sorted."""
    return sorted(int(entry.name) for entry in Path(proc).iterdir() if entry.name.isdigit())
