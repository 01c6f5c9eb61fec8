"""A live compose graph: the pure diagram of a Compose file with each service's state from the engine.

`service_status` turns what `compose ps` reports (container state and health, per replica) into
the status words the renderer knows; `ComposeGraphView` shows the graph in an HTML widget with a
Refresh button and an auto-refresh toggle. Displayed, it also carries the static SVG, so a stored
notebook shows the picture without a kernel (nbval ignores the widget view).
"""

from __future__ import annotations

import html
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import ipywidgets as widgets

from ..compose import ComposeProject
from ..engine.compose import ComposeApp, ComposeContainer
from ..errors import LabError
from ..render.compose_graph import compose_graph
from ..render.svg import Diagram

__all__ = ["ComposeGraphView", "container_status", "service_status"]

_STOPPED = {"exited", "dead", "removing", "paused", "stopped"}
_STARTING = {"created", "restarting", "configured", "initialized"}
# When replicas disagree, the state most worth a look wins.
_PRECEDENCE = ("unhealthy", "starting", "exited", "running", "healthy")


def container_status(state: str, health: str = "") -> str:
    """One container's status for the graph: running, healthy, unhealthy, starting or exited."""
    state, health = state.strip().lower(), health.strip().lower()
    if state in _STOPPED:
        return "exited"
    if state in _STARTING:
        return "starting"
    if state == "running":
        if health in ("healthy", "unhealthy", "starting"):
            return health
        return "running"
    return "starting" if state else "exited"


def service_status(containers: Iterable[ComposeContainer], project: ComposeProject | None = None) -> dict[str, str]:
    """Service -> the status shown on its box. Over several replicas the one most worth a look
    wins (unhealthy, starting, exited, running, healthy). Services without a container are left out;
    with ``project``, so are containers of services the file does not have."""
    found: dict[str, list[str]] = {}
    for container in containers:
        if project is not None and container.service not in project.services:
            continue
        found.setdefault(container.service, []).append(container_status(container.state, container.health))
    return {service: min(states, key=_PRECEDENCE.index) for service, states in sorted(found.items())}


class ComposeGraphView(widgets.VBox):
    """The compose graph of an app with its live status, a Refresh button and auto refresh."""

    def __init__(self, app: ComposeApp, *, title: str | None = None, interval: float = 2.0,
                 auto_limit: float = 300.0) -> None:
        self.app = app
        self.title = title
        self.interval = interval
        self.auto_limit = auto_limit
        self.states: dict[str, str] = {}
        self.last_diagram: Diagram = compose_graph(app.project, title=title)
        self.view = widgets.HTML(self.last_diagram.svg)
        self.note = widgets.HTML()
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.auto = widgets.ToggleButton(value=False, description="Auto refresh", icon="clock-o")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.auto.observe(self._auto_changed, names="value")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        super().__init__([widgets.HBox([self.refresh_button, self.auto, self.note]), self.view])
        self.refresh()

    def diagram(self, states: Mapping[str, str] | None = None) -> Diagram:
        """The graph with ``states`` (default: the last ones read) as a static Diagram."""
        return compose_graph(self.app.project, status=self.states if states is None else states, title=self.title)

    def refresh(self) -> Diagram:
        """Ask the engine for the app's containers again and redraw."""
        try:
            self.states = service_status(self.app.ps(), self.app.project) if self.app.lab.available else {}
            running = sum(1 for state in self.states.values() if state != "exited")
            self._say(f"{running} of {len(self.app.project.services)} services up" if self.states
                      else "not running" if self.app.lab.available else "no engine: the graph shows the file")
        except LabError as err:
            self.states = {}
            self._say(f"\N{CROSS MARK} {err.message}")
        self.last_diagram = self.diagram()
        self.view.value = self.last_diagram.svg
        return self.last_diagram

    def stop(self) -> None:
        """Stop auto refresh (also when the widget is closed)."""
        self._stop.set()
        if self.auto.value:
            self.auto.value = False

    def close(self) -> None:
        self.stop()
        super().close()

    def _auto_changed(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self._stop.clear()
            self._thread = threading.Thread(target=self._auto_loop, daemon=True)
            self._thread.start()
        else:
            self._stop.set()

    def _auto_loop(self) -> None:
        """Refresh every ``interval`` seconds until switched off or ``auto_limit`` seconds passed."""
        waited = 0.0
        while not self._stop.wait(self.interval) and waited < self.auto_limit:
            waited += self.interval
            self.refresh()
        self.auto.value = False

    def _say(self, text: str) -> None:
        self.note.value = f"<span style='padding-left:8px'>{html.escape(text)}</span>"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Widget view plus the last diagram's SVG and summary, so a stored notebook shows the graph."""
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle.update({"text/plain": self.last_diagram.summary, "image/svg+xml": self.last_diagram.svg,
                       "text/html": self.last_diagram.html()})
        return bundle
