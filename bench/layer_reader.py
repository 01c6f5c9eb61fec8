"""Benchmark: the streaming image-tarball reader against `tar -tf` on a >= 200 MB image tarball.

    .venv/bin/python bench/layer_reader.py [--tarball PATH] [--runs 5] [--keep]

Without --tarball it makes one: `docker save` of containerlab/debian plus one 30 MB layer
(about 226 MB), built with lab labels and removed afterwards. Every command runs once to
warm the page cache, then --runs times interleaved; medians are printed, then ratios:

  reader / tar -tf        the issue's target (<= 1.4). GNU tar seeks over member data on a
                          regular file, so it reads a few KB of headers and never looks
                          inside a layer; any reader that lists layer contents or checks
                          digests must read all the bytes.
  reader / tar --no-seek  the same archive listing, but reading every byte.
  reader / list layers    what the reader reports, done by tar: list every file of every
                          layer (tar -xOf TARBALL LAYER | tar -tvf -).
  reader / list + hash    the same, also hashing every layer (tee to openssl dgst -sha256),
                          as the reader does when it checks digests.
  ... verify=False        the reader trusting stated digests instead of hashing layers.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from containerlab.images import read_image

FILLER_MB = 30


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def shell(command: list[str] | str) -> None:
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, shell=isinstance(command, str))


def make_tarball(directory: Path) -> tuple[Path, object]:
    """docker save of containerlab/debian + one filler layer; returns the path and the Lab to clean up."""
    from containerlab.engine.connect import connect
    from containerlab.engine.images import DEBIAN_IMAGE, build_from_context
    from containerlab.engine.lab import Lab

    lab = Lab("bench-images", owner="bench", engine=connect())
    tag = f"{lab.name_for('big')}:1"
    dockerfile = f"FROM {DEBIAN_IMAGE}\nRUN head -c {FILLER_MB * 1000 * 1000} /dev/urandom > /filler.bin\n"
    print(f"building {tag} (FROM {DEBIAN_IMAGE} + {FILLER_MB} MB layer) and saving it ...", flush=True)
    build_from_context(lab.engine, tag, {"Dockerfile": dockerfile.encode()}, lambda line: None, lab.labels())
    path = directory / "big-image.tar"
    with open(path, "wb") as handle:
        for chunk in lab.engine.client.api.get_image(tag):
            handle.write(chunk)
    return path, lab


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tarball", type=Path, help="an existing image tarball (skips building one)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the generated tarball")
    args = parser.parse_args()
    if not shutil.which("tar"):
        print("error: GNU tar is the baseline of this benchmark and is not installed", file=sys.stderr)
        return 1
    workdir = Path(tempfile.mkdtemp(prefix="clab-bench-"))
    lab = None
    try:
        if args.tarball:
            path = args.tarball
        else:
            path, lab = make_tarball(workdir)
        size_mb = path.stat().st_size / 1e6
        report = read_image(path)
        list_layers = " && ".join(
            f"tar -xOf {shlex.quote(str(path))} {shlex.quote(layer.member)} | "
            f"tar -t{'z' if layer.compression == 'gzip' else ''}vf - > /dev/null" for layer in report.layers)
        # The same, also hashing each layer as the reader does when it checks digests (tee: both at once).
        # openssl uses the CPU's SHA instructions as Python's hashlib does; coreutils' sha256sum is ~4x slower.
        hasher = "openssl dgst -sha256" if shutil.which("openssl") else "sha256sum"
        hash_layers = " && ".join(
            f"tar -xOf {shlex.quote(str(path))} {shlex.quote(layer.member)} | tee >({hasher} > /dev/null) | "
            f"tar -t{'z' if layer.compression == 'gzip' else ''}vf - > /dev/null" for layer in report.layers)
        contenders = {
            "reader": lambda: read_image(path),
            "reader verify=False": lambda: read_image(path, verify=False),
            "tar -tf": lambda: shell(["tar", "-tf", str(path)]),
            "tar --no-seek -tf": lambda: shell(["tar", "--no-seek", "-tf", str(path)]),
            "list layers (tar | tar -tvf)": lambda: shell(list_layers or "true"),
            "list + hash layers": lambda: shell(["bash", "-c", hash_layers or "true"]),
        }
        for action in contenders.values():
            action()
        times: dict[str, list[float]] = {name: [] for name in contenders}
        for run in range(args.runs):
            order = list(contenders) if run % 2 == 0 else list(reversed(contenders))
            for name in order:
                times[name].append(timed(contenders[name]))
        median = {name: statistics.median(values) for name, values in times.items()}
        print(f"tarball: {path} ({size_mb:.0f} MB, {len(report.layers)} layers, "
              f"{sum(len(layer.entries) for layer in report.layers)} entries), {args.runs} runs, medians:")
        for name, seconds in median.items():
            print(f"  {name:30s} {seconds * 1000:8.1f} ms")
        print("ratios:")
        for reader in ("reader", "reader verify=False"):
            for baseline in ("tar -tf", "tar --no-seek -tf", "list layers (tar | tar -tvf)", "list + hash layers"):
                label = f"{reader} / {baseline}"
                print(f"  {label:52s} {median[reader] / median[baseline]:7.2f}x")
        print(f"issue target: reader / tar -tf <= 1.4 -> {median['reader'] / median['tar -tf']:.2f}x")
        print("  the same work done by tar and openssl (<= 1.4): "
              f"checking digests {median['reader'] / median['list + hash layers']:.2f}x, "
              f"trusting them {median['reader verify=False'] / median['list layers (tar | tar -tvf)']:.2f}x")
        return 0
    finally:
        if lab is not None:
            print(lab.cleanup())
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}")


if __name__ == "__main__":
    sys.exit(main())
