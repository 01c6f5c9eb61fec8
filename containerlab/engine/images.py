"""The offline lab images, built from what the host already has.

`containerlab/busybox`: FROM scratch + the host's static busybox (about 2 MB, < 1 s).
`containerlab/debian`: a debootstrap minbase root filesystem with python3, imported.
Nothing is pulled unless `online=True` is asked for.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from docker.errors import APIError, ImageNotFound

from ..errors import HostToolMissingError, LabError
from ..kernel.host import apt_mirror, distro_codename, is_static_elf
from .connect import Engine
from .lab import LABEL_LESSON, LABEL_OWNER
from .progress import Progress, print_progress

__all__ = ["BASE_IMAGES", "BUSYBOX_IMAGE", "DEBIAN_IMAGE", "ImageStatus", "image_status", "setup_images",
           "BUILD_LIMITS", "build_limits", "context_tar", "machine_lock"]

BUSYBOX_IMAGE = "containerlab/busybox"
DEBIAN_IMAGE = "containerlab/debian"
BASE_IMAGES = (BUSYBOX_IMAGE, DEBIAN_IMAGE)
ONLINE_EQUIVALENTS = {BUSYBOX_IMAGE: "docker.io/library/busybox:stable",
                      DEBIAN_IMAGE: "docker.io/library/python:3.11-slim-bookworm"}
BASE_LABELS = {LABEL_LESSON: "setup", LABEL_OWNER: "course", "containerlab.base": "true"}
# The containers a build runs its RUN steps in get a memory limit too (the API has no pids limit for them),
# where the engine can enforce one: a rootless engine on cgroup v1 fails the RUN step instead.
BUILD_LIMITS = {"memory": 1 << 30, "memswap": 1 << 30}


def build_limits(engine: Engine) -> dict[str, int]:
    """The limits a build's RUN containers get on this engine: BUILD_LIMITS, or none where memory is unenforced."""
    return dict(BUILD_LIMITS) if engine.enforces("memory") else {}
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "containerlab"


BUSYBOX_DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY etc/ /etc/
RUN ["/bin/mkdir", "-p", "/tmp", "/root", "/home", "/var", "/proc", "/sys", "/dev"]
ENV PATH=/bin
CMD ["sh"]
"""
PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
GROUP = "root:x:0:\nnogroup:x:65534:\n"


@contextlib.contextmanager
def machine_lock(name: str) -> Iterator[None]:
    """Hold a lock shared by every user of this machine while one of them builds a shared image.

    Learners on one engine may ask for the same missing image at the same moment (lesson 09's workspace image,
    the lab images); one builds it and the others find it present. The lock file is world-writable in the temp
    dir; where it cannot be opened (another user's file on a hardened /tmp), the build goes on without it.
    """
    path = Path(tempfile.gettempdir()) / f"containerlab-{name}.lock"
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        yield
        return
    try:
        with contextlib.suppress(OSError):
            os.fchmod(descriptor, 0o666)
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)




@dataclass(frozen=True)
class ImageStatus:
    """Whether a lab image exists, and its short ID and size."""

    name: str
    present: bool
    short_id: str = ""
    size_mb: float = 0.0

    def __str__(self) -> str:
        if not self.present:
            return f"{self.name}: missing"
        return f"{self.name}: present ({self.size_mb:.1f} MB)"


def image_status(engine: Engine, name: str) -> ImageStatus:
    """Inspect one image without failing when it is absent."""
    try:
        data = engine.client.api.inspect_image(name)
    except ImageNotFound:
        return ImageStatus(name, False)
    return ImageStatus(name, True, data["Id"].split(":")[-1][:12], data.get("Size", 0) / 1e6)


def _require_tool(name: str, package: str) -> str:
    path = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/sbin/{name}", f"/bin/{name}")
                                       if os.path.exists(p)), None)
    if not path:
        raise HostToolMissingError(f"The host program {name} is not installed.",
                                   f"Install it with 'sudo apt-get install -y {package}' and run setup again.")
    return path


def find_static_busybox() -> str:
    """Path of a statically linked busybox on the host (a dynamic one would not run in FROM scratch)."""
    candidates = [p for p in ("/bin/busybox", "/usr/bin/busybox") if os.path.exists(p)]
    which = shutil.which("busybox")
    if which and which not in candidates:
        candidates.append(which)
    for path in candidates:
        with open(path, "rb") as binary:
            if is_static_elf(binary.read(1 << 16)):
                return path
    if candidates:
        raise HostToolMissingError(f"{candidates[0]} is dynamically linked, so it cannot run in an empty image.",
                                   "Install the static build with 'sudo apt-get install -y busybox-static'.")
    return _require_tool("busybox", "busybox-static")


def context_tar(files: Mapping[str, bytes], executables: Collection[str] = frozenset()) -> bytes:
    """A deterministic build context: sorted, mtime 0, root-owned, 0644 (0755 for ``executables``).

    The same files then give the same cache keys on every run and every machine.
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            info.mode = 0o755 if name in executables else 0o644
            info.mtime = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(files[name]))
    return buffer.getvalue()


def build_from_context(engine: Engine, tag: str, files: Mapping[str, bytes], progress: Progress,
                       labels: dict[str, str], executables: Collection[str] = frozenset()) -> str:
    """Build an image from an in-memory context, streaming the build log; returns the image ID."""
    context = io.BytesIO(context_tar(files, executables))
    image_id = ""
    for chunk in engine.client.api.build(fileobj=context, custom_context=True, tag=tag, labels=labels,
                                         rm=True, forcerm=True, decode=True, container_limits=build_limits(engine)):
        if "stream" in chunk and chunk["stream"].strip():
            progress(f"  {chunk['stream'].rstrip()}")
        if "aux" in chunk and "ID" in chunk["aux"]:
            image_id = chunk["aux"]["ID"]
        if "error" in chunk:
            raise LabError(f"Building {tag} failed: {chunk['error'].strip()}",
                           "Read the build log above; fix the Dockerfile or the files it copies.")
    return image_id or engine.client.api.inspect_image(tag)["Id"]


def build_busybox(engine: Engine, progress: Progress = print_progress) -> None:
    """containerlab/busybox from the host's static busybox."""
    busybox = find_static_busybox()
    progress(f"Building {BUSYBOX_IMAGE} from {busybox} (FROM scratch)")
    files = {"Dockerfile": BUSYBOX_DOCKERFILE.encode(), "busybox": Path(busybox).read_bytes(),
             "etc/passwd": PASSWD.encode(), "etc/group": GROUP.encode()}
    build_from_context(engine, BUSYBOX_IMAGE, files, progress, BASE_LABELS, executables={"busybox"})


def debian_rootfs_tar(progress: Progress = print_progress, force: bool = False,
                      user_namespace: bool = False) -> Path:
    """A cached tarball of a debootstrap minbase root with python3 (built once per machine and user).

    debootstrap needs root; an ordinary user with rootless Podman is root in Podman's user namespace, where
    debootstrap runs too (``user_namespace``), so a rootless learner builds the image without sudo.
    """
    codename = distro_codename()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cached = CACHE_DIR / f"rootfs-{codename}-minbase-python3.tar"
    if cached.exists() and not force:
        progress(f"Using the cached root filesystem {cached}")
        return cached
    debootstrap = _require_tool("debootstrap", "debootstrap")
    if os.geteuid() != 0 and user_namespace:
        return _rootfs_in_user_namespace(debootstrap, codename, cached, progress)
    if os.geteuid() != 0:
        raise LabError(f"Building {DEBIAN_IMAGE} runs debootstrap, which needs root.",
                       "Run 'sudo python -m containerlab setup' once, or 'setup --online' to pull an equivalent.")
    mirror = apt_mirror()
    with tempfile.TemporaryDirectory(prefix="containerlab-rootfs-") as workdir:
        root = Path(workdir) / "rootfs"
        command = [debootstrap, "--variant=minbase", "--include=python3-minimal", codename, str(root)]
        if mirror:
            command.append(mirror)
        progress(f"Running debootstrap {codename} (about 30 s; needs the distribution's package mirror)")
        _stream(command, progress)
        shutil.rmtree(root / "var/cache/apt/archives", ignore_errors=True)
        (root / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".partial-{os.getpid()}")
        _stream(["tar", "--numeric-owner", "-C", str(root), "-cf", str(partial), "."], progress)
        partial.replace(cached)
    return cached


# debootstrap in rootless Podman's user namespace: `container=lxc` tells it that device nodes cannot be made
# there (it would refuse the target as "nodev" otherwise); the engine gives every container its own /dev anyway.
_USERNS_DEBOOTSTRAP = """set -e
root=$1; shift; tarball=$1; shift
trap 'rm -rf "$root"' EXIT
"$@"
rm -rf "$root/var/cache/apt/archives"/*.deb "$root/dev"/*
mkdir -p "$root/var/cache/apt/archives/partial"
tar --numeric-owner -C "$root" -cf "$tarball" .
"""


def _rootfs_in_user_namespace(debootstrap: str, codename: str, cached: Path, progress: Progress) -> Path:
    """Run debootstrap as root of rootless Podman's user namespace (`podman unshare`) and tar the result there,
    so the files keep their owners (root, _apt, ...) as the image needs them."""
    podman = shutil.which("podman")
    if podman is None:
        raise LabError(f"Building {DEBIAN_IMAGE} as an ordinary user needs rootless Podman's 'podman unshare'.",
                       "Install Podman, or run 'sudo python -m containerlab setup' once.")
    mirror = apt_mirror()
    workdir = Path(tempfile.mkdtemp(prefix="containerlab-rootfs-"))
    partial = cached.with_suffix(f".partial-{os.getpid()}")
    command = [debootstrap, "--variant=minbase", "--include=python3-minimal", codename, str(workdir / "rootfs")]
    if mirror:
        command.append(mirror)
    progress(f"Running debootstrap {codename} in your user namespace (podman unshare; about a minute; "
             "needs the distribution's package mirror)")
    try:
        _stream([podman, "unshare", "env", "container=lxc", f"PATH={os.environ.get('PATH', '')}:/usr/sbin:/sbin",
                 "sh", "-c", _USERNS_DEBOOTSTRAP, "sh", str(workdir / "rootfs"), str(partial), *command], progress)
        partial.replace(cached)
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)
    return cached


def _stream(command: list[str], progress: Progress) -> None:
    """Run a host command, passing each output line to progress; a failure raises LabError."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tail: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        tail = (tail + [line.rstrip()])[-5:]
        progress(f"  {line.rstrip()}")
    if process.wait() != 0:
        raise LabError(f"{Path(command[0]).name} failed (exit {process.returncode}): {' | '.join(tail[-2:])}",
                       "Check the log above; debootstrap needs the distribution mirror reachable and free disk.")


def build_debian(engine: Engine, progress: Progress = print_progress, force: bool = False) -> None:
    """containerlab/debian: import the debootstrap tarball, then label it and give it a CMD."""
    rootfs = debian_rootfs_tar(progress, force=force, user_namespace=engine.is_podman and engine.rootless)
    progress(f"Importing {rootfs.name} as {DEBIAN_IMAGE}:rootfs")
    # The tag goes in the repository argument: Podman's compat API ignores a separate tag.
    engine.client.api.import_image_from_file(str(rootfs), repository=f"{DEBIAN_IMAGE}:rootfs")
    files = {"Dockerfile": f"FROM {DEBIAN_IMAGE}:rootfs\nENV LANG=C.UTF-8\nCMD [\"bash\"]\n".encode()}
    build_from_context(engine, DEBIAN_IMAGE, files, progress, BASE_LABELS)
    engine.client.api.remove_image(f"{DEBIAN_IMAGE}:rootfs", noprune=True)


def pull_online(engine: Engine, name: str, progress: Progress) -> None:
    """Pull the public equivalent of a lab image and tag it with the lab name."""
    public = ONLINE_EQUIVALENTS[name]
    progress(f"Pulling {public} for {name}")
    try:
        repository, tag = public.rsplit(":", 1)
        for chunk in engine.client.api.pull(repository, tag=tag, stream=True, decode=True):
            if chunk.get("status") and not chunk.get("progressDetail"):
                progress(f"  {chunk['status']} {chunk.get('id', '')}".rstrip())
        engine.client.api.tag(public, name)
    except APIError as err:
        raise LabError(f"Pulling {public} failed: {err.explanation or err}",
                       "Without internet, run setup without --online to build the images locally.") from None


def setup_images(engine: Engine, *, names: tuple[str, ...] = BASE_IMAGES, force: bool = False,
                 online: bool = False, progress: Progress = print_progress) -> list[ImageStatus]:
    """Build (or with online=True pull) each missing lab image; skip what exists unless force."""
    results = []
    noted = False
    for name in names:
        with machine_lock(name.replace("/", "-")):
            status = image_status(engine, name)
            if status.present and not force:
                progress(f"{name}: present, skipped (use --force to rebuild)")
                results.append(status)
                continue
            started = time.monotonic()
            if engine.unenforced and not noted:
                progress(engine.limits_note())   # said once, instead of a build failing on a limit it cannot set
                noted = True
            if online:
                pull_online(engine, name, progress)
            elif name == DEBIAN_IMAGE:
                build_debian(engine, progress, force=force)
            else:
                build_busybox(engine, progress)
            status = image_status(engine, name)
            progress(f"{name}: built in {time.monotonic() - started:.1f} s")
            results.append(status)
    return results
