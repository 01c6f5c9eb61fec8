"""Health checks where nothing schedules them: the pure decisions (which engine needs a timer, how often)."""

from __future__ import annotations

from types import SimpleNamespace

from containerlab.engine.health import check_interval, needs_health_timer
from containerlab.engine.registry import _tls_verify


def test_check_interval_reads_nanoseconds_and_docker_defaults():
    assert check_interval({"Config": {"Healthcheck": {"Test": ["CMD", "true"], "Interval": 1_500_000_000}}}) == 1.5
    assert check_interval({"Config": {"Healthcheck": {"Test": ["CMD-SHELL", "true"]}}}) == 30.0
    assert check_interval({"Config": {"Healthcheck": {"Test": ["NONE"]}}}) is None
    assert check_interval({"Config": {}}) is None and check_interval({}) is None


def test_only_podman_without_systemd_needs_the_timer(tmp_path):
    podman, docker = SimpleNamespace(is_podman=True), SimpleNamespace(is_podman=False)
    assert needs_health_timer(podman, systemd=tmp_path / "absent")
    assert not needs_health_timer(docker, systemd=tmp_path / "absent")
    (tmp_path / "system").mkdir()
    assert not needs_health_timer(podman, systemd=tmp_path / "system")


def test_tls_is_skipped_only_for_registries_on_this_machine():
    assert _tls_verify("127.0.0.1:15000/course/hello:latest") == "false"
    assert _tls_verify("localhost:5000/a/b") == "false"
    assert _tls_verify("registry.example.org/a/b:1") == "true"
    assert _tls_verify("busybox") == "true"
