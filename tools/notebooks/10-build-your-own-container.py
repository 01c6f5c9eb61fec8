# %% [markdown]
# # 10 · Build your own container
#
# Every notebook so far took one ingredient apart: namespaces (02), cgroups (03), a root filesystem (04), the runtime
# that puts them together (07). Here you put them together yourself: a container runtime in plain Python, about a
# hundred lines, in `containerlab/runtime/tinyrun.py`.
#
# **Objectives.** You will
# - read a tiny runtime cell by cell: **new namespaces** (`unshare`), a **hostname**, a **cgroup with a memory
#   limit**, **`pivot_root`** into an exported busybox root filesystem, a fresh **`/proc`**, and **`exec`**;
# - run it and check its isolation for real: the command is **PID 1**, has its own hostname and network, and is
#   **killed when it allocates past its memory limit**;
# - compare its **namespace map** with a Docker container's;
# - do the same with the `docker` (or `podman`) CLI: each engine call prints its command, and you type the engine's
#   twin of the tiny container yourself, in a cell and in a terminal.

# %%
import inspect
import os

import containerlab as cl
from containerlab.course.lesson10 import (
    FORK_BOMB,
    PIDS_LIMIT,
    check_engine_twin,
    check_tiny_pids_limit,
    check_tiny_shares,
)
from containerlab.engine.overlay import export_rootfs, remove_workdir, reset_workdir, workdir_for
from containerlab.kernel.namespaces import compare_namespaces, read_namespaces
from containerlab.render.nsmap import namespace_map
from containerlab.runtime import tinyrun

lab = cl.Lab("10-build-your-own-container", echo=True)  # echo: print the docker/podman command behind each action
WORK = workdir_for(lab)  # this lesson's scratch directory in /tmp, removed by the clean-up cell
cli = lab.cli_env()      # $ENGINE, $LAB, $LABELS, $WORK for the ! and %%bash cells
rootfs = None            # filled in by section 1
comparison = None        # filled in by the namespace-map cell


def show(function) -> None:
    """Print a function of the tiny runtime, as it is in the package."""
    print(inspect.getsource(function))

# %% [markdown]
# ## 1. A root filesystem
#
# A container needs files to run. Export the busybox image into a plain directory, as in notebook 04.

# %%
if lab.ready_for("engine", "root", task="exporting the busybox root filesystem"):
    reset_workdir(WORK)
    rootfs = export_rootfs(lab, WORK / "rootfs", image="containerlab/busybox")
    print("rootfs:", " ".join(sorted(p for p in os.listdir(rootfs) if not p.startswith("."))))
    cli = lab.cli_env()  # (re)writes $WORK/cli.env: reset_workdir emptied $WORK

# %% [markdown]
# ## 2. The runtime, step by step
#
# Python 3.11 has no `os.unshare` (3.12 adds it), and nothing for `mount` or `pivot_root`, so the runtime calls the C
# library through `ctypes`. Each flag names one namespace type, exactly as in `man 2 unshare`:

# %%
print({name: hex(flag) for name, flag in tinyrun.NAMESPACES.items()})

# %% [markdown]
# **A cgroup with a memory limit.** A cgroup is a directory: make one, write the limit into a file. On cgroup v2
# the file is `memory.max`; on v1 (and on a hybrid host like this one) it is `memory.limit_in_bytes` in the memory
# hierarchy. Setting the swap limit too means the process cannot escape the limit by swapping.

# %%
show(tinyrun.make_cgroup)

# %% [markdown]
# **Into the cgroup and out of the host's namespaces.** Writing a PID to `cgroup.procs` moves that process into the
# cgroup; its children are born there. Then one `unshare` call leaves six namespaces. PID is special: the caller
# stays where it was, and its **next child** becomes PID 1 of the new PID namespace.

# %%
show(tinyrun.enter_namespaces)

# %% [markdown]
# **The root filesystem.** Make every mount private (so nothing propagates back to the host), bind-mount the rootfs on
# itself (`pivot_root` wants a mount point), give it a `/dev` with a few device nodes, swap roots, mount a `/proc` that
# belongs to the new PID namespace, and drop the old root. After this, the host's files are out of reach.

# %%
show(tinyrun.populate_dev)
show(tinyrun.enter_rootfs)

# %% [markdown]
# **PID 1.** In the child that is PID 1: set the hostname (in its own UTS namespace), switch root, and `exec` the
# command, which replaces the Python process and keeps its PID.

# %%
show(tinyrun.container_init)

# %% [markdown]
# **The whole run.** Fork a child that enters the namespaces, fork again for PID 1, wait, hand back its exit code like
# a shell does (128 + the signal when it was killed), and remove the cgroup. The notebook never forks itself: it runs
# `python -m containerlab.runtime.tinyrun` as a separate process, since forking a process with threads (Jupyter's kernel)
# is asking for trouble.

# %%
show(tinyrun.run)

# %% [markdown]
# ## 3. Run it
#
# Ask the container about itself: its PID, its hostname, its root directory, its network interfaces and the
# processes it can see.

# %%
LOOK_AROUND = "echo PID $$; hostname; ls /; ip -o link | cut -d: -f2; ps -o pid,comm"
if lab.ready_for("engine", "root", task="running a command in the tiny container"):
    done = tinyrun.run_tiny(rootfs, ["sh", "-c", LOOK_AROUND], hostname="tiny")
    print(done.stdout + done.stderr, end="")
    print("exit code:", done.returncode)

# %% [markdown]
# PID 1, the hostname `tiny`, busybox's files as `/`, only a loopback interface, and no process but its own.
# The host is untouched: its hostname is still its own, and the runtime removed its cgroup when the container ended.
#
# The engine does the same from flags. Typed: its own hostname (`--hostname`), no network but loopback
# (`--network none`), and PID 1. With `--pid host` the container stays in the host's PID namespace instead, and its
# shell's PID is the host's.

# %% language="bash"
# $ENGINE run --rm --hostname tiny --network none --memory 256m --pids-limit 256 $LABELS containerlab/busybox \
#     sh -c 'echo PID $$; hostname; ls /sys/class/net'
# $ENGINE run --rm --pid host --memory 256m --pids-limit 256 $LABELS containerlab/busybox \
#     sh -c '[ $$ -gt 1 ] && echo "with --pid host the shell is not PID 1: the host numbers it"'

# %%
if lab.ready_for("root", task="checking that the host is untouched"):
    print("the host's hostname is still not 'tiny':", os.uname().nodename != "tiny")
    print("cgroups the tiny runtime left behind:", len(tinyrun.leftover_cgroups()))

# %% [markdown]
# ## 4. The memory limit holds
#
# Give the container 32 MiB and let busybox's `tail` read `/dev/zero`: it keeps every byte while looking for a
# newline that never comes. A small read passes; a large one is killed by the kernel's OOM killer inside the cgroup,
# and the shell reports exit code 137 (128 + 9, `SIGKILL`). The tiny runtime needs root (it makes namespaces and
# writes cgroup files itself): without root, its cells say so and show the output recorded as root, marked as
# recorded, so the limit can be read here but not seen live.

# %%
HOG = "head -c 8m /dev/zero | tail > /dev/null; echo 8 MiB: exit $?; head -c 100m /dev/zero | tail > /dev/null; echo 100 MiB: exit $?"
if lab.ready_for("engine", "root", task="testing the tiny container's memory limit"):
    done = tinyrun.run_tiny(rootfs, ["sh", "-c", HOG], memory_bytes=32 << 20)
    print(done.stdout, end="")
    direct = tinyrun.run_tiny(rootfs, ["tail", "/dev/zero"], memory_bytes=32 << 20)
    print("tail /dev/zero as PID 1, exit code:", direct.returncode)

# %% [markdown]
# ## 5. Compared with a Docker container
#
# Start the tiny container in the background, and a default container through the engine, then read both
# processes' namespaces from `/proc/PID/ns` and draw the map (notebook 02): the same letter in a row means the same
# namespace. First the host and the tiny container:

# %%
TALKS_FIVE = ["pid", "net", "ipc", "mnt", "uts"]
if lab.ready_for("engine", "root", task="comparing the tiny container's namespaces with an engine container's"):
    tiny = tinyrun.TinyContainer(rootfs, ["sleep", "600"], WORK / "tiny.pid", hostname="tiny")
    engine_box = lab.start("containerlab/busybox", ["sleep", "600"], name="engine-box")
    try:
        comparison = compare_namespaces({"host": read_namespaces("self"), "tiny": read_namespaces(tiny.pid),
                                         "engine": read_namespaces(engine_box.pid)})
    finally:
        tiny.stop()
        engine_box.remove()
    cl.show(namespace_map(compare_namespaces({name: comparison.namespaces[name] for name in ("host", "tiny")}),
                          title="The host and the tiny container"))
    print("the tiny container has its own:", ", ".join(comparison.isolated("host", "tiny")))
    print("the engine's container has its own", ", ".join(TALKS_FIVE) + " too:",
          set(TALKS_FIVE) <= set(comparison.isolated("host", "engine")))

# %% [markdown]
# All three side by side. One row depends on the engine and the host: Docker gives its containers their own cgroup
# namespace (the course asks for it on every host), while Podman on a cgroup v1 host leaves them in the host's.

# %% tags=["nbval-ignore-output"]
if comparison is not None:
    cl.show(namespace_map(comparison, title="The host, the tiny container and an engine's container"))
    print(f"{lab.engine.name}'s container has its own cgroup namespace:", "cgroup" in comparison.isolated("host", "engine"))

# %% [markdown]
# The tiny runtime makes the talk's five namespaces plus a cgroup namespace, as the course's containers get them on
# Docker (notebook 02: every lab container starts with `--cgroupns private`), and neither makes a user or a time
# namespace. What it lacks is everything around them: an image store and overlay layers (it runs straight on the
# exported directory, so writes would change it), a network plugged into a bridge, dropped capabilities, seccomp
# and AppArmor profiles, a pids limit (exercise 2 adds one), masked `/proc` paths, logs, restart policies, and an
# API. That is the work of runc and the engine above it (notebook 07).

# %% [markdown]
# ## Exercises
#
# **1.** Which namespace **types** does the tiny container still **share with the host**? Set `tiny_shares` to a set of
# names such as `"pid"`, `"net"`, `"user"`. The check reads the answer off the real map of section 5.

# %%
tiny_shares = None  # your answer, e.g. {"pid"}
check_tiny_shares(tiny_shares, comparison) if comparison else print("Skipped: the namespace map cell did not run here.")

# %% [markdown]
# **2. Build it: a pids limit for the tiny runtime.** The runtime limits memory only, so a fork bomb in it would fill
# the host's process table. Give it a **pids limit**, as Docker's `--pids-limit` does (notebook 03, section 5).
#
# Write `limit_pids(group, limit)`: `group` is the cgroup directory `make_cgroup` made for a container (shown in
# section 2). Make the container's processes limited to `limit` by writing `pids.max`, and return the directory you
# wrote it in. On **cgroup v2** that is `group` itself (one directory holds every controller's files); on **v1** and
# on a **hybrid** host like this one the pids controller has a tree of its own: make
# `tinyrun.CGROUP_ROOT / "pids" / group.name` first. The runtime then joins every directory (`tinyrun.run(...,
# join=[...])`, `--join` on its command line).
#
# The check runs what you made, as root: it makes a cgroup, calls your function with `limit=20`, starts a harmless
# tiny container in the result and reads, **from the host**, the limit it really sits under. Only if that holds
# does it run this fork bomb in a tiny container and watch the kernel refuse its forks:

# %%
print(FORK_BOMB)

# %%
limit_pids = None  # your answer: def limit_pids(group, limit): ... (it replaces this None)
check_tiny_pids_limit(limit_pids, rootfs, WORK, PIDS_LIMIT) if lab.ready_for("root", task="exercise 2") else None

# %% [markdown]
# **3. In a terminal: the engine's twin.** Open one (*File › New › Terminal*), type the `source` line this cell
# prints, and make with `$ENGINE run` a container `$LAB-twin` that the tiny container of section 4 would recognise:
# busybox running `sleep 600` in the background, the hostname `tiny`, no network but loopback, and a 32 MiB memory
# limit (swap included), with the course's labels. The check reads the engine's record and asks the container.

# %% tags=["nbval-ignore-output"]
print("in a terminal, type first:", lab.cli_env().terminal_line)  # (re)writes $WORK/cli.env

# %%
check_engine_twin(lab) if lab.ready_for("engine", task="exercise 3") else None

# %% [markdown]
# <details><summary>Solutions</summary>
#
# ```python
# check_tiny_shares({"user", "time"}, comparison)
#
# def limit_pids(group, limit):
#     """Hold the processes of `group` (from tinyrun.make_cgroup) to `limit`; return the directory holding pids.max."""
#     if group.parent == tinyrun.CGROUP_ROOT:          # cgroup v2: one directory for every controller
#         pids_group = group
#     else:                                            # v1 and hybrid: the pids controller's own tree
#         pids_group = tinyrun.CGROUP_ROOT / "pids" / group.name
#         pids_group.mkdir()
#     (pids_group / "pids.max").write_text(str(limit))
#     return pids_group
#
# check_tiny_pids_limit(limit_pids, rootfs, WORK, PIDS_LIMIT)
# ```
# ```bash
# # 3. (in the terminal, after the source line)
# $ENGINE run -d --name $LAB-twin --memory 32m --pids-limit 256 $LABELS \
#     --memory-swap 32m --hostname tiny --network none containerlab/busybox sleep 600
# ```
# ```python
# check_engine_twin(lab)
# ```
# 1. `NAMESPACES` lists six types; the user and time namespaces stay the host's, as they do for a default Docker
#    container.
# 2. A limit is a file in a cgroup directory, and a process is held to it once its PID is in that directory's
#    `cgroup.procs`: the runtime writes its own PID there before `unshare`, so PID 1 and every process after it are
#    born inside. When the bomb reaches `pids.max`, `fork()` fails with `EAGAIN` ("can't fork: Resource temporarily
#    unavailable") and `pids.events` counts each refusal; the shell that is PID 1 exits after 3 s and the kernel
#    kills the rest of its PID namespace.
# 3. `--hostname` and `--network none` are the UTS and network namespaces the tiny runtime makes with `unshare`;
#    `--memory 32m --memory-swap 32m` writes the same two cgroup files as `make_cgroup`. The engine adds all the rest
#    (an image store, capabilities, seccomp, logs) that section 5 lists.
# </details>

# %% [markdown]
# ## References
#
# - The talk, *Playing with Containers* (Marco Mambelli, Fermilab, 2024): "Container abstraction" —
#   [container 101](https://q15928.github.io/2021/01/09/container-101/); its demo's
#   [glideinWMS/containers](https://github.com/glideinWMS/containers).
# - Linux manual pages: [namespaces(7)](https://man7.org/linux/man-pages/man7/namespaces.7.html),
#   [unshare(2)](https://man7.org/linux/man-pages/man2/unshare.2.html),
#   [pivot_root(2)](https://man7.org/linux/man-pages/man2/pivot_root.2.html),
#   [mount_namespaces(7)](https://man7.org/linux/man-pages/man7/mount_namespaces.7.html),
#   [cgroups(7)](https://man7.org/linux/man-pages/man7/cgroups.7.html).
# - The kernel's documentation: [Control Group v2](https://docs.kernel.org/admin-guide/cgroup-v2.html), the v1
#   [pids](https://docs.kernel.org/admin-guide/cgroup-v1/pids.html) and
#   [memory](https://docs.kernel.org/admin-guide/cgroup-v1/memory.html) controllers.
# - The OCI [runtime specification](https://github.com/opencontainers/runtime-spec/blob/main/spec.md), what runc
#   implements with all the parts this runtime leaves out; [runc](https://github.com/opencontainers/runc).
# - HSF training: [Docker](https://hsf-training.github.io/hsf-training-docker/index.html) and
#   [Apptainer/Singularity](https://hsf-training.github.io/hsf-training-singularity-webpage/).

# %% [markdown]
# ## Clean up
#
# Removes the engine container and the work directory (the exported root filesystem); the tiny runtime removes its
# own cgroups.

# %%
print(lab.cleanup())
print("work directory removed:", remove_workdir(WORK))
print("cgroups left behind by the tiny runtime:", len(tinyrun.leftover_cgroups()))
