"""The layer explorer in a real browser: run lesson 05 in JupyterLab, pick another layer, see the view change."""

from conftest import ARTIFACTS, screenshot
from test_widgets import run_all

NOTEBOOK = "05-images-and-dockerfiles.ipynb"


def keep(page, explorer, name: str) -> None:
    """A page screenshot scrolled to the explorer, and one of the explorer alone."""
    explorer.scroll_into_view_if_needed()
    screenshot(page, name)
    explorer.screenshot(path=str(ARTIFACTS / f"{name}-widget.png"))



def test_layer_explorer_shows_the_stack_and_redraws_on_a_new_layer(page, jupyterlab, engine):
    run_all(page, jupyterlab, NOTEBOOK)
    explorers = page.locator(".widget-vbox").filter(has=page.locator(".widget-dropdown select"))
    explorers.nth(1).wait_for(state="attached", timeout=60_000)  # widget views render after the outputs arrive
    assert explorers.count() >= 2, "the lesson shows an explorer for the offline image and the built one"
    explorer = explorers.nth(1)
    explorer.scroll_into_view_if_needed()
    stack, changes = explorer.locator(".widget-html svg").nth(0), explorer.locator(".widget-html svg").nth(1)
    picker = explorer.locator(".widget-dropdown select")
    for part in (stack, changes, picker):
        part.wait_for(state="visible", timeout=60_000)
    assert stack.is_visible() and changes.is_visible() and picker.is_visible()
    assert "Layers of containerlab/" in stack.inner_html()
    before = changes.inner_html()
    assert "__pycache__" in before, "the top layer (RUN compileall) is shown first"
    keep(page, explorer, "05-explorer-top-layer")
    options = picker.locator("option")
    copy_layer = next(options.nth(i).inner_text() for i in range(options.count())
                      if "COPY" in options.nth(i).inner_text())
    picker.select_option(label=copy_layer)
    # The caption, the stack and the change tree are three widgets, each synced by its own message:
    # wait until the browser has drawn all of them for the new layer.
    page.wait_for_function(
        "(before) => { const boxes = [...document.querySelectorAll('.widget-vbox')].filter("
        " b => b.querySelector('.widget-dropdown select')); const parts = boxes[1].querySelectorAll('.widget-html');"
        " const svgs = boxes[1].querySelectorAll('.widget-html svg');"
        " return parts[0] && parts[0].innerText.includes('COPY') && svgs[1] && svgs[1].innerHTML !== before"
        " && svgs[1].innerHTML.includes('app.py'); }",
        arg=before, timeout=30_000)
    assert "COPY" in explorer.locator(".widget-html").first.inner_text()
    keep(page, explorer, "05-explorer-copy-layer")
