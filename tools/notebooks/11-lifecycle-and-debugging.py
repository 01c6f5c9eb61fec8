# %% [markdown]
# # 11 · Lifecycle and debugging
#
# **Part two: using containers day to day.** The first ten notebooks took containers apart. From here on you use
# them the way the talk's slide *"Build, push, pull, run, stop, ..."* does: at the command line. Every action
# below shows the `docker` (or `podman`) command it stands for, and most of the time **you** type it.
#
# **Objectives.** You will
# - run a container in the background and follow it through its life: `run -d`, `ps -a`, `logs`, `exec`,
#   `inspect --format`, `stop`, `start`, `rm`;
# - see why `stop` sometimes takes ten seconds, and what exit codes 0, 137 and 143 mean;
# - let the engine restart a failing container (`--restart on-failure:N`);
# - debug a container that **crashes at start**: read its logs, look inside with `--entrypoint sh`, copy a file in
#   with `cp`, list its changes with `diff`, save them with `commit`, then fix it properly with a Dockerfile;
# - work in a **terminal** with an interactive container (`run -it`, detach, `attach`).

# %%
import time
from pathlib import Path

import containerlab as cl
from containerlab.course.lesson11 import check_debug_shell, check_fixed_image, check_flaky_restarts
from containerlab.engine.builds import build, context_files, lesson_tag
from containerlab.engine.overlay import remove_workdir, reset_workdir

lab = cl.Lab("11-lifecycle-and-debugging", echo=True)  # echo: print the docker/podman command behind every action
cli = lab.cli_env()                       # $ENGINE, $LAB, $LABELS, $REPO, $WORK for the ! and %%bash cells
WORK = lab.workdir
APP = "apps/broken-app"
BROKEN, FIXED = lesson_tag(lab, "broken"), lesson_tag(lab, "fixed")
cli

# %% tags=["nbval-ignore-output"]
print("engine:", lab.engine.summary() if lab.available else f"none ({lab.why_unavailable})")
print("your $LAB prefix:", cli.values["LAB"])
print("in a terminal, type first:", cli.terminal_line)

# %% [markdown]
# **The variables.** Several learners may share one engine, so every name you create starts with your own prefix,
# `$LAB` (a container `web` is `$LAB-web`), and carries the course's labels, `$LABELS`, so that
# `python -m containerlab clean` finds it. `$ENGINE` is `docker` or `podman`, whichever this machine uses: the two
# CLIs take the same commands. Every lab container also gets a memory and a process limit
# (`--memory 256m --pids-limit 256`); notebook 03 showed why.
#
# ## 1. A container in the background
#
# `run -d` (detached) starts a container and gives you your prompt back. This one is a tiny web server. The Python
# call prints the command it stands for, flag by flag.

# %%
if lab.ready_for("engine", task="starting a web server"):
    web = lab.start("containerlab/busybox", ["sh", "-c", "mkdir -p /www && echo hello > /www/index.html && "
                                             "exec httpd -f -v -p 8080 -h /www"], name="web")

# %% [markdown]
# Now type one yourself: a container that counts to three, then sleeps. (`!` runs a line in the shell; the `rm -f`
# first makes the cell safe to run again: a name can be used by one container only.)

# %%
# !$ENGINE rm -f $LAB-counter >/dev/null 2>&1; $ENGINE run -d --name $LAB-counter --memory 256m --pids-limit 256 $LABELS containerlab/busybox sh -c 'echo tick 1; echo tick 2; echo tick 3; exec sleep 3600'

# %% [markdown]
# It printed the new container's ID. **`ps`** lists running containers, **`ps -a`** also the stopped ones;
# `--filter name=$LAB-` keeps to yours.

# %% tags=["nbval-ignore-output"]
# !$ENGINE ps -a --filter name=$LAB-

# %% [markdown]
# **`logs`** shows what a container printed (its standard output and error), **`--tail N`** only the last lines,
# `-f` follows them live (press the stop button to end it).

# %%
if lab.ready_for("engine", task="waiting for the counter"):
    counted = False
    for _ in range(50):
        counted = "tick 3" in lab.container("counter").logs()
        if counted:
            break
        time.sleep(0.1)
    print("the counter has counted:", counted)

# %%
# !$ENGINE logs --tail 2 $LAB-counter

# %% [markdown]
# **`exec`** runs another program in a running container, in its namespaces: here `ps`, which finds the web server
# as PID 1, and `wget`, which fetches the page from inside.

# %%
if lab.ready_for("engine", task="running programs inside web"):
    print(lab.exec(web, ["cat", "/proc/1/cmdline"]).output.replace("\0", " "))
    print(lab.exec(web, ["wget", "-qO-", "http://127.0.0.1:8080/"]).output, end="")

# %% [markdown]
# `exec -it CONTAINER sh` opens an interactive shell in it: `-i` keeps its input open, `-t` gives it a terminal.
# A notebook cell has no terminal to give, so that one is for the terminal exercise at the end.
#
# **`inspect`** prints everything the engine knows about a container as JSON; `--format` picks fields with a Go
# template. Templates use `{{ }}`, which IPython would read as Python in a `!` line: use a `%%bash` cell for them.

# %% language="bash"
# $ENGINE inspect --format 'status={{.State.Status}} memory={{.HostConfig.Memory}} pids={{.HostConfig.PidsLimit}}' $LAB-web
# $ENGINE inspect --format '{{json .Config.Cmd}}' $LAB-counter

# %% [markdown]
# ## 2. Stop, start, remove
#
# ```mermaid
# stateDiagram-v2
#     direction LR
#     [*] --> created: create
#     created --> running: start
#     running --> exited: stop / kill / the program ends
#     exited --> running: start / restart policy
#     running --> paused: pause
#     paused --> running: unpause
#     exited --> [*]: rm
#     running --> [*]: rm -f
# ```
#
# `run` is `create` + `start`. **`stop`** sends the container's first process SIGTERM, waits (10 s unless `-t`
# says otherwise), then sends SIGKILL. But the first process of a PID namespace is special: the kernel gives it **no
# default signal actions**, so a PID 1 that does not handle SIGTERM ignores it. `sleep` does not handle it; the
# second container traps it and exits 0.

# %%
if lab.ready_for("engine", task="starting two containers to stop"):
    stubborn = lab.start("containerlab/busybox", ["sleep", "3600"], name="stubborn")
    polite = lab.start("containerlab/busybox", ["sh", "-c", "trap 'echo got SIGTERM; exit 0' TERM; "
                                                "while true; do sleep 0.1; done"], name="polite")

# %%
# !$ENGINE stop -t 1 $LAB-stubborn $LAB-polite >/dev/null 2>&1

# %%
if lab.ready_for("engine", task="reading how they ended"):
    for container in (stubborn, polite):
        facts = container.facts()
        print(f"{container.short_name:8} {facts.status}, exit code {facts.exit_code}")
    print("polite printed:", polite.logs().strip())

# %% [markdown]
# **137** = 128 + 9: killed by SIGKILL after the timeout. (143 = 128 + 15 would be a program that let SIGTERM end
# it.) Programs written to run as PID 1 handle SIGTERM; for the others, `run --init` puts a tiny init (tini) in
# front that forwards signals. A stopped container keeps its filesystem: **`start`** runs it again,
# **`rm`** removes it (only when stopped; `rm -f` kills it first).

# %%
# !$ENGINE start $LAB-polite >/dev/null && $ENGINE rm $LAB-stubborn >/dev/null && echo "polite runs again, stubborn is gone"

# %% tags=["nbval-ignore-output"]
# !$ENGINE rm $LAB-polite

# %% [markdown]
# The engine refused to remove a running container (the wording differs between Docker and Podman).
#
# ## 3. Restart policies
#
# `--restart` tells the engine what to do when the program ends: `no` (the default), `on-failure[:N]` (restart it
# when it exits with a code other than 0, at most N times), `always`, `unless-stopped`. The engine waits longer
# between each try (100 ms, 200 ms, 400 ms, ...).

# %%
if lab.ready_for("engine", task="a container that keeps failing"):
    failing = lab.start("containerlab/busybox", ["sh", "-c", "echo starting; exit 1"], name="failing",
                        restart_policy={"Name": "on-failure", "MaximumRetryCount": 2})
    for _ in range(50):
        facts = failing.facts()
        if facts.status == "exited" and facts.restart_count == 2:
            break
        time.sleep(0.1)
    print(f"status {facts.status}, restarted {facts.restart_count} times, exit code {facts.exit_code}")
    print("it printed 'starting'", failing.logs().count("starting"), "times")

# %% [markdown]
# `always` and `unless-stopped` also start the container again when the engine itself restarts (a reboot), which is
# how a single machine keeps a service up without systemd units. (Podman has no daemon: `podman generate systemd`
# or Quadlet files hand that job to systemd.)
#
# ## 4. A container that crashes at start
#
# The everyday problem: `run` returns, and the container is gone. `apps/broken-app/` is a tiny service that needs a
# configuration file it does not have. Build it (the command the build stands for comes first):

# %%
print(Path(APP, "Dockerfile").read_text())
if lab.ready_for("engine", task="building the broken app"):
    build(lab, BROKEN, context_files(APP))

# %% [markdown]
# Run it detached, then **`wait`** for it: `wait` blocks until the container ends and prints its exit code.
# (`--pull never`: if the image were missing, the engine would otherwise try to download it from Docker Hub; this
# course works offline.)

# %%
# !$ENGINE rm -f $LAB-app >/dev/null 2>&1; $ENGINE run -d --name $LAB-app --memory 256m --pids-limit 256 --pull never $LABELS $REPO-broken >/dev/null
# !$ENGINE wait $LAB-app

# %% [markdown]
# Exit code 78 (`EX_CONFIG`, "configuration error"). Step by step, as you would at work:
#
# 1. **Read the logs**: a crashed container keeps them. `exec` cannot help: there is nothing running to join.

# %% language="bash"
# $ENGINE logs $LAB-app 2>&1
# $ENGINE exec $LAB-app true 2>/dev/null || echo 'exec refused: $LAB-app is not running'

# %% [markdown]
# 2. **Look inside the image** with another program: `--entrypoint` replaces the image's entry point (here
#    `sh`, with `-c ...` as its arguments), so the container runs a shell instead of the app.

# %%
# !$ENGINE run --rm --entrypoint sh --memory 256m --pids-limit 256 --pull never $LABELS $REPO-broken -c 'ls /app; ls /etc/app 2>&1; head -6 /app/app.sh'

# %% [markdown]
# 3. **Copy the missing file in** with `cp`: it works on a stopped container (its filesystem still exists), in both
#    directions. Then `start` the same container again.

# %%
config_dir = reset_workdir(WORK / "etc-app")
(config_dir / "app.conf").write_text("PORT=8000\n")
print("wrote $WORK/etc-app/app.conf:", (config_dir / "app.conf").read_text().strip())

# %% language="bash"
# $ENGINE cp $WORK/etc-app $LAB-app:/etc/app
# $ENGINE start $LAB-app >/dev/null
# sleep 1
# $ENGINE logs --tail 1 $LAB-app 2>&1
# $ENGINE inspect --format '{{.State.Status}}' $LAB-app

# %% [markdown]
# 4. **`diff`** lists what the container changed in its writable layer (A added, C changed, D deleted; notebook 04
#    showed where that layer lives). **`commit`** saves a container's filesystem as a new image.

# %% language="bash"
# $ENGINE diff $LAB-app | grep app.conf
# $ENGINE commit $LAB-app $REPO-committed >/dev/null 2>&1
# $ENGINE run --rm --memory 256m --pids-limit 256 --pull never $LABELS $REPO-committed cat /etc/app/app.conf

# %% [markdown]
# `commit` is a debugging tool, not a way to make images: nobody can tell from the image how the fix was made, and
# the next build of `apps/broken-app` is broken again. The fix belongs in a Dockerfile: that is exercise 2.
#
# ## Exercises
#
# **1. In a terminal.** Open one (*File › New › Terminal*) and run the `source` line printed at the top (it sets
# `$ENGINE`, `$LAB`, `$LABELS` there too). Start an **interactive** busybox shell named `$LAB-shell`:
# `$ENGINE run -it --name $LAB-shell --memory 256m --pids-limit 256 $LABELS containerlab/busybox sh`. Inside it,
# write something to `/tmp/hello`, then leave with **Ctrl-P Ctrl-Q**: that detaches and leaves the container
# running (`exit` would end its shell, and with it the container). Then run the check.

# %%
check_debug_shell(lab) if lab.ready_for("engine", task="checking your shell container") else None

# %% [markdown]
# **2. Build it: fix the app with a Dockerfile.** The cell below copies the broken app to `$WORK/fix/`. Write
# `$WORK/fix/Dockerfile` (in the terminal with an editor, or from Python) so that the image starts the app with
# `PORT=8000` in `/etc/app/app.conf`, then build it as `$REPO-fixed` and run the check: it lints your Dockerfile,
# starts your image and fetches the page.

# %%
fix = reset_workdir(WORK / "fix")
for name in ("app.sh", "index.html"):
    (fix / name).write_text(Path(APP, name).read_text())
print("in $WORK/fix:", sorted(path.name for path in fix.iterdir()))
print("build with: $ENGINE build -t $REPO-fixed $LABELS $WORK/fix")

# %%
check_fixed_image(lab, FIXED, fix / "Dockerfile") if lab.ready_for("engine", task="checking your image") else None

# %% [markdown]
# **3. A restart policy.** With the CLI, start `$LAB-flaky` from `containerlab/busybox`, running
# `sh -c 'echo trying; exit 3'`, with a restart policy that restarts it **at most twice** when it fails. The check
# reads its policy and watches it give up.

# %%
check_flaky_restarts(lab) if lab.ready_for("engine", task="checking $LAB-flaky") else None

# %% [markdown]
# <details><summary>Solutions</summary>
#
# ```bash
# # 1. (in a terminal you would type `-it` and detach with Ctrl-P Ctrl-Q; -d does the same without a terminal)
# $ENGINE run -dit --name $LAB-shell --memory 256m --pids-limit 256 $LABELS containerlab/busybox sh
# $ENGINE exec $LAB-shell sh -c 'echo hello > /tmp/hello'
# ```
# ```python
# check_debug_shell(lab)
# ```
# ```bash
# # 2.
# cat > $WORK/fix/Dockerfile <<'EOF'
# FROM containerlab/busybox
# COPY app.sh index.html /app/
# RUN mkdir -p /etc/app && echo PORT=8000 > /etc/app/app.conf
# USER 1000
# CMD ["sh", "/app/app.sh"]
# EOF
# $ENGINE build -q -t $REPO-fixed $LABELS $WORK/fix >/dev/null
# ```
# ```python
# check_fixed_image(lab, FIXED, fix / "Dockerfile")
# ```
# ```bash
# # 3.
# $ENGINE run -d --name $LAB-flaky --restart on-failure:2 --memory 256m --pids-limit 256 $LABELS containerlab/busybox sh -c 'echo trying; exit 3'
# ```
# ```python
# check_flaky_restarts(lab)
# ```
# 1. `-i` and `-t` make the shell interactive; Ctrl-P Ctrl-Q detaches without ending it; `attach` goes back in.
# 2. The configuration is part of the image, written by a Dockerfile line that anyone can read and rebuild. `USER
#    1000` is not needed, but the linter rightly notes that nothing here needs root.
# 3. `on-failure:2`: one run and two restarts, then the engine leaves it exited.
# </details>

# %% [markdown]
# ## References
#
# - The talk: *Playing with Containers* (M. Mambelli, Fermilab, 2024), "Build, push, pull, run, stop, ...";
#   its demo: [glideinWMS/containers](https://github.com/glideinWMS/containers) and its
#   [workspaces](https://github.com/glideinWMS/containers/tree/main/workspaces), driven with `podman exec -it`.
# - HSF training: [Docker](https://hsf-training.github.io/hsf-training-docker/index.html) (running containers,
#   `exec`, `cp`, `commit`) and [Apptainer/Singularity](https://hsf-training.github.io/hsf-training-singularity-webpage/).
# - Docker CLI reference: [run](https://docs.docker.com/reference/cli/docker/container/run/),
#   [restart policies](https://docs.docker.com/engine/containers/start-containers-automatically/),
#   [logs](https://docs.docker.com/reference/cli/docker/container/logs/),
#   [inspect --format](https://docs.docker.com/engine/cli/formatting/); Podman's
#   [podman-run(1)](https://docs.podman.io/en/latest/markdown/podman-run.1.html).
# - Kernel: `man 7 signal`, `man 7 pid_namespaces` (why PID 1 ignores signals it does not handle); `sysexits.h` (78).
# - [tini](https://github.com/krallin/tini), the init behind `--init`.

# %% [markdown]
# ## Clean up
#
# Removes this lesson's containers and images (also those you typed, by their labels or their `$LAB` names), then
# `$WORK`.

# %%
print(lab.cleanup())
print("work directory removed:", remove_workdir(WORK))
