# %% [markdown]
# # 13 · Ports and networking
#
# Notebook 02 made a network namespace by hand: it had a loopback interface and nothing else. A container needs a
# way out of it. The engine gives it one end of a **virtual cable** (a veth pair) and plugs the other end into a
# **bridge** on the host, a software switch; it **publishes** a port when you ask, and on networks you create it
# answers **container names** with a DNS server of its own.
#
# **Objectives.** You will
# - read a container's interface, address and route from inside, and find the **other end of its veth pair** on the
#   host, plugged into the engine's bridge;
# - publish a port on 127.0.0.1 with `-p`, find it with `port`, see the firewall rule behind it, and know what
#   `EXPOSE` does (it documents) and what `-P` does (it publishes on every address: never here);
# - compare the **default bridge** (no names) with a **user network** (names through the engine's DNS), and see
#   which networks can reach which;
# - recall `--network none`, `host` and `container:` from notebook 02.
#
# The course's network rule holds throughout: containers talk to each other and to this machine, nothing else, and
# ports are published on 127.0.0.1 only.

# %%
import os
import urllib.request
from pathlib import Path

import containerlab as cl
from containerlab.course.lesson13 import check_published_site, check_shop_network
from containerlab.engine.builds import build, lesson_tag
from containerlab.engine.namespaces import run_on_host
from containerlab.engine.overlay import remove_workdir, reset_workdir

lab = cl.Lab("13-ports-and-networking", echo=True)  # echo: print the docker/podman command behind every action
cli = lab.cli_env()                        # $ENGINE, $LAB, $LABELS, $REPO, $WORK for ! and %%bash cells
WORK = lab.workdir
EXPOSED, SITE = lesson_tag(lab, "exposed"), lesson_tag(lab, "site")
SERVE = "mkdir -p /www && echo hello from {name} > /www/index.html && exec httpd -f -p 80 -h /www"
cli

# %% tags=["nbval-ignore-output"]
print("engine:", lab.engine.summary() if lab.available else f"none ({lab.why_unavailable})")
print("in a terminal, type first:", cli.terminal_line)

# %% [markdown]
# ## 1. Inside: an interface, an address, a route
#
# Start `web`, a web server on port 80, on the engine's default network, and look at its network namespace from
# inside. (Addresses differ from machine to machine; the stored outputs show `<IP>`.)

# %%
if lab.ready_for("engine", task="starting a web server"):
    web = lab.start("containerlab/busybox", ["sh", "-c", SERVE.format(name="web")], name="web")
    links = lab.exec(web, ["ip", "-o", "link"], echo=False).output
    print("interfaces:", [line.split(":")[1].strip().split("@")[0] for line in links.splitlines()])
    print(lab.exec(web, ["ip", "-o", "-4", "addr", "show", "dev", "eth0"]).output.split("\\")[0].split(None, 1)[1])
    for route in lab.exec(web, ["ip", "route"]).output.splitlines():
        print(" ".join(route.split()).replace(" metric 100", ""))  # (Podman adds a metric)

# %% [markdown]
# `lo`, as in 02's empty namespace, and now **eth0** with an address on a private subnet and a **default route** via
# a gateway. `ip` prints `eth0@ifN`: the other end of this interface is interface number N... in another namespace.
#
# ## 2. Outside: the other end of the cable
#
# ```mermaid
# flowchart LR
#     subgraph web["container web (its network namespace)"]
#         eth0["eth0"]
#     end
#     subgraph host["host (the first network namespace)"]
#         veth["vethXXXX"] --- bridge["bridge: docker0 / podman0<br>(the gateway address)"]
#         lo["127.0.0.1:PORT"] -. "-p: DNAT rule" .-> bridge
#     end
#     eth0 ===|"veth pair"| veth
# ```
#
# A **veth pair** is two network interfaces joined like the ends of a cable: what goes in one comes out of the other.
# The engine moved one end into the container and named it `eth0`; the other stayed on the host, as `veth...`, and
# was attached to the bridge. `/sys/class/net/eth0/iflink` inside names its peer's interface number. (With a
# rootless engine the other end and the bridge are in the user's own network namespace, not on the host.)

# %%
if lab.ready_for("engine", "rootful", task="finding web's veth pair on the host"):
    peer_index = lab.exec(web, ["cat", "/sys/class/net/eth0/iflink"], echo=False).output.strip()
    # `ip -o link` lists the host's interfaces in one snapshot ("INDEX: NAME@PEER: ..."), while other containers'
    # veth pairs come and go.
    peer = next(line.split(": ")[1].split("@")[0] for line in run_on_host(["ip", "-o", "link", "show"]).splitlines()
                if line.startswith(f"{peer_index}: "))
    bridge = Path(f"/sys/class/net/{peer}/master").resolve().name
    gateway = lab.exec(web, ["ip", "route"], echo=False).output.split()[2]
    bridge_addresses = run_on_host(["ip", "-o", "-4", "addr", "show", "dev", bridge])
    print("the peer of eth0 is a veth interface on the host:", peer.startswith("veth"))
    print("it is attached to a bridge:", Path(f"/sys/class/net/{bridge}/bridge").is_dir())
    print("the bridge's address is web's gateway:", f"inet {gateway}/" in bridge_addresses)

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", "rootful", task="naming the pieces"):
    print(f"peer {peer}, bridge {bridge}, gateway {gateway}")
    print(run_on_host(["ip", "-o", "link", "show", "master", bridge]).count("veth"), "veth interfaces on", bridge)

# %% [markdown]
# The host can reach every container on its bridges directly, by the container's address (the host is on the
# bridge). Nothing is published yet, so nothing but this machine and its containers can. (A rootless engine's
# bridge lives in the user's own network namespace, which the host is not on: there only published ports reach in.)

# %%
if lab.ready_for("engine", "rootful", task="fetching web's page from the host"):
    address = web.facts().networks[0].ip_address
    print(urllib.request.urlopen(f"http://{address}/", timeout=5).read().decode(), end="")

# %% [markdown]
# ## 3. Publishing a port
#
# `-p HOST_IP:HOST_PORT:CONTAINER_PORT` asks the engine to forward a port of the host to the container. Leave the
# host port out (`127.0.0.1::80`) and the engine picks a free one; **`port`** tells you which. The course always
# names 127.0.0.1: without it, `-p 8080:80` publishes on **every** address of the machine, for anyone who can reach it.

# %%
if lab.ready_for("engine", task="publishing a port"):
    front = lab.start("containerlab/busybox", ["sh", "-c", SERVE.format(name="front")], name="front", ports={80: None})

# %% tags=["nbval-ignore-output"]
# !$ENGINE port $LAB-front 80

# %%
if lab.ready_for("engine", task="fetching through the published port"):
    host_port = front.facts().publishing(80)[0].host_port
    with urllib.request.urlopen(f"http://127.0.0.1:{host_port}/", timeout=5) as page:
        print("127.0.0.1:<the port> answers:", page.read().decode().strip())

# %% [markdown]
# How? The engine wrote a **DNAT** rule in the kernel's firewall: packets for 127.0.0.1 and that port get the
# container's address and port 80 as their new destination (Docker also starts a small `docker-proxy` process for
# connections from this machine itself). Reading the firewall needs root:

# %%
if lab.ready_for("engine", "root", task="reading the firewall's NAT table"):
    rules = run_on_host(["iptables-save", "-t", "nat"]).splitlines()
    target = f"{front.facts().networks[0].ip_address}:80"
    dnat = [rule for rule in rules if f"--dport {host_port} " in rule and f"--to-destination {target}" in rule]
    print(f"a DNAT rule sends 127.0.0.1:<the port> to the container's port 80: {bool(dnat)}")

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", "root", task="showing the rule"):
    print("\n".join(dnat))

# %% [markdown]
# A host port belongs to one container at a time. Ask for the same one again:

# %% language="bash"
# PORT=$($ENGINE port $LAB-front 80/tcp | head -1 | cut -d: -f2)
# $ENGINE run -d --name $LAB-clash -p 127.0.0.1:$PORT:80 --memory 256m --pids-limit 256 $LABELS containerlab/busybox httpd -f -p 80 >/dev/null 2>&1 \
#     || echo 'refused: the host port is taken by $LAB-front'
# $ENGINE rm -f $LAB-clash >/dev/null 2>&1 || true

# %% [markdown]
# **`EXPOSE`** in a Dockerfile only **writes the port down** in the image's config: for people, and for `-P`
# (`--publish-all`), which publishes every exposed port on a random host port **on every address**. The course
# never uses `-P`. An image that exposes 80, run without `-p`:

# %%
if lab.ready_for("engine", task="building an image that exposes a port"):
    build(lab, EXPOSED, {"Dockerfile": b'FROM containerlab/busybox\nEXPOSE 80\nCMD ["httpd", "-f", "-p", "80"]\n'},
          progress=None)
    exposing = lab.start(EXPOSED, name="exposing")
    facts = exposing.facts()
    print("exposed:", list(facts.exposed), "| published:", [str(p) for p in facts.published])

# %% [markdown]
# ## 4. The default bridge and networks of your own
#
# Containers on the **default** network (`bridge` on Docker, `podman` on Podman) reach each other by address only:
# the engine runs no name server there, and a container's `/etc/resolv.conf` is a copy of the host's. A network you
# create (`network create`) gets the engine's own DNS server, which answers the names of the containers on it.
#
# Looking `web` up from the default network (with `--dns 127.0.0.1`, so that the question cannot leave this
# machine: on the default network it would go to the host's own name servers):

# %%
if lab.ready_for("engine", task="looking a name up on the default network"):
    lookup = lab.run("containerlab/debian", ["getent", "hosts", web.name], dns=["127.0.0.1"])
    print("found by name:", lookup.ok)

# %% [markdown]
# On a network of our own, `backend` is found by its name, and the name server is the engine's (Docker's answers
# on 127.0.0.11 inside each container; Podman's aardvark-dns on the network's gateway address):

# %%
if lab.ready_for("engine", task="a network of our own"):
    net = lab.network("net")
    backend = lab.start("containerlab/busybox", ["sh", "-c", SERVE.format(name="backend")], name="backend", network=net)
    found = lab.run("containerlab/debian", ["getent", "hosts", backend.name], network=net)
    print("found by name:", found.ok and found.output.split()[0] == backend.facts().networks[0].ip_address)
    resolv = lab.run("containerlab/debian", ["cat", "/etc/resolv.conf"], network=net, echo=False).output
    gateway = lab.engine.client.api.inspect_network(net.name)["IPAM"]["Config"][0].get("Gateway", "")
    first = next(line.split()[1] for line in resolv.splitlines() if line.startswith("nameserver"))
    print("its name server is the engine's:", first in ("127.0.0.11", gateway))

# %% [markdown]
# Which networks reach which? Docker keeps its networks apart with firewall rules (a container on the default
# bridge cannot reach `backend`); **Podman 4 does not isolate its networks from each other**, so there the same
# attempt gets an answer. The cell says which it is here (the stored output is Docker's):

# %% tags=["nbval-ignore-output"]
if lab.ready_for("engine", task="crossing from one network to another"):
    url = f"http://{backend.facts().networks[0].ip_address}/"
    # `|| exit 1` keeps sh as PID 1, so timeout's signal reaches wget (a PID 1 ignores it: notebook 11).
    crossing = lab.run("containerlab/busybox", ["sh", "-c", f"timeout 3 wget -qO- {url} || exit 1"], echo=False)
    print(f"{lab.engine.name}: from the default network to backend's address:",
          "answered" if crossing.ok else "no answer (isolated)")

# %% [markdown]
# ## 5. No network, the host's, another container's
#
# Recap from notebook 02: `--network none` leaves the container with its loopback interface only (02's empty
# namespace, made by the engine); `--network host` leaves it in the host's network namespace (no isolation, and
# nothing to publish: its ports are the host's); `--network container:NAME` puts it in another container's, as a
# sidecar.

# %%
if lab.ready_for("engine", task="the three special networks"):
    alone = lab.run("containerlab/busybox", ["ls", "/sys/class/net"], network_mode="none")
    print("--network none sees:", alone.output.split())
    shared = lab.run("containerlab/busybox", ["readlink", "/proc/self/ns/net"], network_mode="host")
    print("--network host is in this notebook's network namespace:",
          shared.output.strip() == os.readlink("/proc/self/ns/net"))
    sidecar = lab.run("containerlab/busybox", ["wget", "-qO-", "http://127.0.0.1/"],
                      network_mode=f"container:{web.name}")
    print("--network container:web reaches web on its localhost:", sidecar.output.strip())

# %% [markdown]
# ## Exercises
#
# **1. In a terminal** (*File › New › Terminal*, then the `source` line printed at the top): create a network
# `$LAB-shop`, and on it start `$LAB-api`, a busybox web server on port **8080** whose page says `api ok`. Do not
# publish anything: the check asks from a container on `$LAB-shop`, by name.

# %%
check_shop_network(lab) if lab.ready_for("engine", task="checking $LAB-shop") else None

# %% [markdown]
# **2. Build it: a published site.** Write `$WORK/site/Dockerfile` for an image that serves a page saying
# `welcome` on port **8000**, as a **non-root** user, with the port **exposed**; build it as `$REPO-site`; run it
# as `$LAB-site`, publishing its port 8000 on **127.0.0.1** (any host port). The check reads the container's record
# and fetches the page from this machine.

# %%
site = reset_workdir(WORK / "site")
print("write $WORK/site/Dockerfile; build with: $ENGINE build -t $REPO-site $LABELS $WORK/site")

# %%
check_published_site(lab, SITE, site / "Dockerfile") if lab.ready_for("engine", task="checking $LAB-site") else None

# %% [markdown]
# <details><summary>Solutions</summary>
#
# ```bash
# # 1.
# $ENGINE network create $LABELS $LAB-shop
# $ENGINE run -d --name $LAB-api --network $LAB-shop --memory 256m --pids-limit 256 $LABELS containerlab/busybox sh -c 'mkdir -p /www && echo api ok > /www/index.html && exec httpd -f -p 8080 -h /www'
# ```
# ```python
# check_shop_network(lab)
# ```
# ```bash
# # 2.
# cat > $WORK/site/Dockerfile <<'EOF'
# FROM containerlab/busybox
# RUN mkdir /www && echo welcome > /www/index.html
# EXPOSE 8000
# USER 1000
# CMD ["httpd", "-f", "-p", "8000", "-h", "/www"]
# EOF
# $ENGINE build -q -t $REPO-site $LABELS $WORK/site >/dev/null
# $ENGINE run -d --name $LAB-site -p 127.0.0.1::8000 --memory 256m --pids-limit 256 --pull never $LABELS $REPO-site
# ```
# ```python
# check_published_site(lab, SITE, site / "Dockerfile")
# ```
# 1. Names resolve only on networks you create; compose makes one per project, which is why services find each
#    other by service name (notebook 08).
# 2. A non-root user may listen on 8000 (ports under 1024 traditionally need a capability: notebook 14). `EXPOSE`
#    documents the port; only `-p` publishes it.
# </details>

# %% [markdown]
# ## References
#
# - The talk: *Playing with Containers* (M. Mambelli, Fermilab, 2024): the NET namespace "for managing network
#   interfaces"; its GlideinWMS test bed ([glideinWMS/containers](https://github.com/glideinWMS/containers),
#   [workspaces](https://github.com/glideinWMS/containers/tree/main/workspaces)) puts CE, factory and frontend on one
#   compose network, where each finds the others by host name.
# - HSF training: [Docker](https://hsf-training.github.io/hsf-training-docker/index.html) (ports) and
#   [Apptainer/Singularity](https://hsf-training.github.io/hsf-training-singularity-webpage/) (which shares the host's
#   network by default).
# - Docker: [networking overview](https://docs.docker.com/engine/network/),
#   [bridge networks](https://docs.docker.com/engine/network/drivers/bridge/),
#   [packet filtering and firewalls](https://docs.docker.com/engine/network/packet-filtering-firewalls/);
#   Podman: [netavark](https://github.com/containers/netavark) and [aardvark-dns](https://github.com/containers/aardvark-dns).
# - Kernel: [veth(4)](https://man7.org/linux/man-pages/man4/veth.4.html),
#   [network_namespaces(7)](https://man7.org/linux/man-pages/man7/network_namespaces.7.html), the
#   [bridge](https://wiki.linuxfoundation.org/networking/bridge); OCI runtime spec,
#   [Linux namespaces](https://github.com/opencontainers/runtime-spec/blob/main/config-linux.md#namespaces).

# %% [markdown]
# ## Clean up
#
# Removes this lesson's containers, networks and images (those you typed too, by label or by `$LAB` name), then
# `$WORK`.

# %%
print(lab.cleanup())
print("work directory removed:", remove_workdir(WORK))
