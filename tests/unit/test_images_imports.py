"""The image model, the Dockerfile parser and the layer explorer are pure: standard library only."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PURE = [*sorted((ROOT / "containerlab" / "images").glob("*.py")), ROOT / "containerlab" / "dockerfile.py",
        ROOT / "containerlab" / "mirrors.py",
        ROOT / "containerlab" / "render" / "layers_explorer.py"]


def test_pure_modules_import_only_the_standard_library():
    for source in PURE:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = [(node.module or "").split(".")[0]]
            else:
                continue
            for root in roots:
                assert root == "__future__" or root in sys.stdlib_module_names, f"{source.name}: {root}"


def test_importing_them_pulls_in_neither_docker_nor_ipywidgets():
    code = ("import sys, containerlab.images, containerlab.dockerfile, containerlab.render.layers_explorer\n"
            "print(','.join(m for m in ('docker', 'ipywidgets') if m in sys.modules))\n")
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": path},
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_public_api_is_exported():
    import containerlab.images as images

    assert all(hasattr(images, name) for name in images.__all__)
    assert {"read_image", "parse_reference", "build_image", "parse_manifest", "verify_digest"} <= set(images.__all__)
