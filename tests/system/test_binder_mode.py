"""Binder mode for real: the whole course as an unprivileged user who cannot reach any engine.

Like Binder, the course is pip-installed into a fresh environment (from the system Python, so an
ordinary user can run it) and every notebook is executed top to bottom as `nobody`, whose
requests to the engine socket are denied. No cell may raise; the engine cells must say they skip, and show the
output the stored notebook recorded for them, marked as recorded.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
RUNNER = r"""
import json, sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
results = {}
for path in sorted(Path(sys.argv[1]).glob("[0-9][0-9]-*.ipynb")):
    nb = nbformat.read(path, as_version=4)
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
        text = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                       for c in nb.cells for o in c.get("outputs", []))
        results[path.name] = {"ok": True, "skipped": text.count("Skipped:"), "no_engine": "no container engine" in text,
                              "recorded": text.count("Recorded on ")}
    except CellExecutionError as err:
        results[path.name] = {"ok": False, "error": str(err)[-1500:]}
print(json.dumps(results))
"""


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv") or not SYSTEM_PYTHON.exists(),
                    reason="needs root (to become nobody), setpriv and the system Python")
def test_every_notebook_runs_unprivileged_without_an_engine():
    import json

    base = Path(tempfile.mkdtemp(prefix="containerlab-binder-", dir="/tmp"))
    try:
        course = base / "course"
        shutil.copytree(ROOT, course, ignore=shutil.ignore_patterns(".venv", ".pack", ".git", "__pycache__",
                                                                    "*.egg-info", "build"))
        venv = base / "venv"
        subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin/pip"), "install", "-q", f"{course}[test]"], check=True, timeout=600)
        home = base / "home"
        home.mkdir()
        subprocess.run(["chown", "-R", "65534:65534", str(home)], check=True)
        subprocess.run(["chmod", "-R", "a+rX", str(base)], check=True)
        # The machine's engine is Docker, whose socket nobody may use (Binder has none at all); without
        # CONTAINERLAB_ENGINE=docker a Podman installed here would start rootless for nobody.
        env = {"HOME": str(home), "PATH": f"{venv}/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
               "CONTAINERLAB_ENGINE": "docker"}
        result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                 str(venv / "bin/python"), "-c", RUNNER, str(course / "notebooks")],
                                capture_output=True, text=True, timeout=900, env=env, cwd=str(home))
        assert result.returncode == 0, result.stderr[-3000:]
        results = json.loads(result.stdout.strip().splitlines()[-1])
        assert len(results) >= 2
        failed = {name: r["error"] for name, r in results.items() if not r["ok"]}
        assert not failed, failed
        for name, outcome in results.items():
            if name.startswith(("00-", "01-")):
                assert outcome["no_engine"], f"{name} did not say it skips the engine cells"
            if name.startswith(("01-", "03-", "05-", "08-")):   # lessons whose engine cells printed something
                assert outcome["recorded"], f"{name} showed no recorded output for its skipped cells"
    finally:
        shutil.rmtree(base, ignore_errors=True)
