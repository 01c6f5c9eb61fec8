"""`.ci/run` runs every part even when one fails, and fails at the end naming the failed parts."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _ci_copy(tmp_path: Path, failing_engine: str) -> Path:
    """A copy of the repository's .ci/run beside a stand-in ./lab that records its calls and fails for one engine."""
    (tmp_path / ".ci").mkdir()
    shutil.copy(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    (tmp_path / "notebooks").mkdir()
    for path in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"):  # every lesson the script names
        (tmp_path / "notebooks" / f"{path.name[:2]}-lesson.ipynb").write_text("{}")
    lab = tmp_path / "lab"
    lab.write_text('#!/usr/bin/env bash\necho "$CONTAINERLAB_ENGINE $*" >> calls.log\n'
                   f'[ "$CONTAINERLAB_ENGINE" != {failing_engine} ]\n')
    lab.chmod(0o755)
    return tmp_path


def _run(directory: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "CONTAINERLAB_ENGINE"}
    return subprocess.run(["bash", str(directory / ".ci" / "run")], cwd=directory, env=env,
                          capture_output=True, text=True, timeout=60)


def test_a_failed_docker_part_still_runs_the_podman_parts_and_fails_at_the_end(tmp_path):
    directory = _ci_copy(tmp_path, failing_engine="docker")
    done = _run(directory)
    calls = (directory / "calls.log").read_text().splitlines()
    assert [call.split()[0] for call in calls] == ["docker", "podman", "podman"], calls
    assert done.returncode == 1
    assert "CI FAILED in 1 part(s)" in done.stdout and "docker: ./lab test" in done.stdout.split("CI FAILED")[1]


def test_every_part_passing_passes(tmp_path):
    directory = _ci_copy(tmp_path, failing_engine="none")
    done = _run(directory)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "CI passed: every part" in done.stdout
    assert len((directory / "calls.log").read_text().splitlines()) == 3
