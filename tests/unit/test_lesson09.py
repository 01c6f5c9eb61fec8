"""Lesson 09's exercise checks against a stand-in for the running test bed, and the systemd choice."""

from __future__ import annotations

import pytest

from containerlab.course.grading import NOT_ANSWERED
from containerlab.course.lesson09 import (
    SYSTEMD_NEEDS,
    check_pid1,
    check_program_stays_up,
    check_systemd_needs,
    supervised_programs,
)
from containerlab.engine.lab import RunResult

STATUS = ("factory                          RUNNING   pid 41, uptime 0:00:12\n"
          "logserver                        STOPPED   Not started\n")


class FakeApp:
    """Answers exec() the way the running test bed does (or as a stopped one, with ok=False)."""

    def __init__(self, running: bool = True) -> None:
        self.running = running

    def exec(self, service, command):
        if not self.running:
            return RunResult(1, "service is not running", service, 0.0)
        output = "supervisord\n" if command == ["cat", "/proc/1/comm"] else STATUS
        return RunResult(0, output, service, 0.0)


def test_supervised_programs_from_status_output():
    assert supervised_programs(STATUS) == ["factory", "logserver"]
    assert supervised_programs("unix:///var/run/supervisor.sock no such file\n") == []


@pytest.mark.parametrize("answer", ["supervisord", "/usr/bin/supervisord", " supervisord\n"])
def test_pid1_right(answer):
    assert check_pid1(answer, FakeApp()).passed


@pytest.mark.parametrize("answer, app, says", [
    (None, FakeApp(), NOT_ANSWERED), ("systemd", FakeApp(), "no init system"), ("bash", FakeApp(), "not PID 1"),
    ("supervisord", FakeApp(running=False), "not running"),
])
def test_pid1_wrong(answer, app, says):
    result = check_pid1(answer, app)
    assert not result.passed and says in result.message


@pytest.mark.parametrize("config, says", [
    (None, NOT_ANSWERED),
    ("command=sleep 1\n", "could not read"),
    ("[program:other]\ncommand=sleep infinity\n", "no [program:notes] section (found: program:other)"),
    ("[program:notes]\nautorestart=true\n", "no command= line"),
])
def test_program_config_problems_are_named_before_anything_runs(config, says):
    result = check_program_stays_up(config, None)
    assert not result.passed and says in result.message


def test_program_needs_the_running_container():
    result = check_program_stays_up("[program:notes]\ncommand=sleep infinity\n", None)
    assert not result.passed and "not running" in result.message


def test_systemd_needs_right():
    assert check_systemd_needs({"to be PID 1", "to mount tmpfs on /run", "write access to its cgroups"}).passed


@pytest.mark.parametrize("answer, says", [
    (None, NOT_ANSWERED), (set(SYSTEMD_NEEDS), "does not need a kernel of its own or a network card"),
    ({"to be PID 1"}, "also needs to mount tmpfs on /run and write access to its cgroups"),
    ({"dbus"}, "not among the choices"),
])
def test_systemd_needs_wrong(answer, says):
    result = check_systemd_needs(answer)
    assert not result.passed and says in result.message
