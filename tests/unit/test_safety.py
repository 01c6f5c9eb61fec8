"""The course's safety rules, enforced across the package, the notebooks and their compose files.

1. Every lab container has a memory and a pids limit where the engine can enforce them (a rootless engine on
   cgroup v1 cannot: tests/unit/test_engine_limits.py): on every path through Lab (run, start, any
   options), nothing but Lab creates containers through the engine API, and every engine command
   line that runs a container (docker/podman run) passes --memory and --pids-limit.
2. No port is published on anything but 127.0.0.1 (Lab's own refusal is tested in test_lab_rules.py).
3. The engine socket is never mounted into a container.
4. ``privileged`` appears only with the reason a lesson gives for it (``privileged_because=``).

The checks here read the source (Python AST of the package and of every notebook code cell, YAML
of the compose files under notebooks/) and drive Lab against a recording stand-in for the engine.
tests/system/test_container_safety.py checks the same rules on every container the notebooks
really create.

A command line that must run without limits (rootless Podman on cgroup v1 cannot set them) says so
with a comment on its first line: ``# unlimited: <why>``.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from containerlab.engine.connect import LIMIT_KINDS, Engine
from containerlab.engine.lab import Lab
from containerlab.errors import UnsafeRequestError

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "containerlab"
NOTEBOOKS = ROOT / "notebooks"
ENGINE_SOCKETS = ("docker.sock", "podman.sock", "containerd.sock")
# Files that name an engine socket to connect to it, or to refuse mounting it; nowhere else.
SOCKET_NAMERS = {"containerlab/engine/connect.py", "containerlab/engine/guards.py"}
LOOPBACK = "127.0.0.1"
# Renders Lab calls as the CLI a person types: names --privileged only for a call that passed the rule above.
FLAG_RENDERERS = {"containerlab/commands/line.py"}


# -- reading the sources ------------------------------------------------------------------------

def _notebook_code(path: Path) -> Iterator[tuple[str, str]]:
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and not cell.source.startswith("%%"):
            # IPython-only lines (magics, shell escapes) are not Python: shell_lines() checks those.
            lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.splitlines()]
            yield f"notebooks/{path.name} cell {index}", "\n".join(lines)


_FENCE = re.compile(r"^```bash\n(.*?)^```", re.DOTALL | re.MULTILINE)


def shell_lines() -> list[tuple[str, str]]:
    """(where, command) of every shell command in the notebooks: `!` lines, `%%bash` cells, ```bash fences."""
    found = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for index, cell in enumerate(notebook.cells):
            where = f"notebooks/{path.name} cell {index}"
            if cell.cell_type == "code" and cell.source.startswith("%%bash"):
                found += [(where, line) for line in cell.source.splitlines()[1:]]
            elif cell.cell_type == "code":
                found += [(where, line.lstrip()[1:]) for line in cell.source.splitlines() if line.lstrip().startswith("!")]
            else:
                found += [(where, line) for block in _FENCE.findall(cell.source) for line in block.splitlines()]
    return found


def _engine_runs(command: str) -> list[list[str]]:
    """The `$ENGINE run|create ...` commands in one shell line (split at ; && || |), as words."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        tokens = list(lexer)
    except ValueError:
        tokens = command.split()
    runs, words = [], []
    for token in [*tokens, ";"]:
        if token.strip(";&|"):
            words.append(token)
            continue
        if len(words) > 1 and words[0] in ("$ENGINE", "docker", "podman") and words[1] in ("run", "create"):
            runs.append(words)
        words = []
    return runs


def sources() -> list[tuple[str, str]]:
    """(where, Python source) of every package module and every notebook code cell."""
    found = [(str(path.relative_to(ROOT)), path.read_text()) for path in sorted(PACKAGE.rglob("*.py"))]
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")):
        found.extend(_notebook_code(path))
    return found


def _parse(where: str, code: str) -> ast.AST | None:
    try:
        return ast.parse(code, filename=where)
    except SyntaxError:
        return None


def parsed() -> list[tuple[str, ast.AST, list[str]]]:
    """The sources as syntax trees (a cell that does not parse is test_every_source_parses's failure)."""
    return [(where, tree, code.splitlines()) for where, code in sources()
            if (tree := _parse(where, code)) is not None]


def test_every_source_parses():
    broken = [where for where, code in sources() if _parse(where, code) is None]
    assert broken == [], f"these cannot be scanned (syntax errors): {broken}"


def compose_files() -> list[Path]:
    return sorted(path for pattern in ("compose*.y*ml", "docker-compose*.y*ml")
                  for path in NOTEBOOKS.rglob(pattern))


def _string(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _module_string_lists(tree: ast.AST) -> dict[str, list[str]]:
    """Module-level NAME = ("a", "b") constants, to expand *NAME inside command lines."""
    found = {}
    for node in getattr(tree, "body", []):
        if isinstance(node, ast.Assign) and isinstance(node.value, (ast.Tuple, ast.List)):
            items = [_string(item) for item in node.value.elts]
            if all(item is not None for item in items):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = items
    return found


def _command_words(node: ast.AST, constants: dict[str, list[str]]) -> list[str]:
    """The string words of a list/tuple literal, with *CONSTANT expanded ('?' for anything else)."""
    words = []
    for item in node.elts:  # type: ignore[attr-defined]
        if isinstance(item, ast.Starred) and isinstance(item.value, ast.Name) and item.value.id in constants:
            words.extend(constants[item.value.id])
        else:
            words.append(_string(item) or "?")
    return words


def command_lines() -> list[tuple[str, int, list[str], str]]:
    """Every list/tuple literal in the sources that is a container engine command line starting a container."""
    found = []
    for where, tree, lines in parsed():
        constants = _module_string_lists(tree)
        for node in ast.walk(tree):
            if not isinstance(node, (ast.List, ast.Tuple)):
                continue
            words = _command_words(node, constants)
            if not {"run", "create"} & set(words) or "--bundle" in words:
                continue  # runc/crun take their limits from the bundle's config.json
            starts = {"--rm", "--detach", "-d", "-it", "-i"} & set(words) or any(w.startswith("--name=") for w in words)
            if starts:
                found.append((where, node.lineno, words, lines[node.lineno - 1]))
    return found


# -- 1. memory and pids limits ------------------------------------------------------------------

class _RecordingApi:
    """Just enough of docker-py's APIClient for Lab.run/start: real host configs, nothing sent."""

    def __init__(self) -> None:
        import docker

        self._real = docker.APIClient(base_url="unix:///nonexistent.sock", version="1.41")
        self.created: list[dict[str, Any]] = []

    def create_host_config(self, **kwargs: Any) -> dict[str, Any]:
        return self._real.create_host_config(**kwargs)

    def create_container(self, **kwargs: Any) -> dict[str, str]:
        self.created.append(kwargs)
        return {"Id": f"c{len(self.created)}"}

    def start(self, container_id: str) -> None:
        pass

    def wait(self, container_id: str, timeout: float) -> dict[str, int]:
        return {"StatusCode": 0}

    def logs(self, container_id: str, **kwargs: Any) -> bytes:
        return b""

    def remove_container(self, container_id: str, force: bool) -> None:
        pass


class _FakeEngine:
    """A rootful engine (every limit enforced) whose API only records what it is asked to create."""

    limits = frozenset(LIMIT_KINDS)
    enforces = Engine.enforces
    unenforced = Engine.unenforced

    def __init__(self) -> None:
        self.client = type("Client", (), {})()
        self.client.api = _RecordingApi()
        self.client.containers = type("Containers", (), {"get": staticmethod(lambda container_id: container_id)})()


OPTION_SETS = [
    {},
    {"mem_limit": "32m"},
    {"pids_limit": 30},
    {"mem_limit": 64 * 2**20, "pids_limit": 1},
    {"ports": {80: 8080, "53/udp": None, 443: ("127.0.0.1", 8443)}},
    {"volumes": ["/tmp/data:/data:ro"]},
    {"network_mode": "none", "pid_mode": "host", "cap_add": ["SYS_ADMIN"]},
    {"nano_cpus": 500_000_000, "memswap_limit": "64m", "tmpfs": {"/run": ""}},
    {"privileged": True, "privileged_because": "a test of the rule"},
    {"cgroupns": "host", "read_only": True, "init": True},
]


@pytest.mark.parametrize("options", OPTION_SETS)
@pytest.mark.parametrize("how", ["run", "start"])
def test_every_lab_container_gets_memory_and_pids_limits(how, options):
    engine = _FakeEngine()
    lab = Lab("safety", owner="checker", engine=engine)
    if how == "run":
        lab.run("containerlab/busybox", "true", **dict(options))
    else:
        lab.start("containerlab/busybox", ["sleep", "1"], name="box", **dict(options))
    (created,) = engine.client.api.created
    host = created["host_config"]
    assert host["Memory"] > 0 and host["PidsLimit"] > 0, host
    assert host["MemorySwap"] == host["Memory"] or "memswap_limit" in options
    for bindings in (host.get("PortBindings") or {}).values():
        assert all(binding["HostIp"] == LOOPBACK for binding in bindings), bindings
    assert created["labels"]["containerlab.owner"] == "checker"


@pytest.mark.parametrize("unlimited", [{"mem_limit": None}, {"mem_limit": 0}, {"mem_limit": "0"}, {"mem_limit": -1},
                                       {"mem_limit": "-1"}, {"mem_limit": True}, {"mem_limit": "lots"},
                                       {"pids_limit": None}, {"pids_limit": 0}, {"pids_limit": -1},
                                       {"pids_limit": True}, {"pids_limit": "10"}])
def test_lab_refuses_a_container_without_limits(unlimited):
    engine = _FakeEngine()
    lab = Lab("safety", owner="checker", engine=engine)
    with pytest.raises(UnsafeRequestError, match="limit"):
        lab.start("containerlab/busybox", ["sleep", "1"], name="box", **unlimited)
    assert engine.client.api.created == []


def test_lab_defaults_cannot_switch_limits_off():
    for lab in (Lab("safety", owner="checker", engine=_FakeEngine(), memory=None),  # type: ignore[arg-type]
                Lab("safety", owner="checker", engine=_FakeEngine(), pids=0)):
        with pytest.raises(UnsafeRequestError):
            lab.run("containerlab/busybox", "true")


def test_only_lab_creates_containers_through_the_engine_api():
    offenders = []
    for where, tree, _ in parsed():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name, owner = node.func.attr, node.func.value
            api_create = name == "create_container"
            model_create = name in ("run", "create") and isinstance(owner, ast.Attribute) and owner.attr == "containers"
            if (api_create or model_create) and where != "containerlab/engine/lab.py":
                offenders.append(f"{where}:{node.lineno}")
    assert offenders == [], f"containers created beside Lab (no limits, no labels): {offenders}"


def test_engine_command_lines_pass_memory_and_pids_limits():
    missing = []
    for where, line, words, text in command_lines():
        if "# unlimited:" in text:
            continue
        memory = any(w in ("--memory", "-m") or w.startswith("--memory=") for w in words)
        pids = any(w == "--pids-limit" or w.startswith("--pids-limit=") for w in words)
        if not (memory and pids):
            missing.append(f"{where}:{line}: {' '.join(words)[:100]}")
    assert missing == [], ("container command lines without --memory and --pids-limit "
                           f"(or a '# unlimited: why' comment): {missing}")


def test_the_command_line_scan_finds_what_it_looks_for():
    tree = ast.parse('LIMITS = ("--memory=64m", "--pids-limit=64")\n'
                     'a = ["docker", "run", "--rm", *LIMITS, "img"]\n'
                     'b = [cli, "run", "--detach", "img"]\n'
                     'c = [runc, "run", "--bundle", path, "x"]\n')
    constants = _module_string_lists(tree)
    lines = [_command_words(node, constants) for node in ast.walk(tree) if isinstance(node, ast.List)]
    assert ["docker", "run", "--rm", "--memory=64m", "--pids-limit=64", "img"] in lines
    assert ["?", "run", "--detach", "img"] in lines


# -- 2. ports on 127.0.0.1 only -------------------------------------------------------------------

def _published_on(value: str) -> str:
    """The host address of a -p/--publish value: '' (every address) unless it names one."""
    parts = value.rsplit(":", 2)
    return parts[0].strip("[]") if len(parts) == 3 else ""


def test_published_ports_bind_loopback_in_code():
    public = []
    for where, tree, _ in parsed():
        constants = _module_string_lists(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "ports" and isinstance(keyword.value, ast.Dict):
                        for host in keyword.value.values:
                            address = _string(host.elts[0]) if isinstance(host, ast.Tuple) and host.elts else LOOPBACK
                            if address != LOOPBACK:
                                public.append(f"{where}:{node.lineno}: ports host {address!r}")
            if isinstance(node, (ast.List, ast.Tuple)):
                words = _command_words(node, constants)
                for index, word in enumerate(words):
                    value = None
                    if word in ("-p", "--publish") and index + 1 < len(words) and {"run", "create"} & set(words):
                        value = words[index + 1]
                    elif word.startswith("--publish="):
                        value = word.split("=", 1)[1]
                    if value not in (None, "?") and _published_on(value) != LOOPBACK:
                        public.append(f"{where}:{node.lineno}: publishes {value!r}")
    assert public == [], f"ports published beyond 127.0.0.1: {public}"


@pytest.mark.parametrize("path", compose_files(), ids=lambda p: str(p.relative_to(NOTEBOOKS)))
def test_compose_files_publish_on_loopback_only(path):
    from containerlab.compose import load_compose_file

    project = load_compose_file(path, environ={})
    assert project.public_ports() == (), f"{path} publishes beyond 127.0.0.1"


# -- 3. the engine socket ---------------------------------------------------------------------------

def test_engine_socket_is_named_only_to_connect_or_refuse():
    named = []
    for where, tree, _ in parsed():
        if where in SOCKET_NAMERS:
            continue
        for node in ast.walk(tree):
            text = _string(node)
            if text and any(socket in text for socket in ENGINE_SOCKETS):
                named.append(f"{where}:{node.lineno}: {text[:80]!r}")
    assert named == [], f"the engine socket named outside {sorted(SOCKET_NAMERS)} (is it mounted?): {named}"


def _service_blocks(path: Path) -> dict[str, dict[str, Any]]:
    document = yaml.safe_load(path.read_text()) or {}
    return {name: body for name, body in (document.get("services") or {}).items() if isinstance(body, dict)}


@pytest.mark.parametrize("path", compose_files(), ids=lambda p: str(p.relative_to(NOTEBOOKS)))
def test_compose_files_never_mount_the_engine_socket_nor_ask_for_privilege(path):
    from containerlab.compose import load_compose_file

    project = load_compose_file(path, environ={})
    for service in project.services.values():
        for mount in service.volumes:
            assert not (mount.source or "").rstrip("/").endswith(ENGINE_SOCKETS), f"{service.name} mounts {mount.source}"
    for name, body in _service_blocks(path).items():
        assert not body.get("use_api_socket"), f"{path}: {name} asks for the engine socket"
        assert not body.get("privileged"), f"{path}: {name} asks for privileged"


# -- 4. privileged only where a lesson explains it ---------------------------------------------------

def test_privileged_only_with_a_reason():
    unexplained = []
    for where, tree, lines in parsed():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                keywords = {keyword.arg: keyword.value for keyword in node.keywords}
                flag = keywords.get("privileged")
                if flag is None or (isinstance(flag, ast.Constant) and not flag.value):
                    continue
                reason = keywords.get("privileged_because")
                if reason is None or (isinstance(reason, ast.Constant) and not str(reason.value or "").strip()):
                    unexplained.append(f"{where}:{node.lineno}: privileged without privileged_because")
            text = _string(node)
            if where in FLAG_RENDERERS:
                continue  # the renderer writes --privileged for a Lab call that gave its reason
            if text is not None and (text == "--privileged" or text.startswith("--privileged=")) \
                    and "# privileged:" not in lines[node.lineno - 1]:  # the course box: its own engine needs it
                unexplained.append(f"{where}:{node.lineno}: a --privileged command line")
    assert unexplained == [], f"privilege without the lesson's reason: {unexplained}"


# -- the shell commands learners type -----------------------------------------------------------------

def test_shell_commands_in_notebooks_follow_the_rules():
    """Every `$ENGINE run` a notebook types (or tells the learner to type in a solution) has the limits, the
    course's labels (so clean finds it), ports on 127.0.0.1 only, no engine socket and no --privileged."""
    problems = []
    for where, line in shell_lines():
        for words in _engine_runs(line):
            text = " ".join(words)
            if not ({"--memory", "-m"} & set(words) and "--pids-limit" in words):
                problems.append(f"{where}: no --memory/--pids-limit: {text[:90]}")
            if "$LABELS" not in words and not any(w.startswith("containerlab.owner=") for w in words):
                problems.append(f"{where}: no $LABELS (clean would not find it): {text[:90]}")
            options = _run_options(words)
            for index, word in enumerate(options):
                if word in ("-p", "--publish") and index + 1 < len(options) and _published_on(options[index + 1]) != LOOPBACK:
                    problems.append(f"{where}: publishes {options[index + 1]!r} beyond 127.0.0.1")
                if word in ("-P", "--publish-all", "--privileged") or any(s in word for s in ENGINE_SOCKETS):
                    problems.append(f"{where}: {word}")
    assert problems == [], f"shell commands breaking the course's rules: {problems}"


# `run` options that take no value (and $LABELS, which expands to whole `--label k=v` pairs): the first other word
# that is not an option's value is the image, and what follows it is the container's command, not the engine's.
_FLAGS_WITHOUT_VALUE = {"-d", "--detach", "--rm", "-i", "-t", "-it", "-ti", "--interactive", "--tty", "--init",
                        "--read-only", "--privileged", "-P", "--publish-all", "$LABELS"}


def _run_options(words: list[str]) -> list[str]:
    """The engine's options of a `run`/`create` command (the words between the subcommand and the image)."""
    index = 2
    while index < len(words) and (words[index].startswith("-") or words[index] in _FLAGS_WITHOUT_VALUE):
        takes_value = words[index] not in _FLAGS_WITHOUT_VALUE and "=" not in words[index]
        index += 2 if takes_value else 1
    return words[2:min(index, len(words))]


def test_the_shell_scan_reads_options_up_to_the_image():
    words = _engine_runs("$ENGINE run -d --name x -p 127.0.0.1::80 $LABELS --rm img httpd -f -p 80")[0]
    assert _run_options(words) == ["-d", "--name", "x", "-p", "127.0.0.1::80", "$LABELS", "--rm"]


def test_the_shell_scan_finds_engine_runs():
    assert _engine_runs("$ENGINE rm -f x >/dev/null 2>&1; $ENGINE run -d --name $LAB-x img sh -c 'a; b'") == [
        ["$ENGINE", "run", "-d", "--name", "$LAB-x", "img", "sh", "-c", "a; b"]]
    assert _engine_runs("docker ps && podman create --rm img") == [["podman", "create", "--rm", "img"]]
