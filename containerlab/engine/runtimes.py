"""Host side of lesson 07: OCI bundles run by runc/crun with no daemon, start-up timings, Podman's CLI.

Every low-level container gets a unique ID that starts with the lab's prefix and is deleted in a
``finally``; runc and crun keep their state under /run/containerlab so `cleanup_runtimes` finds
anything a crash left. Podman is driven through its own CLI here (rootful as root, rootless as an
ordinary user through runuser): the point of the lesson is that no daemon sits between.
The config.json editing itself is pure: ``containerlab.runtime.spec``.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import statistics
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import HostToolMissingError, LabError
from ..kernel.process import read_process
from ..runtime.spec import dump_spec, edit_spec, load_spec
from .images import BUSYBOX_IMAGE
from .lab import LABEL_LESSON, LABEL_OWNER, Lab, RunResult
from .overlay import export_rootfs, remove_workdir, reset_workdir, workdir_for

__all__ = ["STATE_ROOT", "RUNTIMES", "ORDINARY_USER", "Bundle", "Timing", "runtime_path",
           "runtime_version", "make_bundle", "run_bundle", "runtime_containers", "cleanup_runtimes",
           "time_command", "measure_startup", "podman_ready", "podman", "ensure_podman_image", "podman_start",
           "podman_remove_lab", "parent_chain", "daemon_processes", "ordinary_user", "rootless_podman",
           "unique_id", "id_prefix", "apptainer_demo"]

STATE_ROOT = Path("/run/containerlab")
RUNTIMES = ("runc", "crun")
ORDINARY_USER = "clabuser"
RUN_LIMITS = ("--network=none", "--memory=64m", "--pids-limit=64")
UNSHARE_FIVE = ["unshare", "--pid", "--fork", "--mount", "--uts", "--ipc", "--net"]
STACKS = {
    "docker": "docker CLI → dockerd → containerd → containerd-shim → runc",
    "podman": "podman CLI → conmon → runc (no daemon in between)",
    "runc": "runc alone: namespaces, a cgroup, pivot_root, exec",
    "unshare": "unshare: five new namespaces and exec, nothing else",
}


# -- low-level runtimes ---------------------------------------------------------------------------

def runtime_path(name: str) -> str | None:
    """Where the runtime binary is (PATH, then /usr/sbin), or None."""
    found = shutil.which(name)
    if found:
        return found
    return next((p for p in (f"/usr/sbin/{name}", f"/sbin/{name}", f"/usr/bin/{name}") if os.path.exists(p)), None)


def _require_runtime(name: str) -> str:
    path = runtime_path(name)
    if path is None:
        raise HostToolMissingError(f"The low-level runtime {name} is not installed.",
                                   f"Install it with 'sudo apt-get install -y {name}'.")
    return path


def runtime_version(name: str) -> str:
    """The first line of `<runtime> --version` ('' when not installed)."""
    path = runtime_path(name)
    if path is None:
        return ""
    done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    return (done.stdout.splitlines() or [""])[0]


def id_prefix(lab: Lab) -> str:
    """What every container ID and name of this lab starts with."""
    return lab.name_for("x")[:-1]


def unique_id(lab: Lab, label: str) -> str:
    """A container ID no other run uses: the lab's name for ``label`` plus a random suffix."""
    return f"{lab.name_for(label)}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Bundle:
    """An OCI bundle: a directory with config.json and the root filesystem it names."""

    path: Path

    @property
    def config(self) -> Path:
        return self.path / "config.json"

    @property
    def rootfs(self) -> Path:
        return self.path / "rootfs"

    def read_spec(self) -> dict[str, Any]:
        """config.json as a dict."""
        return load_spec(self.config.read_text())

    def write_spec(self, spec: Mapping[str, Any]) -> None:
        """Replace config.json."""
        self.config.write_text(dump_spec(spec))


def make_bundle(lab: Lab, name: str = "bundle", image: str = BUSYBOX_IMAGE) -> Bundle:
    """A fresh bundle in the lesson's work dir: the image's files exported to rootfs/, `runc spec`'s config."""
    runc = _require_runtime("runc")
    path = reset_workdir(workdir_for(lab) / name)
    export_rootfs(lab, path / "rootfs", image)
    done = subprocess.run([runc, "spec", "--bundle", str(path)], capture_output=True, text=True, timeout=10)
    if done.returncode != 0:
        raise LabError(f"runc spec failed: {done.stderr.strip()}", "Check that runc works: 'runc --version'.")
    return Bundle(path)


def _state_dir(runtime: str) -> str:
    path = STATE_ROOT / runtime
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return str(path)


def _delete(runtime: str, container_id: str) -> None:
    subprocess.run([_require_runtime(runtime), "--root", _state_dir(runtime), "delete", "--force", container_id],
                   capture_output=True, timeout=30)


def run_bundle(lab: Lab, bundle: Bundle, *, runtime: str = "runc", label: str = "run",
               timeout: float = 20) -> RunResult:
    """`<runtime> run` the bundle in the foreground (no daemon, no terminal); always deleted after."""
    path = _require_runtime(runtime)
    if bundle.read_spec().get("process", {}).get("terminal"):
        bundle.write_spec(edit_spec(bundle.read_spec(), terminal=False))
    container_id = unique_id(lab, label)
    started = time.perf_counter()
    try:
        done = subprocess.run([path, "--root", _state_dir(runtime), "run", "--bundle", str(bundle.path),
                               container_id], capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise LabError(f"{runtime} run {label} ran longer than {timeout:g} s and was stopped.",
                       "Make the command in config.json finish, or pass a larger timeout=.") from None
    finally:
        _delete(runtime, container_id)
    return RunResult(done.returncode, done.stdout + done.stderr, f"{runtime} {container_id}",
                     time.perf_counter() - started, stderr=done.stderr)


def runtime_containers(runtime: str, prefix: str = "") -> list[dict[str, Any]]:
    """The containers a runtime knows under /run/containerlab (optionally only IDs starting with prefix)."""
    path = runtime_path(runtime)
    if path is None or not (STATE_ROOT / runtime).exists():
        return []
    done = subprocess.run([path, "--root", str(STATE_ROOT / runtime), "list", "--format", "json"],
                          capture_output=True, text=True, timeout=10)
    try:
        listed = json.loads(done.stdout or "[]") or []
    except ValueError:
        return []
    return [c for c in listed if str(c.get("id", "")).startswith(prefix)]


def cleanup_runtimes(lab: Lab) -> int:
    """Delete the lab's leftover runc/crun containers and its work dir; returns how many containers."""
    prefix = id_prefix(lab)
    removed = 0
    for runtime in RUNTIMES:
        for container in runtime_containers(runtime, prefix):
            _delete(runtime, container["id"])
            removed += 1
    remove_workdir(workdir_for(lab))
    return removed


# -- start-up time ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Timing:
    """Start-up times of one way to run the container; ``median`` in seconds."""

    label: str
    samples: tuple[float, ...]
    detail: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def time_command(argv: Sequence[str], runs: int = 5, timeout: float = 30) -> tuple[float, ...]:
    """Wall-clock seconds of ``runs`` runs of a host command; a failing run raises LabError."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        samples.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise LabError(f"'{' '.join(argv[:3])} ...' failed: {(done.stderr or done.stdout).strip()[-200:]}",
                           "Run the command by hand to see why.")
    return tuple(samples)


def _engine_argv(cli: str, lab: Lab, image: str) -> list[str]:
    labels = [f"--label={key}={value}" for key, value in lab.labels().items()]
    return [cli, "run", "--rm", *RUN_LIMITS, *labels, image, "true"]


def _docker_cli_ready() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "version"], capture_output=True, timeout=20).returncode == 0


def measure_startup(lab: Lab, bundle: Bundle, runs: int = 5, image: str = BUSYBOX_IMAGE
                    ) -> tuple[list[Timing], list[str]]:
    """Time `true` in the same busybox container through docker, podman, runc and plain unshare.

    Returns the timings (those that could run) and one line per way that was skipped, and why.
    """
    timings: list[Timing] = []
    skipped: list[str] = []
    if _docker_cli_ready():
        timings.append(Timing("docker", time_command(_engine_argv("docker", lab, image), runs), STACKS["docker"]))
    else:
        skipped.append("docker: no Docker daemon answers the docker CLI here")
    if shutil.which("podman"):  # no `podman info` first (a second of its own): a Podman that fails says so here
        try:
            ensure_podman_image(lab, image)
            timings.append(Timing("podman", time_command(_engine_argv("podman", lab, image), runs),
                                  STACKS["podman"]))
        except LabError as err:
            skipped.append(f"podman: not working here ({err.message})")
    else:
        skipped.append("podman: not installed here")
    spec = bundle.read_spec()
    bundle.write_spec(edit_spec(spec, args=["true"], terminal=False))
    try:
        samples = tuple(run_bundle(lab, bundle, label="timing").seconds for _ in range(runs))
    finally:
        bundle.write_spec(spec)
    timings.append(Timing("runc", samples, STACKS["runc"]))
    timings.append(Timing("unshare", time_command(UNSHARE_FIVE + ["true"], runs), STACKS["unshare"]))
    return timings, skipped


# -- Podman through its own CLI ----------------------------------------------------------------------

def _as_user(argv: list[str], user: str | None) -> tuple[list[str], dict[str, str] | None]:
    if user is None:
        return argv, None
    entry = pwd.getpwnam(user)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": entry.pw_dir, "USER": user,
           "LOGNAME": user}
    return ["runuser", "-u", user, "--", *argv], env


def podman(args: Sequence[str], *, user: str | None = None, timeout: float = 60,
           stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run the podman CLI (as root, or as ``user`` through runuser); never raises for a failed command."""
    argv, env = _as_user(["podman", *args], user)
    return subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout, env=env, cwd="/")


# Users (None: root) whose Podman answered `podman info` in this process: asked once, since it takes about a second.
_PODMAN_ANSWERED: set[str | None] = set()


def podman_ready(user: str | None = None) -> bool:
    """True when the podman CLI is installed and answers (for ``user`` when given).

    A yes is remembered for the process (`podman info` sets up storage and the runtime: about a second each time);
    a no is asked again, so that a Podman installed meanwhile is found.
    """
    if not shutil.which("podman"):
        return False
    if user in _PODMAN_ANSWERED:
        return True
    if podman(["info", "--format", "{{.Host.OCIRuntime.Name}}"], user=user, timeout=60).returncode != 0:
        return False
    _PODMAN_ANSWERED.add(user)
    return True


def ensure_podman_image(lab: Lab, image: str = BUSYBOX_IMAGE, user: str | None = None) -> bool:
    """Make ``image`` present in Podman's store (root's, or ``user``'s); True when it had to be copied.

    Engines keep separate stores: the image is copied from the lab's engine (`docker save`), or from
    root's Podman store for an ordinary user (`podman save`), into `podman load`.
    """
    if podman(["image", "exists", image], user=user).returncode == 0:
        return False
    if user is not None and podman(["image", "exists", image]).returncode == 0:
        archive = podman(["save", image], timeout=120).stdout
    else:
        archive = b"".join(lab.engine.client.api.get_image(image))
    loaded = podman(["load"], user=user, stdin=archive, timeout=180)
    if loaded.returncode != 0:
        raise LabError(f"podman load of {image} failed: {loaded.stderr.decode(errors='replace').strip()[-200:]}",
                       "Run 'podman load' by hand to see why.")
    return True


def podman_start(lab: Lab, short_name: str, command: Sequence[str], image: str = BUSYBOX_IMAGE) -> str:
    """`podman run -d` a labelled, limited container (replacing our old one); returns its name."""
    name = lab.name_for(short_name)
    podman(["rm", "--force", "--time", "0", name])
    labels = [f"--label={key}={value}" for key, value in lab.labels().items()]
    done = podman(["run", "--detach", f"--name={name}", *RUN_LIMITS, *labels, image, *command])
    if done.returncode != 0:
        raise LabError(f"podman run failed: {done.stderr.decode(errors='replace').strip()[-200:]}",
                       "Run the same podman command by hand to see why.")
    return name


def podman_remove_lab(lab: Lab, user: str | None = None) -> int:
    """Remove every Podman container with this lab's labels (root's store, or ``user``'s)."""
    if not shutil.which("podman"):
        return 0
    listed = podman(["ps", "--all", "--quiet", f"--filter=label={LABEL_LESSON}={lab.lesson}",
                     f"--filter=label={LABEL_OWNER}={lab.owner}"], user=user)
    ids = listed.stdout.decode().split()
    if ids:
        podman(["rm", "--force", "--time", "0", *ids], user=user)
    return len(ids)


def parent_chain(pid: int, depth: int = 4) -> list[str]:
    """The names of a process's parents on the host, nearest first (stops at PID 1)."""
    names = []
    for _ in range(depth):
        status = read_process(pid)
        if status.ppid <= 0:
            break
        parent = read_process(status.ppid)
        names.append(parent.name)
        if parent.pid == 1:
            break
        pid = parent.pid
    return names


def daemon_processes(names: Sequence[str] = ("dockerd", "containerd", "podman")) -> dict[str, int]:
    """How many host processes run each of ``names`` (by their command name)."""
    counts = dict.fromkeys(names, 0)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                name = Path(f"/proc/{entry}/comm").read_text().strip()
            except OSError:
                continue
            if name in counts:
                counts[name] += 1
    return counts


def ordinary_user(name: str = ORDINARY_USER) -> str | None:
    """``name`` when that user exists and has subordinate uids (rootless Podman needs them), else None."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        return None
    try:
        ranges = Path("/etc/subuid").read_text().splitlines()
    except OSError:
        return None
    return name if any(line.split(":")[0] == name for line in ranges) else None


def rootless_podman(lab: Lab, command: Sequence[str], user: str, image: str = BUSYBOX_IMAGE,
                    timeout: float = 60, options: Sequence[str] = (), check: bool = True) -> str:
    """Run ``command`` in a rootless Podman container as ``user`` (no network, plus ``options``); return its
    output (with ``check=False`` also when it fails, its error output after the rest)."""
    ensure_podman_image(lab, image, user=user)
    labels = [f"--label={key}={value}" for key, value in lab.labels().items()]
    # On a cgroup v1 host rootless Podman ignores the limits (and says so on stderr); on v2 they hold.
    done = podman(["run", "--rm", *RUN_LIMITS, *options, *labels, image, *command], user=user, timeout=timeout)
    if done.returncode != 0 and check:
        raise LabError(f"rootless podman run as {user} failed: {done.stderr.decode(errors='replace').strip()[-200:]}",
                       f"Try 'runuser -u {user} -- podman run --rm --network=none {image} true' by hand.")
    if done.returncode != 0:
        errors = [line for line in done.stderr.decode(errors="replace").splitlines() if "cgroup" not in line]
        return done.stdout.decode(errors="replace") + "\n".join(errors)
    return done.stdout.decode(errors="replace")


def apptainer_demo(lab: Lab, apptainer: str, user: str | None, image: str = BUSYBOX_IMAGE) -> list[str]:
    """Build a SIF from the image's `docker save` archive, run `id -u` and `$HOME` in it; facts as lines.

    Runs as ``user`` when given (Apptainer keeps the caller's uid inside), else as the current user.
    """
    work = reset_workdir(workdir_for(lab) / "apptainer")
    os.chmod(work, 0o755)
    archive, sif = work / "busybox.tar", work / "busybox.sif"
    with open(archive, "wb") as out:
        for chunk in lab.engine.client.api.get_image(image):
            out.write(chunk)
    built = subprocess.run([apptainer, "build", str(sif), f"docker-archive:{archive}"], capture_output=True,
                           text=True, timeout=300, cwd=work)
    if built.returncode != 0:
        return [f"apptainer build failed: {built.stderr.strip()[-200:]}"]
    os.chmod(sif, 0o644)
    probe = 'id -u; echo "$HOME"; test -d "$HOME" && echo bound'
    argv, env = _as_user([apptainer, "exec", str(sif), "sh", "-c", probe],
                         user)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, cwd="/")
    lines = done.stdout.split()
    uid_outside = pwd.getpwnam(user).pw_uid if user else os.getuid()
    home_outside = pwd.getpwnam(user).pw_dir if user else str(Path.home())
    return [f"a SIF is one file: {sif.exists() and sif.is_file()}",
            f"the uid inside is the uid outside: {bool(lines) and lines[0] == str(uid_outside)}",
            f"the home directory is bound in: {lines[1:3] == [home_outside, 'bound']}"]
