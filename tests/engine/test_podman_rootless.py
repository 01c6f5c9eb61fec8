"""Rootless Podman as an ordinary user: root inside is the user outside, and the engine layer knows it is rootless.

As root, the test makes sure the ordinary user `clabuser` exists with subordinate uids (./lab test creates it
too), then runs Podman as that user through runuser, and the course's own package with the system Python.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from containerlab.engine.lab import Lab
from containerlab.engine.runtimes import ORDINARY_USER, ensure_podman_image, podman_ready, rootless_podman
from containerlab.runtime.spec import parse_id_map

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
SITE_PACKAGES = next((ROOT / ".venv" / "lib").glob("python3*/site-packages"), None) \
    if (ROOT / ".venv" / "lib").exists() else None

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("runuser") or not podman_ready(),
                                reason="needs root (to become an ordinary user), runuser and podman")


def _subordinate_start(user: str, path: str = "/etc/subuid") -> int:
    for line in Path(path).read_text().splitlines():
        name, start, _count = line.split(":")
        if name == user:
            return int(start)
    raise AssertionError(f"{user} has no range in {path}")


@pytest.fixture(scope="module")
def user() -> str:
    try:
        pwd.getpwnam(ORDINARY_USER)
    except KeyError:
        subprocess.run(["useradd", "-m", ORDINARY_USER], check=True)
    for path, flag in (("/etc/subuid", "--add-subuids"), ("/etc/subgid", "--add-subgids")):
        if not any(line.startswith(f"{ORDINARY_USER}:") for line in Path(path).read_text().splitlines()):
            subprocess.run(["usermod", flag, "200000-265535", ORDINARY_USER], check=True)
    yield ORDINARY_USER
    _stop_user_services(pwd.getpwnam(ORDINARY_USER).pw_uid)


def _stop_user_services(uid: int) -> None:
    """Stop the `podman system service` the package started for the user during these tests."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid == uid and b"system\0service" in (entry / "cmdline").read_bytes():
                os.kill(int(entry.name), signal.SIGTERM)
        except (OSError, ProcessLookupError):
            pass


@pytest.fixture
def lab(lab_images):
    session = Lab("test-rootless", engine=lab_images)
    yield session
    session.cleanup()


def test_root_inside_is_the_user_outside(lab, user):
    uid_map = parse_id_map(rootless_podman(lab, ["cat", "/proc/self/uid_map"], user))
    entry = pwd.getpwnam(user)
    assert uid_map[0].inside == 0 and uid_map[0].outside == entry.pw_uid and uid_map[0].count == 1
    assert uid_map[1].inside == 1 and uid_map[1].outside == _subordinate_start(user)
    assert rootless_podman(lab, ["id", "-u"], user).strip() == "0"


ENGINE_SCRIPT = """
import json, os
import containerlab as cl
from containerlab.engine.connect import connect
engine = connect()
lab = cl.Lab("test-rootless-api", owner="pytest")
out = lab.run("containerlab/busybox", ["cat", "/proc/self/uid_map"], network_mode="none")
skipped = lab.ready_for("engine", "root", task="a root lesson")
print(json.dumps({"name": engine.name, "rootless": engine.rootless, "uid_map": out.output,
                  "ready_for_root": skipped, "uid": os.getuid()}))
lab.cleanup()
"""


@pytest.mark.skipif(not SYSTEM_PYTHON.exists() or SITE_PACKAGES is None,
                    reason="needs the system Python (the ordinary user cannot use root's interpreter)")
def test_the_engine_layer_recognises_rootless_podman(lab, user):
    ensure_podman_image(lab, user=user)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": pwd.getpwnam(user).pw_dir, "USER": user,
           "PYTHONPATH": f"{ROOT}:{SITE_PACKAGES}", "CONTAINERLAB_ENGINE": "podman"}
    runuser = shutil.which("runuser")
    done = subprocess.run([runuser, "-u", user, "--", str(SYSTEM_PYTHON), "-c", ENGINE_SCRIPT], env=env, cwd="/",
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    facts = json.loads(lines[-1])
    assert facts["name"] == "podman" and facts["rootless"] is True
    assert parse_id_map(facts["uid_map"])[0].to_host(0) == facts["uid"] == pwd.getpwnam(user).pw_uid
    assert facts["ready_for_root"] is False
    assert any(line.startswith("Skipped: a root lesson needs engine and root (not root here)") for line in lines)
    doctor = subprocess.run([runuser, "-u", user, "--", str(SYSTEM_PYTHON), "-m", "containerlab", "doctor"],
                            env=env, cwd="/", capture_output=True, text=True, timeout=120)
    assert "rootless: containers run as your user" in doctor.stdout


BUILD_SCRIPT = """
import json, sys
from containerlab.engine.connect import connect
from containerlab.engine.images import build_from_context
engine = connect()
tag = "containerlab/" + sys.argv[1] + "-rootless-build:latest"
files = {"Dockerfile": b"FROM containerlab/busybox\\nRUN echo built in a RUN step > /built\\nCMD cat /built\\n"}
image = build_from_context(engine, tag, files, print, {"containerlab.lesson": "test-rootless", "containerlab.owner": sys.argv[1]})
engine.client.api.remove_image(tag)
print(json.dumps({"limits": sorted(engine.limits), "image": image}))
"""


@pytest.mark.skipif(not SYSTEM_PYTHON.exists() or SITE_PACKAGES is None,
                    reason="needs the system Python (the ordinary user cannot use root's interpreter)")
def test_a_rootless_build_runs_its_run_steps_where_no_limit_can_be_set(lab, user):
    """The issue: on cgroup v1, a rootless build given a memory limit failed at its first RUN step."""
    ensure_podman_image(lab, user=user)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": pwd.getpwnam(user).pw_dir, "USER": user,
           "PYTHONPATH": f"{ROOT}:{SITE_PACKAGES}", "CONTAINERLAB_ENGINE": "podman"}
    runuser = shutil.which("runuser")
    done = subprocess.run([runuser, "-u", user, "--", str(SYSTEM_PYTHON), "-c", BUILD_SCRIPT, lab.owner], env=env,
                          cwd="/", capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    assert facts["image"]
    cgroup_v1_only = not Path("/sys/fs/cgroup/cgroup.controllers").exists()
    if cgroup_v1_only:
        assert facts["limits"] == [], "rootless Podman on cgroup v1 cannot enforce any limit"
    assert "STEP 2/5: RUN echo built in a RUN step" in done.stdout
    doctor = subprocess.run([runuser, "-u", user, "--", str(SYSTEM_PYTHON), "-m", "containerlab", "doctor"],
                            env=env, cwd="/", capture_output=True, text=True, timeout=120)
    if cgroup_v1_only:
        assert "[warn] limits" in doctor.stdout
        assert "lesson 03 shows them only on a rootful engine or in the course box" in doctor.stdout
