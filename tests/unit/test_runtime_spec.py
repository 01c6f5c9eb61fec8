"""The OCI config.json editor, on the template runc 1.1 writes (recorded in tests/fixtures/runtime)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from containerlab.errors import ParseError
from containerlab.runtime.spec import (
    IdRange,
    dump_spec,
    edit_spec,
    load_spec,
    memory_limit,
    namespace_types,
    parse_id_map,
    parse_size,
    spec_changes,
    spec_summary,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runtime"


@pytest.fixture
def template() -> dict:
    return load_spec((FIXTURES / "runc-1.1-spec.json").read_text())


def test_template_facts(template):
    assert namespace_types(template) == ["pid", "net", "ipc", "uts", "mnt"]
    assert memory_limit(template) is None
    assert template["process"]["args"] == ["sh"] and template["process"]["terminal"] is True


def test_edit_returns_a_new_spec_and_leaves_the_template(template):
    before = json.dumps(template, sort_keys=True)
    spec = edit_spec(template, args=["hostname"], hostname="box", readonly=True, terminal=False, memory="32m",
                     namespaces=["pid", "network", "ipc", "uts", "mount"], cgroups_path="/containerlab/x",
                     env={"TERM": "dumb", "LANG": "C"})
    assert json.dumps(template, sort_keys=True) == before
    assert spec["process"]["args"] == ["hostname"] and spec["hostname"] == "box"
    assert spec["root"]["readonly"] is True and spec["process"]["terminal"] is False
    assert memory_limit(spec) == 32 * 1024 ** 2
    assert spec["linux"]["resources"]["memory"]["swap"] == 32 * 1024 ** 2
    assert spec["linux"]["resources"]["devices"] == template["linux"]["resources"]["devices"]
    assert spec["linux"]["cgroupsPath"] == "/containerlab/x"
    assert "TERM=dumb" in spec["process"]["env"] and "TERM=xterm" not in spec["process"]["env"]
    assert "LANG=C" in spec["process"]["env"]


def test_namespaces_accept_kernel_names_keep_oci_order_and_a_hostname_needs_uts(template):
    spec = edit_spec(template, namespaces=["mnt", "net", "pid"], hostname="h")
    assert namespace_types(spec) == ["pid", "net", "uts", "mnt"]
    assert [ns["type"] for ns in spec["linux"]["namespaces"]] == ["pid", "network", "uts", "mount"]
    with pytest.raises(ParseError, match="not a namespace"):
        edit_spec(template, namespaces=["pid", "nett"])


def test_a_namespace_with_a_path_is_joined_not_created():
    spec = {"process": {}, "root": {}, "linux": {"namespaces": [{"type": "pid"},
                                                                 {"type": "network", "path": "/proc/1/ns/net"}]}}
    assert namespace_types(spec) == ["pid"]
    assert edit_spec(spec, namespaces=["pid", "net"])["linux"]["namespaces"][1]["path"] == "/proc/1/ns/net"


@pytest.mark.parametrize("text, size", [("64m", 64 << 20), ("64MiB", 64 << 20), ("512k", 512 << 10),
                                        ("1g", 1 << 30), ("1000", 1000), (4096, 4096), ("1.5m", 1572864)])
def test_sizes(text, size):
    assert parse_size(text) == size


def test_bad_input_says_what_to_do():
    with pytest.raises(ParseError, match="not a size"):
        parse_size("lots")
    with pytest.raises(ParseError, match="not valid JSON"):
        load_spec("{")
    with pytest.raises(ParseError, match="not an OCI runtime spec"):
        load_spec('{"a": 1}')


def test_changes_list_exactly_what_was_edited(template):
    spec = edit_spec(template, hostname="box", memory="32m")
    assert spec_changes(template, spec) == ['hostname: "runc" -> "box"',
                                            "linux.resources.memory.limit: (none) -> 33554432",
                                            "linux.resources.memory.swap: (none) -> 33554432"]
    assert spec_changes(template, template) == []
    assert spec_changes(spec, template)[-1] == "linux.resources.memory.swap: removed"


def test_summary_and_dump_round_trip(template):
    lines = spec_summary(edit_spec(template, memory="32m"))
    assert "memory limit: 32 MiB" in lines and "namespaces: pid net ipc uts mnt" in lines
    assert load_spec(dump_spec(template)) == template
    assert dump_spec(template).startswith("{\n\t")


def test_uid_map_of_a_rootless_container():
    ranges = parse_id_map((FIXTURES / "rootless-uid_map.txt").read_text())
    assert ranges == [IdRange(0, 1001, 1), IdRange(1, 100000, 65536)]
    assert ranges[0].to_host(0) == 1001 and ranges[0].to_host(1) is None
    assert ranges[1].to_host(1) == 100000 and ranges[1].to_host(65536) == 165535
    assert ranges[1].to_host(65537) is None
    with pytest.raises(ParseError):
        parse_id_map("0 1001")
