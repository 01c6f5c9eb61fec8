"""The Compose reader's service fields: image, build, command, ports, mounts, networks, dependencies, health checks.

Each field is checked as Compose checks it and normalised as compose-go normalises it (mount targets cleaned, one
mount per container path and one entry per port, links and network_mode edges restarting with their service).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from .coerce import Coercer, _kind
from .fields import (
    _PROTOCOLS,
    _RESOURCE_NAME,
    _host_ip,
    _port_range,
    clean_path,
    parse_port,
    parse_volume,
)
from .model import (
    CONDITIONS,
    DEFAULT_NETWORK,
    Build,
    Dependency,
    EnvFile,
    HealthCheck,
    Mount,
    NetworkAttachment,
    PortMapping,
    Service,
    _span,
)
from .sources import KeyPath, SourceMap

_RESTART = re.compile(r"no|always|unless-stopped|on-failure(:[0-9]+)?")
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


def _port_key(item: object) -> str:
    """What makes two port entries the same one for Compose (the later replaces the earlier)."""
    if isinstance(item, dict):
        return f"{item.get('host_ip', '0.0.0.0')}:{item.get('published')}:{item.get('target')}/" \
               f"{item.get('protocol', 'tcp')}"
    return str(item)


class ServiceReader(Coercer):
    """Reads services; remembers where each dependency, network and secret reference was written."""

    def __init__(self, where: SourceMap, variables: Mapping[str, str], folder: Path | None) -> None:
        super().__init__(where, variables)
        self.folder = folder
        self.edge_paths: dict[tuple[str, str], KeyPath] = {}
        self.network_paths: dict[tuple[str, str], KeyPath] = {}
        self.reference_paths: dict[tuple[str, str, str], KeyPath] = {}

    def service(self, name: str, body: object) -> Service:
        path: KeyPath = ("services", name)
        self.resource_name(name, path, "service")
        spec = self.mapping(body, path, _SERVICE_KEYS)
        image = self.optional_string(spec.get("image"), (*path, "image")) or None
        build = self.build(spec["build"], (*path, "build")) if "build" in spec else None
        if image is None and build is None:
            raise self.error(path, f"service {name!r} has neither an image nor a build context"
                             + (" (its image is empty: an unset variable?)." if "image" in spec else "."),
                             "Add 'image: NAME' or 'build: ./DIRECTORY' to the service.")
        network_mode = self.optional_string(spec.get("network_mode"), (*path, "network_mode"))
        if network_mode is not None and spec.get("networks") is not None:
            raise self.error((*path, "network_mode"), "'network_mode' and 'networks' cannot both be set.",
                             "Keep one: network_mode replaces the service's networks.")
        networks = self.attachments(spec.get("networks"), (*path, "networks"))
        if network_mode is None and not networks:
            networks = (NetworkAttachment(DEFAULT_NETWORK),)
        volumes = self.unique_mounts([*(self.mount(item, (*path, "volumes", i)) for i, item
                                        in enumerate(self.list_of(spec.get("volumes"), (*path, "volumes"))))],
                                     name)
        tmpfs = tuple(self.tmpfs(item, (*path, "tmpfs"))
                      for item in (self.strings(spec["tmpfs"], (*path, "tmpfs")) if "tmpfs" in spec else ()))
        replicas = self.replicas(spec, path)
        restart = self.string(spec.get("restart", "no"), (*path, "restart"))
        if not _RESTART.fullmatch(restart):
            raise self.error((*path, "restart"), f"restart policy {restart!r} is not valid.",
                             "Use no, always, on-failure[:N] or unless-stopped.")
        depends = [*self.depends_on(spec.get("depends_on"), (*path, "depends_on")),
                   *self.implicit_dependencies(spec, path, network_mode)]
        ports = {}
        for i, item in enumerate(self.list_of(spec.get("ports"), (*path, "ports"))):
            ports[_port_key(item)] = self.port(item, (*path, "ports", i))
        return Service(
            name=name,
            image=image,
            build=build,
            command=self.command(spec.get("command"), (*path, "command")),
            entrypoint=self.command(spec.get("entrypoint"), (*path, "entrypoint")),
            environment=self.list_or_dict(spec.get("environment"), (*path, "environment"), inherit=True),
            env_files=self.env_files(spec.get("env_file"), (*path, "env_file")),
            ports=tuple(ports.values()),
            expose=tuple(dict.fromkeys(self.expose(item, (*path, "expose", i)) for i, item
                                       in enumerate(self.list_of(spec.get("expose"), (*path, "expose"))))),
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
            profiles=tuple(dict.fromkeys(self.strings(spec["profiles"], (*path, "profiles"), single=False)))
            if "profiles" in spec else (),
            container_name=self.optional_string(spec.get("container_name"), (*path, "container_name")),
            hostname=self.optional_string(spec.get("hostname"), (*path, "hostname")),
            secrets=self.references(spec.get("secrets"), (*path, "secrets")),
            configs=self.references(spec.get("configs"), (*path, "configs")),
            line=self.where.line(path) or 0,
        )

    def unique_mounts(self, mounts: list[Mount], service: str) -> tuple[Mount, ...]:
        """One mount per container path: a later one replaces an earlier one in its place, as Compose does."""
        kept: dict[str, Mount] = {}
        for mount in mounts:
            if mount.target in kept:
                self.warnings.append(f"{service} mounts two things on {mount.target}; Compose keeps the later "
                                     "one.")
            kept[mount.target] = mount
        return tuple(kept.values())

    def references(self, value: object, path: KeyPath) -> tuple[str, ...]:
        """The names of the top-level secrets or configs a service uses (short or long syntax)."""
        names = []
        for i, item in enumerate(self.list_of(value, path)):
            if isinstance(item, dict):
                spec = self.mapping(item, (*path, i), {"source", "target", "uid", "gid", "mode"})
                if "source" not in spec:
                    raise self.error((*path, i), "a long-syntax entry needs a 'source' (the top-level name).",
                                     "Write 'source: NAME'.")
                names.append(self.string(spec["source"], (*path, i, "source")))
            else:
                names.append(self.string(item, (*path, i)))
            self.reference_paths.setdefault((str(path[1]), str(path[2]), names[-1]), (*path, i))
        return tuple(names)

    def build(self, value: object, path: KeyPath) -> Build:
        if isinstance(value, str):
            return Build(context=value)
        spec = self.mapping(value, path, _BUILD_KEYS)
        return Build(
            context=self.string(spec.get("context", "."), (*path, "context")),
            dockerfile=self.optional_string(spec.get("dockerfile"), (*path, "dockerfile")),
            args=self.list_or_dict(spec.get("args"), (*path, "args"), inherit=True),
            target=self.optional_string(spec.get("target"), (*path, "target")),
        )

    def command(self, value: object, path: KeyPath) -> str | tuple[str, ...] | None:
        if value is None:
            return None
        if isinstance(value, str):
            return value
        return self.strings(value, path, single=False)

    def env_files(self, value: object, path: KeyPath) -> tuple[EnvFile, ...]:
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
            if self.folder is not None and files[-1].required and not (self.folder / files[-1].path).is_file():
                raise self.error(entry_path, f"the env file {files[-1].path} does not exist.",
                                 "Create it, fix the path (relative to the compose file), or mark it optional with "
                                 "'- path: FILE' and 'required: false'.")
        return tuple(dict.fromkeys(files))

    def port(self, value: object, path: KeyPath) -> PortMapping:
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

    def expose(self, value: object, path: KeyPath) -> str:
        text = self.string(value, path)
        port, _, protocol = text.partition("/")
        try:
            first, last = _port_range(port, "exposed port")
        except ValueError as err:
            raise self.error(path, f"{err}.", "Write a container port such as 8080 or 8000-8010/udp.") from None
        if protocol and protocol not in _PROTOCOLS:
            raise self.error(path, f"protocol {protocol!r} is not tcp, udp or sctp.", "Use tcp, udp or sctp.")
        return _span(first, last) + (f"/{protocol}" if protocol else "")

    def mount(self, value: object, path: KeyPath) -> Mount:
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
        return Mount(type=kind, target=clean_path(target), source=source, read_only=read_only)

    def tmpfs(self, value: str, path: KeyPath) -> Mount:
        target, _, options = value.partition(":")
        if not target.startswith("/"):
            raise self.error(path, f"tmpfs target {target!r} must be an absolute path.", "Write e.g. /run.")
        return Mount(type="tmpfs", target=target, options=tuple(o for o in options.split(",") if o))

    def attachments(self, value: object, path: KeyPath) -> tuple[NetworkAttachment, ...]:
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
            aliases = tuple(dict.fromkeys(self.strings(options["aliases"], (*item_path, "aliases"), single=False))) \
                if options.get("aliases") is not None else ()
            attachments.append(NetworkAttachment(
                network, aliases,
                self.optional_string(options.get("ipv4_address"), (*item_path, "ipv4_address")),
                self.optional_string(options.get("ipv6_address"), (*item_path, "ipv6_address"))))
        return tuple(attachments)

    def depends_on(self, value: object, path: KeyPath) -> list[Dependency]:
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

    def implicit_dependencies(self, spec: dict[str, object], path: KeyPath,
                              network_mode: str | None) -> list[Dependency]:
        """Edges Compose adds by itself: links, volumes_from and network_mode: service:NAME (links and
        network_mode restart with their dependency, as compose-go marks them)."""
        found: list[Dependency] = []
        if network_mode is not None and network_mode.startswith("service:"):
            found.append(Dependency(network_mode.split(":", 1)[1], restart=True, via="network_mode"))
            self.edge_paths.setdefault((str(path[1]), found[-1].service), (*path, "network_mode"))
        for key in ("volumes_from", "links"):
            if key not in spec:
                continue
            for i, entry in enumerate(self.strings(spec[key], (*path, key), single=False)):
                if entry.startswith("container:"):
                    continue
                found.append(Dependency(entry.split(":", 1)[0], restart=key == "links", via=key))
                self.edge_paths.setdefault((str(path[1]), found[-1].service), (*path, key, i))
        return found

    def healthcheck(self, value: object, path: KeyPath) -> HealthCheck:
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

    def replicas(self, spec: dict[str, object], path: KeyPath) -> int:
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
