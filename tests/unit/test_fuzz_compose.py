"""Fuzzed compose files, .env files and interpolation templates, and host facts (os-release, apt sources, ELF).

Compose input is YAML text a learner typed: random text, the recorded example projects damaged,
and well-formed YAML documents of random shape all go through load_compose, which must give a
project or a ParseError naming what is wrong. The small syntax helpers raise ValueError by
contract (load_compose turns it into a located ParseError); they must raise nothing else. The
host-fact parsers never raise: they read whatever /etc holds.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from fuzz_support import FUZZ, FUZZ_SLOW, any_text, mutations, returns_or_lab_error
from hypothesis import example, given
from hypothesis import strategies as st

from containerlab.compose import (
    interpolate,
    load_compose,
    load_compose_file,
    parse_dotenv,
    parse_duration,
    parse_port,
    parse_volume,
)
from containerlab.errors import ParseError
from containerlab.kernel.host import apt_mirror, distro_codename, is_static_elf, parse_apt_sources, parse_os_release

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "compose"
PROJECTS = sorted(FIXTURES.glob("*/compose.yaml"))
YAML_ALPHABET = st.sampled_from(list("abcxyz019 :-_./${}[]'\"#&*<>!|\n\t?,~@"))
YAML_TOKENS = st.one_of(YAML_ALPHABET, st.sampled_from(["  ", "- ", ": ", "\n  ", "\n    ", "services:\n", "image: ",
                                                        "ports:", "depends_on:", "<<: *", "&x ", "*x", "${A}",
                                                        "extends: ", "!reset ", "!override ", "include:"]))
yaml_text = st.lists(YAML_TOKENS, max_size=120).map("".join)
damaged_projects = st.sampled_from([path.read_text() for path in PROJECTS]).flatmap(mutations)

SERVICE_KEYS = ["image", "command", "ports", "volumes", "networks", "depends_on", "environment", "healthcheck",
                "build", "restart", "links", "network_mode", "volumes_from", "deploy", "expose", "env_file",
                "profiles", "tmpfs", "labels", "privileged", "extends", "secrets", "configs", "container_name",
                "unknown_key"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 70000), st.floats(allow_nan=False, width=32),
                    st.text(YAML_ALPHABET, max_size=12), st.sampled_from(["8080:80", "127.0.0.1::80", "db",
                                                                          "./data:/data:ro", "1m30s", "${X:-y}"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(SERVICE_KEYS + ["condition", "test", "a", "service",
                                                                                "file"]),
                                                 inner, max_size=3)), max_leaves=10)
documents = st.fixed_dictionaries({"services": st.dictionaries(
    st.sampled_from(["web", "db", "cache", "bad name"]),
    st.one_of(values, st.dictionaries(st.sampled_from(SERVICE_KEYS), values, max_size=5)), max_size=3)},
    optional={"networks": values, "volumes": values, "name": scalars, "x-extra": values, "secrets": values,
              "include": values})


def test_the_fixtures_are_there():
    assert len(PROJECTS) >= 3


@FUZZ
@given(st.one_of(yaml_text, any_text, damaged_projects))
@example("a: &a [*a]")
@example("services:\n  web:\n    image: x\n    ports: ['0.0.0.0:80:80']\n")
def test_compose_text(text):
    project = returns_or_lab_error(load_compose, text, environ={})
    if not isinstance(project, ParseError):
        project.start_order()
        project.dependency_levels()
        project.public_ports()


@FUZZ
@given(documents)
def test_compose_documents_of_random_shape(document):
    text = yaml.safe_dump(document, allow_unicode=True)
    returns_or_lab_error(load_compose, text, environ={"X": "1"})


@FUZZ_SLOW
@given(st.one_of(yaml_text, damaged_projects), st.one_of(st.none(), any_text))
def test_compose_file_with_a_dotenv(tmp_path_factory, text, dotenv):
    folder = tmp_path_factory.mktemp("Project Dir!")
    (folder / "compose.yaml").write_text(text)
    if dotenv is not None:
        (folder / ".env").write_text(dotenv)
    returns_or_lab_error(load_compose_file, folder / "compose.yaml", environ={})


templates = st.text(st.sampled_from(list("$${}:-+?ABab_ 1\\'\"")), max_size=40)


@FUZZ
@given(templates, st.dictionaries(st.sampled_from(["A", "B", "a_b"]), st.text(max_size=5), max_size=3))
@example("${A:?}", {})
@example("${" * 50, {})
def test_interpolation(template, mapping):
    result = returns_or_lab_error(interpolate, template, mapping)
    assert isinstance(result, (str, ParseError))


@FUZZ
@given(st.one_of(templates, any_text, st.text(st.sampled_from(list("AB=#'\"\\ $\n{}export:")), max_size=60)))
def test_dotenv(text):
    values = returns_or_lab_error(parse_dotenv, text, environ={"A": "1"})
    assert isinstance(values, (dict, ParseError))


def _value_error_only(call, value):
    try:
        call(value)
    except ValueError as err:
        assert str(err)


@FUZZ
@given(st.one_of(st.text(st.sampled_from(list("0123456789:.-/[]abcdptu")), max_size=25), st.integers(), any_text,
                 st.none(), st.floats(), st.booleans(), st.lists(st.integers(), max_size=2)))
def test_short_syntax_helpers_raise_value_error_only(spec):
    for call in (parse_port, parse_volume, parse_duration):
        if call is parse_volume and not isinstance(spec, str):
            continue  # typed str only; the compose reader checks the type first
        _value_error_only(call, spec)


# -- host facts -------------------------------------------------------------------------------

@FUZZ
@given(any_text)
@example("Types: deb\nURIs: http://deb.example/debian\nSuites: bookworm\n\n\nTypes:")
def test_host_text_parsers_never_raise(text):
    assert isinstance(parse_os_release(text), dict)
    assert all(isinstance(uri, str) and isinstance(suites, list) for uri, suites in parse_apt_sources(text))


@FUZZ
@given(st.one_of(st.binary(max_size=200), st.binary(min_size=60, max_size=200).map(lambda b: b"\x7fELF" + b)))
def test_elf_header_check_never_raises(head):
    assert isinstance(is_static_elf(head), bool)


@FUZZ_SLOW
@given(any_text.filter(lambda t: "\0" not in t), any_text.filter(lambda t: "\0" not in t))
def test_host_readers_on_odd_etc(tmp_path_factory, os_release, sources):
    etc = tmp_path_factory.mktemp("etc")
    (etc / "os-release").write_text(os_release)
    (etc / "apt" / "sources.list.d").mkdir(parents=True)
    (etc / "apt" / "sources.list").write_text(sources)
    (etc / "apt" / "sources.list.d" / "debian.sources").write_text(sources)
    assert isinstance(distro_codename(str(etc)), str)
    mirror = apt_mirror(str(etc))
    assert mirror is None or isinstance(mirror, str)
