# %% [markdown]
# # 07 · Runtimes and engines
#
# The talk calls a container runtime *software that knows how to leverage specific features on a supported
# operating system to run the containers*, and splits them in two. **High level**: Docker engine, Podman, CRI-O,
# Apptainer/Singularity. **Low level**: runc (the Open Container Initiative's reference), crun, runhcs, containerd.
# This notebook runs the same container through each layer of that stack.
#
# **Objectives.** You will
# - make an **OCI bundle** by hand (a root filesystem and a `config.json`), edit the config from Python and run it
#   with **runc**, with no daemon at all;
# - measure the **start-up time** of the same container through docker, podman, runc and plain `unshare`: the cost
#   of each layer;
# - see what makes **Podman** different: **daemonless** (the container's parent is `conmon`), **rootless** (root inside
#   is an ordinary user outside), **Docker-CLI compatible**;
# - know where **Apptainer**, **Docker Desktop's licence** and **Colima** fit.

# %%
import shutil

import containerlab as cl
from containerlab.course.lesson07 import check_exercise_spec, check_low_level, check_monitor, check_rootless_root
from containerlab.engine.runtimes import (
    RUNTIMES,
    cleanup_runtimes,
    id_prefix,
    make_bundle,
    measure_startup,
    ordinary_user,
    parent_chain,
    podman,
    podman_ready,
    podman_remove_lab,
    podman_start,
    rootless_podman,
    run_bundle,
    runtime_containers,
    runtime_path,
    runtime_version,
)
from containerlab.kernel.cgroups import read_cgroup_version
from containerlab.render.bars import Bar, bar_chart
from containerlab.runtime.spec import edit_spec, parse_id_map, spec_changes, spec_summary

lab = cl.Lab("07-runtimes", echo=True)  # echo: print the docker/podman command behind every action
cli = lab.cli_env()                     # $ENGINE, $LAB, $LABELS, $REPO, $WORK for the ! and %%bash cells
uid_map = None  # filled in by the rootless cell

# %% tags=["nbval-ignore-output"]
print("engine:", lab.engine.summary() if lab.available else f"none ({lab.why_unavailable})")
for name in (*RUNTIMES, "podman", "conmon"):
    print(f"{name:7} {runtime_version(name) or 'not installed'}")

# %% [markdown]
# ## 1. High level and low level
#
# A **high-level engine** deals with images and people: it pulls and builds images, keeps a catalogue of containers,
# names, networks and volumes, and offers a CLI or an API. When it is time to *create* a container it unpacks the
# image into a directory and hands that to a **low-level runtime**, which makes the namespaces and the cgroup,
# switches the root filesystem, and execs the process. On this machine:
#
# | layer | Docker | Podman |
# |---|---|---|
# | what you type | `docker` CLI | `podman` CLI |
# | long-running service | `dockerd`, then `containerd` | none (an optional API service) |
# | per-container monitor | `containerd-shim-runc-v2` | `conmon` |
# | low-level runtime | runc | runc or crun |
#
# The rule of thumb this lesson uses: a **low-level runtime is handed a bundle and never sees an image**. By that
# rule **containerd** is high-level: it pulls and stores images, keeps a catalogue of containers and unpacks an
# image into a bundle for runc (its own small CLI, `ctr`, can pull and run one). Docker delegates that work to
# it, and Kubernetes uses it (or **CRI-O**, which does the same job) through its Container Runtime Interface. The
# talk lists containerd with the low-level runtimes because of where it sits: below Docker.

# %%
for tool in ("docker", "dockerd", "containerd", "podman", "conmon", "runc"):
    print(f"{tool:11} installed here: {runtime_path(tool) is not None}")

# %% [markdown]
# ## 2. An OCI bundle, by hand
#
# The Open Container Initiative's runtime spec says what a runtime is handed: a **bundle**, a directory holding a
# root filesystem and a `config.json`. Make one from the busybox image: export its files (as in notebook 04) and let
# `runc spec` write a template config. runc needs root to make the namespaces and the cgroup with its memory limit:
# without root, the cells of this section and the next say so and show the output recorded as root, marked as
# recorded.

# %%
if lab.ready_for("engine", "root", task="making an OCI bundle from the busybox image"):
    bundle = make_bundle(lab)
    template = bundle.read_spec()
    print("bundle holds:", " ".join(sorted(p.name for p in bundle.path.iterdir())))
    print("rootfs holds:", " ".join(sorted(p.name for p in bundle.rootfs.iterdir() if not p.name.startswith("."))))
    print("\n".join(spec_summary(template)))

# %% [markdown]
# The template runs `sh` with a terminal. Edit it from Python, the way an engine does: the command, a hostname, a
# read-only root, the namespaces to create, and a memory limit that runc writes into a new cgroup.
# (`edit_spec` returns a new dict; `spec_changes` lists what differs.)

# %%
PROBE = ["sh", "-c", "echo PID $$ on $(hostname); touch /probe 2>&1; "
                     "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null; true"]
if lab.ready_for("engine", "root", task="editing config.json"):
    spec = edit_spec(template, args=PROBE, hostname="bundle", readonly=True, terminal=False,
                     namespaces=["pid", "network", "ipc", "uts", "mount"], memory="32m")
    bundle.write_spec(spec)
    print("\n".join(spec_changes(template, spec)))

# %% [markdown]
# Now run it. `runc run` is an ordinary program: this notebook starts it as a child process, it creates the
# container, waits for it and exits. No daemon is involved, and the container is gone when its process ends
# (`runc delete` in a `finally` makes sure).

# %%
if lab.ready_for("engine", "root", task="running the bundle with runc"):
    result = run_bundle(lab, bundle, label="probe")
    print(result.output, end="")
    print("exit code:", result.exit_code)
    print("runc containers left behind:", len(runtime_containers("runc", id_prefix(lab))))

# %% [markdown]
# Type it yourself: the bundle is in `$WORK/bundle`, and the last word of `runc run` is the container's ID (any name
# no other container uses). `runc` is no engine: it has no `--memory` flag and no labels; everything is in
# `config.json`.

# %% language="bash"
# if [ -f $WORK/bundle/config.json ] && command -v runc >/dev/null; then
#     runc run --bundle $WORK/bundle $LAB-typed
#     runc delete --force $LAB-typed 2>/dev/null || true
# else
#     echo "no bundle or no runc here: the cells above said why"
# fi

# %% [markdown]
# The process was PID 1 of its own PID namespace, had the hostname from `config.json`, could not write to its
# read-only root, and its cgroup held the 32 MiB limit (33554432 bytes). That is all a container is, to a runtime.
#
# **crun** is a second implementation of the same spec, written in C instead of Go: smaller and quicker to start.
# It takes the same bundle. Whether it runs it depends on the host's cgroups: crun refuses a **hybrid** host, one
# that mounts the cgroup v1 controllers and a cgroup2 tree beside them, when that cgroup2 tree still holds a
# controller (on this course's CI machines, Debian 12 hosts, it holds `hugetlb`). runc copes by using only the v1
# files; crun asks for every controller to be dropped from cgroup v2 ("drop all controllers from cgroupv2") and
# stops before making the container. On a host with only v1 or only v2 hierarchies it runs the bundle like runc.
# The first line says what happened on this host (the course's tests compare the rest):

# %%
if runtime_path("crun") is None:
    print("crun is not installed here (sudo apt-get install crun), so there is nothing to compare.")
elif lab.ready_for("engine", "root", task="running the bundle with crun"):
    crun_result = run_bundle(lab, bundle, runtime="crun", label="probe-crun")
    said = crun_result.output.strip().splitlines()[-1] if crun_result.output.strip() else "nothing"
    verdict = "ran it, as runc did" if crun_result.ok else f"refused it: {said}"
    print(f"crun's verdict on this host: {verdict} (exit code {crun_result.exit_code})")
    refused_for_hybrid = not crun_result.ok and read_cgroup_version() == "hybrid" and "hybrid" in said
    print("crun ran the bundle, or refused only because this host's cgroups are hybrid:",
          crun_result.ok or refused_for_hybrid)

# %% [markdown]
# ## 3. The cost of each layer
#
# Start the same busybox container, running `true`, through four stacks, and take the median of three runs each:
# `docker run --rm` (CLI, daemon, containerd, shim, runc), `podman run --rm` (CLI, conmon, runc), `runc run` on the
# bundle, and `unshare` making five namespaces with no image, cgroup or root switch at all.
# (Podman keeps its own image store: the image is copied into it first if it is missing.)

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", "root", task="timing the start-up of the same container four ways"):
    timings, skipped = measure_startup(lab, bundle, runs=3)
    for line in skipped:
        print("skipped", line)
    cl.show(bar_chart([Bar(t.label, t.median, t.detail) for t in timings],
                      title="Start-up of the same busybox container (median of 3)",
                      note="Measured live on this machine: the numbers change from run to run, the order hardly."))

# %%
if lab.ready_for("engine", "root", task="comparing the timings"):
    median = {t.label: t.median for t in timings}
    engines = [median[name] for name in ("docker", "podman") if name in median]
    print("at least one engine measured:", bool(engines))
    print("runc alone is faster than every engine measured:", all(median["runc"] < e for e in engines))
    print("plain unshare is faster than runc:", median["unshare"] < median["runc"])

# %% [markdown]
# Most of an engine's start-up is bookkeeping around runc: API calls, image and layer lookups, mounting the overlay,
# networking, the shim or conmon, logging. runc's own share is setting up namespaces, the cgroup and the root
# filesystem, and `unshare` alone shows what the namespaces cost: almost nothing.

# %% [markdown]
# ## 4. Podman: daemonless, rootless, Docker-compatible
#
# **Daemonless.** `podman run --detach` starts a container and exits. No service keeps it: its parent on the host is
# `conmon`, a small monitor that holds its output and exit code, and the podman command that made it is gone.
# (A Docker container's parent is `containerd-shim-runc-v2`, itself run on behalf of `containerd` and `dockerd`.)

# %%
if not podman_ready():
    print("Podman is not installed here (sudo apt-get install podman), so this part has nothing to run.")
elif lab.ready_for("engine", "root", task="starting a container with the podman CLI"):
    name = podman_start(lab, "daemonless", ["sleep", "600"])
    try:
        pid = int(podman(["inspect", "--format", "{{.State.Pid}}", name]).stdout)
        parents = parent_chain(pid)
        print("podman run --detach has returned; the container is running:",
              podman(["inspect", "--format", "{{.State.Running}}", name]).stdout.decode().strip() == "true")
        print("the container's parent process:", parents[0])
        print("a podman process is among its ancestors:", "podman" in parents)
    finally:
        podman(["rm", "--force", "--time", "0", name])  # sleep ignores SIGTERM as PID 1: do not wait 10 s for it

# %% [markdown]
# **Docker-CLI compatible.** Podman takes Docker's command line, and it serves Docker's REST API too (`podman system
# service`): this course runs every notebook through it with `CONTAINERLAB_ENGINE=podman`. The same command through
# both CLIs:

# %%
SAME = ["run", "--rm", "--network=none", "--memory=64m", "--pids-limit=64", "containerlab/busybox", "sh", "-c", "echo hello from busybox; id -u; uname -s"]
if not podman_ready() or shutil.which("docker") is None:
    print("This comparison needs both the docker and the podman CLI; one is missing here.")
elif lab.ready_for("engine", "root", task="running one command line through docker and podman"):
    import subprocess
    outputs = {cli: subprocess.run([cli, *SAME], capture_output=True, text=True, timeout=60).stdout
               for cli in ("docker", "podman")}
    print(outputs["podman"], end="")
    print("docker and podman print the same:", outputs["docker"] == outputs["podman"])

# %% [markdown]
# **Rootless.** An ordinary user can run containers with Podman. The kernel's **user namespace** maps uid 0 inside
# to that user's own uid outside, and uids 1 to 65535 to a range set aside for the user in `/etc/subuid`. Root in
# the container can do nothing on the host that the user could not. Here the course's ordinary user `clabuser`
# runs a container (`./lab test` creates that user; as an ordinary user yourself you would just type `podman run`):

# %% tags=["nbval-ignore-output"]
user = ordinary_user()
if not podman_ready():
    print("Podman is not installed here, so there is no rootless container to show.")
elif user is None:
    print("There is no ordinary user with subordinate uids here: create one with 'sudo useradd -m clabuser'.")
elif lab.ready_for("engine", "root", task="running rootless Podman as an ordinary user"):
    uid_map = rootless_podman(lab, ["cat", "/proc/self/uid_map"], user)
    print(f"/proc/self/uid_map inside {user}'s container:\n{uid_map}", end="")

# %%
if uid_map:
    import pwd
    first = parse_id_map(uid_map)[0]
    print("root inside is", user, "outside:", first.to_host(0) == pwd.getpwnam(user).pw_uid)
    print("only one uid maps to the user itself:", first.count == 1)
    print("uids 1 and up map into the user's subordinate range:", len(parse_id_map(uid_map)) > 1)
else:
    print("The rootless cell did not run here, so there is no uid map to read.")

# %% [markdown]
# ## 5. Apptainer (Singularity)
#
# Apptainer, the Linux Foundation fork of Singularity (Sylabs keeps SingularityCE and Pro), is built for HPC and
# science: **daemonless and rootless**, the **same user inside and outside** the container (no root at all), images
# as one read-only **SIF** file you copy like any other, the home directory and working directory **bound in**, and
# almost no overhead: after setting up it simply `execv()`s your program. Where it is installed, this builds a SIF
# from the busybox image archive and compares the user inside and out.

# %%
apptainer = shutil.which("apptainer") or shutil.which("singularity")
if apptainer is None:
    print("Apptainer/Singularity is not installed on this machine, so there is nothing to run here.")
elif lab.ready_for("engine", "root", task="building a SIF from the busybox image"):
    from containerlab.engine.runtimes import apptainer_demo
    for line in apptainer_demo(lab, apptainer, ordinary_user()):
        print(line)

# %% [markdown]
# ## 6. Docker Desktop's licence, and Colima on a Mac
#
# Docker Engine and its CLI are open source (Apache 2.0). **Docker Desktop**, the app that bundles them with a VM for
# Mac and Windows, is free for personal use, education, open-source projects and small companies, but **larger
# enterprises (more than 250 employees or more than 10 million USD in revenue) need a paid subscription** for it.
#
# A Mac has no Linux kernel, so every container runs in a Linux VM anyway. **Colima** ("containers on Lima", Linux
# VMs on a Mac) is a free way to get one: install `colima` and the `docker` (and/or `podman`) CLI with Homebrew,
# `colima start`, and the CLI talks to the engine in the VM. All from the command line, with several runtimes
# (Docker-compatible by default, containerd as an option) and both arm64 and amd64 VMs. Podman does the same with
# `podman machine`.

# %% [markdown]
# ## Exercises
#
# **1.** By the rule of section 1 (a **low-level** runtime is handed a bundle and makes the container; whatever pulls
# or stores images, or keeps a catalogue of containers, is **high-level**), which of these are low-level? Set
# `low_level` to a set drawn from `"docker engine"`, `"podman"`, `"cri-o"`, `"apptainer"`, `"runc"`, `"crun"`,
# `"containerd"`. (The talk's slide sorts them by where they sit; sort them by what they do.)

# %%
low_level = None  # your answer, e.g. {"runc"}
check_low_level(low_level)

# %% [markdown]
# **2.** Starting from `template`, make a spec whose container **prints its hostname, `exercise`**, and **shares the
# host's network** (no network namespace of its own). Set `exercise_spec`; if you have root, run it with
# `bundle.write_spec(exercise_spec); run_bundle(lab, bundle)` and look at the output.

# %%
exercise_spec = None  # your answer: edit_spec(template, ...)
check_exercise_spec(exercise_spec)

# %% [markdown]
# **3.** In the rootless container of section 4, root inside is which **uid on the host**? Set `root_outside`.

# %%
root_outside = None  # your answer: a whole number
check_rootless_root(root_outside, uid_map) if uid_map else print("Skipped: the rootless cell did not run here.")

# %% [markdown]
# **4. In a terminal: who holds your container?** Open one (*File › New › Terminal*) and type the `source` line this
# cell prints. Start a busybox container `$LAB-monitored` in the background (`sleep 3600`, with the limits and labels
# of the commands above), find its first process's host PID with `$ENGINE inspect --format '{{.State.Pid}}'`, and
# name that process's **parent** with `ps` (`ps -o ppid= -p PID` gives the parent's PID, `ps -o comm= -p PID` a
# process's name). Set `monitor` to the name.

# %% tags=["nbval-ignore-output"]
print("in a terminal, type first:", lab.cli_env().terminal_line)  # (re)writes $WORK/cli.env

# %%
monitor = None  # your answer: a process name
check_monitor(lab, monitor) if lab.ready_for("engine", task="exercise 4") else None

# %% [markdown]
# <details><summary>Solutions</summary>
#
# ```python
# check_low_level({"runc", "crun"})
#
# exercise_spec = edit_spec(template, args=["hostname"], hostname="exercise",
#                           namespaces=["pid", "ipc", "uts", "mount"])
# check_exercise_spec(exercise_spec)
#
# check_rootless_root(parse_id_map(uid_map)[0].outside, uid_map)
# ```
# ```bash
# # 4. (in the terminal, after the source line)
# $ENGINE run -d --name $LAB-monitored --memory 256m --pids-limit 256 $LABELS containerlab/busybox sleep 3600
# pid=$($ENGINE inspect --format '{{.State.Pid}}' $LAB-monitored)
# ps -o comm= -p $(ps -o ppid= -p $pid)
# ```
# ```python
# check_monitor(lab, "conmon" if lab.engine.is_podman else "containerd-shim")
# ```
# 1. runc and crun are handed a bundle and make the container; everything else handles images. Docker engine,
#    Podman, CRI-O and Apptainer manage images and hand bundles to runc or crun; containerd does the same for Docker
#    (and Kubernetes), so by the rule it is high-level too, although the talk lists it as low-level for sitting
#    below Docker.
# 2. A runtime only creates the namespaces listed in `config.json`: leave out `network` and the container stays in
#    the host's network namespace, as `--network=host` does.
# 3. Root in a rootless container is the first line of its `uid_map`: inside 0, outside the user's own uid, count 1.
# 4. Docker's containers are children of `containerd-shim-runc-v2` (`ps` shows the first 15 characters of a name,
#    `containerd-shim`), Podman's of `conmon`: a small monitor per container, so that neither the engine's CLI nor
#    its daemon has to stay up for the container to run.
# </details>

# %% [markdown]
# ## References
#
# - The talk's runtimes: [Docker Engine](https://docs.docker.com/engine/), [Podman](https://docs.podman.io/) ([a drop-in replacement?](https://mydeveloperplanet.com/2023/05/24/is-podman-a-drop-in-replacement-for-docker/)), [Apptainer](https://apptainer.org/), [Sylabs Singularity](https://sylabs.io/)
# - The OCI [runtime specification](https://github.com/opencontainers/runtime-spec/blob/main/spec.md) and its [config.json](https://github.com/opencontainers/runtime-spec/blob/main/config.md); [runc](https://github.com/opencontainers/runc), [crun](https://github.com/containers/crun), [containerd](https://containerd.io/), [CRI-O](https://cri-o.io/)
# - Rootless: [user_namespaces(7)](https://man7.org/linux/man-pages/man7/user_namespaces.7.html), [subuid(5)](https://man7.org/linux/man-pages/man5/subuid.5.html), Podman's [rootless tutorial](https://github.com/containers/podman/blob/main/docs/tutorials/rootless_tutorial.md)
# - Docker Desktop's [licence FAQ](https://www.docker.com/pricing/faq/); [Colima](https://github.com/abiosoft/colima)
# - The course's source: the talk *Playing with Containers* (Marco Mambelli, Fermilab, 2024) and its demo,
#   [glideinWMS/containers](https://github.com/glideinWMS/containers)
#   ([workspaces](https://github.com/glideinWMS/containers/tree/main/workspaces)).
# - HSF training: [Docker](https://hsf-training.github.io/hsf-training-docker/index.html) and
#   [Apptainer/Singularity](https://hsf-training.github.io/hsf-training-singularity-webpage/).

# %% [markdown]
# ## Clean up
#
# Removes the lesson's containers (the engine's, Podman's and runc's) and the bundle.

# %%
print(lab.cleanup())
print("podman containers removed:", podman_remove_lab(lab) + (podman_remove_lab(lab, user) if user else 0))
print("runc/crun containers deleted:", cleanup_runtimes(lab))
