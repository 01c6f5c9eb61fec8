"""The lesson 09 test bed for real: the supervisor base image builds offline, the three workspaces come up
with Compose, startup.sh runs in each, and run-test.sh passes inside the frontend; nothing is left after."""

from __future__ import annotations

from pathlib import Path

import pytest

from containerlab.course.lesson09 import check_program_stays_up, supervised_programs
from containerlab.engine.compose import ComposeApp, quiet
from containerlab.engine.lab import Lab, label_filters
from containerlab.engine.workspaces import SUPERVISOR_IMAGE, ensure_supervisor_image

TESTBED = Path(__file__).resolve().parents[2] / "notebooks/apps/workspaces/compose.yaml"
PROGRAMS = {"ce": ["batch", "gatekeeper"], "factory": ["factory", "logserver"], "frontend": ["schedd", "vofrontend"]}


@pytest.fixture(scope="module")
def testbed(lab_images):
    lines: list[str] = []
    ensure_supervisor_image(lab_images, progress=lines.append)
    lab = Lab("test-workspaces", engine=lab_images)
    app = ComposeApp(lab, TESTBED, progress=quiet)
    app.up()
    yield app
    app.down(volumes=True)
    lab.cleanup()
    filters = {"label": label_filters(lab.lesson, lab.owner)}
    assert lab.engine.client.containers.list(all=True, filters=filters) == []
    assert lab.engine.client.volumes.list(filters=filters) == []


def test_base_image_has_supervisor_and_systemd(lab_images):
    ensure_supervisor_image(lab_images, progress=quiet)
    with Lab("test-workspaces-image", engine=lab_images) as lab:
        found = lab.run(SUPERVISOR_IMAGE, ["sh", "-c", "supervisord --version && systemctl --version | head -1"])
    assert found.ok and "systemd" in found.output


def test_workspaces_are_healthy_with_supervisord_as_pid1(testbed):
    assert [(c.short_name, c.state, c.health) for c in testbed.ps()] == [
        ("ce-1", "running", "healthy"), ("factory-1", "running", "healthy"), ("frontend-1", "running", "healthy")]
    for workspace in PROGRAMS:
        assert testbed.exec(workspace, ["cat", "/proc/1/comm"]).output.strip() == "supervisord"


def test_startup_then_run_test_passes(testbed):
    for workspace, programs in PROGRAMS.items():
        startup = testbed.exec(workspace, "/root/scripts/startup.sh")
        assert startup.ok, startup.output
        status = testbed.exec(workspace, ["supervisorctl", "status"]).output
        assert supervised_programs(status) == programs
        assert status.count("RUNNING") == 2, status
    run_test = testbed.exec("frontend", "/root/scripts/run-test.sh")
    assert run_test.ok, run_test.output
    assert "TEST PASSED" in run_test.output and "on ce-workspace.testbed.lab" in run_test.output


def test_factory_refuses_a_wrong_token(testbed):
    for workspace in PROGRAMS:
        assert testbed.exec(workspace, "/root/scripts/startup.sh").ok
    answer = testbed.exec("frontend", [
        "python3", "-c", "import urllib.request, urllib.error, json\n"
        "req = urllib.request.Request('http://factory:8319/requests', data=json.dumps({'token': 'wrong', "
        "'schedd': 'http://frontend:9618'}).encode(), headers={'Content-Type': 'application/json'})\n"
        "try:\n    urllib.request.urlopen(req)\nexcept urllib.error.HTTPError as err:\n    print(err.code)"])
    assert answer.output.strip() == "403"


@pytest.fixture
def supervised(lab_images):
    ensure_supervisor_image(lab_images, progress=quiet)
    lab = Lab("test-workspaces-program", engine=lab_images)
    container = lab.start(SUPERVISOR_IMAGE, name="supervised")
    yield container
    lab.cleanup()


def test_a_program_that_stays_up_passes_and_one_that_exits_does_not(supervised):
    server = "[program:notes]\ncommand=python3 -m http.server 8081\nstartsecs=1\n"
    assert check_program_stays_up(server, supervised, watch=1)
    quitter = "[program:notes]\ncommand=sh -c 'echo started; exit 3'\nstartsecs=1\nstartretries=1\n"
    verdict = check_program_stays_up(quitter, supervised, watch=1)
    assert not verdict and "not RUNNING" in verdict.message
