"""Dockerfiles, parsed the way BuildKit reads them; instructions mapped to image layers; a short linter. Pure.

- :mod:`.model`: the parsed file (instructions, stages);
- :mod:`.lines`: the text read into instructions (directives, continuations, flags, exec vs shell form, heredocs);
- :mod:`.parse`: each instruction's meaning (variables, stages, which instructions make layers);
- :mod:`.substitute`: ARG / ENV substitution in words, as BuildKit's shell lexer does it;
- :mod:`.history`: instructions matched to a built image's history and layers;
- :mod:`.linter`: best-practice findings, each explained in terms of layers.
"""

from .history import StepMatch, map_to_history
from .linter import Finding, lint
from .model import Dockerfile, Heredoc, Instruction, Stage
from .parse import KEYWORDS, LAYER_KEYWORDS, SUBSTITUTING_KEYWORDS, parse_dockerfile
from .substitute import expand

__all__ = [
    "KEYWORDS", "LAYER_KEYWORDS", "SUBSTITUTING_KEYWORDS", "Heredoc", "Instruction", "Stage", "Dockerfile",
    "StepMatch", "Finding", "parse_dockerfile", "map_to_history", "lint", "expand",
]
