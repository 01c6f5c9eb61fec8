#!/bin/bash
# The course box's entrypoint (PID 1 is tini): start the nested engine, load the lab images into it, copy the
# notebooks to the learner's folder, then run JupyterLab (or a JupyterHub single-user server, or any command).
#
#   containerlab-box lab [jupyter args]   the default: JupyterLab on 0.0.0.0:8888 with a token
#   containerlab-box engine               only the engine (Dev Containers, CI); waits until stopped
#   containerlab-box COMMAND ...          the engine in the background, then COMMAND
#   containerlab-box wait [SECONDS]       (in a running box) wait until its engine is ready; exit 1 if it fails
#
# Settings: JUPYTER_TOKEN (else one is generated and printed), CONTAINERLAB_BOX_ROOT (the folder JupyterLab serves,
# default /course, where the notebooks are copied), CONTAINERLAB_BOX_DOCKERD_ARGS (extra flags for the nested dockerd).
#
# Whatever happens to the engine, JupyterLab still starts: notebook 00 and `containerlab doctor` then read
# /run/containerlab-box/status and say in one line what is missing (a flag on the run command, or why the
# engine failed). Nothing here reaches the network: the lab images come from the image itself.
set -u
STATE=/run/containerlab-box
ROOT=${CONTAINERLAB_BOX_ROOT:-/course}
STORE=/var/lib/containerlab-box
LOGS=/var/log/containerlab-box
mkdir -p "$STATE" "$LOGS"
if [ "${1:-lab}" != wait ]; then  # a restarted box keeps its root: nothing of the last run may look current
    rm -f "$STATE/status" "$STATE/url" "$STATE/docker.sock" /var/run/docker.sock /var/run/docker.pid
fi

status() {  # status STATE [MESSAGE [HINT]]: the one file notebook 00 and doctor read (containerlab.kernel.inside_box)
    {
        printf 'state: %s\n' "$1"
        [ -n "${2:-}" ] && printf 'message: %s\n' "$(tr '\n' ' ' <<<"$2")"
        [ -n "${3:-}" ] && printf 'hint: %s\n' "$(tr '\n' ' ' <<<"$3")"
        :
    } > "$STATE/status.partial" && mv "$STATE/status.partial" "$STATE/status"
}
log() { printf '[containerlab-box] %s\n' "$*" >&2; }
STARTED=$(date +%s%N)
since_start() { local now; now=$(date +%s%N); printf '%d.%01d s' $(((now - STARTED) / 1000000000)) $((((now - STARTED) / 100000000) % 10)); }

# Mount each cgroup hierarchy afresh, read-write, in the box's own cgroup namespace: the nested engine then puts
# its containers below the box's cgroup (removed with the box), and paths look as they do on a host.
own_cgroups() {
    local mounts
    # mountinfo: the file system type is the field after the lone "-" (optional fields come before it).
    mounts=$(awk '{for (i = 7; i <= NF; i++) if ($i == "-") break; t = $(i + 1)}
                  ($5 ~ "^/sys/fs/cgroup(/|$)") && (t == "cgroup" || t == "cgroup2") {print $5 "|" t "|" $6 "|" $NF}' \
             /proc/self/mountinfo)
    local line point fstype flags options
    for line in $mounts; do
        IFS='|' read -r point fstype flags options <<<"$line"
        case ",$flags," in *,ro,*) ;; *) continue ;; esac
        local wanted
        wanted=$(tr ',' '\n' <<<"$options" | grep -Ev '^(ro|rw)$' | paste -sd, -)
        umount "$point" 2>/dev/null || umount -l "$point" || return 1
        mount -t "$fstype" -o "rw${wanted:+,$wanted}" "$fstype" "$point" || return 1
    done
    # A v1 host mounts cgroup2 at unified/ beside its controllers ("hybrid"); the engine does not pass it on.
    if [ -d /sys/fs/cgroup/memory ] && ! mountpoint -q /sys/fs/cgroup/unified && grep -qw cgroup2 /proc/filesystems; then
        mkdir -p /sys/fs/cgroup/unified 2>/dev/null && mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
    fi
    # cgroup v2 allows no process in a cgroup whose controllers are handed to children: move the box's
    # processes into a leaf first (as Docker's own dind script does).
    if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
        mkdir -p /sys/fs/cgroup/box
        xargs -rn1 < /sys/fs/cgroup/cgroup.procs > /sys/fs/cgroup/box/cgroup.procs 2>/dev/null || :
        sed -e 's/ / +/g' -e 's/^/+/' < /sys/fs/cgroup/cgroup.controllers > /sys/fs/cgroup/cgroup.subtree_control || :
    fi
}

# The engines' storage, /tmp and rootless Podman's store live on the volume (overlay on overlay would fail).
storage() {
    mkdir -p "$STORE/docker" "$STORE/containers" "$STORE/tmp" "$STORE/clabuser" /var/lib/docker /var/lib/containers
    chmod 1777 "$STORE/tmp"
    chown clabuser: "$STORE/clabuser"
    mountpoint -q /var/lib/docker || mount --bind "$STORE/docker" /var/lib/docker
    mountpoint -q /var/lib/containers || mount --bind "$STORE/containers" /var/lib/containers
    find "$STORE/tmp" -mindepth 1 -maxdepth 1 -exec rm -rf {} + 2>/dev/null
    mountpoint -q /tmp || mount --bind "$STORE/tmp" /tmp
    local home=/home/clabuser/.local/share/containers
    runuser -u clabuser -- mkdir -p "$home"
    mountpoint -q "$home" || mount --bind "$STORE/clabuser" "$home"
    # Devices an unprivileged-looking run does not create (rootless Podman's fuse-overlayfs, tun).
    [ -e /dev/fuse ] || mknod -m 666 /dev/fuse c 10 229 2>/dev/null
    [ -e /dev/net/tun ] || { mkdir -p /dev/net && mknod -m 666 /dev/net/tun c 10 200 2>/dev/null; }
    return 0
}

# The nested engine's addresses: a /16 that none of the box's own networks overlaps. Left to itself, dockerd keeps
# the bridge subnet stored in its storage (an engine seed built before this choice stored 172.18.0.0/16, the first
# network a fresh host engine hands out): a box on such a host network then owned its gateway's address on docker0
# and answered no one, not even the hub that started it. A subnet the engine's own flags set is left alone.
ip4_number() { local IFS=.; set -- $1; echo $((($1 << 24) + ($2 << 16) + ($3 << 8) + $4)); }
overlaps() {  # overlaps A.B.C.D/LEN A.B.C.D/LEN: true when the two prefixes share an address
    local a=${1%/*} b=${2%/*} len=${1#*/} other=${2#*/}
    [ "$len" -le "$other" ] || len=$other
    local mask=$(((0xFFFFFFFF << (32 - len)) & 0xFFFFFFFF))
    [ $(($(ip4_number "$a") & mask)) -eq $(($(ip4_number "$b") & mask)) ]
}
nested_addresses() {
    case " ${CONTAINERLAB_BOX_DOCKERD_ARGS:-} " in *" --bip"*|*" --default-address-pool"*) return 0 ;; esac
    local own candidate net free
    own=$({ ip -4 -o route show; ip -4 -o addr show; } 2>/dev/null |
          awk '$1 ~ /^[0-9]+[.]/ {print $1} $3 == "inet" {print $4}' | sed '/\//!s/$/\/32/')
    # Beside the host engines' own pools (172.17-31.0.0/16, 192.168.0.0/16) and Podman's (10.88, 10.89); the last
    # two only for a box whose networks cover those 10.x ones.
    for candidate in 10.213 10.223 10.233 10.243 10.253 172.30 172.31; do
        free=yes
        for net in $own; do
            if overlaps "$candidate.0.0/16" "$net"; then free=no; break; fi
        done
        if [ $free = yes ]; then
            echo "--bip=$candidate.0.1/24 --default-address-pool=base=$candidate.0.0/16,size=24"
            return 0
        fi
    done
    log "every subnet the box's engine may use overlaps the box's own networks: it keeps its own choice"
}

# dockerd listens on a private socket; /var/run/docker.sock appears only once the lab images are loaded, so a
# notebook never sees an engine without its images (it would try to build them, which needs the network).
start_engine() {
    local private=$STATE/docker.sock
    rm -f /var/run/docker.sock "$private"
    # A new volume: unpack the engine storage the image carries (the lab images already loaded, see Dockerfile).
    local seed=/opt/containerlab/images/engine-seed.tar.zst
    if [ -f "$seed" ] && [ ! -d "$STORE/docker/image" ]; then
        status starting "The box's engine is unpacking the lab images." "Wait a few seconds, then run the cell again."
        if ! zstd -dc "$seed" | tar --extract --xattrs --xattrs-include='*' --numeric-owner -C "$STORE/docker"; then
            status failed "The box could not unpack its engine's storage onto its volume." \
                "Check the free disk space of the box's volume (docker system df), then restart the box."
            return 1
        fi
        log "lab images unpacked after $(since_start)"
    fi
    # --ip-masq=false: nested containers reach each other and the box, nothing beyond (as on the course's hosts).
    local addresses
    addresses=$(nested_addresses)
    local pool=${addresses##*base=}
    [ -z "$addresses" ] || log "the box's engine takes its networks from ${pool%%,*}, beside the box's own"
    # shellcheck disable=SC2086 # extra flags are words
    dockerd --host "unix://$private" --ip-masq=false $addresses ${CONTAINERLAB_BOX_DOCKERD_ARGS:-} \
        >"$LOGS/dockerd.log" 2>&1 &
    echo $! > "$STATE/dockerd.pid"
    local waited=0
    until DOCKER_HOST="unix://$private" docker version >/dev/null 2>&1; do
        if ! kill -0 "$(cat "$STATE/dockerd.pid")" 2>/dev/null || [ $waited -ge 600 ]; then
            local why
            why=$(grep -E 'level=(fatal|error)|failed|Error' "$LOGS/dockerd.log" | tail -1 | sed 's/^.*msg="\{0,1\}//; s/"\{0,1\}$//' | cut -c1-300)
            status failed "The box's Docker engine did not start: ${why:-no reason in its log}." \
                "Read $LOGS/dockerd.log in the box (docker exec BOX cat $LOGS/dockerd.log); restarting the box often helps."
            log "the nested dockerd did not start: ${why:-see $LOGS/dockerd.log}"
            return 1
        fi
        sleep 0.1; waited=$((waited + 1))
    done
    log "engine answers after $(since_start)"
    local images=/opt/containerlab/images/lab-images.tar.zst
    if [ -f "$images" ] && ! DOCKER_HOST="unix://$private" docker image inspect containerlab/debian >/dev/null 2>&1; then
        status starting "The box's engine is loading the lab images." "Wait a few seconds, then run the cell again."
        if ! zstd -dc "$images" | DOCKER_HOST="unix://$private" docker load -q >"$LOGS/load.log" 2>&1; then
            status failed "The box's engine could not load the lab images: $(tail -1 "$LOGS/load.log")" \
                "Check the free disk space of the box's volume (docker system df), then restart the box."
            return 1
        fi
    fi
    ln -sf "$private" /var/run/docker.sock
    # Lesson 08 on Podman: containers on one internal Podman network must get past Docker's FORWARD DROP.
    iptables -I DOCKER-USER -i podman+ -m physdev --physdev-is-bridged -j ACCEPT 2>/dev/null || :
    status ready "The box's Docker engine runs, with the lab images loaded."
    log "engine ready, with the lab images, after $(since_start)"
}

notebooks() {  # the course's notebooks in the learner's folder; an edited notebook is never overwritten
    [ "$ROOT" = /course ] || return 0
    cp -rn /opt/containerlab/notebooks/. /course/ 2>/dev/null || log "could not copy the notebooks to /course"
}

wait_ready() {  # in a running box: until the engine is ready (0) or has said why it cannot be (1)
    local deadline=$((SECONDS + ${1:-120}))
    while [ $SECONDS -lt $deadline ]; do
        case "$(sed -n 's/^state: //p' "$STATE/status" 2>/dev/null)" in
            ready) return 0 ;;
            failed|no-privileges) sed -n 's/^message: //p' "$STATE/status" >&2; return 1 ;;
        esac
        sleep 0.2
    done
    echo "the box's engine was not ready after ${1:-120} s" >&2
    return 1
}

engine() {
    status starting "The box's engine is starting." "Wait a few seconds, then run the cell again."
    local missing
    if ! missing=$(python -m containerlab.kernel.inside_box); then
        status no-privileges "$missing" \
            "Run the box with the flags in the README ('./lab box' picks them); on an engine that refuses --privileged, use the long form there."
        log "$missing"
        return 1
    fi
    if ! own_cgroups; then
        status failed "The box could not mount its cgroups read-write." \
            "Start it with --cgroupns private and --privileged (or the long form in the README)."
        log "could not mount the cgroups read-write"
        return 1
    fi
    storage
    start_engine
}

stop() {
    [ -n "${child:-}" ] && kill -TERM "$child" 2>/dev/null
    [ -f "$STATE/dockerd.pid" ] && kill -TERM "$(cat "$STATE/dockerd.pid")" 2>/dev/null
    wait
    exit 0
}
trap stop TERM INT

serve() {  # JupyterLab, or the JupyterHub single-user server when a hub spawned the box
    local token=${JUPYTER_TOKEN:-}
    # A JupyterHub spawner (DockerSpawner) sets JUPYTERHUB_API_TOKEN: serve as its single-user server, in an
    # image FROM this one that adds the jupyterhub package (left out here: about 140 MB).
    if [ -n "${JUPYTERHUB_API_TOKEN:-}" ] && command -v jupyterhub-singleuser >/dev/null; then
        exec jupyterhub-singleuser --ip=0.0.0.0 --port="${JUPYTER_PORT:-8888}" --allow-root \
            --ServerApp.root_dir="$ROOT" "$@"
    fi
    if [ -z "$token" ]; then
        token=$(python -c 'import secrets; print(secrets.token_hex(24))')
    fi
    # Never an open server: a token always, and the run command publishes the port on 127.0.0.1 only.
    local url="http://127.0.0.1:${JUPYTER_PORT:-8888}/lab?token=$token"
    printf '%s\n' "$url" > "$STATE/url"
    log "JupyterLab: $url (with the port you published; also in $STATE/url)"
    JUPYTER_TOKEN=$token exec jupyter lab --ip=0.0.0.0 --port="${JUPYTER_PORT:-8888}" --no-browser --allow-root \
        --ServerApp.root_dir="$ROOT" "$@"
}

command=${1:-lab}
[ $# -gt 0 ] && shift
[ "$command" = wait ] && { wait_ready "$@"; exit $?; }
notebooks
case "$command" in
    lab) engine & serve "$@" ;;
    engine) engine; sleep infinity & child=$!; wait "$child" ;;
    *) engine; "$command" "$@" & child=$!; wait "$child" ;;
esac
