# %% [markdown]
# # 03 · cgroups: how much a container may use
#
# Namespaces decide what a process can *see*. The talk's second ingredient decides how much it can *use*:
# **"Resource limitation with cgroup (2008, P Menage and R Seth)"**. A control group (cgroup) is a set of
# processes that the kernel accounts for together and can hold to limits: memory, CPU time, number of processes,
# I/O. A container engine makes one cgroup per container and writes the limits you ask for (`-m`, `--cpus`,
# `--pids-limit`) into its files. This notebook reads those files while real containers push against the limits.
#
# **Objectives.** You will
# - find a container's cgroup from the host through its PID and read its limits from the kernel's files;
# - watch the **OOM killer** end a container that outgrows its memory limit (`OOMKilled`, exit code 137);
# - measure a **CPU quota** at work: a busy loop held to half a CPU, and the periods in which it was throttled;
# - contain a **fork bomb** with a pids limit while the host carries on;
# - plot a container's memory and CPU use **live** from the cgroup files;
# - tell the **cgroup v1** and **v2** file names apart, and what a **hybrid** host is;
# - set the same limits yourself with `docker run` (or `podman run`) flags: each Python call prints the command it
#   stands for.
#
# > **Rootless engine on cgroup v1** (rootless Podman on RHEL/Alma/Rocky 8, or on any host that still mounts the
# > v1 hierarchies)? The kernel lets an ordinary user's engine set no limits there, so there is nothing to measure:
# > the cells that show a limit say so in one line and show the result recorded on a rootful engine, marked as
# > recorded (never as if it ran on your machine), and the fork bomb is not run at all. Section 2 and "No engine?"
# > run everywhere. To see every limit live, use a rootful engine or the course box.

# %%
import subprocess
import time

import containerlab as cl
from containerlab.course.lesson03 import (
    check_capped,
    check_oom_exit_code,
    check_quarter_cpu,
    check_v2_file,
    describe_limits,
    files_table,
)
from containerlab.engine.cgroups import (
    container_cgroup_dirs,
    container_stats,
    exec_after_oom,
    wait_for_exit,
    watch_cgroup,
)
from containerlab.engine.overlay import remove_workdir
from containerlab.kernel.cgroups import (
    average_cpus,
    read_cgroup_version,
    read_controller_versions,
    read_pid_cgroup_stats,
    read_proc_cgroup,
)
from containerlab.widgets.usage import watch_usage

lab = cl.Lab("03-cgroups", echo=True)  # echo: print the docker/podman command behind every action
cli = lab.cli_env()                    # $ENGINE, $LAB, $LABELS, ... for the ! and %%bash cells
MIB = 2**20

# %% tags=["nbval-ignore-output"]
print("engine:", lab.engine.summary() if lab.available else f"none ({lab.why_unavailable})")
print("cgroup version of this machine:", read_cgroup_version())

# %% [markdown]
# ## 1. A container's cgroup is a directory on the host
#
# cgroups are managed through a file system mounted under `/sys/fs/cgroup`: a cgroup is a directory, its limits
# and counters are files in it, and `/proc/PID/cgroup` says which cgroup a process belongs to. Start a container
# with a 64 MiB memory limit and a limit of 50 processes, find its cgroup from its host PID, and read the limits
# back from the kernel, not from the engine.

# %%
if lab.ready_for("engine", "memory", "pids", task="reading a container's cgroup from the host"):
    sleeper = lab.start("containerlab/busybox", ["sleep", "3600"], name="sleeper", mem_limit="64m", pids_limit=50)
    dirs = container_cgroup_dirs(sleeper)
    # Just after the start the runtime's own helper may still be counted in the cgroup for a moment.
    stats = watch_cgroup(sleeper, until=lambda s: s.pids_current == 1, timeout=5)
    print("its cgroup directories are named after the container ID:",
          all(sleeper.id in directory for directory in [dirs.v2, *dirs.v1.values()] if directory))
    print("memory limit in the cgroup:", stats.memory_limit // MIB, "MiB (asked for mem_limit='64m')")
    print("pids limit in the cgroup:", stats.pids_max, "| processes in it now:", stats.pids_current)
    print("CPU quota:", "none, it may use every CPU" if stats.cpus is None else f"{stats.cpus:g} CPU")

# %% [markdown]
# The engine keeps its own record of what was asked; `inspect --format` reads it (Go templates go in `%%bash`
# cells). `--memory-swap` equal to `--memory` means no swap on top.

# %% language="bash"
# $ENGINE inspect --format 'memory={{.HostConfig.Memory}} swap={{.HostConfig.MemorySwap}} pids={{.HostConfig.PidsLimit}}' $LAB-sleeper \
#     || echo 'no $LAB-sleeper: the cell above did not start it'

# %% [markdown]
# Where did those numbers come from? Each value names the file it was read from (the paths depend on the host's
# cgroup version and the engine's cgroup driver, so your paths may differ):

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", "memory", "pids", task="listing the cgroup files behind each value"):
    for quantity in ("memory_limit", "memory_usage", "pids_max", "pids_current", "cpu_quota_usec",
                     "cpu_usage_usec"):
        source = stats.sources.get(quantity, "(no such file)")
        print(f"{quantity:15} {getattr(stats, quantity)!s:>10}  <- {source}")

# %% [markdown]
# ## 2. cgroup v1, v2 and hybrid: same questions, different files
#
# cgroups came in 2008 as **v1**: one hierarchy (one mount under `/sys/fs/cgroup`) per controller — `memory`,
# `cpu`, `cpuacct`, `pids`, ... — each with its own tree of directories. **v2** (Linux 4.5, 2016; the default of
# current distributions) has a single unified hierarchy: one directory per cgroup holds the files of every
# controller, with shorter, consistent names. The quantities are the same; the files differ:

# %% tags=["nbval-ignore-output"]
version = read_cgroup_version()
print(f"this machine: cgroup {version}" + (" (its engine uses the v1 files)" if version == "hybrid" else ""))
print()
print(files_table(version))
print()
split = read_controller_versions()
for hierarchy in ("v1", "v2"):
    names = [controller for controller, where in split.items() if where == hierarchy]
    print(f"controllers in the {hierarchy} hierarchy: {', '.join(names) or 'none'}")

# %% [markdown]
# A **hybrid** host (systemd's default for a few years, e.g. Debian 10 and Ubuntu 20.04) mounts both: the v1
# controllers as before, and a v2 hierarchy at `/sys/fs/cgroup/unified`. A controller can be attached to only one
# hierarchy at a time, so every controller the v1 mounts hold is missing from v2; the v2 side tracks processes
# (systemd uses it for that) and holds at most the controllers v1 left free. Engines then limit containers through
# the **v1** files, which is why the table marks v1 on a hybrid host. The code in this course reads whichever
# files a host has and returns the same model, so the cells below print the same on v1, v2 and hybrid hosts.
#
# Two conversions hide in the table: v1 counts CPU time in nanoseconds (`cpuacct.usage`), v2 in microseconds
# (`usage_usec`); and "no limit" is `max` in v2 but a huge number (or `-1` for CPU) in v1.

# %% [markdown]
# ## 3. The memory limit and the OOM killer
#
# A process in a cgroup cannot use more memory than the cgroup's limit. When it asks for more and the kernel cannot
# reclaim any (no cache to drop; the Lab sets swap to the same limit, so there is no swap either), the kernel's
# **OOM killer** picks a process in that cgroup and kills it with `SIGKILL`. The rest of the host is untouched.
#
# The container below is limited to 32 MiB; its `python3` tries to hold 400 MiB. Its shell waits after python dies,
# because the engine deletes a container's cgroup as soon as the container's last process exits, and we want to
# read the cgroup's OOM counter first. Then the shell exits with python's status.

# %%
OOM_SCRIPT = """
python3 -c "hog = [b'x' * 2**22 for _ in range(100)]"   # 100 pieces of 4 MiB
status=$?                                           # 137 when the kernel killed python
until [ -e /tmp/done ]; do sleep 0.05; done         # keep the cgroup until we have read it
exit $status
"""
if lab.ready_for("engine", "memory", task="watching the OOM killer in a container limited to 32 MiB"):
    hog = lab.start("containerlab/debian", ["sh", "-c", OOM_SCRIPT], name="hog", mem_limit="32m")
    stats = watch_cgroup(hog, until=lambda s: bool(s.oom_kills))   # re-read the files until an OOM kill shows
    print("memory limit in the cgroup:", stats.memory_limit // MIB, "MiB")
    print("the cgroup counted an OOM kill (oom_kill >= 1):", (stats.oom_kills or 0) >= 1)
    exec_after_oom(hog, ["touch", "/tmp/done"])  # retried: just after a kill even `touch` can be OOM-killed (137)
    ended = wait_for_exit(hog)
    print("docker inspect: State.OOMKilled =", ended.oom_killed, "| State.ExitCode =", ended.exit_code)
    hog.remove()

# %% [markdown]
# The same at the command line: `run` (without `-d`) waits for the container and ends with its exit code, which the
# shell keeps in `$?`. (The cell runs in `$WORK`: Podman's per-container monitor, conmon, leaves an empty `oom`
# marker file in the directory `podman run` was started from when the OOM killer strikes.)

# %% language="bash"
# cd $WORK
# $ENGINE run --rm --memory 32m --memory-swap 32m --pids-limit 256 $LABELS containerlab/debian python3 -c "hog = [b'x' * 2**22 for _ in range(100)]"
# echo "exit code: $?"

# %% [markdown]
# Exit code **137** is 128 + 9: the process was ended by signal 9, `SIGKILL`. Any `kill -9` gives the same code;
# `State.OOMKilled` is how the engine tells you it was the OOM killer (the kernel also logs it: `dmesg` shows
# "Memory cgroup out of memory: Killed process ..."). The usual fixes: raise the limit, or make the program use
# less.
#
# Engines differ in that verdict. Docker sets `OOMKilled` when any process of the container was OOM-killed. Podman
# 4.3, on the machine that tests this course, leaves it `false` even for a container whose main process was
# OOM-killed (`podman run --memory 32m containerlab/debian python3 -c ...` ends with 137 and `false`). There, trust
# the 137 and the cgroup's own `oom_kill` counter.

# %% [markdown]
# ## 4. A CPU quota and throttling
#
# CPU limits work in **periods** (100 ms by default): `--cpus 0.5` (`nano_cpus=500_000_000` in the Python API)
# becomes a **quota** of 50 ms of CPU time per 100 ms period. A process that has used up its quota is
# **throttled**: it does not run again until the next period starts. A busy loop wants 100 % of a CPU; measure
# what it gets over two seconds (longer, until the kernel has throttled it, on a busy machine) from the cgroup's
# CPU-time counter.

# %%
if lab.ready_for("engine", "cpu", task="measuring a CPU quota"):
    burner = lab.start("containerlab/busybox", ["sh", "-c", "while :; do :; done"], name="burner",
                       nano_cpus=500_000_000)
    dirs = container_cgroup_dirs(burner)
    before, started = container_stats(burner, dirs), time.monotonic()
    after = watch_cgroup(burner, timeout=10, interval=0.25,
                         until=lambda s: time.monotonic() - started >= 2 and s.nr_throttled > before.nr_throttled)
    elapsed = time.monotonic() - started
    burner.remove()
    used = (after.cpu_usage_usec - before.cpu_usage_usec) / 1e6 / elapsed   # CPUs used on average
    periods, throttled = after.nr_periods - before.nr_periods, after.nr_throttled - before.nr_throttled
    print(f"quota: {after.cpu_quota_usec} µs of CPU time every {after.cpu_period_usec} µs = {after.cpus:g} CPU")
    print("used no more than the quota:", used <= after.cpus + 0.05)
    print("throttled periods counted (nr_throttled > 0):", throttled > 0)

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", "cpu", task="measuring a CPU quota"):
    print(f"used {used:.0%} of one CPU over {elapsed:.1f} s (quota {after.cpus:.0%}); throttled in {throttled} "
          f"of its {periods} periods")
    print("on an idle machine it gets its whole quota, about 50 %; on a busy one less: a quota caps, it does "
          "not promise")

# %% [markdown]
# Without a quota the same loop would take a whole CPU. A quota is a hard cap even when the machine is idle; the
# softer `--cpu-shares` (v1 `cpu.shares`, v2 `cpu.weight`) only sets priorities when CPUs are contended.

# %% [markdown]
# ## 5. A pids limit contains a fork bomb
#
# A fork bomb is a function that calls itself twice, in the background, forever: `bomb() { bomb | bomb & }; bomb`
# (famously written `:(){ :|:& };:`). Unchecked it fills the kernel's process table and the host stops starting
# anything. The pids controller caps the number of processes (and threads) in a cgroup: once `pids.current`
# reaches `pids.max`, `fork()` fails inside the container with `EAGAIN` ("Resource temporarily unavailable") —
# and only there. The bomb below runs with `pids_limit=30`, and its own first shell ends it after 10 s at most
# (when a container's PID 1 exits, the kernel kills everything left in it). Where the engine cannot enforce a pids
# limit (rootless on cgroup v1), the bomb is not run at all, and the course refuses any command shaped like one.

# %%
FORK_BOMB = "sleep 10 & timer=$!; bomb() { bomb | bomb & }; bomb; wait $timer"
if lab.ready_for("engine", "pids", task="containing a fork bomb with a pids limit"):
    bomb = lab.start("containerlab/debian", ["bash", "-c", FORK_BOMB], name="bomb", pids_limit=30)
    dirs = container_cgroup_dirs(bomb)
    counts = []
    for _ in range(50):                     # every 0.1 s, for at most 5 s, until the limit is reached
        stats = container_stats(bomb, dirs)
        counts.append(stats.pids_current)
        if stats.pids_current == stats.pids_max:
            break
        time.sleep(0.1)
    host_seconds = []
    for _ in range(5):                      # meanwhile, the host starts processes as usual
        started = time.monotonic()
        subprocess.run(["true"], check=True)
        host_seconds.append(time.monotonic() - started)
    for _ in range(20):                     # the kernel counts a refused fork when it refuses it: just after the max
        if (stats.pids_limit_hits or 0) > 0:
            break
        time.sleep(0.1)
        stats = container_stats(bomb, dirs)
    print("pids.max:", stats.pids_max)
    print("pids.current reached the max and never went past it:", max(counts) == stats.pids_max)
    print("forks the kernel refused (pids.events max > 0):", (stats.pids_limit_hits or 0) > 0)
    refused = "Resource temporarily unavailable"
    print(f"the bomb was told '{refused}':", refused in bomb.logs())
    print("the host started a process in under 0.5 s each time:", max(host_seconds) < 0.5)
    bomb.remove()
    print("bomb container removed:", all(c.id != bomb.id for c in lab.containers()))

# %% [markdown]
# The Lab gives every container a pids limit (256) and a memory limit (256 MiB) unless a cell asks otherwise, so a
# mistake in an exercise cannot take your machine down.

# %% [markdown]
# ## 6. Live usage from the cgroup files
#
# `docker stats` reads the same files. Here a Python program grows a list by 2 MiB every 0.1 s for 2 s while
# spinning the CPU, in a container limited to 64 MiB and half a CPU. The chart samples the cgroup's memory usage
# and CPU-time counter every 0.1 s for 3 s and redraws as the samples arrive; the dashed red lines are the limits.
# (Your chart will differ in the details; the notebook keeps the last one drawn.)

# %% tags=["nbval-ignore-output"]
LOAD = """
import time
hog, start = [], time.monotonic()
while time.monotonic() - start < 30:                  # the notebook removes it long before
    if len(hog) < 20 and time.monotonic() - start > len(hog) * 0.1:
        hog.append(b"x" * 2**21)                      # 2 MiB more, up to 40 MiB
"""
if lab.ready_for("engine", "memory", "cpu", task="plotting a container's usage live"):
    load = lab.start("containerlab/debian", ["python3", "-c", LOAD], name="load", mem_limit="64m",
                     nano_cpus=500_000_000)
    samples = watch_usage(container_cgroup_dirs(load), seconds=3, interval=0.1, memory_limit=64 * MIB,
                          cpu_limit=0.5, title="python3 growing a list, limited to 64 MiB and 0.5 CPU")
    load.remove()

# %% [markdown]
# The same run, in facts that do not change from machine to machine:

# %%
if lab.ready_for("engine", "memory", "cpu", task="summarising the usage samples"):
    memory = [s.memory_bytes for s in samples if s.memory_bytes is not None]
    print("samples taken >= 20:", len(samples) >= 20)
    print("memory grew by more than 20 MiB while it ran:", memory[-1] - memory[0] > 20 * MIB)
    print("memory stayed under the limit:", max(memory) < 64 * MIB)
    print("CPU on average no more than the quota (+10 points for timing):", average_cpus(samples) <= 0.6)

# %% [markdown]
# ## No engine? This notebook has a cgroup too
#
# Every process is in some cgroup, including this notebook's own kernel. On Binder that is the cgroup of the
# container the notebook runs in, with the memory and CPU limits the Binder service set; on your own machine it is
# probably your login session's (or, where a line shows `/`, the root cgroup, whose numbers are the whole
# machine's). The same reader as above, pointed at `/proc/self/cgroup`. Your lines will differ from the stored ones:
# they were recorded on a small cloud VM whose init, a program called `/process_api`, puts each command it starts in
# a memory cgroup of its own (`/process_api/<id>`); that is the recording machine's arrangement, not the course's.

# %% tags=["nbval-ignore-output"]
for entry in read_proc_cgroup("self"):
    print(f"{','.join(entry.controllers) or '(v2 unified)':>16}: {entry.path}")
print()
for line in describe_limits(read_pid_cgroup_stats("self")):
    print(line)

# %% [markdown]
# ## Exercises
#
# **1.** A container was killed by the OOM killer. What **exit code** does `docker inspect` report for it? Set
# `oom_exit_code` (section 3 printed it; the explanation under it says why).

# %%
oom_exit_code = None  # your answer
check_oom_exit_code(oom_exit_code)

# %% [markdown]
# **2.** On a **cgroup v2** host, which file in a container's cgroup directory holds its **memory limit**? Set
# `v2_memory_limit_file` to the file name.

# %%
v2_memory_limit_file = None  # your answer, a file name
check_v2_file(v2_memory_limit_file)

# %% [markdown]
# **3.** Start a busybox container that sleeps, limited to **0.25 CPU** (`nano_cpus=`), with the short name
# `quarter`. Then read its CPU quota and period **from its cgroup files** (`container_stats(quarter)`) and set
# `quota_and_period` to the pair `(quota, period)` in microseconds. The check compares with the real cgroup.

# %%
quarter = None           # your container: lab.start("containerlab/busybox", ["sleep", "600"], name="quarter", ...)
quota_and_period = None  # your answer: (quota, period)
check_quarter_cpu(quarter, quota_and_period) if lab.ready_for("engine", "cpu", task="exercise 3") else None

# %% [markdown]
# **4. In a terminal.** Open one (*File › New › Terminal*) and type the `source` line this cell prints. Start a
# busybox container named `$LAB-capped`, in the background, running `sleep 3600`, limited to **48 MiB** of memory
# and **20** processes, with the course's labels. Read its limits back with `$ENGINE inspect --format ...`, and
# watch it with `$ENGINE stats $LAB-capped` (Ctrl-C ends that). The check reads the engine's record and the
# kernel's cgroup files.

# %% tags=["nbval-ignore-output"]
print("in a terminal, type first:", cli.terminal_line)

# %%
check_capped(lab) if lab.ready_for("engine", "memory", "pids", task="checking $LAB-capped") else None

# %% [markdown]
# <details><summary>Solutions</summary>
#
# ```python
# check_oom_exit_code(137)          # 128 + 9 (SIGKILL)
#
# check_v2_file("memory.max")       # v1: memory.limit_in_bytes
#
# quarter = lab.start("containerlab/busybox", ["sleep", "600"], name="quarter", nano_cpus=250_000_000)
# limits = container_stats(quarter)
# check_quarter_cpu(quarter, (limits.cpu_quota_usec, limits.cpu_period_usec))   # (25000, 100000)
# ```
# ```bash
# # 4. (in the terminal, after the source line)
# $ENGINE run -d --name $LAB-capped --memory 48m --pids-limit 20 $LABELS containerlab/busybox sleep 3600
# $ENGINE inspect --format '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}' $LAB-capped
# ```
# ```python
# check_capped(lab)
# ```
# `--cpus 0.25` becomes 25 ms of CPU time in every 100 ms period: `cpu.cfs_quota_us` = 25000 and
# `cpu.cfs_period_us` = 100000 on v1, `cpu.max` = `25000 100000` on v2.
# </details>

# %% [markdown]
# ## References
#
# - The talk's cgroups: [container 101](https://q15928.github.io/2021/01/09/container-101/),
#   [ideas for a cgroups UI](https://mairin.wordpress.com/2011/05/13/ideas-for-a-cgroups-ui/)
# - The kernel's documentation: [Control Group v2](https://docs.kernel.org/admin-guide/cgroup-v2.html); v1's
#   [cgroups](https://docs.kernel.org/admin-guide/cgroup-v1/cgroups.html),
#   [memory](https://docs.kernel.org/admin-guide/cgroup-v1/memory.html) and
#   [pids](https://docs.kernel.org/admin-guide/cgroup-v1/pids.html) controllers;
#   [CFS bandwidth control](https://docs.kernel.org/scheduler/sched-bwc.html) (the CPU quota and throttling);
#   [cgroups(7)](https://man7.org/linux/man-pages/man7/cgroups.7.html)
# - Docker's [resource constraints](https://docs.docker.com/engine/containers/resource_constraints/)
#   (`--memory`, `--cpus`, `--pids-limit`); the OCI runtime specification's
#   [Linux resources](https://github.com/opencontainers/runtime-spec/blob/main/config-linux.md)
# - The course's source: the talk *Playing with Containers* (Marco Mambelli, Fermilab, 2024) and its demo,
#   [glideinWMS/containers](https://github.com/glideinWMS/containers)
#   ([workspaces](https://github.com/glideinWMS/containers/tree/main/workspaces)).
# - HSF training: [Docker](https://hsf-training.github.io/hsf-training-docker/index.html) and
#   [Apptainer/Singularity](https://hsf-training.github.io/hsf-training-singularity-webpage/).

# %% [markdown]
# ## Clean up

# %%
print(lab.cleanup())
work_removed = remove_workdir(lab.workdir)  # $WORK, where cli.env waited for a terminal
