"""Mirror settings are valid config for each engine, and keep what was there."""

import json
import tomllib

import pytest

from containerlab.errors import LabError
from containerlab.workshop.mirrors import (
    daemon_json,
    insecure_registries_conf,
    pull_through_cache_config,
    registries_conf,
)


def test_daemon_json_keeps_settings_and_marks_http_mirrors_insecure():
    text = daemon_json(["http://mirror.lan:5000", "https://cache.example.org"],
                       existing='{"log-driver": "json-file", "registry-mirrors": ["https://old.example"]}')
    settings = json.loads(text)
    assert settings["log-driver"] == "json-file"
    assert settings["registry-mirrors"] == ["https://old.example", "http://mirror.lan:5000",
                                            "https://cache.example.org"]
    assert settings["insecure-registries"] == ["mirror.lan:5000"]
    assert json.loads(daemon_json(["mirror.lan:5000"]))["registry-mirrors"] == ["https://mirror.lan:5000"]
    assert json.loads(daemon_json(["mirror.lan:5000"], insecure=True))["insecure-registries"] == ["mirror.lan:5000"]


@pytest.mark.parametrize("bad", ["ftp://mirror:21", "mirror lan", "http://"])
def test_bad_mirrors_are_refused(bad):
    with pytest.raises(LabError):
        daemon_json([bad])


def test_broken_daemon_json_is_refused():
    with pytest.raises(LabError, match="daemon.json"):
        daemon_json(["mirror.lan:5000"], existing="{not json")


def test_registries_conf_is_toml_podman_reads():
    conf = tomllib.loads(registries_conf(["http://mirror.lan:5000", "cache.example.org"]))
    assert conf["unqualified-search-registries"] == ["docker.io"]
    (registry,) = conf["registry"]
    assert registry["prefix"] == "docker.io" and registry["location"] == "registry-1.docker.io"
    assert registry["mirror"] == [{"location": "mirror.lan:5000", "insecure": True},
                                  {"location": "cache.example.org"}]
    drop_in = tomllib.loads(insecure_registries_conf("127.0.0.1:15000"))
    assert drop_in["registry"] == [{"location": "127.0.0.1:15000", "insecure": True}]


def test_pull_through_cache_config():
    text = pull_through_cache_config(5001, storage="/srv/cache")
    assert "addr: 0.0.0.0:5001" in text and "remoteurl: https://registry-1.docker.io" in text
    assert "rootdirectory: /srv/cache" in text
    with pytest.raises(LabError):
        pull_through_cache_config(70000)
