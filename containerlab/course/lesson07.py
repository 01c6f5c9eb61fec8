"""Exercise checks for lesson 07, runtimes and engines.

Checks never raise for a wrong or missing answer; they return a CheckResult with a hint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..kernel.process import read_process
from ..runtime.spec import namespace_types, parse_id_map
from .engine_checks import container_problem
from .grading import CheckResult, grade_set, unanswered

__all__ = ["STACK_PARTS", "LOW_LEVEL", "check_low_level", "check_exercise_spec", "check_rootless_root",
           "check_monitor"]

STACK_PARTS = ("docker engine", "podman", "cri-o", "apptainer", "runc", "crun", "containerd")
# The lesson's rule: a low-level runtime is handed a bundle and makes the container; it never sees an image.
LOW_LEVEL = {"runc", "crun"}


def _normalise(name: Any) -> str:
    return " ".join(str(name).strip().lower().replace("-", " ").split()).replace("cri o", "cri-o")


def _part(name: Any) -> str:
    """A stack part as the choices name it ('Docker' is the Docker engine, 'CRI O' is cri-o)."""
    part = _normalise(name)
    return "docker engine" if part == "docker" else part


def check_low_level(answer: Iterable[str] | None) -> CheckResult:
    """Exercise 07.1: which of STACK_PARTS are low-level runtimes by the lesson's rule (bundle in, container out)."""
    hint = ("Apply section 1's rule to each: a low-level runtime is handed a bundle (a root filesystem and a "
            "config.json) and makes the container from it; anything that pulls or stores images, or keeps a "
            "catalogue of containers, is high-level.")
    verdict = grade_set(answer, LOW_LEVEL, STACK_PARTS, hint=hint, extra="high-level by the rule",
                        lacking="low-level too", normalise=_part,
                        right="Right: runc and crun take a bundle and make the container, nothing more. containerd "
                              "pulls and stores images and keeps a catalogue of containers, so by the rule it is "
                              "high-level (a container manager that Docker delegates to, as CRI-O is for "
                              "Kubernetes); the talk lists it as low-level for where it sits, under Docker.")
    if not verdict.passed and "containerd" in verdict.message and "high-level by the rule" in verdict.message:
        return CheckResult(False, verdict.message + " containerd pulls images (ctr images pull) and keeps a list of "
                                                     "containers: the talk's slide puts it low, the rule does not.",
                           hint)
    return verdict


def check_exercise_spec(spec: Mapping[str, Any] | None) -> CheckResult:
    """Exercise 07.2: a config.json whose container prints its hostname 'exercise' and shares the host's network."""
    hint = ("edit_spec(template, args=['hostname'], hostname='exercise', "
            "namespaces=[... every type of the template except the network ...]).")
    missing = unanswered(spec, hint)
    if missing is not None:
        return missing
    if not isinstance(spec, Mapping) or "process" not in spec:
        return CheckResult(False, "That is not a runtime spec (a dict with 'process' and 'root').", hint)
    kinds = namespace_types(spec)
    args = list(spec.get("process", {}).get("args", []))
    if spec.get("hostname") != "exercise":
        return CheckResult(False, f"The hostname is {spec.get('hostname')!r}, not 'exercise'.", hint)
    if "uts" not in kinds:
        return CheckResult(False, "A hostname needs a UTS namespace of its own, or it would rename the host.", hint)
    if "net" in kinds:
        return CheckResult(False, "The spec still asks for a network namespace: the container would get its own.",
                           hint)
    if not {"pid", "mnt"} <= set(kinds):
        return CheckResult(False, "Keep the PID and mount namespaces: only the network should be shared.", hint)
    if "hostname" not in " ".join(args):
        return CheckResult(False, f"The command {args} does not print the hostname.", hint)
    return CheckResult(True, "Right: runc gives it its own UTS namespace named 'exercise' and, with no network "
                             "namespace in the list, leaves it in the host's network (like --network=host).")


def check_rootless_root(answer: Any, uid_map: str | None) -> CheckResult:
    """Exercise 07.3: which host uid root inside a rootless Podman container really is."""
    hint = "Read the first line of /proc/self/uid_map inside the rootless container: inside, outside, count."
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    if not uid_map:
        return CheckResult(False, "There is no uid_map to compare with: the rootless cell did not run here.",
                           "Run the rootless Podman cell first (it needs Podman and an ordinary user).")
    try:
        uid = int(answer)
    except (TypeError, ValueError):
        return CheckResult(False, f"{answer!r} is not a uid (a whole number).", hint)
    outside = next((r.to_host(0) for r in parse_id_map(uid_map) if r.to_host(0) is not None), None)
    if uid == outside:
        return CheckResult(True, f"Right: root in the container is uid {uid} on the host, the ordinary user who "
                                 "ran podman. It can do nothing there that this user could not.")
    if uid == 0:
        return CheckResult(False, "0 is root inside; the kernel maps it to another uid outside.", hint)
    return CheckResult(False, f"uid {uid} is not what the map says root is outside.", hint)


def check_monitor(lab: Any, answer: Any) -> CheckResult:
    """Exercise 07.4 (terminal): a running $LAB-monitored, and the name of its parent process on the host."""
    hint = ("In a terminal (after the source line): `$ENGINE run -d --name $LAB-monitored --memory 256m "
            "--pids-limit 256 $LABELS containerlab/busybox sleep 3600`; "
            "`pid=$($ENGINE inspect --format '{{.State.Pid}}' $LAB-monitored)`; "
            "`ps -o comm= -p $(ps -o ppid= -p $pid)` names its parent.")
    found, problem = container_problem(lab.state(), "monitored")
    if problem:
        return CheckResult(False, problem, hint)
    assert found is not None
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    try:
        parent = read_process(read_process(found.pid).ppid).name
    except (ProcessLookupError, FileNotFoundError):
        return CheckResult(False, "$LAB-monitored's process is not visible from this notebook.", hint)
    given = str(answer).strip()
    if given and (given == parent or parent.startswith(given) or given.startswith(parent)):
        return CheckResult(True, f"Right: {parent} is the parent of the container's first process: it holds the "
                                 "container's output and exit code, while the engine's CLI has long exited.")
    return CheckResult(False, f"{given!r} is not the parent of $LAB-monitored's first process on the host.", hint)
