"""Benchmark: the workshop hub on this machine. Not a test: it prints figures and ratios.

- spawn time through the hub: login -> the hub says the server is ready (box running, its engine ready), for one
  attendee on a fresh engine volume, then for 4 attendees at once;
- p95 cell latency of lessons 03 and 05 run through each attendee's Jupyter server with 1, 2 and 4 attendees at
  once, as ratios to 1 attendee (goal on 2 cores: 4 attendees <= 2.5x).

    CONTAINERLAB_OWNER=bench .venv/bin/python bench/hub.py [--rounds 1] [--keep]

Needs root, Docker and the hub's image (./lab hub build). Everything it starts is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "hub"))

from hub_client import HubUser  # noqa: E402
from remote_kernel import write_kernel_spec  # noqa: E402

from containerlab.engine import hub  # noqa: E402

LESSONS = [ROOT / "notebooks" / "03-cgroups.ipynb", ROOT / "notebooks" / "05-images-and-dockerfiles.ipynb"]
RUNNER = r"""
import json, sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient
timings = []
for path in map(Path, sys.argv[1:]):
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=900, kernel_name="hub-remote", startup_timeout=300, record_timing=True,
                   allow_errors=True).execute()
    for index, cell in enumerate(notebook.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        if cell.cell_type == "code" and "shell.execute_reply" in timing:
            timings.append([path.stem, index, timing["iopub.execute_input"], timing["shell.execute_reply"]])
print(json.dumps(timings))
"""


def _seconds(start: str, end: str) -> float:
    parse = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def spawn(users: list[HubUser]) -> list[float]:
    """Start the users' servers at once; seconds from request to ready, per user."""
    def one(user: HubUser) -> float:
        started = time.monotonic()
        event = user.wait_ready(timeout=900)
        if not event.get("ready"):
            raise SystemExit(f"{user.name}'s server did not start: {event}")
        return time.monotonic() - started

    with ThreadPoolExecutor(len(users)) as pool:
        return list(pool.map(one, users))


def run_lessons(users: list[HubUser], kernels: Path) -> dict[str, list[tuple[str, int, float]]]:
    """Lessons 03 and 05 in every user's box at once; (lesson, cell, seconds) per user."""
    runs = {}
    for user in users:
        env = {**os.environ, "JUPYTER_PATH": str(kernels), "REMOTE_KERNEL_URL": user.server_url(),
               "REMOTE_KERNEL_TOKEN": user.token}
        runs[user.name] = subprocess.Popen([sys.executable, "-c", RUNNER, *map(str, LESSONS)], env=env,
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    found = {}
    for name, run in runs.items():
        stdout, stderr = run.communicate(timeout=3600)
        if run.returncode != 0:
            raise SystemExit(f"{name}: the lesson runner failed: {stderr[-2000:]}")
        found[name] = [(lesson, cell, _seconds(start, end)) for lesson, cell, start, end in json.loads(stdout)]
    for user in users:
        for kernel in user.server("GET", "api/kernels").json():
            user.server("DELETE", f"api/kernels/{kernel['id']}")
    return found


def p95(values: list[float]) -> float:
    """The 95th percentile."""
    return statistics.quantiles(values, n=20)[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="runs of the lessons per number of attendees")
    parser.add_argument("--keep", action="store_true", help="leave the hub running (for a look)")
    args = parser.parse_args()
    if not hub.hub_image_present():
        hub.build_hub_image()
    state = tempfile.mkdtemp(prefix="hub-bench-")
    settings = hub.HubSettings(name="bench", port=hub._free_port(), state=state, idle_timeout=0)
    secrets = hub.HubSecrets.load_or_create(settings)
    kernels = Path(tempfile.mkdtemp(prefix="hub-bench-kernels-"))
    write_kernel_spec(kernels)
    hub.start_hub(settings)
    try:
        users = [HubUser.login(settings.url, f"bench{number}", secrets.password) for number in range(1, 5)]
        cold = spawn(users[:1])[0]
        users[0].stop_server()
        warm = spawn(users[:1])[0]
        together = spawn(users[1:]) + [warm]
        print(f"spawn through the hub (login -> server ready, box engine ready), {os.cpu_count()} CPUs:")
        print(f"  1 attendee, fresh engine volume (loads the lab images): {cold:.1f} s")
        print(f"  1 attendee, engine volume kept (a restarted server):      {warm:.1f} s")
        print(f"  3 more attendees at once, fresh volumes: median {statistics.median(together[:3]):.1f} s, "
              f"slowest {max(together[:3]):.1f} s")
        results = {}
        for count in (1, 2, 4):
            samples: list[float] = []
            per_cell: dict[tuple[str, int], list[float]] = {}
            for _ in range(args.rounds):
                for cells in run_lessons(users[:count], kernels).values():
                    for lesson, cell, seconds in cells:
                        samples.append(seconds)
                        per_cell.setdefault((lesson, cell), []).append(seconds)
            results[count] = (p95(samples), statistics.median(samples), per_cell)
            print(f"  {count} attendee(s): p95 cell latency {results[count][0]:.2f} s, "
                  f"median {results[count][1]:.2f} s ({len(samples)} cells of lessons 03 and 05)")
        print("ratios to 1 attendee (goal: 4 attendees <= 2.5x):")
        for count in (2, 4):
            shared = [key for key in results[1][2] if key in results[count][2]]
            slowest = max(shared, key=lambda key: statistics.mean(results[count][2][key]))
            print(f"  {count} attendees: p95 {results[count][0] / results[1][0]:.2f}x, "
                  f"median {results[count][1] / results[1][1]:.2f}x; slowest cell {slowest[0]} #{slowest[1]}: "
                  f"{statistics.mean(results[count][2][slowest]):.1f} s vs "
                  f"{statistics.mean(results[1][2][slowest]):.1f} s alone")
    finally:
        if not args.keep:
            hub.remove_hub(settings, volumes=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
