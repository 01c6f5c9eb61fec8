"""A live namespace map: start busybox containers that share some of the host's namespaces
(or another container's network) and watch the map change, read from /proc each time.

Sharing the host's namespaces is what the lesson is about, so it is allowed here; the
explorer never asks for --privileged.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from ..engine.lab import Lab, LabContainer
from ..engine.namespaces import lab_containers, lab_namespace_map
from ..errors import LabError
from ..render.svg import Diagram

__all__ = ["NamespaceExplorer", "HOST_SHAREABLE"]

HOST_SHAREABLE = ("pid", "uts", "ipc", "net")
_MODE_OPTION = {"pid": "pid_mode", "uts": "uts_mode", "ipc": "ipc_mode", "net": "network_mode"}
_OWN_NETWORK = "(its own)"


class NamespaceExplorer(widgets.VBox):
    """Checkboxes for the host namespaces to share, a network to join, start/remove buttons, the map."""

    def __init__(self, lab: Lab, *, image: str = "containerlab/busybox", prefix: str = "explore") -> None:
        self.lab = lab
        self.image = image
        self.prefix = prefix
        self.started: list[LabContainer] = []
        self.last_diagram: Diagram | None = None
        self.share_host = {
            kind: widgets.Checkbox(value=False, description=f"host's {kind.upper()}", indent=False,
                                   layout=widgets.Layout(width="auto"))
            for kind in HOST_SHAREABLE
        }
        self.network_of = widgets.Dropdown(options=[_OWN_NETWORK], value=_OWN_NETWORK,
                                           description="network of", layout=widgets.Layout(width="240px"))
        self.start_button = widgets.Button(description="Start container", button_style="primary", icon="play")
        self.remove_button = widgets.Button(description="Remove started", icon="trash")
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.status = widgets.HTML()
        self.map_view = widgets.HTML()
        self.start_button.on_click(lambda _: self._act(self._start_from_controls))
        self.remove_button.on_click(lambda _: self._act(self.remove_started))
        self.refresh_button.on_click(lambda _: self._act(self.refresh))
        self.share_host["net"].observe(self._net_choice_changed, names="value")
        controls = widgets.HBox([widgets.Label("share:"), *self.share_host.values(), self.network_of])
        buttons = widgets.HBox([self.start_button, self.remove_button, self.refresh_button])
        super().__init__([controls, buttons, self.status, self.map_view])
        if lab.available:
            self._act(self.refresh)
        else:
            self.start_button.disabled = self.remove_button.disabled = self.refresh_button.disabled = True
            self._say(f"No container engine here ({lab.why_unavailable}): the explorer cannot start containers.")

    # -- actions the buttons call (tests call them directly) -----------------------------------
    def start(self, *, share: str | tuple[str, ...] | list[str] = (), network_of: str | None = None) -> LabContainer:
        """Start a sleeping busybox sharing the host's ``share`` namespaces and/or ``network_of``'s network."""
        share = (share,) if isinstance(share, str) else tuple(share)
        unknown = sorted(set(share) - set(HOST_SHAREABLE))
        if unknown:
            raise LabError(f"Cannot share the host's {', '.join(unknown)} namespace from here.",
                           f"Choose among: {', '.join(HOST_SHAREABLE)}.")
        if "net" in share and network_of:
            raise LabError("A container has one network namespace: the host's or another container's, not both.",
                           "Untick the host's NET or set 'network of' back to its own.")
        options: dict[str, Any] = {_MODE_OPTION[kind]: "host" for kind in share}
        if network_of:
            options["network_mode"] = f"container:{self.lab.container(network_of).name}"
        name = f"{self.prefix}-{len(self.started) + 1}"
        container = self.lab.start(self.image, ["sleep", "3600"], name=name, **options)
        self.started.append(container)
        what = [f"the host's {kind.upper()}" for kind in share]
        if network_of:
            what.append(f"{network_of}'s network")
        self._say(f"Started {name} sharing {', '.join(what) or 'nothing (all its own)'}.")
        self.refresh()
        return container

    def remove_started(self) -> int:
        """Remove the containers this explorer started; the number removed."""
        count = len(self.started)
        for container in self.started:
            container.remove()
        self.started.clear()
        self._say(f"Removed {count} container(s) started here.")
        self.refresh()
        return count

    def refresh(self) -> Diagram:
        """Read every lab container's namespaces again and redraw the map; update the network list."""
        diagram = self.diagram()
        self.last_diagram = diagram
        self.map_view.value = diagram.svg
        names = [c.short_name for c in self._running()]
        current = self.network_of.value
        self.network_of.options = [_OWN_NETWORK, *names]
        self.network_of.value = current if current in names else _OWN_NETWORK
        return diagram

    def diagram(self) -> Diagram:
        """The current namespace map (this notebook plus the lab's running containers)."""
        if not self.lab.available:
            raise LabError(f"The explorer needs a container engine: {self.lab.why_unavailable}",
                           "Run 'python -m containerlab doctor' to see what is missing.")
        return lab_namespace_map(self.lab, title="Namespace explorer")

    # -- widget plumbing -------------------------------------------------------------------------
    def _running(self) -> list[LabContainer]:
        return lab_containers(self.lab)

    def _start_from_controls(self) -> None:
        share = tuple(kind for kind, box in self.share_host.items() if box.value)
        chosen = self.network_of.value
        joined = None if chosen == _OWN_NETWORK or self.network_of.disabled else chosen
        self.start(share=share, network_of=joined)

    def _net_choice_changed(self, change: dict[str, Any]) -> None:
        self.network_of.disabled = bool(change["new"])

    def _act(self, action: Any) -> None:
        try:
            action()
        except LabError as err:
            self._say(f"\N{CROSS MARK} {err.message} Hint: {err.hint}")

    def _say(self, text: str) -> None:
        self.status.value = f"<span>{html.escape(text)}</span>"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Widget view plus the map's SVG and summary, so a stored notebook still shows the map."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if self.last_diagram is not None:
            bundle.update({"text/plain": self.last_diagram.summary, "image/svg+xml": self.last_diagram.svg,
                           "text/html": self.last_diagram.html()})
        return bundle
