"""Exercise checks with hints, and small notebook conveniences."""

from .checks import (
    CheckResult,
    check_cgroup_version,
    check_default_uid,
    check_host_pid,
    check_shared_with_host,
)

__all__ = ["CheckResult", "check_cgroup_version", "check_default_uid", "check_host_pid",
           "check_shared_with_host"]
