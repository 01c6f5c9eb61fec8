"""Exercise checks for lesson 14, security: what the engine recorded, and what the kernel says the process has.

A container's own /proc/1/status is the judge: its effective capabilities, no_new_privs and uid are what
the kernel enforces, whatever the flags were called.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ImageMissingError, LabError
from ..kernel.capabilities import capability_name, parse_security
from .engine_checks import container_problem, lint_problem
from .grading import CheckResult, unanswered

__all__ = ["check_vault", "check_locked_down_image", "check_chown_capability"]

BUSYBOX = "containerlab/busybox"
HARDENING = {"read_only": True, "cap_drop": ["ALL"], "security_opt": ["no-new-privileges"], "tmpfs": {"/tmp": ""}}


def check_vault(lab: Any) -> CheckResult:
    """Exercise 14.1 (terminal): $LAB-vault runs read-only, as a non-root user, with no capabilities and
    no_new_privs; checked in the engine's record and in the kernel's view of its first process."""
    hint = ("Four flags of `$ENGINE run`: --read-only, --user UID:GID, --cap-drop ALL, --security-opt "
            "no-new-privileges (plus -d, --name $LAB-vault, the limits and $LABELS; `sleep 3600` keeps it up).")
    found, problem = container_problem(lab.state(), "vault")
    if problem:
        return CheckResult(False, problem, hint)
    assert found is not None
    if not found.read_only:
        return CheckResult(False, "$LAB-vault's root filesystem is writable: --read-only.", hint)
    status = lab.exec("vault", ["cat", "/proc/1/status"], echo=False)
    if not status.ok:
        return CheckResult(False, "Could not read /proc/1/status in $LAB-vault.", hint)
    security = parse_security(status.output)
    if security.uid == 0:
        return CheckResult(False, "$LAB-vault's process runs as root (uid 0): --user.", hint)
    if security.effective or security.permitted:
        return CheckResult(False, f"$LAB-vault still has capabilities: {', '.join(security.permitted)}.", hint)
    if not security.no_new_privs:
        return CheckResult(False, "$LAB-vault's process may still gain privileges through setuid programs: "
                                  "no-new-privileges.", hint)
    return CheckResult(True, f"Right: uid {security.uid}, no capabilities, no_new_privs, seccomp "
                             f"{security.seccomp}, a read-only root: even a bug in the program finds little to use.")


def check_locked_down_image(lab: Any, tag: str, dockerfile: str | Path, page: str = "locked down",
                            port: int = 8080) -> CheckResult:
    """Exercise 14.2 (build it): an image that serves ``page`` on ``port`` when run read-only, without
    capabilities, with no_new_privs and a tmpfs /tmp only; run for real."""
    hint = ("Everything the server needs must be in the image already: write the page in a RUN step, listen on a "
            f"port above 1023 ({port}), run as USER 1000. At run time nothing but /tmp is writable.")
    path = Path(dockerfile)
    if not path.exists():
        return CheckResult(False, "There is no $WORK/locked/Dockerfile yet.", hint)
    problem = lint_problem(path.read_text())
    if problem:
        return CheckResult(False, problem, hint)
    try:
        server = lab.start(tag, name="locked-check", echo=False, **HARDENING)
    except ImageMissingError:
        return CheckResult(False, "There is no image $REPO-locked yet: build it from $WORK/locked.", hint)
    except LabError as err:
        return CheckResult(False, f"$REPO-locked does not start locked down: {err.message}", hint)
    try:
        fetch = ["sh", "-c", f"for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://127.0.0.1:{port}/ && exit 0; "
                             "sleep 0.3; done; exit 1"]
        answer = lab.exec("locked-check", fetch, echo=False)
        uid = parse_security(lab.exec("locked-check", ["cat", "/proc/1/status"], echo=False).output).uid
        logs = server.logs().strip()
    finally:
        server.remove()
    if not answer.ok:
        why = logs.splitlines()[-1] if logs else "it printed nothing"
        return CheckResult(False, f"Run locked down, nothing answered on port {port} ({why}).", hint)
    if answer.output.strip() != page:
        return CheckResult(False, f"It answered {answer.output.strip()[:40]!r}, not {page!r}.", hint)
    if uid == 0:
        return CheckResult(False, "It works, but as root: USER 1000 in the Dockerfile.", hint)
    return CheckResult(True, f"Right: served by uid {uid} with a read-only root, no capabilities and no_new_privs. "
                             "Whatever it needs to write goes to a tmpfs or a volume, named in the run command.")


def check_chown_capability(lab: Any, answer: Any) -> CheckResult:
    """Exercise 14.3: the one capability that, added back after --cap-drop ALL, lets root chown a file; run for real."""
    hint = "`man 7 capabilities` lists each one; the one you need is named after the system call."
    missing = unanswered(answer, hint)
    if missing is not None:
        return missing
    try:
        name = capability_name(str(answer))
    except ValueError:
        return CheckResult(False, f"{answer!r} is not a Linux capability (CHOWN, NET_ADMIN, SYS_ADMIN, ...).", hint)
    done = lab.run(BUSYBOX, ["sh", "-c", "touch /tmp/f && chown 1000 /tmp/f && echo ok"], cap_drop=["ALL"],
                   cap_add=[name.upper()], echo=False)
    if done.output.strip() != "ok":
        return CheckResult(False, f"With only {name.upper()}, root still may not chown: "
                                  f"{done.output.strip()[-80:]}.", hint)
    if name != "chown":
        return CheckResult(False, f"{name.upper()} lets it through, but it grants much more than chown.", hint)
    return CheckResult(True, "Right: CAP_CHOWN, and nothing else: `--cap-drop ALL --cap-add CHOWN`.")
