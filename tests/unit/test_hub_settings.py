"""The workshop hub's settings and secrets: unsafe or broken settings refused in one line, passwords generated once
(never a default), kept private, and kept across restarts."""

from __future__ import annotations

import pytest

from containerlab.engine import hub


@pytest.mark.parametrize("options, words", [
    ({"ip": "10.1.2.3"}, "127.0.0.1 or (--public)"),
    ({"spawner": "kubernetes"}, "Unknown spawner"),
    ({"tls_cert": "/nonexistent.pem", "tls_key": "/nonexistent.key"}, "does not exist"),
    ({"tls_cert": "/etc/hostname"}, "both a certificate and its key"),
    ({"pids": 10}, "at least 64 processes"),
])
def test_bad_hub_settings_are_refused_in_one_line(options, words):
    with pytest.raises(hub.HubError) as refused:
        hub.HubSettings(**options).check()
    assert words in refused.value.message and "\n" not in refused.value.message


def test_a_short_room_password_is_refused(tmp_path):
    settings = hub.HubSettings(name="pw", state=str(tmp_path))
    with pytest.raises(hub.HubError, match="at least 8 characters"):
        hub.HubSecrets.load_or_create(settings, "short")
    made = hub.HubSecrets.load_or_create(settings)
    assert len(made.password) >= 16 and len(made.admin_password) >= 32 and made.password != made.admin_password
    assert hub.HubSecrets.load_or_create(settings).password == made.password, "kept across restarts"
    assert (tmp_path / "secrets.json").stat().st_mode & 0o077 == 0, "readable by the instructor only"


def test_settings_travel_to_the_config_through_the_environment():
    settings = hub.HubSettings(name="room", owner="ann", port=9000, cpus=0.5, memory="1g", pids=512, idle_timeout=60)
    again = hub.HubSettings.from_env(settings.to_env())
    assert again == settings
    assert again.prefix == "clab-ann-room" and again.network == "clab-ann-room-hub"
    assert again.url == "http://127.0.0.1:9000/"


def test_the_box_flags_become_docker_api_keys():
    """Every privilege flag the box module uses has its Docker API form (a new one would stop here)."""
    assert hub.box_host_config("privileged") == {"privileged": True, "cgroupns": "private"}
    long = hub.box_host_config("long")
    assert long["cap_add"] == ["ALL"] and long["cap_drop"] == ["SYS_RESOURCE"]
    assert long["MaskedPaths"] == [] and long["ReadonlyPaths"] == []
    assert long["device_cgroup_rules"] == ["a *:* rwm"] and long["cgroupns"] == "private"
    assert "seccomp=unconfined" in long["security_opt"]
