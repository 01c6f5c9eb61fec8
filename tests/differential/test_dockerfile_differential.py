"""The course's Dockerfile parser against BuildKit's own parser (PyPI dockerfile), file by file.

Instructions, their line spans, exec/shell form, flags, heredocs and (where no expansion is involved) their
words must agree; a file refused by one side must be refused by the other (BuildKit's side includes what its
instruction parser refuses before a build starts: unknown instructions or flags, no FROM).
"""

from __future__ import annotations

import differential_support as support
import pytest
from intentional_differences import INTENTIONAL
from known_divergences import KNOWN_DOCKERFILE, reason


def _params():
    for path in support.dockerfiles():
        key = support.corpus_id(path)
        marks = [pytest.mark.xfail(strict=True, reason=reason(KNOWN_DOCKERFILE[key]))] \
            if key in KNOWN_DOCKERFILE else []
        yield pytest.param(path, id=key, marks=marks)


def dockerfile_differences(path) -> list[str]:
    """Every difference between the course's parse and BuildKit's for one file."""
    text = path.read_bytes().decode("utf-8")
    reference = support.reference_dockerfile(text)
    course = support.course_dockerfile(text)
    if course.error or reference.error:
        if bool(course.error) != bool(reference.error):
            return [f"refusal: course={course.error or 'accepted'} BuildKit={reference.error or 'accepted'}"]
        return []
    return support.compare_dockerfile(course.model, reference.model)


@pytest.mark.parametrize("path", list(_params()))
def test_dockerfile_parse_matches_buildkit(path, buildkit):
    """Same instructions as BuildKit's parser, or the same refusal."""
    differences = dockerfile_differences(path)
    kept = [(d, rule) for d in differences for rule in INTENTIONAL
            if rule.applies_to == "dockerfile" and rule.matches(d)]
    for difference, rule in kept:
        print(f"kept on purpose [{rule.id}] {difference}: {rule.reason}")
    unexplained = [d for d in differences if not any(d is k for k, _ in kept)]
    assert not unexplained, f"{len(unexplained)} difference(s) from BuildKit:\n" + "\n".join(
        f"  {d}" for d in unexplained)


def test_corpus_has_enough_real_dockerfiles():
    """The corpus keeps at least 60 public Dockerfiles (besides the hand-written tricky ones)."""
    real = [p for p in support.dockerfiles() if not support.corpus_id(p).startswith("tricky/")]
    assert len(real) >= 60, len(real)


def test_every_known_dockerfile_divergence_names_a_corpus_file():
    """known_divergences.py lists only Dockerfiles that exist."""
    ids = {support.corpus_id(p) for p in support.dockerfiles()}
    assert set(KNOWN_DOCKERFILE) <= ids, sorted(set(KNOWN_DOCKERFILE) - ids)
