"""A short Dockerfile linter: each finding names its line and explains what it costs in layers.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import shlex
from dataclasses import dataclass

from ...errors import InvalidReferenceError
from ..reference import parse_reference
from .model import Dockerfile, Instruction, Stage


@dataclass(frozen=True)
class Finding:
    """One best-practice finding: rule id, line, what was found, and why it matters."""

    rule: str
    line: int
    message: str
    explanation: str
    severity: str = "warning"

    def __str__(self) -> str:
        return f"line {self.line}: [{self.rule}] {self.message}"


_APT_UPDATE = re.compile(r"\bapt(?:-get)?\s+(?:-\S+\s+)*update\b")
_APT_INSTALL = re.compile(r"\bapt(?:-get)?\s+(?:-\S+\s+)*install\b")
_SECRET_FILES = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".env", ".env.*", "*.pem", "*.key", "*.p12",
                 ".netrc", ".npmrc", ".pypirc", "credentials")
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|PRIVATE_KEY", re.IGNORECASE)
_ARCHIVE = re.compile(r"\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst)$", re.IGNORECASE)
_REMOTE = re.compile(r"^(https?://|git@|git://)", re.IGNORECASE)
_SEGMENTS = re.compile(r"&&|\|\||;|\||\n")


def _looks_secret(path: str) -> bool:
    name = posixpath.basename(path.rstrip("/"))
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in _SECRET_FILES)


def _rm_targets(script: str) -> list[str]:
    targets = []
    for segment in _SEGMENTS.split(script):
        try:
            words = shlex.split(segment)
        except ValueError:
            words = segment.split()
        if words and posixpath.basename(words[0]) == "rm":
            targets += [w for w in words[1:] if not w.startswith("-")]
    return targets


def _covers(created: str, removed: str) -> bool:
    """Whether removing ``removed`` deletes something at or under ``created`` (globs allowed)."""
    created, removed = created.rstrip("/") or "/", removed.rstrip("/") or "/"
    if any(ch in removed for ch in "*?["):
        prefix = re.split(r"[*?\[]", removed, maxsplit=1)[0]
        return fnmatch.fnmatchcase(created, removed) or created.startswith(prefix) or prefix.startswith(created + "/")
    return created == removed or created.startswith(removed + "/") or removed.startswith(created + "/")


def _inside(created: str, removed: str) -> bool:
    """Whether removing ``removed`` (globs allowed) deletes ``created`` itself or a directory holding it."""
    removed = removed.rstrip("/") or "/"
    if any(ch in removed for ch in "*?["):
        return fnmatch.fnmatchcase(created, removed) or fnmatch.fnmatchcase(created, removed + "/*")
    return created == removed or created.startswith(removed + "/")


def _lint_stage(stage: Stage) -> list[Finding]:
    findings: list[Finding] = []
    runs = [i for i in stage.instructions if i.keyword == "RUN"]
    for k, run in enumerate(runs):
        script = run.script
        if _APT_UPDATE.search(script) and not _APT_INSTALL.search(script):
            later = next((r for r in runs[k + 1:] if _APT_INSTALL.search(r.script)), None)
            if later is not None:
                findings.append(Finding(
                    "apt-update-separate", run.line,
                    f"apt-get update (line {run.line}) and apt-get install (line {later.line}) are in separate RUNs.",
                    "Each RUN is its own cached layer. When you later change the install line, the build cache "
                    "reuses the old 'update' layer and installs from a stale package index (or fails). Write "
                    "'RUN apt-get update && apt-get install -y ... && rm -rf /var/lib/apt/lists/*' in one RUN."))
    for instruction in stage.instructions:
        line = instruction.line
        if instruction.keyword == "ADD":
            sources = instruction.sources
            if sources and not any(_REMOTE.match(s) or _ARCHIVE.search(s) for s in sources):
                findings.append(Finding(
                    "add-instead-of-copy", line, f"ADD {' '.join(sources)} could be COPY.",
                    "ADD also downloads URLs and unpacks local tar archives. For plain files COPY does the same "
                    "and says only what you mean, so a later archive in the context is not unpacked by surprise."))
        if instruction.keyword in ("COPY", "ADD"):
            secrets = [s for s in instruction.sources if _looks_secret(s)]
            if _looks_secret(instruction.args[-1]) and not secrets:
                secrets = [instruction.args[-1]]
            if secrets:
                findings.append(Finding(
                    "secret-in-layer", line, f"{', '.join(secrets)} looks like a secret and is copied into a layer.",
                    "Everything copied into a layer ships with the image: anyone who can pull it can read the file, "
                    "even if a later step deletes it. Use 'RUN --mount=type=secret,id=...' (BuildKit) or a "
                    "multi-stage build, and list secrets in .dockerignore."))
        if instruction.keyword in ("ENV", "ARG"):
            for name, _ in instruction.pairs:
                if _SECRET_NAME.search(name):
                    where = ("is stored in the image config: 'docker inspect' shows it to anyone with the image"
                             if instruction.keyword == "ENV" else
                             "is recorded in the history of every RUN after it: 'docker history' shows the value")
                    findings.append(Finding(
                        f"secret-in-{instruction.keyword.lower()}", line,
                        f"{instruction.keyword} {name} looks like it holds a secret.",
                        f"A value set with {instruction.keyword} {where}. Pass secrets at build time with "
                        "'RUN --mount=type=secret' or at run time (environment, mounted files)."))
    findings += _lint_rm(stage)
    return findings


def _lint_rm(stage: Stage) -> list[Finding]:
    findings = []
    earlier: list[Instruction] = []
    for instruction in stage.instructions:
        if instruction.keyword == "RUN":
            for target in _rm_targets(instruction.script):
                removed = posixpath.normpath(posixpath.join(instruction.workdir, target))
                for maker in earlier:
                    made = [maker.destination] if maker.keyword in ("COPY", "ADD") else []
                    if maker.keyword in ("COPY", "ADD") and maker.destination.endswith("/"):
                        made += [maker.destination + posixpath.basename(s.rstrip("/")) for s in maker.sources]
                    found = any(_covers(path, removed) for path in made)
                    if maker.keyword == "RUN" and not found:
                        if removed.startswith("/var/lib/apt/lists") and _APT_UPDATE.search(maker.script):
                            found = True
                        else:
                            words = {posixpath.normpath(posixpath.join(maker.workdir, word))
                                     for word in re.split(r"[\s=;&|<>]+", maker.script) if "/" in word
                                     and "://" not in word}
                            found = any(_inside(path, removed) for path in words)
                    if found:
                        findings.append(Finding(
                            "rm-in-later-layer", instruction.line,
                            f"rm {target} (line {instruction.line}) deletes what line {maker.line} added "
                            "in an earlier layer.",
                            "Layers only add: the later layer records a deletion (a whiteout), but the bytes stay "
                            "in the earlier layer, so the image does not shrink and the file can still be read "
                            "from the image tarball. Create and delete it in the same RUN, or use a multi-stage "
                            "build and copy only what you need."))
                        break
        if instruction.creates_layer:
            earlier.append(instruction)
    return findings


def lint(dockerfile: Dockerfile) -> list[Finding]:
    """A short best-practice check, findings sorted by line.

    Rules: apt-update-separate, add-instead-of-copy, secret-in-layer, secret-in-env,
    secret-in-arg, runs-as-root (final stage), from-latest, rm-in-later-layer.
    """
    findings: list[Finding] = []
    names = {stage.name for stage in dockerfile.stages if stage.name}
    for stage in dockerfile.stages:
        findings += _lint_stage(stage)
        start = stage.instructions[0]
        image = stage.base
        if stage.base_stage is None and image.lower() != "scratch" and image.lower() not in names:
            try:
                reference = parse_reference(image, default_tag=None)
            except InvalidReferenceError:
                reference = None
            if reference is not None and not reference.digest and reference.tag in (None, "latest"):
                findings.append(Finding(
                    "from-latest", start.line, f"FROM {image} uses the 'latest' tag"
                    + (" (implicitly)." if reference.tag is None else "."),
                    "'latest' moves whenever a new version is pushed, so the same Dockerfile builds different "
                    "images on different days. Pin a version tag (debian:bookworm-slim) or a digest "
                    "(image@sha256:...)."))
    for global_arg in dockerfile.global_args:
        for name, _ in global_arg.pairs:
            if _SECRET_NAME.search(name):
                findings.append(Finding(
                    "secret-in-arg", global_arg.line, f"ARG {name} looks like it holds a secret.",
                    "Build-arg values are recorded in the image history ('docker history' shows them). Use "
                    "'RUN --mount=type=secret' instead."))
    final = dockerfile.final_stage
    users = [i for i in final.instructions if i.keyword == "USER"]
    if not users or users[-1].args[0].split(":")[0] in ("root", "0"):
        line = users[-1].line if users else final.line
        findings.append(Finding(
            "runs-as-root", line,
            "The image runs as root (" + ("USER root" if users else "no USER instruction") + ").",
            "A process running as root in a container is root on the host's kernel too: a container escape or "
            "a writable host mount then has full power. Add 'USER someone' (create the user first) near the end.",
            severity="info"))
    return sorted(findings, key=lambda finding: (finding.line, finding.rule))
