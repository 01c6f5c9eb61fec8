"""A Compose file (Compose Specification) read into services, networks, volumes and their graph. Pure.

- :mod:`.model`: the frozen models (services, ports, mounts, dependencies) and the project graph;
- :mod:`.interpolate` and :mod:`.dotenv`: variables, the way Docker Compose substitutes them;
- :mod:`.fields`: the small field parsers (durations, ports, volume strings, project names, Go-style numbers);
- :mod:`.load`: the reader's entry points, project name and profiles, top-level resources and cross checks;
- :mod:`.service`: the service fields; :mod:`.coerce`: checked values, every error naming file, line and key;
- :mod:`.resolve`: variables per file, ``include`` and ``extends``; :mod:`.merge`: Compose's merge rules and the
  ``!reset`` / ``!override`` tags; :mod:`.sources`: the file, line and key each part of the project came from;
- :mod:`.yaml_lines`: YAML with the line of every key (the only module importing PyYAML, loaded lazily).
"""

from .dotenv import parse_dotenv
from .fields import normalize_project_name, parse_duration, parse_port, parse_volume
from .interpolate import interpolate
from .load import compose_data, load_compose, load_compose_file
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
    "compose_data",
    "interpolate",
    "load_compose",
    "load_compose_file",
    "normalize_project_name",
    "parse_dotenv",
    "parse_duration",
    "parse_port",
    "parse_volume",
]
