"""A Compose file (Compose Specification) read into services, networks, volumes and their graph. Pure.

- :mod:`.model`: the frozen models (services, ports, mounts, dependencies) and the project graph;
- :mod:`.interpolate` and :mod:`.dotenv`: variables, the way Docker Compose substitutes them;
- :mod:`.fields`: the small field parsers (durations, ports, volume strings, project names);
- :mod:`.load`: the reader that checks a file as Compose does, every error naming its line and key;
- :mod:`.yaml_lines`: YAML with the line of every key (the only module importing PyYAML, loaded lazily).
"""

from .dotenv import parse_dotenv
from .fields import normalize_project_name, parse_duration, parse_port, parse_volume
from .interpolate import interpolate
from .load import load_compose, load_compose_file
from .model import (
    Build,
    ComposeProject,
    Dependency,
    EnvFile,
    HealthCheck,
    Mount,
    Network,
    NetworkAttachment,
    PortMapping,
    Service,
    Volume,
)

__all__ = [
    "Build",
    "ComposeProject",
    "Dependency",
    "EnvFile",
    "HealthCheck",
    "Mount",
    "Network",
    "NetworkAttachment",
    "PortMapping",
    "Service",
    "Volume",
    "interpolate",
    "load_compose",
    "load_compose_file",
    "normalize_project_name",
    "parse_dotenv",
    "parse_duration",
    "parse_port",
    "parse_volume",
]
