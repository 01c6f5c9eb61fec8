# %% [markdown]
# # 00 · Lab check
#
# **Objectives.** By the end of this notebook you will know
# - which container engine this machine has (Docker or Podman), and whether it runs *rootful* or *rootless*;
# - which cgroup version the kernel uses and whether it can mount overlay file systems;
# - that the course's two images exist, built **offline** from what this machine already has;
#
# and you will have run your first containers: from Python, and by typing the `docker` (or `podman`) command
# yourself, in a notebook cell and in a terminal. Run this notebook first on a new machine: every other lesson
# relies on it.
#
# > No engine here (for example on Binder)? Run it anyway: each cell says in one line what it
# > skips, and the checks that need no engine still run for real.

# %%
import containerlab as cl
from containerlab.course import check_cgroup_version, check_default_uid
from containerlab.course.lesson00 import check_first_container, check_greeter
from containerlab.engine.overlay import remove_workdir

lab = cl.Lab("00-lab-check", echo=True)  # echo: print the docker/podman command behind every action
cli = lab.cli_env()                      # $ENGINE, $LAB, $LABELS, $REPO, $WORK for the ! and %%bash cells
cli

# %% [markdown]
# ## What this machine has
#
# `cl.doctor()` asks the engine and the kernel the same questions as `python -m containerlab doctor`
# in a terminal. Each line is checked for real; a failure comes with what to do about it.
# (This cell's output differs from machine to machine, so the course's tests do not compare it.)
# On a rootless engine that cannot enforce resource limits (rootless Podman on cgroup v1, as on RHEL 8), the
# `limits` line is a warning: the course runs, its containers and builds run without limits, and the cells of
# lesson 03 that show a limit show the result recorded on a rootful engine instead.

# %% tags=["nbval-ignore-output"]
report = cl.doctor()
report

# %%
print("The course can run on this machine:", report.ok)

# %% [markdown]
# ## The lab images, built offline
#
# Workshop Wi-Fi is slow and Docker Hub limits how often a room full of people can pull. So the
# course builds its own images from this machine:
#
# | image | how it is built | size |
# |---|---|---|
# | `containerlab/busybox` | `FROM scratch` plus the host's static `busybox` binary, which provides `sh`, `ls`, `ps`, ... | about 2 MB |
# | `containerlab/debian` | `debootstrap --variant=minbase` with `python3`, imported with `docker import` | about 200 MB |
#
# `cl.setup()` builds whichever is missing and skips the rest (`python -m containerlab setup` does the same;
# `--force` rebuilds).

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", task="building the lab images"):
    for status in cl.setup():
        print(status)

# %% [markdown]
# ## Your first container
#
# `lab.run(image, command)` creates a container, starts it, waits for it to finish, collects what it
# printed and removes it: what `docker run --rm` does. The container gets the course's safe defaults
# (a memory limit and a process limit) and labels that let `python -m containerlab clean` find it.
# Every call first prints, after a `$`, the command a person would type for it (`docker` or `podman`,
# whichever this machine runs; the two CLIs take the same commands).

# %%
if lab.ready_for("engine", task="running a first container"):
    hello = lab.run("containerlab/busybox", ["echo", "hello from a container"])
    print(hello.output.strip(), "| exit code", hello.exit_code)

# %% [markdown]
# Now type it yourself. In a cell, `!` runs the rest of the line in a shell; the shell has the variables the
# first cell set: `$ENGINE` (docker or podman), `$LABELS` (the course's two `--label` flags, so that
# `clean` finds what you make) and `$LAB` (your own name prefix: several learners may share one engine).

# %%
# !$ENGINE run --rm --memory 256m --pids-limit 256 $LABELS containerlab/busybox echo hello from the command line

# %% [markdown]
# The two images hold different *user spaces*: busybox has one binary for every command (its `/bin/sh` is a link to
# it), Debian has a package manager, Python and a shell of its own (`dash`). Neither holds a kernel (notebook 01
# shows why).

# %%
if lab.ready_for("engine", task="looking inside the lab images"):
    for image in ("containerlab/busybox", "containerlab/debian"):
        probe = lab.run(image, ["sh", "-c", "command -v python3 >/dev/null && echo yes || echo no; readlink /bin/sh"])
        has_python, shell = probe.output.split()
        print(f"{image:21}  has python3: {has_python:3}  /bin/sh is a link to: {shell}")

# %% [markdown]
# The same question typed at the command line: `sh -c '...'` runs a small shell script inside the container.

# %%
# !$ENGINE run --rm --memory 256m --pids-limit 256 $LABELS containerlab/debian sh -c 'python3 --version; cat /etc/debian_version | cut -d. -f1'

# %% [markdown]
# ## Exercises
#
# **1.** Which user ID does a container's process get when neither the image nor the `run` asks for one?
# Find out with `lab.run("containerlab/busybox", "id -u")` and set `default_uid` to the number.

# %%
default_uid = None  # your answer
check_default_uid(default_uid)

# %% [markdown]
# **2.** Which cgroup version does this host use? Look at the file systems mounted under `/sys/fs/cgroup`
# (for example `grep cgroup /proc/self/mountinfo`): one `cgroup2` mount means `"v2"`, only `cgroup`
# controller mounts mean `"v1"`, both mean `"hybrid"`.

# %%
cgroup_version = None  # your answer: "v1", "v2" or "hybrid"
check_cgroup_version(cgroup_version)

# %% [markdown]
# **3. In a terminal.** Open one (*File › New › Terminal*) and type first the `source` line this cell prints: it
# sets `$ENGINE`, `$LAB` and `$LABELS` there too. Then start a busybox container named `$LAB-first` that runs
# `sleep 3600` **in the background** (`run -d`, with the limits and labels of the command above), and list it
# with `$ENGINE ps`. The check asks the engine whether it runs.

# %% tags=["nbval-ignore-output"]
print("in a terminal, type first:", cli.terminal_line)

# %%
check_first_container(lab) if lab.ready_for("engine", task="checking $LAB-first") else None

# %% [markdown]
# **4. Build it.** Make a container to order, in the `%%bash` cell below (or in the terminal). It must
# - be named `$LAB-greeter` and run `containerlab/busybox`, with the limits and `$LABELS` of the commands above;
# - carry one more label, `role=greeter` (`--label`), and the environment variable `GREETING=bonjour` (`--env`);
# - run `sh -c 'echo "$GREETING from $(hostname)"'`: a shell **inside** the container expands `$GREETING` and
#   asks for the container's hostname. Keep the single quotes, so that your own shell passes the text on unexpanded.
#
# Leave out `--rm`: the check reads what the engine recorded about the container (its labels, its environment, its
# exit code) and what it printed, which must be `bonjour from <the container's hostname>`.

# %% language="bash"
# # your command: $ENGINE run --name $LAB-greeter ...

# %%
check_greeter(lab) if lab.ready_for("engine", task="checking $LAB-greeter") else None

# %% [markdown]
# <details><summary>Solutions</summary>
#
# ```python
# default_uid = int(lab.run("containerlab/busybox", "id -u").output)   # 0: root inside
# check_default_uid(default_uid)
#
# from containerlab.kernel import read_mountinfo
# types = {m.fs_type for m in read_mountinfo() if m.mount_point.startswith("/sys/fs/cgroup")}
# print(types)   # {'cgroup2'} -> "v2"; {'cgroup', 'tmpfs'} -> "v1"; both -> "hybrid"
# check_cgroup_version(cl.kernel.read_cgroup_version())
# ```
# ```bash
# # 3. (in the terminal, after the source line)
# $ENGINE run -d --name $LAB-first --memory 256m --pids-limit 256 $LABELS containerlab/busybox sleep 3600
# $ENGINE ps --filter name=$LAB-first
# ```
# ```python
# check_first_container(lab)
# ```
# ```bash
# # 4. (in a %%bash cell or the terminal)
# $ENGINE run --name $LAB-greeter --label role=greeter --env GREETING=bonjour --memory 256m --pids-limit 256 $LABELS containerlab/busybox sh -c 'echo "$GREETING from $(hostname)"'
# ```
# ```python
# check_greeter(lab)
# ```
# Running as root inside is the engine's default; lesson 07 shows what *rootless* changes about it.
# `-d` (detached) gives the prompt back at once; the container runs on until `$ENGINE stop $LAB-first`, or the
# clean-up cell below removes it.
# `$LAB-greeter` printed its line and exited; an exited container stays, with its logs and the engine's record of
# it, until `$ENGINE rm $LAB-greeter` (or the clean-up below). Its hostname is the start of its ID: the engine's
# default when `run` gives none.
# </details>

# %% [markdown]
# ## References
#
# - The talk's engines: [Docker Engine](https://docs.docker.com/engine/) ([install](https://docs.docker.com/engine/install/),
#   [rootless mode](https://docs.docker.com/engine/security/rootless/)), [Podman](https://docs.podman.io/),
#   [Apptainer](https://apptainer.org/)
# - What the lab check reads: the kernel's [Control Group v2](https://docs.kernel.org/admin-guide/cgroup-v2.html) and
#   [cgroups(7)](https://man7.org/linux/man-pages/man7/cgroups.7.html); the
#   [Overlay Filesystem](https://docs.kernel.org/filesystems/overlayfs.html)
# - The course's source: the talk *Playing with Containers* (Marco Mambelli, Fermilab, 2024) and its demo,
#   [glideinWMS/containers](https://github.com/glideinWMS/containers)
#   ([workspaces](https://github.com/glideinWMS/containers/tree/main/workspaces)).
# - HSF training: [Docker](https://hsf-training.github.io/hsf-training-docker/index.html) and
#   [Apptainer/Singularity](https://hsf-training.github.io/hsf-training-singularity-webpage/).

# %% [markdown]
# ## Clean up
#
# Everything this notebook created carries its lesson's label; this removes it (re-running is safe).

# %%
print(lab.cleanup())
work_removed = remove_workdir(lab.workdir)  # $WORK, where cli.env waited for a terminal
