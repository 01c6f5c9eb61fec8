# %% [markdown]
# # 06 · Registries
#
# The talk separates two words that are often mixed up:
# - a **repository** is *"storage for your containerized application images"*: one name (`debian`,
#   `acme/shop`), many tagged versions;
# - a **registry** is *"both a collection of repositories and a searchable catalogue where you manage and deploy
#   images"*: Docker Hub, Harbor, GitHub's, your cloud's, or one on your own machine.
#
# Then: *build, push, pull, run, stop*, and *building with GitHub Actions*. This notebook runs a real registry
# (Distribution, the one behind Docker Hub) on 127.0.0.1 and follows an image into it and back.
#
# **Objectives.** You will
# - read any image reference as **registry / repository : tag @ digest**;
# - see that an image in a registry is a **tree of documents named by their digests**: index → manifest → config →
#   layers, and check each digest yourself;
# - **tag, push and pull** with the engine, and look inside the registry with its HTTP API;
# - watch a **tag move** to a new image while the old **digest still pulls** the old one;
# - know **Docker Hub's rate limits**, what **Harbor** and the other registries offer, how to give a workshop a
#   **mirror**, and how **CI** builds and pushes images.

# %%
import json
import os

import containerlab as cl
from containerlab.course.lesson06 import (
    check_manifest_digest,
    check_pinned_reference,
    check_pushed_tag,
    check_reference_parts,
)
from containerlab.engine.builds import build, lesson_tag
from containerlab.engine.overlay import remove_workdir
from containerlab.engine.registry import Registry, pull, push, running_registries, tag
from containerlab.images import File, Layer, Step, build_image, parse_reference, sha256_digest
from containerlab.images.registry_client import OciLayout
from containerlab.render.manifest_tree import manifest_tree
from containerlab.workshop.mirrors import (
    daemon_json,
    insecure_registries_conf,
    pull_through_cache_config,
    registries_conf,
)

lab = cl.Lab("06-registries", echo=True)  # echo: print the docker/podman command behind every action
cli = lab.cli_env()                       # $ENGINE, $LAB, $LABELS, $REPO, $WORK for the ! and %%bash cells
registry = Registry(owner=lab.owner, lesson=lab.lesson)  # your own registry, on a port of your own
REPOSITORY = "course/hello"

# %% tags=["nbval-ignore-output"]
print("engine:", lab.engine.summary() if lab.available else f"none ({lab.why_unavailable})")

# %% [markdown]
# ## 1. Registry, repository, tag, digest
#
# An image reference names all four, and leaves most of them out. Engines fill in the rest the same way: a first
# part with a `.` or a `:` (or `localhost`) is a registry, otherwise the registry is Docker Hub (`docker.io`);
# Docker Hub's official images live under `library/`; no tag means `latest`.

# %%
for text in ("busybox", "debian:bookworm", "ghcr.io/acme/tool:2.1", "localhost:5000/course/hello",
             "quay.io/podman/stable@sha256:" + "0" * 64):
    ref = parse_reference(text)
    shown = text if len(text) <= 36 else text[:32] + "…"
    print(f"{shown:36} registry={ref.registry:15} repository={ref.repository:16} tag={ref.tag or '-':8}"
          f" digest={'yes' if ref.digest else 'no'}")

# %% [markdown]
# ## 2. An image is a tree of documents
#
# Nothing in a registry is stored by name except the tags. Everything else is a **blob named by its digest**, the
# sha256 of its exact bytes:
# - an **index** (or Docker *manifest list*) points at one manifest per platform (amd64, arm64, ...);
# - a **manifest** points at the config and the layers;
# - the **config** holds the run settings, the history and the **diff_ids**: the digests of the *uncompressed*
#   layer tars;
# - each **layer** is a compressed tar, named by the digest of its *compressed* bytes.
#
# Here is a small image made in pure Python as an OCI image layout (the same documents a registry serves), and
# the walk through it with every digest checked against the bytes.

# %%
hello = build_image([
    Layer({"srv/hello/message.txt": "Hello from a registry\n"}, "COPY message.txt /srv/hello/"),
    Layer({"srv/hello/run.sh": File(b"#!/bin/sh\ncat /srv/hello/message.txt\n", 0o755)}, "COPY run.sh /srv/hello/"),
    Step('CMD ["/srv/hello/run.sh"]'),
], tag="course/hello:1.0", architecture="amd64", cmd=("/srv/hello/run.sh",))
offline_walk = OciLayout.from_tar(hello.data, name="course/hello:1.0 (OCI layout)").walk()
print("\n".join(offline_walk.lines()))
manifest_tree(offline_walk)

# %% [markdown]
# The manifest itself is a short JSON document (pretty-printed here; it is stored compact). Its digest is not
# written anywhere inside it: it is the hash of the stored bytes, so changing one byte changes the name.

# %%
print(json.dumps(json.loads(offline_walk.manifest.data), indent=2))
print()
print("sha256 of these bytes:", sha256_digest(offline_walk.manifest.data))
print("the index names the manifest by it:", offline_walk.index.document.manifests[0].digest
      == sha256_digest(offline_walk.manifest.data))

# %% [markdown]
# ## 3. A registry on this machine
#
# Debian's `docker-registry` package is Distribution, the registry behind Docker Hub. The course starts it as an
# ordinary process listening on 127.0.0.1 only, with its storage in a temporary directory that stopping it
# removes. Docker trusts plain-HTTP registries on 127.0.0.0/8 without any setting. From a shell:
# `python -m containerlab registry start | status | stop`.

# %%
if lab.ready_for("engine", task="starting a local registry"):
    registry.start()
    client = registry.client()
    print("API version:", client.ping())
    print("listening on 127.0.0.1 only:", registry.address.startswith("127.0.0.1:"))
    print("repositories in it:", client.catalog())
    os.environ["REGISTRY"] = registry.address  # $REGISTRY in ! and %%bash cells: its 127.0.0.1:PORT

# %% [markdown]
# Build a small image (busybox plus one file), **tag** it with the registry's address in front, and **push** it.
# The tag is what tells the engine where to push: `127.0.0.1:PORT/course/hello:latest`.

# %% tags=["nbval-ignore-output"]
HELLO_DOCKERFILE = 'FROM containerlab/busybox\nCOPY message.txt /message.txt\nCMD ["cat", "/message.txt"]\n'
if lab.ready_for("engine", task="building, tagging and pushing an image"):
    first_local = lesson_tag(lab, "hello", "v1")
    build(lab, first_local, {"Dockerfile": HELLO_DOCKERFILE.encode(), "message.txt": b"first version\n"},
          progress=None)
    remote = registry.reference(REPOSITORY, "latest")
    tag(lab.engine, first_local, remote)
    pushed = push(lab.engine, remote, echo=lab.echo)
    first_digest = pushed.digest
    print(pushed)

# %% [markdown]
# That line is the engine's own account, in its own words: Docker says `Pushed` (or `Layer already exists`) per
# layer; Podman says `Copying blob` for each blob it sends. Do not take the engine's word for it: ask the registry.

# %%
if lab.ready_for("engine", task="asking the registry what it holds"):
    print("the registry now has:", client.catalog(), "tags:", client.tags(REPOSITORY))
    print("layers sent:", len(pushed.layers), "| layers in the image:",
          len(lab.engine.client.api.inspect_image(remote)["RootFS"]["Layers"]))
    print("the digest the push reported is the one the registry serves:",
          first_digest == client.manifest_digest(REPOSITORY, "latest"))

# %% [markdown]
# The registry's HTTP API is plain HTTP and JSON: any client can ask it, `curl` too.

# %%
if lab.ready_for("engine", task="asking the registry with curl"):
    print(f"GET http://{registry.address}/v2/_catalog, then /v2/course/hello/tags/list:")
    # !curl -s http://$REGISTRY/v2/_catalog
    # !curl -s http://$REGISTRY/v2/course/hello/tags/list

# %% [markdown]
# ## 4. The walk, against the real registry
#
# The client asks for `/v2/course/hello/manifests/latest` with an `Accept` header listing the four manifest types
# it understands, hashes what comes back, and follows the digests down. Every layer blob is streamed, its digest
# checked, and at the same time it is gunzipped and hashed again to check its **diff_id**.

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", task="walking the pushed image"):
    walk = client.walk(REPOSITORY, "latest")
    cl.show(manifest_tree(walk))

# %%
if lab.ready_for("engine", task="checking the digests"):
    inspect = lab.engine.client.api.inspect_image(remote)
    print("manifest type:", walk.manifest.media_type)
    print("manifest digest == sha256 of the bytes received:", walk.manifest.digest == sha256_digest(walk.manifest.data))
    print("manifest digest == what docker push reported:", walk.manifest.digest == first_digest)
    print("config digest == the image ID docker shows:", walk.image_id == inspect["Id"])
    print("config diff_ids == the layers docker stacks:", list(walk.config.diff_ids) == inspect["RootFS"]["Layers"])
    print(f"{len(walk.layers)} layers, every blob and diff_id verified:", walk.verified)
    print("compressed digest != diff_id for every layer:", all(layer.digest != layer.diff_id for layer in walk.layers))
    print("bytes pulled (compressed) < bytes stacked (uncompressed):",
          walk.manifest.document.layers_size < inspect["Size"])

# %% [markdown]
# Two digests per layer: the registry stores and sends **compressed** blobs and names them by the digest of the
# compressed bytes; the config lists the **uncompressed** tars' digests (`diff_id`), which the engine uses to
# stack and share layers. Recompressing a layer changes its blob digest but never its diff_id.
#
# ## 5. Pull it back
#
# Remove the image from the engine, then pull it. Docker finds the busybox layers still on this machine (the base
# image has them) and says `Already exists` for those, downloading only the image's own layer; Podman says
# `Copying blob` for every blob it fetches.

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", task="pulling the image back"):
    lab.engine.client.api.remove_image(inspect["Id"], force=True)
    pulled = pull(lab.engine, remote, layers=len(walk.layers), echo=lab.echo)
    print(pulled)

# %%
if lab.ready_for("engine", task="running the pulled image"):
    print("layers pulled or found:", len(pulled.layers), "| the digest pulled is the one pushed:",
          pulled.digest == first_digest)
    print("it runs:", lab.run(remote).output.strip())

# %% [markdown]
# ## 6. Tags move, digests do not
#
# Build a second version and push it under the **same tag**. `latest` now names the new image. The old one is
# still in the registry, and its digest still pulls exactly it.

# %%
if lab.ready_for("engine", task="moving the tag to a new image"):
    second_local = lesson_tag(lab, "hello", "v2")
    build(lab, second_local, {"Dockerfile": HELLO_DOCKERFILE.encode(), "message.txt": b"second version\n"},
          progress=None)
    tag(lab.engine, second_local, remote)
    second_digest = push(lab.engine, remote, progress=None).digest
    now = client.manifest_digest(REPOSITORY, "latest")
    print("latest now resolves to a new digest:", now == second_digest and now != first_digest)
    print("pulling latest runs:", lab.run(remote).output.strip())
    pinned = f"{registry.reference(REPOSITORY)}@{first_digest}"
    pull(lab.engine, pinned, progress=None)
    print("pulling by the first digest runs:", lab.run(pinned).output.strip())

# %% [markdown]
# That is why deployments pin digests (`image@sha256:...`): a tag is a pointer anyone with push rights can move;
# a digest is the content.
#
# ## 7. Docker Hub, Harbor and the others
#
# **Docker Hub** (hub.docker.com) is the default registry: public, well known, home of the official images. Its
# free tier **limits pulls**: anonymous pulls are counted per IP address over a time window, logged-in pulls per
# account (the numbers change: see Docker's "usage and limits" page). A workshop room behind one IP address runs
# out fast. Open-source projects can apply to the *Docker-Sponsored Open Source* program, whose images are not
# limited. A registry says how much is left in the `ratelimit-limit` and `ratelimit-remaining` headers of a
# manifest request (the client's `manifest_digest()` sends exactly such a HEAD request).
#
# **Harbor** (goharbor.io) is an open-source registry you host yourself, designed for Kubernetes: projects with
# access control, vulnerability scanning, signing, replication between registries, and **proxy caches** of other
# registries. Self-hosted means **no rate limits**; Fermilab runs one for its Container Build Service.
#
# **Others**: Amazon ECR, Azure ACR, Google's Artifact Registry (formerly GCR), GitHub's ghcr.io (GitHub Packages),
# JFrog's, Red Hat's Quay. All speak the same HTTP API v2 as the registry above, which is why one client, and one
# `docker push`, works with all of them.
#
# ## 8. Mirrors for an offline workshop
#
# Put one registry in the room and point every engine at it. Before the workshop (online), the instructor runs a
# **pull-through cache** and pulls the images once; during the workshop it serves them with no Internet at all.

# %%
print(pull_through_cache_config(5000, storage="/srv/registry-cache"))

# %% [markdown]
# Docker asks its `registry-mirrors` first, for Docker Hub images only (`/etc/docker/daemon.json`, then restart the
# daemon); a plain-HTTP mirror must also be listed as insecure:

# %%
print(daemon_json(["http://mirror.workshop.lan:5000"], existing='{"log-driver": "json-file"}'))

# %% [markdown]
# Podman reads `/etc/containers/registries.conf` at every pull (no restart), and mirrors any registry:

# %%
print(registries_conf(["mirror.workshop.lan:5000"], insecure=True))
print("# and to push to a plain-HTTP registry such as this notebook's, a drop-in in registries.conf.d/:")
print(insecure_registries_conf("127.0.0.1:5000"))

# %% [markdown]
# The course's own `./lab pack` goes one step further: it writes the lab images, the Python wheels and the
# notebooks into one file that `./lab unpack` installs without any network.
#
# ## 9. Building and pushing from CI
#
# In practice images are built by CI, not on laptops: each push to the repository builds the image and pushes it,
# tagged with the commit (and a moving tag such as `latest` or the branch name). With GitHub Actions:
#
# ```yaml
# jobs:
#   image:
#     runs-on: ubuntu-latest
#     permissions: {contents: read, packages: write}
#     steps:
#       - uses: actions/checkout@v4
#       - uses: docker/login-action@v3
#         with: {registry: ghcr.io, username: "${{ github.actor }}", password: "${{ secrets.GITHUB_TOKEN }}"}
#       - uses: docker/build-push-action@v6
#         with:
#           push: true
#           tags: ghcr.io/${{ github.repository }}:${{ github.sha }},ghcr.io/${{ github.repository }}:latest
# ```
#
# The registry password never appears in the Dockerfile or the image: CI logs in with a short-lived token, the
# builder pushes, and everyone else pulls by tag, or better, by the digest the push printed.

# %% [markdown]
# ## Exercises
#
# **1.** What do `docker pull busybox` and the course's parser mean by `busybox`? Set `parts` to a tuple
# `(registry, repository, tag)`.

# %%
parts = None  # your answer, e.g. ("some.registry", "some/repository", "some-tag")
check_reference_parts(parts, "busybox")

# %% [markdown]
# **2.** Compute the digest of the manifest of section 2 yourself from its bytes, `offline_walk.manifest.data`
# (`hashlib` is all you need). Set `digest` to it.

# %%
digest = None  # your answer: "sha256:..."
check_manifest_digest(digest, offline_walk.manifest.data)

# %% [markdown]
# **3.** `latest` moved in section 6. Write the reference that pulls the **first** version, whatever the tag says
# now, and set `first_version` to it (the push in section 3 reported `first_digest`).

# %%
first_version = None  # your answer: an image reference
if lab.ready_for("engine", task="exercise 3"):
    cl.show(check_pinned_reference(first_version, registry.address, REPOSITORY, first_digest))

# %% [markdown]
# **4. In a terminal: tag and push.** Open one (*File › New › Terminal*) and type the `source` line this cell
# prints (it sets `$REGISTRY` there too, the registry's `127.0.0.1:PORT`). Give the image `$REPO-hello:v2` of
# section 6 a second name, `$REGISTRY/course/mine:v1`, with `$ENGINE tag`, and push it. On Podman, add
# `--tls-verify=false` to `push`: this registry speaks plain HTTP, which Docker accepts on 127.0.0.1 without being
# told. Then ask the registry with `curl -s http://$REGISTRY/v2/_catalog`. The check asks the registry.

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", task="exercise 4"):
    with open(cli.file, "a") as env_file:
        env_file.write(f"export REGISTRY={registry.address}\n")
    print("in a terminal, type first:", cli.terminal_line)

# %%
check_pushed_tag(client, "course/mine", "v1") if lab.ready_for("engine", task="exercise 4") else None

# %% [markdown]
# <details><summary>Solutions</summary>
#
# ```python
# check_reference_parts(("docker.io", "library/busybox", "latest"), "busybox")
#
# import hashlib
# check_manifest_digest("sha256:" + hashlib.sha256(offline_walk.manifest.data).hexdigest(), offline_walk.manifest.data)
#
# check_pinned_reference(f"{registry.address}/{REPOSITORY}@{first_digest}", registry.address, REPOSITORY, first_digest)
# ```
# ```bash
# # 4. (in the terminal, after the source line)
# $ENGINE tag $REPO-hello:v2 $REGISTRY/course/mine:v1
# if [ "$ENGINE" = podman ]; then insecure=--tls-verify=false; else insecure=; fi
# $ENGINE push $insecure $REGISTRY/course/mine:v1 >/dev/null
# curl -s http://$REGISTRY/v2/_catalog
# ```
# ```python
# check_pushed_tag(client, "course/mine", "v1")
# ```
# 1. No registry part means Docker Hub (`docker.io`), a one-part name is an official image under `library/`, and
#    no tag means `latest`.
# 2. A digest is the algorithm and the hex hash of the exact bytes. Pretty-printing the JSON would change it.
# 3. `REGISTRY/REPOSITORY@sha256:...`: a tag may be added for readability, but the digest decides.
# 4. The registry is the part of the name before the first `/`; `tag` adds a name to an image (it copies nothing),
#    `push` sends the registry the blobs it lacks, then the manifest. Here it lacks none: course/hello holds the same
#    layers, and Docker asks the registry to mount them into the new repository (`Mounted from course/hello`).
# </details>

# %% [markdown]
# ## References
#
# - The talk's registries: [Docker Hub](https://hub.docker.com/), [Harbor](https://goharbor.io/), Fermilab's
#   [Container Build Service](https://ssiwiki.fnal.gov/wiki/Container_Build_Service_Home)
# - The OCI [distribution specification](https://github.com/opencontainers/distribution-spec/blob/main/spec.md) (the
#   registry's HTTP API) and [image specification](https://github.com/opencontainers/image-spec/blob/main/spec.md):
#   [image index](https://github.com/opencontainers/image-spec/blob/main/image-index.md),
#   [manifest](https://github.com/opencontainers/image-spec/blob/main/manifest.md),
#   [descriptors and digests](https://github.com/opencontainers/image-spec/blob/main/descriptor.md)
# - [Distribution](https://github.com/distribution/distribution), the registry this lesson runs;
#   [docker/build-push-action](https://github.com/docker/build-push-action) for CI
# - The course's source: the talk *Playing with Containers* (Marco Mambelli, Fermilab, 2024) and its demo,
#   [glideinWMS/containers](https://github.com/glideinWMS/containers)
#   ([workspaces](https://github.com/glideinWMS/containers/tree/main/workspaces)).
# - HSF training: [Docker](https://hsf-training.github.io/hsf-training-docker/index.html) and
#   [Apptainer/Singularity](https://hsf-training.github.io/hsf-training-singularity-webpage/).

# %% [markdown]
# ## Clean up
#
# Stops the registry (its storage goes with it), then removes the lesson's containers and images.

# %%
registry.stop()
print("registry running:", registry.running, "| this lesson's registries left:",
      len(running_registries(lab.owner, lab.lesson)))
print(lab.cleanup())
work_removed = remove_workdir(lab.workdir)  # $WORK, where cli.env waited for a terminal
