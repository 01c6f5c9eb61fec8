"""A skipped cell's recorded output: found by cell id or source, unwrapped, and always marked as recorded."""

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from containerlab.course.recorded import (
    RECORDED_KEY,
    find_recorded,
    notebook_candidates,
    recorded_bundle,
    recording_stamp,
)

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
SVG = '<svg xmlns="http://www.w3.org/2000/svg"><text>map</text></svg>'
OOM_CELL = ('if lab.ready_for("engine", "memory", task="oom"):\n    print("137")\n'
            'if lab.ready_for("engine", "memory", task="oom again"):\n    print("137")')


def stored_notebook():
    notebook = nbformat.v4.new_notebook()
    notebook.metadata[RECORDED_KEY] = recording_stamp("docker 20.10.24 (rootful, cgroup v1)", "2026-12-04")
    first = nbformat.v4.new_code_cell(OOM_CELL)
    first["id"] = "cell-05"
    first.outputs = [nbformat.v4.new_output("stream", name="stdout", text="exit code 137\n"),
                     nbformat.v4.new_output("display_data", data={"image/svg+xml": SVG, "text/plain": "<map>"})]
    skipped = nbformat.v4.new_code_cell('if lab.ready_for("engine", task="crun"):\n    pass')
    skipped["id"] = "cell-06"
    skipped.outputs = [nbformat.v4.new_output("stream", name="stdout", text="Skipped: crun needs engine\n")]
    notebook.cells = [nbformat.v4.new_markdown_cell("# x"), first, skipped]
    return json.loads(nbformat.writes(notebook))


def test_a_cell_is_found_by_its_id_or_by_its_source():
    stored = stored_notebook()
    by_id = find_recorded(stored, cell_id="cell-05", code="edited by the learner")
    by_code = find_recorded(stored, code=f"\n{OOM_CELL}\n")
    assert by_id == by_code and by_id.engine == "docker 20.10.24 (rootful, cgroup v1)" and by_id.date == "2026-12-04"
    assert find_recorded(stored, code="something else") is None
    assert find_recorded(json.dumps(stored), cell_id="cell-05") == by_id


def test_a_cell_that_skipped_where_it_was_recorded_has_nothing_to_show():
    assert find_recorded(stored_notebook(), cell_id="cell-06") is None


def test_an_exercise_check_is_never_replayed():
    stored = stored_notebook()
    stored["cells"][1]["source"] = 'check_answer(mine) if lab.ready_for("engine", task="exercise 1") else None'
    assert find_recorded(stored, cell_id="cell-05") is None


def test_the_display_is_marked_as_recorded_in_text_and_html():
    recorded = find_recorded(stored_notebook(), cell_id="cell-05")
    data, metadata = recorded_bundle(recorded)
    lines = data["text/plain"].splitlines()
    assert lines[0] == "\N{FISHEYE} Recorded on docker 20.10.24 (rootful, cgroup v1) on 2026-12-04, " \
                       "not run here:"
    assert lines[1:] == ["\N{BOX DRAWINGS LIGHT VERTICAL} exit code 137", "\N{BOX DRAWINGS LIGHT VERTICAL} <map>"]
    assert 'class="containerlab-recorded"' in data["text/html"] and SVG in data["text/html"]
    assert "Recorded on docker 20.10.24" in data["text/html"]
    assert metadata[RECORDED_KEY]["recorded"]["outputs"] == list(recorded.outputs)


def test_a_recorded_display_saved_back_into_the_notebook_keeps_its_original_stamp():
    stored = stored_notebook()
    data, metadata = recorded_bundle(find_recorded(stored, cell_id="cell-05"))
    stored["metadata"][RECORDED_KEY] = recording_stamp("a later engine", "2027-01-01")
    stored["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "Skipped: oom ...\n"},
                                     {"output_type": "display_data", "data": data, "metadata": metadata}]
    again = find_recorded(stored, cell_id="cell-05")
    assert again.date == "2026-12-04" and "".join(again.outputs[0]["text"]) == "exit code 137\n"


def test_without_a_stamp_the_words_say_unknown():
    stored = stored_notebook()
    del stored["metadata"][RECORDED_KEY]
    assert "an unknown engine on an unknown date" in find_recorded(stored, cell_id="cell-05").header


def test_where_the_stored_notebook_is_looked_for(tmp_path):
    found = notebook_candidates("03-cgroups", session="/home/u/course/notebooks/03-cgroups.ipynb", cwd=tmp_path,
                                course_root=Path("/course"))
    assert found == [Path("/home/u/course/notebooks/03-cgroups.ipynb"), tmp_path / "03-cgroups.ipynb",
                     Path("/course/notebooks/03-cgroups.ipynb")]
    other = notebook_candidates("03-cgroups", session="02-namespaces.ipynb", cwd=tmp_path, course_root=tmp_path)
    assert other == [tmp_path / "03-cgroups.ipynb", tmp_path / "notebooks" / "03-cgroups.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_lesson_names_its_lab_after_its_notebook_and_is_stamped(path):
    """The kernel finds a lesson's stored notebook by the Lab's name: they must agree."""
    notebook = nbformat.read(path, as_version=4)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert re.search(rf'cl\.Lab\("{re.escape(path.stem)}"[,)]', code), f'{path.name} makes no cl.Lab("{path.stem}")'
    stamp = notebook.metadata.get(RECORDED_KEY, {}).get("recorded", {})
    assert stamp.get("engine") and stamp.get("date"), f"{path.name} has no recorded-on stamp"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_that_can_skip_is_found_by_its_source(path):
    """nbval and nbclient send only the code: each skippable cell's source must be unique in its notebook."""
    notebook = nbformat.read(path, as_version=4)
    sources = [cell.source.strip() for cell in notebook.cells if cell.cell_type == "code"]
    skippable = [source for source in sources if "ready_for(" in source]
    assert all(sources.count(source) == 1 for source in skippable)


RUN_IN_A_KERNEL = r"""
import json, sys
import nbformat
from nbclient import NotebookClient
nb = nbformat.v4.new_notebook()
nb.cells = [nbformat.v4.new_code_cell(sys.argv[2]), nbformat.v4.new_code_cell(sys.argv[3])]
NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": sys.argv[1]}}).execute()
print(json.dumps(nb.cells[1].outputs))
"""


def test_a_skipped_cell_shows_its_recorded_output_in_a_real_kernel(tmp_path):
    """nbclient sends no cell id: the kernel finds the cell by its code in the lesson's notebook next to it."""
    stored = stored_notebook()
    (tmp_path / "t-lesson.ipynb").write_text(json.dumps(stored))
    setup = ("from containerlab.engine.connect import Engine\nimport containerlab as cl\n"
             "lab = cl.Lab('t-lesson', owner='x', engine=Engine(client=None, name='podman', version='4', "
             "api_version='1.41', rootless=True, cgroup_version='1', storage_driver='vfs', base_url='u', "
             "limits=frozenset()))\n")
    result = subprocess.run([sys.executable, "-c", RUN_IN_A_KERNEL, str(tmp_path), setup, OOM_CELL],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    outputs = json.loads(result.stdout.strip().splitlines()[-1])
    shown = [o for o in outputs if o["output_type"] == "display_data"]
    assert len(shown) == 1, "shown once per execution, however often the cell skips"
    assert shown[0]["data"]["text/plain"].startswith("\N{FISHEYE} Recorded on docker 20.10.24")
    assert "Skipped: oom needs engine and a memory limit" in "".join(o.get("text", "") for o in outputs)
