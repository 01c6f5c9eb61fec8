"""Capabilities, no_new_privs and seccomp as /proc/PID/status reports them. Pure.

Root's power is split into about forty **capabilities** (`man 7 capabilities`); a process carries five sets
of them, each a 64-bit mask printed in hex: ``CapEff: 00000000a80425fb`` is the set the kernel checks.
Bit N is the capability numbered N in ``linux/capability.h``: bit 0 CAP_CHOWN, bit 21 CAP_SYS_ADMIN ...
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ParseError

__all__ = ["CAPABILITIES", "DOCKER_DEFAULT", "decode_capabilities", "encode_capabilities", "capability_name",
           "ProcessSecurity", "parse_security", "read_security", "SECCOMP_MODES"]

# linux/capability.h, in bit order (Linux 5.9 added the last one).
CAPABILITIES = (
    "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
    "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
    "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
    "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write", "audit_control", "setfcap",
    "mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf",
    "checkpoint_restore",
)

# What Docker gives a default container (moby's oci/caps/defaults.go); Podman's default drops the last three.
DOCKER_DEFAULT = ("chown", "dac_override", "fsetid", "fowner", "setgid", "setuid", "setfcap", "setpcap",
                  "net_bind_service", "sys_chroot", "kill", "mknod", "net_raw", "audit_write")

SECCOMP_MODES = {0: "disabled", 1: "strict", 2: "filter"}


def capability_name(name: str) -> str:
    """'CAP_NET_ADMIN', 'net_admin' and 'NET_ADMIN' all as 'net_admin'; ValueError for an unknown name."""
    plain = name.strip().lower().removeprefix("cap_")
    if plain not in CAPABILITIES:
        raise ValueError(f"{name!r} is not a Linux capability")
    return plain


def decode_capabilities(mask: str | int) -> tuple[str, ...]:
    """The capability names set in a mask ('00000000a80425fb' or an int), in bit order; unknown bits as 'bit_N'."""
    try:
        value = int(mask, 16) if isinstance(mask, str) else int(mask)
    except ValueError:
        raise ParseError(f"{mask!r} is not a capability mask.", "Pass the hex number after CapEff: in "
                         "/proc/PID/status.") from None
    names = []
    bit = 0
    while value >> bit:
        if value >> bit & 1:
            names.append(CAPABILITIES[bit] if bit < len(CAPABILITIES) else f"bit_{bit}")
        bit += 1
    return tuple(names)


def encode_capabilities(names: Iterable[str]) -> str:
    """The 16-digit hex mask /proc/PID/status would show for these capability names."""
    value = 0
    for name in names:
        value |= 1 << CAPABILITIES.index(capability_name(name))
    return f"{value:016x}"


@dataclass(frozen=True)
class ProcessSecurity:
    """A process's capability sets, its no_new_privs flag and its seccomp mode."""

    effective: tuple[str, ...]
    permitted: tuple[str, ...]
    bounding: tuple[str, ...]
    inheritable: tuple[str, ...] = ()
    ambient: tuple[str, ...] = ()
    no_new_privs: bool = False
    seccomp: str = "disabled"
    seccomp_filters: int = 0
    uid: int = 0  # the effective uid

    def lacks(self, other: ProcessSecurity) -> tuple[str, ...]:
        """Effective capabilities ``other`` has and this process does not."""
        return tuple(name for name in other.effective if name not in self.effective)


def parse_security(text: str) -> ProcessSecurity:
    """The security fields of /proc/PID/status text."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    if "CapEff" not in fields:
        raise ParseError("This is not /proc/PID/status text (it has no CapEff line).",
                         "Pass the contents of /proc/<pid>/status.")
    mode = int(fields.get("Seccomp", "0") or 0)
    uids = (fields.get("Uid") or "0").split()  # real, effective, saved, filesystem
    return ProcessSecurity(
        effective=decode_capabilities(fields["CapEff"]), permitted=decode_capabilities(fields.get("CapPrm", "0")),
        bounding=decode_capabilities(fields.get("CapBnd", "0")),
        inheritable=decode_capabilities(fields.get("CapInh", "0")),
        ambient=decode_capabilities(fields.get("CapAmb", "0")), no_new_privs=fields.get("NoNewPrivs") == "1",
        seccomp=SECCOMP_MODES.get(mode, str(mode)), seccomp_filters=int(fields.get("Seccomp_filters", "0") or 0),
        uid=int(uids[1] if len(uids) > 1 else uids[0]))


def read_security(pid: int | str = "self", proc: str | Path = "/proc") -> ProcessSecurity:
    """Read one process's capabilities, no_new_privs and seccomp mode from /proc."""
    return parse_security(Path(proc, str(pid), "status").read_text())
