"""A real JupyterLab on 127.0.0.1 and a real headless Chromium (Debian's) driven by Playwright.

The server serves a copy of notebooks/ so saving in the browser never changes the course.
Screenshots go to .artifacts/screenshots/ (kept by CI as artifacts).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def jupyterlab(tmp_path_factory):
    """(base URL, token) of a JupyterLab serving a copy of the notebooks."""
    yield from _serve(tmp_path_factory, {})


@pytest.fixture(scope="session")
def jupyterlab_without_engine(tmp_path_factory):
    """(base URL, token) of a JupyterLab whose kernels reach no engine, as on Binder (DOCKER_HOST names a socket
    that does not exist, so the engine cells skip)."""
    yield from _serve(tmp_path_factory, {"DOCKER_HOST": f"unix://{tmp_path_factory.mktemp('no-engine')}/none.sock",
                                         "CONTAINERLAB_ENGINE": "", "DOCKER_CONTEXT": ""})


def _serve(tmp_path_factory, env: dict[str, str]):
    """Start JupyterLab on a copy of notebooks/ with ``env`` added; yield (base URL, token); stop it."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CONTAINERLAB_REQUIRE_ENGINE") == "1":
            pytest.fail("Chromium is not installed: './lab test' installs Debian's chromium")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    served = tmp_path_factory.mktemp("served")
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(notebook, served)
    shutil.copytree(ROOT / "notebooks" / "apps", served / "apps")  # build contexts the lessons use
    port, token = _free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={served}",
               "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.expose_app_in_browser=True"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = open(tmp_path_factory.mktemp("log") / "jupyterlab.log", "wb")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=served,
                              env={**os.environ, "JUPYTER_NO_CONFIG": "1", **env})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"JupyterLab did not start: see {log.name}") from None
                time.sleep(0.3)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module. Not for the session: Playwright's sync API keeps its event loop running in
    the main thread while it is open, and later tests that start Playwright (the hub's) or asyncio would fail."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as a CI artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
