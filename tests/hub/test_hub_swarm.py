"""Past one machine with Docker Swarm: the hub's SwarmSpawner on a one-node swarm made for this test.

Only one swarm can exist on an engine: the test makes its own (`docker swarm init --advertise-addr 127.0.0.1`) and
leaves it at the end; when this engine is already part of a swarm the test does not touch it and skips. What it
shows: the swarm, not the hub, places the attendee's box (a labelled service whose task runs on a swarm node), the
attendee's server answers through the hub, and the box says in one line why its own engine cannot run there (a
swarm service cannot be given the box's privileges)."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from hub_client import KernelSession

from containerlab.engine import hub

pytestmark = [pytest.mark.slow]


def _swarm_state() -> str:
    return subprocess.run(["docker", "info", "--format", "{{.Swarm.LocalNodeState}}"], capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def one_node_swarm(hub_image):
    """A one-node swarm of this test's own, left (and so removed) at the end, pass or fail."""
    state = _swarm_state()
    if state != "inactive":
        pytest.skip(f"this engine is already in a swarm ({state}) that this test did not make: left untouched")
    bridge_was_there = _has_gateway_bridge()
    try:  # an init that fails half-way is left too
        made = subprocess.run(["docker", "swarm", "init", "--advertise-addr", "127.0.0.1"], capture_output=True,
                              text=True)
        assert made.returncode == 0, made.stderr
        yield subprocess.run(["docker", "info", "--format", "{{.Swarm.NodeID}}"], capture_output=True,
                             text=True).stdout.strip()
    finally:
        subprocess.run(["docker", "swarm", "leave", "--force"], capture_output=True)
        if not bridge_was_there:
            _remove_gateway_bridge()
    assert _swarm_state() == "inactive"
    assert _has_gateway_bridge() == bridge_was_there, "the swarm's bridge stayed"


def _has_gateway_bridge() -> bool:
    return subprocess.run(["docker", "network", "inspect", "docker_gwbridge"], capture_output=True).returncode == 0


def _remove_gateway_bridge(wait: float = 20) -> None:
    """`swarm init` makes the local network docker_gwbridge and `swarm leave` keeps it: removed once the ingress
    endpoint that left with the swarm has let go of it (the fixture's assert says when it stayed)."""
    deadline = time.monotonic() + wait
    while _has_gateway_bridge() and time.monotonic() < deadline:
        if subprocess.run(["docker", "network", "rm", "docker_gwbridge"], capture_output=True).returncode == 0:
            return
        time.sleep(0.5)


def test_the_swarm_places_an_attendees_box(one_node_swarm, start_test_hub, remote_kernels):
    made = start_test_hub("swarm", spawner="swarm")
    try:
        hana = made.login("hana")
        assert hana.wait_ready(timeout=420).get("ready"), made.log()[-3000:]
        services = hub.hub_objects(made.settings)["services"]
        assert services == [f"{made.settings.prefix}-box-hana"]
        tasks = json.loads(subprocess.run(["docker", "service", "ps", services[0], "--format", "{{json .}}"],
                                          capture_output=True, text=True).stdout.splitlines()[0])
        node = subprocess.run(["docker", "node", "inspect", "--format", "{{.ID}}", tasks["Node"]],
                              capture_output=True, text=True).stdout.strip()
        assert node == one_node_swarm and tasks["CurrentState"].startswith("Running")
        assert hana.server("GET", "api/status").status_code == 200
        with KernelSession(hana, str(remote_kernels)) as kernel:
            status = kernel.run("print(open('/run/containerlab-box/status').read())")
            pids = kernel.run("print(open('/sys/fs/cgroup/pids/pids.max').read())")
        assert "state: no-privileges" in status and "--privileged" in status
        assert len([line for line in status.splitlines() if line.startswith("message: ")]) == 1
        assert pids.strip() == str(made.settings.pids), "the hub sets the task's pids limit itself"
        hana.stop_server()
        assert hub.hub_objects(made.settings)["services"] == []
    finally:
        hub.remove_hub(made.settings, volumes=True)
