"""Benchmark: how long every code cell of every notebook takes, from a timed run.

    .venv/bin/python bench/cells.py                 # run every notebook now (a private owner), time each cell
    .venv/bin/python bench/cells.py 11 12           # only notebooks whose names start with 11 or 12
    .venv/bin/python bench/cells.py --stored        # read the times the stored notebooks were built with
    .venv/bin/python bench/cells.py --all-cells     # print every cell, not only those over --limit

nbclient records when each cell started and finished (the `execution` metadata of a cell). The target is that
no cell takes more than --limit seconds (5), except cells tagged `demo` (a whole demo that is the lesson's
point, such as a test bed coming up). Prints, per notebook, its cells over the limit (or all of them), then a
table: cells, total seconds, the slowest non-demo cell and its time. A benchmark, not a test: it prints,
and exits 1 only when it could not run.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DEMO_TAG = "demo"


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def cell_seconds(cell: nbformat.NotebookNode) -> float | None:
    """Seconds from the cell's execute_input to its execute_reply, as nbclient recorded them (None if absent)."""
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return None
    return (_moment(end) - _moment(start)).total_seconds()


def timed_run(path: Path, owner: str) -> nbformat.NotebookNode:
    """The notebook executed now, from notebooks/ as a learner would, with timing recorded."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=900, kernel_name="python3", record_timing=True,
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute(
        env={**os.environ, "CONTAINERLAB_OWNER": owner})
    return notebook


def report(path: Path, notebook: nbformat.NotebookNode, limit: float, all_cells: bool) -> tuple[int, float, str, float]:
    """Print the notebook's slow (or all) cells; (code cells, total, slowest non-demo cell, its seconds)."""
    total, slowest, slowest_cell, count = 0.0, 0.0, "-", 0
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        seconds = cell_seconds(cell)
        if seconds is None:
            continue
        count += 1
        total += seconds
        demo = DEMO_TAG in cell.metadata.get("tags", ())
        if not demo and seconds > slowest:
            slowest, slowest_cell = seconds, f"cell {index}"
        if all_cells or seconds > limit:
            first = cell.source.strip().splitlines()[0][:70] if cell.source.strip() else ""
            mark = " (demo)" if demo else " OVER" if seconds > limit else ""
            print(f"  {path.stem[:2]} cell {index:2d} {seconds:6.2f} s{mark:7} {first}")
    return count, total, slowest_cell, slowest


def _remove_leftovers(owner: str) -> None:
    """After a failed run, what its clean-up cell would have removed."""
    from containerlab.engine.connect import connect
    from containerlab.engine.lab import remove_labelled
    from containerlab.engine.registry import stop_registries

    remove_labelled(connect(), owner=owner, images=True)
    stop_registries(owner)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="only notebooks whose names start with these")
    parser.add_argument("--stored", action="store_true", help="read the stored notebooks' times instead of running")
    parser.add_argument("--limit", type=float, default=5.0, help="seconds a non-demo cell should stay under")
    parser.add_argument("--all-cells", action="store_true", help="print every cell's time")
    args = parser.parse_args()
    paths = [p for p in sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
             if not args.prefixes or p.stem.startswith(tuple(args.prefixes))]
    if not paths:
        print("no notebooks match", args.prefixes)
        return 1
    owner = f"bench-{os.getpid()}"
    rows: list[tuple[str, int, float, str, float]] = []
    for path in paths:
        print(f"{path.stem}:", flush=True)
        if args.stored:
            notebook = nbformat.read(path, as_version=4)
        else:
            try:
                notebook = timed_run(path, owner)
            except CellExecutionError as err:
                print(f"  {path.stem} stopped: {str(err).strip().splitlines()[-1][:150]}")
                _remove_leftovers(owner)
                continue
        rows.append((path.stem, *report(path, notebook, args.limit, args.all_cells)))
    if not rows:
        return 1
    print(f"\n{'notebook':32} {'cells':>5} {'total':>8}  slowest non-demo cell")
    for name, count, total, where, seconds in rows:
        flag = "  over the limit" if seconds > args.limit else ""
        print(f"{name:32} {count:5d} {total:7.1f}s  {where:8} {seconds:5.2f} s{flag}")
    print(f"{'all':32} {sum(r[1] for r in rows):5d} {sum(r[2] for r in rows):7.1f}s  "
          f"slowest: {max(rows, key=lambda r: r[4])[0][:2]} {max(r[4] for r in rows):.2f} s "
          f"(limit {args.limit:g} s, {'stored' if args.stored else 'this'} run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
