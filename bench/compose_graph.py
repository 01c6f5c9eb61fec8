"""Benchmark: render the 30-service compose graph (tests/fixtures/compose/platform) and compare with 50 ms.

    .venv/bin/python bench/compose_graph.py [--runs 50]

Prints the median and the slowest render of the parsed project, with and without a live-status
overlay, and the median time to read the file; the target is a median render <= 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from containerlab.compose import load_compose_file
from containerlab.render.compose_graph import compose_graph

PLATFORM = Path(__file__).resolve().parents[1] / "tests/fixtures/compose/platform/compose.yaml"
TARGET_MS = 50.0


def timed_ms(action, runs: int) -> list[float]:
    """Milliseconds of each of ``runs`` calls, after one warm-up call."""
    action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    project = load_compose_file(PLATFORM, environ={})
    states = ("healthy", "running", "starting", "unhealthy", "exited")
    status = {name: states[i % len(states)] for i, name in enumerate(project.services)}
    results = {
        "read the file (YAML + model)": timed_ms(lambda: load_compose_file(PLATFORM, environ={}), args.runs),
        "render the graph": timed_ms(lambda: compose_graph(project), args.runs),
        "render with live status": timed_ms(lambda: compose_graph(project, status=status), args.runs),
    }
    print(f"{len(project.services)} services, {len(project.networks)} networks, {len(project.volumes)} volumes, "
          f"{len(project.dependency_edges())} dependencies; {args.runs} runs each")
    for label, times in results.items():
        print(f"{label:30} median {statistics.median(times):6.1f} ms   slowest {max(times):6.1f} ms")
    worst = max(statistics.median(results[k]) for k in ("render the graph", "render with live status"))
    verdict = "within" if worst <= TARGET_MS else "OVER"
    print(f"render median {worst:.1f} ms vs target {TARGET_MS:.0f} ms: {verdict} target "
          f"(ratio {worst / TARGET_MS:.2f})")
    return 0 if worst <= TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
