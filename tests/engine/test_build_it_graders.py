"""Lesson 00's build-it grader on the real engine: the container typed as asked passes, each missing property fails."""

from __future__ import annotations

import os
import subprocess
import time
import uuid

import pytest

from containerlab.course.grading import CheckResult
from containerlab.course.lesson00 import check_greeter
from containerlab.engine.lab import Lab

RIGHT = ("$ENGINE run --name $LAB-greeter --label role=greeter --env GREETING=bonjour --memory 64m --pids-limit 16 "
         "$LABELS containerlab/busybox sh -c 'echo \"$GREETING from $(hostname)\"' >/dev/null")


@pytest.fixture
def lab(lab_images):
    """A lab of its own (lesson named per test run) whose resources are removed afterwards, pass or fail."""
    with Lab(f"98-greeter-{uuid.uuid4().hex[:6]}", engine=lab_images) as made:
        yield made


def _typed(lab: Lab, line: str) -> CheckResult:
    """Remove any earlier $LAB-greeter, run the line as a learner's %%bash cell would, wait for it, grade it."""
    env = {**os.environ, **lab.shell_variables().environment()}
    subprocess.run(["bash", "-c", "$ENGINE rm -f $LAB-greeter >/dev/null 2>&1; " + line], env=env, timeout=120,
                   capture_output=True, text=True)
    deadline = time.monotonic() + 10
    while (found := lab.state().container("greeter")) is not None and found.running and time.monotonic() < deadline:
        time.sleep(0.1)
    return check_greeter(lab)


def test_the_container_typed_as_asked_passes(lab):
    assert "no container named $LAB-greeter" in check_greeter(lab).message
    verdict = _typed(lab, RIGHT)
    assert verdict.passed, verdict.message


@pytest.mark.parametrize(("line", "says"), [
    (RIGHT.replace("--label role=greeter ", ""), "no label role=greeter"),
    (RIGHT.replace("--env GREETING=bonjour ", ""), "lacks GREETING=bonjour"),
    (RIGHT.replace("$(hostname)", "somewhere"), "printed 'bonjour from somewhere'"),
    (RIGHT.replace("'echo", "'exit 3; echo"), "exit code 3"),
    (RIGHT.replace("$LABELS ", ""), "lacks the course's labels"),
])
def test_each_missing_property_fails(lab, line, says):
    verdict = _typed(lab, line)
    assert not verdict.passed and says in verdict.message and verdict.hint, verdict.message
