"""Lab's safety rules that need no engine: loopback ports, no engine socket, explained privilege, names."""

import pytest

from containerlab.engine.lab import Lab, _loopback_ports, _safe_binds, label_filters
from containerlab.errors import LabError, UnsafeRequestError


def test_ports_bind_loopback_only():
    assert _loopback_ports({80: 8080, "53/udp": None}) == {"80/tcp": ("127.0.0.1", 8080),
                                                          "53/udp": ("127.0.0.1", None)}
    assert _loopback_ports({80: ("127.0.0.1", 8080)}) == {"80/tcp": ("127.0.0.1", 8080)}
    with pytest.raises(UnsafeRequestError, match="0.0.0.0"):
        _loopback_ports({80: ("0.0.0.0", 8080)})


@pytest.mark.parametrize("volumes", [{"/var/run/docker.sock": {"bind": "/s", "mode": "rw"}},
                                     ["/run/podman/podman.sock:/s"], ["/run/docker.sock/:/x"]])
def test_engine_socket_is_never_mounted(volumes):
    with pytest.raises(UnsafeRequestError, match="control of the engine"):
        _safe_binds(volumes)


def test_ordinary_binds_pass():
    assert _safe_binds(["/tmp/data:/data:ro"]) == ["/tmp/data:/data:ro"]


def test_privileged_needs_a_reason():
    lab = Lab("t", owner="x", engine=object())
    with pytest.raises(UnsafeRequestError, match="without saying why"):
        lab._host_config({"privileged": True})
    config = lab._host_config({"privileged": True, "privileged_because": "lesson 10 mounts cgroups"})
    assert config["privileged"] is True


def test_default_limits_and_overrides():
    lab = Lab("t", owner="x", engine=object())
    config = lab._host_config({})
    assert config["mem_limit"] == "256m" and config["pids_limit"] == 256 and config["memswap_limit"] == "256m"
    config = lab._host_config({"mem_limit": "64m", "pids_limit": 20})
    assert config["mem_limit"] == "64m" and config["pids_limit"] == 20


def test_names_are_per_owner_and_lesson():
    a, b = Lab("01-what-is-a-container", owner="ann"), Lab("01-what-is-a-container", owner="Bob Smith")
    assert a.name_for("web") == "clab-ann-01-what-is-a-container-web"
    assert b.name_for("web") == "clab-bob-smith-01-what-is-a-container-web"
    assert a.labels() == {"containerlab.lesson": "01-what-is-a-container", "containerlab.owner": "ann"}
    assert label_filters("x", "ann") == ["containerlab.lesson=x", "containerlab.owner=ann"]
    assert label_filters() == ["containerlab.lesson"]
    with pytest.raises(LabError):
        Lab("///")


def test_pure_modules_do_not_import_the_engine_sdk():
    import subprocess
    import sys

    code = ("import sys, containerlab, containerlab.kernel, containerlab.render, containerlab.report, "
            "containerlab.hostinfo, containerlab.course, containerlab.kernel.process\n"
            "bad = [m for m in ('docker', 'ipywidgets', 'requests') if m in sys.modules]\n"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
