"""A tiny container runtime in plain Python: namespaces, a hostname, a memory cgroup, pivot_root, /proc, exec.

Lesson 10 reads it cell by cell. It needs root and Linux; Python 3.11 has no os.unshare, so the
system calls go through ctypes. Run it as its own process (the notebook does), never by forking a
Jupyter kernel:

    python -m containerlab.runtime.tinyrun --rootfs DIR --hostname tiny --memory 32m -- sh -c 'echo $$'
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["NAMESPACES", "make_cgroup", "remove_cgroup", "enter_namespaces", "populate_dev", "enter_rootfs",
           "container_init", "run", "main", "command_line", "run_tiny", "TinyContainer", "leftover_cgroups"]

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x02000000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
NAMESPACES = {"mnt": CLONE_NEWNS, "uts": CLONE_NEWUTS, "ipc": CLONE_NEWIPC, "pid": CLONE_NEWPID,
              "net": CLONE_NEWNET, "cgroup": CLONE_NEWCGROUP}
MS_BIND, MS_REC, MS_PRIVATE, MNT_DETACH = 0x1000, 0x4000, 0x40000, 2
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "ppc64le": 203, "s390x": 217}
DEVICES = {"null": (1, 3), "zero": (1, 5), "random": (1, 8), "urandom": (1, 9)}
CGROUP_ROOT = Path("/sys/fs/cgroup")
libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, call: str) -> None:
    """Turn a C -1 into an OSError naming the call."""
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{call}: {os.strerror(errno)}")


def _mount(source: str, target: str, fstype: str | None, flags: int = 0) -> None:
    _check(libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags, None),
           f"mount {target}")


def make_cgroup(name: str, memory_bytes: int) -> Path:
    """A new memory cgroup with a hard limit and no swap beyond it: v2 (memory.max) or v1 (limit_in_bytes)."""
    controllers = CGROUP_ROOT / "cgroup.controllers"
    if controllers.exists() and "memory" in controllers.read_text().split():
        group = CGROUP_ROOT / name
        group.mkdir()
        (group / "memory.max").write_text(str(memory_bytes))
        (group / "memory.swap.max").write_text("0")
    else:
        group = CGROUP_ROOT / "memory" / name
        group.mkdir()
        (group / "memory.limit_in_bytes").write_text(str(memory_bytes))
        if (group / "memory.memsw.limit_in_bytes").exists():
            (group / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
    return group


def remove_cgroup(group: Path, wait: float = 2.0) -> None:
    """Remove an (empty) cgroup directory; the kernel refuses (EBUSY) until its last process is gone."""
    deadline = time.monotonic() + wait
    while group.exists():
        try:
            group.rmdir()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def enter_namespaces(groups: list[Path]) -> None:
    """Join the cgroups, then leave the host's namespaces: the next child is PID 1 of a new PID namespace."""
    for group in groups:
        (group / "cgroup.procs").write_text(str(os.getpid()))
    _check(libc.unshare(sum(NAMESPACES.values())), "unshare")


def populate_dev(rootfs: str) -> None:
    """A private /dev on a tmpfs with the few device nodes programs expect."""
    _mount("tmpfs", f"{rootfs}/dev", "tmpfs")
    for name, (major, minor) in DEVICES.items():
        os.mknod(f"{rootfs}/dev/{name}", stat.S_IFCHR | 0o666, os.makedev(major, minor))


def enter_rootfs(rootfs: str) -> None:
    """pivot_root into rootfs, mount a fresh /proc, and drop the old root from this mount namespace."""
    _mount("none", "/", None, MS_REC | MS_PRIVATE)   # nothing below propagates back to the host
    _mount(rootfs, rootfs, None, MS_BIND | MS_REC)     # pivot_root needs the new root to be a mount point
    populate_dev(rootfs)
    os.makedirs(f"{rootfs}/.oldroot", exist_ok=True)
    _check(libc.syscall(SYS_PIVOT_ROOT[platform.machine()], rootfs.encode(), f"{rootfs}/.oldroot".encode()),
           "pivot_root")
    os.chdir("/")
    _mount("proc", "/proc", "proc")
    _check(libc.umount2(b"/.oldroot", MNT_DETACH), "umount /.oldroot")
    os.rmdir("/.oldroot")


def container_init(rootfs: str, argv: list[str], hostname: str) -> None:
    """In the child that is PID 1: set the hostname, switch root, exec the command (never returns)."""
    socket.sethostname(hostname)
    enter_rootfs(rootfs)
    os.execvpe(argv[0], argv, {"PATH": "/bin:/sbin:/usr/bin:/usr/sbin", "HOME": "/root", "TERM": "dumb"})


def _exit_code(status: int) -> int:
    """Like a shell: the exit code, or 128 + the signal that killed it."""
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


def run(rootfs: str, argv: list[str], *, hostname: str = "tiny", memory_bytes: int = 64 << 20,
        cgroup_name: str = "", pid_file: str = "", join: list[str] | None = None) -> int:
    """Run argv in a new container on rootfs; returns its exit code. The cgroup is removed after.

    ``join``: cgroups the caller made (with limits of its own) that the container joins instead; the caller
    removes them."""
    groups = [Path(path) for path in join] if join else [make_cgroup(cgroup_name or f"containerlab-tiny-{os.getpid()}",
                                                                      memory_bytes)]
    try:
        runtime_child = os.fork()
        if runtime_child == 0:
            try:
                # Opened first: PID 1's pivot_root soon changes the root of this process too (same mount ns).
                pid_out = open(pid_file, "w") if pid_file else None
                enter_namespaces(groups)
                init = os.fork()
                if init == 0:
                    container_init(os.path.realpath(rootfs), argv, hostname)
                if pid_out:
                    pid_out.write(f"{init}\n")
                    pid_out.close()
                os._exit(_exit_code(os.waitpid(init, 0)[1]))
            except BaseException as err:  # the child must never return into the caller's code
                print(f"tinyrun: {err}", file=sys.stderr, flush=True)
                os._exit(125)
        return _exit_code(os.waitpid(runtime_child, 0)[1])
    finally:
        if not join:
            remove_cgroup(groups[0])


def main(argv: list[str] | None = None) -> int:
    """The command line: tinyrun --rootfs DIR [--hostname H] [--memory BYTES] [--pid-file F] -- CMD..."""
    parser = argparse.ArgumentParser(prog="python -m containerlab.runtime.tinyrun", description=__doc__.splitlines()[0])
    parser.add_argument("--rootfs", required=True)
    parser.add_argument("--hostname", default="tiny")
    parser.add_argument("--memory", type=int, default=64 << 20, help="memory limit in bytes")
    parser.add_argument("--cgroup", default="", help="the cgroup's name")
    parser.add_argument("--pid-file", default="", help="write the container's PID 1 (as the host sees it) here")
    parser.add_argument("--join", action="append", default=[], metavar="CGROUP_DIR",
                        help="join this cgroup, made by the caller, instead of making one (repeat for v1 controllers)")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args(argv)
    return run(args.rootfs, args.command, hostname=args.hostname, memory_bytes=args.memory,
               cgroup_name=args.cgroup, pid_file=args.pid_file, join=args.join)



# -- driving it from a notebook: always as a separate process ---------------------------------------

def command_line(rootfs: str | os.PathLike[str], command: list[str], *, hostname: str = "tiny",
                 memory_bytes: int = 64 << 20, cgroup_name: str = "", pid_file: str = "",
                 join: Sequence[str | os.PathLike[str]] | None = None) -> list[str]:
    """The argv that runs this module with the same Python: a fresh, single-threaded process forks, not Jupyter."""
    argv = [sys.executable, "-m", "containerlab.runtime.tinyrun", "--rootfs", os.fspath(rootfs), "--hostname", hostname,
            "--memory", str(memory_bytes)]
    argv += ["--cgroup", cgroup_name] if cgroup_name else []
    argv += ["--pid-file", pid_file] if pid_file else []
    for group in join or []:
        argv += ["--join", os.fspath(group)]
    return [*argv, "--", *command]


def run_tiny(rootfs: str | os.PathLike[str], command: list[str], *, timeout: float = 30,
             **options: Any) -> subprocess.CompletedProcess:
    """Run a command in a tiny container to completion; returns its exit code and output."""
    return subprocess.run(command_line(rootfs, command, **options), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


class TinyContainer:
    """A tiny container running in the background: its PID 1 as the host numbers it, and stop()."""

    def __init__(self, rootfs: str | os.PathLike[str], command: list[str], pid_file: str | os.PathLike[str],
                 **options: Any) -> None:
        Path(pid_file).unlink(missing_ok=True)
        # A file, not a pipe: the container must not hold it open. Closed by stop().
        self._errors = open(f"{pid_file}.err", "w+b")
        self.process = subprocess.Popen(command_line(rootfs, command, pid_file=os.fspath(pid_file), **options),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._errors)
        deadline = time.monotonic() + 10
        while not Path(pid_file).exists() or not Path(pid_file).read_text().strip():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self._errors.seek(0)
                why = self._errors.read().decode(errors="replace").strip()[-1500:]
                self.stop()
                raise RuntimeError(f"tinyrun did not start: {why}")
            time.sleep(0.02)
        self.pid = int(Path(pid_file).read_text())
        python = os.path.realpath(sys.executable)
        while time.monotonic() < deadline and _exe(self.pid) == python:  # until PID 1 has exec'd the command
            time.sleep(0.02)

    def stop(self) -> int:
        """Kill its PID 1 (which ends the whole PID namespace) and wait for the runtime to clean up."""
        if self.process.poll() is None:
            try:
                os.kill(getattr(self, "pid", self.process.pid), 9)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._errors.close()
        Path(self._errors.name).unlink(missing_ok=True)
        return self.process.returncode


def _exe(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


def _maker_is_running(name: str) -> bool:
    """Whether the process a cgroup is named after (``containerlab-tiny-<pid>``, ``…-pids-<pid>``) still runs, and
    is not this one: a runtime that still runs removes its own group when its container ends."""
    pid = name.rpartition("-")[2]
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it runs
        pass
    return True


def leftover_cgroups(prefix: str = "containerlab-tiny") -> list[Path]:
    """Cgroups a tiny container left (none after a clean run: the runtime removes its own).

    A group counts when the process it is named after has ended, or is the caller: other learners' containers that
    are running right now on the same machine are not left behind."""
    return sorted(p for base in (CGROUP_ROOT, CGROUP_ROOT / "memory", CGROUP_ROOT / "pids") if base.is_dir()
                  for p in base.iterdir()
                  if p.is_dir() and p.name.startswith(prefix) and not _maker_is_running(p.name))


if __name__ == "__main__":
    sys.exit(main())
