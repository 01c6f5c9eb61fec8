"""Pure models of what the kernel says about processes: namespaces, cgroups, mounts.

Standard library only: no engine and no widgets, so lessons and tests can use it anywhere.
Kernel files are read as the kernel writes them (:mod:`.procfs`): any bytes kept, lines split
at '\n' only, at most 16 MiB per file.
"""

from .cgroups import (
    CGROUP_FILES,
    CgroupDirs,
    CgroupEntry,
    CgroupStats,
    CgroupVersion,
    cgroup_dirs,
    cgroup_files,
    detect_cgroup_version,
    parse_cpu_max,
    parse_keyed,
    parse_limit,
    parse_proc_cgroup,
    read_cgroup_stats,
    read_cgroup_version,
    read_pid_cgroup_stats,
    read_proc_cgroup,
    resolve_cgroup_dirs,
)
from .mountinfo import (
    Mount,
    OverlayOptions,
    filesystems_supported,
    find_mount,
    overlay_supported,
    parse_mountinfo,
    parse_overlay_options,
    read_filesystems,
    read_mountinfo,
    root_mount,
    unescape,
)
from .namespaces import (
    NAMESPACE_TYPES,
    NamespaceComparison,
    Namespaces,
    compare_namespaces,
    parse_ns_link,
    read_namespaces,
)

__all__ = [
    "CGROUP_FILES",
    "CgroupDirs",
    "CgroupEntry",
    "CgroupStats",
    "CgroupVersion",
    "Mount",
    "NAMESPACE_TYPES",
    "NamespaceComparison",
    "Namespaces",
    "OverlayOptions",
    "cgroup_dirs",
    "cgroup_files",
    "compare_namespaces",
    "detect_cgroup_version",
    "filesystems_supported",
    "find_mount",
    "overlay_supported",
    "parse_cpu_max",
    "parse_keyed",
    "parse_limit",
    "parse_mountinfo",
    "parse_ns_link",
    "parse_overlay_options",
    "parse_proc_cgroup",
    "read_cgroup_stats",
    "read_cgroup_version",
    "read_filesystems",
    "read_mountinfo",
    "read_namespaces",
    "unescape",
    "read_pid_cgroup_stats",
    "read_proc_cgroup",
    "resolve_cgroup_dirs",
    "root_mount",
]
