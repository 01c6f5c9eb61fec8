"""JupyterHub spawners that start course boxes: DockerSpawner on one machine, SwarmSpawner on a swarm.

hub/jupyterhub_config.py selects one of these; all the usual DockerSpawner settings (image, limits, volumes) are
set there. What the course adds to DockerSpawner:

- each box gets the privileges its nested engine needs, in the form the engine accepts (`--privileged`, else the
  long form this project's CI machine needs; the box module owns both, `hub.box_host_config` translates them);
- each attendee gets a network of their own (boxes cannot reach each other; the hub reaches every box from the
  host), created and removed with the server, and labelled volumes for their notebooks and their nested engine;
- the server is ready only when the box's engine is ready (progress says what it waits for); a box that cannot
  start says why in one line on the attendee's page, instead of a spinner;
- stopping removes the container, its network and any cgroup folder its nested engine left on the host.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from docker.errors import APIError, ImageNotFound, NotFound
from docker.types import Mount
from dockerspawner import DockerSpawner, SwarmSpawner
from traitlets import Float, Integer, List, Unicode, default

from . import box
from .hub import LABEL_HUB, LABEL_HUB_USER, box_host_config, remove_cgroups
from .lab import LABEL_LESSON, LABEL_OWNER

__all__ = ["BoxSpawnError", "CourseBoxSpawner", "CourseBoxSwarmSpawner", "one_line"]

STATUS_PATH = box.STATUS_PATH
# The engine's words for "this host may not grant that privilege" (the next form is tried).
REFUSALS = ("unable to apply caps", "operation not permitted", "permission denied", "privileged")


class BoxSpawnError(Exception):
    """A box that could not start; JupyterHub shows ``jupyterhub_message`` (one line) on the attendee's page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.jupyterhub_message = message


def one_line(text: str, limit: int = 300) -> str:
    """The last meaningful line of an engine's answer, short enough for a page."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    line = lines[-1] if lines else str(text).strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _explain(err: APIError) -> str:
    return one_line(getattr(err, "explanation", None) or str(err))


class CourseBoxSpawner(DockerSpawner):
    """One course box per attendee on this machine's Docker engine."""

    box_forms = List(Unicode(), default_value=list(box.FORMS), config=True,
                     help="The privilege forms to try, in order (see containerlab.engine.box.FORMS).")
    pids_limit = Integer(2048, config=True, help="Processes (and threads) allowed in one box.")
    engine_timeout = Float(300, config=True, help="Seconds to wait for the box's engine to be ready.")
    hub_owner = Unicode("", config=True, help="The containerlab.owner label of everything this hub makes.")
    hub_prefix = Unicode("", config=True, help="The containerlab.hub label (and the names' start).")

    _working_form: ClassVar[str | None] = None  # the first form the engine accepted, tried first from then on
    _phase = "Asking the engine for a box"
    object_id: str  # DockerSpawner's trait (the box's container ID); its package has no types

    @default("network_name")
    def _attendee_network(self) -> str:
        return "{prefix}-net-{username}"

    @property
    def attendee_network(self) -> str:
        """This attendee's own network."""
        return self._render_templates(self.network_name)

    def labels(self) -> dict[str, str]:
        """The labels of this attendee's box, network and engine volume."""
        return {LABEL_LESSON: "hub", LABEL_OWNER: self.hub_owner, LABEL_HUB: self.hub_prefix,
                LABEL_HUB_USER: self.user.name}

    def get_network_ip(self, network_settings: dict) -> str:
        """The box's address on its own network (DockerSpawner looks for the unrendered name)."""
        return network_settings["Networks"][self.attendee_network]["IPAddress"]

    async def _ensure_network(self) -> None:
        name = self.attendee_network
        try:
            await self.docker("inspect_network", name)
        except NotFound:
            await self.docker("create_network", name, driver="bridge", labels=self.labels(), check_duplicate=True)

    async def _ensure_volumes(self) -> None:
        """Create the mounted volumes with labels first (the engine would make unlabelled ones)."""
        for template, target in self.volumes.items():
            name = self.format_volume_name(template, self)
            target = target["bind"] if isinstance(target, dict) else target
            labels = dict(self.labels())
            if target == box.WORK_MOUNT:  # the attendee's notebooks: `containerlab clean` keeps them
                labels.pop(LABEL_LESSON)
                labels["containerlab.hub.work"] = "true"
            try:
                await self.docker("inspect_volume", name)
            except NotFound:
                await self.docker("create_volume", name=name, labels=labels)

    def _forms(self) -> list[str]:
        forms = list(self.box_forms)
        if self._working_form in forms:
            forms.remove(self._working_form)
            forms.insert(0, self._working_form)
        return forms

    async def start(self) -> tuple[str, int]:
        """Create the attendee's network and volumes, start the box in the first form the engine accepts, and
        return once its nested engine is ready; any failure is one line on the attendee's page."""
        self._phase = "Preparing your network and volumes"
        self.network_name = self.attendee_network  # DockerSpawner uses the name as it is
        self.use_internal_ip = True
        try:
            await self._ensure_network()
            await self._ensure_volumes()
        except APIError as err:
            raise BoxSpawnError(f"The engine refused your box's network or volumes: {_explain(err)}") from None
        forms = self._forms()
        for attempt, form in enumerate(forms):
            self._phase = f"Starting your course box ({form} form)"
            self.extra_host_config = {**box_host_config(form), "pids_limit": self.pids_limit, "auto_remove": False}
            self.extra_create_kwargs = self._create_kwargs(form)
            try:
                address = await super().start()
            except ImageNotFound:
                raise BoxSpawnError(f"The box image {self.image} is not on this server, and the hub never pulls; "
                                    "the instructor runs './lab hub build'.") from None
            except APIError as err:
                refused = any(word in str(err).lower() for word in REFUSALS)
                if refused and attempt + 1 < len(forms):
                    self.log.warning("The engine refused the %s form (%s); trying the next", form, _explain(err))
                    await self._discard()
                    continue
                raise BoxSpawnError(f"The engine refused your box: {_explain(err)}") from None
            type(self)._working_form = form
            await self._wait_for_engine()
            return address
        raise BoxSpawnError("No way of starting the box was left to try.")

    def _create_kwargs(self, form: str) -> dict[str, Any]:
        """Labels, and the host-config keys docker-py's HostConfig has no argument for (the long form's paths)."""
        config = box_host_config(form)
        raw = {key: config[key] for key in ("MaskedPaths", "ReadonlyPaths") if key in config}
        for key in raw:
            self.extra_host_config.pop(key, None)
        return {"labels": self.labels(), "hostname": "box", **({"host_config": raw} if raw else {})}

    async def _discard(self) -> None:
        if self.object_id:
            try:
                await self.remove_object()
            except APIError:
                pass
            self.object_id = ""

    async def _read_status(self) -> dict[str, str]:
        """The box entrypoint's status file (state, message, hint)."""
        created = await self.docker("exec_create", self.object_id, ["cat", STATUS_PATH])
        output = await self.docker("exec_start", created["Id"])
        fields = {}
        for line in output.decode(errors="replace").splitlines():
            key, sep, value = line.partition(": ")
            if sep:
                fields[key] = value.strip()
        return fields

    async def _wait_for_engine(self) -> None:
        """Wait until the box's nested engine is ready; raise with its one-line reason when it cannot be."""
        deadline = time.monotonic() + self.engine_timeout
        self._phase = "Your box is starting its own container engine"
        while time.monotonic() < deadline:
            info = await self.docker("inspect_container", self.object_id)
            if not info["State"]["Running"]:
                logs = await self.docker("logs", self.object_id, tail=5)
                why = one_line(logs.decode(errors="replace")) or f"exit code {info['State']['ExitCode']}"
                raise BoxSpawnError(f"Your box stopped while starting: {why}")
            try:
                status = await self._read_status()
            except APIError:
                status = {}
            state = status.get("state", "")
            if state == "ready":
                self._phase = "Your box's engine is ready"
                return
            if state in ("failed", "no-privileges"):
                raise BoxSpawnError(one_line(status.get("message", f"Your box's engine: {state}")))
            if status.get("message"):
                self._phase = status["message"]
            await asyncio.sleep(0.5)
        raise BoxSpawnError(f"Your box's engine was not ready after {self.engine_timeout:.0f} s; "
                            "ask the instructor to look at the server's load.")

    async def progress(self) -> AsyncIterator[dict[str, Any]]:
        """What the spawn waits for, as it changes (the attendee's page shows it under the bar)."""
        shown, step = "", 0
        while True:
            if self._phase != shown:
                shown, step = self._phase, min(step + 20, 90)
                yield {"progress": step, "message": shown}
            await asyncio.sleep(0.5)

    async def _log_box_tail(self, container_id: str, lines: int = 40) -> None:
        """The box's last log lines, into the hub's log: a box stopped before its server answered is removed with
        its log, which is the only record of why it was slow (the entrypoint says what it waited for)."""
        try:
            tail = await self.docker("logs", container_id, tail=lines, timestamps=True)
        except APIError as err:
            self.log.info("The box %s of %s has no log to keep: %s", container_id[:12], self.user.name, _explain(err))
            return
        self.log.warning("The box %s of %s stops before its server answered; its last lines:\n%s",
                         container_id[:12], self.user.name, tail.decode(errors="replace").rstrip())

    async def stop(self, now: bool = False) -> None:
        """Stop and remove the box, then its network and any cgroup folder its nested engine left."""
        container_id = self.object_id
        if container_id and self._waiting_for_response:  # started, but its server never answered (http_timeout)
            await self._log_box_tail(container_id)
        await super().stop(now=now)
        try:
            await self.docker("remove_network", self.attendee_network)
        except (NotFound, APIError) as err:
            self.log.debug("Keeping network %s: %s", self.attendee_network, err)
        if container_id:
            removed = await asyncio.get_running_loop().run_in_executor(None, remove_cgroups, container_id)
            if removed:
                self.log.info("Removed %d cgroup folders the box %s left", len(removed), container_id[:12])


class CourseBoxSwarmSpawner(SwarmSpawner):
    """Course boxes as Docker Swarm services: the swarm picks the node.

    A swarm service cannot be given the box's privileges (no --privileged, device rules, unconfined seccomp or
    cgroup namespace for services in Docker's swarm mode), so the box's JupyterLab serves but its nested engine
    reports the missing flag: the page says so, and the attendee can follow the lessons that need no engine.
    """

    pids_limit = Integer(2048, config=True, help="Processes (and threads) allowed in one box.")
    hub_owner = Unicode("", config=True, help="The containerlab.owner label of everything this hub makes.")
    hub_prefix = Unicode("", config=True, help="The containerlab.hub label (and the names' start).")
    _phase = "Asking the swarm for a box"
    extra_resources_spec: dict[str, Any]  # SwarmSpawner's trait; its package has no types

    def labels(self) -> dict[str, str]:
        """The labels of this attendee's service and its container."""
        return {LABEL_LESSON: "hub", LABEL_OWNER: self.hub_owner, LABEL_HUB: self.hub_prefix,
                LABEL_HUB_USER: self.user.name}

    async def start(self) -> tuple[str, int]:
        """Create the service (labelled, limited, with the capabilities a service may have) and wait for it."""
        self.extra_container_spec = {"labels": self.labels(), "cap_add": ["ALL"], "cap_drop": ["SYS_RESOURCE"],
                                     "hostname": "box"}
        self.extra_resources_spec = {}
        self.extra_task_spec = {"restart_policy": {"Condition": "none"}}
        self.extra_create_kwargs = {"labels": self.labels()}
        self._phase = "Waiting for the swarm to place your box"
        try:
            address = await super().start()
        except APIError as err:
            raise BoxSpawnError(f"The swarm refused your box: {_explain(err)}") from None
        except RuntimeError as err:
            raise BoxSpawnError(one_line(str(err))) from None
        await self._limit_pids()
        return address

    async def _task_container(self) -> dict[str, Any]:
        task = await self.get_task()
        if not task or not task.get("Status", {}).get("ContainerStatus", {}).get("ContainerID"):
            raise BoxSpawnError("The swarm placed your box, but it has no container yet.")
        return await self.docker("inspect_container", task["Status"]["ContainerStatus"]["ContainerID"])

    async def _limit_pids(self) -> None:
        """Swarm services in Engine 20.10 take no pids limit: set it on the task's container (docker update)."""
        info = await self._task_container()
        client = self.client
        url = client._url("/containers/{0}/update", info["Id"])
        answer = await asyncio.get_running_loop().run_in_executor(
            None, lambda: client._post_json(url, data={"PidsLimit": self.pids_limit}))
        client._raise_for_status(answer)

    @property
    def mounts(self) -> list[Mount]:
        """The attendee's notebooks and the box's engine storage on named, labelled volumes of the node."""
        work_labels = {**self.labels(), "containerlab.hub.work": "true"}
        work_labels.pop(LABEL_LESSON)
        return [Mount(target=box.WORK_MOUNT, source=self._render_templates("{prefix}-work-{username}"),
                      type="volume", labels=work_labels),
                Mount(target=box.ENGINE_MOUNT, source=self._render_templates("{prefix}-engine-{username}"),
                      type="volume", labels=self.labels())]

    async def get_ip_and_port(self) -> tuple[str, int]:
        """The task container's address on this node's bridge (the hub runs on the node, not on an overlay)."""
        info = await self._task_container()
        for network in info["NetworkSettings"]["Networks"].values():
            if network.get("IPAddress"):
                return network["IPAddress"], self.port
        raise BoxSpawnError(f"Your box has no address the hub can reach: {json.dumps(info['NetworkSettings'])[:200]}")

    async def progress(self) -> AsyncIterator[dict[str, Any]]:
        """What the spawn waits for."""
        yield {"progress": 20, "message": self._phase}
        while True:
            await asyncio.sleep(1)
