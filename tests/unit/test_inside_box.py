"""The course box's privilege check and status file, on /proc files recorded on this project's machine: a plain
`docker run` (no flags) and a process inside a box started with the long form of --privileged."""

from __future__ import annotations

from pathlib import Path

import pytest

from containerlab.engine.box import box_requirements, privilege_flags, readme_command, run_argv
from containerlab.kernel.inside_box import (
    BoxStatus,
    format_status,
    missing_flags,
    missing_line,
    parse_capabilities,
    parse_status,
    privileges_from,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "box"
README = Path(__file__).resolve().parents[2] / "README.md"


def recorded(kind: str):
    read = lambda name: (FIXTURES / f"{kind}-{name}").read_text()  # noqa: E731
    return privileges_from(read("status.txt"), read("mountinfo.txt"), "", read("cgroup.txt"), read("devices.list"))


def test_plain_run_lacks_everything_and_the_line_names_the_flags():
    privileges = recorded("plain")
    assert "CAP_SYS_ADMIN" in privileges.missing_capabilities and privileges.seccomp_filtered
    assert "/proc/keys" in privileges.masked_paths and privileges.devices_restricted
    assert privileges.host_cgroup_namespace  # Docker 20.10 on a cgroup v1 host shares the host's namespace
    flags = [flag for flag, _ in missing_flags(privileges)]
    assert flags == ["--privileged", "--cgroupns private"]
    line = missing_line(missing_flags(privileges))
    assert "\n" not in line and line.startswith("The course box was started without --privileged and --cgroupns")
    assert "CAP_SYS_ADMIN" in line and "'docker run'" in line


def test_box_started_with_the_long_form_lacks_nothing():
    privileges = recorded("box")
    assert missing_flags(privileges) == [] and missing_line([]) == ""


def test_single_missing_pieces_name_their_own_flag():
    status = (FIXTURES / "box-status.txt").read_text().replace("Seccomp:\t0", "Seccomp:\t2")
    privileges = privileges_from(status, "", "docker-default (enforce)", "0::/\n", "a *:* rwm\n")
    assert [flag for flag, _ in missing_flags(privileges)] == ["--security-opt seccomp=unconfined",
                                                               "--security-opt apparmor=unconfined"]
    masked = privileges_from((FIXTURES / "box-status.txt").read_text(), (FIXTURES / "plain-mountinfo.txt").read_text(),
                             "unconfined", "0::/\n", "")
    assert missing_flags(masked, "podman") == [("--security-opt unmask=ALL", missing_flags(masked)[0][1])]


def test_capabilities_and_status_file_round_trip():
    assert parse_capabilities("CapEff:\t0000000000200000\n") == {21}
    text = format_status("failed", "The box's Docker engine did not start:\nno space.", "Restart it.")
    assert parse_status(text) == BoxStatus("failed", "The box's Docker engine did not start: no space.", "Restart it.")
    assert not parse_status(text).ready and parse_status("state: ready\n").ready


@pytest.mark.parametrize("cli", ["docker", "podman"])
def test_run_commands_publish_on_loopback_only_and_the_readme_shows_them(cli):
    long_form = run_argv(cli, "long", name="box", port=None, token="t")
    assert "--publish=127.0.0.1::8888" in long_form and "--env=JUPYTER_TOKEN=t" in long_form
    assert ("--security-opt=unmask=ALL" in long_form) == (cli == "podman")
    assert privilege_flags(cli, "privileged") == ["--privileged", "--cgroupns=private"]
    assert readme_command(cli) in README.read_text()


def test_box_requirements_leave_out_test_and_slide_packages():
    wanted = box_requirements(["jupyterlab>=4", "jupyterlab-rise>=0.43", 'playwright>=1.40; extra == "test"',
                               'pytest>=8; extra == "test"'])
    assert wanted[0] == "jupyterlab>=4" and "jupyterlab-rise>=0.43" not in wanted and "pytest" in wanted
