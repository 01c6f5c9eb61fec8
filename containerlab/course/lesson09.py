"""Exercise checks for lesson 09, workspaces.

PID 1 is checked against the running test bed (asked through the Compose app); the learner's own supervisord
program is added to a running supervisord and watched; what systemd needs is a choice among SYSTEMD_NEEDS.
"""

from __future__ import annotations

import configparser
import shlex
import time
from collections.abc import Iterable
from typing import Any

from .engine_checks import container_problem
from .grading import CheckResult, answer_set, unanswered

__all__ = ["SYSTEMD_NEEDS", "check_pid1", "check_program_stays_up", "check_systemd_needs", "program_state",
           "supervised_programs", "check_stopped_on_purpose"]

SYSTEMD_NEEDS = ("to be PID 1", "to mount tmpfs on /run", "write access to its cgroups", "a kernel of its own",
                 "a network card")
_SYSTEMD_WANTS = {"to be PID 1", "to mount tmpfs on /run", "write access to its cgroups"}


_PROCESS_STATES = {"STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL", "UNKNOWN"}


def supervised_programs(status_output: str) -> list[str]:
    """Program names from ``supervisorctl status`` output: lines of NAME STATE ... (other lines ignored)."""
    return sorted(fields[0] for fields in (line.split() for line in status_output.splitlines())
                  if len(fields) > 1 and fields[1] in _PROCESS_STATES)


def check_pid1(answer: Any, app: Any, workspace: str = "ce") -> CheckResult:
    """Exercise 09.1: the command name of PID 1 in a test-bed workspace."""
    hint = ("Ask the workspace: app.exec('ce', 'cat /proc/1/comm'), or look at CMD in ce/Dockerfile: "
            "the container's first process is what the image starts.")
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    given = str(answer).strip().rsplit("/", 1)[-1]
    result = app.exec(workspace, ["cat", "/proc/1/comm"])
    if not result.ok:
        return CheckResult(False, f"The {workspace} workspace is not running: run the test-bed cells first.", hint)
    actual = result.output.strip()
    if given == actual:
        return CheckResult(True, f"Right: {actual} is PID 1 in the {workspace} workspace; it starts the services, "
                                 "restarts them when they die and reaps orphaned processes.")
    if given in ("systemd", "init"):
        return CheckResult(False, f"Not {given}: no init system boots in this container.", hint)
    return CheckResult(False, f"{given!r} is not PID 1 in the {workspace} workspace.", hint)


def _stripped(item: Any) -> str:
    return str(item).strip()


def program_state(container: Any, program: str) -> tuple[str, str]:
    """(state, pid) of one supervisord program in a running container: ('', '') when supervisord does not know it."""
    status = container.exec(["supervisorctl", "status", program]).output.split()
    state = status[1] if len(status) > 1 and status[1] in _PROCESS_STATES else ""
    pid = status[3].rstrip(",") if state == "RUNNING" and len(status) > 3 else ""
    return state, pid


def _config_problem(config: str, program: str) -> str:
    """'' when ``config`` is a supervisord configuration with a [program:<program>] and a command, else why not."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(config)
    except configparser.Error as err:
        return f"supervisord could not read that: {str(err).splitlines()[0]}"
    if f"program:{program}" not in parser:
        found = [name for name in parser.sections() if name.startswith("program:")]
        return f"There is no [program:{program}] section (found: {', '.join(found) or 'none'})."
    if not parser[f"program:{program}"].get("command", "").strip():
        return f"[program:{program}] has no command= line: supervisord would not know what to run."
    return ""


def check_program_stays_up(config: Any, container: Any, program: str = "notes", watch: float = 3.0) -> CheckResult:
    """Exercise 09.2: the learner's [program:notes] added to the running supervisord of ``container`` (section 4's
    `supervised`) starts and stays up: RUNNING, with the same PID after ``watch`` seconds."""
    hint = (f"A [program:{program}] section whose command= runs in the foreground and does not exit (a server such as "
            "'python3 -m http.server 8081', or a shell loop). supervisord restarts a program that exits, and gives "
            "up (FATAL) when it keeps exiting before startsecs.")
    missing = unanswered(config, hint)
    if missing is not None:
        return missing
    problem = _config_problem(str(config), program)
    if problem:
        return CheckResult(False, problem, hint)
    if container is None or getattr(container, "status", "running") != "running":
        return CheckResult(False, "The supervised container is not running: run the cells of section 4 first.", hint)
    path = f"/etc/supervisor/conf.d/{program}.conf"
    written = container.exec(["sh", "-c", f"printf '%s\\n' {shlex.quote(str(config))} > {path}"])
    if not written.ok:
        return CheckResult(False, f"Writing {path} in the container failed: {written.output.strip()}", hint)
    update = container.exec(["supervisorctl", "update"]).output.strip()  # rereads conf.d, starts what was added
    if "ERROR" in update:
        return CheckResult(False, f"supervisorctl update refused it: {update}", hint)
    deadline = time.monotonic() + 10
    state, pid = program_state(container, program)
    while state in ("", "STARTING", "BACKOFF") and time.monotonic() < deadline:
        time.sleep(0.3)
        state, pid = program_state(container, program)
    if state != "RUNNING":
        said = container.exec(["supervisorctl", "tail", program]).output.strip().splitlines()[-1:] or ["nothing"]
        return CheckResult(False, f"{program} is {state or 'unknown to supervisord'}, not RUNNING; it printed: "
                                  f"{said[0]}", hint)
    time.sleep(watch)
    later, later_pid = program_state(container, program)
    if later != "RUNNING" or later_pid != pid:
        return CheckResult(False, f"{program} did not stay up: {watch:g} s later it was {later or 'gone'}"
                                  f"{' with a new PID (it was restarted)' if later_pid and later_pid != pid else ''}.",
                           hint)
    return CheckResult(True, f"Right: supervisord started {program} (PID {pid} in the container) and it is still "
                             f"running {watch:g} s later with the same PID. Kill it and supervisord starts it again.")


def check_systemd_needs(answer: Iterable[str] | None) -> CheckResult:
    """Exercise 09.3: which of SYSTEMD_NEEDS systemd wants that a default container does not give it."""
    hint = ("Re-read what systemd printed when it ran as the container's first process, and what "
            "section 3 found about /run and /sys/fs/cgroup.")
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    given = answer_set([answer] if isinstance(answer, str) else answer, _stripped)
    unknown = sorted(given - set(SYSTEMD_NEEDS))
    if unknown:
        return CheckResult(False, f"{unknown} is not among the choices {list(SYSTEMD_NEEDS)}.", hint)
    if given == _SYSTEMD_WANTS:
        return CheckResult(True, "Right: systemd must be PID 1, mounts its API file systems (tmpfs on /run, "
                                 "/run/lock) and manages its own cgroup tree; a default container forbids the mounts "
                                 "and gives it /sys/fs/cgroup read-only. It never needs a kernel of its own.")
    wrong = sorted(given - _SYSTEMD_WANTS)
    if wrong:
        return CheckResult(False, f"systemd in a container does not need {' or '.join(wrong)}.", hint)
    return CheckResult(False, f"It also needs {' and '.join(sorted(_SYSTEMD_WANTS - given))}.", hint)


def check_stopped_on_purpose(lab: Any, image: str = "containerlab/supervisor") -> CheckResult:
    """Exercise 09.4 (terminal): a running workspace $LAB-mine of ``image`` with supervisord as PID 1, whose program
    web was stopped with supervisorctl (STOPPED) while ticker still runs; read from the engine and supervisord."""
    hint = ("In a terminal (after the source line): `$ENGINE run -d --name $LAB-mine --memory 256m --pids-limit 256 "
            "$LABELS -v $WORK/programs.conf:/etc/supervisor/conf.d/programs.conf:ro containerlab/supervisor`, "
            "then `$ENGINE exec $LAB-mine supervisorctl stop web`.")
    found, problem = container_problem(lab.state(), "mine", image=image)
    if problem:
        return CheckResult(False, problem, hint)
    assert found is not None
    first = lab.exec("mine", ["cat", "/proc/1/comm"], echo=False).output.strip()
    if first != "supervisord":
        return CheckResult(False, f"PID 1 in $LAB-mine is {first!r}, not supervisord: start it with the image's own "
                                  "command (nothing after the image name).", hint)
    status = lab.exec("mine", ["supervisorctl", "status"], echo=False).output
    states = {fields[0]: fields[1] for fields in (line.split() for line in status.splitlines()) if len(fields) > 1}
    if "web" not in states:
        return CheckResult(False, "supervisord in $LAB-mine knows no program web: mount $WORK/programs.conf at "
                                  "/etc/supervisor/conf.d/programs.conf.", hint)
    if states["web"] != "STOPPED":
        return CheckResult(False, f"web is {states['web']} in $LAB-mine: stop it with `supervisorctl stop web` "
                                  "(run through $ENGINE exec).", hint)
    if states.get("ticker") != "RUNNING":
        return CheckResult(False, f"ticker is {states.get('ticker', 'missing')}: stop only web.", hint)
    return CheckResult(True, "Right: supervisord restarts a program that dies (section 4), but not one stopped with "
                             "supervisorctl: it stays STOPPED until `supervisorctl start web`.")
