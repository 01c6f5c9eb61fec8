"""The safety rules on every container the notebooks really create, while they run.

Each notebook runs once with a private owner and a first cell that records every container the
kernel creates through the engine API (its HostConfig as sent); meanwhile the engine's own create
events for that owner are watched and each new container inspected at once, which also catches
containers made through a command line (compose, the docker CLI). Every one must have a memory
and a pids limit, publish ports on 127.0.0.1 only, never mount the engine socket, and be
privileged only in a notebook that gives the reason (privileged_because). The static rules over
the sources are tests/unit/test_safety.py. Slow: one run of every notebook.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Any

import nbformat
import pytest
from course_runs import NOTEBOOKS, lesson_files
from nbclient import NotebookClient

from containerlab.engine.lab import LABEL_OWNER, remove_labelled

ENGINE_SOCKETS = ("docker.sock", "podman.sock", "containerd.sock")
LOOPBACK = "127.0.0.1"

RECORDER = """\
import inspect as _inspect, json as _json
import docker.api.container as _container_api
_create = _container_api.ContainerApiMixin.create_container
def _recording_create(self, *args, **kwargs):
    bound = _inspect.signature(_create).bind(self, *args, **kwargs)
    answer = _create(self, *args, **kwargs)
    with open({path!r}, "a") as log:
        log.write(_json.dumps({{"id": answer["Id"], "host_config": dict(bound.arguments.get("host_config") or {{}})}}) + "\\n")
    return answer
_container_api.ContainerApiMixin.create_container = _recording_create
"""


def _build_placeholder(container: dict[str, Any]) -> bool:
    """The classic builder's container for a metadata step (LABEL, ENV, ...): created, never started,
    it runs nothing. (Its RUN-step containers carry no course labels, so no event shows them here.)"""
    return any("#(nop)" in word for word in container.get("Config", {}).get("Cmd") or [])


def _unsafe(host: dict[str, Any], explained: bool) -> list[str]:
    """What is wrong with one container's HostConfig."""
    problems = []
    if not host.get("Memory"):
        problems.append("no memory limit")
    if not host.get("PidsLimit") or host["PidsLimit"] < 0:
        problems.append("no pids limit")
    if host.get("Privileged") and not explained:
        problems.append("privileged, and the notebook never says why (privileged_because)")
    for port, bindings in (host.get("PortBindings") or {}).items():
        for binding in bindings or []:
            if binding.get("HostIp") != LOOPBACK:
                problems.append(f"port {port} published on {binding.get('HostIp') or 'every address'}")
    mounts = [bind.split(":")[0] for bind in host.get("Binds") or []]
    mounts += [mount.get("Source", "") for mount in host.get("Mounts") or []]
    problems += [f"mounts {source}" for source in mounts if source.rstrip("/").endswith(ENGINE_SOCKETS)]
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("path", lesson_files(), ids=lambda p: p.stem)
def test_every_container_a_notebook_creates_is_limited(path, lab_images):
    """Runs the notebook with every container creation recorded, and checks what each one got."""
    owner = f"{os.environ.get('CONTAINERLAB_OWNER', 'pytest')}-safety"
    notebook = nbformat.read(path, as_version=4)
    explained = "privileged_because" in "".join(cell.source for cell in notebook.cells)
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "created.jsonl"
        log.touch()
        notebook.cells.insert(0, nbformat.v4.new_code_cell(RECORDER.format(path=str(log))))
        events = lab_images.client.events(decode=True, filters={
            "type": "container", "event": "create", "label": [f"{LABEL_OWNER}={owner}"]})
        seen: dict[str, dict[str, Any] | None] = {}
        placeholders: set[str] = set()

        def watch() -> None:
            try:
                for event in events:
                    container_id = event.get("id") or event.get("Actor", {}).get("ID")
                    try:
                        found = lab_images.client.api.inspect_container(container_id)
                    except Exception:
                        seen[container_id] = None
                    else:
                        if _build_placeholder(found):
                            placeholders.add(container_id)
                        seen[container_id] = None if container_id in placeholders else found["HostConfig"]
            except Exception:
                return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            NotebookClient(notebook, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": str(NOTEBOOKS)}}).execute(
                env={**os.environ, "CONTAINERLAB_OWNER": owner})
        finally:
            events.close()
            watcher.join(timeout=10)
            remove_labelled(lab_images, owner=owner, images=True)
        recorded = {entry["id"]: entry["host_config"]
                    for entry in map(json.loads, log.read_text().splitlines())}
    problems = {}
    for container_id in set(seen) | set(recorded):
        host = seen.get(container_id) or recorded.get(container_id)
        if host is None and container_id in placeholders:
            continue
        if host is None:
            problems[container_id[:12]] = ["created outside the engine API and gone before it could be inspected"]
        elif found := _unsafe(host, explained):
            problems[container_id[:12]] = found
    assert problems == {}, f"{path.name}: unsafe containers: {problems}"
    if re.search(r"lab\.(run|start)\(", "".join(cell.source for cell in notebook.cells)):
        assert recorded, f"{path.name} starts containers, but none was recorded: the check saw nothing"


def test_the_host_config_check_names_each_problem():
    safe = {"Memory": 2**28, "PidsLimit": 256, "PortBindings": {"80/tcp": [{"HostIp": LOOPBACK, "HostPort": "8080"}]}}
    assert _unsafe(safe, explained=False) == []
    unsafe = {"Memory": 0, "PidsLimit": -1, "Privileged": True, "Binds": ["/var/run/docker.sock:/s"],
              "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "80"}]}}
    assert _unsafe(unsafe, explained=False) == [
        "no memory limit", "no pids limit", "privileged, and the notebook never says why (privileged_because)",
        "port 80/tcp published on every address", "mounts /var/run/docker.sock"]
    assert _build_placeholder({"Config": {"Cmd": ["/bin/sh", "-c", "#(nop) ", "LABEL a=b"]}})
    assert not _build_placeholder({"Config": {"Cmd": ["/bin/sh", "-c", "mkdir /srv"]}})
