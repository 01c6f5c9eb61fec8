"""Today's known divergences from the references: ONE list, each marked xfail(strict=True) in the tests.

Phase 2 removes an entry when it fixes the divergence: a fixed file then passes, and strict xfail makes the
stale entry fail until it is removed. DIVERGENCES describes each kind (where the course is at fault, what to
do); KNOWN_* map a corpus file (its path under tests/fixtures/corpus) to the kinds that make its test fail.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Divergence:
    """One kind of divergence: what differs, the module/function at fault, and the suggested fix."""

    summary: str
    at_fault: str
    fix: str


DIVERGENCES: dict[str, Divergence] = {
    # ---- compose model (containerlab/compose.py -> containerlab/compose/)
    "cp-extends": Divergence(
        "extends (same file or file:) is refused; compose-go merges the extended service (the glideinWMS "
        "workspaces use it)",
        "compose._Reader.service",
        "implement extends with the Compose merge rules (relative paths from the extended file's folder, "
        "chains, missing service error), or delegate such files to compose-go config"),
    "cp-include": Divergence(
        "top-level include is refused; compose-go loads each included file as its own project folder and "
        "merges its resources",
        "compose._Reader.project",
        "implement include (short and long syntax: path, env_file, project_directory) keeping line-numbered "
        "errors per file, or delegate"),
    "cp-reset-override-tags": Divergence(
        "the YAML tags !reset and !override are refused; compose-go applies them when merging (extends, "
        "overrides) and drops them otherwise",
        "compose_yaml.load_yaml (tag handling) and the merge step",
        "accept both tags: !reset removes the inherited value, !override replaces it instead of merging"),
    "cp-project-name-from-environment": Divergence(
        "COMPOSE_PROJECT_NAME from the environment or the .env file is ignored; compose-go uses it before the "
        "top-level name and the folder name",
        "compose.load_compose_file / compose._load",
        "project name precedence: explicit argument > COMPOSE_PROJECT_NAME (environment, then .env) > name: > "
        "folder name, normalised"),
    "cp-project-name-interpolation": Divergence(
        "${COMPOSE_PROJECT_NAME} in the file interpolates to '' (or its default); compose-go sets it to the "
        "resolved project name before interpolating",
        "compose._load (interpolation variables)",
        "resolve the project name first (top-level name is read un-interpolated) and add COMPOSE_PROJECT_NAME "
        "to the variables unless the environment sets it"),
    "cp-profiles-from-environment": Divergence(
        "COMPOSE_PROFILES (environment or .env) is ignored: enabled_services() starts no profiled service; "
        "compose-go enables those profiles",
        "compose.ComposeProject.enabled_services / compose._load",
        "record the active profiles from COMPOSE_PROFILES on the project and use them as the default of "
        "enabled_services() (the harness calls enabled_services() with no argument)"),
    "cp-depends-on-disabled-service": Divergence(
        "an enabled service with a required depends_on on a service whose profile is inactive is accepted; "
        "compose-go refuses: 'depends on undefined service'",
        "compose._Reader.check_references / ComposeProject.enabled_services",
        "check dependencies of the enabled services after profile selection (required: false edges are "
        "dropped, as compose-go does)"),
    "cp-duplicate-container-name": Divergence(
        "two services with the same container_name are accepted; compose-go refuses: 'container name ... is "
        "already in use by service'",
        "compose._Reader.project",
        "refuse the second container_name with its line and key"),
    "cp-missing-env-file": Divergence(
        "a required env_file that does not exist is accepted; compose-go refuses 'env file ... not found' "
        "(netbox-docker and redash in the corpus ship without theirs)",
        "compose._Reader.env_files / compose.load_compose_file",
        "when loading from a file, check each env_file relative to the project folder; required: false may be "
        "missing"),
    "cp-undefined-secret-or-config": Divergence(
        "a service using a secret or config that the top level does not define is accepted; compose-go "
        "refuses 'refers to undefined secret/config'",
        "compose._Reader (secrets and configs are not modelled)",
        "read top-level secrets/configs names and check services' references like networks and volumes"),
    "cp-empty-image": Divergence(
        "image: ${UNSET} (interpolated to '') is accepted as an empty image; compose-go treats it as no image "
        "and refuses a service with neither image nor build",
        "compose._Reader.service",
        "treat an empty image string as absent before the image-or-build check"),
    "cp-port-empty-host-ip": Divergence(
        "ports ':8080:80' (empty host IP, as immich's ${EXPOSE_PORT-:2283:2283} gives) is refused: \"'' is "
        "not an IP address\"; compose-go reads it as no host IP",
        "compose.parse_port / compose._host_ip",
        "an empty host IP means 'not given' (host_ip None)"),
    "cp-mount-target-trailing-slash": Divergence(
        "mount targets keep a trailing '/' ('/data/', '/srv//'); compose-go cleans the path ('/data')",
        "compose.parse_volume / compose._Reader.mount / compose._Reader.tmpfs",
        "posixpath.normpath the container path (keep the source as written)"),
    "cp-duplicate-mount-target": Divergence(
        "two mounts on the same container path are both kept; compose-go keeps only the last one",
        "compose._Reader.service (volumes)",
        "let a later mount replace an earlier one on the same target (and say so in warnings)"),
    "cp-yaml-scalar-formatting": Divergence(
        "unquoted environment values change differently: 1.0 -> '1.0', 1e3 -> '1000.0', 017 -> '17', 1_000 -> "
        "'1_000', .inf -> 'inf'; compose-go (go-yaml v3, Go formatting) gives '1', '1000', '15', '1000', '+Inf'",
        "compose_yaml scalar resolution and compose._Reader.list_or_dict (str(value))",
        "resolve plain scalars like go-yaml v3 (YAML 1.1 octal 017, '_' in numbers) and format floats like Go's "
        "strconv.FormatFloat(f, 'f', -1, 64) / +Inf; or keep the scalar's source text for environment values"),
    "cp-implicit-dependency-restart": Divergence(
        "the dependency edges that links and network_mode: service:X create have restart false; compose-go "
        "marks them restart: true",
        "compose._Reader.implicit_dependencies",
        "Dependency(..., restart=True) for links and network_mode (volumes_from stays false)"),
}

KNOWN_COMPOSE: dict[str, tuple[str, ...]] = {
    "compose/crlf-glideinwms-vitodb/compose-wports.yml": ("cp-extends",),
    "compose/glideinwms-vitodb-workspaces/compose-wports.yml": ("cp-extends",),
    "compose/immich/docker-compose.yml": ("cp-port-empty-host-ip",),
    "compose/netbox-docker/docker-compose.yml": ("cp-missing-env-file",),
    "compose/pihole-cloudflared-DoH/compose.yaml": ("cp-mount-target-trailing-slash",),
    "compose/plex/compose.yaml": ("cp-mount-target-trailing-slash",),
    "compose/prometheus-grafana/compose.yaml": ("cp-duplicate-mount-target",),
    "compose/redash/compose.yaml": ("cp-missing-env-file",),
    "tricky/compose/depends-on-inactive-profile/compose.yaml": ("cp-depends-on-disabled-service",),
    "tricky/compose/duplicate-container-name/compose.yaml": ("cp-duplicate-container-name",),
    "tricky/compose/environment-numbers/compose.yaml": ("cp-yaml-scalar-formatting",),
    "tricky/compose/extends-other-file/compose.yaml": ("cp-extends",),
    "tricky/compose/extends-same-file/compose.yaml": ("cp-extends",),
    "tricky/compose/image-unset/compose.yaml": ("cp-empty-image",),
    "tricky/compose/implicit-dependencies/compose.yaml": ("cp-implicit-dependency-restart",),
    "tricky/compose/include-long-syntax/compose.yaml": ("cp-include",),
    "tricky/compose/include-simple/compose.yaml": ("cp-include",),
    "tricky/compose/missing-env-file/compose.yaml": ("cp-missing-env-file",),
    "tricky/compose/port-empty-host-ip/compose.yaml": ("cp-port-empty-host-ip",),
    "tricky/compose/profiles-from-env/compose.yaml": ("cp-profiles-from-environment",),
    "tricky/compose/project-name-from-dotenv/compose.yaml": ("cp-project-name-from-environment",
                                                             "cp-profiles-from-environment"),
    "tricky/compose/project-name-from-env/compose.yaml": ("cp-project-name-from-environment",),
    "tricky/compose/project-name-in-file-without-name/compose.yaml": ("cp-project-name-interpolation",),
    "tricky/compose/project-name-in-file/compose.yaml": ("cp-project-name-interpolation",),
    "tricky/compose/reset-and-override/compose.yaml": ("cp-reset-override-tags", "cp-extends"),
    "tricky/compose/trailing-slash-targets/compose.yaml": ("cp-mount-target-trailing-slash",),
    "tricky/compose/undefined-config/compose.yaml": ("cp-undefined-secret-or-config",),
    "tricky/compose/undefined-secret/compose.yaml": ("cp-undefined-secret-or-config",),
}

KNOWN_DOCKERFILE: dict[str, tuple[str, ...]] = {}

KNOWN_LINT: dict[str, tuple[str, ...]] = {}

def reason(kinds: tuple[str, ...]) -> str:
    """The xfail reason for a file: the summaries of its divergences."""
    return "; ".join(f"[{kind}] {DIVERGENCES[kind].summary}" for kind in kinds)
