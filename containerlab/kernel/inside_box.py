"""Inside the course box: which of the privileges its nested engine needs are missing, and the box's status. Pure.

The box runs its own Docker Engine, which needs what `docker run --privileged` gives (all capabilities, no
seccomp filter, no AppArmor profile, unmasked /proc, every device) and its own cgroup namespace. Started
without them, the box still serves JupyterLab, and notebook 00 and `doctor` say in one line which flag is
missing instead of failing deep inside the engine. The parsers take the text of /proc files (tested on
recorded ones); `read_privileges` reads this process's; `python -m containerlab.kernel.inside_box` prints the verdict.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from .cgroups import parse_proc_cgroup
from .mountinfo import parse_mountinfo

__all__ = ["NEEDED_CAPABILITIES", "MASKED_PATHS", "Privileges", "BoxStatus", "STATUS_FILE", "parse_capabilities",
           "read_privileges", "missing_flags", "missing_line", "parse_status", "format_status", "read_status",
           "in_box"]

# Capability numbers (linux/capability.h) the nested engine and the lessons use.
NEEDED_CAPABILITIES = {12: "CAP_NET_ADMIN", 19: "CAP_SYS_PTRACE", 21: "CAP_SYS_ADMIN", 27: "CAP_MKNOD"}
# What an engine masks or makes read-only in /proc unless told `systempaths=unconfined` (Podman: `unmask=ALL`).
MASKED_PATHS = ("/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/proc/scsi", "/sys/firmware")
STATUS_FILE = Path("/run/containerlab-box/status")
BOX_MARKER = Path("/usr/local/bin/containerlab-box")


@dataclass(frozen=True)
class Privileges:
    """What this process was given, as read from /proc (and the device cgroup on cgroup v1)."""

    missing_capabilities: tuple[str, ...] = ()
    seccomp_filtered: bool = False
    apparmor_profile: str = ""
    masked_paths: tuple[str, ...] = ()
    host_cgroup_namespace: bool = False
    devices_restricted: bool = False


def parse_capabilities(status_text: str, field_name: str = "CapEff") -> set[int]:
    """The capability numbers set in one hex field of /proc/PID/status."""
    for line in status_text.splitlines():
        if line.startswith(f"{field_name}:"):
            bits = int(line.split(":", 1)[1].strip(), 16)
            return {number for number in range(64) if bits >> number & 1}
    return set()


def _seccomp_mode(status_text: str) -> int:
    for line in status_text.splitlines():
        if line.startswith("Seccomp:"):
            return int(line.split(":", 1)[1].strip() or 0)
    return 0


def read_privileges(proc: str | Path = "/proc", cgroup_root: str | Path = "/sys/fs/cgroup") -> Privileges:
    """Read this process's capabilities, seccomp mode, AppArmor profile, masked paths and cgroup namespace."""
    proc = Path(proc)
    status = _read(proc / "self/status")
    mountinfo = _read(proc / "self/mountinfo")
    return privileges_from(status, mountinfo, _read(proc / "self/attr/current"), _read(proc / "self/cgroup"),
                           _read(Path(cgroup_root) / "devices/devices.list"))


def privileges_from(status: str, mountinfo: str, apparmor: str, proc_cgroup: str, devices_list: str) -> Privileges:
    """The privileges, from the texts of /proc/self/{status,mountinfo,attr/current,cgroup} and devices.list."""
    have = parse_capabilities(status)
    missing = tuple(name for number, name in sorted(NEEDED_CAPABILITIES.items()) if number not in have)
    mounts = parse_mountinfo(mountinfo) if mountinfo.strip() else []
    masked = tuple(path for path in MASKED_PATHS if any(m.mount_point == path for m in mounts))
    proc_sys_readonly = any(m.mount_point == "/proc/sys" and "ro" in m.options for m in mounts)
    if proc_sys_readonly:
        masked += ("/proc/sys (read-only)",)
    profile = apparmor.strip().replace("\x00", "")
    confined = profile if profile and not profile.startswith("unconfined") else ""
    entries = parse_proc_cgroup(proc_cgroup) if proc_cgroup.strip() else []
    host_namespace = any(entry.path not in ("/", "") for entry in entries)
    rules = [line.strip() for line in devices_list.splitlines() if line.strip()]
    return Privileges(missing_capabilities=missing, seccomp_filtered=_seccomp_mode(status) != 0,
                      apparmor_profile=confined, masked_paths=masked, host_cgroup_namespace=host_namespace,
                      devices_restricted=bool(rules) and "a *:* rwm" not in rules)


def missing_flags(privileges: Privileges, engine: str = "docker") -> list[tuple[str, str]]:
    """(flag, what it gives) for each privilege the box lacks; `--privileged` stands for the first five."""
    flags: list[tuple[str, str]] = []
    systempaths = "--security-opt unmask=ALL" if engine == "podman" else "--security-opt systempaths=unconfined"
    lacking = [(bool(privileges.missing_capabilities), "--cap-add ALL",
                f"the capabilities {', '.join(privileges.missing_capabilities)}"),
               (privileges.seccomp_filtered, "--security-opt seccomp=unconfined", "no seccomp filter"),
               (bool(privileges.apparmor_profile), "--security-opt apparmor=unconfined",
                f"no AppArmor profile (it runs under {privileges.apparmor_profile})"),
               (bool(privileges.masked_paths), systempaths,
                f"an unmasked /proc ({', '.join(privileges.masked_paths)})"),
               (privileges.devices_restricted, "--device-cgroup-rule 'a *:* rwm'", "access to every device")]
    missing = [(flag, why) for wanted, flag, why in lacking if wanted]
    if len(missing) >= 3 or privileges.missing_capabilities:
        flags.append(("--privileged", "; ".join(why for _, why in missing)))  # privileged: the box's own engine
    else:
        flags.extend(missing)
    if privileges.host_cgroup_namespace:
        flags.append(("--cgroupns private", "a cgroup namespace of its own"))
    return flags


def missing_line(flags: list[tuple[str, str]], engine: str = "docker") -> str:
    """One sentence for a learner: which flags to add to the run command, and what they give."""
    if not flags:
        return ""
    names = " and ".join(flag for flag, _ in flags)
    needs = "; ".join(why for _, why in flags if why)
    return (f"The course box was started without {names}, so its own container engine cannot run "
            f"(add {names} to '{engine} run'; it lacks {needs}).")


@dataclass(frozen=True)
class BoxStatus:
    """What the box's entrypoint wrote about its nested engine: starting, ready, no-privileges or failed."""

    state: str = "unknown"
    message: str = ""
    hint: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.state == "ready"


def parse_status(text: str) -> BoxStatus:
    """The status file's 'key: value' lines."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            values[key.strip()] = value.strip()
    return BoxStatus(state=values.pop("state", "unknown"), message=values.pop("message", ""),
                     hint=values.pop("hint", ""), extra=values)


def format_status(state: str, message: str = "", hint: str = "") -> str:
    """The status file's text (each value kept on one line)."""
    return "".join(f"{key}: {' '.join(value.split())}\n" for key, value in
                   (("state", state), ("message", message), ("hint", hint)) if value)


def in_box(marker: Path = BOX_MARKER) -> bool:
    """True inside the course box (its entrypoint is installed)."""
    return marker.exists()


def read_status(path: Path = STATUS_FILE) -> BoxStatus | None:
    """The box's status, or None outside a box (or before its entrypoint wrote one)."""
    try:
        return parse_status(path.read_text())
    except OSError:
        return None


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _engine_running_the_box(root: Path = Path("/")) -> str:
    """'podman' when Podman started this container (it leaves /run/.containerenv), else 'docker'."""
    return "podman" if (root / "run/.containerenv").exists() else "docker"


def main(argv: list[str] | None = None) -> int:
    """Print the one-line verdict on this box's privileges; exit 1 when a flag is missing."""
    engine = _engine_running_the_box()
    line = missing_line(missing_flags(read_privileges(), engine), engine)
    if line:
        print(line)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
