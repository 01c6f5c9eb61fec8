"""Exercise checks for lesson 05, images and Dockerfiles.

Each compares an answer with what the parser (or the built image) says, and points at what to look
at next when it is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..errors import LabError, ParseError
from ..images.buildlog import predict_rebuild
from ..images.dockerfile import lint, parse_dockerfile
from .engine_checks import container_problem
from .grading import CheckResult, unanswered

__all__ = ["check_layer_count", "check_rebuilt_lines", "check_recovered_secret", "check_dockerfile_prints",
           "check_cli_build"]


def check_layer_count(answer: Any, dockerfile_text: str) -> CheckResult:
    """Exercise 05.1: how many layers the final stage of a Dockerfile adds on top of its base image."""
    hint = ("Only instructions that change files make a layer: RUN, COPY and ADD (and WORKDIR when it creates "
            "a directory). ENV, CMD, LABEL, EXPOSE and USER change only the config. In a multi-stage build only "
            "the last stage counts.")
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    try:
        count = int(answer)
    except (TypeError, ValueError):
        return CheckResult(False, f"{answer!r} is not a number of layers.", hint)
    try:
        stage = parse_dockerfile(dockerfile_text).final_stage
    except ParseError as err:
        return CheckResult(False, f"The Dockerfile does not parse: {err.message}", err.hint)
    makers = stage.layer_instructions
    actual = len(makers)
    if count == actual:
        listed = ", ".join(f"line {i.line} {i.keyword}" for i in makers)
        return CheckResult(True, f"Right: {actual} layers ({listed}); the other instructions only edit the config.")
    every = sum(1 for i in stage.instructions if i.keyword != "FROM")
    if count == every:
        return CheckResult(False, f"{count} counts every instruction; some of them change only the image config.",
                           hint)
    return CheckResult(False, f"{count} is not the number of filesystem-changing instructions in the last stage.",
                       hint)


def _lines(answer: Any) -> set[int] | None:
    items = [answer] if isinstance(answer, (int, str)) else answer
    try:
        return {int(item) for item in items}
    except (TypeError, ValueError):
        return None


def check_rebuilt_lines(answer: Any, dockerfile_text: str, changed: Iterable[str]) -> CheckResult:
    """Exercise 05.2: which Dockerfile lines rebuild when only the files ``changed`` changed."""
    hint = ("Find the first COPY/ADD whose sources include a changed file: its cache key changes, so it and every "
            "instruction after it in the same stage rebuild; the ones before it come from the cache.")
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    given = _lines(answer)
    if given is None:
        return CheckResult(False, f"{answer!r} is not a set of line numbers.", hint)
    expected = set(predict_rebuild(parse_dockerfile(dockerfile_text), changed))
    if given == expected:
        return CheckResult(True, f"Right: lines {sorted(expected)} rebuild; everything before line {min(expected)} "
                                 "comes from the cache." if expected else "Right: nothing rebuilds.")
    if given < expected:
        return CheckResult(False, f"Also line(s) {sorted(expected - given)}: once a step misses the cache, every "
                                  "later step has a new parent layer.", hint)
    if given > expected:
        return CheckResult(False, f"Line(s) {sorted(given - expected)} come from the cache: nothing they depend on "
                                  "changed.", hint)
    return CheckResult(False, f"Not quite: {sorted(given)} is not the set of lines that rebuild.", hint)


def check_recovered_secret(answer: Any, secret: str) -> CheckResult:
    """Exercise 05.3: the contents of the key that a later layer 'deleted', read back from the tarball."""
    hint = ("Find the layer whose `added` holds tmp/api.key (read_image of the saved tarball), then "
            "extract_layer(data, layer, directory) and read the file from the directory.")
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    given = answer.decode(errors="replace") if isinstance(answer, (bytes, bytearray)) else str(answer)
    if given.strip() == secret.strip():
        return CheckResult(True, "Right: 'rm' in a later layer only adds a whiteout; the bytes stay in the layer "
                                 "that copied them, for anyone who has the image.")
    if "api.key" in given or given.startswith("/"):
        return CheckResult(False, "That is where it was; the exercise asks for what the file contained.", hint)
    return CheckResult(False, "That is not what the key file contained.", hint)


def check_dockerfile_prints(dockerfile: Any, line: str, build_and_run: Callable[[str], Any]) -> CheckResult:
    """Exercise 05.4: a Dockerfile the course's linter finds nothing in, whose image prints ``line``.

    The text is linted first (a finding fails it before anything is built); then ``build_and_run`` (the
    engine's, bound to the lab and a tag) builds it for real and runs the image once, and what the container
    printed is compared with ``line``.
    """
    hint = (f"Start FROM the pinned base (a tag with a version, not latest), say who the image runs as (USER), and "
            f"give it a CMD that prints exactly: {line}")
    missing = unanswered(dockerfile, hint)
    if missing is not None:
        return missing
    text = str(dockerfile)
    try:
        findings = lint(parse_dockerfile(text))
    except ParseError as err:
        return CheckResult(False, f"The Dockerfile does not parse: {err.message}", err.hint)
    if findings:
        rules = ", ".join(dict.fromkeys(finding.rule for finding in findings))
        return CheckResult(False, f"The linter found {len(findings)} thing(s) to fix ({rules}): {findings[0]}",
                           findings[0].explanation)
    try:
        result = build_and_run(text)
    except LabError as err:
        return CheckResult(False, f"It lints clean, but the build failed: {err.message}", err.hint)
    printed = [printed_line.strip() for printed_line in result.output.splitlines() if printed_line.strip()]
    if result.exit_code != 0:
        said = printed[-1] if printed else "nothing"
        return CheckResult(False, f"It builds, but its container exited with code {result.exit_code} "
                                  f"(it printed: {said}).", hint)
    if printed != [line]:
        shown = " | ".join(printed)[:120] if printed else "nothing"
        return CheckResult(False, f"It builds and runs, but its container printed {shown!r}, not {line!r}.",
                           "CMD runs when the container starts; a RUN's output shows only during the build. "
                           "The container must print that one line and nothing else.")
    return CheckResult(True, f"Right: the linter finds nothing, the image built from what this machine already has, "
                             f"and its container printed {line!r}.")


def check_cli_build(lab: Any, tag: str, message: str) -> CheckResult:
    """Exercise 05.5 (terminal): the image ``tag`` built with the CLI, and a container $LAB-hello of it that printed
    ``message`` and exited 0 (the engine's record and the container's logs are read)."""
    hint = ("In a terminal (after the source line): `$ENGINE build -t $REPO-cli $LABELS $WORK/cli-app`, then "
            "`$ENGINE run --name $LAB-hello --pull never --memory 256m --pids-limit 256 $LABELS $REPO-cli` "
            "(no --rm: the check reads what it printed).")
    found, problem = container_problem(lab.state(), "hello", running=None, image=tag)
    if problem:
        if "no container" in problem:
            problem += " Build $REPO-cli first, then run it as $LAB-hello."
        return CheckResult(False, problem, hint)
    assert found is not None
    if found.running:
        return CheckResult(False, "$LAB-hello is still running: the app prints one line and ends, so wait a moment.",
                           hint)
    if found.exit_code != 0:
        return CheckResult(False, f"$LAB-hello ended with exit code {found.exit_code}: `$ENGINE logs $LAB-hello` "
                                  "says why.", hint)
    printed = lab.container("hello").logs()
    if message not in printed:
        return CheckResult(False, f"$LAB-hello printed {printed.strip()[:80]!r}, not {message!r}: did you edit "
                                  "$WORK/cli-app/message.txt and build again?", hint)
    return CheckResult(True, "Right: `build -t` named the image, `run` made a container of it, and the container "
                             "stays (exited) with its logs until `$ENGINE rm $LAB-hello`.")
