"""A Compose file (Compose Specification) read into services, networks, volumes and their graph.

Pure: text and mappings in, frozen models out. Variables are interpolated the way Docker
Compose does it (``$VAR``, ``${VAR:-default}``, ``${VAR:?error}``, ``$$``, a ``.env`` file
where the process environment wins), then the file is checked the way Compose checks it
(unknown keys, undefined networks and volumes, unknown services in ``depends_on``,
dependency cycles, bad ports and durations). Every error names the line and the key path.
YAML itself is read by :mod:`containerlab.compose.yaml_lines`, imported only when a file is loaded.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path

from ..errors import ParseError
from .dotenv import parse_dotenv
from .fields import (
    _PROTOCOLS,
    _RESOURCE_NAME,
    _host_ip,
    _port_range,
    normalize_project_name,
    parse_duration,
    parse_port,
    parse_volume,
)
from .interpolate import _substitute, _TemplateError
from .model import (
    CONDITIONS,
    DEFAULT_NETWORK,
    Build,
    ComposeProject,
    Dependency,
    EnvFile,
    HealthCheck,
    Mount,
    Network,
    NetworkAttachment,
    PortMapping,
    Service,
    Volume,
    _span,
)

_PROJECT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_RESTART = re.compile(r"no|always|unless-stopped|on-failure(:[0-9]+)?")
_TRUTHY = {"y", "yes", "true", "on"}
_FALSY = {"n", "no", "false", "off"}
_TOP_KEYS = {"version", "name", "include", "services", "networks", "volumes", "secrets", "configs",
             "models"}
_SERVICE_KEYS = {
    "annotations", "attach", "blkio_config", "build", "cap_add", "cap_drop", "cgroup", "cgroup_parent",
    "command", "configs", "container_name", "cpu_count", "cpu_percent", "cpu_period", "cpu_quota",
    "cpu_rt_period", "cpu_rt_runtime", "cpu_shares", "cpus", "cpuset", "credential_spec", "depends_on",
    "deploy", "develop", "device_cgroup_rules", "devices", "dns", "dns_opt", "dns_search", "domainname",
    "entrypoint", "env_file", "environment", "expose", "extends", "external_links", "extra_hosts", "gpus",
    "group_add", "healthcheck", "hostname", "image", "init", "ipc", "isolation", "label_file", "labels",
    "links", "logging", "mac_address", "mem_limit", "mem_reservation", "mem_swappiness", "memswap_limit",
    "models", "network_mode", "networks", "oom_kill_disable", "oom_score_adj", "pid", "pids_limit",
    "platform", "ports", "post_start", "pre_stop", "privileged", "profiles", "provider", "pull_policy",
    "pull_refresh_after", "read_only", "restart", "runtime", "scale", "secrets", "security_opt",
    "shm_size", "stdin_open", "stop_grace_period", "stop_signal", "storage_opt", "sysctls", "tmpfs",
    "tty", "ulimits", "use_api_socket", "user", "userns_mode", "uts", "volumes", "volumes_from",
    "working_dir",
}
_BUILD_KEYS = {"context", "dockerfile", "dockerfile_inline", "args", "ssh", "labels", "cache_from",
               "cache_to", "no_cache", "additional_contexts", "network", "pull", "target", "shm_size",
               "extra_hosts", "isolation", "privileged", "secrets", "tags", "ulimits", "platforms",
               "entitlements", "provenance", "sbom"}
_HEALTH_KEYS = {"test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"}
_PORT_KEYS = {"name", "mode", "host_ip", "target", "published", "protocol", "app_protocol"}
_MOUNT_KEYS = {"type", "source", "target", "read_only", "consistency", "bind", "volume", "tmpfs", "image"}
_MOUNT_TYPES = ("volume", "bind", "tmpfs", "npipe", "cluster", "image")
_DEPENDS_KEYS = {"condition", "required", "restart"}
_ATTACH_KEYS = {"aliases", "ipv4_address", "ipv6_address", "link_local_ips", "mac_address",
                "driver_opts", "priority", "gw_priority", "interface_name"}
_DEPLOY_KEYS = {"mode", "replicas", "labels", "resources", "restart_policy", "placement",
                "update_config", "rollback_config", "endpoint_mode"}
_NETWORK_KEYS = {"name", "driver", "driver_opts", "ipam", "external", "internal", "enable_ipv4",
                 "enable_ipv6", "attachable", "labels"}
_VOLUME_KEYS = {"name", "driver", "driver_opts", "external", "labels"}

YamlPath = tuple[str | int, ...]

# --------------------------------------------------------------------------- loading


def load_compose(text: str, *, environ: Mapping[str, str] | None = None, dotenv: str | None = None,
                 source: str = "compose.yaml", project_name: str | None = None) -> ComposeProject:
    """Read Compose YAML text into a checked :class:`ComposeProject`.

    ``environ`` defaults to the process environment (as Compose); ``dotenv`` is the text of a
    ``.env`` file, whose values the environment overrides. Raises ParseError naming line and key.
    """
    return _load(text, environ, dotenv, source, ".env", project_name, None)


def load_compose_file(path: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None,
                      env_file: str | os.PathLike[str] | None = None,
                      project_name: str | None = None) -> ComposeProject:
    """Read a compose file, with the ``.env`` beside it (or ``env_file``) as Compose does.

    The project name defaults to the file's top-level ``name`` or else its directory's name.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise ParseError(f"Cannot read {file}: {err.strerror}.",
                         "Check the path; compose files are usually called compose.yaml.") from None
    dotenv_path = Path(env_file) if env_file is not None else file.parent / ".env"
    dotenv = None
    if dotenv_path.is_file():
        dotenv = dotenv_path.read_text(encoding="utf-8")
    elif env_file is not None:
        raise ParseError(f"Cannot read the env file {dotenv_path}.", "Check its path, or leave env_file out.")
    fallback = normalize_project_name(file.resolve().parent.name) or None
    return _load(text, environ, dotenv, file.name, str(dotenv_path), project_name, fallback)


def _load(text: str, environ: Mapping[str, str] | None, dotenv: str | None, source: str, dotenv_source: str,
          project_name: str | None, fallback_name: str | None) -> ComposeProject:
    """Interpolation variables are the .env values overridden by the environment, then read."""
    from .yaml_lines import load_yaml

    env = dict(os.environ if environ is None else environ)
    dotenv_values = parse_dotenv(dotenv, environ=env, source=dotenv_source) if dotenv else {}
    document = load_yaml(text, source=source)
    return _Reader(document, {**dotenv_values, **env}, project_name, fallback_name).project()


class _Reader:
    """Walks the interpolated document, building models and raising located ParseErrors."""

    def __init__(self, document: object, variables: Mapping[str, str], project_name: str | None,
                 fallback_name: str | None = None) -> None:
        self.document = document
        self.source = document.source  # type: ignore[attr-defined]
        self.variables = variables
        self.project_name = project_name
        self.fallback_name = fallback_name
        self.warnings: list[str] = []
        self.edge_paths: dict[tuple[str, str], YamlPath] = {}
        self.network_paths: dict[tuple[str, str], YamlPath] = {}

    # ---- errors and coercions

    def error(self, path: YamlPath, message: str, hint: str) -> ParseError:
        from .yaml_lines import format_path

        line = self.document.line(path)  # type: ignore[attr-defined]
        where = self.source + (f" line {line}" if line else "") + (f", {format_path(path)}" if path else "")
        return ParseError(f"{where}: {message}", hint)

    def mapping(self, value: object, path: YamlPath, allowed: set[str] | None = None) -> dict[str, object]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(path, f"expected a mapping of keys, got {_kind(value)}.",
                             "Indent the keys below this one, e.g. 'image: busybox'." if path else
                             "A compose file is a mapping: services:, and optionally networks: and volumes:.")
        if allowed is not None:
            for key in value:
                if key not in allowed and not key.startswith("x-"):
                    close = difflib.get_close_matches(key, sorted(allowed), n=1)
                    hint = f"Did you mean '{close[0]}'?" if close else \
                        "Check the spelling against the Compose Specification (extensions start with x-)."
                    raise self.error((*path, key), f"'{key}' is not a valid key here.", hint)
        return value

    def string(self, value: object, path: YamlPath) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise self.error(path, f"expected a string, got {_kind(value)}.", "Quote the value.")

    def optional_string(self, value: object, path: YamlPath) -> str | None:
        return None if value is None else self.string(value, path)

    def integer(self, value: object, path: YamlPath, minimum: int = 0) -> int:
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and re.fullmatch(r"[-+]?[0-9]+", value.strip()):
            number = int(value)
        if number is None:
            raise self.error(path, f"expected a whole number, got {_kind(value)}.", "Write a number such as 3.")
        if number < minimum:
            raise self.error(path, f"{number} is below the minimum {minimum}.", f"Use {minimum} or more.")
        return number

    def boolean(self, value: object, path: YamlPath) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUTHY | _FALSY:
            return value.strip().lower() in _TRUTHY
        raise self.error(path, f"expected true or false, got {_kind(value)}.", "Write true or false.")

    def duration(self, value: object, path: YamlPath) -> float:
        try:
            return parse_duration(value)  # type: ignore[arg-type]
        except ValueError as err:
            raise self.error(path, f"{err}.", "Durations are written like 10s, 1m30s, 500ms or 1h.") from None

    def strings(self, value: object, path: YamlPath, *, single: bool = True) -> tuple[str, ...]:
        if isinstance(value, str) and single:
            return (value,)
        if not isinstance(value, list):
            raise self.error(path, f"expected a list, got {_kind(value)}.", "Write one '- item' per line.")
        return tuple(self.string(item, (*path, i)) for i, item in enumerate(value))

    def list_or_dict(self, value: object, path: YamlPath, *, inherit: bool) -> dict[str, str | None]:
        """``[A=1, B]`` or ``{A: 1, B: null}``; a bare name takes its value from the environment
        when ``inherit`` (environment, build args), else becomes "" (labels)."""
        result: dict[str, str | None] = {}
        if value is None:
            return result
        if isinstance(value, dict):
            items = [(key, item, (*path, key)) for key, item in value.items()]
        elif isinstance(value, list):
            items = []
            for i, entry in enumerate(value):
                text = self.string(entry, (*path, i))
                key, sep, item = text.partition("=")
                items.append((key, item if sep else None, (*path, i)))
        else:
            raise self.error(path, f"expected a list of NAME=value or a mapping, got {_kind(value)}.",
                             "Write '- NAME=value' lines or 'NAME: value' keys.")
        for key, item, item_path in items:
            if not key:
                raise self.error(item_path, "an entry has an empty name.", "Write NAME=value.")
            if item is None:
                result[key] = self.variables.get(key) if inherit else ""
            elif isinstance(item, bool):
                result[key] = "true" if item else "false"
            elif isinstance(item, (dict, list)):
                raise self.error(item_path, f"expected a single value, got {_kind(item)}.", "Quote the value.")
            else:
                result[key] = str(item)
        return result

    # ---- the document

    def project(self) -> ComposeProject:
        data = self.interpolated(self.document.data, ())  # type: ignore[attr-defined]
        if data is None:
            raise self.error((), "the file is empty.", "A compose file needs at least 'services:'.")
        top = self.mapping(data, (), _TOP_KEYS)
        for unsupported in ("include",):
            if unsupported in top:
                raise self.error((unsupported,), f"'{unsupported}' is not supported by the course's reader.",
                                 "Run 'docker compose config' to merge the files into one, and read that.")
        if "version" in top:
            self.warnings.append(f"{self.source}: the attribute 'version' is obsolete and ignored.")
        name = self.project_name
        if name is None and top.get("name") is not None:
            name = self.string(top["name"], ("name",))
            if not _PROJECT_NAME.fullmatch(name):
                raise self.error(("name",), f"project name {name!r} is not valid.",
                                 "Use lower-case letters, digits, '-' and '_', starting with a letter or digit.")
        services_data = self.mapping(top.get("services"), ("services",))
        if not services_data:
            raise self.error(("services",) if "services" in top else (),
                             "the file defines no services.", "Add a 'services:' mapping with at least one service.")
        networks = self.networks(self.mapping(top.get("networks"), ("networks",)))
        volumes = self.volumes(self.mapping(top.get("volumes"), ("volumes",)))
        services: dict[str, Service] = {}
        for service_name, body in services_data.items():
            services[service_name] = self.service(service_name, body)
        if any(DEFAULT_NETWORK in s.network_names for s in services.values()) and DEFAULT_NETWORK not in networks:
            networks = {DEFAULT_NETWORK: Network(DEFAULT_NETWORK, declared=False), **networks}
        self.check_references(services, networks, volumes)
        self.check_cycles(services)
        self.check_runtime(services)
        return ComposeProject(name=name or self.fallback_name, services=services, networks=networks,
                              volumes=volumes, warnings=tuple(dict.fromkeys(self.warnings)), source=self.source)

    def interpolated(self, value: object, path: YamlPath) -> object:
        if isinstance(value, str):
            missing: list[str] = []
            try:
                result = _substitute(value, self.variables, missing)
            except _TemplateError as err:
                raise self.error(path, str(err), err.hint) from None
            for name in missing:
                self.warnings.append(f'The "{name}" variable is not set. Defaulting to a blank string.')
            return result
        if isinstance(value, dict):
            return {key: self.interpolated(item, (*path, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [self.interpolated(item, (*path, i)) for i, item in enumerate(value)]
        return value

    def networks(self, data: dict[str, object]) -> dict[str, Network]:
        networks: dict[str, Network] = {}
        for name, body in data.items():
            path = ("networks", name)
            self.resource_name(name, path, "network")
            spec = self.mapping(body, path, _NETWORK_KEYS)
            external = self.boolean(spec["external"], (*path, "external")) if "external" in spec else False
            if external and "driver" in spec:
                raise self.error((*path, "driver"), f"network {name!r} is external, so it cannot set a driver.",
                                 "Compose does not create external networks: remove 'driver' or 'external'.")
            networks[name] = Network(
                name=name,
                driver=self.optional_string(spec.get("driver"), (*path, "driver")),
                internal=self.boolean(spec["internal"], (*path, "internal")) if "internal" in spec else False,
                external=external,
                real_name=self.optional_string(spec.get("name"), (*path, "name")),
                labels={k: v or "" for k, v in self.list_or_dict(spec.get("labels"), (*path, "labels"),
                                                                   inherit=False).items()},
            )
        return networks

    def volumes(self, data: dict[str, object]) -> dict[str, Volume]:
        volumes: dict[str, Volume] = {}
        for name, body in data.items():
            path = ("volumes", name)
            self.resource_name(name, path, "volume")
            spec = self.mapping(body, path, _VOLUME_KEYS)
            external = self.boolean(spec["external"], (*path, "external")) if "external" in spec else False
            if external and "driver" in spec:
                raise self.error((*path, "driver"), f"volume {name!r} is external, so it cannot set a driver.",
                                 "Compose does not create external volumes: remove 'driver' or 'external'.")
            volumes[name] = Volume(
                name=name,
                driver=self.optional_string(spec.get("driver"), (*path, "driver")),
                external=external,
                real_name=self.optional_string(spec.get("name"), (*path, "name")),
                labels={k: v or "" for k, v in self.list_or_dict(spec.get("labels"), (*path, "labels"),
                                                                   inherit=False).items()},
            )
        return volumes

    def resource_name(self, name: str, path: YamlPath, what: str) -> None:
        if not _RESOURCE_NAME.fullmatch(name):
            raise self.error(path, f"{what} name {name!r} has characters Compose does not allow.",
                             "Use letters, digits, '.', '_' and '-' only.")

    def service(self, name: str, body: object) -> Service:
        path: YamlPath = ("services", name)
        self.resource_name(name, path, "service")
        spec = self.mapping(body, path, _SERVICE_KEYS)
        if "extends" in spec:
            raise self.error((*path, "extends"), "'extends' is not supported by the course's reader.",
                             "Run 'docker compose config' to expand it, and read that output.")
        image = self.optional_string(spec.get("image"), (*path, "image"))
        build = self.build(spec["build"], (*path, "build")) if "build" in spec else None
        if image is None and build is None:
            raise self.error(path, f"service {name!r} has neither an image nor a build context.",
                             "Add 'image: NAME' or 'build: ./DIRECTORY' to the service.")
        network_mode = self.optional_string(spec.get("network_mode"), (*path, "network_mode"))
        if network_mode is not None and spec.get("networks") is not None:
            raise self.error((*path, "network_mode"), "'network_mode' and 'networks' cannot both be set.",
                             "Keep one: network_mode replaces the service's networks.")
        networks = self.attachments(spec.get("networks"), (*path, "networks"))
        if network_mode is None and not networks:
            networks = (NetworkAttachment(DEFAULT_NETWORK),)
        volumes = tuple(self.mount(item, (*path, "volumes", i))
                        for i, item in enumerate(self.list_of(spec.get("volumes"), (*path, "volumes"))))
        tmpfs = tuple(self.tmpfs(item, (*path, "tmpfs"))
                      for item in (self.strings(spec["tmpfs"], (*path, "tmpfs")) if "tmpfs" in spec else ()))
        replicas = self.replicas(spec, path)
        restart = self.string(spec.get("restart", "no"), (*path, "restart"))
        if not _RESTART.fullmatch(restart):
            raise self.error((*path, "restart"), f"restart policy {restart!r} is not valid.",
                             "Use no, always, on-failure[:N] or unless-stopped.")
        depends = [*self.depends_on(spec.get("depends_on"), (*path, "depends_on")),
                   *self.implicit_dependencies(spec, path, network_mode)]
        return Service(
            name=name,
            image=image,
            build=build,
            command=self.command(spec.get("command"), (*path, "command")),
            entrypoint=self.command(spec.get("entrypoint"), (*path, "entrypoint")),
            environment=self.list_or_dict(spec.get("environment"), (*path, "environment"), inherit=True),
            env_files=self.env_files(spec.get("env_file"), (*path, "env_file")),
            ports=tuple(self.port(item, (*path, "ports", i))
                        for i, item in enumerate(self.list_of(spec.get("ports"), (*path, "ports")))),
            expose=tuple(self.expose(item, (*path, "expose", i))
                         for i, item in enumerate(self.list_of(spec.get("expose"), (*path, "expose")))),
            volumes=volumes + tmpfs,
            networks=networks,
            network_mode=network_mode,
            depends_on=tuple(depends),
            healthcheck=self.healthcheck(spec["healthcheck"], (*path, "healthcheck"))
            if spec.get("healthcheck") is not None else None,
            replicas=replicas,
            restart=restart,
            labels={k: v or "" for k, v in self.list_or_dict(spec.get("labels"), (*path, "labels"),
                                                               inherit=False).items()},
            profiles=self.strings(spec["profiles"], (*path, "profiles"), single=False) if "profiles" in spec else (),
            container_name=self.optional_string(spec.get("container_name"), (*path, "container_name")),
            hostname=self.optional_string(spec.get("hostname"), (*path, "hostname")),
            line=self.document.line(path) or 0,  # type: ignore[attr-defined]
        )

    def list_of(self, value: object, path: YamlPath) -> list[object]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(path, f"expected a list, got {_kind(value)}.", "Write one '- item' per line.")
        return value

    def build(self, value: object, path: YamlPath) -> Build:
        if isinstance(value, str):
            return Build(context=value)
        spec = self.mapping(value, path, _BUILD_KEYS)
        return Build(
            context=self.string(spec.get("context", "."), (*path, "context")),
            dockerfile=self.optional_string(spec.get("dockerfile"), (*path, "dockerfile")),
            args=self.list_or_dict(spec.get("args"), (*path, "args"), inherit=True),
            target=self.optional_string(spec.get("target"), (*path, "target")),
        )

    def command(self, value: object, path: YamlPath) -> str | tuple[str, ...] | None:
        if value is None:
            return None
        if isinstance(value, str):
            return value
        return self.strings(value, path, single=False)

    def env_files(self, value: object, path: YamlPath) -> tuple[EnvFile, ...]:
        if value is None:
            return ()
        entries = [value] if isinstance(value, str) else self.list_of(value, path)
        files = []
        for i, entry in enumerate(entries):
            entry_path = path if isinstance(value, str) else (*path, i)
            if isinstance(entry, dict):
                spec = self.mapping(entry, entry_path, {"path", "required", "format"})
                if "path" not in spec:
                    raise self.error(entry_path, "an env_file entry needs a 'path'.", "Write 'path: ./app.env'.")
                required = self.boolean(spec["required"], (*entry_path, "required")) if "required" in spec else True
                files.append(EnvFile(self.string(spec["path"], (*entry_path, "path")), required))
            else:
                files.append(EnvFile(self.string(entry, entry_path)))
        return tuple(files)

    def port(self, value: object, path: YamlPath) -> PortMapping:
        if isinstance(value, dict):
            spec = self.mapping(value, path, _PORT_KEYS)
            if "target" not in spec:
                raise self.error(path, "a long-syntax port needs a 'target' (the container port).",
                                 "Write 'target: 80' and, to publish it, 'published: \"8080\"'.")
            try:
                target, target_end = _port_range(str(spec["target"]), "container port")
                published = published_end = None
                if spec.get("published") not in (None, ""):
                    published, published_end = _port_range(str(spec["published"]), "host port")
                host_ip = _host_ip(self.string(spec["host_ip"], (*path, "host_ip"))) \
                    if spec.get("host_ip") not in (None, "") else None
            except ValueError as err:
                raise self.error(path, f"{err}.", "Ports are numbers from 1 to 65535.") from None
            protocol = self.string(spec.get("protocol", "tcp"), (*path, "protocol"))
            if protocol not in _PROTOCOLS:
                raise self.error((*path, "protocol"), f"protocol {protocol!r} is not tcp, udp or sctp.",
                                 "Use tcp (the default), udp or sctp.")
            mode = self.string(spec.get("mode", "ingress"), (*path, "mode"))
            return PortMapping(target=target, published=published, host_ip=host_ip, protocol=protocol,
                               target_end=target_end, published_end=published_end, mode=mode,
                               name=self.optional_string(spec.get("name"), (*path, "name")))
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.error(path, f"expected a port such as \"127.0.0.1:8080:80\", got {_kind(value)}.",
                             "Quote short port specs: \"127.0.0.1:8080:80\".")
        try:
            return parse_port(value)
        except ValueError as err:
            raise self.error(path, f"bad port {str(value)!r}: {err}.",
                             "Write [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], "
                             "e.g. \"127.0.0.1:8080:80\".") from None

    def expose(self, value: object, path: YamlPath) -> str:
        text = self.string(value, path)
        port, _, protocol = text.partition("/")
        try:
            first, last = _port_range(port, "exposed port")
        except ValueError as err:
            raise self.error(path, f"{err}.", "Write a container port such as 8080 or 8000-8010/udp.") from None
        if protocol and protocol not in _PROTOCOLS:
            raise self.error(path, f"protocol {protocol!r} is not tcp, udp or sctp.", "Use tcp, udp or sctp.")
        return _span(first, last) + (f"/{protocol}" if protocol else "")

    def mount(self, value: object, path: YamlPath) -> Mount:
        if isinstance(value, str):
            try:
                return parse_volume(value)
            except ValueError as err:
                raise self.error(path, f"bad volume: {err}.",
                                 "Write NAME:/path (named volume), ./dir:/path (bind) or /path (anonymous), "
                                 "optionally followed by :ro.") from None
        spec = self.mapping(value, path, _MOUNT_KEYS)
        kind = self.string(spec.get("type", ""), (*path, "type"))
        if kind not in _MOUNT_TYPES:
            raise self.error((*path, "type"), f"mount type {kind!r} is not one of {', '.join(_MOUNT_TYPES)}.",
                             "Use type: volume, bind or tmpfs.")
        target = self.string(spec.get("target", ""), (*path, "target"))
        if not target.startswith("/"):
            raise self.error((*path, "target"), f"the mount target {target!r} must be an absolute path.",
                             "Write the path inside the container, e.g. target: /data.")
        source = self.optional_string(spec.get("source"), (*path, "source")) or None
        if kind == "bind" and source is None:
            raise self.error(path, "a bind mount needs a 'source' path on the host.", "Add source: ./dir.")
        if kind == "tmpfs" and source is not None:
            raise self.error((*path, "source"), "a tmpfs mount has no source.", "Remove 'source'.")
        if kind == "volume" and source is not None and not _RESOURCE_NAME.fullmatch(source):
            raise self.error((*path, "source"), f"{source!r} is not a volume name.",
                             "Use type: bind for host paths.")
        read_only = self.boolean(spec["read_only"], (*path, "read_only")) if "read_only" in spec else False
        return Mount(type=kind, target=target, source=source, read_only=read_only)

    def tmpfs(self, value: str, path: YamlPath) -> Mount:
        target, _, options = value.partition(":")
        if not target.startswith("/"):
            raise self.error(path, f"tmpfs target {target!r} must be an absolute path.", "Write e.g. /run.")
        return Mount(type="tmpfs", target=target, options=tuple(o for o in options.split(",") if o))

    def attachments(self, value: object, path: YamlPath) -> tuple[NetworkAttachment, ...]:
        if value is None:
            return ()
        if isinstance(value, list):
            names = []
            for i, item in enumerate(value):
                names.append(self.string(item, (*path, i)))
                self.network_paths.setdefault((str(path[1]), names[-1]), (*path, i))
            return tuple(NetworkAttachment(name) for name in names)
        spec = self.mapping(value, path)
        attachments = []
        for network, body in spec.items():
            item_path = (*path, network)
            self.network_paths.setdefault((str(path[1]), network), item_path)
            options = self.mapping(body, item_path, _ATTACH_KEYS)
            aliases = self.strings(options["aliases"], (*item_path, "aliases"), single=False) \
                if options.get("aliases") is not None else ()
            attachments.append(NetworkAttachment(
                network, aliases,
                self.optional_string(options.get("ipv4_address"), (*item_path, "ipv4_address")),
                self.optional_string(options.get("ipv6_address"), (*item_path, "ipv6_address"))))
        return tuple(attachments)

    def depends_on(self, value: object, path: YamlPath) -> list[Dependency]:
        if value is None:
            return []
        if isinstance(value, list):
            found = []
            for i, item in enumerate(value):
                found.append(Dependency(self.string(item, (*path, i))))
                self.edge_paths.setdefault((str(path[1]), found[-1].service), (*path, i))
            return found
        spec = self.mapping(value, path)
        dependencies = []
        for target, body in spec.items():
            item_path = (*path, target)
            self.edge_paths.setdefault((str(path[1]), target), item_path)
            options = self.mapping(body, item_path, _DEPENDS_KEYS)
            condition = self.string(options.get("condition", "service_started"), (*item_path, "condition"))
            if condition not in CONDITIONS:
                raise self.error((*item_path, "condition"), f"condition {condition!r} is not valid.",
                                 f"Use one of: {', '.join(CONDITIONS)}.")
            required = self.boolean(options["required"], (*item_path, "required")) if "required" in options else True
            restart = self.boolean(options["restart"], (*item_path, "restart")) if "restart" in options else False
            dependencies.append(Dependency(target, condition, required, restart))
        return dependencies

    def implicit_dependencies(self, spec: dict[str, object], path: YamlPath,
                              network_mode: str | None) -> list[Dependency]:
        """Edges Compose adds by itself: links, volumes_from and network_mode: service:NAME."""
        found: list[Dependency] = []
        if network_mode is not None and network_mode.startswith("service:"):
            found.append(Dependency(network_mode.split(":", 1)[1], via="network_mode"))
            self.edge_paths.setdefault((str(path[1]), found[-1].service), (*path, "network_mode"))
        for key in ("volumes_from", "links"):
            if key not in spec:
                continue
            for i, entry in enumerate(self.strings(spec[key], (*path, key), single=False)):
                if entry.startswith("container:"):
                    continue
                found.append(Dependency(entry.split(":", 1)[0], via=key))
                self.edge_paths.setdefault((str(path[1]), found[-1].service), (*path, key, i))
        return found

    def healthcheck(self, value: object, path: YamlPath) -> HealthCheck:
        spec = self.mapping(value, path, _HEALTH_KEYS)
        disabled = self.boolean(spec["disable"], (*path, "disable")) if "disable" in spec else False
        test: tuple[str, ...] = ()
        if spec.get("test") is not None:
            if disabled:
                raise self.error((*path, "test"), "a health check cannot set both 'test' and 'disable: true'.",
                                 "Remove 'test' to disable the check, or 'disable' to keep it.")
            raw = spec["test"]
            if isinstance(raw, str):
                test = ("CMD-SHELL", raw)
            else:
                test = self.strings(raw, (*path, "test"), single=False)
                if not test or test[0] not in ("CMD", "CMD-SHELL", "NONE"):
                    raise self.error((*path, "test"), "a test list must start with CMD, CMD-SHELL or NONE.",
                                     'Write test: ["CMD", "prog", "arg"] or test: ["CMD-SHELL", "shell command"].')
                if test[0] == "NONE":
                    disabled, test = True, ()
                elif len(test) < 2:
                    raise self.error((*path, "test"), f"{test[0]} needs a command after it.",
                                     'Write e.g. test: ["CMD", "true"].')
        durations = {key: self.duration(spec[key], (*path, key))
                     for key in ("interval", "timeout", "start_period", "start_interval") if key in spec}
        return HealthCheck(
            test=test,
            retries=self.integer(spec["retries"], (*path, "retries")) if "retries" in spec else None,
            disabled=disabled,
            **durations,
        )

    def replicas(self, spec: dict[str, object], path: YamlPath) -> int:
        scale = self.integer(spec["scale"], (*path, "scale")) if spec.get("scale") is not None else None
        deploy = self.mapping(spec.get("deploy"), (*path, "deploy"), _DEPLOY_KEYS)
        replicas = self.integer(deploy["replicas"], (*path, "deploy", "replicas")) \
            if deploy.get("replicas") is not None else None
        if scale is not None and replicas is not None and scale != replicas:
            raise self.error((*path, "scale"), f"scale ({scale}) and deploy.replicas ({replicas}) disagree.",
                             "Set only one of them.")
        count = scale if scale is not None else replicas if replicas is not None else 1
        if count > 1 and spec.get("container_name") is not None:
            raise self.error((*path, "container_name"),
                             f"{count} replicas cannot share the container name {spec['container_name']!r}.",
                             "Remove container_name (Compose then names them NAME-1, NAME-2, ...) "
                             "or run one replica.")
        return count

    # ---- cross references

    def check_references(self, services: dict[str, Service], networks: dict[str, Network],
                         volumes: dict[str, Volume]) -> None:
        names = list(services)
        for service in services.values():
            base: YamlPath = ("services", service.name)
            for dependency in service.depends_on:
                where = self.edge_paths.get((service.name, dependency.service), base)
                if dependency.service == service.name:
                    raise self.error(where, f"service {service.name!r} depends on itself.",
                                     f"Remove {service.name} from its own {dependency.via}.")
                if dependency.service in services:
                    continue
                close = difflib.get_close_matches(dependency.service, names, n=1)
                raise self.error(where, f"service {service.name!r} depends on undefined service "
                                        f"{dependency.service!r}.",
                                 f"Did you mean '{close[0]}'?" if close else
                                 f"Define it under services: (services here: {', '.join(names)}).")
            for attachment in service.networks:
                if attachment.network not in networks:
                    close = difflib.get_close_matches(attachment.network, list(networks), n=1)
                    raise self.error(self.network_paths.get((service.name, attachment.network), base),
                                     f"service {service.name!r} uses undefined network {attachment.network!r}.",
                                     f"Did you mean '{close[0]}'?" if close else
                                     f"Declare it under the top-level networks: key ({attachment.network}: {{}}).")
            for i, mount in enumerate(service.volumes):
                volume = mount.named_volume
                if volume is not None and volume not in volumes:
                    close = difflib.get_close_matches(volume, list(volumes), n=1)
                    raise self.error((*base, "volumes", i),
                                     f"service {service.name!r} uses undefined volume {volume!r}.",
                                     f"Did you mean '{close[0]}'?" if close else
                                     f"Declare it under the top-level volumes: key ({volume}: {{}}), or write "
                                     f"./{volume} for a bind mount of a host directory.")
            for dependency in service.depends_on:
                target = services[dependency.service]
                if dependency.condition == "service_healthy" and not target.has_healthcheck:
                    self.warnings.append(
                        f"{service.name} waits for {target.name} to be healthy, but this file gives "
                        f"{target.name} no health check (its image must define one).")

    def check_cycles(self, services: dict[str, Service]) -> None:
        state: dict[str, int] = {}
        stack: list[str] = []

        def visit(name: str) -> None:
            state[name] = 1
            stack.append(name)
            for dependency in services[name].depends_on:
                nxt = dependency.service
                if state.get(nxt) == 1:
                    cycle = stack[stack.index(nxt):] + [nxt]
                    raise self.error(self.edge_paths.get((name, nxt), ("services", name)),
                                     "dependency cycle detected: " + " \N{RIGHTWARDS ARROW} ".join(cycle) + ".",
                                     "Compose cannot start any of these first: remove one of the depends_on "
                                     "edges.")
                if nxt not in state:
                    visit(nxt)
            stack.pop()
            state[name] = 2

        for name in services:
            if name not in state:
                visit(name)

    def check_runtime(self, services: dict[str, Service]) -> None:
        """Warnings for what parses but fails at ``up``: two services on one host port."""
        seen: dict[tuple[str, int, str], str] = {}
        for service in services.values():
            for port in service.ports:
                if port.published is None:
                    continue
                for offset in range((port.published_end or port.published) - port.published + 1):
                    key = (port.host_ip or "0.0.0.0", port.published + offset, port.protocol)
                    if key in seen and seen[key] != service.name:
                        self.warnings.append(f"{seen[key]} and {service.name} both publish "
                                             f"{key[0]}:{key[1]}/{key[2]}; the second will fail to start.")
                    seen.setdefault(key, service.name)
            if service.replicas > 1 and any(p.published is not None and p.published_end is None
                                            for p in service.ports):
                self.warnings.append(f"{service.name} runs {service.replicas} replicas on one fixed host "
                                     "port; only the first can bind it.")


def _kind(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return f"{value!r}"
