"""Read YAML into plain Python values and remember the line of every key, for clear errors.

This is the only module that imports PyYAML. It uses the composer (nodes with marks, from libyaml when PyYAML
has it: ten times faster) instead of ``yaml.safe_load`` so that a Compose error can say "line 12,
services.web.ports[0]". Plain scalars are resolved the way Compose's YAML library (go-yaml v3) resolves them,
not PyYAML's YAML 1.1: ``no`` stays the string "no" (``restart: no``), ``22:22`` stays a string instead of the
sexagesimal number 1342, ``017`` is octal 15 and ``1_000`` is 1000 as in Go, ``2024-01-01`` stays a string
(Compose reads it as a timestamp and refuses it where a string belongs). Merge keys (``<<: *anchor``) work;
duplicate keys are an error, as in Compose. The tags ``!reset`` and ``!override`` become
:data:`.merge.RESET` and :class:`.merge.Override` for the merge step.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import LabError, ParseError
from .merge import RESET, Override
from .sources import KeyPath, format_path

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML arrives with JupyterLab's dependencies
    yaml = None  # type: ignore[assignment]

# libyaml's composer when PyYAML was built with it (ten times faster), else PyYAML's own
_Loader = getattr(yaml, "CSafeLoader", None) or getattr(yaml, "SafeLoader", None)

_CORE = "tag:yaml.org,2002:"
_CONSTANTS: dict[str, object] = {
    **dict.fromkeys(("", "~", "null", "Null", "NULL")),
    **dict.fromkeys(("true", "True", "TRUE"), True), **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf), **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
}
_GO_INT = re.compile(r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_GO_BASES = {"x": 16, "X": 16, "o": 8, "O": 8, "b": 2, "B": 2}
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_MAX_NODES = 200_000
_MAX_DEPTH = 100


@dataclass(frozen=True)
class YamlDocument:
    """A YAML document as plain values (dict, list, str, int, float, bool, None) plus key lines."""

    data: object
    lines: Mapping[KeyPath, int]
    source: str = "compose.yaml"
    tagged: bool = False  # some value carries !reset or !override

    def line(self, path: KeyPath) -> int | None:
        """The 1-based line of ``path`` (a key or list item), or of its nearest recorded parent."""
        for end in range(len(path), -1, -1):
            found = self.lines.get(tuple(path[:end]))
            if found is not None:
                return found
        return None


def load_yaml(text: str, *, source: str = "compose.yaml") -> YamlDocument:
    """Parse one YAML document, recording the line of every mapping key and list item."""
    if yaml is None:
        raise LabError("Reading YAML needs PyYAML, which is not installed.",
                       "Install it with: pip install 'PyYAML>=6' (JupyterLab normally brings it).")
    loader = None
    try:
        loader = _Loader(text)  # type: ignore[misc]  # (None only without PyYAML, handled above)
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{source} line {mark.line + 1}" if mark is not None else source
        problem = err.problem or err.context or "malformed YAML"
        raise ParseError(f"{where}: this is not valid YAML ({problem}).",
                         "Check the indentation (spaces, not tabs) and the quotes on that line "
                         "and the one above it.") from None
    except yaml.reader.ReaderError as err:
        line = text.count("\n", 0, err.position) + 1
        raise ParseError(f"{source} line {line}: this is not valid YAML (it holds the control character "
                         f"#x{err.character:04x}).",
                         "Remove the character, or write it as an escape inside a double-quoted string.") from None
    except yaml.YAMLError as err:
        raise ParseError(f"{source}: this is not valid YAML ({' '.join(str(err).split())}).",
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
    data = builder.value(node, ())
    return YamlDocument(data, lines, source, builder.tagged)


class _Builder:
    """Turns composed nodes into plain values while filling the path -> line table."""

    def __init__(self, source: str, lines: dict[KeyPath, int]) -> None:
        self.source = source
        self.lines = lines
        self.count = 0
        self.resolver = yaml.resolver.Resolver()
        self.open_nodes: set[int] = set()  # collections being built: an alias to one of them is a cycle
        self.tagged = False

    def fail(self, node: object, path: KeyPath, message: str, hint: str) -> ParseError:
        line = node.start_mark.line + 1  # type: ignore[attr-defined]
        where = f"{self.source} line {line}" + (f", {format_path(path)}" if path else "")
        return ParseError(f"{where}: {message}", hint)

    def value(self, node: object, path: KeyPath) -> object:
        self.count += 1
        if self.count > _MAX_NODES:
            raise self.fail(node, path, "the document expands to too many values (alias bomb?).",
                            "Use fewer nested anchors and aliases.")
        tag = node.tag  # type: ignore[attr-defined]
        if tag in ("!reset", "!override"):
            self.tagged = True
            if tag == "!reset":
                return RESET
            node.tag = _CORE + ("str" if isinstance(node, yaml.ScalarNode) and node.style else  # type: ignore
                                "seq" if isinstance(node, yaml.SequenceNode) else
                                "map" if isinstance(node, yaml.MappingNode) else
                                self.resolver.resolve(yaml.ScalarNode, node.value, (True, False)))  # type: ignore
            return Override(self.value(node, path))
        if not tag.startswith(_CORE):
            raise self.fail(node, path, f"the YAML tag {tag} is not supported here.",
                            "Compose knows the tags !reset and !override; remove any other tag.")
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
                self.tagged = self.tagged or scratch.tagged
                taken = [key for key in merged if key not in result and key not in inherited]
                for key in taken:
                    inherited[key] = merged[key]
                depth = len(path)
                for sub_path, line in scratch.lines.items():
                    if len(sub_path) > depth and sub_path[depth] in taken:
                        self.lines[sub_path] = line
        return {**inherited, **result}

    def scalar(self, node: object, path: KeyPath) -> object:
        tag, text = node.tag, node.value  # type: ignore[attr-defined]
        if node.style:  # type: ignore[attr-defined]
            return text
        if tag != self.resolver.resolve(yaml.ScalarNode, text, (True, False)):
            return text if tag in (_CORE + "str", _CORE + "binary") else resolve_plain(text)
        return resolve_plain(text)


def resolve_plain(text: str) -> object:
    """Resolve an unquoted scalar as go-yaml v3 does (Compose's YAML library): null, booleans, .inf/.nan, Go
    integers (0x1F, 0o17, 017 octal, 0b101, '_' between digits, up to the 64-bit range), then floats."""
    if text in _CONSTANTS:
        return _CONSTANTS[text]
    first = text[:1]
    if first == ".":
        return float(text) if _YAML_FLOAT.fullmatch(text) else text
    if first not in "+-0123456789" or not first:
        return text
    plain = text.replace("_", "")
    match = _GO_INT.fullmatch(plain)
    if match is not None:
        sign, digits = match.groups()
        base = _GO_BASES.get(digits[1:2], 8) if digits.startswith("0") and len(digits) > 1 else 10
        value = int(digits[2:] if base != 8 or digits[1:2] in "oO" else digits, base) if base != 10 else int(digits)
        value = -value if sign == "-" else value
        if -(1 << 63) <= value < (1 << 64):
            return value
    if _YAML_FLOAT.fullmatch(plain):
        return float(plain)
    return text

