"""Health checks where nothing schedules them: Podman with no systemd.

Docker's daemon runs every container's HEALTHCHECK on its interval. Podman hands that job to
systemd timers; where no systemd runs (most containers, many CI machines, WSL), a check runs only
when someone asks Podman to run it (`podman healthcheck run`), and the status stays "starting".
`run_healthcheck` asks through Podman's own API; `wait_healthy` runs a container's check until it
passes; `HealthTimer` is the missing timer for a lesson's containers: a daemon thread that runs each
check when its interval is due, so the health the engine reports is the check's real verdict.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from docker.errors import NotFound

from ..errors import LabError
from .connect import Engine

__all__ = ["HealthTimer", "check_interval", "needs_health_timer", "run_healthcheck", "wait_healthy"]

SYSTEMD_RUNNING = Path("/run/systemd/system")
_NANOSECONDS = 1_000_000_000


def needs_health_timer(engine: Engine, systemd: Path = SYSTEMD_RUNNING) -> bool:
    """True when health checks would never run by themselves: Podman on a machine without systemd."""
    return engine.is_podman and not systemd.is_dir()


def check_interval(attrs: Mapping[str, Any]) -> float | None:
    """Seconds between a container's health checks (Docker's default 30 s when unset); None without one."""
    check = (attrs.get("Config") or {}).get("Healthcheck") or {}
    test = check.get("Test") or []
    if not test or test[0] == "NONE":
        return None
    interval = int(check.get("Interval") or 0)
    return interval / _NANOSECONDS if interval > 0 else 30.0


def _run_check(engine: Engine, container: str, timeout: float = 60) -> Mapping[str, Any] | None:
    """Run the check once through Podman's API; the container's inspect data afterwards (None when it is
    gone, stopped or has no check)."""
    api = engine.client.api
    response = api.get(f"{api.base_url}/v4.0.0/libpod/containers/{container}/healthcheck", timeout=timeout)
    if response.status_code != 200:
        return None
    try:
        return api.inspect_container(container)
    except NotFound:
        return None


def _health_status(attrs: Mapping[str, Any] | None) -> str:
    """State.Health.Status of inspect data ('' without any)."""
    health = ((attrs or {}).get("State") or {}).get("Health") or {}
    return str(health.get("Status") or "")


def run_healthcheck(engine: Engine, container: str, timeout: float = 60) -> str:
    """Run a container's health check once through Podman's API; the container's health afterwards
    ('healthy', 'starting', or 'unhealthy' once the retries are used up), or '' when the container is gone,
    stopped or has no check. (The API answers with this one run's verdict; the container's state counts retries.)"""
    return _health_status(_run_check(engine, container, timeout))


def wait_healthy(engine: Engine, containers: Sequence[str], *, timeout: float = 120,
                 on_healthy: Callable[[str], None] | None = None) -> None:
    """Run each container's check on its own interval (as the engine would) until it passes; LabError when
    one turns unhealthy (its retries used up), stops, or is not healthy after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    due = dict.fromkeys(containers, 0.0)
    while due:
        now = time.monotonic()
        for name in [name for name, at in due.items() if at <= now]:
            attrs = _run_check(engine, name)
            status = _health_status(attrs)
            if status == "healthy":
                del due[name]
                if on_healthy:
                    on_healthy(name)
            elif status == "unhealthy":
                raise LabError(f"{name} is unhealthy: its health check failed every retry.",
                               "Read its logs (app.logs(SERVICE)) to see why the service does not answer.")
            elif status == "":
                raise LabError(f"{name} stopped (or lost its health check) while others waited for it.",
                               "Read its logs (app.logs(SERVICE)); fix the service, then run the cell again.")
            else:
                due[name] = now + (check_interval(attrs or {}) or 30.0)
        if not due:
            return
        if time.monotonic() > deadline:
            raise LabError(f"{', '.join(due)} did not become healthy within {timeout:g} s.",
                           "Read the logs (app.logs(SERVICE)): the service may be slow to start or broken.")
        time.sleep(max(0.05, min(min(due.values()) - time.monotonic(), deadline - time.monotonic(), 1.0)))


class HealthTimer:
    """Runs the health checks of the running containers matching ``filters`` (engine label filters)
    on their intervals, from a daemon thread, until stopped or until none has been seen for a while."""

    def __init__(self, engine: Engine, filters: Mapping[str, Any], *, poll: float = 0.5,
                 idle_stop: float = 30.0) -> None:
        self.engine = engine
        self.filters = dict(filters)
        self.poll = poll
        self.idle_stop = idle_stop
        self.runs = 0
        self._due: dict[str, float] = {}
        self._intervals: dict[str, float | None] = {}  # a container's check never changes: inspect it once
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """True while the thread runs checks."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> HealthTimer:
        """Start the thread (once; starting a running timer does nothing)."""
        if not self.running:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="containerlab-health", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread and wait for the check in progress to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None

    def tick(self) -> int:
        """Run every check that is due now; how many containers with a check are running."""
        now = time.monotonic()
        found = 0
        for container in self.engine.client.containers.list(filters=self.filters, sparse=True):
            key = str(container.id)
            if key not in self._intervals:
                self._intervals[key] = check_interval(self.engine.client.api.inspect_container(key))
            interval = self._intervals[key]
            if interval is None:
                continue
            found += 1
            if now >= self._due.get(key, 0.0):
                self._due[key] = now + interval
                _run_check(self.engine, key)
                self.runs += 1
        return found

    def _loop(self) -> None:
        last_seen = time.monotonic()
        while not self._stop.wait(self.poll):
            try:
                if self.tick():
                    last_seen = time.monotonic()
            except Exception:
                pass
            if time.monotonic() - last_seen > self.idle_stop:
                return
