"""Lab on the real engine: run, start, exec, idempotent names, limits, labels, ports, cleanup."""

import socket

import pytest

from containerlab.engine.cgroups import exec_after_oom, wait_for_exit
from containerlab.engine.lab import LABEL_LESSON, LABEL_OWNER, Lab, remove_labelled
from containerlab.errors import ContainerNotRunningError, ImageMissingError, LabError, NameConflictError

BUSYBOX = "containerlab/busybox"


@pytest.fixture
def lab(lab_images):
    with Lab("test-lab", engine=lab_images) as session:
        yield session


def test_run_returns_exit_code_and_output(lab):
    result = lab.run(BUSYBOX, ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert result.exit_code == 3 and not result.ok
    assert "out" in result.output and "err" in result.output
    assert lab.containers() == []  # run() removes its container


def test_same_kernel_inside(lab):
    import os

    assert lab.run(BUSYBOX, "uname -r").output.strip() == os.uname().release


def test_start_exec_and_idempotent_name(lab):
    first = lab.start(BUSYBOX, ["sleep", "300"], name="sleeper")
    assert first.status == "running" and first.pid > 0
    assert lab.exec(first, ["cat", "/proc/1/cmdline"]).output.replace("\0", " ").strip() == "sleep 300"
    second = lab.start(BUSYBOX, ["sleep", "301"], name="sleeper")  # re-running the cell
    assert second.id != first.id and second.name == first.name
    assert [c.id for c in lab.containers()] == [second.id]
    assert lab.container("sleeper").id == second.id


def test_exec_in_a_stopped_or_removed_container_says_so_in_one_line(lab):
    done = lab.start(BUSYBOX, ["sh", "-c", "exit 3"], name="done")
    assert wait_for_exit(done, timeout=30).exit_code == 3
    with pytest.raises(ContainerNotRunningError, match="is not running") as stopped:
        lab.exec(done, ["true"])
    assert "logs" in stopped.value.hint
    # A container that stopped before the command ran in it (the OOM killer can take its main process too):
    # nothing to run it in, and no error.
    assert exec_after_oom(done, ["touch", "/tmp/done"], tries=3, pause=0.01) is None
    done.remove()
    with pytest.raises(LabError, match="no container"):
        lab.exec(done, ["true"])


def test_labels_and_default_limits(lab):
    box = lab.start(BUSYBOX, ["sleep", "300"], name="limited")
    data = box.inspect()
    assert data["Config"]["Labels"][LABEL_LESSON] == "test-lab"
    assert data["Config"]["Labels"][LABEL_OWNER] == lab.owner
    assert data["HostConfig"]["Memory"] == 256 * 1024 * 1024
    assert data["HostConfig"]["PidsLimit"] == 256
    assert data["HostConfig"]["Privileged"] is False
    inside = lab.exec(box, ["cat", "/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/pids.max"]).output
    assert "256" in inside


def test_limits_are_enforced(lab):
    result = lab.run(BUSYBOX, ["sh", "-c", "for i in $(seq 1 40); do sleep 5 & done; wait"],
                     pids_limit=10, timeout=60)
    assert "can't fork" in result.output or "Resource temporarily unavailable" in result.output


def test_ports_published_on_loopback_only(lab):
    web = lab.start(BUSYBOX, ["httpd", "-f", "-p", "8080", "-h", "/etc"], name="web", ports={8080: None})
    bindings = web.inspect()["NetworkSettings"]["Ports"]["8080/tcp"]
    assert {b["HostIp"] for b in bindings} == {"127.0.0.1"}
    port = int(bindings[0]["HostPort"])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(b"GET /passwd HTTP/1.0\r\n\r\n")
        reply = b""
        while chunk := conn.recv(4096):
            reply += chunk
    assert reply.startswith(b"HTTP/1.") and b"root:x:0:0" in reply


def test_missing_image_says_run_setup(lab):
    with pytest.raises(ImageMissingError, match="has not been built") as err:
        lab.run("containerlab/does-not-exist", "true")
    assert "python -m containerlab setup" in err.value.hint


def test_refuses_to_replace_a_foreign_container(lab, engine):
    foreign = engine.client.containers.create(BUSYBOX, ["sleep", "1"], name=lab.name_for("foreign"))
    try:
        with pytest.raises(NameConflictError, match="not made by this course"):
            lab.start(BUSYBOX, ["sleep", "300"], name="foreign")
    finally:
        foreign.remove(force=True)


def test_networks_volumes_and_cleanup(lab, engine):
    net = lab.network("backend")
    assert lab.network("backend").id == net.id  # reused, not duplicated
    vol = lab.volume("data")
    lab.start(BUSYBOX, ["sh", "-c", "echo from-a > /data/index.html && exec httpd -f -p 8080 -h /data"], name="a",
              network=net, volumes=[f"{vol.name}:/data"])
    b = lab.start(BUSYBOX, ["sleep", "300"], name="b", network=net)
    # Container DNS on the lab network, over TCP (ping needs NET_RAW, which Podman does not grant by default).
    url = f"http://{lab.name_for('a')}:8080/"
    fetch = f"for i in $(seq 50); do wget -q -O - {url} 2>/dev/null && exit; sleep 0.2; done; exit 1"
    fetched = lab.exec(b, ["sh", "-c", fetch])  # until a's server listens
    assert fetched.ok and fetched.output.strip() == "from-a", fetched.output
    report = lab.cleanup()
    assert (report.containers, report.networks, report.volumes) == (2, 1, 1)
    filters = {"label": [f"{LABEL_OWNER}={lab.owner}", f"{LABEL_LESSON}=test-lab"]}
    assert engine.client.containers.list(all=True, filters=filters) == []
    assert engine.client.networks.list(filters=filters) == []
    assert engine.client.volumes.list(filters=filters) == []


def test_remove_labelled_one_lesson_only(lab_images):
    one, two = Lab("test-one", engine=lab_images), Lab("test-two", engine=lab_images)
    one.start(BUSYBOX, ["sleep", "300"], name="x")
    two.start(BUSYBOX, ["sleep", "300"], name="x")
    try:
        assert remove_labelled(lab_images, lesson="test-one").containers == 1
        assert len(two.containers()) == 1 and one.containers() == []
    finally:
        two.cleanup()


def test_run_that_overruns_its_timeout_is_stopped(lab):
    with pytest.raises(LabError, match="ran longer than 2 s") as err:
        lab.run(BUSYBOX, ["sleep", "30"], timeout=2)
    assert "timeout=" in err.value.hint
    assert lab.containers() == []


def test_udp_port_is_exposed_as_udp(lab):
    box = lab.start(BUSYBOX, ["sleep", "300"], name="udp", ports={"5353/udp": None})
    ports = box.inspect()["NetworkSettings"]["Ports"]
    assert "5353/udp" in ports and "5353/tcp" not in ports
    assert {b["HostIp"] for b in ports["5353/udp"]} == {"127.0.0.1"}
