"""Benchmark: the course box. Cold start, image size, and the course under nbval inside the box vs on the host.

    .venv/bin/python bench/box.py [--starts 3] [--rounds 1] [--skip-course]

- cold start: from `docker run` of the box until JupyterLab answers and the nested engine is ready (goal <= 10 s);
  measured with fresh volumes (the first start, which unpacks the lab images onto the box's volume) and again after
  `docker stop` (a restart: the volumes keep the loaded images);
- image size as the engine reports it (goal <= 700 MB), and what its parts weigh;
- the whole course under strict nbval inside a box vs on this host, paired rounds with the order alternating,
  the ratio box/host per round (goal <= 1.3).

Needs root and Docker, as the course does; builds the box image when it is missing. Everything it starts is named
`clab-box-bench-*` and removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from containerlab.engine import box as boxes
from containerlab.engine.connect import connect

ROOT = Path(__file__).resolve().parents[1]
NAME = "clab-box-bench"


def _quiet(line: str) -> None:
    """Progress lines are not printed: only the figures are."""


def cold_start(image: str, fresh: bool) -> float:
    """Seconds from the run command to 'JupyterLab answers and the engine is ready'."""
    if fresh:
        boxes.remove_box("docker", NAME, volumes=True)
    started = time.perf_counter()
    box = boxes.start_box("docker", name=NAME, image=image, port=None, progress=_quiet)
    status = boxes.wait_ready(box, timeout=300)
    elapsed = time.perf_counter() - started
    if not status.ready:
        raise SystemExit(f"the box's engine is {status.state}: {status.message}")
    return elapsed


def image_parts(image: str) -> dict[str, float]:
    """MB of the image and of its biggest parts (measured inside it)."""
    size = json.loads(subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=True,
                                     text=True).stdout)[0]["Size"] / 1e6
    listed = subprocess.run(["docker", "run", "--rm", "--network=none", "--entrypoint=sh", image, "-c",
                             "du -sm /opt/containerlab/venv /opt/containerlab/images /usr/bin/dockerd /usr/bin/docker "
                             "/usr/sbin/dockerd /usr/bin/containerd /usr/bin/podman 2>/dev/null"],
                            capture_output=True, text=True).stdout
    parts = {"image": size}
    for line in listed.splitlines():
        megabytes, path = line.split(maxsplit=1)
        parts[path] = float(megabytes)
    return parts


def _report_failures(where: str, done: subprocess.CompletedProcess) -> None:
    """A failed cell is printed (its time still counts: on a loaded machine lesson 03's CPU-quota cell can miss)."""
    if done.returncode == 0:
        return
    failed = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    if not failed:
        raise SystemExit(f"the course did not run {where}:\n" + done.stdout[-3000:] + done.stderr[-2000:])
    print(f"  {where}: " + "; ".join(failed) + " | " + done.stdout.strip().splitlines()[-1])


def course_on_host() -> float:
    """Seconds for the whole course under strict nbval on this host (the repository's pytest settings)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "notebooks"], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "CONTAINERLAB_OWNER": "bench"})
    elapsed = time.perf_counter() - started
    _report_failures("on the host", done)
    return elapsed


def course_in_box(box: boxes.Box) -> float:
    """Seconds for the same notebooks under strict nbval inside the box (copied in first, not timed)."""
    archive = subprocess.run(["tar", "-c", "-C", str(ROOT), "notebooks", "-C", str(ROOT / "tests"), "sanitize.cfg"],
                             capture_output=True, check=True).stdout
    subprocess.run(["docker", "exec", "-i", box.name, "sh", "-c",
                    "rm -rf /tmp/validate && mkdir -p /tmp/validate && tar -x -C /tmp/validate"], input=archive,
                   check=True)
    started = time.perf_counter()
    done = subprocess.run(["docker", "exec", "--env=CONTAINERLAB_OWNER=bench", "--workdir=/tmp/validate", box.name,
                           "python", "-m", "pytest", "-p", "no:cacheprovider", "-q", "--nbval", "--nbval-sanitize-with",
                           "sanitize.cfg", "--nbval-current-env", "notebooks"], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    _report_failures("inside the box", done)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=3, help="cold starts of each kind")
    parser.add_argument("--rounds", type=int, default=1, help="paired rounds of the whole course, host and box")
    parser.add_argument("--skip-course", action="store_true", help="only the start-up times and the size")
    parser.add_argument("--image", default=boxes.BOX_IMAGE)
    args = parser.parse_args()
    engine = connect()
    if not boxes.box_image_present("docker", args.image):
        boxes.build_box(engine, image=args.image)
    try:
        first, restart = [], []
        for _ in range(args.starts):
            first.append(cold_start(args.image, fresh=True))
            subprocess.run(["docker", "stop", NAME], capture_output=True, check=True)
            restart.append(cold_start(args.image, fresh=False))
        if args.starts:
            print(f"cold start, fresh volumes (unpacks the lab images): median {statistics.median(first):.1f} s "
                  f"(min {min(first):.1f}, max {max(first):.1f}; goal <= 10 s)")
            print(f"cold start, volumes kept (docker stop, then start): median {statistics.median(restart):.1f} s "
                  f"(min {min(restart):.1f}, max {max(restart):.1f})")
        parts = image_parts(args.image)
        print(f"image size: {parts.pop('image'):.0f} MB (goal <= 700 MB); parts: "
              + ", ".join(f"{path} {mb:.0f} MB" for path, mb in parts.items()))
        if args.skip_course:
            return 0
        box = boxes.start_box("docker", name=NAME, image=args.image, port=None, progress=_quiet)
        boxes.wait_ready(box, timeout=300)
        ratios = []
        for round_number in range(args.rounds):
            if round_number % 2 == 0:
                host, inside = course_on_host(), course_in_box(box)
            else:
                inside, host = course_in_box(box), course_on_host()
            ratios.append(inside / host)
            print(f"round {round_number + 1}: the course under nbval on the host {host:.0f} s, inside the box "
                  f"{inside:.0f} s, ratio {inside / host:.2f}")
        print(f"course inside the box / on the host: median ratio {statistics.median(ratios):.2f} (goal <= 1.3)")
    finally:
        boxes.remove_box("docker", NAME, volumes=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
