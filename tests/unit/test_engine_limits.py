"""Which limits an engine can enforce, and what the course does where it cannot (rootless on cgroup v1)."""

import json
from pathlib import Path

import pytest

from containerlab.engine.connect import LIMIT_KINDS, Engine, _describe, enforceable_limits, engine_facts
from containerlab.engine.doctor import LIMITS_HINT, _check_limits
from containerlab.engine.images import BUILD_LIMITS, build_limits
from containerlab.engine.lab import Lab, looks_like_fork_bomb
from containerlab.errors import UnsafeRequestError
from containerlab.report import Report

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "engine"


def engine(*, rootless: bool, limits=frozenset(LIMIT_KINDS), name: str = "podman") -> Engine:
    return Engine(client=None, name=name, version="4.3.1", api_version="1.41", rootless=rootless,
                  cgroup_version="1", storage_driver="vfs", base_url="unix:///tmp/podman-run-1001/podman/podman.sock",
                  limits=frozenset(limits))


ROOTLESS_V1 = engine(rootless=True, limits=())


def recorded_info(name):
    return json.loads((FIXTURES / f"{name}-info.json").read_text())


def test_rootful_docker_enforces_what_its_info_says():
    info = recorded_info("docker-20.10")
    assert enforceable_limits(info, is_podman=False, rootless=False) == frozenset(LIMIT_KINDS)
    assert enforceable_limits({**info, "PidsLimit": False}, is_podman=False, rootless=False) == {"memory", "cpu"}


def test_rootless_docker_without_cgroups_enforces_nothing():
    info = {**recorded_info("docker-20.10"), "CgroupDriver": "none"}
    assert enforceable_limits(info, is_podman=False, rootless=True) == frozenset()


def test_podman_follows_its_delegated_controllers_not_its_compat_info():
    # Podman's compat /info says MemoryLimit: true even rootless on cgroup v1 (seen with 4.3.1 on this machine);
    # /libpod/info's cgroupControllers is [] there, the user's delegated ones on v2, all of them rootful.
    info = {**recorded_info("podman-4.3-rootless"), "MemoryLimit": True, "PidsLimit": True, "CpuCfsQuota": True}
    assert enforceable_limits(info, is_podman=True, rootless=True, controllers=[]) == frozenset()
    assert enforceable_limits(info, is_podman=True, rootless=True, controllers=["memory", "pids"]) == {"memory",
                                                                                                      "pids"}
    rootful = ["cpuset", "cpu", "cpuacct", "blkio", "memory", "devices", "freezer", "pids"]
    assert enforceable_limits(info, is_podman=True, rootless=False, controllers=rootful) == frozenset(LIMIT_KINDS)


def test_rootless_podman_on_v1_enforces_nothing_even_when_libpod_info_does_not_answer():
    info = recorded_info("podman-4.3-rootless")
    assert enforceable_limits(info, is_podman=True, rootless=True) == frozenset()


def test_describe_puts_the_limits_in_the_engine_facts():
    class Recorded:
        def version(self):
            return json.loads((FIXTURES / "podman-4.3-rootless-version.json").read_text())

        def info(self):
            return recorded_info("podman-4.3-rootless")

    found = _describe(Recorded(), "unix:///tmp/podman-run-1001/podman/podman.sock")
    assert found.rootless and found.limits == frozenset() and engine_facts(found)["limits"] == []
    assert found.unenforced == ["memory", "cpu", "pids"]


def test_the_note_names_the_engine_and_what_it_cannot_do():
    assert ROOTLESS_V1.limits_note().startswith("rootless Podman on cgroup v1 cannot enforce memory, CPU or pids "
                                                "limits")
    assert engine(rootless=True, limits={"memory", "pids"}).limits_note().startswith(
        "rootless Podman on cgroup v1 cannot enforce CPU limits")
    assert engine(rootless=False).limits_note() == ""


def test_lab_containers_get_only_enforceable_limits_and_say_so_once(capsys):
    lab = Lab("t", owner="x", engine=ROOTLESS_V1)
    config = lab._host_config({"mem_limit": "64m", "pids_limit": 30, "nano_cpus": 500_000_000})
    assert not {"mem_limit", "memswap_limit", "pids_limit", "nano_cpus"} & set(config)
    lab._host_config({})
    assert capsys.readouterr().out.count("Note: rootless Podman on cgroup v1 cannot enforce") == 1
    rootful = Lab("t", owner="x", engine=engine(rootless=False))._host_config({"nano_cpus": 500_000_000})
    assert rootful["mem_limit"] == "256m" and rootful["pids_limit"] == 256 and rootful["nano_cpus"] == 500_000_000


def test_unlimited_requests_are_refused_everywhere():
    with pytest.raises(UnsafeRequestError, match="all of this machine's memory"):
        Lab("t", owner="x", engine=ROOTLESS_V1)._host_config({"mem_limit": 0})


def test_builds_get_a_memory_limit_only_where_it_holds():
    assert build_limits(engine(rootless=False)) == BUILD_LIMITS
    assert build_limits(ROOTLESS_V1) == {}


@pytest.mark.parametrize("command", [
    ["bash", "-c", "sleep 10 & timer=$!; bomb() { bomb | bomb & }; bomb; wait $timer"],
    ":(){ :|:& };:",
    ["sh", "-c", "f(){ f & f & }; f"],
    ["python3", "-c", "import os\nwhile True:\n    os.fork()"],
])
def test_fork_bombs_are_recognised(command):
    assert looks_like_fork_bomb(command)


@pytest.mark.parametrize("command", [None, ["sleep", "3600"], "f() { echo x; }; f", "loop() { sleep 1 & }; loop",
                                     "g() { g; }", ["sh", "-c", "while :; do :; done"]])
def test_ordinary_commands_are_not_fork_bombs(command):
    assert not looks_like_fork_bomb(command)


def test_a_fork_bomb_is_not_run_where_no_pids_limit_holds():
    lab = Lab("t", owner="x", engine=ROOTLESS_V1)
    with pytest.raises(UnsafeRequestError, match="forks without end") as err:
        lab._create("containerlab/debian", ["bash", "-c", ":(){ :|:& };:"], None, {})
    assert "recorded result" in err.value.hint


def test_a_cell_about_a_limit_skips_in_one_line_where_it_cannot_be_enforced(capsys):
    lab = Lab("t", owner="x", engine=ROOTLESS_V1)
    assert lab.ready_for("engine", "pids", task="containing a fork bomb") is False
    assert capsys.readouterr().out == ("Skipped: containing a fork bomb needs engine and a pids limit (rootless Podman "
                                       "on cgroup v1 cannot enforce a pids limit here).\n")
    assert Lab("t", owner="x", engine=engine(rootless=False)).ready_for("engine", "memory", "cpu", task="x")


def test_doctor_warns_with_what_it_means():
    report = Report()
    _check_limits(report, ROOTLESS_V1)
    assert report["limits"].status == "warn" and report["limits"].hint == LIMITS_HINT
    assert "lesson 03 shows them only on a rootful engine or in the course box" in report.to_text()
    report = Report()
    _check_limits(report, engine(rootless=False))
    assert report["limits"].status == "ok"
