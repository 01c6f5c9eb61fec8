"""Gather the lab check: engine, rootless, cgroups, overlayfs, host tools, images, disk."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from ..errors import LabError
from ..kernel.cgroups import detect_cgroup_version
from ..kernel.host import PODMAN_BRIDGE_RULE, podman_bridges_blocked
from ..kernel.inside_box import in_box, read_status
from ..kernel.mountinfo import overlay_supported
from ..report import Report
from .connect import Engine, connect, engine_facts
from .images import BASE_IMAGES, find_static_busybox, image_status

__all__ = ["doctor"]

CGROUP_WORDS = {"v1": "cgroup v1: one hierarchy per controller",
                "v2": "cgroup v2: one unified hierarchy",
                "hybrid": "hybrid: cgroup v1 controllers plus a cgroup2 mount"}
MIN_FREE_GB = 1.0
WARN_FREE_GB = 3.0


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _check_podman_bridges(report: Report, proc: str) -> None:
    """Rootful Podman beside Docker: Docker's FORWARD DROP also drops traffic inside Podman's internal networks."""
    iptables = shutil.which("iptables") or ("/usr/sbin/iptables" if os.path.exists("/usr/sbin/iptables") else None)
    if iptables is None or os.geteuid() != 0:
        return
    try:
        rules = subprocess.run([iptables, "-S"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return
    if podman_bridges_blocked(rules, _read(f"{proc}/sys/net/bridge/bridge-nf-call-iptables")):
        report.add("podman networks", "warn",
                   "Docker's firewall drops traffic between containers on one internal Podman network (lesson 08)",
                   f"Run './lab setup', or: sudo iptables {PODMAN_BRIDGE_RULE.replace('-A', '-I', 1)}")
    else:
        report.add("podman networks", "ok", "containers on one Podman network can reach each other")


LIMITS_HINT = "limits are not enforced here: lesson 03 shows them only on a rootful engine or in the course box"


def _check_limits(report: Report, engine: Engine) -> None:
    """Which resource limits the engine can apply: a warning where a rootless engine cannot (cgroup v1)."""
    if not engine.unenforced:
        report.add("limits", "ok", "memory, CPU and pids limits are enforced")
    else:
        report.add("limits", "warn", engine.limits_note(), LIMITS_HINT)


def _check_box(report: Report, engine: object) -> None:
    """Inside the course box: is its own engine up, so that every lesson runs as on a Linux host as root?"""
    status = read_status()
    if status is not None and status.ready and engine is not None and os.geteuid() == 0:
        report.add("course box", "ok", "inside the course box, as root with its own engine: "
                   "every lesson runs as on a Linux host as root")
    elif status is None or status.state == "starting":
        report.add("course box", "warn", "inside the course box; its engine is still starting",
                   "Wait a few seconds and run the check again.")
    else:
        report.add("course box", "fail", status.message or f"the box's engine is {status.state}",
                   status.hint or "Restart the box with the flags in the README.")


def doctor(proc: str = "/proc") -> Report:
    """Check everything the course needs on this machine; never raises for a missing piece."""
    report = Report()
    try:
        engine = connect(refresh=True)
    except LabError as err:
        engine = None
        report.add("engine", "fail", err.message, err.hint)
    if engine is not None:
        report.facts["engine"] = engine_facts(engine)
        report.add("engine", "ok", f"{engine.name} {engine.version} (API {engine.api_version})")
        if engine.rootless:
            report.add("rootless", "ok", "rootless: containers run as your user")
        elif os.geteuid() == 0:
            report.add("rootless", "ok", "rootful: lessons that need root can run")
        else:
            report.add("rootless", "ok", "rootful engine, but you are not root: the cells that need root say so "
                                         "and show their recorded result")
        _check_limits(report, engine)
    else:
        report.add("rootless", "skip", "no engine to ask")
    if engine is not None and engine.is_podman and not engine.rootless:
        _check_podman_bridges(report, proc)
    if in_box():
        _check_box(report, engine)

    version = detect_cgroup_version(_read(f"{proc}/self/mountinfo"))
    report.facts["cgroup_version"] = str(version)
    if version == "none":
        report.add("cgroups", "warn", "no cgroup file system is mounted here",
                   "Lesson 03 reads cgroup files: mount them (a normal Linux host has them).")
    else:
        report.add("cgroups", "ok", CGROUP_WORDS.get(version, f"cgroup {version}"))
    if overlay_supported(_read(f"{proc}/filesystems")):
        report.add("overlayfs", "ok", "the kernel supports overlay mounts")
    else:
        report.add("overlayfs", "warn", "overlay is not in /proc/filesystems",
                   "Lesson 04 mounts overlays by hand: run 'sudo modprobe overlay'.")

    images = {name: image_status(engine, name) for name in BASE_IMAGES} if engine else {}
    try:
        busybox = find_static_busybox()
        report.add("busybox", "ok", f"static busybox at {busybox}")
    except LabError as err:
        needed = engine is not None and not images[BASE_IMAGES[0]].present
        report.add("busybox", "fail" if needed else "warn", err.message, err.hint)
    debootstrap = shutil.which("debootstrap") or (
        "/usr/sbin/debootstrap" if os.path.exists("/usr/sbin/debootstrap") else None)
    if debootstrap:
        report.add("debootstrap", "ok", f"debootstrap at {debootstrap}")
    else:
        needed = engine is not None and not images[BASE_IMAGES[1]].present
        report.add("debootstrap", "fail" if needed else "warn", "debootstrap is not installed",
                   "Install it with 'sudo apt-get install -y debootstrap' (or run 'setup --online').")

    for name, status in images.items():
        if status.present:
            report.add(f"image {name}", "ok", f"present ({status.size_mb:.1f} MB)")
        else:
            report.add(f"image {name}", "fail", "not built yet",
                       "Run 'python -m containerlab setup' (offline, about a minute).")
    if not engine:
        report.add("images", "skip", "no engine to ask")

    disk_path = engine.root_dir if engine and os.path.isdir(engine.root_dir) else str(Path.home())
    free_gb = shutil.disk_usage(disk_path).free / 1e9
    report.facts["free_gb"] = round(free_gb, 1)
    if free_gb < MIN_FREE_GB:
        report.add("disk", "fail", f"{free_gb:.1f} GB free under {disk_path}",
                   "Free at least 1 GB ('docker system prune' removes unused images).")
    elif free_gb < WARN_FREE_GB:
        report.add("disk", "warn", f"{free_gb:.1f} GB free under {disk_path}",
                   "The course needs about 1 GB; more is comfortable.")
    else:
        report.add("disk", "ok", f"{free_gb:.1f} GB free under {disk_path}")
    return report
