"""Host facts parsers on recorded files: os-release, apt sources (both formats), ELF headers."""

import shutil
import struct

import pytest

from containerlab.kernel.host import apt_mirror, distro_codename, is_static_elf, parse_apt_sources, parse_os_release

DEB822 = """\
Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm

Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main
"""


def test_os_release_quotes_and_comments():
    facts = parse_os_release('# comment\nNAME="Debian GNU/Linux"\nVERSION_CODENAME=bookworm\nID=debian\n')
    assert facts == {"NAME": "Debian GNU/Linux", "VERSION_CODENAME": "bookworm", "ID": "debian"}


def test_deb822_sources_skip_deb_src():
    assert parse_apt_sources(DEB822) == [
        ("http://mirror.example/debian", ["bookworm", "bookworm-updates"]),
        ("http://security.example/debian-security", ["bookworm-security"]),
    ]


def test_one_line_sources_with_options_and_comments():
    text = ("deb [arch=amd64 signed-by=/k.gpg] http://m.example/ubuntu noble main\n"
            "# deb http://commented.example/ubuntu noble main\n"
            "deb-src http://src.example/ubuntu noble main\n"
            "deb http://m.example/ubuntu noble-updates main # trailing\n")
    assert parse_apt_sources(text) == [("http://m.example/ubuntu", ["noble"]),
                                       ("http://m.example/ubuntu", ["noble-updates"])]


def test_mirror_and_codename_from_an_etc_tree(tmp_path):
    (tmp_path / "apt/sources.list.d").mkdir(parents=True)
    (tmp_path / "os-release").write_text("VERSION_CODENAME=bookworm\n")
    (tmp_path / "apt/sources.list.d/debian.sources").write_text(DEB822)
    assert distro_codename(str(tmp_path)) == "bookworm"
    assert apt_mirror(str(tmp_path)) == "http://mirror.example/debian"


def test_unknown_host_falls_back(tmp_path):
    assert distro_codename(str(tmp_path)) == "bookworm"
    assert apt_mirror(str(tmp_path)) is None


def _elf(program_header_types):
    header = bytearray(64)
    header[:4] = b"\x7fELF"
    header[4], header[5] = 2, 1
    struct.pack_into("<Q", header, 0x20, 64)
    struct.pack_into("<HH", header, 0x36, 56, len(program_header_types))
    for kind in program_header_types:
        entry = bytearray(56)
        struct.pack_into("<I", entry, 0, kind)
        header += entry
    return bytes(header)


def test_static_elf_has_no_interpreter():
    assert is_static_elf(_elf([1, 1, 4]))
    assert not is_static_elf(_elf([6, 3, 1]))
    assert not is_static_elf(b"#!/bin/sh\n" + bytes(100))


@pytest.mark.skipif(not shutil.which("ls"), reason="no ls on this host")
def test_real_dynamic_binary_is_not_static():
    with open(shutil.which("ls"), "rb") as binary:
        assert not is_static_elf(binary.read(1 << 16))


DOCKER_RULES = """-P INPUT ACCEPT
-P FORWARD DROP
-P OUTPUT ACCEPT
-N DOCKER-USER
-A FORWARD -j DOCKER-USER
-A DOCKER-USER -j RETURN
"""


def test_podman_bridges_are_blocked_only_by_docker_forward_drop_with_br_netfilter():
    from containerlab.kernel.host import PODMAN_BRIDGE_RULE, podman_bridges_blocked

    assert podman_bridges_blocked(DOCKER_RULES, "1\n")
    assert not podman_bridges_blocked(DOCKER_RULES, "0\n")  # bridged frames skip iptables
    assert not podman_bridges_blocked(DOCKER_RULES, "")  # br_netfilter not loaded
    assert not podman_bridges_blocked(DOCKER_RULES.replace("FORWARD DROP", "FORWARD ACCEPT"), "1")
    with_rule = DOCKER_RULES.replace("-A DOCKER-USER -j RETURN", PODMAN_BRIDGE_RULE + "\n-A DOCKER-USER -j RETURN")
    assert not podman_bridges_blocked(with_rule, "1")
    # iptables may print the matches in another order
    reordered = "-A DOCKER-USER -m physdev --physdev-is-bridged -i podman+ -j ACCEPT"
    assert not podman_bridges_blocked(DOCKER_RULES + reordered + "\n", "1")
    assert podman_bridges_blocked(DOCKER_RULES + "-A DOCKER-USER -i podman+ -j DROP\n", "1")


def test_lab_script_adds_exactly_the_rule_doctor_looks_for():
    """./lab (bash) and doctor (Python) name the same rule; they must not drift apart."""
    import re
    from pathlib import Path

    from containerlab.kernel.host import PODMAN_BRIDGE_RULE

    script = (Path(__file__).resolve().parents[2] / "lab").read_text()
    found = re.search(r"local rule=\(([^)]*)\)", script)
    assert found and "-A " + found.group(1) == PODMAN_BRIDGE_RULE
