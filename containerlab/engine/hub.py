"""The workshop hub on the host: one JupyterHub for a room, every attendee in their own course box.

`./lab hub` runs JupyterHub with `hub/jupyterhub_config.py` (read it: every setting is there, with why). This
module is what that command and the config share: the settings (from `./lab hub`'s options, passed to the config
as environment variables), the generated passwords, the hub's single-user image (the course box plus the
`jupyterhub` package, built offline FROM the box image), the course's bridge network the hub's API listens on,
starting and stopping the hub process, and removing everything a hub made. Names all start with
``clab-OWNER-NAME-`` and carry the course's labels, so `containerlab clean` finds them; the attendees' notebook
volumes carry only ``containerlab.hub``, so `clean` never deletes an attendee's work (`./lab hub remove
--volumes` does).
"""

from __future__ import annotations

import glob
import hashlib
import importlib.metadata
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ..errors import HostToolMissingError, LabError
from . import box
from .images import CACHE_DIR, print_progress
from .lab import LABEL_LESSON, LABEL_OWNER, default_owner

__all__ = ["HubError", "HubSettings", "HubSecrets", "HUB_DIR", "HUB_CONFIG", "HUB_IMAGE", "LABEL_HUB",
           "LABEL_HUB_USER", "LABEL_HUB_WORK", "box_host_config", "build_hub_image", "hub_image_present",
           "ensure_hub_network", "proxy_command", "hub_command", "hub_environment", "start_hub", "stop_hub",
           "hub_running", "hub_objects", "remove_hub", "leftover_cgroups", "remove_cgroups"]

HUB_DIR = Path(__file__).resolve().parents[2] / "hub"
HUB_CONFIG = HUB_DIR / "jupyterhub_config.py"
HUB_IMAGE = os.environ.get("CONTAINERLAB_HUB_IMAGE", f"{box.BOX_IMAGE}-hub")
LABEL_HUB = "containerlab.hub"
LABEL_HUB_USER = "containerlab.hub.user"
LABEL_HUB_WORK = "containerlab.hub.work"
ENV_PREFIX = "CONTAINERLAB_HUB_"
STATE_ROOT = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "containerlab"
PROXY_PACKAGE = "configurable-http-proxy@4"

Progress = Callable[[str], None]


class HubError(LabError):
    """The hub could not be built, started, stopped or removed."""


# -- settings ------------------------------------------------------------------------------------------------------

@dataclass
class HubSettings:
    """What `./lab hub` passes to hub/jupyterhub_config.py: one environment variable per field (CONTAINERLAB_HUB_*)."""

    name: str = "hub"                 # several hubs of one owner differ by name (tests run their own)
    owner: str = field(default_factory=default_owner)
    ip: str = "127.0.0.1"             # where attendees' browsers reach the hub; --public: 0.0.0.0
    port: int = 8000
    image: str = HUB_IMAGE
    cpus: float = 1.0                 # per attendee box
    memory: str = "2g"                # per attendee box (the nested engine, JupyterLab, the lessons' containers)
    pids: int = 2048                  # per attendee box (threads count: dockerd alone has about 40)
    idle_timeout: int = 3600          # seconds without activity before the culler stops a server; 0: never
    admin: str = "instructor"
    spawner: str = "docker"           # docker (one machine) | swarm (DockerSpawner's SwarmSpawner)
    tls_cert: str = ""
    tls_key: str = ""
    state: str = ""                   # folder of the hub's database, secrets and log (default under ~/.local/state)

    @property
    def prefix(self) -> str:
        """The start of every name this hub gives the engine (containers, networks, volumes, services)."""
        return f"clab-{self.owner}-{self.name}"

    @property
    def state_dir(self) -> Path:
        """The hub's folder: database, secrets, ports, pid and log."""
        return Path(self.state) if self.state else STATE_ROOT / f"hub-{self.owner}-{self.name}"

    @property
    def network(self) -> str:
        """The course's bridge network whose host address the hub's API listens on (boxes reach it there)."""
        return f"{self.prefix}-hub"

    @property
    def url(self) -> str:
        """Where attendees log in."""
        scheme = "https" if self.tls_cert else "http"
        host = "127.0.0.1" if self.ip in ("0.0.0.0", "") else self.ip
        return f"{scheme}://{host}:{self.port}/"

    def labels(self, **extra: str) -> dict[str, str]:
        """The labels of the hub's containers, networks, services and engine volumes."""
        return {LABEL_LESSON: "hub", LABEL_OWNER: self.owner, LABEL_HUB: self.prefix, **extra}

    def work_labels(self, user: str) -> dict[str, str]:
        """An attendee's notebooks volume: no lesson label, so `containerlab clean` keeps the attendee's work."""
        return {LABEL_OWNER: self.owner, LABEL_HUB: self.prefix, LABEL_HUB_WORK: "true", LABEL_HUB_USER: user}

    def to_env(self) -> dict[str, str]:
        """The environment hub/jupyterhub_config.py reads."""
        return {ENV_PREFIX + item.name.upper(): str(getattr(self, item.name)) for item in fields(self)}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HubSettings:
        """The settings in ``env`` (default os.environ); a field not set keeps its default."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for item in fields(cls):
            raw = env.get(ENV_PREFIX + item.name.upper())
            if raw is None:
                continue
            kind = item.type if isinstance(item.type, str) else item.type.__name__
            try:
                values[item.name] = float(raw) if kind == "float" else int(raw) if kind == "int" else raw
            except ValueError:
                raise HubError(f"{ENV_PREFIX}{item.name.upper()}={raw!r} is not a number.",
                               f"Give {item.name} as a number.") from None
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings that would make an unsafe or broken hub, in one line each."""
        if self.spawner not in ("docker", "swarm"):
            raise HubError(f"Unknown spawner {self.spawner!r}.", "Use 'docker' (one machine) or 'swarm'.")
        if self.ip not in ("127.0.0.1", "0.0.0.0"):
            raise HubError(f"The hub listens on 127.0.0.1 or (--public) on every address, not {self.ip}.",
                           "Leave --ip out, or use --public (see docs/instructors.md for TLS and the firewall).")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise HubError("TLS needs both a certificate and its key.", "Give --tls-cert and --tls-key together.")
        for path in (self.tls_cert, self.tls_key):
            if path and not Path(path).is_file():
                raise HubError(f"The TLS file {path} does not exist.", "Give the path of a PEM file.")
        if self.cpus <= 0 or self.pids < 64:
            raise HubError("Each box needs some CPU and at least 64 processes.", "Use e.g. --cpus 1 --pids 2048.")


@dataclass
class HubSecrets:
    """The room's password, the instructor's, and the hub's own secrets; kept in the state folder (mode 600)."""

    password: str
    admin_password: str
    cookie_secret: str
    proxy_token: str
    hub_port: int

    @classmethod
    def load_or_create(cls, settings: HubSettings, password: str | None = None) -> HubSecrets:
        """The secrets of this hub: read from its folder, generated the first time (never a default password)."""
        path = settings.state_dir / "secrets.json"
        found: dict = json.loads(path.read_text()) if path.exists() else {}
        if password is not None:
            if len(password) < 8:
                raise HubError("The room's password must have at least 8 characters.",
                               "Pick a longer one, or leave --password out to have one generated.")
            found["password"] = password
        made = cls(password=found.get("password") or _readable_password(),
                   admin_password=found.get("admin_password") or secrets.token_urlsafe(32),
                   cookie_secret=found.get("cookie_secret") or secrets.token_hex(32),
                   proxy_token=found.get("proxy_token") or secrets.token_hex(32),
                   hub_port=int(found.get("hub_port") or _free_port()))
        made.save(settings)
        return made

    def save(self, settings: HubSettings) -> None:
        """Write the secrets, readable by this user only."""
        settings.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = settings.state_dir / "secrets.json"
        partial = path.with_suffix(".partial")
        partial.touch(mode=0o600)
        partial.write_text(json.dumps(asdict(self), indent=1))
        partial.replace(path)


def _readable_password() -> str:
    """A room password people can read off a slide and type: 4 groups of 4 letters and digits, no look-alikes."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- the boxes' privileges, from the box's own run flags ----------------------------------------------------------

def box_host_config(form: str) -> dict:
    """The Docker API host-config keys that `docker run` derives from the box's privilege flags for ``form``.

    The box module owns the flags (`box.privilege_flags`); this adapter only translates them, so a change there
    reaches the hub, and a flag it does not know stops here with a clear error instead of being dropped.
    """
    config: dict = {}
    for flag in box.privilege_flags("docker", form):
        key, _, value = flag.lstrip("-").partition("=")
        if key == "privileged":
            config["privileged"] = True
        elif key == "cap-add":
            config.setdefault("cap_add", []).append(value)
        elif key == "cap-drop":
            config.setdefault("cap_drop", []).append(value)
        elif key == "device-cgroup-rule":
            config.setdefault("device_cgroup_rules", []).append(value)
        elif key == "cgroupns":
            config["cgroupns"] = value
        elif key == "security-opt" and value == "systempaths=unconfined":
            config["MaskedPaths"], config["ReadonlyPaths"] = [], []  # what the CLI sends for this option
        elif key == "security-opt":
            config.setdefault("security_opt", []).append(value)
        else:
            raise HubError(f"The box's run flag {flag} has no hub equivalent yet.",
                           "Add it to containerlab.engine.hub.box_host_config.")
    return config


# -- the single-user image: the course box plus jupyterhub -----------------------------------------------------------

def hub_image_present(image: str = HUB_IMAGE) -> bool:
    """True when Docker has the hub's single-user image."""
    return subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0


def _hub_wheels(box_image: str, progress: Progress) -> Path:
    """The jupyterhub wheels (this hub's version) for the box's Python, and a pip wheel to install them with."""
    version = importlib.metadata.version("jupyterhub")
    found = subprocess.run(["docker", "run", "--rm", "--network=none", "--memory=256m", "--pids-limit=64",
                            "--entrypoint=python", box_image, "-c",
                            "import platform; print(platform.python_version())"], capture_output=True, text=True)
    python = found.stdout.strip()
    if found.returncode != 0 or not python:
        raise HubError(f"Asking {box_image} for its Python version failed: {found.stderr.strip()[-200:]}",
                       "Rebuild the box with './lab box build'.")
    folder = CACHE_DIR / f"hub-wheels-{hashlib.sha256(f'{version} {python}'.encode()).hexdigest()[:16]}"
    if (folder / "requirements.txt").exists():
        return folder
    progress(f"Collecting jupyterhub {version} for the box's Python {python} (pip download)")
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    done = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
                           f"--python-version={python}", "--dest", str(partial), f"jupyterhub=={version}", "pip"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise HubError(f"pip could not download jupyterhub {version}: {done.stderr.strip().splitlines()[-1:]}",
                       "The build needs the Python package index once (later builds use the cache).")
    (partial / "requirements.txt").write_text(f"jupyterhub=={version}\n")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder


def build_hub_image(*, image: str = HUB_IMAGE, box_image: str = box.BOX_IMAGE,
                    progress: Progress = print_progress) -> str:
    """Build the hub's single-user image FROM the box image (built first when missing); its ID."""
    if not box.box_image_present("docker", box_image):
        from .connect import connect

        progress(f"The box image {box_image} is missing: building it first")
        box.build_box(connect(), image=box_image, progress=progress)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hub-build-", dir=CACHE_DIR) as work:
        context = Path(work)
        shutil.copytree(_hub_wheels(box_image, progress), context / "wheels")
        shutil.copy2(HUB_DIR / "singleuser.Dockerfile", context / "Dockerfile")
        progress(f"Building {image} FROM {box_image} (offline: the wheels are in the build context)")
        done = subprocess.run(["docker", "build", "--force-rm", "--network=none", "--memory=1g",
                               f"--build-arg=BOX_IMAGE={box_image}", f"--tag={image}", str(context)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            why = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()][-3:]
            raise HubError(f"Building {image} failed: {' | '.join(why)}",
                           "'python -m containerlab doctor' checks the engine and disk.")
    return subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", image], capture_output=True,
                          text=True).stdout.strip()


# -- the hub's own network -------------------------------------------------------------------------------------------

def ensure_hub_network(settings: HubSettings) -> str:
    """Create (once) the course's bridge network the hub's API listens on; the host's address on it."""
    found = subprocess.run(["docker", "network", "inspect", "--format", "{{json .IPAM.Config}}", settings.network],
                           capture_output=True, text=True)
    if found.returncode != 0:
        made = subprocess.run(["docker", "network", "create", "--driver=bridge",
                               *[f"--label={k}={v}" for k, v in settings.labels().items()], settings.network],
                              capture_output=True, text=True)
        if made.returncode != 0:
            raise HubError(f"Creating the network {settings.network} failed: {made.stderr.strip()}",
                           "Check the engine with 'python -m containerlab doctor'.")
        found = subprocess.run(["docker", "network", "inspect", "--format", "{{json .IPAM.Config}}",
                                settings.network], capture_output=True, text=True)
    gateways = [item.get("Gateway") for item in json.loads(found.stdout or "[]") if item.get("Gateway")]
    if not gateways:
        raise HubError(f"The network {settings.network} has no gateway address.",
                       f"Remove it ('docker network rm {settings.network}') and start the hub again.")
    return gateways[0]


def proxy_command() -> list[str]:
    """configurable-http-proxy, as `./lab hub` installed it beside the venv (npm prefix), else from PATH."""
    local = Path(sys.prefix) / "hub-proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
    if local.exists():
        return [str(local)]
    found = shutil.which("configurable-http-proxy")
    if found is None:
        raise HostToolMissingError("configurable-http-proxy (JupyterHub's proxy, from npm) is not installed.",
                                   f"'./lab hub' installs it; by hand: npm install --prefix {sys.prefix}/hub-proxy "
                                   f"{PROXY_PACKAGE}")
    return [found]


# -- the hub process ---------------------------------------------------------------------------------------------------

def _pid(settings: HubSettings) -> int | None:
    path = settings.state_dir / "hub.pid"
    try:
        pid = int(path.read_text())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def hub_running(settings: HubSettings) -> bool:
    """True when this hub's process runs."""
    return _pid(settings) is not None


def hub_command(extra: Sequence[str] = ()) -> list[str]:
    """The jupyterhub command line (its settings come from the environment; ``extra`` overrides the config)."""
    return [sys.executable, "-m", "jupyterhub", "-f", str(HUB_CONFIG), *extra]


def hub_environment(settings: HubSettings) -> dict[str, str]:
    """The hub's environment: this one plus the settings (the config reads them)."""
    return {**os.environ, **settings.to_env()}


def start_hub(settings: HubSettings, *, extra: Sequence[str] = (), timeout: float = 60) -> subprocess.Popen:
    """Start the hub in the background (log in its state folder) and wait until it answers."""
    if hub_running(settings):
        raise HubError(f"The hub {settings.name} of {settings.owner} is already running.",
                       "Stop it first: './lab hub stop'.")
    settings.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(settings.state_dir / "hub.log", "ab") as log:  # the hub keeps its own copy of the descriptor
        process = subprocess.Popen(hub_command(extra), cwd=settings.state_dir, env=hub_environment(settings),
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    (settings.state_dir / "hub.pid").write_text(str(process.pid))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise HubError(f"The hub exited at start (exit {process.returncode}): {_last_error(settings)}",
                           f"Read {settings.state_dir / 'hub.log'}.")
        try:
            with urllib.request.urlopen(settings.url + "hub/api/", timeout=2, context=_no_verify()) as answer:
                if answer.status == 200:
                    return process
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    stop_hub(settings)
    raise HubError(f"The hub did not answer on {settings.url} within {timeout:.0f} s.",
                   f"Read {settings.state_dir / 'hub.log'}.")


def _no_verify():
    import ssl

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the readiness probe of our own hub on this machine
    return context


def _last_error(settings: HubSettings) -> str:
    lines = (settings.state_dir / "hub.log").read_text(errors="replace").splitlines()
    wanted = [line for line in lines if "Error" in line or "error" in line or "[C " in line or "[E " in line]
    return (wanted or lines or ["no log"])[-1].strip()[:300]


def stop_hub(settings: HubSettings, timeout: float = 30) -> bool:
    """Stop the hub process (its proxy stops with it; the attendees' boxes keep running). True if it ran."""
    pid = _pid(settings)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            break
        _reap(pid)
        time.sleep(0.2)
    else:
        os.killpg(pid, signal.SIGKILL)
    (settings.state_dir / "hub.pid").unlink(missing_ok=True)
    return True


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


# -- what a hub made, and removing it ------------------------------------------------------------------------------

def hub_objects(settings: HubSettings, *, work: bool = True) -> dict[str, list[str]]:
    """The engine objects this hub made, by kind (containers, services, networks, volumes)."""
    label = f"--filter=label={LABEL_HUB}={settings.prefix}"
    found: dict[str, list[str]] = {}
    for kind, argv in (("containers", ["ps", "--all", "--format", "{{.Names}}"]),
                       ("networks", ["network", "ls", "--format", "{{.Name}}"]),
                       ("volumes", ["volume", "ls", "--format", "{{.Name}}"])):
        found[kind] = subprocess.run(["docker", *argv, label], capture_output=True, text=True).stdout.split()
    if not work:
        kept = set(subprocess.run(["docker", "volume", "ls", "--format", "{{.Name}}", label,
                                   f"--filter=label={LABEL_HUB_WORK}=true"], capture_output=True,
                                  text=True).stdout.split())
        found["volumes"] = [name for name in found["volumes"] if name not in kept]
    services = subprocess.run(["docker", "service", "ls", "--format", "{{.Name}}", label], capture_output=True,
                              text=True)
    found["services"] = services.stdout.split() if services.returncode == 0 else []
    return found


def leftover_cgroups(container_id: str) -> list[str]:
    """Cgroup folders on the host that still carry a container's ID (its nested engine's, too)."""
    if not container_id:
        return []
    found = []
    for pattern in (f"/sys/fs/cgroup/*/*/{container_id}*", f"/sys/fs/cgroup/*/*{container_id}*",
                    f"/sys/fs/cgroup/*/*/*{container_id}*"):
        found += glob.glob(pattern)
    return sorted(set(found))


def remove_cgroups(container_id: str) -> list[str]:
    """Remove the empty cgroup folders a box left (deepest first); those that still hold a process stay."""
    removed = []
    for top in leftover_cgroups(container_id):
        for folder, _dirs, _files in sorted(os.walk(top), key=lambda item: -item[0].count("/")):
            try:
                os.rmdir(folder)
                removed.append(folder)
            except OSError:
                pass
    return removed


def remove_hub(settings: HubSettings, *, volumes: bool = False) -> dict[str, list[str]]:
    """Stop the hub and remove its boxes, services, networks and engine volumes (with ``volumes`` the notebooks
    too, and the hub's state folder); what was removed, by kind."""
    stop_hub(settings)
    objects = hub_objects(settings, work=volumes)
    ids = subprocess.run(["docker", "inspect", "--format", "{{.Id}}", *objects["containers"]], capture_output=True,
                         text=True).stdout.split() if objects["containers"] else []
    if objects["services"]:
        subprocess.run(["docker", "service", "rm", *objects["services"]], capture_output=True)
    if objects["containers"]:
        subprocess.run(["docker", "rm", "--force", "--volumes", *objects["containers"]], capture_output=True)
    _wait_gone(settings)
    for container_id in ids:
        remove_cgroups(container_id)
    if objects["networks"]:
        subprocess.run(["docker", "network", "rm", *objects["networks"]], capture_output=True)
    if objects["volumes"]:
        subprocess.run(["docker", "volume", "rm", "--force", *objects["volumes"]], capture_output=True)
    if volumes:
        shutil.rmtree(settings.state_dir, ignore_errors=True)
    return objects


def _wait_gone(settings: HubSettings, timeout: float = 60) -> None:
    """Swarm tasks leave a moment after their service: wait for the hub's containers to go."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and hub_objects(settings)["containers"]:
        time.sleep(0.5)
