"""Host facts the setup needs: distribution, package mirror, static binaries. Standard library only.

The parsers take text or bytes (tested on recorded files); the readers read this host.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

__all__ = ["parse_os_release", "parse_apt_sources", "is_static_elf", "distro_codename", "apt_mirror",
           "PODMAN_BRIDGE_RULE", "podman_bridges_blocked"]

# The rule `./lab` adds so that containers on one Podman network reach each other where Docker runs too.
PODMAN_BRIDGE_RULE = "-A DOCKER-USER -i podman+ -m physdev --physdev-is-bridged -j ACCEPT"

DEFAULT_CODENAME = "bookworm"


def parse_os_release(text: str) -> dict[str, str]:
    """KEY=value pairs of /etc/os-release, quotes removed."""
    facts: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        facts[key] = value.strip().strip('"').strip("'")
    return facts


def parse_apt_sources(text: str) -> list[tuple[str, list[str]]]:
    """(URI, suites) of each 'deb' source, from deb822 .sources or one-line sources.list text."""
    sources: list[tuple[str, list[str]]] = []
    if any(line.lower().startswith("types:") for line in text.splitlines()):
        for stanza in text.split("\n\n"):
            fields: dict[str, str] = {}
            for line in stanza.splitlines():
                if ":" in line and not line.startswith(("#", " ")):
                    key, value = line.split(":", 1)
                    fields[key.strip().lower()] = value.strip()
            if "deb" in fields.get("types", "").split() and fields.get("enabled", "yes") != "no":
                for uri in fields.get("uris", "").split():
                    sources.append((uri, fields.get("suites", "").split()))
        return sources
    for line in text.splitlines():
        words = re.sub(r"\[[^\]]*\]", "", line.split("#", 1)[0]).split()
        if len(words) >= 3 and words[0] == "deb":
            sources.append((words[1], [words[2]]))
    return sources


def is_static_elf(head: bytes) -> bool:
    """True for an ELF executable without a PT_INTERP (dynamic loader) program header."""
    if len(head) < 64 or head[:4] != b"\x7fELF":
        return False
    is64 = head[4] == 2
    endian = "<" if head[5] == 1 else ">"
    if is64:
        phoff, = struct.unpack_from(endian + "Q", head, 0x20)
        phentsize, phnum = struct.unpack_from(endian + "HH", head, 0x36)
    else:
        phoff, = struct.unpack_from(endian + "I", head, 0x1C)
        phentsize, phnum = struct.unpack_from(endian + "HH", head, 0x2A)
    for index in range(phnum):
        offset = phoff + index * phentsize
        if offset + 4 > len(head):
            return False
        p_type, = struct.unpack_from(endian + "I", head, offset)
        if p_type == 3:  # PT_INTERP
            return False
    return True


def distro_codename(etc: str = "/etc") -> str:
    """This host's release codename (bookworm, noble, ...), bookworm when unknown."""
    try:
        facts = parse_os_release(Path(etc, "os-release").read_text(errors="replace"))
    except OSError:
        return DEFAULT_CODENAME
    return facts.get("VERSION_CODENAME") or DEFAULT_CODENAME


def apt_mirror(etc: str = "/etc") -> str | None:
    """The package mirror this host's apt already uses for its own release (None if unknown)."""
    codename = distro_codename(etc)
    files = [Path(etc, "apt/sources.list")] + sorted(Path(etc, "apt/sources.list.d").glob("*.sources")) \
        + sorted(Path(etc, "apt/sources.list.d").glob("*.list"))
    for path in files:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for uri, suites in parse_apt_sources(text):
            if codename in suites:
                return uri
    return None


def podman_bridges_blocked(iptables_rules: str, bridge_nf_call_iptables: str) -> bool:
    """True when traffic between two containers on one Podman bridge would be dropped: bridged frames go
    through iptables (br_netfilter's bridge-nf-call-iptables is 1), the FORWARD policy is DROP (Docker sets
    it), and nothing in DOCKER-USER lets Podman's bridges through. ``iptables_rules``: `iptables -S` output."""
    if bridge_nf_call_iptables.strip() != "1":
        return False
    lines = [" ".join(line.split()) for line in iptables_rules.splitlines()]
    if "-P FORWARD DROP" not in lines:
        return False
    wanted = set(PODMAN_BRIDGE_RULE.split()[2:])
    return not any(line.startswith("-A DOCKER-USER ") and wanted <= set(line.split()[2:]) for line in lines)
