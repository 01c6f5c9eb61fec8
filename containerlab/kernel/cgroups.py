"""Control groups, v1 and v2: membership, version detection, limits and usage.

The same questions (what is the memory limit? was the CPU throttled?) have
different files on each version; this module answers them with one model and
names the files per version (:data:`CGROUP_FILES`) so a lesson can show both.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import ParseError
from .mountinfo import Mount, parse_mountinfo
from .procfs import BLANK, kernel_fields, kernel_int, kernel_lines, proc_file, read_kernel_text

CgroupVersion = Literal["v1", "v2", "hybrid", "none"]

CGROUP_FILES: dict[str, dict[str, str]] = {
    "memory limit": {"v1": "memory.limit_in_bytes", "v2": "memory.max"},
    "memory usage": {"v1": "memory.usage_in_bytes", "v2": "memory.current"},
    "memory max usage": {"v1": "memory.max_usage_in_bytes", "v2": "memory.peak"},
    "OOM kills": {"v1": "memory.oom_control (oom_kill)", "v2": "memory.events (oom_kill)"},
    "memory limit hits": {"v1": "memory.failcnt", "v2": "memory.events (max)"},
    "CPU quota": {"v1": "cpu.cfs_quota_us", "v2": "cpu.max (first field)"},
    "CPU period": {"v1": "cpu.cfs_period_us", "v2": "cpu.max (second field)"},
    "CPU usage": {"v1": "cpuacct.usage (ns)", "v2": "cpu.stat (usage_usec)"},
    "CPU throttling": {
        "v1": "cpu.stat (nr_periods, nr_throttled, throttled_time ns)",
        "v2": "cpu.stat (nr_periods, nr_throttled, throttled_usec)",
    },
    "pids limit": {"v1": "pids.max", "v2": "pids.max"},
    "pids current": {"v1": "pids.current", "v2": "pids.current"},
    "pids limit hits": {"v1": "pids.events (max)", "v2": "pids.events (max)"},
    "member processes": {"v1": "cgroup.procs", "v2": "cgroup.procs"},
}

# v1 mount options that are not controller names.
_V1_NON_CONTROLLERS = {"rw", "ro", "none", "all", "noprefix", "clone_children", "xattr",
                       "cpuset_v2_mode", "favordynmods"}
# v1 writes "unlimited" as the largest page-aligned counter, e.g. 9223372036854771712.
_UNLIMITED_FROM = 2**62
# Keyed-file entries counted in nanoseconds (v1); the model keeps microseconds like v2.
_NANOSECOND_KEYS = {"throttled_time"}


def cgroup_files(version: CgroupVersion) -> dict[str, str]:
    """The file behind each quantity on one cgroup version (hybrid hosts use the v1 files)."""
    key = "v2" if version == "v2" else "v1"
    return {label: files[key] for label, files in CGROUP_FILES.items()}


@dataclass(frozen=True)
class CgroupEntry:
    """One line of /proc/PID/cgroup: hierarchy id, its controllers, the cgroup path."""

    hierarchy_id: int
    controllers: tuple[str, ...]
    path: str

    @property
    def is_v2(self) -> bool:
        """Whether this is the unified (v2) hierarchy line ``0::/path``."""
        return self.hierarchy_id == 0 and not self.controllers


def parse_proc_cgroup(text: str) -> list[CgroupEntry]:
    """Parse /proc/PID/cgroup (``id:controllers:path`` lines, ended by '\n' only) for v1, v2 or both.

    A path may hold '..' (a process outside the reader's cgroup namespace): it is kept as the kernel wrote it.
    """
    entries = []
    for number, line in enumerate(kernel_lines(text), 1):
        if not line.strip(BLANK):
            continue
        parts = line.split(":", 2)
        if (len(parts) != 3 or not (parts[0].isascii() and parts[0].isdigit()) or not parts[2].startswith("/")
                or "\0" in line):
            raise ParseError(
                f"/proc/PID/cgroup line {number}: expected 'hierarchy-id:controllers:/path', got {line!r}",
                "Pass the unmodified contents of /proc/PID/cgroup; see cgroups(7).",
            )
        controllers = tuple(c for c in parts[1].split(",") if c)
        entries.append(CgroupEntry(int(parts[0]), controllers, parts[2]))
    return entries


def read_proc_cgroup(pid: int | str = "self", proc: str | Path = "/proc") -> list[CgroupEntry]:
    """Read which cgroups a process belongs to (paths relative to the reader's cgroup namespace)."""
    return parse_proc_cgroup(read_kernel_text(proc_file(pid, "cgroup", proc)))


def _v1_controllers(mount: Mount) -> set[str]:
    """The controllers (and name=... hierarchy names) a v1 cgroup mount carries."""
    return {o for o in mount.super_options if o not in _V1_NON_CONTROLLERS and
            ("=" not in o or o.startswith("name="))}


def _version_of(mounts: list[Mount]) -> CgroupVersion:
    """Classify cgroup mounts: v1 controllers, a cgroup2 mount, both (hybrid) or none."""
    has_v1 = any(
        m.fs_type == "cgroup" and any(not c.startswith("name=") for c in _v1_controllers(m))
        for m in mounts
    )
    has_v2 = any(m.fs_type == "cgroup2" for m in mounts)
    if has_v1 and has_v2:
        return "hybrid"
    return "v1" if has_v1 else "v2" if has_v2 else "none"


def detect_cgroup_version(mountinfo_text: str) -> CgroupVersion:
    """v2 (unified), v1 (per-controller mounts), hybrid (v1 controllers plus a cgroup2 mount) or none."""
    return _version_of(parse_mountinfo(mountinfo_text))


def read_cgroup_version(proc: str | Path = "/proc") -> CgroupVersion:
    """The cgroup version of the host or container this code runs in."""
    return detect_cgroup_version(read_kernel_text(Path(proc) / "self" / "mountinfo"))


@dataclass(frozen=True)
class CgroupDirs:
    """Where one process's cgroups live: the v2 directory and/or a v1 directory per controller."""

    version: CgroupVersion
    v2: str | None = None
    v1: dict[str, str] = field(default_factory=dict)


def _resolved(path: str) -> list[str] | None:
    """The components of a cgroup path with '.' and '..' resolved; None when '..' climbs above its root."""
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return parts


def _dir_in_mount(mount: Mount, cgroup_path: str, root: str | Path) -> str | None:
    """The directory of cgroup_path inside a cgroup mount, or None if the mount cannot see it.

    '..' is resolved first: a path that climbs above the cgroup root (a process outside the reader's cgroup
    namespace) or out of the mount's root maps to no directory, never to one outside the mount.
    """
    path, base = _resolved(cgroup_path), _resolved(mount.root)
    if path is None or base is None or path[:len(base)] != base:
        return None
    relative = "/".join(path[len(base):])
    directory = Path(root) / mount.mount_point.lstrip("/")
    return str(directory / relative if relative else directory)


def _best_mount(candidates: list[Mount], cgroup_path: str, root: str | Path) -> str | None:
    """The directory from the candidate mount whose root is the longest prefix of the path."""
    found = [(len(m.root), d) for m in candidates if (d := _dir_in_mount(m, cgroup_path, root))]
    return max(found)[1] if found else None


def cgroup_dirs(entries: list[CgroupEntry], mounts: list[Mount], root: str | Path = "/") -> CgroupDirs:
    """Map a process's cgroup entries onto the reader's cgroup mounts, under a root prefix."""
    v2_dir: str | None = None
    v1: dict[str, str] = {}
    for entry in entries:
        if entry.is_v2:
            cg2 = [m for m in mounts if m.fs_type == "cgroup2"]
            v2_dir = _best_mount(cg2, entry.path, root)
            continue
        wanted = set(entry.controllers)
        cg1 = [m for m in mounts if m.fs_type == "cgroup" and wanted <= _v1_controllers(m)]
        directory = _best_mount(cg1, entry.path, root)
        if directory is not None:
            v1.update(dict.fromkeys(entry.controllers, directory))
    return CgroupDirs(_version_of(mounts), v2_dir, v1)


def resolve_cgroup_dirs(pid: int | str = "self", proc: str | Path = "/proc",
                        root: str | Path = "/") -> CgroupDirs:
    """Find a process's cgroup directories from /proc/PID/cgroup and the reader's own mountinfo."""
    mounts = parse_mountinfo(read_kernel_text(Path(proc) / "self" / "mountinfo"))
    return cgroup_dirs(read_proc_cgroup(pid, proc), mounts, root)


def parse_limit(text: str, source: str = "cgroup file") -> int | None:
    """A single number or 'max'; 'max', -1 and v1's near-2**63 values mean unlimited (None)."""
    value = text.strip(BLANK + "\n")
    if value == "max":
        return None
    try:
        number = kernel_int(value)
    except ValueError:
        raise ParseError(f"{source}: expected a number or 'max', got {value!r}",
                         "Read the file straight from the cgroup directory, unmodified.") from None
    return None if number < 0 or number >= _UNLIMITED_FROM else number


def parse_cpu_max(text: str, source: str = "cpu.max") -> tuple[int | None, int]:
    """v2 cpu.max ``"$QUOTA $PERIOD"`` -> (quota in µs or None for 'max', period in µs)."""
    parts = kernel_fields(text.strip(BLANK + "\n"))
    if len(parts) != 2:
        raise ParseError(f"{source}: expected 'QUOTA PERIOD', got {text.strip()[:80]!r}",
                         "cpu.max holds two fields, e.g. 'max 100000' or '50000 100000'.")
    period = parse_limit(parts[1], source)
    if period is None:
        raise ParseError(f"{source}: the period must be a number, got {parts[1]!r}",
                         "cpu.max holds two fields, e.g. 'max 100000' or '50000 100000'.")
    return parse_limit(parts[0], source), period


def parse_keyed(text: str, source: str = "cgroup file") -> dict[str, int]:
    """Flat keyed files (cpu.stat, memory.events, memory.oom_control): ``key value`` per line."""
    values = {}
    for number, line in enumerate(kernel_lines(text), 1):
        parts = kernel_fields(line)
        if not parts:
            continue
        try:
            if len(parts) != 2:
                raise ValueError(line)
            values[parts[0]] = kernel_int(parts[1])
        except ValueError:
            raise ParseError(f"{source} line {number}: expected 'key number', got {line[:80]!r}",
                             "Read the file straight from the cgroup directory, unmodified.") from None
    return values


@dataclass(frozen=True)
class CgroupStats:
    """Limits and usage of one cgroup; None = unlimited or not available; sources name each file read."""

    memory_limit: int | None = None
    memory_usage: int | None = None
    memory_max_usage: int | None = None
    oom_kills: int | None = None
    memory_limit_hits: int | None = None
    cpu_quota_usec: int | None = None
    cpu_period_usec: int | None = None
    cpu_usage_usec: int | None = None
    nr_periods: int | None = None
    nr_throttled: int | None = None
    throttled_usec: int | None = None
    pids_max: int | None = None
    pids_current: int | None = None
    pids_limit_hits: int | None = None
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def cpus(self) -> float | None:
        """The CPU limit in CPUs (quota / period), None when unlimited."""
        if self.cpu_quota_usec is None or not self.cpu_period_usec:
            return None
        return self.cpu_quota_usec / self.cpu_period_usec


class _Reader:
    """Reads cgroup files, tolerating absent ones, and records which file fed which value."""

    def __init__(self) -> None:
        self.values: dict[str, int | None] = {}
        self.sources: dict[str, str] = {}

    @staticmethod
    def text(directory: str | Path | None, name: str) -> tuple[str, str] | None:
        """(path, contents) of a cgroup file, or None if there is no such readable file."""
        if directory is None:
            return None
        path = Path(directory) / name
        try:
            return str(path), read_kernel_text(path)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return None

    def limit(self, key: str, directory: str | Path | None, name: str) -> None:
        """Record a single-value file (a limit or a counter)."""
        if found := self.text(directory, name):
            self.values[key] = parse_limit(found[1], found[0])
            self.sources[key] = found[0]

    def keyed(self, directory: str | Path | None, name: str, keys: dict[str, str]) -> None:
        """Record some keys of a flat keyed file (file key -> model field), nanoseconds as µs."""
        if found := self.text(directory, name):
            parsed = parse_keyed(found[1], found[0])
            for file_key, key in keys.items():
                if file_key in parsed:
                    divisor = 1000 if file_key in _NANOSECOND_KEYS else 1
                    self.values[key] = parsed[file_key] // divisor
                    self.sources[key] = found[0]


def read_cgroup_stats(v2_dir: str | Path | None = None,
                      v1_dirs: Mapping[str, str | Path] | None = None) -> CgroupStats:
    """Read limits and usage; each controller comes from its v1 directory if given, else from v2_dir."""
    v1 = dict(v1_dirs or {})
    r = _Reader()
    if "memory" in v1:
        d = v1["memory"]
        r.limit("memory_limit", d, "memory.limit_in_bytes")
        r.limit("memory_usage", d, "memory.usage_in_bytes")
        r.limit("memory_max_usage", d, "memory.max_usage_in_bytes")
        r.limit("memory_limit_hits", d, "memory.failcnt")
        r.keyed(d, "memory.oom_control", {"oom_kill": "oom_kills"})
    else:
        r.limit("memory_limit", v2_dir, "memory.max")
        r.limit("memory_usage", v2_dir, "memory.current")
        r.limit("memory_max_usage", v2_dir, "memory.peak")
        r.keyed(v2_dir, "memory.events", {"oom_kill": "oom_kills", "max": "memory_limit_hits"})
    throttling = {"nr_periods": "nr_periods", "nr_throttled": "nr_throttled"}
    if "cpu" in v1:
        r.limit("cpu_quota_usec", v1["cpu"], "cpu.cfs_quota_us")
        r.limit("cpu_period_usec", v1["cpu"], "cpu.cfs_period_us")
        r.keyed(v1["cpu"], "cpu.stat", {**throttling, "throttled_time": "throttled_usec"})
    elif found := r.text(v2_dir, "cpu.max"):
        quota, period = parse_cpu_max(found[1], found[0])
        r.values.update(cpu_quota_usec=quota, cpu_period_usec=period)
        r.sources.update(cpu_quota_usec=found[0], cpu_period_usec=found[0])
    if "cpu" not in v1:
        r.keyed(v2_dir, "cpu.stat", {**throttling, "throttled_usec": "throttled_usec"})
    if "cpuacct" in v1:
        if found := r.text(v1["cpuacct"], "cpuacct.usage"):
            usage_ns = parse_limit(found[1], found[0])
            r.values["cpu_usage_usec"] = None if usage_ns is None else usage_ns // 1000
            r.sources["cpu_usage_usec"] = found[0]
    else:
        r.keyed(v2_dir, "cpu.stat", {"usage_usec": "cpu_usage_usec"})
    pids_dir = v1.get("pids", v2_dir)
    r.limit("pids_max", pids_dir, "pids.max")
    r.limit("pids_current", pids_dir, "pids.current")
    r.keyed(pids_dir, "pids.events", {"max": "pids_limit_hits"})
    return CgroupStats(**r.values, sources=r.sources)


def read_pid_cgroup_stats(pid: int | str = "self", proc: str | Path = "/proc",
                          root: str | Path = "/") -> CgroupStats:
    """Resolve a process's cgroup directories and read their limits and usage."""
    dirs = resolve_cgroup_dirs(pid, proc, root)
    return read_cgroup_stats(dirs.v2, dirs.v1)


def controller_versions(mounts: list[Mount], root: str | Path = "/") -> dict[str, str]:
    """Which hierarchy ("v1" or "v2") carries each controller, e.g. a hybrid host's split.

    v1 controllers are named in the cgroup mounts' options; v2 ones are listed in
    ``cgroup.controllers`` at the cgroup2 mount point (read under ``root``). A controller
    can be active in only one hierarchy, so the v1 entry wins if both name it.
    """
    versions: dict[str, str] = {}
    for mount in mounts:
        if mount.fs_type != "cgroup2":
            continue
        found = _Reader.text(Path(root) / mount.mount_point.lstrip("/"), "cgroup.controllers")
        for controller in (kernel_fields(found[1].strip(BLANK + "\n")) if found else []):
            versions[controller] = "v2"
    for mount in mounts:
        if mount.fs_type == "cgroup":
            for controller in _v1_controllers(mount):
                if not controller.startswith("name="):
                    versions[controller] = "v1"
    return dict(sorted(versions.items()))


def read_controller_versions(proc: str | Path = "/proc", root: str | Path = "/") -> dict[str, str]:
    """controller_versions() for the mounts this code sees."""
    return controller_versions(parse_mountinfo(read_kernel_text(Path(proc) / "self" / "mountinfo")), root)


@dataclass(frozen=True)
class UsageSample:
    """One reading of a cgroup's usage: seconds since sampling began, memory in bytes, cumulative CPU µs."""

    seconds: float
    memory_bytes: int | None
    cpu_usage_usec: int | None


def sample_usage(dirs: CgroupDirs, *, seconds: float = 3.0, interval: float = 0.1,
                 on_sample: Callable[[UsageSample], object] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], object] = time.sleep) -> list[UsageSample]:
    """Read memory and CPU usage every ``interval`` seconds for ``seconds`` (first reading at 0).

    Ticks are scheduled from the start, so slow reads do not stretch the run; ``on_sample``
    sees each sample as it arrives (a live chart). Files that vanish (the container
    stopped) give None values rather than an error.
    """
    if interval <= 0:
        raise ValueError(f"interval must be positive, got {interval!r}")
    samples: list[UsageSample] = []
    start = clock()
    tick = 0
    while True:
        stats = read_cgroup_stats(dirs.v2, dirs.v1)
        sample = UsageSample(round(clock() - start, 3), stats.memory_usage, stats.cpu_usage_usec)
        samples.append(sample)
        if on_sample is not None:
            on_sample(sample)
        tick += 1
        due = tick * interval
        if due > seconds + interval / 2:
            return samples
        wait = start + due - clock()
        if wait > 0:
            sleep(wait)


def cpu_rates(samples: Sequence[UsageSample]) -> list[tuple[float, float]]:
    """CPUs used between consecutive samples, as (seconds at the later sample, CPUs); gaps skipped."""
    rates = []
    for before, after in itertools.pairwise(samples):
        if before.cpu_usage_usec is None or after.cpu_usage_usec is None:
            continue
        elapsed = after.seconds - before.seconds
        used = after.cpu_usage_usec - before.cpu_usage_usec
        if elapsed > 0 and used >= 0:
            rates.append((after.seconds, used / 1e6 / elapsed))
    return rates


def average_cpus(samples: Sequence[UsageSample]) -> float | None:
    """CPUs used on average from the first to the last sample with a CPU reading (None if < 2)."""
    timed = [(s.seconds, s.cpu_usage_usec) for s in samples if s.cpu_usage_usec is not None]
    if len(timed) < 2 or timed[-1][0] <= timed[0][0]:
        return None
    (start, used_before), (end, used_after) = timed[0], timed[-1]
    return (used_after - used_before) / 1e6 / (end - start)
