"""pyproject.toml is the one place the packages are listed; environment.yml and Binder install its extras."""

import os
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def conda_env(path: Path) -> tuple[str, list[str]]:
    """The Python a conda environment file pins, and its pip lines."""
    env = yaml.safe_load(path.read_text())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    pip = next((d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d), [])
    return python, pip


def test_the_environments_install_pyprojects_extras_and_list_no_packages_of_their_own():
    local_python, local = conda_env(ROOT / "environment.yml")
    binder_python, binder = conda_env(ROOT / "binder" / "environment.yml")
    assert local == ["-e .[course]"] and binder == []
    assert local_python == binder_python
    minimum = tuple(map(int, PROJECT["requires-python"].lstrip(">=").split(".")))
    assert tuple(map(int, local_python.split("=")[1].split("."))) >= minimum


def test_binder_installs_the_binder_extra_and_nothing_test_only():
    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK)
    text = post_build.read_text()
    assert "set -e" in text and re.search(r'pip install .*-e "\.\[binder\]"', text)
    binder = {re.split(r"[<>=\[]", req)[0].lower() for req in PROJECT["optional-dependencies"]["binder"]}
    test_only = {re.split(r"[<>=\[]", req)[0].lower() for req in PROJECT["optional-dependencies"]["test"]}
    assert not binder & (test_only - {"containerlab"}), "Binder installs nothing test-only"
    assert "busybox-static" in (ROOT / "binder" / "apt.txt").read_text().split()


def _imported_roots(source: Path) -> set[str]:
    """The top-level names a module imports (absolute imports only), anywhere in it."""
    import ast

    roots = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_every_imported_third_party_package_is_declared():
    """Each module the package imports is the standard library's, its own, or from a declared dependency."""
    import importlib.metadata
    import sys

    declared = {re.split(r"[<>=\[ ]", req)[0].lower().replace("_", "-") for req in PROJECT["dependencies"]}
    # Modules that only run with an extra installed may import that extra's packages.
    by_extra = {"hubspawner.py": "hub"}
    extras = {extra: {re.split(r"[<>=\[ ;]", req)[0].lower().replace("_", "-") for req in reqs}
              for extra, reqs in PROJECT["optional-dependencies"].items()}
    distributions = importlib.metadata.packages_distributions()
    # IPython comes with ipywidgets (and every kernel); the package imports it lazily, for display only.
    allowed = {"IPython"}
    missing = set()
    for source in (ROOT / "containerlab").rglob("*.py"):
        for name in _imported_roots(source):
            if name in sys.stdlib_module_names or name in ("containerlab", "__future__") or name in allowed:
                continue
            owners = {owner.lower().replace("_", "-") for owner in distributions.get(name, [])}
            if not owners & (declared | extras.get(by_extra.get(source.name, ""), set())):
                missing.add(f"{name} ({', '.join(sorted(owners)) or 'not installed'}) in {source.name}")
    assert not missing, sorted(missing)
