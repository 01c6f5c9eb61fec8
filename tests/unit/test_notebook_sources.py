"""The stored notebooks match their sources in tools/notebooks, and each lesson has the course's shape."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 2


def test_notebooks_match_their_sources():
    result = subprocess.run([sys.executable, str(ROOT / "tools/build_notebooks.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lesson_shape(path):
    notebook = nbformat.read(path, as_version=4)
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "**Objectives.**" in notebook.cells[0].source
    assert "check_" in code and "<details><summary>Solution" in markdown
    assert "lab.cleanup()" in notebook.cells[-1].source
    unexecuted = [c.source[:40] for c in notebook.cells if c.cell_type == "code" and c.execution_count is None]
    assert not unexecuted, f"stored without running: {unexecuted}"
