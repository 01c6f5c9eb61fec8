"""Read YAML into plain Python values and remember the line of every key, for clear errors.

This is the only module that imports PyYAML. It uses the composer (nodes with marks)
instead of ``yaml.safe_load`` so that a Compose error can say "line 12,
services.web.ports[0]". Plain scalars are resolved the way Compose (YAML 1.2, Go)
reads them, not PyYAML's YAML 1.1: ``no`` stays the string "no" (``restart: no``),
``22:22`` stays a string instead of the sexagesimal number 1342, ``2024-01-01`` is not a
date. Merge keys (``<<: *anchor``) work; duplicate keys are an error, as in Compose.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import LabError, ParseError

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML arrives with JupyterLab's dependencies
    yaml = None  # type: ignore[assignment]

KeyPath = tuple[str | int, ...]

_CORE = "tag:yaml.org,2002:"
_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_INT = re.compile(r"[-+]?[0-9]+")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)")
_NAN = re.compile(r"\.(nan|NaN|NAN)")
_MAX_NODES = 200_000
_MAX_DEPTH = 100


@dataclass(frozen=True)
class YamlDocument:
    """A YAML document as plain values (dict, list, str, int, float, bool, None) plus key lines."""

    data: object
    lines: Mapping[KeyPath, int]
    source: str = "compose.yaml"

    def line(self, path: KeyPath) -> int | None:
        """The 1-based line of ``path`` (a key or list item), or of its nearest recorded parent."""
        for end in range(len(path), -1, -1):
            found = self.lines.get(tuple(path[:end]))
            if found is not None:
                return found
        return None


def format_path(path: KeyPath) -> str:
    """``("services", "web", "ports", 0)`` -> ``services.web.ports[0]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def load_yaml(text: str, *, source: str = "compose.yaml") -> YamlDocument:
    """Parse one YAML document, recording the line of every mapping key and list item."""
    if yaml is None:
        raise LabError("Reading YAML needs PyYAML, which is not installed.",
                       "Install it with: pip install 'PyYAML>=6' (JupyterLab normally brings it).")
    loader = None
    try:
        loader = yaml.SafeLoader(text)  # its reader already refuses control characters
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{source} line {mark.line + 1}" if mark is not None else source
        problem = err.problem or err.context or "malformed YAML"
        raise ParseError(f"{where}: this is not valid YAML ({problem}).",
                         "Check the indentation (spaces, not tabs) and the quotes on that line "
                         "and the one above it.") from None
    except yaml.YAMLError as err:
        raise ParseError(f"{source}: this is not valid YAML ({err}).",
                         "Check that the file is one YAML document in UTF-8.") from None
    except RecursionError:
        raise ParseError(f"{source}: the YAML is nested too deeply to read.",
                         "A compose file needs only a few levels of nesting; look for runaway brackets.") from None
    finally:
        if loader is not None:
            loader.dispose()
    lines: dict[KeyPath, int] = {(): 1}
    if node is None:
        return YamlDocument(None, lines, source)
    builder = _Builder(source, lines)
    return YamlDocument(builder.value(node, ()), lines, source)


class _Builder:
    """Turns composed nodes into plain values while filling the path -> line table."""

    def __init__(self, source: str, lines: dict[KeyPath, int]) -> None:
        self.source = source
        self.lines = lines
        self.count = 0
        self.resolver = yaml.resolver.Resolver()
        self.open_nodes: set[int] = set()  # collections being built: an alias to one of them is a cycle

    def fail(self, node: object, path: KeyPath, message: str, hint: str) -> ParseError:
        line = node.start_mark.line + 1  # type: ignore[attr-defined]
        where = f"{self.source} line {line}" + (f", {format_path(path)}" if path else "")
        return ParseError(f"{where}: {message}", hint)

    def value(self, node: object, path: KeyPath) -> object:
        self.count += 1
        if self.count > _MAX_NODES:
            raise self.fail(node, path, "the document expands to too many values (alias bomb?).",
                            "Use fewer nested anchors and aliases.")
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if len(path) > _MAX_DEPTH:
            raise self.fail(node, path, f"the document is nested more than {_MAX_DEPTH} levels deep.",
                            "A compose file needs only a few levels of nesting.")
        if isinstance(node, yaml.SequenceNode):
            self.enter(node, path)
            try:
                items = []
                for index, item in enumerate(node.value):
                    self.lines[(*path, index)] = item.start_mark.line + 1
                    items.append(self.value(item, (*path, index)))
                return items
            finally:
                self.open_nodes.discard(id(node))
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        raise self.fail(node, path, "unsupported YAML node.", "Use plain mappings, lists and scalars.")

    def enter(self, node: object, path: KeyPath) -> None:
        """Mark a collection as being built; refuse an alias that leads back into it."""
        if id(node) in self.open_nodes:
            raise self.fail(node, path, "an alias refers to a block that contains it, so it never ends.",
                            "Point '*name' at an anchor '&name' outside the block that uses it.")
        self.open_nodes.add(id(node))

    def key(self, node: object, path: KeyPath) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, path, "a mapping key must be a plain name, not a list or mapping.",
                            "Write keys as simple words, e.g. 'image:'.")
        return str(node.value)

    def mapping(self, node: object, path: KeyPath) -> dict[str, object]:
        self.enter(node, path)
        try:
            return self._mapping(node, path)
        finally:
            self.open_nodes.discard(id(node))

    def _mapping(self, node: object, path: KeyPath) -> dict[str, object]:
        result: dict[str, object] = {}
        merges: list[object] = []
        for key_node, value_node in node.value:  # type: ignore[attr-defined]
            if key_node.tag == _CORE + "merge":
                merges.append(value_node)
                continue
            key = self.key(key_node, path)
            if key in result:
                raise self.fail(key_node, (*path, key),
                                f"the key '{key}' appears twice (first on line "
                                f"{self.lines[(*path, key)]}).",
                                "Keep one of the two entries: YAML keys must be unique.")
            self.lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = self.value(value_node, (*path, key))
        inherited: dict[str, object] = {}
        for merge in merges:
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source_node in sources:
                if not isinstance(source_node, yaml.MappingNode):
                    raise self.fail(source_node, path, "'<<' must merge a mapping (an anchored block).",
                                    "Write '<<: *name' where '&name' marks a mapping.")
                scratch = _Builder(self.source, {})
                scratch.count = self.count
                scratch.open_nodes = self.open_nodes
                merged = scratch.mapping(source_node, path)
                self.count = scratch.count
                for key, value in merged.items():
                    if key in result or key in inherited:
                        continue
                    inherited[key] = value
                    prefix = (*path, key)
                    for sub_path, line in scratch.lines.items():
                        if sub_path[: len(prefix)] == prefix:
                            self.lines[sub_path] = line
        return {**inherited, **result}

    def scalar(self, node: object, path: KeyPath) -> object:
        tag, text = node.tag, node.value  # type: ignore[attr-defined]
        if not tag.startswith(_CORE):
            raise self.fail(node, path, f"the YAML tag {tag} is not supported here.",
                            "Remove the tag; the course reads plain Compose files only.")
        if node.style:  # type: ignore[attr-defined]
            return text
        if tag != self.resolver.resolve(yaml.ScalarNode, text, (True, False)):
            return text if tag in (_CORE + "str", _CORE + "binary") else resolve_plain(text)
        return resolve_plain(text)


def resolve_plain(text: str) -> object:
    """Resolve an unquoted scalar with the YAML 1.2 core schema (what Compose's Go YAML does)."""
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _INT.fullmatch(text):
        return int(text, 10)
    if _OCT.fullmatch(text):
        return int(text[2:], 8)
    if _HEX.fullmatch(text):
        return int(text[2:], 16)
    if _FLOAT.fullmatch(text):
        return float(text)
    if _INF.fullmatch(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN.fullmatch(text):
        return math.nan
    return text
