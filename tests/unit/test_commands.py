"""The CLI beside every Python call, without an engine: command rendering, inspect facts, engine-state graders.

The rendering is checked word for word against what the docker CLI takes (and, in
tests/engine/test_cli_commands.py, by running the rendered line and comparing the containers); the
inspect reader on documents recorded from Docker 20.10 and from Podman 4.3's Docker-compatible API.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from containerlab.commands.inspect import ContainerFacts, EngineState, NetworkInfo, VolumeInfo
from containerlab.commands.line import (
    CommandLine,
    ShellVariables,
    build_command,
    compose_command,
    exec_command,
    network_command,
    run_command,
    size_text,
    transfer_command,
    volume_command,
)
from containerlab.course.engine_checks import check_container, container_problem, lint_problem, volume_problem
from containerlab.engine.lab import Lab
from containerlab.kernel.capabilities import (
    DOCKER_DEFAULT,
    capability_name,
    decode_capabilities,
    encode_capabilities,
    parse_security,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "engine"
VARIABLES = ShellVariables("docker", prefixes=(("LAB", "clab-alice-11-lifecycle"), ("REPO", "containerlab/alice-11"),
                                               ("WORK", "/tmp/containerlab-11-alice")),
                           words=(("LABELS", "--label containerlab.lesson=11-lifecycle "
                                             "--label containerlab.owner=alice"),))
LABELS = {"containerlab.lesson": "11-lifecycle", "containerlab.owner": "alice"}


# -- rendering ----------------------------------------------------------------------------------------

def test_a_run_is_shown_with_the_lessons_variables_and_expanded_in_full():
    line = run_command("docker", "containerlab/busybox", ["id", "-u"], remove=True, labels=LABELS,
                       options={"mem_limit": "256m", "memswap_limit": "256m", "pids_limit": 256, "cgroupns": "private"},
                       variables=VARIABLES)
    assert line.shown == ("docker run --rm --memory 256m --memory-swap 256m --pids-limit 256 --cgroupns private "
                          "$LABELS containerlab/busybox id -u")
    assert line.argv[-7:] == ("--label", "containerlab.lesson=11-lifecycle", "--label", "containerlab.owner=alice",
                              "containerlab/busybox", "id", "-u")
    assert shlex.split(line.expanded) == list(line.argv)
    assert "$" not in line.expanded


def test_every_lab_option_becomes_its_cli_flag():
    options = {"ports": {"80/tcp": ("127.0.0.1", None), "53/udp": ("127.0.0.1", 5353)},
               "volumes": ["/tmp/containerlab-11-alice/data:/data:ro"], "cap_drop": ["ALL"], "cap_add": ["CHOWN"],
               "read_only": True, "tmpfs": {"/tmp": "size=16m"}, "user": "1000:1000", "environment": {"A": "b c"},
               "restart_policy": {"Name": "on-failure", "MaximumRetryCount": 3}, "security_opt": ["no-new-privileges"],
               "network_mode": "clab-alice-11-lifecycle-net", "nano_cpus": 250_000_000, "devices": ["/dev/fuse"],
               "working_dir": "/srv", "entrypoint": "sh", "init": True, "pid_mode": "host",
               "mounts": [{"Type": "tmpfs", "Target": "/run", "TmpfsOptions": {"SizeBytes": 1 << 20}}],
               "healthcheck": {"test": ["CMD-SHELL", "wget -qO- localhost"], "interval": 1_000_000_000, "retries": 3},
               "mem_limit": 64 << 20, "pids_limit": 64}
    line = run_command("podman", "containerlab/busybox", "httpd -f", name="clab-alice-11-lifecycle-web", detach=True,
                       labels=LABELS, options=options, variables=VARIABLES)
    words = line.argv
    pairs = {(words[i], words[i + 1]) for i in range(len(words) - 1)}
    for pair in [("-p", "127.0.0.1::80"), ("-p", "127.0.0.1:5353:53/udp"),
                 ("-v", "/tmp/containerlab-11-alice/data:/data:ro"), ("--cap-drop", "ALL"), ("--cap-add", "CHOWN"),
                 ("--tmpfs", "/tmp:size=16m"), ("--user", "1000:1000"), ("-e", "A=b c"), ("--restart", "on-failure:3"),
                 ("--security-opt", "no-new-privileges"), ("--network", "clab-alice-11-lifecycle-net"),
                 ("--cpus", "0.25"), ("--device", "/dev/fuse"), ("--workdir", "/srv"), ("--entrypoint", "sh"),
                 ("--pid", "host"), ("--mount", "type=tmpfs,dst=/run,tmpfs-size=1048576"),
                 ("--health-cmd", "wget -qO- localhost"), ("--health-interval", "1s"), ("--health-retries", "3"),
                 ("--memory", "64m"), ("--pids-limit", "64"), ("--name", "clab-alice-11-lifecycle-web")]:
        assert pair in pairs, pair
    assert {"--read-only", "--init", "-d"} <= set(words)
    assert words[:2] == ("podman", "run") and words[-3:] == ("containerlab/busybox", "httpd", "-f")
    shown = line.shown
    assert "--name $LAB-web" in shown and "--network $LAB-net" in shown and "-v $WORK/data:/data:ro" in shown
    assert "-e 'A=b c'" in shown and "$LABELS" in shown and "alice" not in shown


def test_variables_show_inside_words_and_braces_guard_the_name():
    line = CommandLine(("docker", "run", "--mount", "type=bind,src=/tmp/containerlab-11-alice/x,dst=/x",
                        "containerlab/alice-11_v1", "/tmp/containerlab-11-alice"), VARIABLES)
    assert line.shown == "docker run --mount type=bind,src=$WORK/x,dst=/x ${REPO}_v1 $WORK"
    assert shlex.split(line.shown.replace("${REPO}", "R").replace("$WORK", "W")) == [
        "docker", "run", "--mount", "type=bind,src=W/x,dst=/x", "R_v1", "W"]


def test_quoting_stays_readable_and_exact():
    line = run_command("docker", "img", ["sh", "-c", "trap 'exit 0' TERM; sleep 1"], remove=True)
    assert line.shown == "docker run --rm img sh -c \"trap 'exit 0' TERM; sleep 1\""
    assert shlex.split(line.shown) == list(line.argv)
    dollar = run_command("docker", "img", ["sh", "-c", "echo '$HOME'"], remove=True)
    assert shlex.split(dollar.shown) == list(dollar.argv)


def test_the_other_actions():
    assert exec_command("docker", "clab-alice-11-lifecycle-web", ["cat", "/etc/hostname"], options={"user": "0"},
                        variables=VARIABLES).shown == "docker exec --user 0 $LAB-web cat /etc/hostname"
    assert network_command("docker", "clab-alice-11-lifecycle-net", labels=LABELS, options={"internal": True},
                           variables=VARIABLES).shown == "docker network create --internal $LABELS $LAB-net"
    assert volume_command("podman", "clab-alice-11-lifecycle-data", labels=LABELS,
                          variables=VARIABLES).shown == "podman volume create $LABELS $LAB-data"
    built = build_command("docker", "containerlab/alice-11-app:v1", dockerfile="Dockerfile.multistage", nocache=True,
                          labels=LABELS, memory=1 << 30, variables=VARIABLES)
    assert built.shown == ("docker build -t $REPO-app:v1 -f Dockerfile.multistage --no-cache --memory 1g "
                           "--memory-swap 1g $LABELS .  # in the directory that holds these files")
    composed = compose_command(("docker", "compose"), "clab-alice-11-lifecycle-demo", ["compose.yaml"],
                               ["up", "-d"], variables=VARIABLES)
    assert composed.shown == "docker compose -p $LAB-demo -f compose.yaml up -d"
    assert transfer_command("podman", "push", "127.0.0.1:15001/x:1", insecure=True).shown == \
        "podman push --tls-verify=false 127.0.0.1:15001/x:1"
    assert transfer_command("docker", "pull", "127.0.0.1:15001/x:1", insecure=True).shown == \
        "docker pull 127.0.0.1:15001/x:1"
    assert [size_text(v) for v in (256 << 20, 1 << 30, 1000, "64m")] == ["256m", "1g", "1000", "64m"]


def test_lab_renders_without_an_engine_and_refuses_what_it_would_refuse(monkeypatch):
    from containerlab.errors import UnsafeRequestError

    monkeypatch.setattr(Lab, "available", property(lambda self: False))
    lab = Lab("11-lifecycle", owner="alice")
    line = lab.run_command("containerlab/busybox", ["true"], name="x", detach=True, ports={80: None})
    assert line.shown.startswith("docker run -d --name $LAB-x -p 127.0.0.1::80 --memory 256m --memory-swap 256m "
                                 "--pids-limit 256 --cgroupns private $LABELS")
    with pytest.raises(UnsafeRequestError):
        lab.run_command("containerlab/busybox", ["true"], ports={80: ("0.0.0.0", 80)})
    variables = lab.shell_variables().environment()
    assert variables["LAB"] == "clab-alice-11-lifecycle" and variables["REPO"] == "containerlab/alice-11"
    assert variables["LABELS"] == "--label containerlab.lesson=11-lifecycle --label containerlab.owner=alice"


def test_cli_env_exports_and_writes_the_variables(tmp_path, monkeypatch):
    import os

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    for name in ("ENGINE", "LAB", "LABELS", "REPO", "WORK"):
        monkeypatch.setenv(name, "")
    lab = Lab("11-lifecycle", owner="alice")
    monkeypatch.setattr(Lab, "available", property(lambda self: False))
    env = lab.cli_env()
    assert os.environ["LAB"] == "clab-alice-11-lifecycle"
    assert os.environ["ENGINE"].startswith("echo Skipped")  # no engine: engine lines say so instead of failing
    text = env.file.read_text()
    assert env.file == tmp_path / "containerlab-11-alice" / "cli.env"
    assert "export LABELS='--label containerlab.lesson=11-lifecycle --label containerlab.owner=alice'" in text
    assert env.terminal_line == f"source {env.file}" and "alice" not in str(env)


# -- inspect facts --------------------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ["docker", "podman"])
def test_inspect_facts_from_both_engines(engine):
    data = json.loads((FIXTURES / f"{engine}-inspect-web.json").read_text())
    facts = ContainerFacts.from_inspect(data)
    assert facts.name == "clab-alice-99-fixture-web" and facts.running and facts.runs_image("containerlab/busybox")
    assert facts.has_labels({"containerlab.lesson": "99-fixture", "containerlab.owner": "alice"})
    (port,) = facts.publishing(80)
    assert port.host_ip == "127.0.0.1" and port.host_port > 0 and port.loopback_only
    assert facts.mount_at("/data").type == "volume" and facts.mount_at("/data").name == "clab-alice-99-fixture-data"
    assert facts.read_only and facts.user == "1000" and "/scratch" in facts.tmpfs
    assert facts.restart_policy == "on-failure" and facts.restart_retries == 2
    assert facts.memory == 64 << 20 and facts.pids_limit == 64
    assert any(opt.startswith("no-new-privileges") for opt in facts.security_opt)
    assert "GREETING=hi" in facts.env and facts.command == ("httpd", "-f", "-p", "80")
    # Docker keeps what was asked (ALL); Podman lists every default capability it dropped (NET_BIND_SERVICE kept).
    assert facts.cap_drop == ("ALL",) if engine == "docker" else ("CHOWN" in facts.cap_drop
                                                                  and "NET_BIND_SERVICE" not in facts.cap_drop)
    assert facts.networks and facts.networks[0].ip_address


def _state(*containers: ContainerFacts) -> EngineState:
    return EngineState("clab-alice-11-lifecycle-", LABELS, containers,
                       (NetworkInfo("clab-alice-11-lifecycle-net", "bridge", False, LABELS),),
                       (VolumeInfo("clab-alice-11-lifecycle-data", "/var/lib/x", {}),))


def _web(**changes) -> ContainerFacts:
    data = json.loads((FIXTURES / "docker-inspect-web.json").read_text())
    data["Name"] = "/clab-alice-11-lifecycle-web"
    data["Config"]["Labels"] = dict(LABELS)
    facts = ContainerFacts.from_inspect(data)
    return facts.__class__(**{**facts.__dict__, **changes})


def test_engine_state_graders_say_what_is_wrong_in_the_lessons_words():
    from containerlab.commands.inspect import PublishedPort

    assert "There is no container named $LAB-web (this lesson has: none yet)" in container_problem(_state(), "web")[1]
    assert "lacks the course's labels" in container_problem(_state(_web(labels={})), "web")[1]
    assert "is exited (exit code 3)" in container_problem(_state(_web(status="exited", exit_code=3)), "web")[1]
    public = _web(published=(PublishedPort("0.0.0.0", 8080, 80),))
    assert "every address" in container_problem(_state(public), "web", publishes=80)[1]
    assert "publishes nothing for port 8000" in container_problem(_state(_web()), "web", publishes=8000)[1]
    assert "not attached to $LAB-net" in container_problem(_state(_web()), "web", network="net")[1]
    assert container_problem(_state(_web()), "web", publishes=80) == (_web(), "")
    verdict = check_container(_state(_web()), "web", hint="h", right="yes", publishes=80)
    assert verdict.passed and str(verdict) == "✅ yes"
    assert "lacks the course's labels" in volume_problem(_state(), "data")
    assert "no volume named $LAB-other" in volume_problem(_state(), "other")


def test_lint_problem_accepts_the_lab_images_and_names_real_problems():
    assert lint_problem("FROM containerlab/busybox\nCOPY a /a\nCMD [\"sh\"]\n") == ""
    assert "latest" in lint_problem("FROM debian\nCMD [\"sh\"]\n")
    assert "does not parse" in lint_problem("COPY a b\n") or "FROM" in lint_problem("COPY a b\n")
    assert "secret" in lint_problem("FROM containerlab/busybox\nENV DB_PASSWORD=x\n").lower()


# -- capabilities -----------------------------------------------------------------------------------------

def test_capability_masks_decode_and_encode():
    assert decode_capabilities("00000000a80425fb") == tuple(
        name for name in decode_capabilities("00000000a80425fb") if name in DOCKER_DEFAULT)
    assert set(decode_capabilities("00000000a80425fb")) == set(DOCKER_DEFAULT)
    assert encode_capabilities(DOCKER_DEFAULT) == "00000000a80425fb"
    assert decode_capabilities("0000000000000000") == ()
    host = decode_capabilities("000001fffeffffff")
    assert len(host) == 40 and "sys_resource" not in host and host[-1] == "checkpoint_restore"
    assert decode_capabilities(1 << 45) == ("bit_45",)
    assert capability_name("CAP_NET_ADMIN") == capability_name("net_admin") == "net_admin"
    with pytest.raises(ValueError):
        capability_name("superpowers")


def test_security_fields_of_proc_status():
    text = ("Name:\tsleep\nUid:\t1000\t1000\t1000\t1000\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n"
            "CapEff:\t0000000000000000\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\n"
            "Seccomp:\t2\nSeccomp_filters:\t1\n")
    security = parse_security(text)
    assert security.effective == () and security.no_new_privs and security.seccomp == "filter"
    assert security.seccomp_filters == 1 and security.uid == 1000 and "chown" in security.bounding
