"""Namespaces of real containers read from /proc, sharing flags, host tools and the explorer widget."""

import os
import shutil
from types import SimpleNamespace

import pytest

from containerlab.engine.lab import Lab
from containerlab.engine.namespaces import (
    container_namespaces,
    lab_containers,
    lab_namespace_map,
    lab_namespaces,
    run_on_host,
    sharing_flags,
    tools_ready,
)
from containerlab.errors import HostToolMissingError, LabError
from containerlab.kernel.namespaces import compare_namespaces, read_namespaces

BUSYBOX = "containerlab/busybox"
SLEEP = ["sleep", "300"]
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="reading another process's /proc/PID/ns needs root")


@pytest.fixture
def lab(lab_images):
    with Lab("test-namespaces", engine=lab_images) as session:
        yield session


def shared_with_host(container) -> set[str]:
    pair = compare_namespaces({"host": read_namespaces("self"), "it": container_namespaces(container)})
    return set(pair.shared("host", "it"))


@needs_root
def test_pid_host_shares_the_pid_namespace_and_a_default_container_does_not(lab):
    default = lab.start(BUSYBOX, SLEEP, name="default")
    pidhost = lab.start(BUSYBOX, SLEEP, name="pidhost", pid_mode="host")
    assert "pid" in shared_with_host(pidhost)
    assert not {"pid", "net", "ipc", "mnt", "uts"} & shared_with_host(default)
    assert {"net", "ipc", "mnt", "uts"}.isdisjoint(shared_with_host(pidhost))
    assert pidhost.inspect()["HostConfig"]["Privileged"] is False


@needs_root
def test_network_of_another_container_shares_net_only(lab):
    web = lab.start(BUSYBOX, ["sh", "-c", "mkdir -p /tmp/w && echo hi > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w"],
                    name="web")
    side = lab.start(BUSYBOX, SLEEP, name="side", network_mode=f"container:{web.name}")
    pair = compare_namespaces({"web": container_namespaces(web), "side": container_namespaces(side)})
    assert "net" in pair.shared("web", "side")
    assert {"pid", "ipc", "mnt", "uts"} <= set(pair.isolated("web", "side"))
    assert "net" not in shared_with_host(side)
    fetched = lab.exec(side, ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://127.0.0.1:8080/ && break; "
                                          "sleep 0.2; done"])
    assert fetched.output.strip() == "hi"


@needs_root
def test_sharing_flags_and_the_map_use_short_names(lab):
    web = lab.start(BUSYBOX, SLEEP, name="web")
    lab.start(BUSYBOX, SLEEP, name="side", network_mode=f"container:{web.name}")
    lab.start(BUSYBOX, SLEEP, name="hosty", pid_mode="host", uts_mode="host", ipc_mode="host")
    assert [c.short_name for c in lab_containers(lab)] == ["web", "side", "hosty"]
    ids = {c.id: c.short_name for c in lab_containers(lab)}
    assert sharing_flags(lab.container("side"), ids) == "--network=container:web"
    assert sharing_flags(lab.container("hosty"), ids) == "--pid=host --ipc=host --uts=host"
    assert sharing_flags(web, ids) == ""
    comparison, notes = lab_namespaces(lab)
    assert comparison.names == ["host", "web", "side", "hosty"]
    assert notes == {"side": "--network=container:web", "hosty": "--pid=host --ipc=host --uts=host"}
    diagram = lab_namespace_map(lab, ["side", "web"], title="Two")
    assert diagram.summary.splitlines()[0] == "Two: host vs side, web"
    assert "side: own pid ipc mnt uts" in diagram.summary and "net with web" in diagram.summary
    assert lab.name_for("web") not in diagram.svg and web.id[:12] not in diagram.svg


def test_a_stopped_container_is_drawn_as_unknown(lab):
    gone = lab.start(BUSYBOX, ["true"], name="gone")
    gone.container.wait(timeout=30)
    assert set(container_namespaces(gone).inodes.values()) == {None}


@needs_root
def test_explorer_starts_shares_and_removes_its_containers(lab):
    from containerlab.widgets.nsmap import NamespaceExplorer

    web = lab.start(BUSYBOX, SLEEP, name="web")
    explorer = NamespaceExplorer(lab)
    assert "web" in explorer.network_of.options
    assert explorer.last_diagram is not None and "host vs web" in explorer.last_diagram.summary
    hosty = explorer.start(share=("uts", "ipc"))
    assert hosty.short_name == "explore-1"
    assert {"uts", "ipc"} <= shared_with_host(hosty) and "pid" not in shared_with_host(hosty)
    joined = explorer.start(network_of="web")
    pair = compare_namespaces({"web": container_namespaces(web), "joined": container_namespaces(joined)})
    assert "net" in pair.shared("web", "joined")
    assert "explore-2" in explorer.map_view.value and "--network=container:web" in explorer.map_view.value
    assert "explore-1" in explorer.network_of.options
    assert all(c.inspect()["HostConfig"]["Privileged"] is False for c in (hosty, joined))

    with pytest.raises(LabError, match="not both"):
        explorer.start(share=["net"], network_of="web")
    with pytest.raises(LabError, match="user"):
        explorer.start(share="user")
    with pytest.raises(LabError, match="no container 'ghost'"):
        explorer.start(network_of="ghost")

    explorer.network_of.value = "web"
    explorer.share_host["net"].value = True
    assert explorer.network_of.disabled
    explorer.start_button.click()
    assert "Started explore-3" in explorer.status.value
    assert "net" in shared_with_host(lab.container("explore-3"))
    explorer.share_host["net"].value = False
    assert not explorer.network_of.disabled
    explorer.remove_button.click()
    assert "Removed 3 container(s)" in explorer.status.value
    assert [c.short_name for c in lab_containers(lab)] == ["web"]
    assert explorer.started == [] and "explore-1" not in explorer.map_view.value
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and bundle["image/svg+xml"].startswith("<svg")


def test_explorer_without_an_engine_says_so():
    from containerlab.widgets.nsmap import NamespaceExplorer

    offline = SimpleNamespace(available=False, why_unavailable="no engine answered")
    explorer = NamespaceExplorer(offline)
    assert explorer.start_button.disabled and "No container engine" in explorer.status.value
    assert explorer.last_diagram is None


@needs_root
@pytest.mark.skipif(not shutil.which("unshare"), reason="unshare (util-linux) is not installed")
def test_run_on_host_runs_and_reports_failures():
    assert run_on_host(["unshare", "--uts", "sh", "-c", "hostname x-02 && hostname"]).strip() == "x-02"
    with pytest.raises(LabError, match="longer than"):
        run_on_host(["sleep", "5"], timeout=0.2)
    with pytest.raises(LabError, match="exit code 3"):
        run_on_host(["sh", "-c", "exit 3"])
    with pytest.raises(HostToolMissingError):
        run_on_host(["no-such-tool-02"])


def test_tools_ready_names_what_is_missing(capsys):
    assert tools_ready("sh", task="a shell")
    assert not tools_ready("sh", "no-such-tool-02", task="something")
    assert capsys.readouterr().out.strip() == ("Skipped: something needs no-such-tool-02 "
                                               "(not installed here; Debian: util-linux, iproute2).")
