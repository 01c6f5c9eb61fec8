"""Exercise checks with hints: `course.grading` holds what they share, `course.lessonNN` each lesson's checks.

Lessons 00 and 01 import theirs from here (``from containerlab.course import check_host_pid``).
"""

from .grading import CheckResult
from .lesson00 import check_cgroup_version, check_default_uid
from .lesson01 import check_host_pid, check_shared_with_host

__all__ = ["CheckResult", "check_cgroup_version", "check_default_uid", "check_host_pid", "check_shared_with_host"]
