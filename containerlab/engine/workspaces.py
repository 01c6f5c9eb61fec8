"""The workspace base image of lesson 09: Debian's supervisor (and systemd, to show why it is awkward)
installed into the offline Debian image, with a build that needs no network.

A Dockerfile ``RUN apt-get install`` would need a package mirror inside the build. Instead the host's
own apt resolves what the image lacks (``apt-get install --download-only`` against the *image's*
dpkg status file, so exactly the missing dependencies come down, from Debian's package registry),
the .deb files go into the build context, and one ``RUN dpkg -i`` installs them offline. The .deb
files are cached per machine; the image is a course base image (like containerlab/debian): built
once, kept across runs so the lesson stays fast, removed by ``python -m containerlab clean --images``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from ..errors import HostToolMissingError, LabError
from ..kernel.host import distro_codename
from .connect import Engine
from .images import BASE_LABELS, CACHE_DIR, DEBIAN_IMAGE, ImageStatus, build_from_context, image_status, machine_lock
from .lab import Lab
from .progress import Progress, print_progress

__all__ = ["SUPERVISOR_IMAGE", "SUPERVISOR_DOCKERFILE", "WORKSPACE_PACKAGES", "download_debs",
           "ensure_supervisor_image"]

SUPERVISOR_IMAGE = "containerlab/supervisor"
WORKSPACE_PACKAGES = ("supervisor", "systemd")
SUPERVISOR_DOCKERFILE = f"""\
FROM {DEBIAN_IMAGE}
# Debian packages that the host's apt downloaded into debs/: this build needs no network.
COPY debs/ /tmp/debs/
# policy-rc.d exit 101: packages must not start their services while the image is built.
RUN printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d \\
 && dpkg -i /tmp/debs/*.deb \\
 && rm -rf /tmp/debs /usr/sbin/policy-rc.d \\
 && mkdir -p /var/log/supervisor
CMD ["supervisord", "-n", "-c", "/etc/supervisor/supervisord.conf"]
"""


def _apt_get() -> str:
    path = shutil.which("apt-get")
    if path is None:
        raise HostToolMissingError(
            "This host has no apt-get to fetch the Debian packages for the workspace image.",
            "Build the image on a Debian or Ubuntu machine (or load it from a workshop pack).")
    return path


def _image_dpkg_status(engine: Engine) -> str:
    """The Debian image's /var/lib/dpkg/status: what is installed in it already."""
    # Lab.run removes its container at once; no cleanup() here: lesson "setup" labels the base images.
    found = Lab("setup", owner="course", engine=engine).run(DEBIAN_IMAGE, ["cat", "/var/lib/dpkg/status"], timeout=60)
    if not found.ok or "Package: " not in found.output:
        raise LabError(f"Reading the package list of {DEBIAN_IMAGE} failed: {found.output.strip()[:200]}",
                       "Rebuild it with 'python -m containerlab setup --force --only debian'.")
    return found.output


def _apt_download(status_file: Path, archives: Path, packages: tuple[str, ...], progress: Progress) -> int:
    state = status_file.parent
    (state / "extended_states").touch()
    (archives / "partial").mkdir(parents=True, exist_ok=True)
    command = [_apt_get(), "-q", "-y", "--download-only", "--no-install-recommends",
               "-o", f"Dir::State::status={status_file}",
               "-o", f"Dir::State::extended_states={state / 'extended_states'}",
               "-o", f"Dir::Cache::archives={archives}", "-o", "Debug::NoLocking=1",
               "-o", "APT::Sandbox::User=root", "install", *packages]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(("Get:", "Need to get", "E:", "Err:")) or "newly installed" in line:
            progress(f"  {line.rstrip()}")
    return process.wait()


def download_debs(engine: Engine, packages: tuple[str, ...] = WORKSPACE_PACKAGES, *,
                  progress: Progress = print_progress, force: bool = False) -> Path:
    """A cached directory of the .deb files that ``packages`` need on top of the Debian image.

    The host's apt resolves them against the image's dpkg status; when the host's package lists
    are too old to find them and we are root, ``apt-get update`` runs once and the download is retried.
    """
    codename = distro_codename()
    target = CACHE_DIR / f"debs-{codename}-{'-'.join(packages)}"
    if target.is_dir() and any(target.glob("*.deb")) and not force:
        progress(f"Using the cached Debian packages in {target}")
        return target
    with tempfile.TemporaryDirectory(prefix="containerlab-apt-") as work:
        status_file = Path(work) / "state" / "status"
        status_file.parent.mkdir()
        status_file.write_text(_image_dpkg_status(engine))
        archives = Path(work) / "archives"
        progress(f"Downloading {', '.join(packages)} and what they need beyond {DEBIAN_IMAGE} (host apt)")
        code = _apt_download(status_file, archives, packages, progress)
        if code != 0 and shutil.which("apt-get") and os.geteuid() == 0:
            progress("  apt could not fetch them; refreshing the host's package lists (apt-get update)")
            subprocess.run([_apt_get(), "-qq", "update"], check=False)
            code = _apt_download(status_file, archives, packages, progress)
        debs = sorted(archives.glob("*.deb"))
        if code != 0 or not debs:
            raise LabError(f"apt could not download {', '.join(packages)} for the workspace image (exit {code}).",
                           "Run 'sudo apt-get update' (the host needs Debian's package mirror once), then re-run.")
        partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        for deb in debs:
            shutil.copy2(deb, partial / deb.name)
        shutil.rmtree(target, ignore_errors=True)
        try:
            partial.rename(target)
        except OSError:  # another learner's download landed first: theirs serves as well
            shutil.rmtree(partial, ignore_errors=True)
    return target


def ensure_supervisor_image(engine: Engine, *, progress: Progress = print_progress,
                            force: bool = False) -> ImageStatus:
    """Build containerlab/supervisor once per machine (about 20 s, streamed); skip it when present."""
    with machine_lock(SUPERVISOR_IMAGE.replace("/", "-")):
        return _ensure_supervisor_image(engine, progress, force)


def _ensure_supervisor_image(engine: Engine, progress: Progress, force: bool) -> ImageStatus:
    status = image_status(engine, SUPERVISOR_IMAGE)
    if status.present and not force:
        progress(f"{SUPERVISOR_IMAGE}: present, kept from an earlier build")
        return status
    if not image_status(engine, DEBIAN_IMAGE).present:
        raise LabError(f"The workspace image is built on {DEBIAN_IMAGE}, which is not on this machine yet.",
                       "Run 'python -m containerlab setup' (it works offline), then re-run this cell.")
    started = time.monotonic()
    debs = download_debs(engine, progress=progress, force=force)
    files = {"Dockerfile": SUPERVISOR_DOCKERFILE.encode()}
    files.update({f"debs/{deb.name}": deb.read_bytes() for deb in sorted(debs.glob("*.deb"))})
    progress(f"Building {SUPERVISOR_IMAGE} from {DEBIAN_IMAGE} and {len(files) - 1} packages")
    build_from_context(engine, SUPERVISOR_IMAGE, files, progress, BASE_LABELS)
    progress(f"{SUPERVISOR_IMAGE}: built in {time.monotonic() - started:.0f} s")
    return image_status(engine, SUPERVISOR_IMAGE)
