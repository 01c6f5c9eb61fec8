"""Lesson 07 on the real host: a bundle run by runc with no daemon, start-up timings, Podman's conmon."""

from __future__ import annotations

import os

import pytest

from containerlab.engine.lab import Lab
from containerlab.engine.runtimes import (
    cleanup_runtimes,
    ensure_podman_image,
    id_prefix,
    make_bundle,
    measure_startup,
    parent_chain,
    podman,
    podman_ready,
    podman_remove_lab,
    podman_start,
    run_bundle,
    runtime_containers,
    runtime_path,
)
from containerlab.errors import LabError
from containerlab.runtime.spec import edit_spec

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or runtime_path("runc") is None,
                                reason="runc bundles need root and runc")


@pytest.fixture
def lab(lab_images):
    session = Lab("test-runtimes", engine=lab_images)
    yield session
    podman_remove_lab(session)
    session.cleanup()
    cleanup_runtimes(session)


@pytest.fixture
def bundle(lab):
    return make_bundle(lab)


def test_a_hand_made_bundle_runs_with_runc(lab, bundle):
    probe = "echo $$ $(hostname); touch /x 2>&1; cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max 2>/dev/null; true"
    bundle.write_spec(edit_spec(bundle.read_spec(), args=["sh", "-c", probe], hostname="bundle", readonly=True,
                                memory="32m", terminal=False))
    result = run_bundle(lab, bundle, label="probe")
    lines = result.output.splitlines()
    assert result.ok, result.stderr
    assert lines[0] == "1 bundle"
    assert "Read-only file system" in result.output
    assert str(32 << 20) in lines
    assert result.name.split()[1].startswith(id_prefix(lab))
    assert runtime_containers("runc", id_prefix(lab)) == []


def test_a_hanging_container_is_stopped_and_deleted(lab, bundle):
    bundle.write_spec(edit_spec(bundle.read_spec(), args=["sleep", "60"], terminal=False))
    with pytest.raises(LabError, match="ran longer than"):
        run_bundle(lab, bundle, label="hang", timeout=1)
    assert runtime_containers("runc", id_prefix(lab)) == []


def test_a_terminal_spec_is_switched_off_so_no_tty_is_needed(lab, bundle):
    bundle.write_spec(edit_spec(bundle.read_spec(), args=["true"]))
    assert run_bundle(lab, bundle).ok
    assert bundle.read_spec()["process"]["terminal"] is False


def test_cleanup_removes_leftovers_and_the_bundle(lab, bundle):
    assert bundle.path.exists()
    assert cleanup_runtimes(lab) == 0
    assert not bundle.path.exists()


def test_startup_order(lab, bundle):
    timings, skipped = measure_startup(lab, bundle, runs=2)
    median = {t.label: t.median for t in timings}
    assert {"runc", "unshare"} <= set(median)
    engines = [median[name] for name in ("docker", "podman") if name in median]
    assert engines, skipped
    assert all(median["runc"] < e for e in engines)
    assert median["unshare"] < median["runc"]
    assert bundle.read_spec()["process"]["args"] == ["sh"], "the timing must restore the bundle's spec"


@pytest.mark.skipif(not podman_ready(), reason="podman is not installed")
def test_podman_containers_are_children_of_conmon(lab):
    ensure_podman_image(lab)
    name = podman_start(lab, "daemonless", ["sleep", "60"])
    pid = int(podman(["inspect", "--format", "{{.State.Pid}}", name]).stdout)
    chain = parent_chain(pid)
    assert chain[0] == "conmon" and "podman" not in chain
    assert podman_remove_lab(lab) == 1
    assert podman(["container", "exists", name]).returncode != 0
