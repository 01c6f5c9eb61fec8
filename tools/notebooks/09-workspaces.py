# %% [markdown]
# # 09 · Workspaces
#
# The talk's *"Why workspaces, what is different"*: **use a container as a development VM**, an integration test
# bed (ITB) for testing, **fast onboarding**; and the catch: **init, supervisor, systemd are problematic in
# containers**, which is why a **systemctl replacement** exists. Then its demo: GlideinWMS workspaces (a CE, a
# factory and a frontend) started with `podman-compose up -d`, a `startup.sh` exec'd in each, and `run-test.sh`.
# This notebook does all of it for real, offline.
#
# **Objectives.** You will
# - use a long-running container as a **development VM**: exec into it, with your code mounted read-only;
# - see **why systemd does not run** in a default container, and what it would need;
# - run several services in one container under **supervisord**, which restarts them when they die;
# - know what a **systemctl replacement** does (and run a tiny one);
# - run a **three-workspace test bed** with Compose, exactly as in the talk: `up -d`, `exec ... startup.sh`,
#   `exec ... run-test.sh`;
# - do it with the CLI: each Python call prints the `docker`/`podman` (or compose) command it stands for, and you
#   type some yourself, in cells and in a terminal.

# %%
import re
import shutil
import time
import urllib.request
from pathlib import Path

import containerlab as cl
from containerlab.compose import load_compose_file
from containerlab.course.lesson09 import (
    SYSTEMD_NEEDS,
    check_pid1,
    check_program_stays_up,
    check_stopped_on_purpose,
    check_systemd_needs,
    supervised_programs,
)
from containerlab.engine.compose import ComposeApp, Milestones
from containerlab.engine.images import DEBIAN_IMAGE
from containerlab.engine.lab import LabContainer
from containerlab.engine.overlay import remove_workdir, reset_workdir, workdir_for
from containerlab.engine.workspaces import SUPERVISOR_DOCKERFILE, SUPERVISOR_IMAGE, ensure_supervisor_image
from containerlab.kernel.mountinfo import parse_mountinfo
from containerlab.render.compose_graph import compose_graph

lab = cl.Lab("09-workspaces", echo=True)  # echo: print the docker/podman (or compose) command behind every action
APPS = Path("apps/workspaces").resolve()
TESTBED_FILE = APPS / "compose.yaml"
testbed = load_compose_file(TESTBED_FILE)
WORK = workdir_for(lab)  # scratch space in /tmp, removed by the clean-up cell
app = ComposeApp(lab, TESTBED_FILE)  # section 6's test bed as a Compose project of this lesson (nothing runs yet)

# %% [markdown]
# ## 1. A container as a development VM
#
# A *workspace* is a container you keep running and work **in**: start it once with a process that just waits
# (`sleep infinity`), then `exec` shells and commands into it the way you would `ssh` into a VM. The toolchain comes
# from the image, so everyone on the team gets the same one in seconds (that is the fast onboarding); your code
# stays on the host and is **bind-mounted**, here read-only, so the workspace can be thrown away at any time.

# %%
if lab.ready_for("engine", task="starting a development workspace"):
    reset_workdir(WORK)
    shutil.copytree(APPS / "devbox/src", WORK / "src")
    devbox = lab.start(DEBIAN_IMAGE, ["sleep", "infinity"], name="devbox", hostname="devbox", working_dir="/src",
                       volumes={str(WORK / "src"): {"bind": "/src", "mode": "ro"}})
    print(devbox.exec(["python3", "hello.py"]).output, end="")
cli = app.cli_env()  # $ENGINE, $LAB, $LABELS, $WORK and $COMPOSE (the test bed's compose command) in $WORK/cli.env

# %% [markdown]
# Typed: `exec` runs a command in the running workspace; `-w` picks the directory it starts in (the workspace's own
# default is `/src`, from `working_dir`).

# %%
# !$ENGINE exec -w /src $LAB-devbox ls

# %% [markdown]
# Edit the code on the host, with your own editor: the workspace sees the change at once. It cannot change your
# files, though: the mount is read-only.

# %%
if lab.ready_for("engine", task="editing code on the host and running it in the workspace"):
    with open(WORK / "src/hello.py", "a") as source:
        source.write('print("a line added on the host")\n')
    print(devbox.exec(["python3", "hello.py"]).output, end="")
    attempt = devbox.exec(["sh", "-c", "echo oops > /src/hello.py"])
    print("writing /src from inside fails:", not attempt.ok, "|", attempt.output.strip().split(": ")[-1])

# %% [markdown]
# Like a VM, the workspace keeps its state between commands (a file in `/tmp`, an installed tool) for as long as it
# lives. Unlike a VM, nothing boots: PID 1 is the `sleep` it was started with.

# %%
if lab.ready_for("engine", task="looking at the workspace's state and PID 1"):
    devbox.exec(["sh", "-c", "echo built > /tmp/state"])
    print("state kept between execs:", devbox.exec(["cat", "/tmp/state"]).output.strip())
    print("PID 1 in the workspace:", devbox.exec(["cat", "/proc/1/comm"]).output.strip())

# %% [markdown]
# The same from the CLI: `top` lists the container's processes as the host sees them (its PID 1 is the `sleep`);
# `ps` run by `exec` lists them as the container sees them, with `ps` itself among them.

# %% tags=["nbval-ignore-output"]
# !$ENGINE top $LAB-devbox -o pid,comm 2>/dev/null || $ENGINE top $LAB-devbox pid comm

# %% [markdown]
# ## 2. A workspace image with supervisor, built offline
#
# Workspaces need more than one process: a web server *and* a database, a scheduler *and* its workers. Debian's
# `supervisor` package manages them. But `RUN apt-get install supervisor` needs a package mirror **inside** the
# build, and this course builds offline. So the work is split:
#
# 1. on the **host**, apt works out what `containerlab/debian` lacks for `supervisor` (and `systemd`, for the next
#    section): `apt-get install --download-only` pointed at the *image's* `/var/lib/dpkg/status`, so it fetches
#    exactly the missing `.deb` files from Debian's package registry into the build context (cached per machine);
# 2. the **build** copies them in and installs them with `dpkg -i`: no network in any `RUN` step.
#
# The image is a course **base image** like `containerlab/debian`: built once per machine (about 20 s), kept
# across runs so the lesson stays fast, and removed by `python -m containerlab clean --images`.

# %%
print(SUPERVISOR_DOCKERFILE)

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", task="building the workspace base image"):
    print(ensure_supervisor_image(lab.engine))

# %%
if lab.ready_for("engine", task="checking the workspace base image"):
    tools = lab.run(SUPERVISOR_IMAGE, ["sh", "-c", "for p in supervisord supervisorctl systemctl python3; "
                                                   "do command -v $p; done"])
    print("programs in the image:", [Path(line).name for line in tools.output.split()])

# %% [markdown]
# ## 3. Why systemd is awkward in containers
#
# On a Linux machine, **systemd** is PID 1: the kernel starts it, and it starts everything else from unit files,
# supervises it, and talks to `systemctl` over D-Bus. The image has systemd installed. Does `systemctl` work?

# %%
if lab.ready_for("engine", task="trying systemctl in a container"):
    probe = lab.run(SUPERVISOR_IMAGE, ["sh", "-c", "echo PID 1: $(cat /proc/1/comm); systemctl start cron 2>&1; "
                                       "echo exit code $?; test -d /run/systemd/system && echo booted by systemd "
                                       "|| echo /run/systemd/system: missing"])
    print(probe.output, end="")

# %% [markdown]
# `systemctl` only *asks* systemd to do things, and there is no systemd running: PID 1 is the shell the container
# was started with, and `/run/systemd/system` (which systemd creates at boot, and which programs test to see
# whether it runs) is missing. So make systemd itself the container's first process:

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", task="starting systemd as PID 1 in a default container"):
    try:
        booted = lab.run(SUPERVISOR_IMAGE, ["/lib/systemd/systemd"], tty=True, timeout=10)
        systemd_stayed_up = False
        said = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", booted.output).splitlines() if line.strip()]
        print(f"systemd exited with code {booted.exit_code}; it said:")
        print("\n".join(f"  {line}" for line in said))
    except cl.LabError:
        systemd_stayed_up = True
        print("systemd kept running: this engine prepared the container for it")

# %% [markdown]
# Docker starts it like any other program, and systemd gives up at once. Podman recognises systemd (or `/sbin/init`)
# as the command and prepares the container for it (`--systemd=true`, its default): tmpfs on `/run`, `/run/lock` and
# `/tmp`, a writable cgroup, the stop signal systemd expects.

# %%
if lab.ready_for("engine", task="comparing with what the engine promises"):
    print("systemd stayed up exactly where the engine prepares containers for it:",
          systemd_stayed_up == lab.engine.is_podman)

# %% [markdown]
# In a default container, systemd wants to **mount** its API file systems (a tmpfs on `/run` and `/run/lock`, ...), which needs
# `CAP_SYS_ADMIN`; it wants to create and manage its own **cgroup** tree, and a container gets `/sys/fs/cgroup`
# read-only; it expects to be stopped with `SIGRTMIN+3`, not `SIGTERM`; and then it starts the units of a whole
# machine (udev, logind, getty, journald), most of which make no sense without hardware. Here is what the default
# container gives it:

# %%
if lab.ready_for("engine", task="checking what a default container allows"):
    inside = lab.run(SUPERVISOR_IMAGE, ["sh", "-c", "cat /proc/self/mountinfo; echo ===; grep CapEff /proc/self/status; "
                                        "echo ===; mount -t tmpfs none /mnt 2>&1 | head -1"]).output.split("===")
    cgroup_mounts = [m for m in parse_mountinfo(inside[0]) if m.fs_type in ("cgroup", "cgroup2")]
    print("cgroup file systems mounted:", len(cgroup_mounts) > 0, "| all read-only:",
          all(m.read_only for m in cgroup_mounts))
    print("CAP_SYS_ADMIN in the effective capabilities:", bool(int(inside[1].split()[-1], 16) >> 21 & 1))
    print("mounting a tmpfs:", inside[2].strip().split(": ")[-1])

# %% [markdown]
# It can be done: `--privileged` (far too much), or the precise set: a tmpfs on `/run` and `/run/lock`, a
# writable cgroup, `--stop-signal=SIGRTMIN+3`, `CAP_SYS_ADMIN`. Podman does that for you when the command is
# systemd (`--systemd=always`). But a booted OS in every container is heavy and slow to start; workspaces use
# something smaller.
#
# ## 4. supervisord: several services in one container
#
# **supervisord** (<http://supervisord.org/>) is a small process manager written in Python. It runs as PID 1 of
# the container, starts the `[program:...]` entries of its configuration, restarts them when they exit, keeps
# their logs, and answers `supervisorctl` on a Unix socket. No D-Bus, no mounts, no cgroups: it works unprivileged.

# %%
print((APPS / "supervisor-demo/programs.conf").read_text())


# %%
def program_states(container: LabContainer) -> dict[str, str]:
    """Program -> state, from supervisorctl status in the container (PIDs and uptimes left out)."""
    status = container.exec(["supervisorctl", "status"], echo=False).output  # polled: not echoed
    return {line.split()[0]: line.split()[1] for line in status.splitlines() if len(line.split()) > 1}


if lab.ready_for("engine", task="running two services under supervisord"):
    shutil.copy(APPS / "supervisor-demo/programs.conf", WORK / "programs.conf")  # $WORK/programs.conf, as typed
    supervised = lab.start(SUPERVISOR_IMAGE, name="supervised", volumes={
        str(WORK / "programs.conf"): {"bind": "/etc/supervisor/conf.d/programs.conf", "mode": "ro"}})
    deadline = time.monotonic() + 20
    while set(program_states(supervised).values()) != {"RUNNING"} and time.monotonic() < deadline:
        time.sleep(0.3)
    print("PID 1:", supervised.exec(["cat", "/proc/1/comm"]).output.strip())
    print("programs:", program_states(supervised))

# %% [markdown]
# Kill the web server behind supervisord's back. It notices the exit, logs it, and starts the program again:

# %%
if lab.ready_for("engine", task="killing a supervised program"):
    old_pid = supervised.exec(["supervisorctl", "pid", "web"], echo=False).output.strip()
    supervised.exec(["sh", "-c", "kill $(supervisorctl pid web)"])  # the shell's kill: the image has no /bin/kill
    deadline = time.monotonic() + 20
    new_pid, state = old_pid, "?"
    while (new_pid == old_pid or state != "RUNNING") and time.monotonic() < deadline:
        time.sleep(0.3)
        new_pid = supervised.exec(["supervisorctl", "pid", "web"], echo=False).output.strip()
        state = program_states(supervised)["web"]
    log = supervised.exec(["cat", "/var/log/supervisor/supervisord.log"], echo=False).output
    print("web is running again:", state == "RUNNING", "| with a new PID:", new_pid != old_pid)
    print("supervisord logged:", re.search(r"exited: web \([^)]*\)", log).group(0))

# %% [markdown]
# Typed: `supervisorctl` is a program in the container, so the engine's `exec` runs it.

# %%
# !$ENGINE exec $LAB-supervised supervisorctl status | awk '{print $1, $2}'

# %% [markdown]
# ## 5. A systemctl replacement
#
# Much software expects systemd anyway: install scripts and Ansible roles run `systemctl enable --now httpd`.
# [docker-systemctl-replacement](https://github.com/gdraheim/docker-systemctl-replacement) is a single Python
# script installed **over** `/usr/bin/systemctl`. It reads the unit files itself (`ExecStart=`, `Type=`, `User=`,
# `Environment=`, ...) and starts, stops and reports the services without systemd or D-Bus; run as the container's
# PID 1 (`CMD ["/usr/bin/systemctl"]`) it starts every enabled unit and reaps orphaned processes like an init.
#
# The idea fits in a page. `apps/workspaces/tiny-systemctl/systemctl` knows `start`, `stop`, `restart`, `status`
# and `is-active` for simple services. Mounted as `/usr/local/bin/systemctl` (which comes first in `PATH`), the
# same command that failed in section 3 now works:

# %%
print((APPS / "tiny-systemctl/hello.service").read_text())

# %%
if lab.ready_for("engine", task="running a service with a tiny systemctl replacement"):
    tiny_files = shutil.copytree(APPS / "tiny-systemctl", WORK / "tiny-systemctl", dirs_exist_ok=True)  # in $WORK
    mounts = {str(tiny_files / "systemctl"): {"bind": "/usr/local/bin/systemctl", "mode": "ro"},
              str(tiny_files / "hello.service"): {"bind": "/etc/systemd/system/hello.service", "mode": "ro"}}
    tiny = lab.run(SUPERVISOR_IMAGE, ["sh", "-c", "systemctl start hello; sleep 1.5; systemctl is-active hello; "
                                      "head -1 /run/tiny-systemctl/hello.log; systemctl stop hello; "
                                      "systemctl is-active hello; echo exit code $?"],
                   hostname="tiny", volumes=mounts)
    print(tiny.output, end="")

# %% [markdown]
# ## 6. The talk's demo, offline: a test bed of three workspaces
#
# GlideinWMS runs scientific jobs on computing resources all over the world. Three of its parts, each normally on
# its own host:
#
# - the **frontend** holds the users' jobs; when jobs wait, it asks the factory for *glideins*;
# - the **factory** submits glideins (pilot jobs) to the sites' **compute elements**;
# - the **CE** accepts them into its batch system; a glidein starts on a worker, fetches a user job from the
#   frontend, runs it and reports back.
#
# The talk's demo puts each part in a workspace container and tests them together. The replica here keeps that
# shape with small Python services (`apps/workspaces/common/testbed.py`), two per workspace, each run by
# supervisord: `gatekeeper` + `batch` on the CE, `factory` + `logserver` on the factory, `schedd` + `vofrontend` on
# the frontend. The frontend authenticates to the factory with a token that it writes into a shared volume.

# %%
print(TESTBED_FILE.read_text())

# %%
compose_graph(testbed, title="The test bed: three workspaces")

# %% [markdown]
# As in the talk, step one is `compose up -d`. The three images build in seconds: they are the base image plus a few
# `COPY` layers (cached after the first run). The file has no `depends_on`, so the three start **at once**: waiting
# for one workspace before starting the next would buy nothing, since supervisord running says nothing about the
# services (`startup.sh` starts them later, and each waits for the neighbour it needs). Each workspace's health check
# only tests that supervisord's control socket exists (`test -S`, no Python to start), and `--wait` returns once all
# three pass. Compose prints over a hundred lines (every build step); `Milestones` passes on one line per image,
# network, volume and container, and `app.last_output` keeps the whole output.

# %%
if lab.ready_for("engine", task="starting the test bed"):
    from containerlab.widgets.compose import ComposeGraphView

    app.down(volumes=True)

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", task="building and starting the workspaces"):
    started = time.perf_counter()
    app.up(progress=Milestones(app.name))
    print(f"up took {time.perf_counter() - started:.1f} s")

# %%
if lab.ready_for("engine", task="listing the workspaces"):
    for container in app.ps():
        print(f"{container.short_name:11} {container.state}, {container.health}")
    for workspace in ("ce", "factory", "frontend"):
        status = app.exec(workspace, ["supervisorctl", "status"], echo=False).output
        states = sorted({line.split()[1] for line in status.splitlines() if len(line.split()) > 1})
        print(f"{workspace:8} programs {', '.join(supervised_programs(status))}: {', '.join(states)}")

# %% [markdown]
# Nothing runs yet but supervisord: the programs are configured with `autostart=false`. Step two, as in the talk:
# `exec` each workspace's `startup.sh`, which does the per-host setup (the frontend makes its token), starts the
# services with `supervisorctl start` and checks that the neighbour it talks to answers. The talk types them one
# after the other; they can as well run **at once** (three terminals, or here three threads), because each script
# waits, up to 20 s, for the neighbour it needs. What each printed, in the talk's order:

# %%
if lab.ready_for("engine", task="running startup.sh in each workspace"):
    from concurrent.futures import ThreadPoolExecutor

    workspaces = ("ce", "factory", "frontend")
    with ThreadPoolExecutor(len(workspaces)) as pool:
        # not echoed as they start (three threads would print in any order): each command is shown with its output
        startups = pool.map(lambda workspace: app.exec(workspace, "/root/scripts/startup.sh", echo=False), workspaces)
    for startup in startups:
        print(f"$ {startup.command.shown}")
        print(startup.output, end="" if startup.ok else f"[exit {startup.exit_code}]\n")

# %% [markdown]
# Step three: the end-to-end test. `run-test.sh` submits a user job on the frontend and waits for it. For it to come
# back, the vofrontend must ask the factory for a glidein (with the right token), the factory must submit it to the
# CE's gatekeeper, the CE's batch system must start it, and the glidein must fetch the job from the frontend's schedd
# over the network, run it, and report back.

# %%
if lab.ready_for("engine", task="running the end-to-end test"):
    test_run = app.exec("frontend", "/root/scripts/run-test.sh")
    print(test_run.output, end="")
    print("run-test.sh exit code:", test_run.exit_code)

# %% [markdown]
# The factory's logs, served by its `logserver` program on the one port the test bed publishes (on 127.0.0.1):

# %%
if lab.ready_for("engine", task="reading the factory's log over HTTP"):
    log_port = next(c for c in app.ps() if c.service == "factory").host_port(8000)
    factory_log = urllib.request.urlopen(f"http://127.0.0.1:{log_port}/factory.log", timeout=5).read().decode()
    print("\n".join(line.split(" ", 1)[1] for line in factory_log.splitlines() if "submit" in line))

# %% [markdown]
# Typed: `$COMPOSE` is this machine's compose tool with the test bed's project name and files. `port` asks which host
# port the engine picked for the factory's 8000 (on 127.0.0.1, so the number varies):

# %% tags=["nbval-ignore-output"]
# !$COMPOSE port factory 8000

# %% [markdown]
# The test bed as a graph, with each workspace's state from the engine:

# %%
if lab.ready_for("engine", task="drawing the test bed with live status"):
    cl.show(ComposeGraphView(app, title="The test bed, live"))

# %% [markdown]
# ## Exercises
#
# **1.** What is PID 1 in the `ce` workspace? Set `ce_pid1` to its command name.

# %%
ce_pid1 = None  # your answer, e.g. "bash"
check_pid1(ce_pid1, app) if lab.ready_for("engine", task="exercise 1") else None

# %% [markdown]
# **2. Build it: a program that stays up.** Write the configuration of one more supervisord program, `notes`, for the
# `supervised` container of section 4: a `[program:notes]` section like those of `programs.conf`, whose command keeps
# running (say, a web server for `/usr/share/doc` on port 8081). Set `notes_program` to its text. The check writes it
# to `/etc/supervisor/conf.d/notes.conf` in the running container, runs `supervisorctl update` (supervisord rereads
# its configuration and starts what was added, without a restart) and watches `notes`: it must reach `RUNNING` and
# still run, with the same PID, three seconds later.

# %%
notes_program = None  # your answer: "[program:notes]\ncommand=...\n..."
check_program_stays_up(notes_program, supervised) if lab.ready_for("engine", task="exercise 2") else None

# %% [markdown]
# **3.** What does systemd need that a default container does not give it? Set `systemd_needs` to a set drawn from
# `SYSTEMD_NEEDS`.

# %%
print(SYSTEMD_NEEDS)
systemd_needs = None  # your answer, e.g. {"a network card"}
check_systemd_needs(systemd_needs)

# %% [markdown]
# **4. In a terminal: a workspace of your own.** Section 4 copied its `programs.conf` to `$WORK`. Open a terminal
# (*File › New › Terminal*), type the `source` line the cell below prints, then start a workspace `$LAB-mine` in the
# background from `containerlab/supervisor` (its own command: supervisord), with the course's limits and labels and
# `$WORK/programs.conf` mounted read-only at `/etc/supervisor/conf.d/programs.conf`. Look at its programs with
# `$ENGINE exec $LAB-mine supervisorctl status`, then **stop** `web` the same way. The check reads the engine's state
# and asks supervisord: is `web` stopped, and does `ticker` still run?

# %% tags=["nbval-ignore-output"]
print("in a terminal, type first:", app.cli_env().terminal_line)  # (re)writes $WORK/cli.env

# %%
check_stopped_on_purpose(lab, SUPERVISOR_IMAGE) if lab.ready_for("engine", task="exercise 4") else None

# %% [markdown]
# <details><summary>Solutions</summary>
#
# ```python
# check_pid1(app.exec("ce", "cat /proc/1/comm").output.strip(), app)      # supervisord
#
# notes_program = """
# [program:notes]
# command=python3 -m http.server 8081 --directory /usr/share/doc
# autorestart=true
# startsecs=1
# redirect_stderr=true
# stdout_logfile=/var/log/supervisor/%(program_name)s.log
# """
# check_program_stays_up(notes_program, supervised)
#
# check_systemd_needs({"to be PID 1", "to mount tmpfs on /run", "write access to its cgroups"})
# ```
# ```bash
# # 4. (in the terminal, after the source line)
# $ENGINE run -d --name $LAB-mine --memory 256m --pids-limit 256 $LABELS \
#     -v $WORK/programs.conf:/etc/supervisor/conf.d/programs.conf:ro containerlab/supervisor
# for try in 1 2 3 4 5 6 7 8 9 10; do   # supervisord needs a moment to start its programs
#     $ENGINE exec $LAB-mine supervisorctl status web | grep -q RUNNING && break; sleep 0.5
# done
# $ENGINE exec $LAB-mine supervisorctl stop web
# ```
# ```python
# check_stopped_on_purpose(lab, SUPERVISOR_IMAGE)
# ```
# Each workspace image ends with `CMD ["supervisord", "-n", ...]`, so supervisord is the first process (`-n`: stay
# in the foreground, as PID 1 must). A supervised program must run in the **foreground**: a command that forks
# into the background and exits (a daemon's default) looks to supervisord like a program that died, and it starts it
# again and again until it gives up (`FATAL`). `startsecs=1` is how long it must stay up to count as started.
# systemd refused to start because it could not mount a tmpfs on `/run`
# (no `CAP_SYS_ADMIN`); it also needs to be PID 1 and a writable cgroup tree. It runs on the host's kernel like
# every other process in a container.
# 4. A program stopped with `supervisorctl stop` stays `STOPPED`: `autorestart` is about programs that exit on their
#    own (section 4's kill). `$ENGINE exec` runs `supervisorctl` inside the workspace, where supervisord's socket is.
# </details>

# %% [markdown]
# ## References
#
# - The talk's workspaces: [Alnoda](https://alnoda.org/), [supervisord](http://supervisord.org/) ([configuration](http://supervisord.org/configuration.html)), the [docker-systemctl-replacement](https://github.com/gdraheim/docker-systemctl-replacement)
# - Docker's [running several processes in a container](https://docs.docker.com/engine/containers/multi-service_container/); systemd's [container interface](https://systemd.io/CONTAINER_INTERFACE/); Podman's [`--systemd`](https://docs.podman.io/en/latest/markdown/podman-run.1.html)
# - The GlideinWMS [documentation](https://glideinwms.fnal.gov/doc.prd/index.html), for what the replica's frontend, factory and CE stand for
# - The course's source: the talk *Playing with Containers* (Marco Mambelli, Fermilab, 2024) and its demo,
#   [glideinWMS/containers](https://github.com/glideinWMS/containers)
#   ([workspaces](https://github.com/glideinWMS/containers/tree/main/workspaces)).
# - HSF training: [Docker](https://hsf-training.github.io/hsf-training-docker/index.html) and
#   [Apptainer/Singularity](https://hsf-training.github.io/hsf-training-singularity-webpage/).

# %% [markdown]
# ## Clean up
#
# Takes the test bed down with its volume, then removes everything labelled with this lesson (the workspaces'
# images too; the base image `containerlab/supervisor` stays for next time) and the scratch directory.

# %%
if lab.ready_for("engine", task="taking the test bed down"):
    app.down(volumes=True)
    print("test bed containers left:", len(app.ps()))
print(lab.cleanup())
print("work directory removed:", remove_workdir(WORK))
