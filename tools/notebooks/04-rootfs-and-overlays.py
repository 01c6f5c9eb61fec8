# %% [markdown]
# # 04 · Root filesystems and overlays
#
# The talk lists three ingredients of a container: isolation with namespaces, resource limits with cgroups, and
# **"packaging files and dependencies with rootfs"**. Then it shows how images and containers share those files:
# **"overlays and underlays (UnionFS/aufs)"**, and the *whiteout files* that record a deletion.
# This notebook takes both apart on a real kernel.
#
# **Objectives.** You will see for yourself that
# - a container's root filesystem is an ordinary **directory tree**: export one, `chroot` into it, and the host's
#   files are gone from view;
# - **overlayfs** stacks read-only *lower* dirs under a writable *upper* dir and shows their union at *merged*;
#   writing a lower file **copies it up**, deleting one leaves a **whiteout**, re-creating a directory makes it
#   **opaque**;
# - a running container's `/` is exactly such a mount: its **lowerdirs are the image's layers** (plus the engine's
#   init layer) and its **upper dir holds everything the container wrote**, which `docker diff` reports.
#
# Each Python call that drives the engine prints the `docker` (or `podman`) command it stands for; the `!` and
# `%%bash` cells are commands you type yourself.

# %%
import os
import shutil
import stat
from pathlib import Path

import containerlab as cl
from containerlab.course.lesson04 import (
    check_deleted_in_terminal,
    check_layer_hides,
    check_layer_position,
    check_whiteout_marker,
    check_whiteout_path,
)
from containerlab.engine.overlay import (
    LAYERS_DOCKERFILE,
    OWN_LAYERS,
    HandOverlay,
    build_layers_image,
    chroot_run,
    container_overlay,
    export_rootfs,
    layers_image,
    mounts_under,
    remove_workdir,
    reset_workdir,
    workdir_for,
)
from containerlab.kernel.mountinfo import read_mountinfo, root_mount
from containerlab.kernel.overlay import OPAQUE_XATTR, is_whiteout
from containerlab.render.layers import side_by_side

lab = cl.Lab("04-rootfs-and-overlays", echo=True)  # echo: print the docker/podman command behind every action
cli = lab.cli_env()                                # $ENGINE, $LAB, $LABELS, ... for the ! and %%bash cells
WORK = workdir_for(lab)  # this lesson's scratch directory in /tmp, removed by the clean-up cell
LAYERED_IMAGE = layers_image(lab)  # the image section 3 builds, tagged with your name: learners may share an engine

# %% [markdown]
# ## 1. A root filesystem is just a directory tree
#
# An image is, first of all, files: a `/bin/sh`, an `/etc/passwd`, libraries. `docker export` writes a container's
# whole file tree as a tar stream. Unpack it into a plain directory (safely: no entry may point outside it) and look.

# %%
if lab.ready_for("engine", "root", task="exporting a container's root filesystem"):
    reset_workdir(WORK)
    rootfs = export_rootfs(lab, WORK / "rootfs", image="containerlab/busybox")
    print("top of the exported tree:", " ".join(sorted(os.listdir(rootfs))))
    print("/bin/sh is a symlink to:", os.readlink(rootfs / "bin/sh"))

# %% [markdown]
# At the command line, `export` writes the tar stream to standard output; `tar -t` lists it. `create` makes a
# container without starting it: its files exist all the same.

# %% language="bash"
# $ENGINE create --name $LAB-tarred --memory 256m --pids-limit 256 $LABELS containerlab/busybox >/dev/null
# $ENGINE export $LAB-tarred | tar -tf - | grep -E '^(bin/sh|etc/passwd)$'
# $ENGINE rm $LAB-tarred >/dev/null

# %% [markdown]
# `chroot DIR COMMAND` runs a command with DIR as its `/`: every path it opens is looked up inside DIR.
# The shell below is the busybox from the image, and the `/etc/passwd` it reads is the image's, not the host's.

# %%
if lab.ready_for("engine", "root", task="running a shell chrooted into the exported tree"):
    inside = chroot_run(rootfs, "ls /; echo ---; cat /etc/passwd")
    print(inside.stdout, end="")
    for path in ("/etc/os-release", "/usr", "/etc/passwd"):
        seen = chroot_run(rootfs, f"test -e {path} && echo True || echo False").stdout.strip()
        print(f"{path:16} exists on the host: {os.path.exists(path)!s:5}  inside the chroot: {seen}")

# %% [markdown]
# That is the **rootfs** of the talk: the image carries its user space as a directory tree, and the kernel is
# told to use it as `/`. `chroot` alone is not a container, though: the chrooted shell still shares the host's
# processes, network and hostname, and root can climb out of a plain chroot. Engines use `pivot_root` inside a new
# mount namespace instead (notebook 10 does it by hand).

# %% [markdown]
# ## 2. An overlay, mounted by hand
#
# Images share files: a hundred containers of one image do not get a hundred copies. **overlayfs** makes that
# work. It takes read-only **lower** dirs, one writable **upper** dir and a scratch **work** dir, and shows their
# union at a **merged** mount point:
#
# `mount -t overlay overlay -o lowerdir=lower2:lower1,upperdir=upper,workdir=work merged`
#
# The first lowerdir is the **top** one: when two layers hold the same path, the higher one wins.

# %%
LOWER1 = {"etc/motd": "hello", "shared.txt": "lower1 copy", "docs/a.txt": "doc a", "docs/b.txt": "doc b"}
LOWER2 = {"shared.txt": "lower2 copy", "app.txt": "app v1"}

if lab.ready_for("root", task="mounting an overlay by hand"):
    hand = HandOverlay.create(WORK / "overlay", {"lower1": LOWER1, "lower2": LOWER2})
    print("$", " ".join(hand.command))
    with hand.mounted():
        print(hand.table())

# %% [markdown]
# Each cell here mounts the overlay, does one thing through `merged/`, prints the directories side by side and
# unmounts again in a `finally`. Nothing is lost in between: the changes live in `upper/`, just as a stopped
# container keeps its writable layer.
#
# **Copy-up.** Lower dirs are never written. Appending to `etc/motd` through the mount copies the whole file up
# into `upper/` first, then changes the copy.

# %%
if lab.ready_for("root", task="writing to a lower file through the overlay"):
    with hand.mounted() as merged:
        with open(merged / "etc/motd", "a") as motd:
            motd.write("edited\n")
        print(hand.table())
    print("lower1/etc/motd unchanged:", (hand.root / "lower1/etc/motd").read_text() == "hello\n")

# %% [markdown]
# **Whiteout.** `lower2/app.txt` cannot be deleted either. Instead overlayfs puts a **whiteout** in `upper/`: a
# character device with device number 0/0, which means "this path is gone" to every layer below.

# %%
if lab.ready_for("root", task="deleting a lower file through the overlay"):
    with hand.mounted() as merged:
        (merged / "app.txt").unlink()
        print(hand.table())
    info = os.lstat(hand.upper / "app.txt")
    print("upper/app.txt is a character device:", stat.S_ISCHR(info.st_mode))
    print("its device number (major/minor):", f"{os.major(info.st_rdev)}/{os.minor(info.st_rdev)}")
    print("so it is a whiteout:", is_whiteout(info.st_mode, info.st_rdev))
    print("lower2/app.txt is still there:", (hand.root / "lower2/app.txt").exists())

# %% [markdown]
# **Opaque directory.** Remove the whole `docs/` directory and make a new one of the same name. Whiteouts for each
# old file would do, but overlayfs marks the new upper directory **opaque** instead (the extended attribute
# `trusted.overlay.opaque="y"`): nothing below it shows through any more.

# %%
if lab.ready_for("root", task="replacing a lower directory through the overlay"):
    with hand.mounted() as merged:
        shutil.rmtree(merged / "docs")
        (merged / "docs").mkdir()
        (merged / "docs/new.txt").write_text("new doc\n")
        print(hand.table())
    print(f"{OPAQUE_XATTR} on upper/docs:", os.getxattr(hand.upper / "docs", OPAQUE_XATTR))
    print("mounted under the work dir now:", mounts_under(WORK))

# %% [markdown]
# The same overlay as a stack: the layers in the order overlayfs searches them, each with the files it adds (+),
# changes (~) and deletes (−) over the ones below.

# %%
if lab.ready_for("root", task="drawing the hand-made overlay"):
    cl.show(hand.stack())

# %% [markdown]
# ## 3. A container's root is an overlay of its image's layers
#
# Build a small image: the course's busybox image plus three layers of its own. Each filesystem-changing
# instruction (`COPY`, `RUN`) makes one read-only layer. The image is tagged with your name
# (`containerlab/lesson04-layers:<you>`), so learners who share one engine never use or remove each other's.

# %%
if lab.ready_for("engine", task="building a small image with three layers of its own"):
    print(LAYERS_DOCKERFILE)
    build_layers_image(lab)

# %% [markdown]
# Start a container of it and read its root mount from the host, in `/proc/<its PID>/mountinfo`: the same
# `overlay` mount you made by hand, with the engine's directories as lowerdirs and upperdir.

# %%
if lab.ready_for("engine", "root", task="reading a container's overlay mount from the host"):
    layered = lab.start(LAYERED_IMAGE, ["sleep", "3600"], name="layered")
    mount = root_mount(read_mountinfo(layered.pid))  # its / as the kernel describes it to the host
    print("root mount of layered:", mount.fs_type, "at", mount.mount_point)
    print("lowerdirs:", len(mount.overlay.lowerdirs),
          "| upperdir and workdir set:", bool(mount.overlay.upperdir and mount.overlay.workdir))
    overlay = container_overlay(lab, layered)  # the same mount, next to the image's layers
    print("every lowerdir is a short symlink in an l/ directory:",
          all(lower.via_link and Path(lower.mounted_as).parent.name == "l" for lower in overlay.lowers))
    print("resolved, they are what docker inspect reports (GraphDriver.Data):", overlay.agrees_with_inspect)

# %% [markdown]
# The raw facts, for the curious (the names differ on every machine): the mount's first lowerdirs, and where
# overlay2's short links point.

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", "root", task="showing the raw mount options"):
    print("lowerdir=" + ":".join(overlay.options.lowerdirs[:2]) + ":...")
    print("upperdir=" + overlay.upper)
    for lower in overlay.lowers[:2]:
        print(lower.mounted_as, "->", os.readlink(lower.mounted_as))

# %% [markdown]
# Which lowerdir is which layer? Resolve each link and compare with the image's own layer directories
# (`docker inspect` of the image) and the history that made them. The first lowerdir is no image layer at all: the
# engine's **init layer**, with the files it writes for each container (`/etc/hosts`, `/etc/hostname`, ...).

# %%
if lab.ready_for("engine", "root", task="mapping lowerdirs to image layers"):
    steps = lab.engine.client.api.history(LAYERED_IMAGE)
    print(f"the image's history has {len(steps)} steps; {len(overlay.layers)} made a layer (RootFS.Layers), "
          "the others (ENV, CMD, LABEL) only changed its config")
    for lower in overlay.lowers:
        print(f"lowerdir {lower.position + 1}: {lower.describe()}")

# %% [markdown]
# Now change the container: add a file, append to a file of an image layer, delete another. From the host, the
# upper dir shows all three: the new file, the copied-up file and a whiteout.

# %%
if lab.ready_for("engine", "root", task="writing inside the container and reading its upper dir"):
    lab.exec(layered, ["sh", "-c", "echo hello > /tmp/hello && echo more >> /srv/www/index.html && rm /etc/motd"])
    print(side_by_side({"upper dir on the host": overlay.upper_entries()}, width=24))
    info = os.lstat(os.path.join(overlay.upper, "etc/motd"))
    print("upper/etc/motd is a whiteout:", is_whiteout(info.st_mode, info.st_rdev))
    print("/etc/motd inside the container:", "exists" if lab.exec(layered, "test -e /etc/motd").ok else "gone")
    print("the image layer still has it:", any(os.path.exists(os.path.join(lower.path, "etc/motd"))
                                               for lower in overlay.lowers))

# %% [markdown]
# `docker diff` reports a container's changes as A (added), C (changed) and D (deleted). It is the upper dir, read
# against the layers below it. (Docker also lists the directories copied up to hold a change, like `C /srv`;
# Podman leaves those out, so the comparison is on files.)

# %%
if lab.ready_for("engine", "root", task="comparing docker diff with the upper dir"):
    engine_view = overlay.engine_changes()
    print("\n".join(str(change) for change in engine_view))
    copied_up_dirs = {"/" + entry.path.strip("/") for entry in overlay.upper_entries() if entry.kind == "dir"}
    print("docker diff agrees with the upper dir on every file:",
          [c for c in engine_view if c.path not in copied_up_dirs] ==
          [c for c in overlay.changes() if c.path not in copied_up_dirs])

# %% [markdown]
# Typed: `$ENGINE diff` lists the same changes (`sort -k2` orders them by path). Docker lists the copied-up
# directories too; Podman does not.

# %%
# !$ENGINE diff $LAB-layered | sort -k2

# %% [markdown]
# The whole stack. File counts are shown for the image's own three layers and the writable layer (the base
# layers' counts depend on the host's busybox build); sizes are rounded to an order of magnitude.

# %%
if lab.ready_for("engine", "root", task="drawing the container's layer stack"):
    cl.show(overlay.stack(counted=OWN_LAYERS))

# %% [markdown]
# ### No engine or no root? Your own root filesystem
#
# On Binder and in many cloud notebooks, this notebook itself runs in a container, and its `/` is an overlay mount
# too. This reads it from `/proc/self/mountinfo`, which needs neither an engine nor root.

# %% tags=["nbval-ignore-output"]
own_root = root_mount(read_mountinfo("self"))
print(f"this notebook's / is mounted as: {own_root.fs_type}")
if own_root.overlay is not None:
    print(f"an overlay: {len(own_root.overlay.lowerdirs)} lowerdir(s), upperdir {own_root.overlay.upperdir}")
else:
    print("not an overlay: this notebook runs on the host's own root filesystem")

# %% [markdown]
# ## Exercises
#
# **1.** What marks a whiteout in an upper dir? Set `whiteout` to a tuple: its file type and its two device
# numbers (major, minor). Look at `upper/app.txt` from section 2 with `os.lstat`.

# %%
whiteout = None  # your answer: (file type, major, minor)
check_whiteout_marker(whiteout)

# %% [markdown]
# **2.** The container `layered` deleted `/etc/motd` in section 3. Which **host path** marks that deletion? Set
# `motd_whiteout` to it (`overlay.upper` is the container's upper dir).

# %%
motd_whiteout = None  # your answer: a path on the host
check_whiteout_path(motd_whiteout, overlay.upper) if lab.ready_for("engine", "root", task="exercise 2") else None

# %% [markdown]
# **3.** At which position in the container's `lowerdir=` list (1 = the first one) is the layer that
# `COPY motd /etc/motd` made? Work it out from the Dockerfile and what you know about the order, then check.

# %%
motd_position = None  # your answer: a whole number
check_layer_position(motd_position, overlay.lowers) if lab.ready_for("engine", "root", task="exercise 3") else None

# %% [markdown]
# **4. In a terminal.** Open one (*File › New › Terminal*) and type the `source` line this cell prints. Delete the
# directory `/srv/www` inside the running `$LAB-layered` (with `$ENGINE exec`), then list the container's changes
# with `$ENGINE diff`. The check looks for the whiteout in the container's upper dir on the host, and in the diff.

# %% tags=["nbval-ignore-output"]
print("in a terminal, type first:", lab.cli_env().terminal_line)  # (re)writes $WORK/cli.env, emptied in section 1

# %%
check_deleted_in_terminal(lab, overlay) if lab.ready_for("engine", "root", task="exercise 4") else None

# %% [markdown]
# **5. Build it: a layer by hand.** An image layer is a directory of changes. The cell below makes a *base* layer
# with two files, `keep.txt` and `secret.txt`, and an empty directory `layer`. Fill `layer` (from Python or in a
# terminal, as root) so that, stacked on the base, it **deletes** `secret.txt` and **adds** `hello.txt` holding `hi`.
# Do not touch the base: a layer never changes the layers below it.
#
# The check stacks the two as an engine stacks an image's layers, read-only with your layer on top
# (`mount -t overlay overlay -o lowerdir=layer:base merged`), and reads the union at `merged/`.

# %%
if lab.ready_for("root", task="making a base layer for exercise 5"):
    BUILD = reset_workdir(WORK / "build-a-layer")
    (BUILD / "base").mkdir()
    (BUILD / "layer").mkdir()
    (BUILD / "base/keep.txt").write_text("kept\n")
    (BUILD / "base/secret.txt").write_text("do not ship me\n")
    print("base:", sorted(os.listdir(BUILD / "base")), "| layer:", sorted(os.listdir(BUILD / "layer")))

# %%
# your answer: make the entries of BUILD / "layer" here (or in a terminal), then run the check
check_layer_hides(BUILD / "layer", BUILD / "base") if lab.ready_for("root", task="exercise 5") else None

# %% [markdown]
# <details><summary>Solutions</summary>
#
# ```python
# check_whiteout_marker(("character device", 0, 0))
#
# check_whiteout_path(os.path.join(overlay.upper, "etc/motd"), overlay.upper)
#
# check_layer_position(4, overlay.lowers)
# ```
# ```bash
# # 4. (in the terminal, after the source line)
# $ENGINE exec $LAB-layered rm -r /srv/www
# $ENGINE diff $LAB-layered
# ```
# ```python
# check_deleted_in_terminal(lab, overlay)
#
# os.mknod(BUILD / "layer/secret.txt", stat.S_IFCHR | 0o600, os.makedev(0, 0))  # the whiteout
# (BUILD / "layer/hello.txt").write_text("hi\n")
# check_layer_hides(BUILD / "layer", BUILD / "base")
# ```
# A whiteout is a character device numbered 0/0 (`ls -l` shows `c---------  0, 0`). The deletion of `/etc/motd`
# is recorded in the container's own upper dir, at `etc/motd`; the image layer underneath keeps the file, which is
# why deleting files in a later layer never makes an image smaller. In `lowerdir=` the top comes first: the init
# layer (1), then the image's layers from the top down: `COPY app/` (2), `RUN mkdir` (3), `COPY motd` (4), and the
# four busybox layers below. Deleting a whole directory of a lower layer leaves one whiteout, named like the
# directory, whatever it held. A layer made by hand needs the same whiteout overlayfs made for you in section 2:
# `mknod layer/secret.txt c 0 0` in a terminal does it too. Delete `secret.txt` from the base instead, and every
# image built on that base changes: that is why layers are read-only.
# </details>

# %% [markdown]
# ## References
#
# - The talk's overlays: [what an overlay is](https://embeddedcomputing.com/technology/processing/understand-what-an-overlays-is-and-how-it-works),
#   [whiteout files](https://www.nemunai.re/post/unveiling-whiteout-files/)
# - The kernel's [Overlay Filesystem](https://docs.kernel.org/filesystems/overlayfs.html) (copy-up, whiteouts,
#   opaque directories); [chroot(2)](https://man7.org/linux/man-pages/man2/chroot.2.html),
#   [pivot_root(2)](https://man7.org/linux/man-pages/man2/pivot_root.2.html),
#   [mount(8)](https://man7.org/linux/man-pages/man8/mount.8.html)
# - Docker's [OverlayFS storage driver](https://docs.docker.com/engine/storage/drivers/overlayfs-driver/) and
#   [`docker diff`](https://docs.docker.com/reference/cli/docker/container/diff/); the OCI image specification's
#   [layers and whiteouts](https://github.com/opencontainers/image-spec/blob/main/layer.md)
# - The course's source: the talk *Playing with Containers* (Marco Mambelli, Fermilab, 2024) and its demo,
#   [glideinWMS/containers](https://github.com/glideinWMS/containers)
#   ([workspaces](https://github.com/glideinWMS/containers/tree/main/workspaces)).
# - HSF training: [Docker](https://hsf-training.github.io/hsf-training-docker/index.html) and
#   [Apptainer/Singularity](https://hsf-training.github.io/hsf-training-singularity-webpage/).

# %% [markdown]
# ## Clean up
#
# Removes the lesson's containers and the image it built, then its work directory (unmounting anything left there).

# %%
print(lab.cleanup())
print("work directory removed:", remove_workdir(WORK))
