"""The terminal exercises of lessons 08-10: what a learner types (with the lesson's variables, as a sourced terminal
has them) is what the grader reads from the engine; a half-done attempt fails with the missing part named."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from containerlab.course.lesson08 import check_only_web
from containerlab.course.lesson09 import check_stopped_on_purpose
from containerlab.course.lesson10 import check_engine_twin
from containerlab.engine.compose import ComposeApp
from containerlab.engine.lab import Lab
from containerlab.engine.overlay import remove_workdir
from containerlab.engine.workspaces import SUPERVISOR_IMAGE, ensure_supervisor_image

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.fixture
def lab(lab_images):
    """A lab of its own (lesson named per test run); its resources and work directory go afterwards, pass or fail."""
    with Lab(f"97-terminal-{uuid.uuid4().hex[:6]}", engine=lab_images) as made:
        try:
            yield made
        finally:
            remove_workdir(made.workdir)


def _terminal(line: str, env: dict[str, str]) -> None:
    """Run a line in bash with the variables a terminal gets from `source $WORK/cli.env`."""
    subprocess.run(["bash", "-c", line], env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
                   check=True)


def test_engine_twin_needs_every_flag(lab):
    env = dict(lab.cli_env().values)
    _terminal("$ENGINE run -d --name $LAB-twin --memory 32m --memory-swap 32m --pids-limit 256 $LABELS "
              "containerlab/busybox sleep 600 >/dev/null", env)
    verdict = check_engine_twin(lab)
    assert not verdict and "hostname" in verdict.message
    _terminal("$ENGINE rm -f $LAB-twin >/dev/null && $ENGINE run -d --name $LAB-twin --memory 32m --memory-swap 32m "
              "--pids-limit 256 $LABELS --hostname tiny --network none containerlab/busybox sleep 600 >/dev/null", env)
    assert check_engine_twin(lab), check_engine_twin(lab).message


def test_stopped_on_purpose_reads_supervisord(lab, engine):
    ensure_supervisor_image(engine)
    env = dict(lab.cli_env().values)
    (lab.workdir / "programs.conf").write_bytes(
        (NOTEBOOKS / "apps/workspaces/supervisor-demo/programs.conf").read_bytes())
    _terminal("$ENGINE run -d --name $LAB-mine --memory 256m --pids-limit 256 $LABELS "
              f"-v $WORK/programs.conf:/etc/supervisor/conf.d/programs.conf:ro {SUPERVISOR_IMAGE} >/dev/null", env)
    deadline = time.monotonic() + 30
    while "RUNNING" not in lab.exec("mine", ["supervisorctl", "status", "web"], echo=False).output:
        assert time.monotonic() < deadline, "web never ran under supervisord"
        time.sleep(0.5)
    verdict = check_stopped_on_purpose(lab, SUPERVISOR_IMAGE)
    assert not verdict and "web is RUNNING" in verdict.message
    _terminal("$ENGINE exec $LAB-mine supervisorctl stop web >/dev/null", env)
    assert check_stopped_on_purpose(lab, SUPERVISOR_IMAGE), check_stopped_on_purpose(lab, SUPERVISOR_IMAGE).message


def test_compose_variable_starts_only_web_with_the_labels(lab):
    app = ComposeApp(lab, NOTEBOOKS / "apps/compose-demo/compose.yaml")
    try:
        env = dict(app.cli_env().values)
        assert "$COMPOSE" not in env["COMPOSE"] and app.name in env["COMPOSE"]
        assert "export COMPOSE=" in (lab.workdir / "cli.env").read_text()
        verdict = check_only_web(lab)
        assert not verdict and "no container named $LAB-notes-web-1" in verdict.message
        _terminal("$COMPOSE build >/dev/null 2>&1 && $COMPOSE up -d --no-build web >/dev/null 2>&1", env)
        assert check_only_web(lab), check_only_web(lab).message  # found through the labels the override adds
        _terminal("$COMPOSE up -d --no-build worker >/dev/null 2>&1", env)
        verdict = check_only_web(lab)
        assert not verdict and "worker" in verdict.message
    finally:
        app.down(volumes=True)
