"""Build the course notebooks from their jupytext sources in tools/notebooks/*.py, and run them.

Each source is a jupytext "percent" script (https://jupytext.readthedocs.io): `# %%` starts a code cell,
`# %% [markdown]` a Markdown cell, and `# %% tags=["nbval-ignore-output"]` gives a cell tags that nbval
honours and JupyterLab keeps out of the learner's way. jupytext reads the cells; this script adds what the
course adds after that (the kernel, stable cell ids, RISE slide metadata) and, unless told not to, executes
the notebook on the real engine (from notebooks/, as a learner would) so that the outputs nbval compares
are stored.

    python tools/build_notebooks.py            # build and run every notebook
    python tools/build_notebooks.py 01         # only notebooks whose name starts with 01
    python tools/build_notebooks.py --sync 05  # copy source edits into the stored notebook, keeping its outputs
    python tools/build_notebooks.py --check    # fail if a notebook's cells differ from its source

A build that executes stamps the notebook's metadata with the engine and the date (``containerlab.recorded``):
where a cell cannot run (Binder, not root, a limit a rootless engine cannot enforce) the lesson shows the stored
output under that stamp. `--sync --stamp ENGINE --date YYYY-MM-DD` writes the stamp of outputs made earlier.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "tools" / "notebooks"
NOTEBOOKS = ROOT / "notebooks"
KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
FORMAT = "py:percent"


def read_source(path: Path) -> nbformat.NotebookNode:
    """The cells of a jupytext percent source, as jupytext reads them."""
    return jupytext.reads(path.read_text(encoding="utf-8"), fmt=FORMAT)


def slide_type(kind: str, source: str, first: bool) -> str:
    """RISE slide metadata: a new slide at every heading, everything else continues the slide."""
    if first or (kind == "markdown" and source.startswith(("# ", "## "))):
        return "slide"
    if kind == "markdown" and source.startswith(("### ", "**", "<details>")):
        return "subslide"
    return "-"


def to_notebook(source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A fresh nbformat 4 notebook from the source's cells: the python3 kernel, cell ids, slide metadata."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = KERNEL
    notebook.metadata["language_info"] = {"name": "python"}
    for index, cell in enumerate(source.cells):
        made = (nbformat.v4.new_markdown_cell(cell.source) if cell.cell_type == "markdown"
                else nbformat.v4.new_code_cell(cell.source))
        made["id"] = f"cell-{index:02d}"
        if cell.metadata.get("tags"):
            made.metadata["tags"] = list(cell.metadata["tags"])
        made.metadata["slideshow"] = {"slide_type": slide_type(cell.cell_type, cell.source, index == 0)}
        notebook.cells.append(made)
    return notebook


def cell_summary(notebook: nbformat.NotebookNode) -> list[tuple[str, str, tuple[str, ...]]]:
    """(cell type, source, tags) of every cell: what a notebook and its source must agree on."""
    return [(cell.cell_type, cell.source, tuple(cell.metadata.get("tags", ()))) for cell in notebook.cells]


def engine_words() -> str:
    """The engine the outputs are recorded on, as the recorded-output line names it ('docker 20.10 (rootful, ...)')."""
    from containerlab.engine.connect import connect
    from containerlab.errors import LabError

    try:
        engine = connect()
    except LabError:
        return "a machine without a container engine"
    mode = "rootless" if engine.rootless else "rootful"
    return f"{engine.name} {engine.version} ({mode}, cgroup v{engine.cgroup_version})"


def stamp(notebook: nbformat.NotebookNode, engine: str, date: str) -> None:
    """Record in the notebook's metadata which engine made its outputs, and when."""
    from containerlab.course.recorded import RECORDED_KEY, recording_stamp

    notebook.metadata[RECORDED_KEY] = recording_stamp(engine, date)


def build(source: Path, execute: bool = True) -> Path:
    """Write notebooks/<name>.ipynb from its source, executed so outputs are stored."""
    notebook = to_notebook(read_source(source))
    if execute:
        NotebookClient(notebook, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
        stamp(notebook, engine_words(), datetime.date.today().isoformat())
    target = NOTEBOOKS / f"{source.stem}.ipynb"
    nbformat.write(notebook, target)
    return target


def sync(source: Path, recorded: tuple[str, str] | None = None) -> Path:
    """Copy the source's cells into the stored notebook, keeping its outputs and widget state.

    For edits that do not change what a cell prints (wording, comments, tags, lint fixes); the cells must
    line up one to one. Anything else is a rebuild: nbval would catch outputs that no longer match.
    """
    target = NOTEBOOKS / f"{source.stem}.ipynb"
    stored = nbformat.read(target, as_version=4)
    fresh = to_notebook(read_source(source))
    kinds = [cell.cell_type for cell in stored.cells]
    if kinds != [cell.cell_type for cell in fresh.cells]:
        raise SystemExit(f"{target.name}: cells were added, removed or moved; rebuild it (without --sync)")
    for old, new in zip(stored.cells, fresh.cells):
        old.source = new.source
        old.metadata["slideshow"] = new.metadata["slideshow"]
        if new.metadata.get("tags"):
            old.metadata["tags"] = new.metadata["tags"]
        else:
            old.metadata.pop("tags", None)
    if recorded:
        stamp(stored, *recorded)
    nbformat.write(stored, target)
    return target


def check() -> int:
    """Exit status 1 when any notebook's cells differ from its source (or a pair is missing)."""
    problems = []
    for source in sorted(SOURCES.glob("*.py")):
        target = NOTEBOOKS / f"{source.stem}.ipynb"
        if not target.exists():
            problems.append(f"{target.name}: missing (run tools/build_notebooks.py {source.stem[:2]})")
        elif cell_summary(nbformat.read(target, as_version=4)) != cell_summary(to_notebook(read_source(source))):
            problems.append(f"{target.name}: cells differ from {source.relative_to(ROOT)}")
    print("\n".join(problems) or "notebooks match their sources")
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="only notebooks whose names start with these")
    parser.add_argument("--check", action="store_true", help="compare notebooks with their sources")
    parser.add_argument("--no-execute", action="store_true", help="write cells without running them")
    parser.add_argument("--sync", action="store_true", help="copy source edits in, keeping stored outputs")
    parser.add_argument("--stamp", metavar="ENGINE", help="with --sync: the engine the stored outputs were made on")
    parser.add_argument("--date", metavar="YYYY-MM-DD", help="with --sync --stamp: the day they were made")
    args = parser.parse_args()
    if bool(args.stamp) != bool(args.date) or (args.stamp and not args.sync):
        parser.error("--stamp and --date go together, with --sync")
    if args.check:
        return check()
    for source in sorted(SOURCES.glob("*.py")):
        if args.prefixes and not source.stem.startswith(tuple(args.prefixes)):
            continue
        print(f"{'syncing' if args.sync else 'building'} {source.stem} ...", flush=True)
        recorded = (args.stamp, args.date) if args.stamp else None
        target = sync(source, recorded) if args.sync else build(source, execute=not args.no_execute)
        print(f"  wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
