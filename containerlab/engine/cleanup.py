"""Removing what the course made: by label (a lesson, an owner, or all) and by a lesson's name prefix.

Removal is safe under concurrency: a thing already gone, or still used by another learner's container or
build, is a normal outcome (`gone_or_in_use`), not an error. Podman's containers that share a namespace with
the one being removed go first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from docker.errors import APIError, NotFound

from ..errors import LabError
from .connect import Engine

__all__ = ["LABEL_LESSON", "LABEL_OWNER", "CleanupReport", "gone_or_in_use", "has_labels", "label_filters",
           "labelled_images", "remove_labelled", "remove_named"]

LABEL_LESSON = "containerlab.lesson"
LABEL_OWNER = "containerlab.owner"


def label_filters(lesson: str | None = None, owner: str | None = None) -> list[str]:
    """Engine label filters selecting course resources, optionally one lesson/owner."""
    labels = [f"{LABEL_LESSON}={lesson}" if lesson else LABEL_LESSON]
    if owner:
        labels.append(f"{LABEL_OWNER}={owner}")
    return labels


_GONE_OR_IN_USE = re.compile(
    r"no such (image|container|network|volume)|unrecognized image id|image not known|layer not known"
    r"|no such id|not found|does not exist|is being used|is in use|in use by|being used by|dependent child images"
    r"|has dependent|already in progress|is already being removed|conflict: unable to (delete|remove)"
    r"|has active endpoints|image is referenced"
    # Podman 4, an image ID whose removal another client is finishing: its data is half gone, or the ID no longer
    # names an image and Podman then reads it as a (forbidden) name
    r"|size is not known|cannot specify 64-byte hexadecimal strings", re.IGNORECASE)


def gone_or_in_use(err: APIError) -> bool:
    """True when a removal failed because the thing is already gone or someone else still uses it."""
    if err.status_code in (404, 409):
        return True
    return bool(_GONE_OR_IN_USE.search(str(err.explanation or err)))


def _remove_container(container: Any) -> None:
    try:
        container.remove(force=True)
    except NotFound:
        pass
    except APIError as err:
        dependents = _dependents(err)
        if dependents:
            # Podman refuses to remove a container others share namespaces with: remove those first.
            client = container.client
            for dependent in dependents:
                try:
                    _remove_container(client.containers.get(dependent))
                except NotFound:
                    pass
            _remove_container(container)
        elif not gone_or_in_use(err):
            raise


def _remove_container_id(api: Any, container_id: str) -> None:
    """Remove a container this lab just made, by ID; already gone is fine."""
    try:
        api.remove_container(container_id, force=True)
    except NotFound:
        pass
    except APIError as err:
        if not gone_or_in_use(err):
            raise


def _dependents(err: APIError) -> list[str]:
    """The container IDs in Podman's 'has dependent containers which must be removed before it: ...' error."""
    text = str(err.explanation or err)
    if "dependent containers" not in text:
        return []
    return re.findall(r"\b[0-9a-f]{64}\b", text.split("before it", 1)[-1])


@dataclass(frozen=True)
class CleanupReport:
    """How many resources a cleanup removed."""

    containers: int
    networks: int
    volumes: int
    images: int = 0

    def __str__(self) -> str:
        parts = [f"{self.containers} container(s)", f"{self.networks} network(s)", f"{self.volumes} volume(s)"]
        if self.images:
            parts.append(f"{self.images} image(s)")
        return "Removed " + ", ".join(parts) + "."

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def remove_named(engine: Engine, prefix: str) -> CleanupReport:
    """Remove the containers, networks and volumes whose names start with ``prefix`` (a lesson's $LAB-)."""
    if not prefix.startswith("clab-") or prefix.count("-") < 3:
        raise LabError(f"{prefix!r} is not a lesson's name prefix.", "Pass lab.name_prefix (clab-<owner>-<lesson>-).")
    client = engine.client
    counts = [0, 0, 0]
    for container in client.containers.list(all=True, filters={"name": prefix}):
        if str(container.name).startswith(prefix):
            _remove_container(container)
            counts[0] += 1
    for kind, index in ((client.networks, 1), (client.volumes, 2)):
        for item in kind.list(filters={"name": prefix}):
            if str(item.name).startswith(prefix):
                try:
                    item.remove(**({"force": True} if index == 2 else {}))
                    counts[index] += 1
                except NotFound:
                    pass
                except APIError as err:
                    if not gone_or_in_use(err):
                        raise
    return CleanupReport(*counts)


def remove_labelled(engine: Engine, *, lesson: str | None = None, owner: str | None = None,
                    images: bool = False) -> CleanupReport:
    """Remove course resources (all, one lesson, one owner); images only when asked."""
    client = engine.client
    filters: dict[str, str | list[str] | bool] = {"label": label_filters(lesson, owner)}
    containers = client.containers.list(all=True, filters=filters)
    for container in containers:
        _remove_container(container)
    networks = client.networks.list(filters=filters)
    for net in networks:
        try:
            net.remove()
        except NotFound:
            pass
        except APIError as err:
            if not gone_or_in_use(err):
                raise
    volumes = client.volumes.list(filters=filters)
    for vol in volumes:
        try:
            vol.remove(force=True)
        except NotFound:
            pass
        except APIError as err:
            if not gone_or_in_use(err):
                raise
    removed_images = 0
    if images:
        for image in labelled_images(engine, lesson=lesson, owner=owner):
            try:
                # Parents go too (they carry the lesson's labels from the LABEL steps); Docker keeps any
                # parent another image or a running build still uses.
                client.images.remove(image.id, force=True)
                removed_images += 1
            except (NotFound, APIError):
                pass
    return CleanupReport(len(containers), len(networks), len(volumes), removed_images)


def has_labels(labels: Mapping[str, str] | None, wanted: Sequence[str]) -> bool:
    """True when ``labels`` carry every ``key`` or ``key=value`` of ``wanted``."""
    labels = labels or {}
    for item in wanted:
        key, sep, value = item.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    return True


def labelled_images(engine: Engine, *, lesson: str | None = None, owner: str | None = None) -> list[Any]:
    """The course's images (all, one lesson, one owner). The engine filters on one label and the rest
    is checked here: Podman 4's Docker API returns no image at all for two label filters."""
    wanted = label_filters(lesson, owner)
    found = engine.client.images.list(filters={"label": wanted[-1]})
    return [image for image in found if has_labels(image.labels, wanted)]
