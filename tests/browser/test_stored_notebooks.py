"""The stored course reads well in a real browser before any kernel runs (untrusted notebooks)."""

from conftest import screenshot


def open_notebook(page, jupyterlab, name):
    base, token = jupyterlab
    page.goto(f"{base}/lab/tree/{name}?reset&token={token}", wait_until="domcontentloaded")  # reset: no tabs restored from earlier tests
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_selector(".jp-OutputArea-output img[src^='data:image/svg+xml']", timeout=60_000)


def test_diagrams_show_in_the_untrusted_stored_notebook(page, jupyterlab):
    open_notebook(page, jupyterlab, "01-what-is-a-container.ipynb")
    images = page.locator(".jp-OutputArea-output img[src^='data:image/svg+xml']")
    images.nth(1).wait_for(state="attached", timeout=60_000)  # JupyterLab renders the cells one after another
    assert images.count() >= 2
    first = images.first
    first.scroll_into_view_if_needed()
    box = first.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 150, box
    assert "Containers" in (first.get_attribute("alt") or "")
    screenshot(page, "01-stored-diagrams")
