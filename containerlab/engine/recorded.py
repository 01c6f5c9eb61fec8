"""Show a skipped cell's recorded output in the notebook that runs it (the kernel side of course/recorded).

Which cell is running: the kernel's current execute request. JupyterLab puts the cell's id in its metadata
(``cellId``); nbval and nbclient send only the code, which is matched against the stored cells' sources. Shown
once per execution, however many of the cell's steps skip; outside a Jupyter kernel, nothing is shown.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..course.recorded import find_recorded, notebook_candidates, recorded_bundle

__all__ = ["current_request", "show_recorded"]

COURSE_ROOT = Path(__file__).resolve().parents[2]
_SHOWN: set[str] = set()


def current_request() -> dict[str, Any] | None:
    """The execute request the kernel is answering (header, metadata, content), or None outside a kernel."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is None or not hasattr(kernel, "get_parent"):
        return None
    request = kernel.get_parent("shell")
    return request if isinstance(request, dict) and request.get("header") else None


def show_recorded(lesson: str) -> bool:
    """Display the stored notebook's outputs for the running cell, marked as recorded; True when shown."""
    request = current_request()
    if request is None:
        return False
    msg_id = str(request["header"].get("msg_id", ""))
    if msg_id in _SHOWN:
        return False
    cell_id = (request.get("metadata") or {}).get("cellId")
    code = (request.get("content") or {}).get("code")
    for path in notebook_candidates(lesson, session=os.environ.get("JPY_SESSION_NAME"), cwd=Path.cwd(),
                                    course_root=COURSE_ROOT):
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        recorded = find_recorded(stored, cell_id=cell_id, code=code)
        if recorded is None:
            continue
        from IPython.display import publish_display_data

        data, metadata = recorded_bundle(recorded)
        publish_display_data(data, metadata)
        _SHOWN.add(msg_id)
        return True
    return False
