"""The whole course as the two ordinary users a learner may be on Linux, each on this machine's real engine.

- **rootless Podman**: `clabrootless`, not root and not in the docker group, with subordinate uids and Podman's
  overlay storage (RHEL 8's default; Debian's Podman 4.3 falls back to the slow vfs driver without that line). This
  machine mixes cgroup v1 and v2, so rootless Podman can enforce no limit: exactly the RHEL/Alma/Rocky 8 case.
  Lesson 00 builds (or finds) the lab images in that user's own storage; the cells about a limit show their
  recorded result; the fork bomb never runs.
- **the docker group**: `clabdocker` (created here, as `./lab test` does), on the machine's rootful Docker.

Both run every notebook under nbval-lax (no cell may fail) at the same time, each as its own owner; a plugin
(`nbval_outputs`) hands back what each cell printed, so the one-line skips and the recorded results are
checked too. The cells that need root say so in one line. Everything the runs made is removed at the end.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
from course_runs import LAB_ERROR_SHOWN, lesson_files

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
SITE_PACKAGES = next(Path(sys.prefix, "lib").glob("python3*/site-packages"), None)
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"
ROOTLESS_USER = "clabrootless"
DOCKER_GROUP_USER = "clabdocker"
OVERLAY_STORAGE = '[storage]\ndriver = "overlay"\n'   # what ./lab writes for it too
OWNER_PREFIX = os.environ.get("CONTAINERLAB_OWNER", "pytest")
RECORDED = "\N{FISHEYE} Recorded on "
LIMIT_CELLS = ("reading a container's cgroup from the host", "watching the OOM killer", "measuring a CPU quota",
               "containing a fork bomb", "plotting a container's usage live")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    os.geteuid() != 0 or not os.path.exists(RUNUSER) or not SYSTEM_PYTHON.exists() or SITE_PACKAGES is None,
    reason="needs root (to become ordinary users), runuser and the system Python")]


@dataclass
class Learner:
    """One ordinary user and the engine they use."""

    user: str
    engine: str
    owner: str

    @property
    def home(self) -> str:
        return pwd.getpwnam(self.user).pw_dir

    def env(self, **extra: str) -> dict[str, str]:
        """A login-like environment for the user, with the course importable from this checkout."""
        return {"HOME": self.home, "USER": self.user, "LOGNAME": self.user, "LANG": "C.UTF-8",
                "PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": f"{ROOT}:{ROOT / 'tests/system'}:{SITE_PACKAGES}",
                "CONTAINERLAB_ENGINE": self.engine, "CONTAINERLAB_OWNER": self.owner, **extra}

    def command(self, *args: str) -> list[str]:
        return [RUNUSER, "-u", self.user, "--", str(SYSTEM_PYTHON), *args]


def _ensure_user(name: str, *, groups: tuple[str, ...] = (), subordinate: bool = False) -> None:
    """The user exists (as ./lab test makes it), in ``groups``, with subordinate ids and overlay storage when asked."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "-m", name], check=True)
        if subordinate:
            config = Path(pwd.getpwnam(name).pw_dir) / ".config" / "containers"
            config.mkdir(parents=True)
            (config / "storage.conf").write_text(OVERLAY_STORAGE)
            subprocess.run(["chown", "-R", f"{name}:", str(config.parent)], check=True)
    for group in groups:
        if name not in grp.getgrnam(group).gr_mem:
            subprocess.run(["usermod", "-aG", group, name], check=True)
    if subordinate:
        for path, flag in (("/etc/subuid", "--add-subuids"), ("/etc/subgid", "--add-subgids")):
            if not any(line.startswith(f"{name}:") for line in Path(path).read_text().splitlines()):
                subprocess.run(["usermod", flag, "300000-365535", name], check=True)


def _podman_services(uid: int) -> set[int]:
    """PIDs of `podman system service` processes of this user."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid \
                    and b"system\0service" in (entry / "cmdline").read_bytes():
                found.add(int(entry.name))
        except OSError:
            pass
    return found


def _learners() -> list[Learner]:
    found = []
    if shutil.which("podman"):
        found.append(Learner(ROOTLESS_USER, "podman", f"{OWNER_PREFIX}-rootless"))
    if shutil.which("docker") and subprocess.run(["docker", "version"], capture_output=True).returncode == 0:
        found.append(Learner(DOCKER_GROUP_USER, "docker", f"{OWNER_PREFIX}-docker-group"))
    return found


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _text(record: dict) -> str:
    parts = []
    for output in record["outputs"]:
        for value in (output.get("text", ""), (output.get("data") or {}).get("text/plain", "")):
            parts.append("".join(value) if isinstance(value, list) else str(value))
    return "\n".join(parts)


def _clean(learner: Learner) -> None:
    subprocess.run(learner.command("-m", "containerlab", "clean", "--owner", learner.owner, "--images"),
                   env=learner.env(), cwd="/", capture_output=True, timeout=300)
    subprocess.run(learner.command("-m", "containerlab", "registry", "stop", "--owner", learner.owner),
                   env=learner.env(), cwd="/", capture_output=True, timeout=120)


def _leftovers(learner: Learner) -> str:
    script = ("import containerlab.engine.connect as c, sys; sys.path.insert(0, 'tests/system');"
              "from course_runs import engine_leftovers; print(engine_leftovers(c.connect(), sys.argv[1]))")
    done = subprocess.run(learner.command("-c", script, learner.owner), env=learner.env(), cwd=str(ROOT),
                          capture_output=True, text=True, timeout=120)
    return done.stdout.strip() + done.stderr[-500:]


def test_every_notebook_runs_for_a_rootless_podman_user_and_a_docker_group_user(engine):
    learners = _learners()
    if not learners:
        pytest.skip("neither rootless Podman nor a Docker daemon here")
    _ensure_user(ROOTLESS_USER, subordinate=True)
    _ensure_user(DOCKER_GROUP_USER, groups=("docker",))
    notebooks = [str(path.relative_to(ROOT)) for path in lesson_files()]
    scratch = Path(tempfile.mkdtemp(prefix="containerlab-users-"))
    scratch.chmod(0o755)   # each user writes its own file in it
    services_before = _podman_services(pwd.getpwnam(ROOTLESS_USER).pw_uid)
    runs: dict[str, tuple[subprocess.Popen, Path, float]] = {}
    try:
        for learner in learners:
            outputs = scratch / f"{learner.user}.jsonl"
            outputs.touch()
            shutil.chown(outputs, learner.user)
            log = open(scratch / f"{learner.user}.log", "wb")  # noqa: SIM115 - closed when the run ends
            command = learner.command("-m", "pytest", "-p", "no:cacheprovider", "-p", "nbval_outputs", "--nbval-lax",
                                      "-q", *notebooks)
            runs[learner.user] = (subprocess.Popen(command, env=learner.env(NBVAL_OUTPUTS=str(outputs)),
                                                   cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT,
                                                   start_new_session=True),
                                  outputs, time.monotonic())
        for learner in learners:
            process, outputs, started = runs[learner.user]
            process.wait(timeout=3000)
            log = (scratch / f"{learner.user}.log").read_text(errors="replace")
            records = _records(outputs)
            took = _per_notebook(records, started)
            print(f"{learner.user} ({learner.engine}): {sum(s for _, s in took):.0f} s; "
                  + ", ".join(f"{name[:2]} {seconds:.0f} s" for name, seconds in took))
            assert process.returncode == 0, f"{learner.user}: nbval-lax failed\n{log[-4000:]}"
            _check_run(learner, records, notebooks)
            assert _leftovers(learner) == "[]", f"{learner.user} left: {_leftovers(learner)}"
    finally:
        for process, _outputs, _started in runs.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)   # runuser and the user's pytest: their own session
                process.wait()
        for learner in learners:
            _clean(learner)
        for pid in _podman_services(pwd.getpwnam(ROOTLESS_USER).pw_uid) - services_before:
            try:
                os.kill(pid, signal.SIGTERM)   # the API service the package started for this run
            except ProcessLookupError:
                pass
        shutil.rmtree(scratch, ignore_errors=True)


def _per_notebook(records: list[dict], started: float) -> list[tuple[str, float]]:
    """How long each notebook took, from when its last cell finished."""
    last: dict[str, float] = {}
    for record in records:
        last[record["notebook"]] = record["finished"]
    times, previous = [], started
    for name, finished in last.items():
        times.append((name, finished - previous))
        previous = finished
    return times


def _check_run(learner: Learner, records: list[dict], notebooks: list[str]) -> None:
    by_notebook: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        by_notebook[record["notebook"]].append(record)
    assert sorted(by_notebook) == sorted(Path(n).name for n in notebooks), "a notebook did not run"
    text = {name: "\n".join(_text(r) for r in cells) for name, cells in by_notebook.items()}
    for name, printed in text.items():
        assert "Traceback" not in printed, f"{learner.user}: {name} printed a traceback"
        shown = LAB_ERROR_SHOWN.search(printed)
        assert not shown, f"{learner.user}: {name} showed a LabError: {shown and shown.group(1)}"
        assert "no container engine" not in printed, f"{learner.user}: {name} found no engine"
        for line in printed.splitlines():
            if line.startswith("Skipped:") and " needs " in line:   # ready_for's line: what, needs, and why not
                assert line.endswith("here)."), f"{learner.user}: {name}: a skip must say why in one line: {line}"
    setup = next(_text(r) for r in by_notebook["00-lab-check.ipynb"] if "cl.setup()" in r["source"])
    for image in ("containerlab/busybox", "containerlab/debian"):
        assert re.search(rf"^{image}: (present|built)", setup, re.M), f"{learner.user}: 00 did not build {image}"
    root_skips = [line for printed in text.values() for line in printed.splitlines()
                  if line.startswith("Skipped:") and "(not root here)" in line]
    assert root_skips, "the cells that need root said nothing"
    cgroups = by_notebook["03-cgroups.ipynb"]
    limit_cells = [r for r in cgroups if any(task in r["source"] for task in LIMIT_CELLS)]
    assert len(limit_cells) == len(LIMIT_CELLS)
    if learner.engine == "podman":
        # rootless on cgroup v1: nothing to measure; said in one line, and the recorded result shown as such
        assert "cannot enforce memory, CPU or pids limits" in text["00-lab-check.ipynb"]
        for record in limit_cells:
            printed = _text(record)
            assert re.search(r"^Skipped: .* \(rootless Podman on cgroup v1 cannot enforce .* here\)\.$", printed, re.M)
            assert RECORDED in printed, f"no recorded result in: {record['source'][:80]}"
        bomb = next(r for r in limit_cells if "fork bomb" in r["source"])
        assert not re.search(r"^pids\.max:", _text(bomb), re.M), "the fork bomb must not run here"
    else:
        for record in limit_cells:
            assert "Skipped:" not in _text(record) and RECORDED not in _text(record), record["source"][:80]
        assert "pids.current reached the max and never went past it: True" in _text(
            next(r for r in limit_cells if "fork bomb" in r["source"]))
