"""A Compose file (Compose Specification) read into services, networks, volumes and their graph.

Pure: text and mappings in, frozen models out (files are read only to follow ``.env``, ``extends: file:``,
``include`` and ``env_file``). As Docker Compose does it: the project name is the one given, else
COMPOSE_PROJECT_NAME (environment, then ``.env``), else the file's ``name:``, else the folder's name, and
``${COMPOSE_PROJECT_NAME}`` in the file is that name; COMPOSE_PROFILES names the active profiles. Variables are
interpolated (``$VAR``, ``${VAR:-default}``, ``${VAR:?error}``, ``$$``, the process environment over ``.env``),
``include`` and ``extends`` are resolved (:mod:`.resolve`), then the project is checked the way Compose checks it
(unknown keys, undefined networks, volumes, secrets and configs, unknown or disabled services in ``depends_on``,
dependency cycles, container names used twice, missing env files, bad ports and durations). Every error names the
file, line and key path. YAML itself is read by :mod:`.yaml_lines`, imported only when a file is loaded.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ParseError
from .dotenv import parse_dotenv
from .fields import normalize_project_name
from .interpolate import _substitute, _TemplateError
from .model import DEFAULT_NETWORK, ComposeProject, Network, Service, Volume
from .resolve import Resolver
from .service import ServiceReader
from .sources import KeyPath, SourceMap

if TYPE_CHECKING:
    from .yaml_lines import YamlDocument

_PROJECT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_TOP_KEYS = {"version", "name", "include", "services", "networks", "volumes", "secrets", "configs",
             "models"}
_NETWORK_KEYS = {"name", "driver", "driver_opts", "ipam", "external", "internal", "enable_ipv4",
                 "enable_ipv6", "attachable", "labels"}
_VOLUME_KEYS = {"name", "driver", "driver_opts", "external", "labels"}
_SECRET_KEYS = {"name", "file", "environment", "external", "labels", "driver", "driver_opts", "template_driver",
                "content"}
_PROJECT_NAME_HINT = "Use lower-case letters, digits, '-' and '_', starting with a letter or digit."

# --------------------------------------------------------------------------- loading


def load_compose(text: str, *, environ: Mapping[str, str] | None = None, dotenv: str | None = None,
                 source: str = "compose.yaml", project_name: str | None = None,
                 profiles: Iterable[str] | None = None) -> ComposeProject:
    """Read Compose YAML text into a checked :class:`ComposeProject`.

    ``environ`` defaults to the process environment (as Compose); ``dotenv`` is the text of a
    ``.env`` file, whose values the environment overrides. ``profiles`` default to COMPOSE_PROFILES.
    Raises ParseError naming line and key. (``include`` and ``extends: file:`` need load_compose_file.)
    """
    return _load(text, environ, dotenv, source, ".env", project_name, None, profiles, None)


def load_compose_file(path: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None,
                      env_file: str | os.PathLike[str] | None = None, project_name: str | None = None,
                      profiles: Iterable[str] | None = None) -> ComposeProject:
    """Read a compose file, with the ``.env`` beside it (or ``env_file``) as Compose does.

    The project name is ``project_name``, else COMPOSE_PROJECT_NAME, else the file's top-level ``name``, else
    its directory's name; the active profiles are ``profiles``, else COMPOSE_PROFILES.
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
    return _load(text, environ, dotenv, file.name, str(dotenv_path), project_name, fallback, profiles,
                 file.resolve())


def compose_data(path: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None) -> object:
    """A compose file's data as Compose runs it: interpolated, with include and extends resolved (plain values)."""
    from .yaml_lines import load_yaml

    file = Path(path).resolve()
    env = dict(os.environ if environ is None else environ)
    dotenv = file.parent / ".env"
    variables = {**(parse_dotenv(dotenv.read_text(encoding="utf-8"), environ=env, source=str(dotenv))
                    if dotenv.is_file() else {}), **env}
    document = load_yaml(file.read_text(encoding="utf-8"), source=file.name)
    return Resolver(file.parent, []).project(document, variables, file)[0]


def _load(text: str, environ: Mapping[str, str] | None, dotenv: str | None, source: str, dotenv_source: str,
          project_name: str | None, fallback_name: str | None, profiles: Iterable[str] | None,
          path: Path | None) -> ComposeProject:
    """Variables (.env under the environment), the project name and profiles, the resolved file, then read."""
    from .yaml_lines import load_yaml

    env = dict(os.environ if environ is None else environ)
    dotenv_values = parse_dotenv(dotenv, environ=env, source=dotenv_source) if dotenv else {}
    variables = {**dotenv_values, **env}
    document = load_yaml(text, source=source)
    warnings: list[str] = []
    name = _project_name(document, variables, project_name, fallback_name, warnings)
    if name and "COMPOSE_PROJECT_NAME" not in variables:
        variables["COMPOSE_PROJECT_NAME"] = name
    if profiles is None:
        profiles = [p.strip() for p in variables.get("COMPOSE_PROFILES", "").split(",") if p.strip()]
    data, where = Resolver(path.parent if path else None, warnings).project(document, variables, path)
    reader = _Reader(data, where, variables, path.parent if path else None)
    reader.warnings = warnings
    return reader.project(name, tuple(profiles))


def _project_name(document: YamlDocument, variables: Mapping[str, str], given: str | None,
                  fallback: str | None, warnings: list[str]) -> str | None:
    """The project name as Compose chooses it: given > COMPOSE_PROJECT_NAME > top-level name: > the folder."""
    def checked(name: str, where: str) -> str:
        if not _PROJECT_NAME.fullmatch(name):
            raise ParseError(f"{where}: project name {name!r} is not valid.", _PROJECT_NAME_HINT)
        return name

    if given is not None:
        return checked(given, "project_name")
    if variables.get("COMPOSE_PROJECT_NAME"):
        return checked(variables["COMPOSE_PROJECT_NAME"], "COMPOSE_PROJECT_NAME")
    data = document.data
    written = data.get("name") if isinstance(data, dict) else None
    if isinstance(written, str) and written:
        source, line = document.source, document.lines.get(("name",))
        try:
            name = _substitute(written, variables, None)
        except _TemplateError as err:
            raise ParseError(f"{source} line {line}, name: {err}", err.hint) from None
        normalized = normalize_project_name(name)
        if not normalized:
            raise ParseError(f"{source} line {line}, name: project name {name!r} is not valid.", _PROJECT_NAME_HINT)
        if normalized != name:
            warnings.append(f"{source} line {line}: the project name {name!r} becomes {normalized!r} (Compose keeps "
                            "lower-case letters, digits, '-' and '_').")
        return normalized
    return fallback


class _Reader(ServiceReader):
    """Reads the resolved project: top-level resources, services, and the checks across them."""

    def __init__(self, data: object, where: SourceMap, variables: Mapping[str, str], folder: Path | None) -> None:
        super().__init__(where, variables, folder)
        self.data = data

    def project(self, name: str | None, profiles: tuple[str, ...]) -> ComposeProject:
        if self.data is None:
            raise self.error((), "the file is empty.", "A compose file needs at least 'services:'.")
        top = self.mapping(self.data, (), _TOP_KEYS)
        if "version" in top:
            self.warnings.append(f"{self.source}: the attribute 'version' is obsolete and ignored.")
        if top.get("name") is not None:
            self.string(top["name"], ("name",))
        services_data = self.mapping(top.get("services"), ("services",))
        if not services_data:
            raise self.error(("services",) if "services" in top else (),
                             "the file defines no services.",
                             "Add a 'services:' mapping with at least one service (docker compose config accepts an "
                             "empty one, but 'up' would start nothing: usually the services are mis-indented).")
        networks = self.networks(self.mapping(top.get("networks"), ("networks",)))
        volumes = self.volumes(self.mapping(top.get("volumes"), ("volumes",)))
        secrets = self.named(self.mapping(top.get("secrets"), ("secrets",)), "secrets")
        configs = self.named(self.mapping(top.get("configs"), ("configs",)), "configs")
        services: dict[str, Service] = {}
        for service_name, body in services_data.items():
            services[service_name] = self.service(service_name, body)
        if any(DEFAULT_NETWORK in s.network_names for s in services.values()) and DEFAULT_NETWORK not in networks:
            networks = {DEFAULT_NETWORK: Network(DEFAULT_NETWORK, declared=False), **networks}
        project = ComposeProject(name=name, services=services, networks=networks, volumes=volumes,
                                 source=self.source, secrets=secrets, configs=configs, profiles=profiles)
        enabled = set(project.enabled_services())
        self.check_references(services, networks, volumes, enabled)
        self.check_resources(services, secrets, configs)
        self.check_cycles(services)
        self.check_runtime(services)
        self.check_container_names(services, enabled)
        return ComposeProject(name=name, services=services, networks=networks, volumes=volumes,
                              warnings=tuple(dict.fromkeys(self.warnings)), source=self.source, secrets=secrets,
                              configs=configs, profiles=profiles)

    def named(self, data: dict[str, object], section: str) -> tuple[str, ...]:
        """The names of top-level secrets or configs (their bodies checked for known keys)."""
        for name, body in data.items():
            self.resource_name(name, (section, name), section[:-1])
            self.mapping(body, (section, name), _SECRET_KEYS)
        return tuple(data)

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

    def check_references(self, services: dict[str, Service], networks: dict[str, Network],
                         volumes: dict[str, Volume], enabled: set[str]) -> None:
        names = list(services)
        for service in services.values():
            base: KeyPath = ("services", service.name)
            for dependency in service.depends_on:
                where = self.edge_paths.get((service.name, dependency.service), base)
                if dependency.service == service.name:
                    raise self.error(where, f"service {service.name!r} depends on itself.",
                                     f"Remove {service.name} from its own {dependency.via}.")
                if dependency.service in services and (
                        service.name not in enabled or dependency.service in enabled or not dependency.required):
                    continue
                if dependency.service in services:
                    profiles = ", ".join(services[dependency.service].profiles)
                    raise self.error(where, f"service {service.name!r} depends on {dependency.service!r}, which "
                                            f"only runs with the profile {profiles} (not active).",
                                     f"Activate it (COMPOSE_PROFILES={profiles}), give {service.name} the same "
                                     "profile, or mark the dependency 'required: false'.")
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

    def check_resources(self, services: dict[str, Service], secrets: tuple[str, ...],
                        configs: tuple[str, ...]) -> None:
        """Every secret and config a service uses is defined at the top level."""
        for service in services.values():
            for kind, used, defined in (("secret", service.secrets, secrets), ("config", service.configs, configs)):
                for name in used:
                    if name in defined:
                        continue
                    close = difflib.get_close_matches(name, list(defined), n=1)
                    where = self.reference_paths.get((service.name, kind + "s", name), ("services", service.name))
                    raise self.error(where, f"service {service.name!r} uses undefined {kind} {name!r}.",
                                     f"Did you mean '{close[0]}'?" if close else
                                     f"Declare it under the top-level {kind}s: key ({name}: {{file: ./{name}.txt}}).")

    def check_container_names(self, services: dict[str, Service], enabled: set[str]) -> None:
        """Two running services cannot have one container name."""
        owners: dict[str, str] = {}
        for service in services.values():
            name = service.container_name
            if name is None or service.name not in enabled:
                continue
            if name in owners:
                raise self.error(("services", service.name, "container_name"),
                                 f"container name {name!r} is already used by service {owners[name]!r}.",
                                 "Container names are unique on an engine: change one, or leave container_name "
                                 "out (Compose then names it PROJECT-SERVICE-1).")
            owners[name] = service.name

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
