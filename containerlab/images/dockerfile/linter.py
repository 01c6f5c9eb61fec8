"""A short Dockerfile linter: each finding names its line and explains what it costs in layers.

Rules (the hadolint rule each one matches, where there is one): apt-update-separate, add-instead-of-copy
(DL3020), secret-in-layer, secret-in-env, secret-in-arg, runs-as-root (DL3002, final stage), no-user,
from-latest (DL3006, DL3007), rm-in-later-layer, pipe-without-pipefail (DL4006), consecutive-runs (DL3059),
unpinned-packages (DL3008 apt-get, DL3018 apk, DL3013 pip, DL3016 npm, DL3033 yum, DL3041 dnf, DL3037 zypper,
DL3028 gem), cd-instead-of-workdir (DL3003), maintainer-deprecated (DL4000), duplicate-stage-name (DL3024).
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass

from ...errors import InvalidReferenceError
from ..reference import parse_reference
from .model import Dockerfile, Instruction, Stage
from .packages import unpinned_packages
from .shell import Script, read_script, run_scripts


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


_SECRET_FILES = re.compile("|".join(fnmatch.translate(pattern) for pattern in (
    "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".env", ".env.*", "*.pem", "*.key", "*.p12", ".netrc", ".npmrc",
    ".pypirc", "credentials")))
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|PRIVATE_KEY", re.IGNORECASE)
_ARCHIVE = re.compile(r"\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst)$", re.IGNORECASE)
_REMOTE = re.compile(r"^(https?://|git@|git://)", re.IGNORECASE)
_PATH_WORDS = re.compile(r"[\s=;&|<>]+")
_APT_LISTS = "/var/lib/apt/lists"
_PIPEFAIL_SHELLS = ("bash", "zsh", "ash", "ksh", "mksh")
_NON_POSIX_SHELLS = ("pwsh", "powershell", "cmd")

_EXPLAIN = {
    "apt-update-separate":
        "Each RUN is its own cached layer. When you later change the install line, the build cache reuses the old "
        "'update' layer and installs from a stale package index (or fails). Write 'RUN apt-get update && apt-get "
        "install -y ... && rm -rf /var/lib/apt/lists/*' in one RUN.",
    "add-instead-of-copy":
        "ADD also downloads URLs and unpacks local tar archives. For plain files COPY does the same and says only "
        "what you mean, so a later archive in the context is not unpacked by surprise.",
    "secret-in-layer":
        "Everything copied into a layer ships with the image: anyone who can pull it can read the file, even if a "
        "later step deletes it. Use 'RUN --mount=type=secret,id=...' (BuildKit) or a multi-stage build, and list "
        "secrets in .dockerignore.",
    "rm-in-later-layer":
        "Layers only add: the later layer records a deletion (a whiteout), but the bytes stay in the earlier layer, "
        "so the image does not shrink and the file can still be read from the image tarball. Create and delete it "
        "in the same RUN, or use a multi-stage build and copy only what you need.",
    "pipe-without-pipefail":
        "A RUN step succeeds when its shell exits 0, and a pipeline's status is its last command's: in 'curl URL | "
        "sh' a failed download still ends with sh succeeding. The build goes on, commits the broken result as a "
        "layer, and caches it: later builds reuse that layer without running the step again. Start the RUN with "
        "'set -o pipefail &&' (bash, ash) or set SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"] once.",
    "consecutive-runs":
        "Every RUN commits a layer of its own (and a cache entry). One-command RUNs in a row make several layers "
        "where one would do: a file that the second one changes or deletes is still stored, whole, in the first "
        "one's layer. Join them with && into one RUN, unless you keep them apart on purpose (a slow step that should "
        "stay cached while a later one changes).",
    "unpinned-packages":
        "The build cache keys a RUN layer on the instruction's text, not on what it downloads: a cached build keeps "
        "the versions it installed months ago, while a build without that cache (another machine, --no-cache, a "
        "change above this line) installs whatever is newest that day. The same Dockerfile then makes different "
        "layers. Pin versions (curl=7.88.1-10+deb12u8, requests==2.32.3, express@4.21.1) so a rebuild installs "
        "what you tested.",
    "cd-instead-of-workdir":
        "cd lasts only for the shell of this one RUN: the next RUN, CMD and the container itself start again in "
        "the WORKDIR. 'WORKDIR /path' is recorded in the image config and applies to every later instruction (it "
        "creates the directory if needed), so the Dockerfile says where things happen instead of repeating cd.",
    "maintainer-deprecated":
        "MAINTAINER is deprecated: it only fills the image's author field and adds no layer. Use LABEL "
        "org.opencontainers.image.authors=\"...\" instead: labels live in the image config too, and tools read "
        "the standard OCI key.",
    "duplicate-stage-name":
        "BuildKit builds the file, but a name should mean one stage: FROM and COPY --from take the latest stage "
        "of that name defined before them, --target the last one. Give each stage its own name.",
    "runs-as-root":
        "A process running as root in a container is root on the host's kernel too: a container escape or a "
        "writable host mount then has full power. Add 'USER someone' (create the user first) near the end.",
    "from-latest":
        "'latest' moves whenever a new version is pushed, so the same Dockerfile builds different images on "
        "different days. Pin a version tag (debian:bookworm-slim) or a digest (image@sha256:...).",
}
_EXPLAIN["no-user"] = _EXPLAIN["runs-as-root"]


def _looks_secret(path: str) -> bool:
    return _SECRET_FILES.match(posixpath.basename(path.rstrip("/"))) is not None


def _removed_paths(script: Script, workdir: str) -> list[tuple[str, str]]:
    """(target as written, absolute path) of every ``rm`` operand, following the script's own ``cd``s."""
    removed = []
    directory = workdir
    for command in script.commands:
        program = posixpath.basename(command[0])
        if program == "cd" and len(command) > 1 and not command[1].startswith("-"):
            directory = posixpath.normpath(posixpath.join(directory, command[1]))
        elif program == "rm":
            removed += [(target, posixpath.normpath(posixpath.join(directory, target)))
                        for target in command[1:] if not target.startswith("-")]
    return removed


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


class _Linter:
    """The findings of one Dockerfile; each RUN's script is read once."""

    def __init__(self, dockerfile: Dockerfile) -> None:
        self.dockerfile = dockerfile
        self.findings: list[Finding] = []
        self.scripts: dict[int, Script] = {}

    def add(self, rule: str, line: int, message: str, severity: str = "warning") -> None:
        self.findings.append(Finding(rule, line, message, _EXPLAIN[rule], severity))

    def script(self, run: Instruction) -> Script:
        key = id(run)
        if key not in self.scripts:
            self.scripts[key] = read_script("\n".join(run_scripts(run)))
        return self.scripts[key]

    def lint(self) -> list[Finding]:
        dockerfile = self.dockerfile
        for stage in dockerfile.stages:
            self.stage_runs(stage)
            self.stage_files(stage)
            self.removals(stage)
            self.base_image(stage)
        self.global_args()
        self.final_user()
        seen: dict[str, int] = {}
        for stage in dockerfile.stages:
            if stage.name and stage.name in seen:
                self.add("duplicate-stage-name", stage.line,
                         f"the stage name {stage.name!r} is used again (first on line {seen[stage.name]}).")
            seen.setdefault(stage.name, stage.line)
        for instruction in dockerfile.instructions:
            if instruction.keyword == "MAINTAINER":
                self.add("maintainer-deprecated", instruction.line,
                         "MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors=...")
        return sorted(self.findings, key=lambda finding: (finding.line, finding.rule))

    def stage_runs(self, stage: Stage) -> None:
        """Rules about RUN steps: apt-get update alone, pipes, consecutive RUNs, unpinned packages, cd."""
        pipefail = False
        previous: tuple[Instruction, int] | None = None
        runs = [i for i in stage.instructions if i.keyword == "RUN"]
        for instruction in stage.instructions[1:]:
            if instruction.keyword == "SHELL":
                shell = posixpath.basename(instruction.args[0]) if instruction.args else ""
                pipefail = shell.startswith(_NON_POSIX_SHELLS) or (
                    shell in _PIPEFAIL_SHELLS and "pipefail" in instruction.args)
            if instruction.keyword != "RUN":
                previous = None
                continue
            script = self.script(instruction)
            line = instruction.line
            if script.pipes and not pipefail and not _sets_pipefail(instruction, script):
                self.add("pipe-without-pipefail", line, f"RUN on line {line} pipes one command into another "
                         "without pipefail: only the last command's failure fails the step.")
            count = len(script.commands)
            if previous is not None and previous[0].flags == instruction.flags and count <= 1 and previous[1] <= 1:
                self.add("consecutive-runs", line, f"RUN on line {line} could join the RUN on line "
                         f"{previous[0].line}: each RUN adds a layer.", severity="info")
            previous = (instruction, count)
            unpinned = unpinned_packages(script.commands)
            if unpinned:
                shown = "; ".join(f"{tool} {', '.join(names)}" for tool, names in unpinned.items())
                self.add("unpinned-packages", line, f"RUN on line {line} installs packages without a version: "
                         f"{shown}.")
            if script.named("cd"):
                self.add("cd-instead-of-workdir", line, f"RUN on line {line} changes directory with cd; use "
                         "WORKDIR for where later steps run.")
        for k, run in enumerate(runs):
            script = self.script(run)
            if _apt(script, "update") and not _apt(script, "install"):
                later = next((r for r in runs[k + 1:] if _apt(self.script(r), "install")), None)
                if later is not None:
                    self.add("apt-update-separate", run.line, f"apt-get update (line {run.line}) and apt-get "
                             f"install (line {later.line}) are in separate RUNs.")

    def stage_files(self, stage: Stage) -> None:
        """Rules about COPY / ADD / ENV / ARG: ADD for plain files, secrets in layers or in the config."""
        for instruction in stage.instructions:
            line = instruction.line
            if instruction.keyword == "ADD":
                sources = instruction.sources
                if sources and not any(_REMOTE.match(s) or _ARCHIVE.search(s) for s in sources):
                    self.add("add-instead-of-copy", line, f"ADD {' '.join(sources)} could be COPY.")
            if instruction.keyword in ("COPY", "ADD"):
                secrets = [s for s in instruction.sources if _looks_secret(s)]
                if _looks_secret(instruction.args[-1]) and not secrets:
                    secrets = [instruction.args[-1]]
                if secrets:
                    self.add("secret-in-layer", line,
                             f"{', '.join(secrets)} looks like a secret and is copied into a layer.")
            if instruction.keyword in ("ENV", "ARG"):
                for name, _ in instruction.pairs:
                    if _SECRET_NAME.search(name):
                        self.secret_variable(instruction.keyword, name, line)

    def secret_variable(self, keyword: str, name: str, line: int) -> None:
        where = ("is stored in the image config: 'docker inspect' shows it to anyone with the image"
                 if keyword == "ENV" else
                 "is recorded in the history of every RUN after it: 'docker history' shows the value")
        self.findings.append(Finding(
            f"secret-in-{keyword.lower()}", line, f"{keyword} {name} looks like it holds a secret.",
            f"A value set with {keyword} {where}. Pass secrets at build time with 'RUN --mount=type=secret' or at "
            "run time (environment, mounted files)."))

    def removals(self, stage: Stage) -> None:
        """rm of something an earlier layer of the stage added (and did not remove itself)."""
        earlier: list[tuple[Instruction, list[str]]] = []
        for instruction in stage.instructions:
            if instruction.keyword == "RUN":
                own = _removed_paths(self.script(instruction), instruction.workdir)
                for target, removed in own:
                    maker = next((m for m, cleaned in earlier if self.made(m, removed, cleaned)), None)
                    if maker is not None:
                        self.add("rm-in-later-layer", instruction.line, f"rm {target} (line {instruction.line}) "
                                 f"deletes what line {maker.line} added in an earlier layer.")
                if instruction.creates_layer:
                    earlier.append((instruction, [path for _, path in own]))
            elif instruction.creates_layer:
                earlier.append((instruction, []))

    def made(self, maker: Instruction, removed: str, cleaned: list[str]) -> bool:
        """Whether ``maker``'s layer holds something at ``removed``: it wrote there and did not delete it itself."""
        if maker.keyword in ("COPY", "ADD"):
            made = [maker.destination]
            if maker.destination.endswith("/"):
                made += [maker.destination + posixpath.basename(s.rstrip("/")) for s in maker.sources]
            return any(_covers(path, removed) for path in made)
        if maker.keyword != "RUN":
            return False
        if removed.startswith(_APT_LISTS) and _apt(self.script(maker), "update"):
            return not any(_covers(_APT_LISTS, path) for path in cleaned)
        words = {posixpath.normpath(posixpath.join(maker.workdir, word))
                 for text in run_scripts(maker) for word in _PATH_WORDS.split(text) if "/" in word
                 and "://" not in word}
        return any(_inside(path, removed) and not any(_inside(path, own) for own in cleaned) for path in words)

    def base_image(self, stage: Stage) -> None:
        names = {s.name for s in self.dockerfile.stages[:stage.index] if s.name}
        image = stage.base
        if stage.base_stage is not None or stage.unresolved_args or image.lower() in ("scratch", *names):
            return
        try:
            reference = parse_reference(image, default_tag=None)
        except InvalidReferenceError:
            return
        if not reference.digest and reference.tag in (None, "latest"):
            self.add("from-latest", stage.line, f"FROM {image} uses the 'latest' tag"
                     + (" (implicitly)." if reference.tag is None else "."))

    def global_args(self) -> None:
        for global_arg in self.dockerfile.global_args:
            for name, _ in global_arg.pairs:
                if _SECRET_NAME.search(name):
                    self.findings.append(Finding(
                        "secret-in-arg", global_arg.line, f"ARG {name} looks like it holds a secret.",
                        "Build-arg values are recorded in the image history ('docker history' shows them). Use "
                        "'RUN --mount=type=secret' instead."))

    def final_user(self) -> None:
        final = self.dockerfile.final_stage
        users = [i for i in final.instructions if i.keyword == "USER"]
        if not users:
            self.add("no-user", final.line, "The image runs as root (no USER instruction).", severity="info")
        elif users[-1].args[0].split(":")[0] in ("root", "0"):
            self.add("runs-as-root", users[-1].line, f"The image runs as root (USER {users[-1].args[0]}).",
                     severity="info")


def _apt(script: Script, action: str) -> bool:
    """Whether the script runs apt-get (or apt) with ``action`` (update, install)."""
    return any(action in command[1:] for command in script.named("apt-get", "apt"))


def _sets_pipefail(run: Instruction, script: Script) -> bool:
    """Whether the RUN turns pipefail on itself (set -o pipefail, set -euo pipefail, bash -o pipefail -c ...)."""
    if run.json_form and "pipefail" in run.args:
        return True
    return any("pipefail" in command and any(w.startswith("-") and "o" in w for w in command)
               for command in script.named("set"))


def lint(dockerfile: Dockerfile) -> list[Finding]:
    """Best-practice findings for a parsed Dockerfile, sorted by line (rules: see the module docstring)."""
    return _Linter(dockerfile).lint()
