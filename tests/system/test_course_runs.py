"""The test harness's own cleanup: it stops the processes of an owner's run, never a shared engine daemon."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from course_runs import _pids_with_owner


def test_an_engine_daemon_started_with_the_owner_set_is_not_the_runs(tmp_path):
    """A dockerd started from a learner's shell inherits CONTAINERLAB_OWNER; the owner's cleanup must leave it.
    (Killing it took every learner's containers down: two helpers' runs stopped the machine's dockerd so.)"""
    owner = f"harness-{os.getpid()}"
    daemon = tmp_path / "dockerd"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", daemon)
    env = {**os.environ, "CONTAINERLAB_OWNER": owner}
    started = [subprocess.Popen([str(daemon), "60"], env=env),
               subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], env=env)]
    try:
        found = _pids_with_owner(owner)
        assert str(started[1].pid) in found, "a process of the run is found"
        assert str(started[0].pid) not in found, "an engine daemon is not"
    finally:
        for process in started:
            process.kill()
            process.wait()
