"""environment.yml, binder/environment.yml and pyproject.toml agree; Binder's files follow repo2docker."""

import os
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return set(project["dependencies"]) | set(project["optional-dependencies"]["test"])


def conda_pip_requirements(path: Path) -> tuple[str, set[str]]:
    env = yaml.safe_load(path.read_text())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return python, {req for req in pip if not req.startswith("-e")}


def test_both_environments_pin_what_pyproject_requires():
    wanted = pyproject_requirements()
    local_python, local = conda_pip_requirements(ROOT / "environment.yml")
    binder_python, binder = conda_pip_requirements(ROOT / "binder" / "environment.yml")
    assert local == wanted and binder == wanted
    assert local_python == binder_python
    minimum = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert tuple(map(int, local_python.split("=")[1].split("."))) >= tuple(map(int, minimum.lstrip(">=").split(".")))


def test_binder_files():
    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK)
    assert "set -e" in post_build.read_text() and "pip install" in post_build.read_text()
    assert "busybox-static" in (ROOT / "binder" / "apt.txt").read_text().split()
