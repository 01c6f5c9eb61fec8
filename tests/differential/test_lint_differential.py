"""The course's linter beside hadolint: each shared rule's agreement is counted and printed (not required to
be 100%); findings that are provably wrong fail (today: rm-in-later-layer on RUNs that clean up after
themselves, as official images do)."""

from __future__ import annotations

import differential_support as support
import pytest
from intentional_differences import LINT_DIFFERENCES
from known_divergences import KNOWN_LINT, reason


def _params():
    for path in support.dockerfiles():
        key = support.corpus_id(path)
        marks = [pytest.mark.xfail(strict=True, reason=reason(KNOWN_LINT[key]))] if key in KNOWN_LINT else []
        yield pytest.param(path, id=key, marks=marks)


def _course_parse(path):
    try:
        return support.parse_dockerfile(path.read_bytes().decode("utf-8"))
    except support.LabError:
        return None


@pytest.mark.parametrize("path", list(_params()))
def test_lint_findings_are_not_provably_wrong(path):
    """No rm-in-later-layer finding where the earlier RUN already deleted that path in its own layer."""
    parsed = _course_parse(path)
    if parsed is None:
        pytest.skip("the course's parser refuses this file (see the Dockerfile differential test)")
    wrong = support.false_rm_findings(parsed)
    assert not wrong, "\n".join(wrong)


def test_lint_agreement_with_hadolint(hadolint_findings, capsys):
    """Count, per course rule mapped to hadolint codes, findings on the same (file, line) in both, and print it."""
    tallies = {rule: support.LintTally() for rule in support.LINT_RULE_MAP}
    unmapped: dict[str, int] = {}
    mapped_codes = {code for codes in support.LINT_RULE_MAP.values() for code in codes}
    linted = 0
    for path in support.dockerfiles():
        key = support.corpus_id(path)
        parsed = _course_parse(path)
        theirs = hadolint_findings[key]
        for finding in theirs:
            if finding["code"] not in mapped_codes:
                unmapped[finding["code"]] = unmapped.get(finding["code"], 0) + 1
        if parsed is None or any(f["code"] == "DL1000" for f in theirs):
            continue
        linted += 1
        ours = {(f.rule, f.line) for f in support.course_lint(parsed)}
        for rule, codes in support.LINT_RULE_MAP.items():
            mine = {line for r, line in ours if r == rule}
            other = {f["line"] for f in theirs if f["code"] in codes}
            tally = tallies[rule]
            tally.both += len(mine & other)
            tally.course_only += len(mine - other)
            tally.hadolint_only += len(other - mine) if codes else 0
    with capsys.disabled():
        print(f"\nlint agreement with hadolint over {linted} Dockerfiles both tools read:")
        print(f"  {'course rule':22} {'hadolint':16} {'both':>5} {'course':>7} {'hadolint':>9} {'agree':>6}")
        for rule, tally in tallies.items():
            codes = ",".join(support.LINT_RULE_MAP[rule]) or "-"
            agree = f"{tally.agreement:6.0%}" if support.LINT_RULE_MAP[rule] else "   n/a"
            print(f"  {rule:22} {codes:16} {tally.both:5} {tally.course_only:7} {tally.hadolint_only:9} {agree}")
        for rule, why in LINT_DIFFERENCES.items():
            print(f"  kept on purpose [{rule}]: {why}")
        print("  hadolint rules the course has no counterpart for: "
              + ", ".join(f"{code}×{n}" for code, n in sorted(unmapped.items(), key=lambda x: -x[1])))
    assert linted >= 40, f"only {linted} Dockerfiles could be compared"
    assert set(tallies) >= {f.rule for p in support.dockerfiles() if (d := _course_parse(p))
                            for f in support.course_lint(d)}, "a course rule is missing from LINT_RULE_MAP"
    assert set(LINT_DIFFERENCES) <= set(tallies), "LINT_DIFFERENCES names a rule the linter does not have"


def test_every_known_lint_divergence_names_a_corpus_file():
    """known_divergences.py lists only Dockerfiles that exist."""
    ids = {support.corpus_id(p) for p in support.dockerfiles()}
    assert set(KNOWN_LINT) <= ids, sorted(set(KNOWN_LINT) - ids)
