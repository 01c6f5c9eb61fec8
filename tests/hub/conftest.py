"""Workshop hubs under test: real JupyterHub processes on 127.0.0.1 spawning real course boxes on this Docker.

Each hub has a name of its own (tests can run beside an instructor's hub), its state in a temporary folder, and
a finalizer that stops it and removes everything it made, then checks that no labelled container, network, volume
or service and no cgroup folder of its boxes is left. Images are built once per session from this clone (the
box, then the hub's single-user image FROM it; Docker's cache makes an unchanged rebuild quick).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from hub_client import HubUser  # noqa: E402
from remote_kernel import write_kernel_spec  # noqa: E402

from containerlab.engine import box as boxes  # noqa: E402
from containerlab.engine import hub  # noqa: E402
from containerlab.engine.lab import default_owner  # noqa: E402


@dataclass
class RunningHub:
    """A hub under test: its settings, secrets and address."""

    settings: hub.HubSettings
    secrets: hub.HubSecrets
    extra: Sequence[str] = ()

    @property
    def base(self) -> str:
        """The hub's URL (the proxy on 127.0.0.1)."""
        return self.settings.url

    def login(self, name: str) -> HubUser:
        """Log an attendee in with the room's password."""
        return HubUser.login(self.base, name, self.secrets.password)

    def login_admin(self) -> HubUser:
        """Log the instructor in with the admin password."""
        return HubUser.login(self.base, self.settings.admin, self.secrets.admin_password)

    def restart(self) -> None:
        """Stop the hub process and start it again with the same settings (boxes keep running)."""
        hub.stop_hub(self.settings)
        hub.start_hub(self.settings, extra=self.extra)

    def box_ids(self) -> dict[str, str]:
        """Container name -> ID of this hub's boxes."""
        names = hub.hub_objects(self.settings)["containers"]
        if not names:
            return {}
        ids = subprocess.run(["docker", "inspect", "--format", "{{.Name}} {{.Id}}", *names], capture_output=True,
                             text=True).stdout.split("\n")
        return {line.split()[0].lstrip("/"): line.split()[1] for line in ids if line.strip()}

    def log(self) -> str:
        """The hub's log so far."""
        return (self.settings.state_dir / "hub.log").read_text(errors="replace")

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the hub's log, for a failed assertion (a box's last lines are there when it never answered)."""
        return "the hub's log ends:\n" + self.log()[-chars:]


def leftovers(settings: hub.HubSettings, box_ids: Sequence[str]) -> list[str]:
    """Anything of a hub still on the host: labelled engine objects (work volumes too) and cgroup folders."""
    found = [f"{kind}: {name}" for kind, names in hub.hub_objects(settings).items() for name in names]
    for box_id in box_ids:
        found += [f"cgroup: {path}" for path in hub.leftover_cgroups(box_id)]
    return found


@pytest.fixture(scope="session")
def hub_image(lab_images) -> str:
    """The hub's single-user image, built from this clone's box."""
    if lab_images.is_podman:
        pytest.skip("the hub spawns boxes with DockerSpawner: Docker only")
    if not hub.proxy_command():
        pytest.fail("configurable-http-proxy is missing: './lab test' installs it")
    boxes.build_box(lab_images, image=boxes.BOX_IMAGE, progress=lambda line: None)
    hub.build_hub_image(image=hub.HUB_IMAGE, box_image=boxes.BOX_IMAGE, progress=lambda line: None)
    return hub.HUB_IMAGE


@pytest.fixture(scope="session")
def start_test_hub(hub_image, tmp_path_factory) -> Iterator[Callable[..., RunningHub]]:
    """Start hubs of this test run's owner (name, options); each is stopped and removed at the end of the session,
    or earlier by `finish`, and must leave nothing behind."""
    started: list[RunningHub] = []
    seen_boxes: dict[str, set[str]] = {}

    def start(name: str, *, extra: Sequence[str] = (), **options) -> RunningHub:
        options.setdefault("idle_timeout", 0)
        settings = hub.HubSettings(name=f"{name}{secrets.token_hex(2)}", owner=default_owner(), image=hub_image,
                                   port=hub._free_port(), state=str(tmp_path_factory.mktemp(f"hub-{name}")),
                                   **options)
        made = RunningHub(settings, hub.HubSecrets.load_or_create(settings), extra)
        started.append(made)
        seen_boxes[settings.prefix] = set()
        hub.start_hub(settings, extra=extra)
        return made

    start.seen_boxes = seen_boxes  # type: ignore[attr-defined]
    yield start
    problems = []
    for made in started:
        ids = set(made.box_ids().values()) | seen_boxes.get(made.settings.prefix, set())
        hub.remove_hub(made.settings, volumes=True)
        problems += leftovers(made.settings, sorted(ids))
    assert problems == [], f"hubs left behind: {problems}"


@pytest.fixture(scope="session")
def remote_kernels(tmp_path_factory) -> Path:
    """A JUPYTER_PATH folder with the hub-remote kernel spec (nbval and nbclient run cells in a box with it)."""
    folder = tmp_path_factory.mktemp("jupyter-path")
    write_kernel_spec(folder)
    return folder


def remote_env(user: HubUser, kernels: Path) -> dict[str, str]:
    """The environment that points the hub-remote kernel at ``user``'s server."""
    return {**os.environ, "JUPYTER_PATH": str(kernels), "REMOTE_KERNEL_URL": user.server_url(),
            "REMOTE_KERNEL_TOKEN": user.token}

