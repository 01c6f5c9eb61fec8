"""Each lesson runs twice in a row in one kernel (as a learner re-running everything) and leaves nothing."""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from containerlab.engine.lab import label_filters

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
LESSONS = sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def _outputs_text(notebook) -> str:
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", "") + str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


@pytest.mark.parametrize("name", LESSONS)
def test_runs_twice_in_one_kernel_and_leaves_nothing(name, lab_images):
    stored = nbformat.read(NOTEBOOKS / name, as_version=4)
    twice = nbformat.v4.new_notebook(metadata=stored.metadata)
    twice.cells = [nbformat.from_dict(dict(cell)) for cell in stored.cells + stored.cells]
    for index, cell in enumerate(twice.cells):
        cell["id"] = f"c{index}"
    NotebookClient(twice, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    text = _outputs_text(twice)
    assert "no container engine" not in text, "an engine cell skipped although the engine is up"
    assert "Traceback" not in text
    lesson = name.removesuffix(".ipynb")
    owner = os.environ["CONTAINERLAB_OWNER"]  # set by conftest; other learners' containers are not ours
    leftovers = lab_images.client.containers.list(all=True, filters={"label": label_filters(lesson, owner)})
    assert leftovers == [], f"{name} left containers behind: {[c.name for c in leftovers]}"
