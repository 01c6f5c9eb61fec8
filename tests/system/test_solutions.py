"""Every collapsed solution runs, in its lesson's kernel after the lesson's cells, and passes its own check.

The convention (docs/instructors.md, "Solutions"): a lesson's solutions sit in a markdown cell's
``<details><summary>Solutions</summary>`` block as fenced code, in the order the exercises come:

- ```` ```python ```` fences run as they are, and **name the check** they answer (``check_...(...)``);
- ```` ```bash ```` fences are what the learner types in a terminal or a ``!``/``%%bash`` cell; they run as
  ``%%bash`` cells in the same kernel, whose environment has the lesson's ``$ENGINE``, ``$LAB``, ``$LABELS`` ...
  (``lab.cli_env()``), with the python fence after them naming the check.

The test runs each notebook once: every code cell before the "## Clean up" heading, then a cell that wraps every
``check_*`` function in the kernel so each call's verdict is recorded, then the solution fences, then the
clean-up cells. Each check named in a solution is one test case: it must have been called, and every call must
have passed. Solutions known to be wrong today are strict xfails in KNOWN_WRONG, the one list: the day one
is fixed, its case passes and the xfail must go.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import nbformat
import pytest
from course_runs import NOTEBOOKS, lesson_files, private_kernel_config, remove_everything
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

pytestmark = pytest.mark.slow

DETAILS = re.compile(r"<details><summary>Solutions?</summary>(.*?)</details>", re.DOTALL)
FENCE = re.compile(r"^```(python|bash)\n(.*?)^```", re.DOTALL | re.MULTILINE)
CHECK_CALL = re.compile(r"\b(check_\w+)\(")
MARKER = "SOLUTION-RESULTS:"

# (lesson, check) -> why its published solution fails today. Another change fixes these; remove the line then.
KNOWN_WRONG: dict[tuple[str, str], str] = {}

RECORDER = """\
import functools as _functools, json as _json
_solution_results = []
def _recording(_name, _check):
    @_functools.wraps(_check)
    def _recorded(*args, **kwargs):
        verdict = _check(*args, **kwargs)
        _solution_results.append({"check": _name, "passed": bool(verdict), "message": str(verdict)})
        return verdict
    return _recorded
for _name, _value in list(globals().items()):
    if _name.startswith("check_") and callable(_value):
        globals()[_name] = _recording(_name, _value)
"""
REPORT = f"print({MARKER!r} + _json.dumps(_solution_results))"


def solution_fences(notebook: Any) -> list[tuple[str, str]]:
    """(language, code) of every fence in the notebook's Solutions blocks, in order."""
    fences = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for block in DETAILS.findall(cell.source):
            fences.extend((language, code) for language, code in FENCE.findall(block))
    return fences


def checks_named(notebook: Any) -> list[str]:
    """The check functions the python fences call, first mention first."""
    names: list[str] = []
    for language, code in solution_fences(notebook):
        if language == "python":
            names.extend(name for name in CHECK_CALL.findall(code) if name not in names)
    return names


def _split_at_clean_up(notebook: Any) -> tuple[list[Any], list[Any]]:
    """(the lesson's code cells, the clean-up's): the code cells after the '## Clean up' heading, else the last one."""
    heading = next((index for index, cell in enumerate(notebook.cells)
                    if cell.cell_type == "markdown" and cell.source.startswith("## Clean up")), None)
    code = [(index, nbformat.from_dict(dict(cell))) for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "code"]
    if heading is None:
        return [cell for _, cell in code[:-1]], [cell for _, cell in code[-1:]]
    return [cell for index, cell in code if index < heading], [cell for index, cell in code if index > heading]


def with_solutions(notebook: Any) -> Any:
    """The lesson's cells, the recorder, the solution fences, the report, then the clean-up cells."""
    run = nbformat.v4.new_notebook(metadata=notebook.metadata)
    lesson, clean_up = _split_at_clean_up(notebook)
    added = [nbformat.v4.new_code_cell(RECORDER)]
    for language, code in solution_fences(notebook):
        added.append(nbformat.v4.new_code_cell(code if language == "python" else "%%bash\nset -e\n" + code))
    added.append(nbformat.v4.new_code_cell(REPORT))
    run.cells = lesson + added + clean_up
    for index, cell in enumerate(run.cells):
        cell["id"] = f"s{index}"
        cell["outputs"] = []
    return run


def _recorded(notebook: Any) -> list[dict[str, Any]]:
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            for line in output.get("text", "").splitlines():
                if line.startswith(MARKER):
                    return json.loads(line[len(MARKER):])
    return []


_RUNS: dict[str, dict[str, list[dict[str, Any]]] | str] = {}


def run_solutions(path: Path, engine: Any) -> dict[str, list[dict[str, Any]]] | str:
    """check name -> its recorded verdicts, or the error that stopped the run (run once per notebook)."""
    if path.name in _RUNS:
        return _RUNS[path.name]
    owner = f"{os.environ.get('CONTAINERLAB_OWNER', 'pytest')}-solutions"
    notebook = with_solutions(nbformat.read(path, as_version=4))
    outcome: dict[str, list[dict[str, Any]]] | str
    try:
        with tempfile.TemporaryDirectory(prefix="kernel-") as sockets:
            NotebookClient(notebook, timeout=600, kernel_name="python3", config=private_kernel_config(sockets),
                           resources={"metadata": {"path": str(NOTEBOOKS)}}).execute(
                env={**os.environ, "CONTAINERLAB_OWNER": owner})
        outcome = {}
        for verdict in _recorded(notebook):
            outcome.setdefault(verdict["check"], []).append(verdict)
    except CellExecutionError as err:
        outcome = f"the run stopped: {str(err)[-1500:]}"
    finally:
        remove_everything(engine, owner)
    _RUNS[path.name] = outcome
    return outcome


def _cases() -> list[Any]:
    cases = []
    for path in lesson_files():
        lesson = path.stem
        for check in checks_named(nbformat.read(path, as_version=4)):
            reason = KNOWN_WRONG.get((lesson, check))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            cases.append(pytest.param(path, check, id=f"{lesson}::{check}", marks=marks))
    return cases


@pytest.mark.parametrize(("path", "check"), _cases())
def test_solution_passes_its_check(path, check, lab_images):
    outcome = run_solutions(path, lab_images)
    assert not isinstance(outcome, str), outcome
    verdicts = outcome.get(check)
    assert verdicts, f"the solution names {check} but never called it (calls recorded: {sorted(outcome)})"
    failed = [verdict["message"] for verdict in verdicts if not verdict["passed"]]
    assert not failed, f"{check} did not pass: {failed}"


def test_every_lesson_has_solutions_naming_their_checks():
    lessons = [path for path in lesson_files() if not checks_named(nbformat.read(path, as_version=4))]
    assert lessons == [], f"lessons whose Solutions name no check_... call: {[p.name for p in lessons]}"


def test_known_wrong_names_real_cases():
    cases = {(path.stem, check) for path in lesson_files() for check in checks_named(nbformat.read(path, as_version=4))}
    assert set(KNOWN_WRONG) <= cases, f"KNOWN_WRONG lists cases that do not exist: {set(KNOWN_WRONG) - cases}"


def test_the_fence_reader_finds_code_and_checks():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell(
        "<details><summary>Solutions</summary>\n\n```bash\n$ENGINE run -d x\n```\n```python\ncheck_a(1)\n"
        "check_b(2); check_a(3)\n```\ntext\n</details>")]
    assert solution_fences(notebook) == [("bash", "$ENGINE run -d x\n"), ("python", "check_a(1)\ncheck_b(2); check_a(3)\n")]
    assert checks_named(notebook) == ["check_a", "check_b"]
    run = with_solutions(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"),
                                                         nbformat.v4.new_code_cell("lab.cleanup()")]))
    assert [cell.source.split("\n")[0] for cell in run.cells][-2:] == [REPORT, "lab.cleanup()"]
    two_steps = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_markdown_cell("## Clean up\n\nAll of it."),
        nbformat.v4.new_code_cell("app.down()"), nbformat.v4.new_code_cell("lab.cleanup()")])
    sources = [cell.source.split("\n")[0] for cell in with_solutions(two_steps).cells]
    assert sources[0] == "x = 1" and sources[-3:] == [REPORT, "app.down()", "lab.cleanup()"]
