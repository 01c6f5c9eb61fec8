"""Image builds for lesson 05: deterministic build contexts, streamed logs, cache reports, saved images.

A build context is sent as a tar made here, not by the engine's client: files sorted, times
zeroed, owners root, `.dockerignore` applied. The same files then give the same cache keys on
every run and every machine, so "which step came from the cache" depends only on what changed.
Images are tagged per owner and carry the lab's labels, so `lab.cleanup()` removes them; the
intermediate images of earlier stages of a multi-stage build (which carry no labels) are removed
right after the build.
"""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from docker.errors import APIError, ImageNotFound, NotFound
from docker.utils.build import exclude_paths

from ..commands.line import CommandLine, build_command
from ..errors import LabError
from ..images.buildlog import BuildStep, CacheDecision, explain_cache, line_kind, parse_build_log, plain
from ..images.dockerfile import parse_dockerfile
from ..images.tarball import ImageReport, read_image
from .images import BUILD_LIMITS, build_limits, context_tar
from .lab import Lab, RunResult, gone_or_in_use, has_labels, label_filters
from .progress import Progress, print_progress

__all__ = ["BuildResult", "build_command_for", "context_files", "context_tar", "read_dockerignore", "build",
           "build_and_run", "save", "saved_bytes", "image_size", "lesson_tag"]


def lesson_tag(lab: Lab, name: str, tag: str = "latest") -> str:
    """A per-owner image tag for this lesson: 'containerlab/<owner>-<NN>-<name>:<tag>'."""
    number = lab.lesson.split("-", 1)[0]
    return f"containerlab/{lab.owner}-{number}-{name}:{tag}"


def read_dockerignore(directory: str | os.PathLike[str]) -> list[str]:
    """The patterns of a context's .dockerignore (comments and blank lines dropped); [] without one."""
    path = Path(directory) / ".dockerignore"
    if not path.exists():
        return []
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def context_files(directory: str | os.PathLike[str], *, dockerignore: bool = True) -> dict[str, bytes]:
    """The files a build of ``directory`` sends, as {relative path: bytes}; .dockerignore applied unless told."""
    root = Path(directory)
    if not (root / "Dockerfile").exists() and not any(root.glob("Dockerfile*")):
        raise LabError(f"{root} has no Dockerfile.", "Point at the directory that holds the Dockerfile.")
    patterns = read_dockerignore(root) if dockerignore else []
    included = sorted(exclude_paths(str(root), patterns))
    files = {}
    for relative in included:
        path = root / relative
        if path.is_file() and not path.is_symlink():
            files[relative.replace(os.sep, "/")] = path.read_bytes()
    return files


@dataclass(frozen=True)
class BuildResult:
    """A finished build: tag, image ID, the log's steps and the cache decisions for each Dockerfile line."""

    tag: str
    image_id: str
    steps: tuple[BuildStep, ...]
    decisions: tuple[CacheDecision, ...]
    seconds: float
    command: CommandLine | None = None

    @property
    def cached(self) -> list[int]:
        """Dockerfile lines whose step came from the cache."""
        return [d.line for d in self.decisions if d.status == "cached" and d.line]

    @property
    def rebuilt(self) -> list[int]:
        """Dockerfile lines whose step ran (rebuilt or built)."""
        return [d.line for d in self.decisions if d.status in ("rebuilt", "built") and d.line]

    def table(self) -> str:
        """One line per Dockerfile instruction: its line, reused or rebuilt, and why."""
        return "\n".join(str(d) for d in self.decisions if d.line)


def build_command_for(lab: Lab, tag: str, *, dockerfile: str = "Dockerfile", nocache: bool = False) -> CommandLine:
    """The `docker build` a person would type in the context directory for the same image."""
    limits = build_limits(lab.engine) if lab.available else dict(BUILD_LIMITS)
    return build_command(lab.engine.name if lab.available else "docker", tag, dockerfile=dockerfile, nocache=nocache,
                         labels=lab.labels(), memory=limits.get("memory"), variables=lab.shell_variables())


def build(lab: Lab, tag: str, files: Mapping[str, bytes], *, dockerfile: str = "Dockerfile", nocache: bool = False,
          changed: tuple[str, ...] = (), progress: Progress | None = print_progress,
          executables: frozenset[str] = frozenset(), echo: bool | None = None,
          network: str | None = None) -> BuildResult:
    """Build ``files`` (a context with a Dockerfile) as ``tag`` with the lab's labels, streaming the steps.

    Progress shows each Dockerfile step as it starts ('[2/4] COPY . /app'), whether the cache served
    it, and what RUN steps print; the builder's own --label steps and IDs are left out, so the
    same build prints the same lines on every machine. With the lab's echo (or ``echo=True``) the
    `docker build` command is printed first.
    """
    if dockerfile not in files:
        raise LabError(f"The build context has no {dockerfile}.", "Add the Dockerfile to the files you build.")
    command = build_command_for(lab, tag, dockerfile=dockerfile, nocache=nocache)
    if lab.echo if echo is None else echo:
        print(f"$ {command.shown}", flush=True)
    text = files[dockerfile].decode()
    parsed = parse_dockerfile(text)
    own_steps = len(parsed.instructions)
    api = lab.engine.client.api
    previous = _image_id(lab, tag)
    started = time.perf_counter()
    for attempt in range(1, BUILD_ATTEMPTS + 1):
        try:
            lines, image_id = _stream_build(lab, tag, files, dockerfile, nocache, executables, progress, own_steps,
                                            network)
            break
        except _CachedImageGone:
            if attempt == BUILD_ATTEMPTS:
                raise LabError(f"Building {tag} failed: other builds on this engine kept removing the images its "
                               "cache lookups read.", "Run the cell again when the other builds are done.") from None
            if progress is not None:
                progress("      (another build removed an image this build was reading from the cache: building again)")
            time.sleep(0.2 * attempt)
    steps = parse_build_log("".join(lines))
    decisions = explain_cache(parsed, steps, changed=changed, nocache=nocache)
    if not image_id:
        image_id = api.inspect_image(tag)["Id"]
    _remove_earlier_stages(lab, parsed, steps)
    if previous and previous.removeprefix("sha256:") != image_id.removeprefix("sha256:"):
        _remove_replaced(lab, previous)
    return BuildResult(tag, image_id, tuple(steps), tuple(decisions), time.perf_counter() - started, command)


class _CachedImageGone(Exception):
    """An image a build step read from the cache was removed by another build while this one ran."""


# The engine's words when an image vanished mid-build because another learner's build removed it: a step's cached
# parent (a shared, untagged stage image), or, in Docker's classic builder, any other child of the step's parent,
# which its cache lookup reads one by one after listing them ("unable to find image", "failed to get digest ...:
# no such file or directory"). Buildah's words too. Such an error names the image by its ID, which tells it apart
# from a FROM naming an image that is not on this machine.
_IMAGE_GONE = re.compile(r"no such image|unrecognized image id|unknown parent image id|image not known|"
                         r"layer not known|failed to get layer|unable to find image|failed to get digest",
                         re.IGNORECASE)
_IMAGE_ID = re.compile(r"\b(sha256:)?[0-9a-f]{12,64}\b")


def cached_image_vanished(error: str) -> bool:
    """True when a build failed because an image its cache lookup read was removed meanwhile (not a broken
    Dockerfile)."""
    return bool(_IMAGE_GONE.search(error) and _IMAGE_ID.search(error))


BUILD_ATTEMPTS = 5


def _stream_build(lab: Lab, tag: str, files: Mapping[str, bytes], dockerfile: str, nocache: bool,
                  executables: frozenset[str], progress: Progress | None, own_steps: int,
                  network: str | None = None) -> tuple[list[str], str]:
    """One build through the API, streaming the steps to ``progress``; (log lines, image ID)."""
    api = lab.engine.client.api
    lab.say_unenforced_limits()
    lines: list[str] = []
    image_id = ""
    shown_step = 0
    stream = api.build(fileobj=io.BytesIO(context_tar(files, executables)), custom_context=True, tag=tag,
                       dockerfile=dockerfile, labels=lab.labels(), nocache=nocache, rm=True, forcerm=True,
                       decode=True, container_limits=build_limits(lab.engine), network_mode=network)
    for chunk in stream:
        if "error" in chunk:
            _remove_failed(lab, parse_build_log("".join(lines)))
            if cached_image_vanished(chunk["error"]):
                raise _CachedImageGone(chunk["error"])
            tail = " | ".join(plain(line).strip() for line in lines[-4:] if line_kind(line) == "output")
            hint = (f"Read the build log ({tail[-200:]}); fix the Dockerfile or the files it copies." if tail
                    else "Fix the Dockerfile or the files it copies.")
            raise LabError(f"Building {tag} failed: {chunk['error'].strip()}", hint)
        if "aux" in chunk and "ID" in chunk["aux"]:
            image_id = chunk["aux"]["ID"]
        text_chunk = chunk.get("stream", "")
        if not text_chunk:
            continue
        lines.append(text_chunk)
        if progress is None:
            continue
        for line in text_chunk.splitlines():
            kind = line_kind(line)
            if kind == "step":
                step = parse_build_log("".join(lines))[-1]  # the whole log: Buildah numbers steps per stage
                shown_step = step.number
                if shown_step <= own_steps:
                    progress(f"[{shown_step}/{own_steps}] {step.instruction}")
            elif 0 < shown_step <= own_steps and kind == "cached":
                progress("      (from the cache)")
            elif 0 < shown_step <= own_steps and kind == "output":
                progress(f"      {plain(line).rstrip()}")
    return lines, image_id


def _remove_untagged(lab: Lab, image: str, *, labelled: Sequence[str] = ()) -> None:
    """Remove an untagged image this build made (and its untagged parents); leave tagged or used ones,
    and, with ``labelled`` (label filters), any image that lacks those labels."""
    api = lab.engine.client.api
    try:
        attrs = api.inspect_image(image)
        if attrs.get("RepoTags") or not has_labels((attrs.get("Config") or {}).get("Labels"), labelled):
            return
        api.remove_image(image)
    except (ImageNotFound, NotFound):
        pass
    except APIError as err:
        if not gone_or_in_use(err):
            raise


def _image_id(lab: Lab, tag: str) -> str:
    """The ID the tag names now, or '' when there is no such image."""
    try:
        return lab.engine.client.api.inspect_image(tag)["Id"]
    except (ImageNotFound, NotFound):
        return ""


def _remove_replaced(lab: Lab, image: str) -> None:
    """Remove the image a rebuild took the tag from: this lab's, and now a nameless <none> image.

    Re-running a build cell then leaves one image per tag, as re-running a run cell leaves one
    container per name. (Buildah may serve an unchanged rebuild from an older cached chain of
    images, so the tag moves on Podman even when nothing changed.) An image still used by a
    container, or tagged again, stays.
    """
    try:
        _remove_untagged(lab, image, labelled=label_filters(lab.lesson, lab.owner))
    except APIError:
        pass  # only tidying: the build itself succeeded


def _remove_failed(lab: Lab, steps: list[BuildStep]) -> None:
    """After a failed build: remove the images its finished steps committed (nothing labels them)."""
    made = [s.image for s in steps if s.image and s.keyword != "FROM"]
    bases = {s.image for s in steps if s.keyword == "FROM"}
    if made and made[-1] not in bases:
        _remove_untagged(lab, made[-1])


def _remove_earlier_stages(lab: Lab, dockerfile, steps: list[BuildStep]) -> None:
    """Remove the untagged images that earlier stages of a multi-stage build left (they carry no labels)."""
    if len(dockerfile.stages) < 2:
        return
    instructions = dockerfile.instructions
    final_start = dockerfile.final_stage.instructions[0]
    for stage in dockerfile.stages[:-1]:
        numbers = [instructions.index(i) + 1 for i in stage.instructions]
        stage_steps = [s for s in steps if s.number in numbers]
        if len(stage_steps) < 2 or not stage_steps[-1].image or stage_steps[-1].image == stage_steps[0].image:
            continue
        if stage_steps[-1].number >= instructions.index(final_start) + 1:
            continue
        _remove_untagged(lab, stage_steps[-1].image)


def _local_bases(lab: Lab, text: str) -> None:
    """Refuse a Dockerfile whose FROM or COPY --from names an image this machine lacks: the engine would pull it."""
    parsed = parse_dockerfile(text)
    names = {stage.name for stage in parsed.stages if stage.name} | {str(stage.index) for stage in parsed.stages}
    wanted = [stage.base for stage in parsed.stages if stage.base_stage is None]
    wanted += [source for stage in parsed.stages for source in stage.copies_from() if source.lower() not in names]
    for image in wanted:
        if image.lower() == "scratch":
            continue
        try:
            present = _image_id(lab, image) != ""
        except APIError:  # not even a valid image name
            present = False
        if not present:
            raise LabError(f"{image} is not an image on this machine, and the course never pulls one.",
                           "Start FROM an image built here: the lab images (containerlab/busybox, "
                           "containerlab/debian), one the lesson built, an earlier stage, or scratch.")


def build_and_run(lab: Lab, tag: str, dockerfile_text: str, *, timeout: float = 30) -> RunResult:
    """Build a Dockerfile given as text (no other files) and run its image once, asking for no network for both.

    A learner's Dockerfile goes through here: every FROM must be on this machine already (nothing is pulled), and
    its container has only a loopback interface. Its RUN steps get none either on Docker; Podman 4's
    Docker-compatible API ignores the build's network mode and runs them in the host's network namespace.
    """
    _local_bases(lab, dockerfile_text)
    build(lab, tag, {"Dockerfile": dockerfile_text.encode()}, progress=None, network="none")
    return lab.run(tag, timeout=timeout, network_mode="none")


def save(lab: Lab, tag: str) -> ImageReport:
    """`docker save` streamed straight into the layer reader: no temporary file."""
    return read_image(lab.engine.client.api.get_image(tag))


def saved_bytes(lab: Lab, tag: str) -> bytes:
    """The `docker save` tarball of an image, in memory (for extract_layer, which reads it twice)."""
    return b"".join(lab.engine.client.api.get_image(tag))


def image_size(lab: Lab, tag: str) -> int:
    """The image's size in bytes as `docker images` reports it."""
    return int(lab.engine.client.api.inspect_image(tag).get("Size", 0))
