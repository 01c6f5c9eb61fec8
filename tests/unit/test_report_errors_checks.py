"""The lab-check report, LabError's two lines, and the exercise graders."""

import json
import subprocess
import sys

import pytest

from containerlab.course import check_cgroup_version, check_default_uid, check_shared_with_host
from containerlab.course.grading import NOT_ANSWERED
from containerlab.errors import LabError, NoEngineError
from containerlab.report import Check, Report


def test_report_ok_until_a_check_fails():
    report = Report()
    report.add("engine", "ok", "docker 27.0")
    report.add("disk", "warn", "2.0 GB free", "free some space")
    assert report.ok
    report.add("image containerlab/busybox", "fail", "not built yet", "run setup")
    assert not report.ok
    text = report.to_text()
    assert "[FAIL] image containerlab/busybox" in text and "-> run setup" in text
    assert "-> free some space" in text
    assert text.endswith("fix the [FAIL] lines above.")
    data = json.loads(report.to_json())
    assert data["ok"] is False and data["checks"][2]["hint"] == "run setup"


def test_report_rejects_unknown_status_and_shows_svg():
    with pytest.raises(ValueError):
        Check("x", "great", "")
    bundle = Report([Check("engine", "ok", "docker")])._repr_mimebundle_()
    assert bundle["image/svg+xml"].startswith("<svg") and "engine" in bundle["text/plain"]


def test_lab_error_has_message_and_hint():
    err = NoEngineError("No engine answered.", "Start Docker.")
    assert str(err) == "No engine answered.\nHint: Start Docker."
    assert err.one_line() == "No engine answered. (hint: Start Docker.)"
    assert isinstance(err, LabError)


def test_notebook_handler_prints_two_lines_not_a_traceback():
    code = ("from IPython.testing.globalipapp import start_ipython\n"
            "shell = start_ipython()\n"
            "import containerlab\n"
            "containerlab.install_notebook_handler()\n"
            "shell.run_cell('from containerlab.errors import NoEngineError\\n"
            "raise NoEngineError(\"No engine answered.\", \"Start Docker.\")')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "No engine answered." in result.stdout and "Start Docker." in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("answer", [None, ...])
def test_checks_say_not_answered(answer):
    for check in (check_default_uid, check_cgroup_version, check_shared_with_host):
        result = check(answer)
        assert not result and result.message == NOT_ANSWERED and result.hint


def test_default_uid_check():
    assert check_default_uid(0) and check_default_uid("0\n")
    wrong = check_default_uid(1000)
    assert not wrong and "1000" in wrong.message
    assert "not a number" in check_default_uid("root").message


def test_shared_with_host_check_explains_each_mistake():
    assert check_shared_with_host({"kernel", "clock"})
    result = check_shared_with_host({"kernel", "hostname"})
    assert not result
    assert "hostname is the container's own" in result.message and "clock is shared too" in result.message
    assert "not among the choices" in check_shared_with_host({"gpu"}).message


def test_cgroup_version_check_reads_the_mount_table(tmp_path):
    (tmp_path / "self").mkdir()
    (tmp_path / "self/mountinfo").write_text(
        "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n")
    assert check_cgroup_version("v2", proc=str(tmp_path))
    assert check_cgroup_version("cgroup v2", proc=str(tmp_path))
    assert not check_cgroup_version("v1", proc=str(tmp_path))


def test_result_html_escapes():
    bundle = check_default_uid("<b>").__class__(False, "<b>bad</b>", "a & b")._repr_mimebundle_()
    assert "&lt;b&gt;bad&lt;/b&gt;" in bundle["text/html"] and "a &amp; b" in bundle["text/html"]
