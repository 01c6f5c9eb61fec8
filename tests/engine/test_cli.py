"""The CLI for real: doctor with and without a reachable engine, setup idempotence, clean."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from containerlab.engine.lab import Lab

CLI = [sys.executable, "-m", "containerlab"]


def run_cli(*args, env=None, prefix=()):
    return subprocess.run([*prefix, *CLI, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def test_doctor_passes_with_the_engine_up(lab_images):
    result = run_cli("doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[ok]   engine" in result.stdout and "The course can run" in result.stdout


def test_doctor_json(lab_images):
    import json

    data = json.loads(run_cli("doctor", "--json").stdout)
    assert data["ok"] is True and data["facts"]["engine"]["name"] in ("docker", "podman")
    assert {c["name"] for c in data["checks"]} >= {"engine", "cgroups", "overlayfs", "disk"}


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="hiding the sockets needs root")
def test_doctor_without_a_reachable_engine_says_what_to_do():
    # A private mount namespace with empty /run and /var/run: the engine is really unreachable.
    hide = ["unshare", "--mount", "--", "sh", "-c",
            'mount -t tmpfs none /run && mount -t tmpfs none /var/run 2>/dev/null; exec "$@"', "sh"]
    result = run_cli("doctor", prefix=hide, env={"DOCKER_HOST": "", "XDG_RUNTIME_DIR": "/run/none",
                                                 "CONTAINERLAB_ENGINE": "docker"})
    assert result.returncode == 1
    assert "[FAIL] engine" in result.stdout and "No docker engine answered" in result.stdout
    assert "->" in result.stdout and "Traceback" not in result.stdout + result.stderr


def test_bad_engine_choice_is_one_line():
    result = run_cli("clean", env={"CONTAINERLAB_ENGINE": "lxc"})
    assert result.returncode == 1
    assert result.stderr.startswith("error: CONTAINERLAB_ENGINE='lxc'") and "hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_setup_skips_what_exists(lab_images):
    result = run_cli("setup")
    assert result.returncode == 0
    assert result.stdout.count("present, skipped") == 2


def test_clean_removes_one_lesson(lab_images):
    lab = Lab("test-clean", engine=lab_images)
    lab.start("containerlab/busybox", ["sleep", "300"], name="left-behind")
    result = run_cli("clean", "--lesson", "test-clean")
    assert result.returncode == 0 and "Removed 1 container(s)" in result.stdout
    assert lab.containers() == []


def test_usage_error_exits_2():
    assert run_cli("frobnicate").returncode == 2


def _system_python_same_version():
    candidate = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    return candidate if candidate.exists() else None


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv") or not _system_python_same_version(),
                    reason="needs root, setpriv and a system python of the same version")
def test_doctor_as_a_user_outside_the_docker_group(engine):
    # A real unprivileged user (nobody, no groups) against the real socket: permission denied.
    site = next(Path(sys.prefix, "lib").glob("python3*/site-packages"))
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=/tmp",
         f"PYTHONPATH={root}:{site}", "CONTAINERLAB_ENGINE=docker", str(_system_python_same_version()),
         "-m", "containerlab", "doctor"], capture_output=True, text=True, timeout=120, cwd="/tmp")
    if engine.is_podman:
        pytest.skip("the permission message is about Docker's socket")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "exists but this user may not use it" in result.stdout
    assert "root-equivalent" in result.stdout and "rootless Podman" in result.stdout


def test_docker_host_that_does_not_answer_is_not_replaced_by_the_local_engine(lab_images, tmp_path):
    """As the docker CLI: DOCKER_HOST names the one engine; the local socket that does answer is not used."""
    dead = tmp_path / "gone.sock"
    result = run_cli("doctor", env={"DOCKER_HOST": f"unix://{dead}", "CONTAINERLAB_ENGINE": ""})
    assert result.returncode == 1
    assert f"The engine chosen by DOCKER_HOST=unix://{dead} does not answer" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_the_current_docker_context_is_followed(lab_images, tmp_path):
    """A context made as `docker context create` makes it (here: this machine's engine under another path)."""
    import hashlib
    import json

    if not lab_images.base_url.startswith("unix://"):
        pytest.skip("the engine is not on a unix socket")
    alias = tmp_path / "engine.sock"
    alias.symlink_to(lab_images.base_url.removeprefix("unix://"))
    config = tmp_path / "docker-config"
    meta = config / "contexts" / "meta" / hashlib.sha256(b"course-vm").hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({"Name": "course-vm", "Metadata": {},
                                                "Endpoints": {"docker": {"Host": f"unix://{alias}"}}}))
    (config / "config.json").write_text(json.dumps({"currentContext": "course-vm"}))
    result = run_cli("doctor", "--json", env={"DOCKER_CONFIG": str(config), "DOCKER_HOST": "", "DOCKER_CONTEXT": "",
                                               "CONTAINERLAB_ENGINE": ""})
    facts = json.loads(result.stdout)["facts"]["engine"]
    assert facts["base_url"] == f"unix://{alias}", result.stdout[-500:]
