"""Exercise checks for lesson 11, lifecycle and debugging: they read the engine's state and run what was made.

The learner makes things with the CLI (in a terminal or a notebook cell); the checks find them by the
lesson's names ($LAB-shell, $REPO-fixed) and labels, whoever started them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ..errors import ImageMissingError, LabError
from .engine_checks import container_problem, lint_problem
from .grading import CheckResult

__all__ = ["check_debug_shell", "check_fixed_image", "check_flaky_restarts"]

LIMITS = "--memory 256m --pids-limit 256 $LABELS"


def check_debug_shell(lab: Any) -> CheckResult:
    """Exercise 11.1 (terminal): an interactive shell container $LAB-shell, left running, holding /tmp/hello."""
    hint = (f"In a terminal: run cli.terminal_line's source command, then `$ENGINE run -it --name $LAB-shell {LIMITS} "
            "containerlab/busybox sh`; inside, `echo hello > /tmp/hello`; leave with Ctrl-P Ctrl-Q (not exit).")
    found, problem = container_problem(lab.state(), "shell")
    if problem:
        return CheckResult(False, problem, hint)
    assert found is not None
    if not found.tty:
        return CheckResult(False, "$LAB-shell has no terminal: start it with -it (-i keeps its input open, -t gives "
                                  "it a terminal).", hint)
    done = lab.exec("shell", ["cat", "/tmp/hello"], echo=False)
    if not done.ok or not done.output.strip():
        return CheckResult(False, "$LAB-shell runs, but /tmp/hello is missing or empty.", hint)
    return CheckResult(True, "Right: $LAB-shell kept running after you detached (Ctrl-P Ctrl-Q); "
                             "`$ENGINE attach $LAB-shell` takes you back, `$ENGINE exec -it $LAB-shell sh` opens a "
                             "second shell beside it.")


def _wait_for(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return bool(condition())


def check_fixed_image(lab: Any, tag: str, dockerfile: str | Path, port: int = 8000) -> CheckResult:
    """Exercise 11.2 (build it): a Dockerfile at ``dockerfile`` whose image ``tag`` starts the app and keeps it up.

    The image is run for real: it must still run after start-up, say 'listening' and answer on ``port``.
    """
    hint = ("Write $WORK/fix/Dockerfile: start FROM containerlab/busybox, COPY the app in as the broken image does, "
            "and give it /etc/app/app.conf (a COPY of a file next to the Dockerfile, or a RUN that writes "
            "PORT=8000). Build it with `$ENGINE build -t $REPO-fixed $LABELS $WORK/fix`, then run this check.")
    path = Path(dockerfile)
    if not path.exists():
        return CheckResult(False, "There is no $WORK/fix/Dockerfile yet.", hint)
    problem = lint_problem(path.read_text())
    if problem:
        return CheckResult(False, problem, hint)
    try:
        started = lab.start(tag, name="fixed-check", echo=False)
    except ImageMissingError:
        return CheckResult(False, "There is no image $REPO-fixed yet: build it from $WORK/fix.", hint)
    except LabError as err:
        return CheckResult(False, f"The image $REPO-fixed could not start: {err.message}", hint)
    try:
        ready = _wait_for(lambda: "listening" in started.logs() or started.status != "running", 5)
        logs = started.logs().strip()
        if not ready or started.status != "running":
            last = logs.splitlines()[-1] if logs else "it printed nothing"
            return CheckResult(False, f"A container of $REPO-fixed stopped at once ({last}).", hint)
        fetch = ["timeout", "2", "wget", "-qO-", f"http://127.0.0.1:{port}/"]  # busybox's own -T crashes here
        if not _wait_for(lambda: lab.exec("fixed-check", fetch, echo=False).ok, 4):
            return CheckResult(False, f"The app runs but nothing answers on port {port} inside the container.", hint)
    finally:
        started.remove()
    return CheckResult(True, f"Right: $REPO-fixed starts, stays up and answers on port {port}. Unlike `commit`, the "
                             "Dockerfile says how the fix was made, and rebuilds it anywhere.")


def check_flaky_restarts(lab: Any, retries: int = 2) -> CheckResult:
    """Exercise 11.3: $LAB-flaky fails, and the engine restarts it ``retries`` times on failure, then gives up."""
    hint = ("Start it detached (-d) with the course's limits and $LABELS, and a --restart policy: `on-failure:N` "
            "restarts a command that fails, at most N times.")
    found, problem = container_problem(lab.state(), "flaky", running=None)
    if problem:
        return CheckResult(False, problem, hint)
    assert found is not None
    if found.restart_policy != "on-failure":
        return CheckResult(False, f"$LAB-flaky's restart policy is {found.restart_policy!r}, not 'on-failure'.", hint)
    if found.restart_retries != retries:
        return CheckResult(False, f"$LAB-flaky may be restarted {found.restart_retries or 'any number of'} times, "
                                  f"not {retries}: write on-failure:{retries}.", hint)

    def gave_up() -> bool:
        now = lab.state().container("flaky")
        return now is not None and now.status == "exited" and now.restart_count >= retries

    if not _wait_for(gave_up, 8):
        now = lab.state().container("flaky")
        if now is not None and now.running:
            return CheckResult(False, "$LAB-flaky keeps running: its command must fail (exit with a code other "
                                      "than 0) for on-failure to restart it.", hint)
        return CheckResult(False, "$LAB-flaky did not end after its restarts.", hint)
    final = lab.state().container("flaky")
    assert final is not None
    if final.exit_code == 0:
        return CheckResult(False, "$LAB-flaky exits 0: on-failure restarts only a command that fails.", hint)
    return CheckResult(True, f"Right: it ran {retries + 1} times (RestartCount {final.restart_count}), exit code "
                             f"{final.exit_code} each time, then the engine gave up. `always` and `unless-stopped` "
                             "would never give up, and also start it again when the engine restarts.")
