"""Graders that read the engine's state: what the learner made, typed in a terminal or run from Python.

A lesson's check takes the `EngineState` that ``lab.state()`` reads (or the lab itself, and asks it) and
says in the learner's words what is missing, naming things as the shown commands do (``$LAB-web``,
``$LABELS``), so a hint can be typed as it reads:

    found, problem = container_problem(lab.state(), "web", publishes=80)
    if problem:
        return CheckResult(False, problem, hint)

`check_container` wraps the common case in one call. The helpers never raise for a wrong or missing answer.
"""

from __future__ import annotations

import urllib.error
import urllib.request

from ..commands.inspect import ContainerFacts, EngineState
from ..errors import ParseError
from ..images.dockerfile import lint, parse_dockerfile
from .grading import CheckResult

__all__ = ["container_problem", "check_container", "volume_problem", "network_problem", "fetch", "lint_problem",
           "LAB_BASE_IMAGES"]

# The offline lab images: built on this machine, never pulled, tagged only 'latest' (so 'from-latest' does not apply).
LAB_BASE_IMAGES = ("containerlab/busybox", "containerlab/debian")


def _listed(state: EngineState) -> str:
    names = [f"$LAB-{state.short(c.name)}" for c in state.containers]
    return ", ".join(names) if names else "none yet"


def container_problem(state: EngineState, name: str, *, running: bool | None = True, publishes: int | None = None,
                      network: str | None = None, image: str | None = None, labelled: bool = True
                      ) -> tuple[ContainerFacts | None, str]:
    """The container $LAB-<name> and the first thing wrong with it ('' when nothing is).

    ``running``: True (must run), False (must have stopped) or None (either); ``publishes``: a container port
    that must be published on 127.0.0.1 (and on nothing else); ``network``: a lesson network ($LAB-<network>)
    it must be attached to; ``image``: the image it must run; ``labelled``: it must carry $LABELS.
    """
    found = state.container(name)
    shown = f"$LAB-{name}"
    if found is None:
        return None, f"There is no container named {shown} (this lesson has: {_listed(state)})."
    if labelled and not found.has_labels(state.labels):
        return found, (f"{shown} is there but lacks the course's labels, so `containerlab clean` would not find it: "
                       "start it again with $LABELS in the command.")
    if image is not None and not found.runs_image(image):
        return found, f"{shown} runs the image {found.image}, not {image}."
    if running is True and not found.running:
        return found, (f"{shown} exists but is {found.status or 'not running'} (exit code {found.exit_code}): "
                       f"`$ENGINE logs {shown}` says why.")
    if running is False and found.running:
        return found, f"{shown} is still running."
    if publishes is not None:
        bound = found.publishing(publishes)
        if not bound:
            return found, (f"{shown} publishes nothing for port {publishes}: add -p 127.0.0.1::{publishes} "
                           "(or a host port).")
        public = [str(p) for p in bound if not p.loopback_only]
        if public:
            return found, (f"{shown} publishes {', '.join(public)}: every address of this machine. Publish on "
                           f"127.0.0.1 only (-p 127.0.0.1:HOSTPORT:{publishes}).")
    if network is not None and found.network(state.prefix + network) is None:
        attached = ", ".join(state.short(n.name) for n in found.networks) or "none"
        return found, f"{shown} is not attached to $LAB-{network} (its networks: {attached})."
    return found, ""


def check_container(state: EngineState, name: str, *, hint: str, right: str, running: bool | None = True,
                    publishes: int | None = None, network: str | None = None, image: str | None = None,
                    labelled: bool = True) -> CheckResult:
    """A verdict on one container the learner should have made (see `container_problem`)."""
    _, problem = container_problem(state, name, running=running, publishes=publishes, network=network, image=image,
                                   labelled=labelled)
    return CheckResult(False, problem, hint) if problem else CheckResult(True, right)


def volume_problem(state: EngineState, name: str, *, labelled: bool = True) -> str:
    """'' when the named volume $LAB-<name> exists (with the labels), else what is wrong."""
    found = state.volume(name)
    if found is None:
        others = ", ".join(f"$LAB-{state.short(v.name)}" for v in state.volumes) or "none yet"
        return f"There is no volume named $LAB-{name} (this lesson has: {others})."
    if labelled and any(found.labels.get(k) != v for k, v in state.labels.items()):
        return f"The volume $LAB-{name} lacks the course's labels: create it with $ENGINE volume create $LABELS ..."
    return ""


def network_problem(state: EngineState, name: str, *, labelled: bool = True) -> str:
    """'' when the network $LAB-<name> exists (with the labels), else what is wrong."""
    found = state.network_named(name)
    if found is None:
        others = ", ".join(f"$LAB-{state.short(n.name)}" for n in state.networks) or "none yet"
        return f"There is no network named $LAB-{name} (this lesson has: {others})."
    if labelled and any(found.labels.get(k) != v for k, v in state.labels.items()):
        return f"The network $LAB-{name} lacks the course's labels: create it with $ENGINE network create $LABELS ..."
    return ""


def fetch(port: int, path: str = "/", timeout: float = 5.0) -> tuple[int, str]:
    """GET http://127.0.0.1:<port><path>: (status, body), status 0 when nothing answered. Loopback only."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{int(port)}{path}", timeout=timeout) as answer:
            return answer.status, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        return err.code, ""
    except (urllib.error.URLError, OSError):
        return 0, ""


def lint_problem(text: str) -> str:
    """'' when a Dockerfile parses and the course's linter has no warning for it, else the first problem.

    'from-latest' is not held against the lab's own base images (they exist only as 'latest', built here);
    'info' findings (such as running as root) are advice, not failures.
    """
    try:
        parsed = parse_dockerfile(text)
    except ParseError as err:
        return f"The Dockerfile does not parse: {err.message}"
    lab_bases = {stage.instructions[0].line for stage in parsed.stages if stage.base.split(":")[0] in LAB_BASE_IMAGES}
    for finding in lint(parsed):
        if finding.severity != "warning" or (finding.rule == "from-latest" and finding.line in lab_bases):
            continue
        return f"The linter objects: {finding}"
    return ""
