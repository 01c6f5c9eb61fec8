"""The JupyterLab that ./lab opens asks no 'get notified about official Jupyter news?' question.

./lab puts binder/overrides.json into the environment's JupyterLab settings (Binder's postBuild does the same).
The control run serves JupyterLab with an empty settings directory and sees the question, so the check
can fail.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, _free_port

QUESTION = "official Jupyter news"
OVERRIDES = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"


def _serve(tmp_path: Path, settings_dir: Path | None) -> tuple[subprocess.Popen, str]:
    port, token = _free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}",
               "--allow-root"]
    if settings_dir is not None:
        command.append(f"--LabApp.app_settings_dir={settings_dir}")
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "JUPYTER_NO_CONFIG": "1"})
    return server, f"http://127.0.0.1:{port}/lab?token={token}"


def _question_shown(page, url: str) -> bool:
    deadline = time.monotonic() + 90
    while True:
        try:
            page.goto(url, timeout=30_000)
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
    page.wait_for_selector(".jp-Launcher", timeout=90_000)
    try:
        page.wait_for_selector(f"text={QUESTION}", timeout=8_000)
        return True
    except Exception:
        return False


def test_the_course_lab_asks_no_news_question_and_the_default_lab_does(page, tmp_path):
    assert OVERRIDES.exists(), "./lab installs binder/overrides.json into the environment's JupyterLab settings"
    assert json.loads(OVERRIDES.read_text()) == json.loads((ROOT / "binder" / "overrides.json").read_text())
    ours, url = _serve(tmp_path, None)
    try:
        assert not _question_shown(page, url), "the course's JupyterLab asked about Jupyter news"
    finally:
        ours.terminate()
        ours.wait(timeout=30)
    empty = tmp_path / "no-settings"
    empty.mkdir()
    default, url = _serve(tmp_path, empty)
    try:
        if not _question_shown(page, url):
            pytest.fail("the control run (JupyterLab's defaults) did not ask either: the check cannot tell")
    finally:
        default.terminate()
        default.wait(timeout=30)
