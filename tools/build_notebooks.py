"""Build the course notebooks from their sources in tools/notebooks/*.py and run them.

Each source is a plain Python file in the "percent" format: `# %%` starts a code cell,
`# %% [markdown]` a Markdown cell whose lines start with `# `. Building executes the
notebook on the real engine (from notebooks/, as a learner would) and stores the outputs
that nbval later compares.

    python tools/build_notebooks.py            # build and run every notebook
    python tools/build_notebooks.py 01         # only notebooks whose name starts with 01
    python tools/build_notebooks.py --check    # fail if a notebook's cells differ from its source
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "tools" / "notebooks"
NOTEBOOKS = ROOT / "notebooks"
KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def parse_source(text: str) -> list[tuple[str, str]]:
    """(cell type, source) pairs from a percent-format file."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            cells.append(("markdown" if "[markdown]" in line else "code", []))
            continue
        if not cells:
            continue
        kind, lines = cells[-1]
        if kind == "markdown":
            lines.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
        else:
            lines.append(line)
    return [(kind, "\n".join(lines).strip("\n")) for kind, lines in cells]


def slide_type(kind: str, source: str, first: bool) -> str:
    """RISE slide metadata: a new slide at every heading, everything else continues the slide."""
    if first or (kind == "markdown" and source.startswith(("# ", "## "))):
        return "slide"
    if kind == "markdown" and source.startswith(("### ", "**", "<details>")):
        return "subslide"
    return "-"


def to_notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """A fresh nbformat 4 notebook with the python3 kernel and slide metadata."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = KERNEL
    notebook.metadata["language_info"] = {"name": "python"}
    for index, (kind, source) in enumerate(cells):
        cell = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
        cell["id"] = f"cell-{index:02d}"
        cell.metadata["slideshow"] = {"slide_type": slide_type(kind, source, index == 0)}
        notebook.cells.append(cell)
    return notebook


def source_cells(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """(cell type, source) pairs of a stored notebook, for comparing with its source file."""
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def build(source: Path, execute: bool = True) -> Path:
    """Write notebooks/<name>.ipynb from its source, executed so outputs are stored."""
    notebook = to_notebook(parse_source(source.read_text()))
    if execute:
        NotebookClient(notebook, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    target = NOTEBOOKS / f"{source.stem}.ipynb"
    nbformat.write(notebook, target)
    return target


def check() -> int:
    """Exit status 1 when any notebook's cells differ from its source (or a pair is missing)."""
    problems = []
    for source in sorted(SOURCES.glob("*.py")):
        target = NOTEBOOKS / f"{source.stem}.ipynb"
        if not target.exists():
            problems.append(f"{target.name}: missing (run tools/build_notebooks.py {source.stem[:2]})")
        elif source_cells(nbformat.read(target, as_version=4)) != parse_source(source.read_text()):
            problems.append(f"{target.name}: cells differ from {source.relative_to(ROOT)}")
    print("\n".join(problems) or "notebooks match their sources")
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="only notebooks whose names start with these")
    parser.add_argument("--check", action="store_true", help="compare notebooks with their sources")
    parser.add_argument("--no-execute", action="store_true", help="write cells without running them")
    args = parser.parse_args()
    if args.check:
        return check()
    for source in sorted(SOURCES.glob("*.py")):
        if args.prefixes and not source.stem.startswith(tuple(args.prefixes)):
            continue
        print(f"building {source.stem} ...", flush=True)
        print(f"  wrote {build(source, execute=not args.no_execute).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
