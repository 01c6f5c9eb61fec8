"""Dockerfiles, parsed the way BuildKit reads them; instructions mapped to image layers; a short linter. Pure.

- :mod:`.parse`: the parser (directives, continuations, exec vs shell form, heredocs, flags, stages);
- :mod:`.substitute`: ARG / ENV substitution in words, as BuildKit's shell lexer does it;
- :mod:`.history`: instructions matched to a built image's history and layers;
- :mod:`.linter`: best-practice findings, each explained in terms of layers.
"""

from .history import StepMatch, map_to_history
from .linter import Finding, lint
from .parse import (
    KEYWORDS,
    LAYER_KEYWORDS,
    SUBSTITUTING_KEYWORDS,
    Dockerfile,
    Heredoc,
    Instruction,
    Stage,
    parse_dockerfile,
)
from .substitute import expand

__all__ = [
    "KEYWORDS", "LAYER_KEYWORDS", "SUBSTITUTING_KEYWORDS", "Heredoc", "Instruction", "Stage", "Dockerfile",
    "StepMatch", "Finding", "parse_dockerfile", "map_to_history", "lint", "expand",
]
