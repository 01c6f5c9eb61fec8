"""The compose model read as Compose reads real files: extends and include (with errors naming the file, line and
key where the value was written), !reset / !override, the project name and profiles from the environment, and the
checks compose-go makes (disabled dependencies, container names, env files, secrets, empty images)."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from containerlab.compose import ComposeProject, load_compose, load_compose_file
from containerlab.errors import ParseError


def write(folder: Path, files: dict[str, str]) -> Path:
    """Write the files (relative names) under ``folder``; returns the path of compose.yaml."""
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text))
    return folder / "compose.yaml"


def load(text: str, **environ: str) -> ComposeProject:
    return load_compose(text, environ=environ)


def refused(path_or_text: Path | str, **options) -> ParseError:
    with pytest.raises(ParseError) as caught:
        if isinstance(path_or_text, Path):
            load_compose_file(path_or_text, environ=options.pop("environ", {}), **options)
        else:
            load_compose(dedent(path_or_text), environ=options.pop("environ", {}), **options)
    assert "\n" not in caught.value.message, caught.value.message
    return caught.value


# --------------------------------------------------------------------------- extends

def test_extends_merges_as_compose_does() -> None:
    web = load_compose(dedent("""\
        services:
          base:
            image: busybox
            command: ["sh", "-c", "base"]
            environment: [ONE=1, TWO=2]
            ports: ["127.0.0.1:8080:80", "9000:9000"]
            volumes: ["./data:/data", "logs:/var/log"]
            restart: always
          web:
            extends: base
            command: echo web
            environment: {TWO: two, THREE: 3.0}
            ports: ["9000:9000", "127.0.0.1:8081:81"]
            volumes: ["other:/data"]
        volumes: {logs: {}, other: {}}
        """), environ={}).services["web"]
    assert web.image == "busybox" and web.command == "echo web" and web.restart == "always"
    assert web.environment == {"ONE": "1", "TWO": "two", "THREE": "3"}  # by name; 3.0 written as Go writes it
    assert [p.label() for p in web.ports] == ["127.0.0.1:8080→80", "0.0.0.0:9000→9000", "127.0.0.1:8081→81"]
    assert [(m.source, m.target) for m in web.volumes] == [("other", "/data"), ("logs", "/var/log")]


def test_extends_from_another_folder_rewrites_relative_paths(tmp_path: Path) -> None:
    compose = write(tmp_path, {
        "compose.yaml": """\
            services:
              web:
                extends: {file: common/services.yaml, service: app}
            """,
        "common/services.yaml": """\
            services:
              app:
                build: ./app
                env_file: app.env
                volumes: ["./static:/static", "/abs:/abs"]
            """,
        "common/app.env": "A=1\n",
    })
    web = load_compose_file(compose, environ={}).services["web"]
    assert web.build is not None and web.build.context == "./common/app"
    assert [f.path for f in web.env_files] == ["./common/app.env"]
    assert [m.source for m in web.volumes] == ["./common/static", "/abs"]


def test_an_error_in_the_extended_file_names_that_file_and_its_line(tmp_path: Path) -> None:
    compose = write(tmp_path, {
        "compose.yaml": "services:\n  web:\n    extends: {file: common.yaml, service: app}\n",
        "common.yaml": "services:\n  app:\n    image: x\n    ports:\n      - 'nope:80'\n",
    })
    error = refused(compose)
    assert error.message.startswith("common.yaml line 5, services.app.ports[0]: bad port 'nope:80'"), error.message


@pytest.mark.parametrize(("files", "start", "fragment"), [
    ({"compose.yaml": "services:\n  a:\n    extends: b\n  b:\n    extends: a\n"},
     "compose.yaml line 3, services.a.extends", "goes round in a circle: a → b → a"),
    ({"compose.yaml": "services:\n  a:\n    extends: {file: other.yaml, service: nope}\n",
      "other.yaml": "services:\n  base:\n    image: x\n"},
     "compose.yaml line 3, services.a.extends", "other.yaml has no service 'nope'"),
    ({"compose.yaml": "services:\n  a:\n    extends: {file: missing.yaml, service: x}\n"},
     "compose.yaml line 3, services.a.extends.file", "cannot read"),
    ({"compose.yaml": "services:\n  a:\n    extends: {service: b, files: x}\n  b:\n    image: x\n"},
     "compose.yaml line 3, services.a.extends.files", "'files' is not a valid key"),
])
def test_extends_errors(tmp_path: Path, files: dict[str, str], start: str, fragment: str) -> None:
    error = refused(write(tmp_path, files))
    assert error.message.startswith(start) and fragment in error.message, error.message


# --------------------------------------------------------------------------- include

def test_include_reads_each_project_in_its_folder_with_its_env(tmp_path: Path) -> None:
    compose = write(tmp_path, {
        "compose.yaml": """\
            include:
              - path: infra/compose.yaml
                env_file: infra/infra.env
            services:
              app:
                image: busybox
                environment: {REDIS: "${REDIS_TAG:-unset}"}
                depends_on: [redis]
            """,
        "infra/compose.yaml": "services:\n  redis:\n    image: redis:${REDIS_TAG}\n    build: ./ctx\n",
        "infra/infra.env": "REDIS_TAG=7-alpine\n",
    })
    project = load_compose_file(compose, environ={})
    assert list(project.services) == ["redis", "app"]
    assert project.services["redis"].image == "redis:7-alpine" and project.services["app"].environment == {
        "REDIS": "unset"}
    assert project.services["redis"].build.context == "./infra/ctx"  # type: ignore[union-attr]


def test_include_errors_name_the_included_file(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad", {"compose.yaml": "include: [sub/compose.yaml]\nservices:\n  a:\n    image: x\n",
                                   "sub/compose.yaml": "services:\n  db:\n    image: x\n    restart: sometimes\n"})
    error = refused(bad)
    assert error.message.startswith("sub/compose.yaml line 4, services.db.restart: restart policy 'sometimes'")
    clash = write(tmp_path / "clash", {"compose.yaml": "include: [sub/compose.yaml]\nservices:\n  db:\n    image: a\n",
                                       "sub/compose.yaml": "services:\n  db:\n    image: b\n"})
    error = refused(clash)
    assert error.message.startswith("compose.yaml line 3, services.db: services 'db' is also defined by the "
                                    "included sub/compose.yaml"), error.message
    assert "include needs the compose file on disk" in refused("include: [x.yaml]\nservices:\n  a:\n    image: x\n"
                                                               ).message


# --------------------------------------------------------------------------- YAML tags

def test_reset_and_override_tags() -> None:
    project = load_compose(dedent("""\
        services:
          base:
            image: busybox
            ports: ["8080:80"]
            environment: {A: "1", B: "2"}
            command: ["sh", "-c", "true"]
          child:
            extends: base
            ports: !reset []
            environment: !override {C: "3"}
            command: !reset null
          plain:
            image: busybox
            environment: !override {D: "4"}
            labels: !reset {}
        """), environ={})
    child, plain = project.services["child"], project.services["plain"]
    assert child.ports == () and child.environment == {"C": "3"} and child.command is None
    assert plain.environment == {"D": "4"} and plain.labels == {}


# --------------------------------------------------------------------------- project name and profiles

def test_project_name_precedence_and_its_variable(tmp_path: Path) -> None:
    folder = tmp_path / "Shop"
    compose = write(folder, {"compose.yaml": "name: myshop\nservices:\n  web:\n    image: x\n"
                                             "    container_name: ${COMPOSE_PROJECT_NAME}-web\n"})
    assert load_compose_file(compose, environ={}).services["web"].container_name == "myshop-web"
    from_env = load_compose_file(compose, environ={"COMPOSE_PROJECT_NAME": "fromenv"})
    assert from_env.name == "fromenv" and from_env.services["web"].container_name == "fromenv-web"
    (folder / ".env").write_text("COMPOSE_PROJECT_NAME=fromdotenv\n")
    assert load_compose_file(compose, environ={}).name == "fromdotenv"
    assert load_compose_file(compose, environ={}, project_name="given").name == "given"
    assert "COMPOSE_PROJECT_NAME: project name 'Bad.Name' is not valid" in refused(
        compose, environ={"COMPOSE_PROJECT_NAME": "Bad.Name"}).message
    renamed = load("name: My Shop\nservices:\n  web:\n    image: x\n")
    assert renamed.name == "myshop" and any("becomes 'myshop'" in w for w in renamed.warnings)


def test_compose_profiles_choose_the_services_that_start() -> None:
    text = "services:\n  web:\n    image: x\n  debug:\n    image: x\n    profiles: [tools]\n" \
           "  other:\n    image: x\n    profiles: [never]\n"
    assert load(text).enabled_services() == ("web",)
    assert load(text, COMPOSE_PROFILES="tools").enabled_services() == ("web", "debug")
    assert load(text, COMPOSE_PROFILES=" tools , *").enabled_services() == ("web", "debug", "other")
    assert load_compose(text, environ={}, profiles=["never"]).enabled_services() == ("web", "other")


# --------------------------------------------------------------------------- checks compose-go makes

@pytest.mark.parametrize(("text", "start", "fragment"), [
    ("services:\n  web:\n    image: x\n    depends_on: [db]\n  db:\n    image: x\n    profiles: [debug]\n",
     "compose.yaml line 4, services.web.depends_on[0]", "'db', which only runs with the profile debug"),
    ("services:\n  a:\n    image: x\n    container_name: same\n  b:\n    image: x\n    container_name: same\n",
     "compose.yaml line 7, services.b.container_name", "already used by service 'a'"),
    ("services:\n  web:\n    image: x\n    secrets: [nope]\n",
     "compose.yaml line 4, services.web.secrets[0]", "undefined secret 'nope'"),
    ("services:\n  web:\n    image: x\n    configs:\n      - source: cfg\n",
     "compose.yaml line 5, services.web.configs[0]", "undefined config 'cfg'"),
    ("services:\n  web:\n    image: ${UNSET}\n",
     "compose.yaml line 2, services.web", "its image is empty"),
])
def test_what_compose_go_refuses(text: str, start: str, fragment: str) -> None:
    error = refused(text)
    assert error.message.startswith(start) and fragment in error.message, error.message


def test_optional_dependency_on_a_disabled_service_is_dropped_silently() -> None:
    project = load("services:\n  web:\n    image: x\n    depends_on:\n      db: {condition: service_started, "
                   "required: false}\n  db:\n    image: x\n    profiles: [debug]\n")
    assert project.enabled_services() == ("web",)


def test_a_missing_env_file_is_refused_unless_optional(tmp_path: Path) -> None:
    compose = write(tmp_path, {"compose.yaml": "services:\n  web:\n    image: x\n    env_file:\n"
                                               "      - path: missing.env\n        required: false\n"
                                               "      - other.env\n"})
    error = refused(compose)
    assert error.message.startswith("compose.yaml line 7, services.web.env_file[1]: the env file other.env does not "
                                    "exist"), error.message
    (tmp_path / "other.env").write_text("A=1\n")
    assert [f.path for f in load_compose_file(compose, environ={}).services["web"].env_files] == [
        "missing.env", "other.env"]


def test_values_written_as_compose_go_writes_them() -> None:
    environment = load("services:\n  web:\n    image: x\n    environment:\n      FLOAT: 1.0\n      EXP: 1e3\n"
                       "      OCTAL: 017\n      UNDERSCORE: 1_000\n      INF: .inf\n      BIG: 1e7\n"
                       ).services["web"].environment
    assert environment == {"FLOAT": "1", "EXP": "1000", "OCTAL": "15", "UNDERSCORE": "1000", "INF": "+Inf",
                           "BIG": "1e+07"}


def test_ports_and_mounts_as_compose_go_reads_them() -> None:
    web = load("services:\n  web:\n    image: x\n    ports: [':8080:80', ':8080:80']\n"
               "    volumes: ['./a:/data/', 'v:/data', '/srv/:/srv//']\nvolumes:\n  v: {}\n").services["web"]
    assert [(p.host_ip, p.published, p.target) for p in web.ports] == [(None, 8080, 80)]
    assert [(m.source, m.target) for m in web.volumes] == [("v", "/data"), ("/srv/", "/srv")]


def test_merge_keys_keep_the_anchor_order() -> None:
    environment = load("x-env: &env\n  B: '1'\n  A: '2'\n  C: '3'\nservices:\n  web:\n    image: x\n    environment:\n"
                       "      <<: *env\n      D: '4'\n").services["web"].environment
    assert list(environment) == ["B", "A", "C", "D"]
