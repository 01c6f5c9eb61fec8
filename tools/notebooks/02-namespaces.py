# %% [markdown]
# # 02 · Namespaces
#
# The talk lists what a container is made of. First comes **isolation with namespaces** (2002 onwards: Eric W.
# Biederman, Pavel Emelyanov, Al Viro, Cyrill Gorcunov and others): the **PID** namespace for processes, **NET**
# for network interfaces, **IPC** for inter-process communication, **MNT** for mount points and **UTS** for the
# host name. Linux has three more today: **USER**, **CGROUP** and **TIME**. This notebook makes each one by hand,
# then finds the same namespaces behind a container.
#
# **Objectives.** You will
# - name the eight namespace types and what each one isolates;
# - create namespaces by hand with `unshare`, and step into a running container's with `nsenter`;
# - compare namespace inodes of the host and of containers, and read them off a **namespace map**;
# - share namespaces on purpose (`--pid=host`, `--network=container:`) and see what a container then shares,
#   from Python and at the command line (each Python call prints the `docker`/`podman` command it stands for).

# %%
import os
import socket
import sys
import tempfile
from pathlib import Path

import containerlab as cl
from containerlab.course.lesson02 import (
    check_net_and_uts,
    check_new_uts_hostname,
    check_pid_host_shares,
    check_sidecar,
    initial_namespaces,
)
from containerlab.engine.namespaces import lab_namespace_map, run_on_host, tools_ready
from containerlab.engine.overlay import remove_workdir
from containerlab.kernel.namespaces import NAMESPACE_TYPES, compare_namespaces, read_namespaces
from containerlab.render.nsmap import namespace_map
from containerlab.widgets.nsmap import NamespaceExplorer

lab = cl.Lab("02-namespaces", echo=True)  # echo: print the docker/podman command behind every action
cli = lab.cli_env()                       # $ENGINE, $LAB, $LABELS, ... for the ! and %%bash cells

# %% [markdown]
# ## 1. Eight kinds of namespace
#
# | namespace | isolates | Linux | make one | share the host's (Docker) |
# |---|---|---|---|---|
# | **pid** | process IDs: the first process inside is PID 1 | 2.6.24 (2008) | `unshare --pid` | `--pid=host` |
# | **net** | interfaces, addresses, routes, ports, firewall | 2.6.29 (2009) | `unshare --net` | `--network=host` |
# | **ipc** | System V IPC, POSIX message queues | 2.6.19 (2006) | `unshare --ipc` | `--ipc=host` |
# | **mnt** | the mount table | 2.4.19 (2002) | `unshare --mount` | (bind mounts instead) |
# | **uts** | host name and NIS domain name | 2.6.19 (2006) | `unshare --uts` | `--uts=host` |
# | **user** | user and group IDs, capabilities | 3.8 (2013) | `unshare --user` | `--userns=host` |
# | **cgroup** | which cgroup looks like the root `/` | 4.6 (2016) | `unshare --cgroup` | `--cgroupns=host` |
# | **time** | the boot-time and monotonic clocks | 5.6 (2020) | `unshare --time` | (engines leave it alone) |
#
# Every process is in exactly one namespace of each type. `/proc/PID/ns/` holds one symbolic link per type whose
# target names the namespace by an **inode number**: two processes share a namespace exactly when the numbers
# match. Here are this notebook's own (the numbers differ from machine to machine):

# %% tags=["nbval-ignore-output"]
for kind in NAMESPACE_TYPES:
    try:
        print(f"{kind:6} -> {os.readlink(f'/proc/self/ns/{kind}')}")
    except OSError as err:
        print(f"{kind:6} -> not readable here ({err.strerror})")

# %% [markdown]
# The kernel gives the namespaces it boots with — the **host's** — fixed inode numbers (`pid:[4026531836]`,
# `uts:[4026531838]`, ...; on most kernels not for net and mnt, which the map leaves unknown). So any process can
# tell for itself, without seeing the host, whether it runs in the host's namespaces. On a workshop machine this
# notebook does: blue rows. On Binder the notebook is itself in a container, and the map shows which namespaces
# that container has of its own.

# %% tags=["nbval-ignore-output"]
namespace_map(compare_namespaces({"host": initial_namespaces(), "notebook": read_namespaces("self")}),
              title="Is this notebook in the host's namespaces?",
              notes={"host": "fixed inode numbers", "notebook": "/proc/self/ns"})

# %% [markdown]
# ## 2. Namespaces by hand: `unshare`
#
# `unshare` (from util-linux) starts a program in new namespaces of the types you name. Creating namespaces needs
# root (a user namespace is the exception, see below), so these cells run only as root; each runs with a timeout.
#
# **UTS.** A new UTS namespace starts as a copy of the old one; changing the host name inside does not touch the
# host's.

# %%
if lab.ready_for("root", task="a new UTS namespace") and tools_ready("unshare", task="a new UTS namespace"):
    before = socket.gethostname()
    inside = run_on_host(["unshare", "--uts", "sh", "-c", "hostname lab-uts && hostname"]).strip()
    print("host name inside the new UTS namespace:", inside)
    print("the host's own host name is unchanged:", socket.gethostname() == before)

# %% [markdown]
# **PID.** In a new PID namespace the first process is **PID 1** and sees only its descendants. `--fork` makes
# `unshare` start the shell as a child (the caller itself stays where it is); `--mount-proc` mounts a fresh
# `/proc`, because `ps` reads processes from there.

# %%
if lab.ready_for("root", task="a new PID namespace") and tools_ready("unshare", "ps", task="a new PID namespace"):
    print(run_on_host(["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", "echo $$; ps -e -o pid,comm"]))

# %% [markdown]
# **NET.** A new network namespace has nothing but a loopback interface, and even that is down. Beware that
# `/sys/class/net` still lists the host's interfaces unless sysfs is mounted again inside (which needs a new
# mount namespace too): files describe the namespace they were mounted in.

# %%
if lab.ready_for("root", task="a new network namespace") and tools_ready("unshare", "ip", task="a new network namespace"):
    inside = run_on_host(["unshare", "--net", "ip", "-o", "link"])
    names = [line.split(":")[1].strip() for line in inside.splitlines()]
    print("interfaces in a new network namespace:", names, "| lo is", "UP" if ",UP" in inside else "DOWN")
    sysfs = run_on_host(["unshare", "--net", "--mount", "sh", "-c", "mount -t sysfs sysfs /sys && ls /sys/class/net"])
    print("/sys/class/net with sysfs mounted inside:", sysfs.split())
    print("the host has more interfaces:", len(os.listdir("/sys/class/net")) > len(names))

# %% [markdown]
# **IPC.** A message queue made inside a new IPC namespace is invisible outside it (and vanishes with it).

# %%
if lab.ready_for("root", task="a new IPC namespace") and tools_ready("unshare", "ipcmk", "ipcs", task="a new IPC namespace"):
    inside = run_on_host(["unshare", "--ipc", "sh", "-c", "ipcmk -Q >/dev/null && ipcs -q"])
    keys = [line.split()[0] for line in inside.splitlines() if line.startswith("0x")]
    host_keys = [line.split()[0] for line in run_on_host(["ipcs", "-q"]).splitlines() if line.startswith("0x")]
    print("message queues inside the new IPC namespace:", len(keys))
    print("the host sees that queue:", bool(set(keys) & set(host_keys)))

# %% [markdown]
# **MNT.** A mount made inside a new mount namespace stays there (`unshare` makes the new mounts private, so
# nothing propagates back).

# %%
if lab.ready_for("root", task="a new mount namespace") and tools_ready("unshare", "mount", task="a new mount namespace"):
    with tempfile.TemporaryDirectory(prefix="clab-02-") as spot:
        inside = run_on_host(["unshare", "--mount", "sh", "-c",
                              f"mount -t tmpfs lab {spot} && echo hi > {spot}/only-inside && ls {spot}"])
        print("the directory inside the new mount namespace:", inside.split())
        print("the same directory on the host:", os.listdir(spot))

# %% [markdown]
# **USER.** The one namespace an ordinary user may create: inside it the user can be root (uid 0), mapped to
# their own uid outside. This is what rootless Podman builds on (notebook 07). The cell drops to the unprivileged
# user `nobody` (uid 65534) first.

# %%
if lab.ready_for("root", task="a new user namespace") and tools_ready("unshare", "setpriv", task="a new user namespace"):
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    print("uid of the ordinary user:", run_on_host([*nobody, "id", "-u"]).strip())
    try:
        uid, *mapping = run_on_host([*nobody, "unshare", "--user", "--map-root-user", "sh", "-c",
                                     "id -u; cat /proc/self/uid_map"]).split()
        print("its uid inside a user namespace it made:", uid, "| uid_map (inside, outside, count):", mapping)
    except cl.LabError:
        print("this kernel does not let ordinary users create user namespaces (a sysctl or AppArmor setting)")

# %% [markdown]
# **CGROUP.** A new cgroup namespace makes the process's current cgroup look like the root: every path in
# `/proc/self/cgroup` reads `/`, so a container cannot learn where it sits in the host's cgroup tree.
#
# **TIME.** A new time namespace can shift the boot-time and monotonic clocks (not the wall clock): here the
# uptime jumps a day ahead.

# %%
if lab.ready_for("root", task="making cgroup and time namespaces") and tools_ready("unshare", task="making cgroup and time namespaces"):
    inside = run_on_host(["unshare", "--cgroup", "cat", "/proc/self/cgroup"])
    print("cgroup paths inside a new cgroup namespace:", sorted({line.split(":", 2)[2] for line in inside.split()}))
    ahead = float(run_on_host(["unshare", "--time", "--boottime", "86400", "cat", "/proc/uptime"]).split()[0])
    print(f"uptime inside a new time namespace: {round((ahead - float(Path('/proc/uptime').read_text().split()[0])) / 3600)} hours ahead")

# %% [markdown]
# ## 3. The same namespaces behind a container
#
# An engine does what you just did, all at once, for every container. Start `web`, a busybox web server on port
# 8080 (not published: the host's 127.0.0.1:8080 is not it), and compare its namespaces with the
# host's. The map never shows the inode numbers: **same letter in a row = same namespace**.

# %%
if lab.ready_for("engine", task="starting web, a small web server"):
    web = lab.start("containerlab/busybox", ["sh", "-c", "mkdir -p /tmp/www && echo hello from web > /tmp/www/index.html"
                                             " && exec httpd -f -p 8080 -h /tmp/www"], name="web")
    lab.exec(web, ["timeout", "5", "sh", "-c", "until wget -qO /dev/null http://127.0.0.1:8080/; do sleep 0.1; done"])
if lab.ready_for("engine", "root", task="comparing the host's namespaces with a container's"):
    cl.show(lab_namespace_map(lab, ["web"], title="The host and a default container"))

# %% [markdown]
# The talk's five are the container's own. **user** and **time** are the host's: engines do not use them unless
# asked (Docker's `userns-remap`, or rootless engines, add a user namespace). **cgroup** is the container's own
# because the course asks for it: every lab container starts with `--cgroupns private`, Docker's default on cgroup
# v2 (on cgroup v1 Docker's default is the host's). One engine does not follow: Podman 4.3 on a cgroup v1 host
# ignores that request and leaves the container in the host's cgroup namespace (so this row differs there).
#
# ## 4. Stepping in: `nsenter`
#
# `nsenter --target PID` joins the namespaces of a running process, here the container's first process as the host
# numbers it. Enter only the UTS and NET namespaces, not the mount namespace: the programs that run are the
# **host's** `hostname`, `ip` and Python, but what they see is the container's.

# %%
if lab.ready_for("engine", "root", task="entering a container's namespaces") and tools_ready("nsenter", "ip", task="entering a container's namespaces"):
    target = ["nsenter", "--target", str(web.pid)]
    hostname = run_on_host([*target, "--uts", "hostname"]).strip()
    print("hostname in web's UTS namespace is web's:", hostname == lab.exec(web, ["hostname"]).output.strip())
    links = run_on_host([*target, "--net", "ip", "-o", "link"])
    print("interfaces the host's ip finds there:", sorted(line.split(":")[1].strip().split("@")[0] for line in links.splitlines()))
    fetch = "import urllib.request as u; print(u.urlopen('http://127.0.0.1:8080/', timeout=5).read().decode())"
    print("the host's Python there, fetching 127.0.0.1:8080:", run_on_host([*target, "--net", sys.executable, "-c", fetch]).strip())

# %% [markdown]
# ## 5. Sharing on purpose
#
# `--network=container:web` (`network_mode="container:..."`) starts a container **in web's network namespace**:
# same interfaces, same addresses, and the same `localhost`, which is how a sidecar talks to its app (and how
# Kubernetes puts the containers of a pod together).

# %%
if lab.ready_for("engine", task="sharing web's network namespace"):
    side = lab.start("containerlab/busybox", ["sleep", "3600"], name="side", network_mode=f"container:{web.name}")
    print("side fetches http://127.0.0.1:8080/:", lab.exec(side, ["wget", "-qO-", "http://127.0.0.1:8080/"]).output.strip())
    same = lab.exec(side, ["ls", "/sys/class/net"]).output == lab.exec(web, ["ls", "/sys/class/net"]).output
    print("side and web list the same interfaces:", same)

# %% [markdown]
# The same at the command line: a throw-away container (`--rm`) in `$LAB-web`'s network namespace fetches web's page
# from its own `127.0.0.1`.

# %%
# !$ENGINE run --rm --network container:$LAB-web --memory 256m --pids-limit 256 $LABELS containerlab/busybox wget -qO- http://127.0.0.1:8080/

# %% [markdown]
# `--pid=host` leaves the container in the host's PID namespace: it sees every process on the machine, the host's
# PID 1 included, and could signal them. Monitoring agents use it; ordinary apps should not.

# %%
if lab.ready_for("engine", task="sharing the host's PID namespace"):
    pidhost = lab.start("containerlab/busybox", ["sleep", "3600"], name="pidhost", pid_mode="host")
    first = lab.exec(pidhost, ["cat", "/proc/1/cmdline"]).output
    print("PID 1 inside pidhost is the host's PID 1:", first == Path("/proc/1/cmdline").read_text())
    print("pidhost sees this notebook's process:", str(os.getpid()) in lab.exec(pidhost, ["ls", "/proc"]).output.split())

# %% [markdown]
# At the command line, `readlink /proc/self/ns/pid` names the PID namespace a process is in: inside a default
# container, inside one run with `--pid host`, and on the host.

# %% language="bash"
# for mode in "" "--pid host"; do
#     inside=$($ENGINE run --rm $mode --memory 256m --pids-limit 256 $LABELS containerlab/busybox readlink /proc/self/ns/pid)
#     [ "$inside" = "$(readlink /proc/self/ns/pid)" ] && same=the || same="its own, not the"
#     echo "run ${mode:-(default)}: $same host's PID namespace"
# done

# %% [markdown]
# ## 6. The namespace map, live
#
# The explorer starts busybox containers that share whichever of the host's PID, UTS, IPC and NET namespaces you
# tick, or another container's network, and redraws the map from `/proc` each time. It never starts a privileged
# container. Try it: start one with the host's NET, then one in `side`'s network, and watch the letters.

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", "root", task="the namespace explorer"):
    explorer = NamespaceExplorer(lab)
    cl.show(explorer)

# %% [markdown]
# The same explorer driven from code: a container sharing the host's UTS and IPC namespaces. The map reads all of
# this lesson's containers, the flags they were started with under their names.

# %%
if lab.ready_for("engine", "root", task="drawing the namespace map"):
    explorer.start(share=["uts", "ipc"])
    cl.show(explorer.last_diagram)

# %% [markdown]
# ## Exercises
#
# **1.** Which namespaces does the container `pidhost` (started with `--pid=host`) share with the host? Set
# `shared_with_pid_host` to a set of namespace types, e.g. `{"pid", "net"}`. The check reads the real kernel.

# %%
shared_with_pid_host = None  # your answer
check_pid_host_shares(pidhost, shared_with_pid_host) if lab.ready_for("engine", "root", task="grading against the kernel") else None

# %% [markdown]
# **2.** Write a host command (a list of strings) that sets the host name `exercise-02` in a **new UTS namespace**
# and prints it. The check runs it, and makes sure the host's own name did not change.

# %%
uts_command = None  # your answer, e.g. ["unshare", ...]
check_new_uts_hostname(uts_command) if lab.ready_for("root", task="running your command") else None

# %% [markdown]
# **3.** Start a busybox container that is in **web's network namespace** and the **host's UTS namespace**, and
# shares nothing else with the host, and set `mine` to it (what `lab.start()` or `explorer.start()` returns).

# %%
mine = None  # your answer
check_net_and_uts(mine, web) if lab.ready_for("engine", "root", task="grading against the kernel") else None

# %% [markdown]
# **4. In a terminal.** Open one (*File › New › Terminal*) and type the `source` line this cell prints. Start a
# *sidecar*: a busybox container named `$LAB-sidecar`, in the background, running `sleep 3600`, in **`$LAB-web`'s
# network namespace**, with the limits and labels of the commands above. Then
# `$ENGINE exec $LAB-sidecar wget -qO- http://127.0.0.1:8080/`. The check compares its namespaces with web's.

# %% tags=["nbval-ignore-output"]
print("in a terminal, type first:", cli.terminal_line)

# %%
check_sidecar(lab, web) if lab.ready_for("engine", "root", task="checking $LAB-sidecar") else None

# %% [markdown]
# <details><summary>Solutions</summary>
#
# ```python
# shared_with_pid_host = {"pid", "user", "time"}    # --pid=host adds pid; user and time are never a container's own
# if lab.engine.is_podman and lab.engine.cgroup_version == "1":
#     shared_with_pid_host.add("cgroup")            # Podman 4.3 on cgroup v1 ignores --cgroupns private
# check_pid_host_shares(pidhost, shared_with_pid_host)
#
# check_new_uts_hostname(["unshare", "--uts", "sh", "-c", "hostname exercise-02 && hostname"])
#
# mine = lab.start("containerlab/busybox", ["sleep", "3600"], name="mine",
#                  network_mode=f"container:{web.name}", uts_mode="host")
# # or: mine = explorer.start(share=["uts"], network_of="web")
# check_net_and_uts(mine, web)
# ```
# ```bash
# # 4. (in the terminal, after the source line)
# $ENGINE run -d --name $LAB-sidecar --network container:$LAB-web --memory 256m --pids-limit 256 $LABELS containerlab/busybox sleep 3600
# $ENGINE exec $LAB-sidecar wget -qO- http://127.0.0.1:8080/
# ```
# ```python
# check_sidecar(lab, web)
# ```
# `--pid=host` adds only the PID namespace; user and time are the host's for every default container. The cgroup
# namespace is the container's own, since the course starts every container with `--cgroupns private`; only
# Podman on a cgroup v1 host ignores that and shares the host's. (The namespace map of section 3 shows which it is
# on your machine: `os.readlink` of `/proc/self/ns/cgroup` and of the container's PID answers the same.) A container joined to another's network gets that network namespace and
# nothing else: its UTS namespace is new, even though Docker gives it the same host name.
# </details>

# %% [markdown]
# ## References
#
# - The talk's [container 101](https://q15928.github.io/2021/01/09/container-101/) (namespaces, cgroups, rootfs)
# - [namespaces(7)](https://man7.org/linux/man-pages/man7/namespaces.7.html) and one page per type: [pid](https://man7.org/linux/man-pages/man7/pid_namespaces.7.html), [network](https://man7.org/linux/man-pages/man7/network_namespaces.7.html), [mount](https://man7.org/linux/man-pages/man7/mount_namespaces.7.html), [user](https://man7.org/linux/man-pages/man7/user_namespaces.7.html), [cgroup](https://man7.org/linux/man-pages/man7/cgroup_namespaces.7.html), [time](https://man7.org/linux/man-pages/man7/time_namespaces.7.html)
# - [unshare(1)](https://man7.org/linux/man-pages/man1/unshare.1.html), [nsenter(1)](https://man7.org/linux/man-pages/man1/nsenter.1.html)
# - [`docker run`](https://docs.docker.com/reference/cli/docker/container/run/): `--pid`, `--network`, `--uts`, `--ipc`, `--cgroupns`; [podman-run(1)](https://docs.podman.io/en/latest/markdown/podman-run.1.html)
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
