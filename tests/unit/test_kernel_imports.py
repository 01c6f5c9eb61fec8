"""The kernel package is pure: importing it pulls in no engine SDK and no widgets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent


def test_importing_kernel_imports_neither_docker_nor_ipywidgets():
    code = ("import containerlab.kernel, sys; "
            "assert 'docker' not in sys.modules, 'docker'; "
            "assert 'ipywidgets' not in sys.modules, 'ipywidgets'")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_public_api_is_exported():
    import containerlab.kernel as kernel

    assert all(hasattr(kernel, name) for name in kernel.__all__)
