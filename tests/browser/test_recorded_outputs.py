"""Where no engine answers (Binder), a skipped cell shows its recorded output in JupyterLab, marked as recorded.

JupyterLab sends the cell's id with each execution (``cellId``): the cell is edited in the browser first, so its
code no longer matches the stored notebook and only the id can find its recording.
"""

import nbformat
from conftest import ROOT, screenshot

FIND_OOM_CELL = ("() => window.jupyterapp.shell.currentWidget.content.widgets"
                 ".find(c => c.model.sharedModel.getSource().includes('watching the OOM killer'))")


def test_a_skipped_cell_shows_its_recording_found_by_cell_id(page, jupyterlab_without_engine):
    base, token = jupyterlab_without_engine
    page.goto(f"{base}/lab/tree/03-cgroups.ipynb?reset&token={token}", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.sessionContext"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.isReady"
                           " && window.jupyterapp.shell.currentWidget.content.widgets.length > 30", timeout=120_000)
    page.evaluate(f"() => {{ const cell = ({FIND_OOM_CELL})();"
                  " cell.model.sharedModel.setSource(cell.model.sharedModel.getSource() + '\\n# edited here'); }")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(f"() => {{ const cell = ({FIND_OOM_CELL})();"
                           " return cell.node.querySelector('.containerlab-recorded') !== null; }",
                           timeout=300_000)  # the stored outputs are there before the run: wait for the new ones
    shown = page.evaluate(f"() => {{ const cell = ({FIND_OOM_CELL})();"
                          " const box = cell.node.querySelector('.containerlab-recorded');"
                          " return {text: cell.node.querySelector('.jp-OutputArea').textContent,"
                          " recorded: box ? box.textContent : ''}; }")
    assert "Skipped: watching the OOM killer in a container limited to 32 MiB needs engine and a memory limit" \
        in shown["text"]
    assert "no container engine here" in shown["text"]
    stamp = nbformat.read(ROOT / "notebooks" / "03-cgroups.ipynb", as_version=4).metadata["containerlab"]["recorded"]
    assert f"Recorded on {stamp['engine']} on {stamp['date']}, not run here:" in shown["recorded"]
    assert "State.ExitCode = 137" in shown["recorded"]
    page.evaluate(f"async () => {{ const notebook = window.jupyterapp.shell.currentWidget.content;"
                  f" const index = notebook.widgets.indexOf(({FIND_OOM_CELL})()); notebook.activeCellIndex = index;"
                  " await notebook.scrollToItem(index, 'start'); }")
    page.wait_for_timeout(500)
    screenshot(page, "03-recorded-oom-cell")
