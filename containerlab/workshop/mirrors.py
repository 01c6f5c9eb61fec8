"""Mirror settings for an offline (or rate-limited) workshop, written as the engines' own config text.

A room of forty laptops behind one conference IP hits Docker Hub's pull limit in minutes. The
fix is one registry in the room that serves the images: a pull-through cache filled before the
workshop, or a plain registry the instructor pushed the images to. Each engine is then told to
ask it first:

- Docker: ``registry-mirrors`` in ``/etc/docker/daemon.json`` (it applies to Docker Hub images
  only), plus ``insecure-registries`` when the mirror speaks plain HTTP;
- Podman (containers/image): a ``[[registry.mirror]]`` in ``/etc/containers/registries.conf``,
  which works for any registry, Docker Hub's included.

Pure: these functions only write text; nothing here changes a machine.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import LabError

__all__ = ["daemon_json", "registries_conf", "insecure_registries_conf", "pull_through_cache_config",
           "DOCKER_HUB", "DOCKER_HUB_API"]

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_HOST_PORT = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9a-fA-F:]+\])"
                        r"(?::\d{1,5})?(?:/[a-z0-9._/-]+)?$")


def _location(text: str) -> tuple[str, str]:
    """(scheme or '', host[:port][/path]) of a mirror, validated."""
    scheme, sep, rest = text.strip().partition("://")
    if not sep:
        scheme, rest = "", text.strip()
    rest = rest.rstrip("/")
    if scheme not in ("", "http", "https") or not _HOST_PORT.match(rest):
        raise LabError(f"{text!r} is not a registry address.",
                       "Write it as host:port (e.g. 192.168.1.10:5000), optionally with http:// or https://.")
    return scheme, rest


def daemon_json(mirrors: Sequence[str], *, insecure: bool | None = None,
                existing: str | Mapping[str, Any] | None = None) -> str:
    """/etc/docker/daemon.json with ``registry-mirrors`` (and ``insecure-registries`` for plain HTTP).

    ``existing``: the current daemon.json (text or dict), whose other settings are kept.
    ``insecure``: whether the mirrors speak plain HTTP; by default, those written ``http://``.
    Restart the daemon after writing it (``sudo systemctl restart docker``).
    """
    if isinstance(existing, str):
        try:
            settings = json.loads(existing) if existing.strip() else {}
        except ValueError as err:
            raise LabError(f"The existing daemon.json is not valid JSON ({err}).",
                           "Fix it first: dockerd refuses to start with a broken daemon.json.") from None
    else:
        settings = dict(existing or {})
    if not isinstance(settings, dict):
        raise LabError("The existing daemon.json is not a JSON object.", "It must look like { \"key\": value }.")
    urls, plain_hosts = [], []
    for mirror in mirrors:
        scheme, host = _location(mirror)
        if "/" in host:
            raise LabError(f"Docker mirrors cannot have a path ({mirror!r}).", "Give only scheme://host:port.")
        scheme = scheme or ("http" if insecure else "https")
        urls.append(f"{scheme}://{host}")
        if insecure or (insecure is None and scheme == "http"):
            plain_hosts.append(host)
    settings["registry-mirrors"] = list(dict.fromkeys([*settings.get("registry-mirrors", []), *urls]))
    if plain_hosts:
        settings["insecure-registries"] = list(dict.fromkeys([*settings.get("insecure-registries", []),
                                                              *plain_hosts]))
    return json.dumps(settings, indent=2, sort_keys=True) + "\n"


def _toml_string(text: str) -> str:
    return json.dumps(text)


def registries_conf(mirrors: Sequence[str], *, prefix: str = DOCKER_HUB, location: str = DOCKER_HUB_API,
                    insecure: bool | None = None, search: Sequence[str] = (DOCKER_HUB,)) -> str:
    """A Podman registries.conf (v2) that pulls ``prefix`` images from ``mirrors`` first, then ``location``.

    ``insecure``: mirrors speak plain HTTP (default: those written ``http://``). Put the text in
    /etc/containers/registries.conf (or a file in registries.conf.d/); no restart is needed.
    """
    lines = [f"unqualified-search-registries = [{', '.join(_toml_string(s) for s in search)}]", "",
             "[[registry]]", f"prefix = {_toml_string(prefix)}", f"location = {_toml_string(_location(location)[1])}"]
    for mirror in mirrors:
        scheme, host = _location(mirror)
        plain = insecure if insecure is not None else scheme == "http"
        lines += ["", "[[registry.mirror]]", f"location = {_toml_string(host)}"]
        if plain:
            lines.append("insecure = true")
    return "\n".join(lines) + "\n"


def insecure_registries_conf(address: str) -> str:
    """A registries.conf.d drop-in letting Podman push to and pull from a plain-HTTP registry at ``address``.

    Docker needs nothing for 127.0.0.0/8 (always allowed); Podman wants it said.
    """
    _, host = _location(address)
    return "\n".join(["[[registry]]", f"location = {_toml_string(host)}", "insecure = true"]) + "\n"


def pull_through_cache_config(port: int = 5000, *, storage: str = "/var/lib/docker-registry",
                              remote: str = "https://" + DOCKER_HUB_API, listen: str = "0.0.0.0") -> str:
    """A Distribution registry config that proxies and caches Docker Hub: the room's mirror.

    Run it on the instructor's machine (``docker-registry serve FILE``), pull every image the
    workshop needs through it once while online, and it serves them offline afterwards.
    """
    if not 0 < int(port) < 65536:
        raise LabError(f"{port} is not a TCP port.", "Use a port between 1 and 65535, e.g. 5000.")
    scheme, host = _location(remote)
    return "\n".join([
        "version: 0.1",
        "log:",
        "  level: info",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {storage}",
        "http:",
        f"  addr: {listen}:{int(port)}",
        "proxy:",
        f"  remoteurl: {scheme or 'https'}://{host}",
    ]) + "\n"
