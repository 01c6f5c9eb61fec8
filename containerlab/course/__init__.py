"""Exercise checks with hints, and small notebook conveniences."""

from .checks import (
    CheckResult,
    check_cgroup_version,
    check_default_uid,
    check_host_pid,
    check_shared_with_host,
)
from .lesson02 import check_net_and_uts, check_new_uts_hostname, check_pid_host_shares
from .lesson03 import check_oom_exit_code, check_quarter_cpu, check_v2_file
from .lesson04 import check_layer_position, check_whiteout_marker, check_whiteout_path

__all__ = ["CheckResult", "check_oom_exit_code", "check_quarter_cpu", "check_v2_file", "check_layer_position", "check_whiteout_marker", "check_whiteout_path", "check_net_and_uts", "check_new_uts_hostname", "check_pid_host_shares", "check_cgroup_version", "check_default_uid", "check_host_pid",
           "check_shared_with_host"]
