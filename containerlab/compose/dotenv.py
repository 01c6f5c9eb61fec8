"""``.env`` files read the way Compose reads them: comments, ``export``, quotes, interpolation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..errors import ParseError
from .interpolate import _substitute, _TemplateError

# --------------------------------------------------------------------------- .env files


def parse_dotenv(text: str, *, environ: Mapping[str, str] | None = None, source: str = ".env") -> dict[str, str]:
    """Parse a ``.env`` file as Compose does: comments, ``export``, quotes, interpolation.

    Unquoted and double-quoted values are interpolated (the environment first, then the
    variables defined earlier in the file); single-quoted values are literal. A line that is
    just ``NAME`` copies NAME from ``environ`` when it is set there.
    """
    env = dict(environ or {})
    values: dict[str, str] = {}

    class _Lookup(Mapping[str, str]):
        def __getitem__(self, key: str) -> str:
            if key in env:
                return env[key]
            return values[key]

        def __iter__(self):
            return iter({**values, **env})

        def __len__(self) -> int:
            return len({**values, **env})

    lookup = _Lookup()
    pos, n = 0, len(text)
    while pos < n:
        line_no = text.count("\n", 0, pos) + 1
        end = text.find("\n", pos)
        end = n if end < 0 else end
        line = text[pos:end]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            pos = end + 1
            continue
        body = line.lstrip()
        offset = pos + (len(line) - len(body))
        if re.match(r"export[ \t]+", body):
            skip = re.match(r"export[ \t]+", body).end()  # type: ignore[union-attr]
            body, offset = body[skip:], offset + skip
        key_match = re.match(r"([A-Za-z_][A-Za-z0-9_.\-]*)[ \t]*", body)
        if key_match is None:
            raise ParseError(f"{source} line {line_no}: {stripped!r} is not a NAME=value line.",
                             "Names start with a letter or _, e.g. TAG=1.0; comments start with #.")
        key = key_match.group(1)
        rest = body[key_match.end():]
        if not rest or rest.startswith("#"):
            if key in env:
                values[key] = env[key]
            pos = end + 1
            continue
        if rest[0] not in "=:":
            raise ParseError(f"{source} line {line_no}: expected '=' after {key!r}.",
                             "Write NAME=value with no spaces inside the name.")
        value_start = offset + key_match.end() + 1
        while value_start < n and text[value_start] in " \t":
            value_start += 1
        quote = text[value_start: value_start + 1]
        try:
            if quote in ("'", '"'):
                closing = _closing_quote(text, value_start + 1, quote)
                if closing < 0:
                    raise ParseError(f"{source} line {line_no}: the {quote} quote of {key} is never closed.",
                                     f"Add the closing {quote} (values may span lines inside quotes).")
                raw = text[value_start + 1: closing]
                after_end = text.find("\n", closing)
                after_end = n if after_end < 0 else after_end
                trailing = text[closing + 1: after_end].strip()
                if trailing and not trailing.startswith("#"):
                    raise ParseError(f"{source} line {line_no}: unexpected text after the quoted value of {key}.",
                                     "Put comments after a space and #, or quote the whole value.")
                if quote == "'":
                    values[key] = raw.replace("\\'", "'")
                else:
                    values[key] = _substitute(_unescape_double(raw), lookup, None)
                pos = after_end + 1
            else:
                raw = text[value_start:end]
                comment = re.search(r"[ \t]#", raw)
                if comment:
                    raw = raw[: comment.start()]
                values[key] = _substitute(raw.strip(), lookup, None)
                pos = end + 1
        except _TemplateError as err:
            raise ParseError(f"{source} line {line_no}, {key}: {err}", err.hint) from None
    return values


def _closing_quote(text: str, start: int, quote: str) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i
        i += 1
    return -1


def _unescape_double(raw: str) -> str:
    """Expand \\n, \\r, \\t, \\\\ and \\" ; ``\\$`` becomes ``$$`` so it survives interpolation."""
    escapes = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "'": "'", "$": "$$"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), "\\" + m.group(1)), raw, flags=re.DOTALL)

