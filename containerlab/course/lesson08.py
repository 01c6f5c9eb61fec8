"""Exercise checks for lesson 08, Compose.

The start order is checked against the file's real dependency graph (any order Compose could
use is right), the published port against what the engine reports for the running app.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..compose import load_compose
from ..errors import LabError, ParseError
from .engine_checks import container_problem
from .grading import CheckResult, answer_set, unanswered

__all__ = ["LIFECYCLE_COMMANDS", "HEALTHY_PROJECT", "check_data_survives", "check_healthy_service", "check_start_order",
           "check_web_port", "healthy_project", "check_only_web"]

HEALTHY_PROJECT = "name: healthcheck-exercise\nservices:\n  {service}:\n"

LIFECYCLE_COMMANDS = ("stop", "down", "down -v")
_KEEPS_VOLUMES = {"stop", "down"}


def _names(answer: Any) -> list[str]:
    items = answer.replace(",", " ").split() if isinstance(answer, str) else list(answer)
    return [str(item).strip() for item in items]


def check_start_order(answer: Sequence[str] | str | None, project: Any) -> CheckResult:
    """Exercise 08.1: an order in which Compose can start the project's services."""
    hint = ("A service starts only after everything in its depends_on has reached its condition "
            "(started, or healthy). Start with the service that depends on nothing.")
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    order = _names(answer)
    services = list(project.services)
    unknown = [name for name in order if name not in services]
    if unknown:
        return CheckResult(False, f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not a service "
                                  f"of this file (it has {', '.join(services)}).", hint)
    if sorted(order) != sorted(services):
        lacking = [name for name in services if name not in order]
        twice = sorted({name for name in order if order.count(name) > 1})
        what = f"{', '.join(lacking)} missing" if lacking else f"{', '.join(twice)} listed twice"
        return CheckResult(False, f"Name every service exactly once ({what}).", hint)
    position = {name: i for i, name in enumerate(order)}
    for dependent, dependency, condition in project.dependency_edges():
        if position[dependency] > position[dependent]:
            wait = condition.removeprefix("service_")
            return CheckResult(False, f"{dependent} cannot start before {dependency}: it waits for {dependency} to "
                                      f"be {wait}.", hint)
    arrow = " \N{RIGHTWARDS ARROW} "
    return CheckResult(True, f"Right: {arrow.join(order)} respects every depends_on "
                             "(services that do not depend on each other may start in either order).")


def _command(item: Any) -> str:
    """A lifecycle command as the choices name it: 'docker compose down -v' is 'down -v'."""
    return " ".join(str(item).replace("docker compose", "").split())


def check_data_survives(answer: Iterable[str] | str | None) -> CheckResult:
    """Exercise 08.2: after which of LIFECYCLE_COMMANDS the named volume's data is still there."""
    hint = ("Compose removes named volumes only when asked: try each command, then 'up' again and read the "
            "jobs counter.")
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    given = answer_set([answer] if isinstance(answer, str) else answer, _command)
    unknown = sorted(given - set(LIFECYCLE_COMMANDS))
    if unknown:
        return CheckResult(False, f"{unknown} is not among the choices {list(LIFECYCLE_COMMANDS)}.", hint)
    if given == _KEEPS_VOLUMES:
        return CheckResult(True, "Right: stop keeps even the containers, down removes containers and networks but "
                                 "keeps named volumes; only down -v deletes the data.")
    if "down -v" in given:
        return CheckResult(False, "down -v (--volumes) removes the project's named volumes, and the data with them.",
                           hint)
    lacking = sorted(_KEEPS_VOLUMES - given)
    return CheckResult(False, f"The data also survives {' and '.join(lacking)}.", hint)


def check_web_port(answer: Any, app: Any) -> CheckResult:
    """Exercise 08.3: the host port on which Compose published web's container port 8080."""
    hint = ("The file says 127.0.0.1::8080, so the engine chose the host port: read it from app.ps() "
            "(ComposeContainer.host_port(8080)) or 'docker compose port web 8080'.")
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    try:
        port = int(str(answer).rsplit(":", 1)[-1])
    except ValueError:
        return CheckResult(False, f"{answer!r} is not a port number.", hint)
    webs = [c for c in app.ps() if c.service == "web" and c.running]
    if not webs:
        return CheckResult(False, "The web service is not running: run the cells that start the app first.", hint)
    actual = webs[0].host_port(8080)
    if port == actual:
        return CheckResult(True, f"Right: 127.0.0.1:{port} on the host leads to port 8080 in the web container.")
    if port == 8080:
        return CheckResult(False, "8080 is the port inside the container; the host side is another number.", hint)
    return CheckResult(False, f"Port {port} is not where web's 8080 is published.", hint)


def healthy_project(service_yaml: str, service: str = "ready") -> str:
    """The exercise's compose file: the learner's service body (its keys, as YAML) under ``services: <service>:``."""
    return HEALTHY_PROJECT.format(service=service) + textwrap.indent(textwrap.dedent(service_yaml).strip("\n"),
                                                                     "    ") + "\n"


def check_healthy_service(service_yaml: Any, start: Callable[[str], Any], service: str = "ready",
                          wait: float = 30.0) -> CheckResult:
    """Exercise 08.4: the learner's service, with a health check of its own, started by Compose becomes healthy.

    The body is put under ``services:`` of a one-service project and read by the course's compose loader (its
    one-line error fails it); then ``start`` (the engine's, bound to the lab and a folder) brings it up, and its
    container's health is polled through ``compose ps`` for up to ``wait`` seconds. The project is taken down after.
    """
    hint = (f"Give {service} an image built here (containerlab/busybox), a command that keeps running, and a "
            "healthcheck: whose test passes once it is ready (test: [\"CMD\", ...]), with a short interval (1s) "
            "and a few retries.")
    missing = unanswered(service_yaml, hint)
    if missing is not None:
        return missing
    text = healthy_project(str(service_yaml), service)
    try:
        project = load_compose(text, environ={})
    except ParseError as err:
        return CheckResult(False, f"The compose loader refused it: {err.message} (your first line is line 4 of "
                                  "the file, after name:, services: and the service's name)", err.hint)
    if not project.service(service).has_healthcheck:
        return CheckResult(False, f"{service} has no healthcheck of its own: Compose would report it running, never "
                                  "healthy.", hint)
    try:
        app = start(text)
    except LabError as err:
        return CheckResult(False, f"Compose could not start it: {err.message}", hint)
    try:
        deadline = time.monotonic() + wait
        state, health = "", ""
        while time.monotonic() < deadline:
            mine = [c for c in app.ps() if c.service == service]
            state, health = (mine[0].state, mine[0].health) if mine else ("gone", "")
            if health in ("healthy", "unhealthy") or state != "running":
                break
            time.sleep(0.5)
    finally:
        app.down(volumes=True)
    if health == "healthy":
        return CheckResult(True, f"Right: Compose started {service}, the engine ran its health check, and it "
                                 "became healthy; a depends_on with condition: service_healthy would now let the "
                                 "next service start. (The project is down again.)")
    if state != "running":
        return CheckResult(False, f"{service}'s container stopped ({state or 'gone'}) before its health check "
                                  "passed: its command must keep running (a server, or sleep).", hint)
    if health == "unhealthy":
        return CheckResult(False, f"{service} became unhealthy: its test failed as many times in a row as retries "
                                  "allows.", "Run the test yourself in the container (docker compose exec "
                                  f"{service} ...): it must exit 0 once the service is ready.")
    return CheckResult(False, f"{service} was still {health or 'without a health state'} after {wait:g} s.",
                       "A short interval (1s) and a few retries make the verdict quick; the engine's defaults "
                       "(30s) are too slow for this check.")


def check_only_web(lab: Any, project: str = "notes") -> CheckResult:
    """Exercise 08.5 (terminal): `$COMPOSE up -d --no-build web` ran: from the engine's state, web runs and publishes
    8080 on 127.0.0.1 only, store (what web depends on) runs, and no worker container exists."""
    hint = ("In a terminal (after the source line): `$COMPOSE up -d --no-build web`. If the whole app is up, "
            "`$COMPOSE down` first.")
    state = lab.state()
    _, problem = container_problem(state, f"{project}-web-1", publishes=8080)
    if not problem:
        _, problem = container_problem(state, f"{project}-store-1")
    if problem:
        return CheckResult(False, problem, hint)
    workers = [c for c in state.containers if state.short(c.name).startswith(f"{project}-worker")]
    if workers:
        return CheckResult(False, f"{len(workers)} worker container(s) exist: `up web` would not start the worker "
                                  "(take the app down and start web alone).", hint)
    return CheckResult(True, "Right: Compose started web and what it depends on (store), nothing else, and "
                             "published web's 8080 on 127.0.0.1 at a port the engine picked (`$COMPOSE port web "
                             "8080` says which).")
