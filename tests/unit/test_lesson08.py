"""Lesson 08's exercise checks: any start order Compose could use passes, the data question has one
right set, and the web port is compared with what ps reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from containerlab.compose import load_compose_file
from containerlab.course.grading import NOT_ANSWERED
from containerlab.course.lesson08 import (
    check_data_survives,
    check_healthy_service,
    check_start_order,
    check_web_port,
    healthy_project,
)
from containerlab.engine.compose import ComposeContainer

ROOT = Path(__file__).resolve().parents[2]
DEMO = load_compose_file(ROOT / "notebooks/apps/compose-demo/compose.yaml", environ={})
PLATFORM = load_compose_file(ROOT / "tests/fixtures/compose/platform/compose.yaml", environ={})


@pytest.mark.parametrize("order", [["store", "web", "worker"], ["store", "worker", "web"], "store, worker, web",
                                   ("store", "web", "worker")])
def test_start_order_right(order):
    assert check_start_order(order, DEMO).passed


def test_start_order_of_a_big_file_uses_the_real_graph():
    assert check_start_order(list(PLATFORM.start_order()), PLATFORM).passed
    backwards = list(reversed(PLATFORM.start_order()))
    assert not check_start_order(backwards, PLATFORM).passed


@pytest.mark.parametrize("order, says", [
    (None, NOT_ANSWERED), (["web", "worker", "store"], "web cannot start before store: it waits for store to be healthy"),
    (["store", "web"], "worker missing"), (["store", "web", "web", "worker"], "web listed twice"),
    (["store", "web", "db"], "db is not a service"),
])
def test_start_order_wrong(order, says):
    result = check_start_order(order, DEMO)
    assert not result.passed and says in result.message and result.hint


@pytest.mark.parametrize("answer", [{"stop", "down"}, ["down", "docker compose stop"], ("stop", "down")])
def test_data_survives_right(answer):
    assert check_data_survives(answer).passed


@pytest.mark.parametrize("answer, says", [
    (None, NOT_ANSWERED), ({"stop", "down", "down -v"}, "removes the project's named volumes"),
    ({"stop"}, "also survives down"), ("down", "also survives stop"), ({"rm"}, "not among the choices"),
])
def test_data_survives_wrong(answer, says):
    result = check_data_survives(answer)
    assert not result.passed and says in result.message


class FakeApp:
    def __init__(self, containers):
        self.containers = containers

    def ps(self):
        return self.containers


WEB = ComposeContainer(name="p-web-1", service="web", number=1, state="running",
                       published=(("127.0.0.1", 32770, 8080, "tcp"),))


@pytest.mark.parametrize("answer", [32770, "32770", "127.0.0.1:32770"])
def test_web_port_right(answer):
    assert check_web_port(answer, FakeApp([WEB])).passed


@pytest.mark.parametrize("answer, app, says", [
    (None, FakeApp([WEB]), NOT_ANSWERED), (8080, FakeApp([WEB]), "inside the container"),
    (1234, FakeApp([WEB]), "not where"), ("web", FakeApp([WEB]), "not a port number"),
    (32770, FakeApp([]), "not running"),
])
def test_web_port_wrong(answer, app, says):
    result = check_web_port(answer, app)
    assert not result.passed and says in result.message


def _never_started(text: str):
    raise AssertionError(f"a service the loader refuses, or one without a health check, must not start: {text!r}")


def test_healthy_service_frame_and_what_fails_before_anything_starts():
    """The learner's body goes under services: ready:; a YAML error gives the loader's line, no healthcheck says so."""
    body = "image: containerlab/busybox\ncommand: sleep 60\n"
    assert healthy_project(body) == ("name: healthcheck-exercise\nservices:\n  ready:\n"
                                     "    image: containerlab/busybox\n    command: sleep 60\n")
    unhealthy = check_healthy_service(body, _never_started)
    assert not unhealthy and "no healthcheck" in unhealthy.message and "interval" in unhealthy.hint
    disabled = check_healthy_service(body + "healthcheck:\n  disable: true\n", _never_started)
    assert not disabled and "no healthcheck" in disabled.message
    broken = check_healthy_service("image: containerlab/busybox\n command: [oops\n", _never_started)
    assert not broken and "compose loader refused it" in broken.message and "line 5" in broken.message
    wrong_key = check_healthy_service("image: containerlab/busybox\nhealthcheck:\n  test: 5\n", _never_started)
    assert not wrong_key and "compose loader refused it" in wrong_key.message
    assert check_healthy_service(None, _never_started).message == NOT_ANSWERED
