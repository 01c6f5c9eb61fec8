"""The compose model: interpolation as Compose does it, .env files, every key the graph uses,
invalid files with errors that name line and key, and real-world-sized fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from containerlab.compose import (
    ComposeProject,
    HealthCheck,
    Mount,
    PortMapping,
    interpolate,
    load_compose,
    load_compose_file,
    normalize_project_name,
    parse_dotenv,
    parse_duration,
    parse_port,
    parse_volume,
)
from containerlab.errors import LabError, ParseError, UnsafeRequestError

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "compose"


def load(text: str, **variables: str) -> ComposeProject:
    return load_compose(text, environ=variables)


# --------------------------------------------------------------------------- interpolation

ENV = {"SET": "value", "EMPTY": ""}


@pytest.mark.parametrize(("template", "expected"), [
    ("$SET", "value"),
    ("${SET}", "value"),
    ("a${SET}b$SET.c", "avaluebvalue.c"),
    ("${UNSET}", ""),
    ("$UNSET", ""),
    ("${UNSET-default}", "default"),
    ("${EMPTY-default}", ""),
    ("${SET-default}", "value"),
    ("${UNSET:-default}", "default"),
    ("${EMPTY:-default}", "default"),
    ("${SET:-default}", "value"),
    ("${EMPTY?unused}", ""),
    ("${SET:?unused}", "value"),
    ("${SET+alt}", "alt"),
    ("${EMPTY+alt}", "alt"),
    ("${UNSET+alt}", ""),
    ("${SET:+alt}", "alt"),
    ("${EMPTY:+alt}", ""),
    ("${UNSET:+alt}", ""),
    ("${UNSET:-${SET}}", "value"),
    ("${UNSET:-${ALSO_UNSET:-deep}}", "deep"),
    ("${UNSET:-a-b:c}", "a-b:c"),
    ("$$", "$"),
    ("$$SET", "$SET"),
    ("$${SET}", "${SET}"),
    ("price: $5", "price: $5"),
    ("trailing $", "trailing $"),
    ("no variables", "no variables"),
])
def test_interpolation_forms(template: str, expected: str) -> None:
    assert interpolate(template, ENV) == expected


def test_unset_variables_are_reported_once_and_default_forms_are_not() -> None:
    missing: list[str] = []
    interpolate("$A ${A} ${B:-x} ${C-y} ${SET}", ENV, missing=missing)
    assert missing == ["A"]


@pytest.mark.parametrize(("template", "fragment"), [
    ("${UNSET?please set it}", "required variable UNSET is missing a value: please set it"),
    ("${EMPTY:?must not be empty}", "required variable EMPTY is missing a value: must not be empty"),
    ("${UNSET:?}", "required variable UNSET is missing a value"),
    ("${", "has no closing"),
    ("${SET", "has no closing"),
    ("${1ABC}", "is not a variable name"),
    ("${SET/a/b}", "is not a variable name"),
])
def test_interpolation_errors_say_what_is_wrong(template: str, fragment: str) -> None:
    with pytest.raises(ParseError) as caught:
        interpolate(template, ENV)
    assert fragment in caught.value.message
    assert caught.value.hint


def test_values_are_interpolated_but_keys_and_non_strings_are_not() -> None:
    project = load("""
services:
  web:
    image: "busybox:${TAG}"
    environment:
      $KEY: "${VALUE}"
      COUNT: 3
""", TAG="1.36", KEY="k", VALUE="v")
    web = project.services["web"]
    assert web.image == "busybox:1.36"
    assert web.environment == {"$KEY": "v", "COUNT": "3"}


def test_double_dollar_reaches_the_container_as_one_dollar() -> None:
    web = load('services:\n  web:\n    image: x\n    command: echo $$HOME and $${PATH}\n').services["web"]
    assert web.command == "echo $HOME and ${PATH}"


def test_unset_variable_becomes_empty_with_a_compose_style_warning() -> None:
    project = load("services:\n  web:\n    image: app:$TAG\n")
    assert project.services["web"].image == "app:"
    assert project.warnings == ('The "TAG" variable is not set. Defaulting to a blank string.',)


def test_interpolation_error_in_a_file_names_line_and_key() -> None:
    text = "services:\n  web:\n    image: x\n    environment:\n      TOKEN: ${TOKEN:?create a token first}\n"
    with pytest.raises(ParseError) as caught:
        load(text)
    message = caught.value.message
    assert "line 5" in message and "services.web.environment.TOKEN" in message
    assert "create a token first" in message


# --------------------------------------------------------------------------- .env files


def test_dotenv_syntax() -> None:
    text = (
        "# a comment\n"
        "\n"
        "export EXPORTED=yes\n"
        "PLAIN=value with spaces   \n"
        "INLINE=value # a comment\n"
        "HASH=value#not-a-comment\n"
        "DOUBLE=\"tab\\there \\\"quoted\\\"\" # comment after the quote\n"
        "SINGLE='${PLAIN} stays literal, \\n too'\n"
        "ESCAPED='it\\'s'\n"
        "MULTI=\"first\n"
        "second\"\n"
        "EMPTY=\n"
        "REF=${PLAIN}-$FROM_ENV\n"
        "DOLLAR=\"\\$NOT_A_VARIABLE\"\n"
        "  INDENTED = spaced\n"
        "INHERITED\n"
        "NOT_IN_ENV\n"
    )
    values = parse_dotenv(text, environ={"FROM_ENV": "env", "INHERITED": "from-env"})
    assert values == {
        "EXPORTED": "yes",
        "PLAIN": "value with spaces",
        "INLINE": "value",
        "HASH": "value#not-a-comment",
        "DOUBLE": 'tab\there "quoted"',
        "SINGLE": "${PLAIN} stays literal, \\n too",
        "ESCAPED": "it's",
        "MULTI": "first\nsecond",
        "EMPTY": "",
        "REF": "value with spaces-env",
        "DOLLAR": "$NOT_A_VARIABLE",
        "INDENTED": "spaced",
        "INHERITED": "from-env",
    }


def test_dotenv_interpolation_prefers_the_environment_over_earlier_lines() -> None:
    values = parse_dotenv("A=file\nB=${A}\n", environ={"A": "env"})
    assert values == {"A": "file", "B": "env"}


@pytest.mark.parametrize(("text", "fragment"), [
    ("1BAD=x\n", "line 1"),
    ("GOOD=1\nNAME value\n", "line 2: expected '='"),
    ("Q=\"never closed\n", "never closed"),
    ("Q='x' trailing\n", "unexpected text"),
    ("R=${\n", "line 1, R"),
])
def test_dotenv_errors_name_the_line(text: str, fragment: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_dotenv(text, source=".env")
    assert fragment in caught.value.message
    assert caught.value.message.startswith(".env line")


def test_process_environment_wins_over_dotenv() -> None:
    text = "services:\n  web:\n    image: ${IMAGE}:${TAG}\n"
    project = load_compose(text, environ={"TAG": "from-shell"}, dotenv="IMAGE=app\nTAG=from-dotenv\n")
    assert project.services["web"].image == "app:from-shell"


def test_dotenv_next_to_the_file_is_read_and_the_environment_overrides_it() -> None:
    path = FIXTURES / "workspaces" / "compose.yaml"
    default = load_compose_file(path, environ={})
    assert default.services["ce"].image == "containerlab/ce-workspace:lab"
    assert default.services["ce"].container_name == "ce-workspace.testbed.lab"
    overridden = load_compose_file(path, environ={"IMAGE_LABEL": "dev", "IMAGE_NAMESPACE": "me"})
    assert overridden.services["factory"].image == "me/factory-workspace:dev"


def test_env_file_argument_replaces_the_default_dotenv(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: app:${TAG:-none}\n")
    (tmp_path / ".env").write_text("TAG=default-file\n")
    (tmp_path / "ci.env").write_text("TAG=ci\n")
    assert load_compose_file(tmp_path / "compose.yaml", environ={}).services["web"].image == "app:default-file"
    chosen = load_compose_file(tmp_path / "compose.yaml", environ={}, env_file=tmp_path / "ci.env")
    assert chosen.services["web"].image == "app:ci"
    with pytest.raises(ParseError):
        load_compose_file(tmp_path / "compose.yaml", environ={}, env_file=tmp_path / "missing.env")


def test_project_name_comes_from_the_file_or_its_directory(tmp_path: Path) -> None:
    folder = tmp_path / "My App_2"
    folder.mkdir()
    (folder / "compose.yaml").write_text("services:\n  web:\n    image: x\n")
    assert load_compose_file(folder / "compose.yaml", environ={}).name == "myapp_2"
    assert load_compose_file(FIXTURES / "shop" / "compose.yaml", environ={}).name == "shop"
    assert load_compose_file(folder / "compose.yaml", environ={}, project_name="given").name == "given"
    assert normalize_project_name("-Lab.Demo") == "labdemo"


def test_missing_compose_file_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as caught:
        load_compose_file(tmp_path / "nope.yaml", environ={})
    assert "Cannot read" in caught.value.message


# --------------------------------------------------------------------------- small parsers


@pytest.mark.parametrize(("text", "seconds"), [
    ("10s", 10.0), ("1m30s", 90.0), ("500ms", 0.5), ("1.5h", 5400.0), ("2h3m4s", 7384.0),
    ("250us", 0.00025), ("0", 0.0), (0, 0.0),
])
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["10", 10, "1x", "s", "", "1m 30s", True])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)  # type: ignore[arg-type]


@pytest.mark.parametrize(("spec", "expected", "label"), [
    ("80", PortMapping(80), "0.0.0.0:auto→80"),
    (8080, PortMapping(8080), "0.0.0.0:auto→8080"),
    ("8080:80", PortMapping(80, 8080), "0.0.0.0:8080→80"),
    ("127.0.0.1:8080:80", PortMapping(80, 8080, "127.0.0.1"), "127.0.0.1:8080→80"),
    ("127.0.0.1::80", PortMapping(80, None, "127.0.0.1"), "127.0.0.1:auto→80"),
    ("127.0.0.1:5353:53/udp", PortMapping(53, 5353, "127.0.0.1", "udp"), "127.0.0.1:5353→53/udp"),
    ("[::1]:8080:80", PortMapping(80, 8080, "::1"), "[::1]:8080→80"),
    ("::1:8080:80", PortMapping(80, 8080, "::1"), "[::1]:8080→80"),
    ("9090-9091:8080-8081", PortMapping(8080, 9090, None, "tcp", 8081, 9091), "0.0.0.0:9090-9091→8080-8081"),
    ("0.0.0.0:80:80", PortMapping(80, 80, "0.0.0.0"), "0.0.0.0:80→80"),
])
def test_short_port_syntax(spec: str | int, expected: PortMapping, label: str) -> None:
    port = parse_port(spec)
    assert port == expected
    assert port.label() == label


@pytest.mark.parametrize(("spec", "fragment"), [
    ("70000:80", "outside 1-65535"), ("0:80", "outside"), ("80/icmp", "protocol"),
    ("localhost:80:80", "not an IP address"), ("a:b", "not a port"), ("9090-9092:8080-8081", "different sizes"),
    ("1:2:3:4", "not an IP"), ("8081-8080", "ends before"),
])
def test_bad_ports(spec: str, fragment: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_port(spec)
    assert fragment in str(caught.value)


def test_loopback_is_told_apart_from_public_addresses() -> None:
    assert parse_port("127.0.0.1:80:80").loopback_only
    assert parse_port("[::1]:80:80").loopback_only
    assert not parse_port("80:80").loopback_only
    assert not parse_port("0.0.0.0:80:80").loopback_only
    assert not parse_port("192.168.1.10:80:80").loopback_only


@pytest.mark.parametrize(("spec", "expected"), [
    ("data:/var/lib/data", Mount("volume", "/var/lib/data", "data")),
    ("data:/var/lib/data:ro", Mount("volume", "/var/lib/data", "data", read_only=True)),
    ("/var/cache", Mount("volume", "/var/cache")),
    ("./src:/app", Mount("bind", "/app", "./src")),
    ("/etc/hosts:/etc/hosts:ro,z", Mount("bind", "/etc/hosts", "/etc/hosts", True, ("z",))),
    ("~/conf:/conf:rw", Mount("bind", "/conf", "~/conf")),
    ("../up:/up", Mount("bind", "/up", "../up")),
])
def test_short_volume_syntax(spec: str, expected: Mount) -> None:
    mount = parse_volume(spec)
    assert mount == expected
    assert mount.named_volume == (expected.source if expected.type == "volume" else None)


@pytest.mark.parametrize("spec", ["relative", "data:relative", "a:/b:c:d", "a:/b:sometimes", ":/x", "bad name!:/x"])
def test_bad_volumes(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_volume(spec)


# --------------------------------------------------------------------------- the keys the graph uses

EVERYTHING = """
name: every-key
services:
  web:
    build:
      context: ./web
      dockerfile: Dockerfile.dev
      args: [VERSION=1, FROM_ENV]
      target: final
    image: shop/web:${TAG:-latest}
    command: ["httpd", "-f"]
    entrypoint: /entry.sh
    environment: [A=1, B, C=]
    env_file:
      - ./common.env
      - path: ./local.env
        required: false
    ports:
      - "127.0.0.1:8080:80"
      - target: 443
        published: "8443"
        host_ip: 127.0.0.1
        protocol: tcp
        mode: host
      - "9000"
    expose: [3000, "4000-4002/udp"]
    volumes:
      - data:/data
      - ./html:/srv:ro
      - /scratch
      - type: tmpfs
        target: /run
      - type: volume
        source: logs
        target: /logs
        read_only: true
    tmpfs: /tmp
    networks:
      front:
        aliases: [www, site]
        ipv4_address: 172.30.0.10
      back:
    depends_on:
      api:
        condition: service_healthy
        restart: true
      migrate:
        condition: service_completed_successfully
      cache:
        condition: service_started
        required: false
    healthcheck:
      test: curl -f http://localhost/
      interval: 1m30s
      timeout: 10s
      retries: 3
      start_period: 40s
      start_interval: 5s
    deploy:
      replicas: 2
    restart: on-failure:3
    labels:
      tier: front
      empty:
    profiles: [web, debug]
  api:
    image: shop/api
    networks: [back]
    environment:
      LEVEL: ${LEVEL-info}
      FLAG: true
      RATIO: 0.5
      UNSET_KEY:
    healthcheck:
      test: ["CMD", "wget", "-q", "http://localhost/health"]
    scale: 3
    labels: [a=b, c]
  migrate:
    image: shop/api
    networks: [back]
    restart: "no"
    healthcheck:
      disable: true
  cache:
    image: redis
    network_mode: "service:api"
  sidecar:
    image: busybox
    network_mode: none
    volumes_from: [api:ro, "container:other"]
    links: ["migrate:db"]
networks:
  front:
    driver: bridge
  back:
    internal: true
    name: shop_back
  shared:
    external: true
volumes:
  data:
    driver: local
  logs:
    external: true
    name: central-logs
"""


@pytest.fixture(scope="module")
def everything() -> ComposeProject:
    return load_compose(EVERYTHING, environ={"FROM_ENV": "e", "B": "from-env"})


def test_service_keys(everything: ComposeProject) -> None:
    web = everything.services["web"]
    assert web.image == "shop/web:latest"
    assert web.build is not None
    assert (web.build.context, web.build.dockerfile, web.build.target) == ("./web", "Dockerfile.dev", "final")
    assert web.build.args == {"VERSION": "1", "FROM_ENV": "e"}
    assert web.command == ("httpd", "-f")
    assert web.entrypoint == "/entry.sh"
    assert web.environment == {"A": "1", "B": "from-env", "C": ""}
    assert [(f.path, f.required) for f in web.env_files] == [("./common.env", True), ("./local.env", False)]
    assert web.expose == ("3000", "4000-4002/udp")
    assert web.replicas == 2
    assert web.restart == "on-failure:3"
    assert web.labels == {"tier": "front", "empty": ""}
    assert web.profiles == ("web", "debug")
    assert web.line == 4


def test_ports_short_and_long(everything: ComposeProject) -> None:
    ports = everything.services["web"].ports
    assert ports[0] == PortMapping(80, 8080, "127.0.0.1")
    assert ports[1] == PortMapping(443, 8443, "127.0.0.1", "tcp", mode="host")
    assert ports[2] == PortMapping(9000)
    assert [p.label() for p in ports] == ["127.0.0.1:8080→80", "127.0.0.1:8443→443", "0.0.0.0:auto→9000"]
    assert everything.published_ports()[0] == ("web", ports[0])
    assert everything.public_ports() == (("web", ports[2]),)


def test_volumes_short_long_and_tmpfs(everything: ComposeProject) -> None:
    mounts = everything.services["web"].volumes
    assert [(m.type, m.source, m.target, m.read_only) for m in mounts] == [
        ("volume", "data", "/data", False),
        ("bind", "./html", "/srv", True),
        ("volume", None, "/scratch", False),
        ("tmpfs", None, "/run", False),
        ("volume", "logs", "/logs", True),
        ("tmpfs", None, "/tmp", False),
    ]
    assert everything.services["web"].named_volumes == ("data", "logs")
    assert everything.volume_users() == {"data": ("web",), "logs": ("web",)}


def test_networks_aliases_and_the_default_rules(everything: ComposeProject) -> None:
    web = everything.services["web"]
    assert web.network_names == ("front", "back")
    assert web.networks[0].aliases == ("www", "site")
    assert web.networks[0].ipv4_address == "172.30.0.10"
    assert web.networks[1].aliases == ()
    assert everything.services["cache"].network_names == ()
    assert everything.services["cache"].network_mode == "service:api"
    assert everything.network_members() == {"front": ("web",), "back": ("web", "api", "migrate"), "shared": ()}
    assert everything.shared_networks("web", "api") == ("back",)
    assert everything.shared_networks("web", "sidecar") == ()
    assert "default" not in everything.networks


def test_top_level_networks_and_volumes(everything: ComposeProject) -> None:
    front, back, shared = (everything.networks[n] for n in ("front", "back", "shared"))
    assert (front.driver, front.internal, front.external) == ("bridge", False, False)
    assert (back.internal, back.real_name) == (True, "shop_back")
    assert shared.external
    data, logs = everything.volumes["data"], everything.volumes["logs"]
    assert (data.driver, data.external) == ("local", False)
    assert (logs.external, logs.real_name) == (True, "central-logs")


def test_depends_on_long_form_and_implicit_edges(everything: ComposeProject) -> None:
    web = everything.services["web"]
    assert [(d.service, d.condition, d.required, d.restart) for d in web.depends_on] == [
        ("api", "service_healthy", True, True),
        ("migrate", "service_completed_successfully", True, False),
        ("cache", "service_started", False, False),
    ]
    assert [(d.service, d.via) for d in everything.services["cache"].depends_on] == [("api", "network_mode")]
    assert [(d.service, d.via) for d in everything.services["sidecar"].depends_on] == [
        ("api", "volumes_from"), ("migrate", "links")]
    assert everything.dependency_edges() == (
        ("web", "api", "service_healthy"),
        ("web", "migrate", "service_completed_successfully"),
        ("web", "cache", "service_started"),
        ("cache", "api", "service_started"),
        ("sidecar", "api", "service_started"),
        ("sidecar", "migrate", "service_started"),
    )


def test_healthchecks(everything: ComposeProject) -> None:
    web = everything.services["web"].healthcheck
    assert web == HealthCheck(("CMD-SHELL", "curl -f http://localhost/"), 90.0, 10.0, 3, 40.0, 5.0)
    assert web.command == "curl -f http://localhost/"
    api = everything.services["api"]
    assert api.healthcheck == HealthCheck(("CMD", "wget", "-q", "http://localhost/health"))
    assert api.has_healthcheck
    migrate = everything.services["migrate"]
    assert migrate.healthcheck is not None and migrate.healthcheck.disabled and not migrate.has_healthcheck
    assert migrate.healthcheck.command is None
    assert load("services:\n  a:\n    image: x\n    healthcheck:\n      test: [NONE]\n"
                ).services["a"].healthcheck == HealthCheck(disabled=True)


def test_scalar_types_follow_compose_not_yaml_1_1(everything: ComposeProject) -> None:
    api = everything.services["api"]
    assert api.environment == {"LEVEL": "info", "FLAG": "true", "RATIO": "0.5", "UNSET_KEY": None}
    assert api.labels == {"a": "b", "c": ""}
    assert api.replicas == 3
    assert everything.services["migrate"].restart == "no"
    unquoted = load("services:\n  a:\n    image: x\n    restart: no\n    ports: [22:22]\n").services["a"]
    assert unquoted.restart == "no"
    assert unquoted.ports == (PortMapping(22, 22),)


def test_start_order_levels_and_profiles(everything: ComposeProject) -> None:
    assert everything.start_order() == ("api", "migrate", "cache", "web", "sidecar")
    assert everything.dependency_levels() == {"api": 0, "migrate": 0, "cache": 1, "web": 2, "sidecar": 1}
    assert everything.enabled_services() == ("api", "migrate", "cache", "sidecar")
    assert everything.enabled_services(["debug"]) == ("web", "api", "migrate", "cache", "sidecar")


def test_service_lookup_error_lists_the_services(everything: ComposeProject) -> None:
    with pytest.raises(ParseError) as caught:
        everything.service("nope")
    assert "web, api" in caught.value.hint


def test_implicit_default_network_and_merge_keys() -> None:
    project = load("""
x-common: &common
  image: busybox
  restart: always
services:
  one:
    <<: *common
  two:
    <<: *common
    restart: "no"
    networks: [default, extra]
networks:
  extra: {}
""")
    assert list(project.networks) == ["default", "extra"]
    assert not project.networks["default"].declared and project.networks["extra"].declared
    assert project.network_members() == {"default": ("one", "two"), "extra": ("two",)}
    assert (project.services["one"].image, project.services["one"].restart) == ("busybox", "always")
    assert project.services["two"].restart == "no"


def test_warnings_for_what_fails_only_at_up() -> None:
    project = load("""
version: "3.9"
services:
  a:
    image: x
    ports: ["127.0.0.1:8080:80"]
    depends_on:
      b: {condition: service_healthy}
  b:
    image: y
    ports: ["127.0.0.1:8080:81"]
  c:
    image: z
    scale: 2
    ports: ["127.0.0.1:9000:80"]
""")
    assert project.warnings == (
        "compose.yaml: the attribute 'version' is obsolete and ignored.",
        "a waits for b to be healthy, but this file gives b no health check (its image must define one).",
        "a and b both publish 127.0.0.1:8080/tcp; the second will fail to start.",
        "c runs 2 replicas on one fixed host port; only the first can bind it.",
    )


def test_course_port_rule() -> None:
    load("services:\n  a:\n    image: x\n    ports: ['127.0.0.1:80:80']\n").require_loopback_ports()
    for spec in ("80:80", "0.0.0.0:80:80", "[::1]:80:80", "8080"):
        project = load(f"services:\n  a:\n    image: x\n    ports: ['{spec}']\n")
        with pytest.raises(UnsafeRequestError) as caught:
            project.require_loopback_ports()
        assert "127.0.0.1" in caught.value.hint


# --------------------------------------------------------------------------- invalid files

INVALID = [
    ("unknown service in depends_on (list)",
     "services:\n  web:\n    image: x\n    depends_on:\n      - dbb\n  db:\n    image: y\n",
     5, "services.web.depends_on[0]", "undefined service 'dbb'", "db"),
    ("unknown service in depends_on (long)",
     "services:\n  web:\n    image: x\n    depends_on:\n      cache:\n        condition: service_healthy\n",
     5, "services.web.depends_on.cache", "undefined service 'cache'", "services:"),
    ("undefined network",
     "services:\n  web:\n    image: x\n    networks: [front, back]\nnetworks:\n  front: {}\n",
     4, "services.web.networks[1]", "undefined network 'back'", "networks:"),
    ("undefined network (mapping form)",
     "services:\n  web:\n    image: x\n    networks:\n      frnt:\n        aliases: [w]\nnetworks:\n  front: {}\n",
     5, "services.web.networks.frnt", "undefined network 'frnt'", "front"),
    ("undefined volume",
     "services:\n  web:\n    image: x\n    volumes:\n      - ./ok:/ok\n      - dbdata:/var/lib/db\n"
     "volumes:\n  db-data: {}\n",
     6, "services.web.volumes[1]", "undefined volume 'dbdata'", "db-data"),
    ("bad port",
     "services:\n  web:\n    image: x\n    ports:\n      - '127.0.0.1:8080:80'\n      - '70000:80'\n",
     6, "services.web.ports[1]", "outside 1-65535", "127.0.0.1:8080:80"),
    ("long port without target",
     "services:\n  web:\n    image: x\n    ports:\n      - published: 80\n",
     5, "services.web.ports[0]", "needs a 'target'", "target"),
    ("dependency cycle",
     "services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [c]\n"
     "  c:\n    image: x\n    depends_on: [a]\n",
     10, "services.c.depends_on[0]", "dependency cycle detected: a → b → c → a", "depends_on"),
    ("depends on itself",
     "services:\n  web:\n    image: x\n    depends_on: [web]\n",
     4, "services.web.depends_on[0]", "depends on itself", "web"),
    ("misspelt key",
     "services:\n  web:\n    image: x\n    depends_one: [db]\n",
     4, "services.web.depends_one", "not a valid key", "depends_on"),
    ("unknown top-level key",
     "services:\n  web:\n    image: x\nvolume:\n  data: {}\n",
     4, "volume", "not a valid key", "volumes"),
    ("bad condition",
     "services:\n  web:\n    image: x\n    depends_on:\n      db: {condition: service_ready}\n  db: {image: y}\n",
     5, "services.web.depends_on.db.condition", "'service_ready' is not valid", "service_healthy"),
    ("duration without unit",
     "services:\n  web:\n    image: x\n    healthcheck:\n      test: [CMD, 'true']\n      interval: 10\n",
     6, "services.web.healthcheck.interval", "has no unit", "10s"),
    ("bad test list",
     "services:\n  web:\n    image: x\n    healthcheck:\n      test: [curl, x]\n",
     5, "services.web.healthcheck.test", "must start with CMD", "CMD-SHELL"),
    ("test and disable",
     "services:\n  web:\n    image: x\n    healthcheck:\n      test: [CMD, 'true']\n      disable: true\n",
     5, "services.web.healthcheck.test", "both 'test' and 'disable", "disable"),
    ("required variable",
     "services:\n  web:\n    image: \"app:${TAG:?set TAG first}\"\n",
     3, "services.web.image", "required variable TAG is missing a value: set TAG first", "TAG"),
    ("invalid interpolation",
     "services:\n  web:\n    image: x\n    command: echo ${1}\n",
     4, "services.web.command", "invalid interpolation format", "$$"),
    ("duplicate key",
     "services:\n  web:\n    image: x\n    image: y\n",
     4, "services.web.image", "appears twice (first on line 3)", "unique"),
    ("no image or build",
     "services:\n  web:\n    command: 'true'\n",
     2, "services.web", "neither an image nor a build", "build:"),
    ("scale disagrees with replicas",
     "services:\n  web:\n    image: x\n    scale: 2\n    deploy: {replicas: 3}\n",
     4, "services.web.scale", "disagree", "only one"),
    ("container_name with replicas",
     "services:\n  web:\n    image: x\n    container_name: web\n    scale: 2\n",
     4, "services.web.container_name", "cannot share the container name", "container_name"),
    ("restart policy",
     "services:\n  web:\n    image: x\n    restart: sometimes\n",
     4, "services.web.restart", "not valid", "unless-stopped"),
    ("network_mode and networks",
     "services:\n  web:\n    image: x\n    network_mode: host\n    networks: [a]\nnetworks:\n  a: {}\n",
     4, "services.web.network_mode", "cannot both be set", "network_mode"),
    ("network_mode of an unknown service",
     "services:\n  web:\n    image: x\n    network_mode: 'service:vpn'\n",
     4, "services.web.network_mode", "undefined service 'vpn'", "services"),
    ("external network with a driver",
     "services:\n  web:\n    image: x\nnetworks:\n  n:\n    external: true\n    driver: bridge\n",
     7, "networks.n.driver", "external", "driver"),
    ("mount target not absolute",
     "services:\n  web:\n    image: x\n    volumes:\n      - type: bind\n        source: ./a\n        target: data\n",
     7, "services.web.volumes[0].target", "absolute path", "target"),
    ("bind without source",
     "services:\n  web:\n    image: x\n    volumes:\n      - type: bind\n        target: /data\n",
     5, "services.web.volumes[0]", "needs a 'source'", "source"),
    ("bad service name",
     "services:\n  'web app':\n    image: x\n",
     2, "services.web app", "characters", "letters"),
    ("bad project name",
     "name: '-_.'\nservices:\n  web:\n    image: x\n",
     1, "name", "not valid", "lower-case"),
    ("wrong type",
     "services:\n  web:\n    image: x\n    ports: '80:80'\n",
     4, "services.web.ports", "expected a list", "- item"),
    ("not a number",
     "services:\n  web:\n    image: x\n    deploy:\n      replicas: many\n",
     5, "services.web.deploy.replicas", "whole number", "number"),
    ("no services",
     "services:\nnetworks:\n  n: {}\n",
     1, "services", "defines no services", "services"),
    ("extends an undefined service",
     "services:\n  web:\n    extends: {service: base}\n    image: x\n",
     3, "services.web.extends", "extends 'base', which this file does not define", "Services in this file"),
    ("YAML syntax",
     "services:\n  web:\n    image: x\n   ports: [1]\n",
     4, "", "not valid YAML", "indentation"),
    ("tab indentation",
     "services:\n\tweb:\n",
     2, "", "not valid YAML", "indentation"),
    ("two documents",
     "services: {}\n---\nservices: {}\n",
     2, "", "not valid YAML", "indentation"),
    ("empty file", "", 1, "", "the file is empty", "services:"),
    ("top-level list", "- a\n", 1, "", "expected a mapping", "services:"),
    ("custom tag",
     "services:\n  web:\n    image: !custom x\n",
     3, "services.web.image", "tag !custom is not supported", "!reset and !override"),
]


@pytest.mark.parametrize(("text", "line", "key", "fragment", "hint"),
                         [case[1:] for case in INVALID], ids=[case[0] for case in INVALID])
def test_invalid_files_name_line_and_key(text: str, line: int, key: str, fragment: str, hint: str) -> None:
    with pytest.raises(ParseError) as caught:
        load(text)
    message = caught.value.message
    assert message.startswith(f"compose.yaml line {line}"), message
    if key:
        assert f"line {line}, {key}:" in message, message
    assert fragment in message, message
    assert hint in caught.value.hint, caught.value.hint


def test_boolean_fields_accept_compose_words_and_reject_others() -> None:
    project = load("services:\n  web:\n    image: x\n    networks: [n]\nnetworks:\n  n:\n    internal: 'yes'\n")
    assert project.networks["n"].internal
    with pytest.raises(ParseError) as caught:
        load("services:\n  web:\n    image: x\n    networks: [n]\nnetworks:\n  n:\n    internal: perhaps\n")
    assert "line 7, networks.n.internal: expected true or false" in caught.value.message


def test_parse_error_is_a_lab_error_with_two_lines() -> None:
    with pytest.raises(LabError) as caught:
        load("services:\n  web:\n    image: x\n    depends_on: [nope]\n")
    assert str(caught.value).count("\n") == 1 and "Hint:" in str(caught.value)


def test_alias_bombs_are_refused() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 7):
        prev = chr(ord("a") + i - 1)
        name = chr(ord("a") + i)
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 10)}]")
    with pytest.raises(ParseError) as caught:
        load("\n".join(lines) + "\nservices: {}\n")
    assert "too many values" in caught.value.message


# --------------------------------------------------------------------------- real-world fixtures


def test_real_world_sized_file() -> None:
    shop = load_compose_file(FIXTURES / "shop" / "compose.yaml", environ={"TAG": "2.0.0"})
    assert len(shop.services) == 13
    assert list(shop.networks) == ["edge", "frontend", "backend", "monitoring"]
    assert len(shop.volumes) == 6 and shop.volumes["backups"].external
    assert shop.services["api"].image == "127.0.0.1:5000/shop/api:2.0.0"
    assert shop.services["db"].image == "postgres:16"
    assert shop.services["db"].environment["POSTGRES_PASSWORD"] == 's3cret "quoted"'
    assert shop.services["log-shipper"].environment == {"FORMAT": "${not interpolated}"}
    assert shop.services["search"].environment["OPENSEARCH_JAVA_OPTS"] == "-Xms512m -Xmx512m"
    assert shop.services["api"].environment["DATABASE_URL"] == 'postgres://shop:s3cret "quoted"@db:5432/shop'
    assert shop.services["worker"].replicas == 3
    assert shop.networks["backend"].internal
    assert shop.network_members()["backend"] == (
        "api", "worker", "scheduler", "migrate", "db", "cache", "queue", "search", "metrics")
    assert shop.volume_users()["uploads"] == ("api", "worker")
    assert shop.public_ports() == (("dashboards", PortMapping(3000, 3000)),)
    order = shop.start_order()
    for later, earlier in [("api", "db"), ("api", "migrate"), ("migrate", "db"), ("proxy", "api"),
                           ("worker", "queue"), ("dashboards", "metrics")]:
        assert order.index(earlier) < order.index(later)
    assert shop.enabled_services() == tuple(n for n in shop.services if n != "log-shipper")
    assert shop.warnings == ()


def test_real_world_file_needs_its_required_variable() -> None:
    text = (FIXTURES / "shop" / "compose.yaml").read_text()
    with pytest.raises(ParseError) as caught:
        load_compose(text, environ={"REGISTRY": "r", "SEARCH_HEAP": "1g", "LOG_FORMAT": "json"})
    assert "services.db.environment.POSTGRES_PASSWORD" in caught.value.message
    assert "set DB_PASSWORD in .env" in caught.value.message


def test_talk_like_workspaces_demo() -> None:
    testbed = load_compose_file(FIXTURES / "workspaces" / "compose.yaml", environ={})
    assert testbed.name == "testbed"
    assert list(testbed.services) == ["ce", "factory", "frontend"]
    assert testbed.start_order() == ("ce", "factory", "frontend")
    for name, service in testbed.services.items():
        assert service.build is not None and service.build.dockerfile == f"{name}/Dockerfile"
        assert service.container_name == f"{name}-workspace.testbed.lab"
        assert service.hostname == service.container_name
        assert service.network_names == ("testbed",)
        assert service.labels == {"containerlab.lesson": "09"}
    assert testbed.services["factory"].depends_on[0].condition == "service_healthy"
    assert testbed.services["ce"].healthcheck.interval == 3.0
    assert testbed.volume_users() == {"tokens": ("factory", "frontend"), "shared-src": ("ce", "factory", "frontend")}
    testbed.require_loopback_ports()


def test_three_service_lesson_app() -> None:
    notes = load_compose_file(FIXTURES / "three-tier" / "compose.yaml", environ={})
    assert notes.start_order() == ("store", "web", "worker")
    assert notes.services["web"].depends_on[0].condition == "service_healthy"
    assert notes.services["store"].healthcheck.retries == 5
    assert notes.services["worker"].replicas == 2
    assert notes.services["worker"].command == "sh -c 'while true; do date >> /data/index.html; sleep 5; done'"
    assert notes.volume_users() == {"notes-data": ("web", "worker", "store")}
    notes.require_loopback_ports()


def test_thirty_service_platform() -> None:
    platform = load_compose_file(FIXTURES / "platform" / "compose.yaml", environ={})
    assert len(platform.services) == 30
    assert len(platform.start_order()) == 30
    assert max(platform.dependency_levels().values()) == 4
    assert platform.services["gateway"].image == "127.0.0.1:5000/gateway:dev"
