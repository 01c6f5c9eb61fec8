# %% [markdown]
# # 12 · Data: volumes, bind mounts and tmpfs
#
# A container's files live in its own writable layer on top of the image (notebook 04): fast to start, and gone
# with the container. Anything that must outlive it — a database, a notebook's results, your source code while you
# edit it — goes somewhere else. There are three places, and three ways to get hurt by file ownership.
#
# **Objectives.** You will
# - see a file written in the container's layer vanish with the container;
# - keep data in a **named volume**, share a host directory with a **bind mount**, put scratch space in memory with
#   **tmpfs**, and compare what survives a restart and a removal;
# - find each one in the container's `mountinfo`: volumes and bind mounts **bypass the overlay**;
# - avoid the **uid and permission pitfalls**: the same numbers inside and out, and a new volume that copies the
#   image's directory (owner included) while a bind mount never does;
# - know what SELinux's `:z` and `:Z` do, and why they change nothing on this machine.

# %%
from pathlib import Path

import containerlab as cl
from containerlab.course.lesson12 import check_journal_volume, check_read_only_share, check_volume_ready_image
from containerlab.engine.builds import build, context_files, lesson_tag
from containerlab.engine.overlay import remove_workdir, reset_workdir
from containerlab.kernel.mountinfo import parse_mountinfo

lab = cl.Lab("12-data-volumes-and-mounts", echo=True)  # echo: print the docker/podman command behind every action
cli = lab.cli_env()                  # $ENGINE, $LAB, $LABELS, $REPO, $WORK for ! and %%bash cells
WORK = lab.workdir
SHARED = reset_workdir(WORK / "shared")
ROOT_DATA, DATA_READY = lesson_tag(lab, "root-data"), lesson_tag(lab, "data-ready")
cli

# %% tags=["nbval-ignore-output"]
print("engine:", lab.engine.summary() if lab.available else f"none ({lab.why_unavailable})")
print("in a terminal, type first:", cli.terminal_line)

# %% [markdown]
# ## 1. The container's own layer goes with it
#
# One container writes a file and ends (`run --rm` removes it); a second container from the same image looks for it.

# %%
if lab.ready_for("engine", task="writing in the container's layer"):
    print(lab.run("containerlab/busybox", ["sh", "-c", "echo draft > /notes.txt && cat /notes.txt"]).output)
    print(lab.run("containerlab/busybox", ["cat", "/notes.txt"]).output)

# %% [markdown]
# ## 2. Named volumes
#
# A **named volume** is a directory the engine manages for you. `volume create` makes one (`run -v NAME:/path`
# would too, on first use); any number of containers can mount it, one after another or at the same time.

# %%
if lab.ready_for("engine", task="creating a volume"):
    notes = lab.volume("notes")

# %%
# !$ENGINE run --rm -v $LAB-notes:/notes --memory 256m --pids-limit 256 $LABELS containerlab/busybox sh -c 'echo kept > /notes/todo.txt'
# !$ENGINE run --rm -v $LAB-notes:/notes:ro --memory 256m --pids-limit 256 $LABELS containerlab/busybox cat /notes/todo.txt

# %% [markdown]
# The second container mounted it **read-only** (`:ro`). On the host, a volume is a plain directory under the
# engine's storage (`/var/lib/docker/volumes/NAME/_data`, or `/var/lib/containers/storage/volumes/...` for Podman):

# %% tags=["nbval-ignore-output"] language="bash"
# $ENGINE volume inspect --format '{{.Mountpoint}}' $LAB-notes
# $ENGINE volume ls --filter name=$LAB-

# %%
if lab.ready_for("engine", "root", task="reading the volume from the host"):
    mountpoint = Path(lab.engine.client.api.inspect_volume(notes.name)["Mountpoint"])
    print("the host reads todo.txt there:", (mountpoint / "todo.txt").read_text().strip())

# %% [markdown]
# ## 3. Bind mounts and tmpfs, and where each one lives
#
# A **bind mount** (`-v /host/path:/path`, or `--mount type=bind,src=...,dst=...`) shows a directory of the host
# inside the container: the same files, live, both ways. A **tmpfs** mount (`--tmpfs /path`) is memory: fast,
# private, and gone when the container stops. One container with all three, and a file written in each:

# %%
(SHARED / "from-host.txt").write_text("written on the host\n")
if lab.ready_for("engine", task="a container with a volume, a bind mount and a tmpfs"):
    keeper = lab.start("containerlab/busybox", ["sleep", "3600"], name="keeper",
                       volumes=[f"{notes.name}:/notes", f"{SHARED}:/shared"], tmpfs={"/scratch": "size=16m"})
    print(lab.exec(keeper, ["sh", "-c", "cat /shared/from-host.txt; echo x > /notes/new.txt; "
                                        "echo y > /scratch/s.txt; echo z > /root-note.txt; "
                                        "echo made in the container > /shared/from-container.txt"]).output, end="")
    print("the host sees:", sorted(path.name for path in SHARED.iterdir()))

# %% [markdown]
# The container's **mount table** says what each path is. The kernel writes it to `/proc/PID/mountinfo` (notebook
# 04 read the overlay line): `/` is the overlay of the image's layers and the container's upper dir; `/notes` and
# `/shared` are directories of the host's own filesystem, mounted straight in: **they bypass the overlay**, so
# they have none of its copy-up cost, and nothing written there lands in the container's layer.

# %%
if lab.ready_for("engine", task="reading the container's mount table"):
    table = parse_mountinfo(lab.exec(keeper, ["cat", "/proc/self/mountinfo"], echo=False).output)
    for point in ("/", "/notes", "/shared", "/scratch"):
        mount = next(m for m in table if m.mount_point == point)
        kind = "overlay" if mount.fs_type == "overlay" else "tmpfs (memory)" if mount.fs_type == "tmpfs" else \
            "the host's disk, mounted straight in"
        print(f"{point:9} {kind}")

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", task="showing the raw mount lines"):
    for mount in table:
        if mount.mount_point in ("/", "/notes", "/shared", "/scratch"):
            print(mount.mount_point, mount.fs_type, mount.source, mount.root)

# %% [markdown]
# `diff` lists the container's own layer. The three mount points appear (the engine made empty directories for
# them), but none of the files written inside them: of the four files, only `/root-note.txt` is in the layer.

# %% language="bash"
# $ENGINE diff $LAB-keeper | grep -E 'root-note|/notes|/shared|/scratch' | sort

# %% [markdown]
# Now **restart** the container (`-t 0`: do not wait for `sleep` to handle SIGTERM; it will not) and then remove it:

# %%
# !$ENGINE restart -t 0 $LAB-keeper >/dev/null

# %%
if lab.ready_for("engine", task="comparing what survived"):
    after = lab.exec(keeper, ["sh", "-c", "for f in /root-note.txt /notes/new.txt /shared/from-container.txt "
                                          "/scratch/s.txt; do test -e $f && echo kept || echo gone; done"],
                     echo=False).output.split()
    keeper.remove()
    survivors = lab.run("containerlab/busybox", ["sh", "-c", "ls /notes/new.txt /shared/from-container.txt"],
                        volumes=[f"{notes.name}:/notes", f"{SHARED}:/shared"], echo=False).output.split()
    print(f"{'where':22} {'after restart':14} after rm")
    for where, kept in zip(("the container's layer", "named volume", "bind mount", "tmpfs"), after):
        path = {"named volume": "/notes/new.txt", "bind mount": "/shared/from-container.txt"}.get(where)
        print(f"{where:22} {kept:14} {'kept' if path in survivors else 'gone'}")

# %% [markdown]
# | | named volume | bind mount | tmpfs |
# |---|---|---|---|
# | lives in | the engine's storage | any host directory you name | memory (counts against the container's memory limit) |
# | made by | `volume create`, or first use | you (`-v` makes a missing source dir as root on Docker; Podman and `--mount` refuse) | the engine, at start |
# | starts with | **a copy of the image's files at that path** | the host directory as it is (the image's files there are hidden) | nothing |
# | good for | databases, caches, data the app owns | source code while you edit it, config files, results | secrets, scratch space |
#
# ## 4. Whose files? uid pitfalls
#
# Without a user namespace (rootful Docker and Podman, as here), a process's uid inside is the **same number** on
# the host. Files a container writes to a bind mount belong to that number.

# %%
if lab.ready_for("engine", task="writing as root and as uid 1000"):
    lab.run("containerlab/busybox", ["touch", "/shared/by-root"], volumes=[f"{SHARED}:/shared"])
    denied = lab.run("containerlab/busybox", ["touch", "/shared/by-1000"], volumes=[f"{SHARED}:/shared"],
                     user="1000:1000")
    print("owner of by-root on the host: uid", (SHARED / "by-root").stat().st_uid)
    print("uid 1000 writing to the bind mount:", denied.output.strip())
    print("the host directory:", oct(SHARED.stat().st_mode & 0o777), "owned by uid", SHARED.stat().st_uid)

# %% [markdown]
# On a laptop that is the classic annoyance: a root container leaves root-owned files in your project you cannot
# delete, or a non-root container cannot write where you mounted your directory. The fixes: run the container as
# yourself (`--user "$(id -u):$(id -g)"`), or give the directory to the container's uid (`chown 1000 DIR`), or use a
# **rootless** engine, where uid 0 inside is your own uid outside (notebook 07) and Podman's `--userns=keep-id`
# or the `:U` mount option map the numbers for you.
#
# A **named volume** behaves differently: the first time it is mounted, it is filled with a copy of what the image
# has at that path, **owner and permissions included**. `apps/data-image` is an app that runs as uid 1000 and
# keeps its data in `/data` ... which a `RUN` step created, as root:

# %%
print(Path("apps/data-image/Dockerfile").read_text())
if lab.ready_for("engine", task="building the app with root-owned /data"):
    build(lab, ROOT_DATA, context_files("apps/data-image"), progress=None)
    fresh = lab.volume("fresh")
    print(lab.run(ROOT_DATA, volumes=[f"{fresh.name}:/data"]).output)

# %% [markdown]
# The volume received the image's `seed.txt`, and its owner: root, so uid 1000 cannot write there. A bind mount
# would hide `seed.txt` altogether. The fix belongs in the image: that is exercise 3.
#
# ## 5. SELinux labels: `:z` and `:Z`
#
# On Fedora, RHEL and their kin, SELinux lets a container process read only files labelled for containers. A bind
# mount of your home directory is labelled for you, not for containers, and reads fail with "Permission denied"
# even as root. `-v DIR:/path:z` relabels the files with a label **all** containers may use; `:Z` with one private to
# **this** container. Both change the labels on the host for good: never use them on `/home`, `/etc` or `/usr`.

# %%
selinux = Path("/sys/fs/selinux/enforce")
print("SELinux on this machine:", {"1": "enforcing", "0": "permissive"}.get(
    selinux.read_text().strip(), "?") if selinux.exists() else "not enabled")
if lab.ready_for("engine", task="mounting with :z"):
    print(lab.run("containerlab/busybox", ["cat", "/shared/from-host.txt"], volumes=[f"{SHARED}:/shared:z"]).output,
          end="")

# %% [markdown]
# Without SELinux the engines accept `:z` and change nothing, so this machine cannot show a relabel; on an SELinux
# host, `ls -Z` on the directory afterwards shows `container_file_t`.
#
# ## Exercises
#
# **1. In a terminal** (*File › New › Terminal*, then the `source` line printed at the top): create a named volume
# `$LAB-journal` (with `$LABELS`), and with a busybox container write the line `day one` to `journal.txt` at the
# top of it. The container may be gone by the time you run the check.

# %%
check_journal_volume(lab) if lab.ready_for("engine", task="checking $LAB-journal") else None

# %% [markdown]
# **2.** Start a container `$LAB-reader` that keeps running (`sleep 3600`) and sees the host directory `$WORK/shared`
# at `/shared`, **read-only**. The check reads the engine's record of the mount and tries to write through it.

# %%
check_read_only_share(lab, SHARED) if lab.ready_for("engine", task="checking $LAB-reader") else None

# %% [markdown]
# **3. Build it: an image a fresh volume works with.** The cell copies `apps/data-image` to `$WORK/data-image`.
# Change its Dockerfile so the app keeps running as uid 1000 **and** can write to a new, empty named volume mounted
# at `/data`; build it as `$REPO-data-ready`. The check mounts a brand-new volume and writes as the image's user.

# %%
data_image = reset_workdir(WORK / "data-image")
(data_image / "Dockerfile").write_text(Path("apps/data-image/Dockerfile").read_text())
print("edit $WORK/data-image/Dockerfile, then: $ENGINE build -t $REPO-data-ready $LABELS $WORK/data-image")

# %%
check_volume_ready_image(lab, DATA_READY, data_image / "Dockerfile") if lab.ready_for(
    "engine", task="checking your image") else None

# %% [markdown]
# <details><summary>Solutions</summary>
#
# ```bash
# # 1.
# $ENGINE volume create $LABELS $LAB-journal
# $ENGINE run --rm -v $LAB-journal:/j --memory 256m --pids-limit 256 $LABELS containerlab/busybox sh -c 'echo day one > /j/journal.txt'
# ```
# ```python
# check_journal_volume(lab)
# ```
# ```bash
# # 2.
# $ENGINE run -d --name $LAB-reader -v $WORK/shared:/shared:ro --memory 256m --pids-limit 256 $LABELS containerlab/busybox sleep 3600
# ```
# ```python
# check_read_only_share(lab, SHARED)
# ```
# ```bash
# # 3.
# cat > $WORK/data-image/Dockerfile <<'EOF'
# FROM containerlab/busybox
# RUN mkdir /data && echo "seed data from the image" > /data/seed.txt && chown -R 1000:1000 /data
# USER 1000
# CMD ["sh", "-c", "date > /data/last-run && cat /data/seed.txt"]
# EOF
# $ENGINE build -q -t $REPO-data-ready $LABELS $WORK/data-image >/dev/null
# ```
# ```python
# check_volume_ready_image(lab, DATA_READY, data_image / "Dockerfile")
# ```
# 1. A volume outlives every container that used it; `$ENGINE volume rm` (or `down -v` in compose) removes it.
# 2. `:ro` (or `readonly` in `--mount`) applies to this container only; the host and other containers may still
#    write.
# 3. The `chown` must happen in the image, as root, before `USER 1000`: a new volume copies `/data` with its owner.
#    (The same `RUN` line, so no layer holds a root-owned copy first.)
# </details>

# %% [markdown]
# ## References
#
# - The talk: *Playing with Containers* (M. Mambelli, Fermilab, 2024): overlays and underlays, "direct file system
#   access" for Apptainer; its demo [glideinWMS/containers](https://github.com/glideinWMS/containers) bind-mounts the
#   GlideinWMS source into the [workspaces](https://github.com/glideinWMS/containers/tree/main/workspaces)
#   (`GMWS_PATH`).
# - HSF training: [Docker](https://hsf-training.github.io/hsf-training-docker/index.html) (volumes and bind mounts)
#   and [Apptainer/Singularity](https://hsf-training.github.io/hsf-training-singularity-webpage/) (`--bind`).
# - Docker: [volumes](https://docs.docker.com/engine/storage/volumes/),
#   [bind mounts](https://docs.docker.com/engine/storage/bind-mounts/),
#   [tmpfs](https://docs.docker.com/engine/storage/tmpfs/); Podman:
#   [podman-run(1) --volume](https://docs.podman.io/en/latest/markdown/podman-run.1.html) (`:z`, `:Z`, `:U`).
# - Kernel: [proc_pid_mountinfo(5)](https://man7.org/linux/man-pages/man5/proc_pid_mountinfo.5.html),
#   [overlayfs](https://docs.kernel.org/filesystems/overlayfs.html), [tmpfs](https://docs.kernel.org/filesystems/tmpfs.html);
#   OCI runtime spec, [mounts](https://github.com/opencontainers/runtime-spec/blob/main/config.md#mounts).
# - SELinux and containers: Dan Walsh, ["Using volumes with SELinux"](https://www.redhat.com/sysadmin/user-namespaces-selinux-rootless-containers).

# %% [markdown]
# ## Clean up
#
# Removes this lesson's containers, volumes and images (those you typed too, by label or by `$LAB` name), then
# `$WORK`.

# %%
print(lab.cleanup())
print("work directory removed:", remove_workdir(WORK))
