# %% [markdown]
# # 15 · GPUs and HPC
#
# The talk ends its tour of runtimes with **Apptainer** (Singularity): *"open-source platform for building and
# running high-performance containers designed for scientific computing and HPC environments: daemonless, rootless;
# same user inside and outside the container; single-file SIF format; direct file system access; minimum overhead,
# `execv()`."* This notebook explains why a batch cluster wants exactly that, shows each property with what this
# machine has, and how a GPU gets into a container.
#
# **Objectives.** You will
# - know why a shared cluster does not run Docker's daemon, and what Apptainer does instead (`docker://` images
#   turned into one SIF file, your own uid inside, `--bind`), with the commands, since **this machine has no
#   Apptainer**;
# - run a container as **the same user inside and out** for real, with rootless Podman (`--userns=keep-id`);
# - pass a **device** into a container (`--device`) and see how **GPUs** go the same way: `--gpus` (NVIDIA Container
#   Toolkit), **CDI** (`--device nvidia.com/gpu=all`), Apptainer's `--nv`; inject a device through a CDI spec;
# - measure that a program in a container runs at the host's speed;
# - build an image that runs the way batch systems run containers.

# %%
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import containerlab as cl
from containerlab.commands import CommandLine
from containerlab.course.lesson15 import check_batch_image, check_device_container
from containerlab.engine.builds import lesson_tag
from containerlab.engine.overlay import remove_workdir, reset_workdir
from containerlab.engine.runtimes import ensure_podman_image, ordinary_user, podman, podman_ready, rootless_podman

lab = cl.Lab("15-gpus-and-hpc", echo=True)  # echo: print the docker/podman command behind every action
cli = lab.cli_env()                          # $ENGINE, $LAB, $LABELS, $REPO, $WORK for ! and %%bash cells
WORK = lab.workdir
BATCH = lesson_tag(lab, "batch")
cli

# %% tags=["nbval-ignore-output"]
print("engine:", lab.engine.summary() if lab.available else f"none ({lab.why_unavailable})")
print("in a terminal, type first:", cli.terminal_line)

# %% [markdown]
# ## 1. What this machine can and cannot show
#
# Said plainly, before anything else:

# %%
apptainer = shutil.which("apptainer") or shutil.which("singularity")
gpus = sorted(str(path) for path in Path("/dev").glob("nvidia*"))
cdi_dirs = [d for d in ("/etc/cdi", "/var/run/cdi") if Path(d).is_dir() and any(Path(d).iterdir())]
print("Apptainer / Singularity:", apptainer or "not installed (it is in none of this machine's package sources)")
print("NVIDIA GPU devices:", ", ".join(gpus) if gpus else "none (no /dev/nvidia*: there is no GPU here)")
print("nvidia-smi, NVIDIA Container Toolkit:", shutil.which("nvidia-smi") or "not installed", "/",
      shutil.which("nvidia-ctk") or "not installed")
print("CDI device specs:", ", ".join(cdi_dirs) if cdi_dirs else "none installed")

# %% [markdown]
# So the GPU cells below explain and show the mechanism with a device this machine does have; and Apptainer is
# described with its commands, and runs only where it is installed.
#
# ## 2. Why HPC sites run Apptainer, not Docker
#
# On a shared cluster, thousands of users' jobs run on the same nodes under a batch system (Slurm, HTCondor, PBS).
# Notebook 14 showed that whoever may talk to Docker's daemon is root on the node, and a root daemon owns the
# containers, outside the batch system's accounting. Apptainer has no daemon: `apptainer exec` is a program
# **you** run, in your job, that sets up a few namespaces (mount, and user when needed) and `execv()`s your program,
# which stays **your** process, with **your uid**, in the batch system's cgroup.
#
# | | Docker / Podman | Apptainer |
# |---|---|---|
# | who runs it | a daemon (Docker) or your CLI (Podman) | your CLI, in your job |
# | user inside | root unless `--user` | **you**, always (no root inside) |
# | image | layers in the engine's store | **one SIF file** (a squashfs image), copied or shared like any file |
# | files | only what you mount | `$HOME`, `$PWD`, `/tmp` bound by default; `--bind SRC:DST` for more |
# | network | its own namespace | the host's (MPI and fast interconnects just work) |
# | GPUs | `--gpus all` / CDI | `--nv` (NVIDIA), `--rocm` (AMD) |
#
# With Apptainer, the talk's image would go like this (**not run: Apptainer is not installed here**):
#
# ```bash
# apptainer build busybox.sif docker://busybox            # from a registry (Docker Hub, Harbor, ...)
# apptainer build app.sif docker-daemon://containerlab/debian:latest   # from the local Docker engine
# apptainer exec busybox.sif id -u                         # your own uid, not 0
# apptainer exec --bind /data/run42:/data app.sif python3 /data/analyse.py
# apptainer exec --nv pytorch.sif python -c 'import torch; print(torch.cuda.is_available())'
# ```

# %%
if apptainer is None:
    print("Skipped: Apptainer is not installed on this machine, so nothing here runs it.")
elif lab.ready_for("engine", task="building and running a SIF"):
    from containerlab.engine.runtimes import apptainer_demo
    for line in apptainer_demo(lab, apptainer, ordinary_user()):
        print(line)

# %% [markdown]
# ## 3. The same user inside and out
#
# Without Apptainer, rootless Podman shows the same idea for real. Run as this machine's ordinary user (`clabuser`),
# Podman maps root inside to that user outside (notebook 07); with **`--userns=keep-id`** it maps the user's own uid
# to itself instead, so inside and out agree, as in Apptainer. A directory of that user is bound in, and written to:

# %%
user = ordinary_user()
if user is None or not podman_ready(user):
    print("Skipped: rootless Podman needs Podman and an ordinary user with subordinate uids (not here).")
elif lab.ready_for("engine", "root", task="running rootless Podman as an ordinary user"):
    import pwd
    uid = pwd.getpwnam(user).pw_uid
    results = reset_workdir(WORK / "results")
    os.chown(results, uid, uid)
    for mode, options in (("default", []), ("--userns=keep-id", ["--userns=keep-id"])):
        inside = rootless_podman(lab, ["sh", "-c", f"id -u; touch /data/{mode.strip('-')}"], user,
                                 options=[*options, "-v", f"{results}:/data"]).split()[0]
        owner = (results / mode.strip("-")).stat().st_uid
        print(f"rootless, {mode:17} uid inside: {'the same as outside' if inside == str(uid) else inside:20} "
              f"file owner on the host: {'the user' if owner == uid else owner}")

# %% [markdown]
# Either way the file is the user's on the host: the kernel never sees root. `keep-id` also makes `id -u` inside
# tell the truth, which programs that look up their user (and write to `$HOME`) need. Docker users get part of the
# way with `--user "$(id -u):$(id -g)" -v "$PWD:$PWD" -w "$PWD"`: files come out right, but the daemon is still root.
#
# ## 4. Devices, and how a GPU gets in
#
# A container sees only the device nodes the engine puts in its `/dev`, and its **device cgroup** decides which it
# may open. `--device /dev/fuse` does both for the FUSE device:

# %%
PROBE = "test -c /dev/fuse && exec 3</dev/fuse && echo /dev/fuse opened || echo no /dev/fuse"
if lab.ready_for("engine", task="passing a device in"):
    print(lab.run("containerlab/busybox", ["sh", "-c", PROBE]).output, end="")
    print(lab.run("containerlab/busybox", ["sh", "-c", PROBE], devices=["/dev/fuse"]).output, end="")

# %% [markdown]
# The same two runs at the command line: type them, or change the device.

# %% language="bash"
# $ENGINE run --rm --memory 256m --pids-limit 256 $LABELS containerlab/busybox sh -c 'test -c /dev/fuse && echo "/dev/fuse is there" || echo "no /dev/fuse"'
# $ENGINE run --rm --device /dev/fuse --memory 256m --pids-limit 256 $LABELS containerlab/busybox sh -c 'test -c /dev/fuse && echo "/dev/fuse is there" || echo "no /dev/fuse"'

# %% [markdown]
# A GPU needs more than device nodes: the user-space half of the driver (`libcuda.so`, `nvidia-smi`, ...) must
# match the kernel module of **this** host, so it cannot live in the image. Three ways to add both:
#
# - **`docker run --gpus all`**: Docker asks the NVIDIA Container Toolkit's hook to add `/dev/nvidia0`,
#   `/dev/nvidiactl`, `/dev/nvidia-uvm`... and bind-mount the host's driver libraries, just before the container
#   starts.
# - **CDI**, the Container Device Interface: the vendor's tool writes a **spec file** (JSON or YAML, in `/etc/cdi` or
#   `/var/run/cdi`) listing, per device, the nodes, mounts, environment and hooks to add; the engine applies it for
#   `--device nvidia.com/gpu=all`. Podman reads CDI specs since 4.1; Docker since 25 (experimental), not 20.10.
# - **`apptainer exec --nv`**: Apptainer finds the driver's files on the host and binds them in itself.
#
# CDI is plain data, so it can be shown with the device this machine has. A spec for a made-up vendor, giving
# `/dev/fuse` and one environment variable, applied by Podman (needs root, for `/var/run/cdi`):

# %%
SPEC = {"cdiVersion": "0.5.0", "kind": "containerlab.example/device",
        "devices": [{"name": "fuse", "containerEdits": {"deviceNodes": [{"path": "/dev/fuse"}],
                                                        "env": ["CONTAINERLAB_DEVICE=fuse"]}}]}
print(json.dumps(SPEC, indent=1))

# %%
if not shutil.which("podman"):
    print("Skipped: applying a CDI spec needs Podman 4.1 or newer (not installed here).")
elif lab.ready_for("engine", "root", task="applying a CDI spec with Podman"):
    ensure_podman_image(lab)
    spec_file = Path("/var/run/cdi") / f"containerlab-{lab.owner}.json"
    spec_file.parent.mkdir(exist_ok=True)
    spec_file.write_text(json.dumps(SPEC))
    try:
        labels = [word for key, value in lab.labels().items() for word in ("--label", f"{key}={value}")]
        argv = ("run", "--rm", "--device", "containerlab.example/device=fuse", "--memory", "64m", "--pids-limit", "64",
                *labels, "containerlab/busybox", "sh", "-c",
                f'{PROBE}; echo "CONTAINERLAB_DEVICE=$CONTAINERLAB_DEVICE"')
        print("$", CommandLine(("podman", *argv), lab.shell_variables()))
        print(podman(argv).stdout.decode(), end="")
    finally:
        spec_file.unlink()
        try:
            spec_file.parent.rmdir()  # only if no other spec is there
        except OSError:
            pass

# %% [markdown]
# Podman found the device `fuse` of kind `containerlab.example/device` in the spec, and added what it lists.
# `nvidia-ctk cdi generate` writes the same kind of file for every GPU of a host, with its driver's libraries as
# mounts. (On a machine with a GPU and the toolkit: `nvidia-smi -L` lists them, and `docker run --gpus all
# IMAGE nvidia-smi` or `podman run --device nvidia.com/gpu=all IMAGE nvidia-smi` prints the same table inside.)
#
# ## 5. Minimum overhead
#
# A process in a container is an ordinary process: the same kernel, the same CPU, no emulation. The same Python
# loop, timed inside the process, with the host's Debian Python and in a container of the Debian image:

# %% tags=["nbval-ignore-output"]
LOOP = """\
import time
for _ in range(5):
    started = time.perf_counter()
    sum(i * i for i in range(1_000_000))
    print(time.perf_counter() - started)
"""
if lab.ready_for("engine", task="timing a loop inside and outside"):
    python = shutil.which("python3", path="/usr/bin") or sys.executable  # the distribution's Python, like the image's
    host = min(map(float, subprocess.run([python, "-c", LOOP], capture_output=True, text=True).stdout.split()))
    inside = min(map(float, lab.run("containerlab/debian", ["python3", "-c", LOOP], echo=False).output.split()))
    print(f"host {host:.3f} s, container {inside:.3f} s: ratio {inside / host:.2f} (best of 5 each)")

# %% [markdown]
# On a quiet machine the ratio is close to 1 (both are Debian's build of Python 3.11; another build, such as a
# pyenv Python, differs by more than the container does). On a busy, shared machine the numbers jump from run to
# run: the best of five is what the CPU could do when nothing else wanted it. What costs time in a container is
# starting it (notebook 07) and file access through the overlay, which a bind mount avoids (notebook 12); on HPC,
# data sits on the cluster's file systems, bound in.
#
# ## Exercises
#
# **1. In a terminal** (*File › New › Terminal*, then the `source` line printed at the top): start `$LAB-dev`, a
# busybox `sleep 3600` that has the host's `/dev/fuse` passed in. The check reads the engine's record and opens the
# device inside.

# %%
check_device_container(lab) if lab.ready_for("engine", task="checking $LAB-dev") else None

# %% [markdown]
# **2. Build it: a batch-friendly image.** Batch systems run containers the way Apptainer does: as the job's user (any
# uid), with a read-only image, the job's directory bound in. Write `$WORK/batch/Dockerfile` for an image whose default
# command reads numbers (one per line) from `/data/in.txt` and writes `sum N` to `/data/out.txt`; build it as
# `$REPO-batch`. The check runs it as uid 4242 with `--read-only` and a fresh host directory at `/data`.

# %%
batch = reset_workdir(WORK / "batch")
jobs = reset_workdir(WORK / "jobs")
print("write $WORK/batch/Dockerfile; build with: $ENGINE build -t $REPO-batch $LABELS $WORK/batch")

# %%
(check_batch_image(lab, BATCH, batch / "Dockerfile", jobs)
 if lab.ready_for("engine", "root", task="checking it") else None)

# %% [markdown]
# <details><summary>Solutions</summary>
#
# ```bash
# # 1.
# $ENGINE run -d --name $LAB-dev --device /dev/fuse --memory 256m --pids-limit 256 $LABELS containerlab/busybox sleep 3600
# ```
# ```python
# check_device_container(lab)
# ```
# ```bash
# # 2.
# cat > $WORK/batch/Dockerfile <<'EOF'
# FROM containerlab/busybox
# USER 1000
# CMD ["sh", "-c", "awk '{ s += $1 } END { print \"sum\", s }' /data/in.txt > /data/out.txt"]
# EOF
# $ENGINE build -q -t $REPO-batch $LABELS $WORK/batch >/dev/null
# ```
# ```python
# check_batch_image(lab, BATCH, batch / "Dockerfile", jobs)
# ```
# 1. The same flag brings any character device in; `--gpus` and CDI add the GPU's nodes and the driver's libraries.
# 2. Nothing in the command depends on who runs it or writes outside `/data`. `USER 1000` is a safe default for
#    `docker run` without `--user`; the batch run overrides it, as Apptainer always does.
# </details>

# %% [markdown]
# ## References
#
# - The talk: *Playing with Containers* (M. Mambelli, Fermilab, 2024), the Apptainer slide
#   (<https://apptainer.org/>, <https://sylabs.io/>); GlideinWMS runs jobs in Apptainer on the grid, and its
#   [glideinWMS/containers](https://github.com/glideinWMS/containers) repository holds the images
#   (and the [workspaces](https://github.com/glideinWMS/containers/tree/main/workspaces) of the demo).
# - HSF training: [Apptainer/Singularity](https://hsf-training.github.io/hsf-training-singularity-webpage/)
#   (`docker://`, `--bind`, same user) and [Docker](https://hsf-training.github.io/hsf-training-docker/index.html).
# - Apptainer: [user guide](https://apptainer.org/docs/user/latest/), [GPU support (--nv, --rocm)](https://apptainer.org/docs/user/latest/gpu.html),
#   [bind paths](https://apptainer.org/docs/user/latest/bind_paths_and_mounts.html).
# - GPUs: [NVIDIA Container Toolkit](https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/),
#   [CDI specification](https://github.com/cncf-tags/container-device-interface/blob/main/SPEC.md),
#   Docker's [GPU access](https://docs.docker.com/engine/containers/resource_constraints/#gpu) and
#   [CDI](https://docs.docker.com/reference/cli/dockerd/#configure-cdi-devices), Podman's
#   [GPU with CDI](https://podman-desktop.io/docs/podman/gpu).
# - Kernel: the device cgroup ([cgroup v1 devices](https://docs.kernel.org/admin-guide/cgroup-v1/devices.html),
#   v2 uses BPF), [user_namespaces(7)](https://man7.org/linux/man-pages/man7/user_namespaces.7.html); OCI runtime
#   spec, [devices](https://github.com/opencontainers/runtime-spec/blob/main/config-linux.md#devices).

# %% [markdown]
# ## Clean up
#
# Removes this lesson's containers and images (those you typed too, by label or by `$LAB` name), then `$WORK`.

# %%
print(lab.cleanup())
print("work directory removed:", remove_workdir(WORK))
