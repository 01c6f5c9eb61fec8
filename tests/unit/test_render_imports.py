"""The render package is pure: standard library only, and importing it pulls in no engine or widgets."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import containerlab.render as render

ROOT = Path(__file__).resolve().parents[2]
RENDER = ROOT / "containerlab" / "render"


def test_render_import_pulls_in_neither_docker_nor_ipywidgets() -> None:
    code = (
        "import sys, containerlab.render\n"
        "print(','.join(m for m in ('docker', 'ipywidgets') if m in sys.modules))\n"
    )
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": path},
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_render_modules_import_only_the_standard_library() -> None:
    for source in sorted(RENDER.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = [(node.module or "").split(".")[0]]
            else:
                continue
            for root in roots:
                assert root == "__future__" or root in sys.stdlib_module_names, f"{source.name}: {root}"


def test_public_api_is_exported() -> None:
    for name in render.__all__:
        assert hasattr(render, name), name
    assert {"Diagram", "containers_vs_vms", "user_kernel_split", "checklist"} <= set(render.__all__)
