"""Exercise checks for lesson 08, Compose.

The start order is checked against the file's real dependency graph (any order Compose could
use is right), the published port against what the engine reports for the running app.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .grading import CheckResult, answer_set, unanswered

__all__ = ["LIFECYCLE_COMMANDS", "check_data_survives", "check_start_order", "check_web_port"]

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
