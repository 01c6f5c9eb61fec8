"""The live widgets in a real browser: run a lesson in JupyterLab, click a control, see the view change."""

import os

import pytest
from conftest import screenshot


def run_all(page, jupyterlab, name):
    base, token = jupyterlab
    page.goto(f"{base}/lab/tree/{name}?reset&token={token}", wait_until="domcontentloaded")  # reset: no tabs restored from earlier tests
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.sessionContext"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session", timeout=60_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-Cell:last-child .jp-OutputArea-output')]"
        ".some(e => e.innerText.includes('Removed'))", timeout=400_000)


@pytest.mark.skipif(os.geteuid() != 0, reason="the namespace explorer compares with the host's namespaces as root")
def test_namespace_explorer_starts_a_container_and_redraws(page, jupyterlab, engine):
    run_all(page, jupyterlab, "02-namespaces.ipynb")
    explorer = page.locator(".widget-vbox").filter(has=page.locator("button", has_text="Start container")).first
    explorer.wait_for(state="attached", timeout=60_000)  # widget views render after the outputs arrive
    explorer.scroll_into_view_if_needed()
    explorer.locator("svg").first.wait_for(state="visible", timeout=60_000)
    explorer.locator(".widget-checkbox").nth(3).wait_for(state="attached", timeout=60_000)
    assert explorer.locator(".widget-checkbox").count() == 4
    before = explorer.locator("svg").first.inner_html()
    screenshot(page, "02-explorer-before")
    explorer.locator(".widget-checkbox", has_text="host's PID").locator("input").check()
    explorer.locator("button", has_text="Start container").click()
    page.wait_for_function(
        "(before) => { const svg = [...document.querySelectorAll('.widget-vbox svg')].pop();"
        " const box = [...document.querySelectorAll('.widget-vbox')].find(b => [...b.querySelectorAll('button')]"
        ".some(button => button.innerText.includes('Start container')));"  # status and map: two widgets, two messages
        " return svg && svg.innerHTML !== before && svg.innerHTML.includes('--pid=host')"
        " && box && box.innerText.includes('Started explore-'); }",
        arg=before, timeout=180_000)
    assert "Started explore-" in explorer.inner_text()
    screenshot(page, "02-explorer-after")
    explorer.locator("button", has_text="Remove started").click()
    page.wait_for_function("() => document.body.innerText.includes('container(s) started here')",
                           timeout=60_000)
