# %% [markdown]
# # 01 · What is a container?
#
# The talk starts with a definition — *a discrete environment set up within an operating system in which
# one or more applications may run* — and a warning: **"It's a Linux thing."** This notebook shows what
# that means on a real kernel.
#
# **Objectives.** You will see for yourself that
# - a container runs on the **host's kernel**: same `uname -r` inside and out, no kernel in the image;
# - a container is an ordinary **process you can see from the host**, with a different PID inside;
# - what a container has of its own (user space: files, hostname, process list) and what it shares;
# - how that differs from a **virtual machine**, and where the user-mode / kernel-mode line runs.
#
# Each Python call prints first, after a `$`, the `docker` (or `podman`) command it stands for; in the cells that
# start with `!` or `%%bash` you type those commands yourself.

# %%
import os
from pathlib import Path

import containerlab as cl
from containerlab.course import check_host_pid, check_shared_with_host
from containerlab.course.lesson01 import check_box_script, check_own_hostname
from containerlab.engine.overlay import remove_workdir
from containerlab.kernel import compare_namespaces, read_namespaces
from containerlab.kernel.process import list_pids, read_process
from containerlab.render import containers_vs_vms, user_kernel_split

lab = cl.Lab("01-what-is-a-container", echo=True)  # echo: print the docker/podman command behind every action
cli = lab.cli_env()                                # $ENGINE, $LAB, $LABELS, ... for the ! and %%bash cells
HOST_KERNEL = os.uname().release

# %% tags=["nbval-ignore-output"]
print("engine:", lab.engine.summary() if lab.available else f"none ({lab.why_unavailable})")
print("kernel:", HOST_KERNEL)

# %% [markdown]
# ## 1. One kernel for everyone
#
# Ask the kernel for its release from inside two containers built from very different images.
# If each container carried its own kernel, the answers would differ from the host's.

# %%
if lab.ready_for("engine", task="comparing the kernel inside containers with the host's"):
    for image in ("containerlab/busybox", "containerlab/debian"):
        inside = lab.run(image, ["uname", "-r"]).output.strip()
        print(f"{image:21}  uname -r inside {'==' if inside == HOST_KERNEL else '!='} the host's")

# %% [markdown]
# The same comparison at the command line. `$(...)` captures what a command prints; the host's `uname -r` runs
# outside any container.

# %% language="bash"
# inside=$($ENGINE run --rm --memory 256m --pids-limit 256 $LABELS containerlab/debian uname -r)
# [ "$inside" = "$(uname -r)" ] && echo "same kernel inside the container and on the host" || echo "different kernels"

# %% [markdown]
# The user space, on the other hand, is the image's own. `/etc/os-release` describes the distribution
# *files*; busybox's image has none at all. And the Debian image has no kernel to boot: `/boot` is empty and
# there are no kernel modules.

# %%
if lab.ready_for("engine", task="looking for a kernel inside the Debian image"):
    found = lab.run("containerlab/debian", ["sh", "-c",
                    "ls -A /boot | wc -l; ls /lib/modules 2>/dev/null | wc -l; test -e /etc/os-release && echo yes"])
    boot_files, module_dirs, os_release = found.output.split()
    print("files in /boot:", boot_files, "| kernel module trees:", module_dirs, "| /etc/os-release:", os_release)
    busybox = lab.run("containerlab/busybox", ["sh", "-c", "test -e /etc/os-release && echo yes || echo no"])
    print("containerlab/busybox has /etc/os-release:", busybox.output.strip())

# %% [markdown]
# ## 2. A container is a process on the host
#
# Start a container that sleeps. Inside, its `sleep` is **PID 1**, the first and only process.
# The host sees the very same process under another number: the kernel keeps one PID per PID namespace
# (`NSpid` in `/proc/PID/status` lists them).

# %%
if lab.ready_for("engine", task="starting a container to look at from the host"):
    sleeper = lab.start("containerlab/busybox", ["sleep", "3600"], name="sleeper")
    inside = lab.exec(sleeper, ["cat", "/proc/1/cmdline"]).output.replace("\0", " ").strip()
    print(f"inside the container, PID 1 is: {inside}")
    visible_inside = [entry for entry in lab.exec(sleeper, ["ls", "/proc"]).output.split() if entry.isdigit()]
    print(f"processes the container can see: {len(visible_inside)} (its sleep, and the ls listing them)")

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", task="finding the container's process from the host"):
    host_view = read_process(sleeper.pid)
    parent = read_process(host_view.ppid)
    print(f"on the host: PID {host_view.pid}, command {host_view.command!r}, uid {host_view.uid}")
    print(f"its PIDs, outermost namespace first (NSpid): {host_view.ns_pids}")
    print(f"its parent on the host: PID {parent.pid} {parent.name}  (the engine's per-container monitor)")
    print(f"memory it uses: {host_view.rss_kb} kB; processes the host can see: {len(list_pids())}")

# %%
if lab.ready_for("engine", task="comparing the host's view with the container's"):
    host_view = read_process(sleeper.pid)
    print("the host sees the container's sleep:", host_view.command == "sleep 3600")
    print("its PID inside its own namespace:", host_view.innermost_pid)
    print("the host sees more processes than the container:", len(list_pids()) > len(visible_inside))

# %% [markdown]
# The engine knows that host PID too: `inspect --format` picks one field of what it knows about a container (Go
# templates use `{{ }}`, so they go in a `%%bash` cell). The host's `/proc/PID/cmdline` of that PID is the
# container's `sleep`. (`$LAB-sleeper` is the container's name: `$LAB` is this lesson's prefix for your names.)

# %% language="bash"
# pid=$($ENGINE inspect --format '{{.State.Pid}}' $LAB-sleeper)
# echo "host process of \$LAB-sleeper: $(tr '\0' ' ' < /proc/$pid/cmdline)"

# %% [markdown]
# What makes its view so small? **Namespaces** (notebook 02): the container's process sits in its own PID, network,
# IPC, mount and UTS namespaces — the talk's five. Each namespace is a kernel object with an inode number; two
# processes share a namespace exactly when the numbers match.

# %%
if lab.ready_for("engine", task="comparing namespaces of the host and the container"):
    ns = compare_namespaces({"notebook": read_namespaces("self"), "sleeper": read_namespaces(sleeper.pid)})
    for kind in ("pid", "net", "ipc", "mnt", "uts"):
        print(f"{kind:4} namespace shared with the host: {kind in ns.shared('notebook', 'sleeper')}")

# %% [markdown]
# ## 3. Containers and virtual machines
#
# A virtual machine boots a kernel of its own on virtual hardware; a container is a group of processes that the
# one host kernel keeps apart. That is why the container above started in a fraction of a second and costs the
# host only the memory its process uses, and why a Linux container needs a Linux kernel (on a Mac or Windows,
# Docker Desktop and Colima run one in a small VM).

# %%
containers_vs_vms(containers=["sleeper", "busybox", "debian"], vms=["vm-1", "vm-2"])

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", task="timing a container start"):
    timings = sorted(lab.run("containerlab/busybox", "true", echo=False).seconds for _ in range(3))
    print(f"create + start + wait + remove a container: {timings[1]:.2f} s (median of 3); "
          "booting a VM takes tens of seconds")

# %% [markdown]
# ## 4. User mode and kernel mode
#
# The talk's table of the Linux system: applications, libraries and the C library run in **user mode**; they reach
# the **kernel** through about 380 system calls. A container image holds only the user-mode part. When the process
# inside needs anything — a file, the time, a pause — it makes a system call into the host's kernel.
#
# The sleeper is doing exactly that right now: the kernel reports which system call it is blocked in
# (`/proc/PID/syscall`, first number) and the kernel function it waits in (`/proc/PID/wchan`).

# %%
user_kernel_split(highlight="container", syscalls=["open()", "read()", "clock_nanosleep()", "clone()"])

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", "root", task="reading the sleeper's current system call"):
    number = Path(f"/proc/{sleeper.pid}/syscall").read_text().split()[0]
    wchan = Path(f"/proc/{sleeper.pid}/wchan").read_text() or "?"
    print(f"the container's sleep is in system call {number}, waiting in the kernel function {wchan}")

# %% [markdown]
# ### No engine? You are probably in a container already
#
# On Binder (and in many cloud notebooks) this notebook's own kernel runs inside a container. The same
# kernel facts are real here: this process's PID, the PID 1 of its world, and its namespaces.
#
# What PID 1 is depends on where the notebook runs, so your line will differ from the stored one: on a Linux
# laptop, server or VM it is the init the machine booted (`/sbin/init`, `systemd`); in a container (Binder, the
# course box) it is the container's first process. The stored output was recorded on a small cloud VM whose init
# is a program called `/process_api`: that machine's own, not something the course or a container started.

# %% tags=["nbval-ignore-output"]
me = read_process("self")
first = read_process(1)
print(f"this notebook's kernel: PID {me.pid} (NSpid {me.ns_pids}), kernel {HOST_KERNEL}")
print(f"PID 1 in this world: {first.command[:60]!r}")
print("  (the init of the machine this notebook runs on, or the first process of the container it runs in)")

# %% [markdown]
# ## Exercises
#
# **1.** Find the **host PID** of the sleeper's `sleep` process and set `host_pid` to it. Ask the engine
# (`sleeper.inspect()["State"]["Pid"]`, which is what `$ENGINE inspect` prints), or find it the host's way: look for the process whose
# `/proc/PID/cgroup` mentions the container's ID (`sleeper.id`).

# %%
host_pid = None  # your answer
check_host_pid(sleeper, host_pid) if lab.available else print("Skipped: needs an engine.")

# %% [markdown]
# **2.** Which of these does a default container **share** with its host? Set `shared` to a set drawn from
# `"kernel"`, `"hostname"`, `"root filesystem"`, `"process list"`, `"clock"`. Try `hostname`, `ls /`, `ps` and
# `date` inside a container and on the host.

# %%
shared = None  # your answer, e.g. {"kernel"}
check_shared_with_host(shared)

# %% [markdown]
# **3. In a terminal.** Open one (*File › New › Terminal*) and type the `source` line this cell prints (it sets
# `$ENGINE`, `$LAB` and `$LABELS` there). Start a busybox container named `$LAB-box`, in the background, running
# `sleep 3600`, with its own hostname **`lab01`** (`run --help` lists the option), with the limits and labels of the
# commands above. Compare `$ENGINE exec $LAB-box hostname` with the terminal's own `hostname`.

# %% tags=["nbval-ignore-output"]
print("in a terminal, type first:", cli.terminal_line)

# %%
check_own_hostname(lab) if lab.ready_for("engine", task="checking $LAB-box") else None

# %% [markdown]
# **4. Build it: a container without an engine.** An engine is a convenient way to ask the kernel for namespaces;
# `unshare` asks directly. Write `box_sh`, a small shell script that runs the command it is given (`"$@"`) the way a
# container would:
# - with its own hostname, **`box01`** (a new UTS namespace: `unshare --uts`, then `hostname box01` inside it);
# - as **PID 1** of a new PID namespace (`--pid --fork`; the last shell hands PID 1 over with `exec "$@"`);
# - seeing only its own processes in `ps` and `/proc` (`--mount-proc` mounts a fresh `/proc` for it).
#
# The check runs your script for real, as root, with a command of its own choosing that reports its hostname, PID
# and namespaces. It runs it inside a UTS and mount namespace of its own, so even a script that renames "its"
# machine leaves this one alone. `man unshare` lists the options.

# %%
box_sh = None  # your answer: the script's text, in a triple-quoted string: """ ... """
check_box_script(box_sh) if lab.ready_for("root", task="running your script") else None

# %% [markdown]
# <details><summary>Solutions</summary>
#
# ```python
# host_pid = next(pid for pid in list_pids()
#                 if sleeper.id in Path(f"/proc/{pid}/cgroup").read_text(errors="replace")
#                 and read_process(pid).innermost_pid == 1)
# check_host_pid(sleeper, host_pid)
#
# check_shared_with_host({"kernel", "clock"})
# ```
# ```bash
# # 3. (in the terminal, after the source line)
# $ENGINE run -d --name $LAB-box --hostname lab01 --memory 256m --pids-limit 256 $LABELS containerlab/busybox sleep 3600
# $ENGINE exec $LAB-box hostname
# hostname
# ```
# ```python
# check_own_hostname(lab)
#
# box_sh = """
# unshare --uts --pid --fork --mount-proc sh -c 'hostname box01 && exec "$@"' box "$@"
# """
# check_box_script(box_sh)
# ```
# The hostname, the files and the process list come from the container's UTS, mount and PID namespaces. The clock
# is the kernel's: Linux has a time namespace, but it only offsets the monotonic and boot clocks, and engines
# do not use it by default. `--hostname` sets the name inside the container's own UTS namespace; the host's stays.
# In the script, `sh -c '...' box "$@"` passes the script's arguments on to the inner shell (`box` becomes its
# `$0`); that shell is PID 1 of the new namespace until `exec` replaces it with the command. Try it in a terminal
# as root: save the line as `box.sh`, then `sh box.sh sh -c 'hostname; echo $$; ps'`. An engine does the same,
# plus the mount, network and IPC namespaces, a cgroup, and a root filesystem of its own (notebooks 02 to 04).
# </details>

# %% [markdown]
# ## References
#
# - The talk's definitions: [what is a container?](https://www.docker.com/resources/what-container/),
#   [container 101](https://q15928.github.io/2021/01/09/container-101/); containers and virtual machines
#   ([dockerlabs](https://dockerlabs.collabnix.com/beginners/difference-vm-containers.html),
#   [qcore](https://qcore.com/learning/containers-vs-virtual-machines/)); the
#   [Linux kernel interfaces](https://en.wikipedia.org/wiki/Linux_kernel_interfaces)
# - Linux manual pages: [namespaces(7)](https://man7.org/linux/man-pages/man7/namespaces.7.html),
#   [proc(5)](https://man7.org/linux/man-pages/man5/proc.5.html), [syscalls(2)](https://man7.org/linux/man-pages/man2/syscalls.2.html)
# - The OCI [runtime specification](https://github.com/opencontainers/runtime-spec/blob/main/spec.md): what a
#   container is, as the runtimes agree on it
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
