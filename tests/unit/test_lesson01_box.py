"""Lesson 01's build-it grader runs the learner's script for real: the right one passes, each missing piece fails,
and no script, right or wrong, renames this machine."""

from __future__ import annotations

import os
import shutil
import socket

import pytest

from containerlab.course.grading import NOT_ANSWERED
from containerlab.course.lesson01 import check_box_script

RIGHT = """unshare --uts --pid --fork --mount-proc sh -c 'hostname box01 && exec "$@"' box "$@"\n"""


def test_unanswered_asks():
    assert check_box_script(None).message == NOT_ANSWERED


needs_unshare = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                                   reason="running the learner's script needs root and unshare")


@needs_unshare
def test_the_right_script_passes():
    verdict = check_box_script(RIGHT)
    assert verdict.passed, verdict.message


@needs_unshare
@pytest.mark.parametrize(("script", "says"), [
    (RIGHT.replace("--uts ", ""), "Add --uts"),
    (RIGHT.replace("box01", "other"), "not 'box01'"),
    (RIGHT.replace("--pid --fork ", ""), "host's PID namespace"),
    (RIGHT.replace("exec ", ""), "not 1"),
    (RIGHT.replace(" --mount-proc", ""), "--mount-proc"),
    ("true\n", "did not run the command"),
    ("echo hostname=box01; echo pid=1\n", "did not run the command"),
])
def test_each_missing_piece_fails_and_the_host_keeps_its_name(script, says):
    before = socket.gethostname()
    verdict = check_box_script(script)
    assert not verdict.passed and says in verdict.message and verdict.hint, verdict.message
    assert socket.gethostname() == before
