"""Benchmark: Lab.run against the engine's own CLI (`docker run --rm`), paired and interleaved.

    .venv/bin/python bench/run_overhead.py [--pairs 20] [--image containerlab/busybox]

Prints each side's median and the median of the per-pair ratios Lab.run / CLI
(target: <= 1.05). Pairs alternate which side goes first so drift cancels out.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

from containerlab.engine.connect import connect
from containerlab.engine.lab import Lab


def time_cli(cli: str, image: str) -> float:
    """Seconds for `<cli> run --rm IMAGE true`, as a user would type it."""
    started = time.perf_counter()
    subprocess.run([cli, "run", "--rm", image, "true"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def time_lab(lab: Lab, image: str) -> float:
    """Seconds for Lab.run(IMAGE, 'true') including removal."""
    started = time.perf_counter()
    result = lab.run(image, "true")
    elapsed = time.perf_counter() - started
    assert result.ok, result.output
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--image", default="containerlab/busybox")
    args = parser.parse_args()
    engine = connect()
    cli = shutil.which("podman" if engine.is_podman else "docker")
    if not cli:
        print(f"error: the {engine.name} CLI is not installed; it is the baseline of this benchmark", file=sys.stderr)
        return 1
    with Lab("bench", owner="bench", engine=engine) as lab:
        time_lab(lab, args.image), time_cli(cli, args.image)  # warm-up
        lab_times, cli_times, ratios = [], [], []
        for index in range(args.pairs):
            if index % 2:
                cli_t = time_cli(cli, args.image)
                lab_t = time_lab(lab, args.image)
            else:
                lab_t = time_lab(lab, args.image)
                cli_t = time_cli(cli, args.image)
            lab_times.append(lab_t)
            cli_times.append(cli_t)
            ratios.append(lab_t / cli_t)
    print(f"engine: {engine.summary()}")
    print(f"pairs: {args.pairs}, image: {args.image}")
    print(f"Lab.run median:            {statistics.median(lab_times):.3f} s")
    print(f"{cli} run --rm median: {statistics.median(cli_times):.3f} s")
    ratio = statistics.median(ratios)
    print(f"median paired ratio Lab.run / CLI: {ratio:.3f}  (target <= 1.05: {'met' if ratio <= 1.05 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
