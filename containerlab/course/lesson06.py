"""Exercise checks for lesson 06, registries.

References are checked with the same parser the engines follow, digests by hashing the real
bytes, and a pinned reference against the digest the registry gave.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidReferenceError, LabError
from ..images.manifest import sha256_digest
from ..images.reference import parse_reference
from .grading import CheckResult, unanswered

__all__ = ["check_reference_parts", "check_manifest_digest", "check_pinned_reference", "check_pushed_tag"]


def check_reference_parts(answer: Any, reference: str) -> CheckResult:
    """Exercise 06.1: (registry, repository, tag) that ``reference`` means once normalised."""
    hint = ("A first part with a '.' or ':' (or 'localhost') is a registry; without one the registry is docker.io "
            "and a one-part name gets 'library/'; no tag means 'latest'.")
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    parsed = parse_reference(reference)
    expected = (parsed.registry, parsed.repository, parsed.tag)
    if not isinstance(answer, (tuple, list)) or len(answer) != 3:
        return CheckResult(False, "Answer with three strings: (registry, repository, tag).", hint)
    given = tuple(str(part).strip() for part in answer)
    if given == expected:
        return CheckResult(True, f"Right: {reference!r} is {parsed}.")
    names = ("registry", "repository", "tag")
    wrong = [name for name, a, b in zip(names, given, expected) if a != b]
    if given[1] == expected[1].removeprefix("library/") and "repository" in wrong:
        return CheckResult(False, "Official images live under 'library/' on Docker Hub.", hint)
    return CheckResult(False, f"The {', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} not right.", hint)


def check_manifest_digest(answer: Any, manifest_bytes: bytes) -> CheckResult:
    """Exercise 06.2: the digest of a manifest, computed from its exact bytes."""
    hint = "A digest is 'sha256:' + hashlib.sha256(the exact bytes).hexdigest(); re-serialising the JSON changes it."
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    expected = sha256_digest(manifest_bytes)
    given = str(answer).strip()
    if given == expected:
        return CheckResult(True, "Right: the digest names these exact bytes; change one byte and it changes.")
    if given == expected.split(":", 1)[1]:
        return CheckResult(False, "Digests carry their algorithm: put 'sha256:' in front.", hint)
    return CheckResult(False, "That is not the sha256 of the manifest's bytes.", hint)


def check_pinned_reference(answer: Any, registry: str, repository: str, digest: str) -> CheckResult:
    """Exercise 06.3: a reference that pulls the first image again, whatever the tag points at now."""
    hint = ("Pin by digest: REGISTRY/REPOSITORY@sha256:... with the digest push reported for the first image "
            "(a tag is only a movable name).")
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    try:
        parsed = parse_reference(str(answer), default_tag=None)
    except InvalidReferenceError as err:
        return CheckResult(False, f"That is not a valid reference: {err.message}", hint)
    if not parsed.digest:
        return CheckResult(False, "A tag can move (it just did); only a digest always names the same image.", hint)
    if parsed.registry != registry or parsed.repository != repository:
        return CheckResult(False, f"That names {parsed.name}, not {registry}/{repository}.", hint)
    if parsed.digest != digest:
        return CheckResult(False, "That digest is not the first image's manifest digest.", hint)
    return CheckResult(True, "Right: pulling by digest gets exactly the first image, even after the tag moved.")


def check_pushed_tag(client: Any, repository: str = "course/mine", tag: str = "v1") -> CheckResult:
    """Exercise 06.4 (terminal): ``repository:tag`` pushed with the CLI, as the registry itself reports it."""
    hint = ("In a terminal (after the source line): `$ENGINE tag $REPO-hello:v2 $REGISTRY/course/mine:v1`, then "
            "`$ENGINE push $REGISTRY/course/mine:v1` (Podman: `podman push --tls-verify=false ...`, since this "
            "registry speaks plain HTTP).")
    try:
        repositories = client.catalog()
        if repository not in repositories:
            return CheckResult(False, f"The registry has no repository {repository} (it has: "
                                      f"{', '.join(repositories) or 'none'}).", hint)
        tags = client.tags(repository)
        if tag not in tags:
            return CheckResult(False, f"{repository} has no tag {tag} (its tags: {', '.join(tags) or 'none'}).", hint)
        digest = client.manifest_digest(repository, tag)
    except (LabError, OSError) as err:
        return CheckResult(False, f"The registry did not answer: {err}", hint)
    return CheckResult(True, f"Right: the registry serves {repository}:{tag} as {digest[:19]}...: the tag named the "
                             "registry (its address in front), the push sent the layers it lacked and the manifest.")
