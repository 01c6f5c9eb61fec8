"""Small field parsers of the Compose Specification: durations, ports, volume strings, project names, and
YAML numbers written as strings the way compose-go writes them.
"""

from __future__ import annotations

import ipaddress
import math
import posixpath
import re
from decimal import Decimal

from .model import Mount, PortMapping

_RESOURCE_NAME = re.compile(r"[a-zA-Z0-9._-]+")
_DURATION_PART = re.compile(r"([0-9]*\.?[0-9]+|[0-9]+\.)(ns|us|µs|μs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0,
                   "m": 60.0, "h": 3600.0}
_PROTOCOLS = ("tcp", "udp", "sctp")
_MOUNT_MODES = {"ro", "rw", "z", "Z", "nocopy", "consistent", "cached", "delegated",
                "shared", "rshared", "slave", "rslave", "private", "rprivate"}

# --------------------------------------------------------------------------- small parsers


def go_string(value: object) -> str:
    """A YAML scalar as compose-go makes it a string (Go's %v): 1.0 -> '1', 1e3 -> '1000', 1e7 -> '1e+07',
    true -> 'true', .inf -> '+Inf'."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    return str(value)


def _go_float(value: float) -> str:
    """strconv.FormatFloat(value, 'g', -1, 64): the shortest digits, an exponent below 1e-4 and from 1e6 on."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign = "-" if value < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()  # repr: the shortest digits, as Go's -1
    point = len(digit_tuple) + int(exponent)
    all_digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    power = point - 1
    if power < -4 or power >= 6:
        tail = all_digits[1:]
        return f"{sign}{all_digits[0]}{'.' + tail if tail else ''}e{'-' if power < 0 else '+'}{abs(power):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{all_digits}"
    if point >= len(all_digits):
        return f"{sign}{all_digits}{'0' * (point - len(all_digits))}"
    return f"{sign}{all_digits[:point]}.{all_digits[point:]}"


def clean_path(path: str) -> str:
    """A container path cleaned as Go's path.Clean does ('/data/' -> '/data', '//srv//x/' -> '/srv/x')."""
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def parse_duration(text: str | int | float) -> float:
    """A Compose duration (``1m30s``, ``500ms``, ``2h``) in seconds; raises ValueError."""
    if isinstance(text, bool):
        raise ValueError(f"{text!r} is not a duration")
    if isinstance(text, (int, float)):
        if text == 0:
            return 0.0
        raise ValueError(f"{text!r} has no unit; write e.g. {text}s")
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a duration like 10s, 1m30s or 500ms")
    value = text.strip()
    if value in ("0", "+0", "-0"):
        return 0.0
    sign = -1.0 if value.startswith("-") else 1.0
    body = value.lstrip("+-")
    total, pos = 0.0, 0
    while pos < len(body):
        part = _DURATION_PART.match(body, pos)
        if part is None:
            break
        total += float(part.group(1)) * _DURATION_UNITS[part.group(2)]
        pos = part.end()
    if not body or pos != len(body):
        raise ValueError(f"{text!r} is not a duration like 10s, 1m30s or 500ms")
    return sign * total



def _port_range(text: str, what: str) -> tuple[int, int | None]:
    match = re.fullmatch(r"([0-9]+)(?:-([0-9]+))?", text.strip())
    if match is None:
        raise ValueError(f"{what} {text!r} is not a port number or range like 8000-8010")
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) else None
    for port in (first, last):
        if port is not None and not 1 <= port <= 65535:
            raise ValueError(f"{what} {port} is outside 1-65535")
    if last is not None and last < first:
        raise ValueError(f"{what} range {text!r} ends before it starts")
    return first, last


def _host_ip(text: str) -> str:
    address = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address") from None


def parse_port(spec: str | int) -> PortMapping:
    """Short port syntax: ``80``, ``8080:80``, ``127.0.0.1:8080:80/udp``, ``127.0.0.1::80``,
    ``[::1]:8080:80``, ``9090-9091:8080-8081``; raises ValueError with the reason."""
    if isinstance(spec, bool) or not isinstance(spec, (str, int)):
        raise ValueError(f"{spec!r} is not a port")
    text = str(spec).strip()
    protocol = "tcp"
    if "/" in text:
        text, protocol = text.rsplit("/", 1)
        if protocol not in _PROTOCOLS:
            raise ValueError(f"protocol {protocol!r} is not tcp, udp or sctp")
    host_ip: str | None = None
    if text.startswith("["):
        close = text.find("]")
        if close < 0 or text[close + 1: close + 2] != ":":
            raise ValueError(f"{spec!r}: an IPv6 host address is written [addr]:host:container")
        host_ip, text = _host_ip(text[: close + 1]), text[close + 2:]
    parts = text.split(":")
    if host_ip is None and len(parts) > 3:
        host_ip = _host_ip(":".join(parts[:-2]))
        parts = parts[-2:]
    elif host_ip is None and len(parts) == 3:
        host_ip = _host_ip(parts[0]) if parts[0] else None  # ":8080:80": no host address, as Compose reads it
        parts = parts[1:]
    if len(parts) > 2:
        raise ValueError(f"{spec!r} has too many ':' parts")
    target, target_end = _port_range(parts[-1], "container port")
    published = published_end = None
    if len(parts) == 2 and parts[0] != "":
        published, published_end = _port_range(parts[0], "host port")
        if target_end is not None and (published_end or published) - published != target_end - target:
            raise ValueError(f"{spec!r}: the host and container ranges have different sizes")
    return PortMapping(target=target, published=published, host_ip=host_ip, protocol=protocol,
                       target_end=target_end, published_end=published_end)


def _is_path(source: str) -> bool:
    return source.startswith((".", "/", "~")) or bool(re.match(r"[A-Za-z]:[\\/]", source))


def parse_volume(spec: str) -> Mount:
    """Short volume syntax ``[SOURCE:]TARGET[:MODE]``: a path source is a bind mount, a name is
    a named volume, no source is an anonymous volume; raises ValueError with the reason. The target is
    cleaned as Compose cleans it (``/data/`` -> ``/data``); the source stays as written."""
    parts = spec.split(":")
    if len(parts) > 3 or not all(parts[:2]):
        raise ValueError(f"{spec!r} is not SOURCE:TARGET[:MODE]")
    modes: list[str] = []
    if len(parts) == 3:
        modes = [m for m in parts[2].split(",") if m]
    if len(parts) == 1:
        source, target = None, parts[0]
    else:
        source, target = parts[0], parts[1]
    if not target.startswith("/"):
        raise ValueError(f"{spec!r}: the mount target {target!r} must be an absolute path in the container")
    unknown = [m for m in modes if m not in _MOUNT_MODES]
    if unknown:
        raise ValueError(f"{spec!r}: unknown mount mode {unknown[0]!r} (use ro or rw, z, Z, nocopy)")
    kind = "volume" if source is None or not _is_path(source) else "bind"
    if kind == "volume" and source is not None and not _RESOURCE_NAME.fullmatch(source):
        raise ValueError(f"{spec!r}: {source!r} is neither a path (./, /, ~) nor a volume name")
    return Mount(type=kind, target=clean_path(target), source=source, read_only="ro" in modes,
                 options=tuple(m for m in modes if m not in ("ro", "rw")))


def normalize_project_name(text: str) -> str:
    """A directory name turned into a Compose project name: lower case, [a-z0-9_-] only."""
    name = re.sub(r"[^a-z0-9_-]", "", text.lower())
    return name.lstrip("_-")

