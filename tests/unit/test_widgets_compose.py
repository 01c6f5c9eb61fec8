"""The live compose graph's status: compose ps output (recorded from Docker Compose 2.40, and podman ps's
JSON shape) parsed into containers, mapped to the graph's status words, aggregated over replicas."""

from __future__ import annotations

import json

import pytest

from containerlab.compose import load_compose
from containerlab.engine.compose import ComposeContainer, parse_ps
from containerlab.render.compose_graph import STATUSES, compose_graph
from containerlab.widgets.compose import container_status, service_status

# `docker compose ps -a --format json` (Compose 2.40.3, Docker 20.10): db healthy, slow still in its start
# period, job exited with code 3, web scaled to two replicas with ports on 127.0.0.1.
DOCKER_COMPOSE_PS = r"""
{"Command":"\"sleep 600\"","CreatedAt":"2026-11-29 17:04:29 +0000 UTC","ExitCode":0,"Health":"healthy","ID":"b9dd3ce36852","Image":"containerlab/busybox","Labels":"com.docker.compose.project.working_dir=/tmp/rec/app,com.docker.compose.service=db,containerlab.base=true,com.docker.compose.config-hash=a551f57511c66101a8ca0b49ef6e21c0ef69d62c1798b9f59b6ca42e00360a07,com.docker.compose.container-number=1,com.docker.compose.version=2.40.3,containerlab.lesson=rec,containerlab.owner=helper6,com.docker.compose.depends_on=,com.docker.compose.image=sha256:2f7126b2c1a708f18aae753b533caa7ba2029c8de8eb18de06da588fc5f057a1,com.docker.compose.oneoff=False,com.docker.compose.project=clab-helper6-rec-app,com.docker.compose.project.config_files=/tmp/rec/app/compose.yaml,/tmp/containerlab-compose-kszgt7i2/containerlab-labels.yaml","LocalVolumes":"0","Mounts":"","Name":"clab-helper6-rec-app-db-1","Names":"clab-helper6-rec-app-db-1","Networks":"clab-helper6-rec-app_default","Ports":"","Project":"clab-helper6-rec-app","Publishers":[],"RunningFor":"4 seconds ago","Service":"db","Size":"0B","State":"running","Status":"Up 3 seconds (healthy)"}
{"Command":"\"sh -c 'exit 3'\"","CreatedAt":"2026-11-29 17:04:29 +0000 UTC","ExitCode":3,"Health":"","ID":"3dbed0599340","Image":"containerlab/busybox","Labels":"containerlab.owner=helper6,com.docker.compose.config-hash=e531bbf6ff319e22d67ea23526d7cc53544b832577f76d59a811a3bb9c618cd0,com.docker.compose.container-number=1,com.docker.compose.depends_on=,com.docker.compose.image=sha256:2f7126b2c1a708f18aae753b533caa7ba2029c8de8eb18de06da588fc5f057a1,com.docker.compose.oneoff=False,com.docker.compose.project.working_dir=/tmp/rec/app,com.docker.compose.service=job,containerlab.lesson=rec,com.docker.compose.project=clab-helper6-rec-app,com.docker.compose.project.config_files=/tmp/rec/app/compose.yaml,/tmp/containerlab-compose-kszgt7i2/containerlab-labels.yaml,com.docker.compose.version=2.40.3,containerlab.base=true","LocalVolumes":"0","Mounts":"","Name":"clab-helper6-rec-app-job-1","Names":"clab-helper6-rec-app-job-1","Networks":"clab-helper6-rec-app_default","Ports":"","Project":"clab-helper6-rec-app","Publishers":[],"RunningFor":"4 seconds ago","Service":"job","Size":"0B","State":"exited","Status":"Exited (3) 2 seconds ago"}
{"Command":"\"sleep 600\"","CreatedAt":"2026-11-29 17:04:29 +0000 UTC","ExitCode":0,"Health":"starting","ID":"7073c2c5a2e9","Image":"containerlab/busybox","Labels":"com.docker.compose.oneoff=False,com.docker.compose.project=clab-helper6-rec-app,com.docker.compose.service=slow,com.docker.compose.config-hash=55030adc6a40607cc3ae209cbe1799f37e850d00de7907054f4889168599efc0,com.docker.compose.project.config_files=/tmp/rec/app/compose.yaml,/tmp/containerlab-compose-kszgt7i2/containerlab-labels.yaml,com.docker.compose.project.working_dir=/tmp/rec/app,com.docker.compose.version=2.40.3,containerlab.base=true,containerlab.lesson=rec,containerlab.owner=helper6,com.docker.compose.container-number=1,com.docker.compose.depends_on=,com.docker.compose.image=sha256:2f7126b2c1a708f18aae753b533caa7ba2029c8de8eb18de06da588fc5f057a1","LocalVolumes":"0","Mounts":"","Name":"clab-helper6-rec-app-slow-1","Names":"clab-helper6-rec-app-slow-1","Networks":"clab-helper6-rec-app_default","Ports":"","Project":"clab-helper6-rec-app","Publishers":[],"RunningFor":"4 seconds ago","Service":"slow","Size":"0B","State":"running","Status":"Up 3 seconds (health: starting)"}
{"Command":"\"httpd -f -p 8080\"","CreatedAt":"2026-11-29 17:04:29 +0000 UTC","ExitCode":0,"Health":"","ID":"2fcdb46801cd","Image":"containerlab/busybox","Labels":"com.docker.compose.project=clab-helper6-rec-app,com.docker.compose.project.config_files=/tmp/rec/app/compose.yaml,/tmp/containerlab-compose-kszgt7i2/containerlab-labels.yaml,com.docker.compose.project.working_dir=/tmp/rec/app,com.docker.compose.service=web,com.docker.compose.version=2.40.3,containerlab.base=true,com.docker.compose.container-number=1,com.docker.compose.image=sha256:2f7126b2c1a708f18aae753b533caa7ba2029c8de8eb18de06da588fc5f057a1,com.docker.compose.oneoff=False,containerlab.lesson=rec,containerlab.owner=helper6,com.docker.compose.config-hash=b39da0a53715b4754c5357bd75808484acda7c305e34a4af539d7f52aaa3f40c,com.docker.compose.depends_on=","LocalVolumes":"0","Mounts":"","Name":"clab-helper6-rec-app-web-1","Names":"clab-helper6-rec-app-web-1","Networks":"clab-helper6-rec-app_default","Ports":"127.0.0.1:32787-\u003e8080/tcp","Project":"clab-helper6-rec-app","Publishers":[{"URL":"127.0.0.1","TargetPort":8080,"PublishedPort":32787,"Protocol":"tcp"}],"RunningFor":"4 seconds ago","Service":"web","Size":"0B","State":"running","Status":"Up 2 seconds"}
{"Command":"\"httpd -f -p 8080\"","CreatedAt":"2026-11-29 17:04:29 +0000 UTC","ExitCode":0,"Health":"","ID":"4778f8bf1821","Image":"containerlab/busybox","Labels":"com.docker.compose.project=clab-helper6-rec-app,com.docker.compose.version=2.40.3,containerlab.base=true,containerlab.owner=helper6,com.docker.compose.container-number=2,com.docker.compose.depends_on=,com.docker.compose.oneoff=False,com.docker.compose.project.config_files=/tmp/rec/app/compose.yaml,/tmp/containerlab-compose-kszgt7i2/containerlab-labels.yaml,com.docker.compose.project.working_dir=/tmp/rec/app,com.docker.compose.service=web,containerlab.lesson=rec,com.docker.compose.config-hash=b39da0a53715b4754c5357bd75808484acda7c305e34a4af539d7f52aaa3f40c,com.docker.compose.image=sha256:2f7126b2c1a708f18aae753b533caa7ba2029c8de8eb18de06da588fc5f057a1","LocalVolumes":"0","Mounts":"","Name":"clab-helper6-rec-app-web-2","Names":"clab-helper6-rec-app-web-2","Networks":"clab-helper6-rec-app_default","Ports":"127.0.0.1:32786-\u003e8080/tcp","Project":"clab-helper6-rec-app","Publishers":[{"URL":"127.0.0.1","TargetPort":8080,"PublishedPort":32786,"Protocol":"tcp"}],"RunningFor":"4 seconds ago","Service":"web","Size":"0B","State":"running","Status":"Up 2 seconds"}
"""

# Compose before 2.21 printed one JSON array instead of JSON lines.
DOCKER_COMPOSE_PS_ARRAY = json.dumps([json.loads(line) for line in DOCKER_COMPOSE_PS.split("\n") if line.strip()])

# The shape of `podman ps -a --format json` (what podman-compose ps prints): Names is a list, Labels a
# mapping, health only inside Status, ports as host_ip / host_port / container_port / range.
PODMAN_PS = json.dumps([
    {"Names": ["testbed_ce_1"], "State": "running", "Status": "Up 5 seconds (healthy)", "ExitCode": 0,
     "Labels": {"com.docker.compose.service": "ce", "io.podman.compose.project": "testbed"}, "Ports": None},
    {"Names": ["testbed_factory_1"], "State": "running", "Status": "Up 2 seconds (starting)", "ExitCode": 0,
     "Labels": {"io.podman.compose.service": "factory"},
     "Ports": [{"host_ip": "127.0.0.1", "container_port": 8000, "host_port": 40123, "range": 1, "protocol": "tcp"}]},
    {"Names": ["testbed_frontend_1"], "State": "exited", "Status": "Exited (1) 3 seconds ago", "ExitCode": 1,
     "Labels": {"com.docker.compose.service": "frontend"}},
])

PROJECT = load_compose("""\
services:
  db: {image: x, healthcheck: {test: ["CMD", "true"]}}
  slow: {image: x, healthcheck: {test: ["CMD", "true"]}}
  job: {image: x}
  web: {image: x, depends_on: [db], scale: 2}
""", environ={})


@pytest.mark.parametrize("text", [DOCKER_COMPOSE_PS, DOCKER_COMPOSE_PS_ARRAY], ids=["json-lines", "json-array"])
def test_docker_compose_ps_is_parsed(text):
    containers = parse_ps(text)
    assert [(c.short_name, c.state, c.health, c.exit_code) for c in containers] == [
        ("db-1", "running", "healthy", 0), ("job-1", "exited", "", 3), ("slow-1", "running", "starting", 0),
        ("web-1", "running", "", 0), ("web-2", "running", "", 0)]
    assert containers[3].host_port(8080) == 32787 and containers[4].host_port(8080) == 32786
    assert all(address == "127.0.0.1" for c in containers for address, *_ in c.published)
    assert containers[0].host_port(8080) is None


def test_podman_ps_is_parsed():
    containers = parse_ps(PODMAN_PS)
    assert [(c.short_name, c.state, c.health, c.exit_code) for c in containers] == [
        ("ce-1", "running", "healthy", 0), ("factory-1", "running", "starting", 0), ("frontend-1", "exited", "", 1)]
    assert containers[1].published == (("127.0.0.1", 40123, 8000, "tcp"),)


def test_empty_output_means_no_containers():
    assert parse_ps("") == [] and parse_ps("[]\n") == []


@pytest.mark.parametrize("state, health, expected", [
    ("running", "", "running"), ("running", "healthy", "healthy"), ("running", "unhealthy", "unhealthy"),
    ("running", "starting", "starting"), ("Running", "Healthy", "healthy"), ("created", "", "starting"),
    ("restarting", "", "starting"), ("exited", "", "exited"), ("exited", "healthy", "exited"),
    ("dead", "", "exited"), ("paused", "", "exited"), ("removing", "", "exited"), ("", "", "exited"),
])
def test_container_state_and_health_map_to_graph_statuses(state, health, expected):
    assert container_status(state, health) == expected
    assert expected in STATUSES


def test_service_status_from_recorded_ps():
    assert service_status(parse_ps(DOCKER_COMPOSE_PS), PROJECT) == {
        "db": "healthy", "job": "exited", "slow": "starting", "web": "running"}


def replica(service: str, number: int, state: str, health: str = "") -> ComposeContainer:
    return ComposeContainer(name=f"p-{service}-{number}", service=service, number=number, state=state, health=health)


@pytest.mark.parametrize("states, expected", [
    ([("running", "healthy"), ("running", "unhealthy")], "unhealthy"),
    ([("running", "healthy"), ("created", "")], "starting"),
    ([("running", ""), ("exited", "")], "exited"),
    ([("running", "healthy"), ("running", "")], "running"),
    ([("running", "healthy"), ("running", "healthy")], "healthy"),
])
def test_the_replica_most_worth_a_look_wins(states, expected):
    containers = [replica("web", i, state, health) for i, (state, health) in enumerate(states, 1)]
    assert service_status(containers) == {"web": expected}


def test_services_not_in_the_file_are_left_out():
    containers = [replica("db", 1, "running", "healthy"), replica("orphan", 1, "running")]
    assert service_status(containers, PROJECT) == {"db": "healthy"}
    assert service_status(containers) == {"db": "healthy", "orphan": "running"}


def test_statuses_draw_on_the_graph():
    status = service_status(parse_ps(DOCKER_COMPOSE_PS), PROJECT)
    diagram = compose_graph(PROJECT, status=status)
    assert "status: db healthy, slow starting, job exited, web running" in diagram.summary
    assert "healthy" in diagram.svg and "exited" in diagram.svg


class FakeApp:
    """What ComposeGraphView uses of a ComposeApp: the project, ps() and lab.available."""

    def __init__(self, output: str, available: bool = True) -> None:
        self.project, self.output, self.calls = PROJECT, output, 0
        self.lab = type("FakeLab", (), {"available": available})()

    def ps(self) -> list[ComposeContainer]:
        self.calls += 1
        return parse_ps(self.output)


def test_view_shows_live_status_and_keeps_the_static_svg_for_stored_notebooks():
    from containerlab.widgets.compose import ComposeGraphView

    app = FakeApp(DOCKER_COMPOSE_PS)
    view = ComposeGraphView(app, title="live")
    assert view.states == {"db": "healthy", "job": "exited", "slow": "starting", "web": "running"}
    assert view.view.value == view.last_diagram.svg and "3 of 4 services up" in view.note.value
    bundle = view._repr_mimebundle_()
    assert bundle["image/svg+xml"] == view.last_diagram.svg and "status: db healthy" in bundle["text/plain"]
    assert "application/vnd.jupyter.widget-view+json" in bundle
    app.output = ""
    view.refresh_button.click()
    assert view.states == {} and "not running" in view.note.value and "status:" not in view.last_diagram.summary
    view.close()


def test_view_auto_refresh_runs_until_switched_off():
    import time

    from containerlab.widgets.compose import ComposeGraphView

    app = FakeApp(DOCKER_COMPOSE_PS)
    view = ComposeGraphView(app, interval=0.05)
    view.auto.value = True
    deadline = time.monotonic() + 5
    while app.calls < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    view.auto.value = False
    view._thread.join(timeout=2)
    assert app.calls >= 3 and not view._thread.is_alive()
    view.close()


def test_view_without_engine_draws_the_file():
    from containerlab.widgets.compose import ComposeGraphView

    view = ComposeGraphView(FakeApp(DOCKER_COMPOSE_PS, available=False))
    assert view.states == {} and "no engine" in view.note.value
    view.close()
