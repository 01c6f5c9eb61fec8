# %% [markdown]
# # 05 · Images and Dockerfiles
#
# The talk calls a container image a **"read only template used to create containers"**, and describes the file
# that makes one, the **Dockerfile**: *starting from another image, one layer for each RUN line, one entry point
# (CMD)*. Its example is four lines long:
#
# ```dockerfile
# FROM ubuntu:22.04
# COPY . /app
# RUN make /app
# CMD python /app/app.py
# ```
#
# This notebook builds that example for real (offline: `FROM containerlab/debian`, and a `RUN` that needs no
# network), then takes the result apart.
#
# **Objectives.** You will see for yourself that
# - an image is a **stack of read-only layers** plus a **config** (command, environment, history), and you can open
#   one as a tarball with no engine at all;
# - each **filesystem-changing instruction** (`COPY`, `RUN`, `ADD`) makes **one layer**; `CMD`, `ENV` and friends
#   change only the config;
# - the **build cache** reuses a step when the same instruction runs on the same parent, and which change makes
#   which steps rebuild;
# - **.dockerignore** keeps the build context small; **CMD** and **ENTRYPOINT** differ when you pass arguments;
# - a **multi-stage** build ships only what the last stage needs;
# - a secret **deleted in a later layer is still in the image**, and how to build so that it never gets there;
# - build, inspect and run an image with the `docker` (or `podman`) CLI: each Python call prints the command it
#   stands for, and you type some yourself.

# %%
import re
import tempfile
from functools import partial
from pathlib import Path

import containerlab as cl
from containerlab.course.lesson05 import (
    check_cli_build,
    check_dockerfile_prints,
    check_layer_count,
    check_rebuilt_lines,
    check_recovered_secret,
)
from containerlab.engine.builds import (
    build,
    build_and_run,
    context_files,
    context_tar,
    image_size,
    lesson_tag,
    save,
    saved_bytes,
)
from containerlab.engine.images import BUSYBOX_IMAGE, find_static_busybox
from containerlab.engine.overlay import remove_workdir, reset_workdir, workdir_for
from containerlab.images import busybox_image, extract_layer, read_image
from containerlab.images.dockerfile import lint, map_to_history, parse_dockerfile
from containerlab.render.layers import size_category
from containerlab.text import human_size
from containerlab.widgets.layers import LayerExplorer

lab = cl.Lab("05-images-and-dockerfiles", echo=True)  # echo: print the docker/podman command behind every action
cli = lab.cli_env()                                   # $ENGINE, $LAB, $LABELS, $REPO, $WORK for ! and %%bash cells
APP = Path("apps/image-demo")            # the talk's example: Dockerfile, app.py, message.txt, .dockerignore
SECRET_DEMO = Path("apps/secret-demo")   # a Dockerfile that leaks a key, and one that does not
WORK = workdir_for(lab)                  # scratch space in /tmp, removed by the clean-up cell
APP_V1, APP_V2 = lesson_tag(lab, "app", "v1"), lesson_tag(lab, "app", "v2")  # tagged with your name: engines
SMALL, LEAKY, FIXED = (lesson_tag(lab, name) for name in ("small", "leaky", "fixed"))  # may be shared

# %% tags=["nbval-ignore-output"]
print("engine:", lab.engine.summary() if lab.available else f"none ({lab.why_unavailable})")

# %% [markdown]
# ## 1. An image is layers and a config, in a tarball
#
# No engine is needed to make an image: it is a few tar files and JSON documents that name each other by their
# sha256 digest. The cell below builds the course's busybox image **in pure Python** from this machine's static
# busybox binary, as an OCI image tarball, then reads it back with the course's layer reader.

# %%
try:
    busybox_tarball = busybox_image(Path(find_static_busybox()).read_bytes())
    offline = read_image(busybox_tarball.data)
    print(f"an OCI image tarball, {len(offline.layers)} layers, bottom first:")
    for layer in offline.layers:
        print(f"  #{layer.index} {layer.instruction:40} +{len(layer.added)} paths")
    print("config: Env", list(offline.config.config.env), "Cmd", list(offline.config.config.cmd))
except cl.LabError as err:
    offline = None
    print(f"Skipped: building an image without an engine needs a static busybox ({err.message})")

# %% [markdown]
# The **layer explorer**: pick a layer to see what it changed (+ added, ~ modified, − deleted). Bars are the
# layer's size; the first layer is the busybox binary, the second only symlinks (one per applet).

# %% tags=["nbval-ignore-output"]
if offline is not None:
    cl.show(LayerExplorer(offline, selected=1))
else:
    print("Skipped: no image to explore (no static busybox here).")

# %% [markdown]
# ## 2. The talk's Dockerfile, built
#
# `apps/image-demo/` holds the example: the app is `app.py` printing `message.txt`. `FROM` starts from the
# Debian image with Python; `COPY . /app` copies the **build context** (the directory sent to the builder);
# `RUN python3 -m compileall` plays `make` (it writes byte code next to the app); `CMD` says what to run. The
# parser reads it the way the builder does; only `COPY` and `RUN` change files.

# %%
dockerfile_text = (APP / "Dockerfile").read_text()
print(dockerfile_text)
parsed = parse_dockerfile(dockerfile_text)
for instruction in parsed.instructions:
    effect = ("the starting layers" if instruction.keyword == "FROM" else
              "a new layer" if instruction.creates_layer else "the config only")
    print(f"line {instruction.line}: {instruction.keyword:5} -> {effect}")

# %% [markdown]
# Build it. The log streams step by step (`[2/4] COPY . /app`), with whatever a `RUN` prints. The first build
# is asked not to use any cache, so every step really runs.

# %%
if lab.ready_for("engine", task="building the talk's example"):
    context = context_files(APP)
    print("build context:", ", ".join(sorted(context)))
    v1 = build(lab, APP_V1, context, nocache=True)
    print(f"built in {v1.seconds:.1f} s")

# %%
if lab.ready_for("engine", task="running the image"):
    print(lab.run(APP_V1).output, end="")
    print(lab.run(APP_V1, ["python3", "/app/app.py", "with", "arguments"]).output, end="")

# %% [markdown]
# Typed: the image's name is `$REPO-app:v1` (`$REPO` is your own image prefix, `containerlab/<you>-05`).
# `--pull never` keeps the engine from looking for it on Docker Hub if it were missing: this course works offline.

# %%
# !$ENGINE run --rm --pull never --memory 256m --pids-limit 256 $LABELS $REPO-app:v1 python3 /app/app.py typed by me

# %% [markdown]
# ## 3. One layer per filesystem-changing instruction
#
# `docker save` writes an image as a tarball; here its stream goes straight into the layer reader (no temporary
# file). The image's history says which instruction made each layer, and `map_to_history` ties them back to the
# Dockerfile's lines. (Only the paths under `/app` are counted: on Podman, Buildah's `RUN` layer also keeps the empty
# `/etc/hosts` it created to mount the build's own hosts file over; the explorer below shows every path.)

# %%
if lab.ready_for("engine", task="reading the saved image"):
    image_v1 = save(lab, APP_V1)
    own = [m for m in map_to_history(parsed, image_v1.history) if m.layer_index is not None]
    base_layers = len(image_v1.layers) - len(own)
    print(f"layers: {len(image_v1.layers)} = {base_layers} from containerlab/debian + {len(own)} from the Dockerfile")
    for match in own:
        layer = image_v1.layers[match.layer_index]
        in_app = [change.path for change in layer.added if change.path.split("/")[0] == "app"]
        folders = sorted({"/".join(path.split("/")[:2]) for path in in_app})
        print(f"line {match.instruction.line} {match.instruction.text:36} -> +{len(in_app)} paths in "
              f"{', '.join(folders)}")
    print("CMD is in the config:", list(image_v1.config.config.cmd))

# %% [markdown]
# The engine answers the same questions: `image inspect` reads the config (a Go template counts the layers),
# `history` lists the steps, newest first, with the size each added (0 B: config only).

# %% language="bash"
# $ENGINE image inspect --format '{{len .RootFS.Layers}} layers, Cmd {{json .Config.Cmd}}' $REPO-app:v1

# %% tags=["nbval-ignore-output"]
# !$ENGINE history $REPO-app:v1 | head -6

# %% [markdown]
# The same image in the explorer. The base layer holds all of Debian; the two small layers on top are the
# Dockerfile's. Pick the top one to see the byte code `RUN` wrote.

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", task="exploring the built image"):
    cl.show(LayerExplorer(image_v1))

# %% [markdown]
# ## 4. The build cache
#
# Build again without changing anything: each step finds an image made by **the same instruction on the same
# parent** (for `COPY`: from files with the same contents), so nothing runs.

# %%
if lab.ready_for("engine", task="rebuilding unchanged"):
    again = build(lab, APP_V1, context, progress=None)
    print(again.table())

# %% [markdown]
# Now change one file of the context, `message.txt`, and build `v2`. `COPY . /app` copies it, so that step's cache
# key changes; every step after it has a new parent and rebuilds too, even though its instruction did not change.

# %%
if lab.ready_for("engine", task="rebuilding after a change"):
    changed_context = {**context, "message.txt": b"Hello again, from a changed file\n"}
    v2 = build(lab, APP_V2, changed_context, changed=("message.txt",))
    print()
    print(v2.table())
    print()
    print(lab.run(APP_V2).output, end="")

# %% [markdown]
# That is why Dockerfiles copy the files that change least first: `COPY requirements.txt .` and `RUN pip install`
# before `COPY . .`, so that editing the code does not reinstall every dependency.
#
# v1 and v2 differ only in their own layers; the explorer colours the layers the two images **share** (same
# `diff_id`): stored once on disk, pulled once from a registry.

# %%
if lab.ready_for("engine", task="comparing v1 and v2"):
    image_v2 = save(lab, APP_V2)
    shared = set(image_v1.diff_ids) & set(image_v2.diff_ids)
    print("v1 and v2 share exactly the base image's layers:", len(shared) == base_layers)
    print("their COPY layers differ:", image_v1.layers[-2].diff_id != image_v2.layers[-2].diff_id)

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", task="exploring v2 next to v1"):
    cl.show(LayerExplorer(image_v2, other=image_v1, names=("v2", "v1")))

# %% [markdown]
# ## 5. The build context and .dockerignore
#
# Before anything runs, the **whole context directory** is sent to the builder, and `COPY . /app` copies all of
# it. A working directory collects logs, notes and a `.env` full of passwords; `.dockerignore` keeps them out.
# Here a copy of the app gets a 2 MB log, a notes folder and a `.env`, and the context is measured both ways.

# %%
work_app = reset_workdir(WORK) / "image-demo"
work_app.mkdir()
for source in APP.iterdir():
    (work_app / source.name).write_bytes(source.read_bytes())
(work_app / "debug.log").write_text("DEBUG request served\n" * 100_000)
(work_app / "notes").mkdir()
(work_app / "notes" / "ideas.md").write_text("# Ideas\n- make the message configurable\n")
(work_app / ".env").write_text("DATABASE_PASSWORD=hunter2\n")
print(".dockerignore says:", (work_app / ".dockerignore").read_text().split("\n", 1)[1].split())
everything = context_files(work_app, dockerignore=False)
kept = context_files(work_app)
print(f"context without .dockerignore: {len(everything)} files, {human_size(len(context_tar(everything)))}")
print(f"context with .dockerignore:    {len(kept)} files, {human_size(len(context_tar(kept)))}")
print("left out:", sorted(set(everything) - set(kept)))

# %% [markdown]
# ## 6. CMD or ENTRYPOINT?
#
# Both say what a container runs. Arguments after the image name in `docker run IMAGE ARGS` **replace CMD**, but
# are **appended to ENTRYPOINT**. With both, CMD becomes the default arguments of the ENTRYPOINT.

# %%
CMD_ONLY = 'FROM containerlab/busybox\nCMD ["echo", "hello from CMD"]\n'
WITH_ENTRYPOINT = 'FROM containerlab/busybox\nENTRYPOINT ["echo", "hello from ENTRYPOINT"]\nCMD ["(default argument)"]\n'
if lab.ready_for("engine", task="comparing CMD and ENTRYPOINT"):
    cmd_image, entry_image = lesson_tag(lab, "cmd"), lesson_tag(lab, "entrypoint")
    build(lab, cmd_image, {"Dockerfile": CMD_ONLY.encode()}, progress=None)
    build(lab, entry_image, {"Dockerfile": WITH_ENTRYPOINT.encode()}, progress=None)
    for label, tag, extra in (("CMD only", cmd_image, ["echo", "my", "command"]),
                              ("ENTRYPOINT + CMD", entry_image, ["my", "arguments"])):
        print(f"{label}:")
        for args in ([], extra):
            print(f"  docker run IMAGE {' '.join(args):16} -> {lab.run(tag, args or None).output.strip()}")

# %% [markdown]
# ## 7. Multi-stage builds
#
# The Debian image carries a whole distribution and Python, but the page this app renders needs neither. A
# **multi-stage** Dockerfile uses a first stage to do the work and starts the final image afresh, copying only
# the result (`COPY --from=render`). The stages before the last one are thrown away.

# %%
print((APP / "Dockerfile.multistage").read_text())
if lab.ready_for("engine", task="building the multi-stage image"):
    build(lab, SMALL, context, dockerfile="Dockerfile.multistage")
    big, small = image_size(lab, APP_V1), image_size(lab, SMALL)
    print(f"single-stage image: {size_category(big)[1]}; multi-stage image: {size_category(small)[1]}")
    print("the multi-stage image is less than a tenth of the size:", small * 10 < big)
    print(lab.run(SMALL, ["cat", "/www/index.html"]).output, end="")

# %% [markdown]
# ## 8. A deleted secret is still in the image
#
# `apps/secret-demo/Dockerfile.leaky` copies an API key in, uses it, and deletes it in a later `RUN`. The
# container's filesystem no longer shows the file. But layers only ever add: the `rm` layer records a
# **whiteout**, and the key's bytes stay in the layer that copied them.

# %%
SECRET = "demo-key-7f3a-NOT-A-REAL-SECRET"  # a stand-in: never put a real key in a course
leaky_text = (SECRET_DEMO / "Dockerfile.leaky").read_text()
print(leaky_text)
if lab.ready_for("engine", task="building the leaky image"):
    build(lab, LEAKY, {"Dockerfile": leaky_text.encode(), "api.key": (SECRET + "\n").encode()}, progress=None)
    print("the container sees /tmp/api.key:", lab.run(LEAKY, ["test", "-e", "/tmp/api.key"]).ok)
    print("what it runs:", lab.run(LEAKY).output.strip())

# %% [markdown]
# Anyone who can pull the image can save it and read the layers. Find the layer that added `tmp/api.key`, write
# that one layer into a temporary directory with `extract_layer` (safely: nothing may land outside it), read the
# file.

# %%
if lab.ready_for("engine", task="recovering the key from the saved image"):
    leaky_tarball = saved_bytes(lab, LEAKY)
    leaky_image = read_image(leaky_tarball)
    steps = {m.layer_index: m.instruction for m in map_to_history(parse_dockerfile(leaky_text), leaky_image.history)
             if m.layer_index is not None}
    holder = next(layer for layer in leaky_image.layers if any(c.path == "tmp/api.key" for c in layer.added))
    remover = next(layer for layer in leaky_image.layers if any(c.path == "tmp/api.key" for c in layer.deleted))
    print(f"added by   line {steps[holder.index].line}: {steps[holder.index].text}")
    print(f"deleted by line {steps[remover.index].line}: {steps[remover.index].text}  (whiteout: {remover.whiteouts})")
    with tempfile.TemporaryDirectory() as scratch:
        extract_layer(leaky_tarball, holder, scratch)
        print("recovered from the tarball:", Path(scratch, "tmp/api.key").read_text().strip())
    print(f"bytes of the image nobody can see but everybody downloads: {leaky_image.wasted_bytes}")

# %% [markdown]
# **The fix.** Use the key only in a stage that is thrown away, and copy just the result into the final image
# (with BuildKit, `RUN --mount=type=secret,id=api_key` also keeps it out of every layer; the classic builder
# that this course drives has no secret mounts).

# %%
fixed_text = (SECRET_DEMO / "Dockerfile.fixed").read_text()
print(fixed_text)
if lab.ready_for("engine", task="building the fixed image"):
    build(lab, FIXED, {"Dockerfile": fixed_text.encode(), "api.key": (SECRET + "\n").encode()}, progress=None)
    fixed_image = save(lab, FIXED)
    print("what it runs:", lab.run(FIXED).output.strip())
    print("any layer of the fixed image holds tmp/api.key:",
          any(entry.path == "tmp/api.key" for layer in fixed_image.layers for entry in layer.entries))

# %% [markdown]
# ## 9. The linter
#
# `lint()` checks a Dockerfile for the mistakes above and a few more, and says why each matters. On the leaky
# Dockerfile, and on one with every classic mistake:

# %%
for finding in lint(parse_dockerfile(leaky_text)):
    print(finding)
BAD = """\
FROM debian
ENV DB_PASSWORD=hunter2
RUN apt-get update
RUN apt-get install -y curl
ADD app.py /app/app.py
CMD python3 /app/app.py
"""
print()
findings = lint(parse_dockerfile(BAD))
for finding in findings:
    print(finding)
print()
print(findings[0].rule + ":", findings[0].explanation)

# %% [markdown]
# ## Exercises
#
# **1.** How many **layers** does this Dockerfile add on top of its base image? Set `layers` to a number.

# %%
EXERCISE = """\
FROM containerlab/debian
ENV APP_HOME=/srv/app
COPY requirements.txt /srv/app/
RUN python3 -c "print('pretend to install the requirements')" > /srv/app/install.log
COPY . /srv/app
EXPOSE 8000
USER nobody
CMD ["python3", "/srv/app/app.py"]
"""
layers = None  # your answer: a whole number
check_layer_count(layers, EXERCISE)

# %% [markdown]
# **2.** The same Dockerfile was built once. You edit only `app.py` and build again. Which **line numbers** rebuild
# instead of coming from the cache? Set `rebuilt` to a set of numbers (line 1 is `FROM`).

# %%
rebuilt = None  # your answer, e.g. {3, 4}
check_rebuilt_lines(rebuilt, EXERCISE, changed=["app.py"])

# %% [markdown]
# **3.** Recover the key from the leaky image yourself: set `recovered` to the text of `/tmp/api.key` as stored
# in the image (`leaky_tarball`, `leaky_image` and `extract_layer` are all you need).

# %%
recovered = None  # your answer: the key's text
check_recovered_secret(recovered, SECRET) if lab.ready_for("engine", task="exercise 3") else None

# %% [markdown]
# **4. Build it: a Dockerfile the linter passes.** Write a Dockerfile whose image prints exactly the line
# `PRINT_THIS` when it runs, and in which the linter of section 9 finds **nothing**. Nothing can be pulled, so start
# `FROM` the course's busybox image; the linter objects to its implicit `latest` tag, so the cell below tags it with
# its busybox version as `PINNED_BUSYBOX` (the tag carries your name: write your Dockerfile as an f-string,
# `f"FROM {PINNED_BUSYBOX}\n..."`). The check lints your text first, then builds it for real (`docker build
# --network none`; Podman 4 ignores that option and builds in the host's network), runs the image once with no
# network and compares what it printed.

# %%
PRINT_THIS = "Built by me, passed by the linter"
MINE = lesson_tag(lab, "mine")  # the tag your image gets
PINNED_BUSYBOX = None
if lab.ready_for("engine", task="pinning the base image"):
    busybox_version = re.search(r"v(\d+\.\d+)", lab.run(BUSYBOX_IMAGE, ["busybox"]).output).group(1)
    PINNED_BUSYBOX = lesson_tag(lab, "busybox", busybox_version)
    build(lab, PINNED_BUSYBOX, {"Dockerfile": f"FROM {BUSYBOX_IMAGE}\n".encode()}, progress=None)
    print("FROM containerlab/busybox ->", [f.rule for f in lint(parse_dockerfile(f"FROM {BUSYBOX_IMAGE}\n"))])
    print("FROM PINNED_BUSYBOX       ->", [f.rule for f in lint(parse_dockerfile(f"FROM {PINNED_BUSYBOX}\n"))])

# %%
my_dockerfile = None  # your answer: the Dockerfile's text
check_dockerfile_prints(my_dockerfile, PRINT_THIS, partial(build_and_run, lab, MINE)) if lab.ready_for(
    "engine", task="exercise 4") else None

# %% [markdown]
# **5. In a terminal: build and run with the CLI.** The cell below copies the talk's app to `$WORK/cli-app/`. Open a
# terminal (*File › New › Terminal*), type the `source` line it prints, then: change `$WORK/cli-app/message.txt`
# to say the line `CLI_MESSAGE`; build the directory as `$REPO-cli` with the course's labels
# (`$ENGINE build -t NAME $LABELS DIRECTORY`); run it **once** as `$LAB-hello` (without `--rm`, so the container
# stays after it ends). `$ENGINE ps -a` lists it, `$ENGINE logs $LAB-hello` shows what it printed. The check reads
# the engine's record and the logs.

# %%
CLI_MESSAGE = "Hello from the command line"
CLI_IMAGE = lesson_tag(lab, "cli")  # $REPO-cli
cli_app = reset_workdir(WORK / "cli-app")
for name in ("Dockerfile", "app.py", "message.txt", ".dockerignore"):
    (cli_app / name).write_bytes((APP / name).read_bytes())
print("in $WORK/cli-app:", sorted(path.name for path in cli_app.iterdir()))

# %% tags=["nbval-ignore-output"]
print("in a terminal, type first:", lab.cli_env().terminal_line)  # (re)writes $WORK/cli.env: section 5 emptied $WORK

# %%
check_cli_build(lab, CLI_IMAGE, CLI_MESSAGE) if lab.ready_for("engine", task="exercise 5") else None

# %% [markdown]
# <details><summary>Solutions</summary>
#
# ```python
# check_layer_count(3, EXERCISE)
#
# check_rebuilt_lines({5, 6, 7, 8}, EXERCISE, changed=["app.py"])
#
# layer = next(l for l in leaky_image.layers if any(c.path == "tmp/api.key" for c in l.added))
# with tempfile.TemporaryDirectory() as scratch:
#     extract_layer(leaky_tarball, layer, scratch)
#     check_recovered_secret(Path(scratch, "tmp/api.key").read_text(), SECRET)
#
# my_dockerfile = f"""\
# FROM {PINNED_BUSYBOX}
# USER nobody
# CMD ["echo", "{PRINT_THIS}"]
# """
# check_dockerfile_prints(my_dockerfile, PRINT_THIS, partial(build_and_run, lab, MINE))
# ```
# ```bash
# # 5. (in the terminal, after the source line)
# echo 'Hello from the command line' > $WORK/cli-app/message.txt
# $ENGINE build -q -t $REPO-cli $LABELS $WORK/cli-app >/dev/null
# $ENGINE run --name $LAB-hello --pull never --memory 256m --pids-limit 256 $LABELS $REPO-cli
# ```
# ```python
# check_cli_build(lab, CLI_IMAGE, CLI_MESSAGE)
# ```
# 1. `COPY`, `RUN` and `COPY` change files: three layers. `ENV`, `EXPOSE`, `USER` and `CMD` only change the config.
# 2. `COPY requirements.txt` (line 3) does not read `app.py`, so it and the `RUN` after it (line 4) come from the
#    cache. `COPY . /srv/app` (line 5) copies `app.py`: it misses, and lines 6 to 8 get a new parent.
# 3. The key is in the layer of `COPY api.key /tmp/api.key`; the `rm` layer only hides it.
# 4. A version tag instead of `latest` (`from-latest`), a user that is not root (`no-user`: busybox's `nobody`, uid
#    65534, is in the image's `/etc/passwd`), and a `CMD` in exec form that prints the line when the container starts.
#    A `RUN echo ...` would print it only in the build log. Three lines and no layer of your own: `USER` and `CMD`
#    change only the config.
# 5. `COPY . /app` copies the context as it is at build time, so the edit must come before the build. A container
#    run without `--rm` stays, exited, with its logs, until `$ENGINE rm` (or the clean-up cell) removes it.
# </details>

# %% [markdown]
# ## References
#
# - The talk's images: [Docker Engine](https://docs.docker.com/engine/), the
#   [Dockerfile reference](https://docs.docker.com/reference/dockerfile/),
#   [images and containers](https://circleci.com/blog/docker-image-vs-container/)
# - Docker's guides: [build cache](https://docs.docker.com/build/cache/), [multi-stage builds](https://docs.docker.com/build/building/multi-stage/),
#   [build secrets](https://docs.docker.com/build/building/secrets/), [`docker build`](https://docs.docker.com/reference/cli/docker/buildx/build/);
#   [hadolint](https://github.com/hadolint/hadolint), whose rules the course's linter follows
# - The OCI [image specification](https://github.com/opencontainers/image-spec/blob/main/spec.md): its
#   [layers](https://github.com/opencontainers/image-spec/blob/main/layer.md) (with whiteouts) and
#   [config](https://github.com/opencontainers/image-spec/blob/main/config.md)
# - The course's source: the talk *Playing with Containers* (Marco Mambelli, Fermilab, 2024) and its demo,
#   [glideinWMS/containers](https://github.com/glideinWMS/containers)
#   ([workspaces](https://github.com/glideinWMS/containers/tree/main/workspaces)).
# - HSF training: [Docker](https://hsf-training.github.io/hsf-training-docker/index.html) and
#   [Apptainer/Singularity](https://hsf-training.github.io/hsf-training-singularity-webpage/).

# %% [markdown]
# ## Clean up
#
# Removes the lesson's containers and every image it built (they carry the lab's labels), then the work directory.

# %%
print(lab.cleanup())
print("work directory removed:", remove_workdir(WORK))
