"""The CLI beside every Python call, on the real engine: the shown command makes the same container, what a
learner types is found by clean and by the graders, and the graders read the engine's real state."""

from __future__ import annotations

import os
import subprocess
import time
import uuid

import pytest

from containerlab.course.engine_checks import check_container, container_problem, network_problem, volume_problem
from containerlab.engine.builds import build, lesson_tag
from containerlab.engine.lab import Lab, remove_labelled


@pytest.fixture
def lab(lab_images):
    """A lab of its own (lesson named per test run) whose resources are removed afterwards, pass or fail."""
    with Lab(f"98-cli-{uuid.uuid4().hex[:6]}", engine=lab_images) as made:
        yield made


def _shell(lab: Lab, line: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a shown line in bash with the lesson's variables, as a `%%bash` cell or a sourced terminal would."""
    env = {**os.environ, **lab.shell_variables().environment()}
    return subprocess.run(["bash", "-c", line], capture_output=True, text=True, env=env, timeout=120, check=check)


COMPARED = ("Memory", "MemorySwap", "PidsLimit", "ReadonlyRootfs", "Tmpfs", "RestartPolicy", "SecurityOpt", "NanoCpus",
            "Init")


def test_the_shown_run_command_makes_the_same_container(lab):
    options = {"ports": {80: None}, "cap_drop": ["ALL"], "cap_add": ["NET_BIND_SERVICE"], "read_only": True,
               "tmpfs": {"/scratch": "size=8m"}, "user": "1000", "environment": {"GREETING": "hello there"},
               "restart_policy": {"Name": "on-failure", "MaximumRetryCount": 2},
               "security_opt": ["no-new-privileges"], "nano_cpus": 500_000_000, "mem_limit": "64m", "pids_limit": 32}
    made = lab.start("containerlab/busybox", ["httpd", "-f", "-p", "80"], name="from-python", **options)
    typed_line = lab.run_command("containerlab/busybox", ["httpd", "-f", "-p", "80"], name="typed", detach=True,
                                 **options).shown
    assert "$LABELS" in typed_line and "--name $LAB-typed" in typed_line
    _shell(lab, typed_line)
    python_side = made.inspect()
    typed_side = lab.container("typed").inspect()
    for key in COMPARED:
        assert typed_side["HostConfig"].get(key) == python_side["HostConfig"].get(key), key
    for key in ("Cmd", "User", "Labels", "ExposedPorts"):
        assert typed_side["Config"].get(key) == python_side["Config"].get(key), key

    def environment(side):  # Podman adds HOSTNAME (the container's own) and orders them its way
        return {item for item in side["Config"]["Env"] if not item.startswith("HOSTNAME=")}

    assert environment(typed_side) == environment(python_side)
    # The docker CLI writes capabilities as CAP_NET_BIND_SERVICE, the SDK as asked: the same capabilities.
    assert made.facts().cap_add == lab.container("typed").facts().cap_add
    assert made.facts().cap_drop == lab.container("typed").facts().cap_drop
    bindings = [b for side in (python_side, typed_side) for b in side["HostConfig"]["PortBindings"]["80/tcp"]]
    assert {b["HostIp"] for b in bindings} == {"127.0.0.1"}
    # Docker writes the cgroup namespace mode down; both ask for a private one.
    assert typed_side["HostConfig"].get("CgroupnsMode") == python_side["HostConfig"].get("CgroupnsMode")


def test_shown_run_exec_and_build_lines_run_as_shown(lab, tmp_path):
    ran = lab.run("containerlab/busybox", ["sh", "-c", "echo 'it is' $((6 * 7))"], name="once")
    assert ran.output.strip() == "it is 42"
    again = _shell(lab, ran.command.shown)
    assert again.stdout.strip() == "it is 42"
    sleeper = lab.start("containerlab/busybox", ["sleep", "60"], name="sleeper")
    executed = lab.exec(sleeper, ["sh", "-c", "echo \"$((1 + 1))\" > /tmp/x && cat /tmp/x"])
    assert _shell(lab, executed.command.shown).stdout == executed.output == "2\n"
    (tmp_path / "Dockerfile").write_text('FROM containerlab/busybox\nCMD ["echo", "built by hand"]\n')
    tag = lesson_tag(lab, "typed")
    line = build(lab, lesson_tag(lab, "python"), {"Dockerfile": (tmp_path / "Dockerfile").read_bytes()},
                 progress=None).command.shown.replace("$REPO-python", "$REPO-typed")
    assert line.endswith(".  # in the directory that holds these files")
    _shell(lab, f"cd {tmp_path} && {line.split('  #')[0]} >/dev/null 2>&1")
    assert lab.run(tag).output.strip() == "built by hand"
    labels = lab.engine.client.api.inspect_image(tag)["Config"]["Labels"]
    assert labels["containerlab.owner"] == lab.owner and labels["containerlab.lesson"] == lab.lesson


def test_what_a_learner_types_is_found_by_clean_and_by_cleanup(lab):
    _shell(lab, "$ENGINE run -d --name $LAB-labelled --memory 64m --pids-limit 16 $LABELS containerlab/busybox "
                "sleep 60 >/dev/null")
    _shell(lab, "$ENGINE run -d --name $LAB-forgot --memory 64m --pids-limit 16 containerlab/busybox sleep 60 >/dev/null")
    _shell(lab, "$ENGINE volume create $LAB-notes >/dev/null && $ENGINE network create $LAB-net >/dev/null")
    state = lab.state()
    assert {lab.name_for("labelled"), lab.name_for("forgot")} <= {c.name for c in state.containers}
    assert "lacks the course's labels" in container_problem(state, "forgot")[1]
    assert container_problem(state, "labelled")[1] == ""
    assert "lacks the course's labels" in volume_problem(state, "notes")
    assert "lacks the course's labels" in network_problem(state, "net")
    by_labels = remove_labelled(lab.engine, lesson=lab.lesson, owner=lab.owner)
    assert by_labels.containers == 1  # `containerlab clean` finds what carries $LABELS
    report = lab.cleanup()
    assert (report.containers, report.networks, report.volumes) == (1, 1, 1)  # the rest by its $LAB name
    after = lab.state()
    assert after.containers == () and after.volumes == () and after.networks == ()


def test_graders_read_the_engines_state(lab):
    _shell(lab, "$ENGINE run -d --name $LAB-web -p 127.0.0.1::8080 --memory 64m --pids-limit 16 $LABELS "
                "containerlab/busybox httpd -f -p 8080 >/dev/null")
    _shell(lab, "$ENGINE run -d --name $LAB-done --memory 64m --pids-limit 16 $LABELS containerlab/busybox "
                "sh -c 'exit 3' >/dev/null")
    lab.network("net", echo=False)
    lab.volume("data", echo=False)
    deadline = time.monotonic() + 10
    while lab.state().container("done").running and time.monotonic() < deadline:
        time.sleep(0.1)
    state = lab.state()
    assert check_container(state, "web", hint="", right="ok", publishes=8080, image="containerlab/busybox").passed
    assert "publishes nothing for port 80" in container_problem(state, "web", publishes=80)[1]
    assert "not attached to $LAB-net" in container_problem(state, "web", network="net")[1]
    assert "is exited (exit code 3)" in container_problem(state, "done")[1]
    assert container_problem(state, "done", running=False)[1] == ""
    assert "no container named $LAB-gone" in container_problem(state, "gone")[1]
    assert volume_problem(state, "data") == "" and network_problem(state, "net") == ""
    (port,) = state.container("web").publishing(8080)
    assert port.loopback_only and port.host_port > 0
