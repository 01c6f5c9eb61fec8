# %% [markdown]
# # 14 · Security
#
# A container is a process on the host's kernel (notebook 01). What stops root in a container from being root on
# the host is a stack of kernel features the engine sets up for every container, each of which you can switch off
# with a flag. This notebook reads each one from the kernel, tightens it, and loosens it on purpose.
#
# **Objectives.** You will
# - decode a container's **capabilities** from `/proc/PID/status`, compare them with the host's root, drop them
#   all (`--cap-drop ALL`) and add one back;
# - see **seccomp** refuse a system call (`unshare`) with a profile of your own, and what each engine's default does;
# - make the root filesystem **read-only** and run as a **non-root user**;
# - stop a setuid program from gaining privileges with **no-new-privileges**;
# - see why being in the **docker group is root-equivalent**, and what a rootless engine changes;
# - know what **`--privileged`** switches off, and why plain `--privileged` fails on this machine.

# %%

import containerlab as cl
from containerlab.course.lesson14 import check_chown_capability, check_locked_down_image, check_vault
from containerlab.engine.builds import lesson_tag
from containerlab.engine.overlay import remove_workdir, reset_workdir
from containerlab.engine.runtimes import ordinary_user, podman_ready, rootless_podman
from containerlab.kernel.capabilities import CAPABILITIES, parse_security, read_security

lab = cl.Lab("14-security", echo=True)  # echo: print the docker/podman command behind every action
cli = lab.cli_env()                      # $ENGINE, $LAB, $LABELS, $REPO, $WORK for ! and %%bash cells
WORK = lab.workdir
LOCKED = lesson_tag(lab, "locked")
cli

# %% tags=["nbval-ignore-output"]
print("engine:", lab.engine.summary() if lab.available else f"none ({lab.why_unavailable})")
print("in a terminal, type first:", cli.terminal_line)

# %% [markdown]
# ## 1. Capabilities: root, in pieces
#
# Since Linux 2.2, root's power is split into about forty **capabilities**: `CAP_CHOWN` to change any file's owner,
# `CAP_NET_ADMIN` to configure the network, `CAP_SYS_ADMIN` for mounts and much else, `CAP_SYS_MODULE` to load
# kernel modules... The kernel checks the capability, not the uid. `/proc/PID/status` shows a process's sets as 64-bit
# masks in hex, bit N for capability number N. Decoding Docker's default set by hand:

# %%
mask = int("00000000a80425fb", 16)
print([bit for bit in range(64) if mask >> bit & 1])
print([CAPABILITIES[bit] for bit in range(64) if mask >> bit & 1])

# %% [markdown]
# `decode_capabilities` does the same. A container's first process, as the kernel sees it:

# %%
if lab.ready_for("engine", task="reading a container's capabilities"):
    box = lab.start("containerlab/busybox", ["sleep", "3600"], name="box")
    inside = parse_security(lab.exec(box, ["cat", "/proc/1/status"]).output)
    host_root = read_security("self")
    print("root in the container has chown, kill, setuid, net_bind_service:",
          {"chown", "kill", "setuid", "net_bind_service"} <= set(inside.effective))
    print("and lacks sys_admin, net_admin, sys_module, sys_ptrace, sys_time:",
          not {"sys_admin", "net_admin", "sys_module", "sys_ptrace", "sys_time"} & set(inside.effective))
    print("its capabilities are a subset of the host root's:", set(inside.effective) <= set(host_root.effective))

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", task="listing both sets"):
    print(f"container ({lab.engine.name}'s default, {len(inside.effective)}):", ", ".join(inside.effective))
    print(f"this notebook's process ({len(host_root.effective)}):", ", ".join(host_root.effective))

# %% [markdown]
# Docker gives 14 capabilities by default; Podman 11 (it leaves out `mknod`, `net_raw` and `audit_write`). Most
# programs need none: **`--cap-drop ALL`** takes them all, `--cap-add` gives back the ones a program really needs.

# %%
if lab.ready_for("engine", task="dropping capabilities"):
    chown = "grep CapEff /proc/self/status; touch /tmp/f && chown 1000 /tmp/f 2>&1 && echo chown worked"
    print(lab.run("containerlab/busybox", ["sh", "-c", chown], cap_drop=["ALL"]).output)
    print(lab.run("containerlab/busybox", ["sh", "-c", chown], cap_drop=["ALL"], cap_add=["CHOWN"]).output)

# %% [markdown]
# Root with no capabilities cannot even `chown` a file in its own `/tmp`; with only `CAP_CHOWN` (bit 0, mask `...01`)
# it can, and nothing more.
#
# ## 2. seccomp: a filter on system calls
#
# **seccomp** (secure computing) lets a process install a filter that the kernel runs on every system call it makes:
# allow, or refuse with an error. Every container starts with one (`Seccomp: 2` is filter mode):

# %%
if lab.ready_for("engine", task="reading the container's seccomp mode"):
    print(f"Seccomp: {inside.seccomp}, {inside.seccomp_filters} filter(s) | NoNewPrivs: {inside.no_new_privs}")

# %% [markdown]
# A profile is a JSON file: a default action, and rules per system call. This one allows everything but `unshare`,
# the call that makes new namespaces (notebook 02). Write it, then run `unshare --user` with it, and without any:

# %%
profile = reset_workdir(WORK / "seccomp") / "no-unshare.json"
profile.write_text('{"defaultAction": "SCMP_ACT_ALLOW",\n'
                   ' "syscalls": [{"names": ["unshare"], "action": "SCMP_ACT_ERRNO"}]}\n')
print(profile.read_text())

# %% language="bash"
# $ENGINE run --rm --security-opt seccomp=$WORK/seccomp/no-unshare.json --memory 256m --pids-limit 256 $LABELS containerlab/busybox unshare --user true 2>&1
# $ENGINE run --rm --security-opt seccomp=unconfined --memory 256m --pids-limit 256 $LABELS containerlab/busybox unshare --user id -u

# %% [markdown]
# With the profile the kernel refused the call (`EPERM`, "Operation not permitted") before anything happened;
# unconfined, a new user namespace was made (its user shows as 65534, "nobody": nothing is mapped into it yet).
#
# The **default** profiles differ here. Docker's refuses `unshare` of namespaces to a process without
# `CAP_SYS_ADMIN`; Podman's (from containers-common) lets a container make user namespaces, which nested rootless
# containers need. What this engine's default does:

# %% tags=["nbval-ignore-output"]
# !$ENGINE run --rm --memory 256m --pids-limit 256 $LABELS containerlab/busybox sh -c 'unshare --user true 2>&1 && echo "unshare --user: allowed"'

# %% [markdown]
# ## 3. A read-only root, a non-root user
#
# **`--read-only`** mounts the container's root filesystem read-only: nothing, not even root, can change the
# program or its libraries; give it a **tmpfs** where it must write. **`--user UID:GID`** (or `USER` in the
# Dockerfile) runs it as someone else than root.

# %%
if lab.ready_for("engine", task="a read-only root and a non-root user"):
    print(lab.run("containerlab/busybox", ["sh", "-c", "touch /etc/x 2>&1; touch /tmp/x && echo /tmp is writable"],
                  read_only=True, tmpfs={"/tmp": ""}).output)
    print(lab.run("containerlab/busybox", ["sh", "-c", "echo uid $(id -u) gid $(id -g); touch /etc/x 2>&1"],
                  user="1000:1000").output)

# %% [markdown]
# ## 4. no-new-privileges
#
# A **setuid** program runs as its file's owner, whoever starts it: that is how `passwd` or `sudo` gain root. In a
# container, a setuid-root binary is a way back to root for a process that was meant to run as uid 1000. Below,
# root makes one (a copy of Python, owned by root, with the setuid bit, as a careless package might ship), then the
# process drops to uid 1000 with `setpriv` and runs it.

# %%
SETUID_THEN_DROP = ("cp /usr/bin/python3 /usr/local/bin/python3-suid && chmod 4755 /usr/local/bin/python3-suid && "
                    "exec setpriv --reuid=1000 --regid=1000 --clear-groups python3-suid -c "
                    "'import os; print(os.getuid(), os.geteuid())'")
if lab.ready_for("engine", task="a setuid binary, with and without no-new-privileges"):
    for options in ({}, {"security_opt": ["no-new-privileges"]}):
        uid, effective = lab.run("containerlab/debian", ["sh", "-c", SETUID_THEN_DROP], **options).output.split()
        print(f"uid {uid}, effective uid {effective}")

# %% [markdown]
# With **`--security-opt no-new-privileges`** the kernel sets the process's `no_new_privs` flag (`NoNewPrivs: 1`):
# from then on no `execve` can gain privileges, setuid bits and file capabilities are ignored. Almost nothing in a
# container needs them.
#
# ## 5. Why the docker group is root-equivalent
#
# Docker's daemon runs as root; whoever can write to its socket (root, and the members of the `docker` group) can ask
# it for anything, such as a container with the host's `/etc` mounted in. The container's root is the host's root:

# %%
if lab.ready_for("engine", task="reading the host's /etc/shadow through a container"):
    shadow = lab.run("containerlab/busybox", ["sh", "-c", "wc -l < /host-etc/shadow"], volumes=["/etc:/host-etc:ro"])
    print("the container read the host's password hashes (not shown):", shadow.ok and shadow.output.strip().isdigit())

# %% [markdown]
# With `-v /:/host` and `chroot /host` it would be a root shell on the host, no password asked. So: the `docker`
# group is for people who may be root anyway. A **rootless** engine (rootless Podman, or rootless Docker) runs as
# you: root in its containers is your own uid outside (notebook 07), and the same mount reads nothing your user
# cannot read. As this machine's ordinary user, with rootless Podman:

# %%
user = ordinary_user()
if user is None or not podman_ready(user):
    print("Skipped: rootless Podman needs Podman and an ordinary user with subordinate uids (not here).")
elif lab.ready_for("engine", "root", task="comparing with rootless Podman"):
    print(rootless_podman(lab, ["sh", "-c", "id -u; cat /host-etc/shadow >/dev/null"], user,
                          options=["-v", "/etc:/host-etc:ro"], check=False).strip())

# %% [markdown]
# uid 0 inside, but the kernel sees an ordinary user, and `/etc/shadow` is not theirs to read.
#
# ## 6. `--privileged`
#
# `--privileged` switches the whole stack off at once: **every** capability, no seccomp filter, no AppArmor or
# SELinux confinement, every host device in `/dev`, a writable `/sys` and unmasked `/proc`. It is what nested engines
# and some hardware tools ask for, and the opposite of everything above. The course asks for it only here, to show
# that: `privileged_because` says why.

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", task="trying plain --privileged"):
    try:
        lab.run("containerlab/busybox", ["true"], privileged=True,
                privileged_because="lesson 14 contrasts --privileged with the default confinement")
        print(f"{lab.engine.name}: --privileged started")
    except cl.LabError as err:
        print(f"{lab.engine.name}: --privileged refused: {err.message.split('container: ', 1)[-1]}")

# %% [markdown]
# **On this machine plain `--privileged` fails with Docker** ("unable to apply caps: operation not permitted"):
# the machine's own root lacks one capability, `CAP_SYS_RESOURCE`, in its **bounding set** (the most any process
# here may ever hold), and Docker 20.10's runc asks for all of them. Podman asks only for what the bounding set
# allows, so there it starts. The bounding set of this notebook's process:

# %%
host_bounding = read_security("self").bounding
print("CAP_SYS_RESOURCE in this machine's bounding set:", "sys_resource" in host_bounding)

# %% [markdown]
# The whole list of what is missing depends on where the notebook runs: inside the course box, which an engine
# started with its own idea of "all capabilities", the newest ones (`perfmon`, `bpf`, `checkpoint_restore`, added in
# Linux 5.8 and 5.9) are missing too when that engine predates them, as Docker 20.10 does.

# %% tags=["nbval-ignore-output"]
print("capabilities missing from this machine's bounding set:", [c for c in CAPABILITIES if c not in host_bounding])

# %% [markdown]
# What works on both: the same switches one by one, leaving out the capability the machine does not have. With them,
# root in the container may mount filesystems, which the default forbids:

# %%
MOUNT = "mkdir -p /tmp/m && mount -t tmpfs lab /tmp/m 2>&1 && echo mounted a tmpfs"
if lab.ready_for("engine", task="loosening the confinement by hand"):
    print(lab.run("containerlab/busybox", ["sh", "-c", MOUNT]).output, end="")
    loose = lab.run("containerlab/busybox", ["sh", "-c", f"cat /proc/self/status; {MOUNT}"], cap_add=["ALL"],
                    cap_drop=["SYS_RESOURCE"], security_opt=["seccomp=unconfined", "apparmor=unconfined"])
    opened = parse_security(loose.output)
    print("sys_admin:", "sys_admin" in opened.effective, "| seccomp:", opened.seccomp, "|",
          loose.output.split("\n")[-2])

# %% [markdown]
# (The course box, notebook 00's Docker-in-Docker, starts its nested engine with these flags for the same reason.)
#
# ## Exercises
#
# **1. In a terminal** (*File › New › Terminal*, then the `source` line printed at the top): start `$LAB-vault`, a
# busybox `sleep 3600`, locked down: read-only root, uid 1000, **no** capabilities, no new privileges. The check reads
# the engine's record and the kernel's `/proc/1/status` inside it.

# %%
check_vault(lab) if lab.ready_for("engine", task="checking $LAB-vault") else None

# %% [markdown]
# **2. Build it: an image that works locked down.** Write `$WORK/locked/Dockerfile` for a web server that answers
# `locked down` on port 8080, and build it as `$REPO-locked`. The check runs it with `--read-only --cap-drop ALL
# --security-opt no-new-privileges --tmpfs /tmp` and fetches the page.

# %%
locked = reset_workdir(WORK / "locked")
print("write $WORK/locked/Dockerfile; build with: $ENGINE build -t $REPO-locked $LABELS $WORK/locked")

# %%
check_locked_down_image(lab, LOCKED, locked / "Dockerfile") if lab.ready_for("engine", task="checking it") else None

# %% [markdown]
# **3.** After `--cap-drop ALL`, which **one** capability must you add back so that root can `chown` a file? Set
# `needed` to its name. The check runs a container with only that capability.

# %%
needed = None  # your answer, e.g. "NET_ADMIN"
check_chown_capability(lab, needed) if lab.ready_for("engine", task="trying your capability") else None

# %% [markdown]
# <details><summary>Solutions</summary>
#
# ```bash
# # 1.
# $ENGINE run -d --name $LAB-vault --read-only --user 1000:1000 --cap-drop ALL --security-opt no-new-privileges --memory 256m --pids-limit 256 $LABELS containerlab/busybox sleep 3600
# ```
# ```python
# check_vault(lab)
# ```
# ```bash
# # 2.
# cat > $WORK/locked/Dockerfile <<'EOF'
# FROM containerlab/busybox
# RUN mkdir /www && echo locked down > /www/index.html
# USER 1000
# CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
# EOF
# $ENGINE build -q -t $REPO-locked $LABELS $WORK/locked >/dev/null
# ```
# ```python
# check_locked_down_image(lab, LOCKED, locked / "Dockerfile")
# check_chown_capability(lab, "CHOWN")
# ```
# 1. Each flag closes one door: a changed binary, root's uid, root's capabilities, setuid programs.
# 2. The page is written at build time (the root filesystem is read-only at run time), the port is above 1023 and
#    the user is not root, so it needs no capability at all.
# 3. `CAP_CHOWN`. `SYS_ADMIN` or `ALL` would also let it through, with far more besides.
# </details>

# %% [markdown]
# ## References
#
# - The talk: *Playing with Containers* (M. Mambelli, Fermilab, 2024): "Linux Security Modules: SELinux, TOMOYO,
#   AppArmor, Smack" in its kernel table, and Podman "daemonless, rootless"; its demo
#   [glideinWMS/containers](https://github.com/glideinWMS/containers) ([workspaces](https://github.com/glideinWMS/containers/tree/main/workspaces))
#   runs under rootless Podman.
# - HSF training: [Docker](https://hsf-training.github.io/hsf-training-docker/index.html) and
#   [Apptainer/Singularity](https://hsf-training.github.io/hsf-training-singularity-webpage/) (no root inside by design).
# - Docker: [security](https://docs.docker.com/engine/security/), [seccomp profiles](https://docs.docker.com/engine/security/seccomp/),
#   [the docker group](https://docs.docker.com/engine/install/linux-postinstall/#manage-docker-as-a-non-root-user),
#   [rootless mode](https://docs.docker.com/engine/security/rootless/); Podman:
#   [rootless tutorial](https://github.com/containers/podman/blob/main/docs/tutorials/rootless_tutorial.md).
# - Kernel: [capabilities(7)](https://man7.org/linux/man-pages/man7/capabilities.7.html),
#   [seccomp](https://docs.kernel.org/userspace-api/seccomp_filter.html),
#   [no_new_privs](https://docs.kernel.org/userspace-api/no_new_privs.html),
#   [proc_pid_status(5)](https://man7.org/linux/man-pages/man5/proc_pid_status.5.html); OCI runtime spec:
#   [process capabilities, noNewPrivileges](https://github.com/opencontainers/runtime-spec/blob/main/config.md#process),
#   [seccomp](https://github.com/opencontainers/runtime-spec/blob/main/config-linux.md#seccomp).

# %% [markdown]
# ## Clean up
#
# Removes this lesson's containers and images (those you typed too, by label or by `$LAB` name), then `$WORK`.

# %%
print(lab.cleanup())
print("work directory removed:", remove_workdir(WORK))
