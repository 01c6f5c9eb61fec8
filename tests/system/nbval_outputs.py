"""pytest plugin for runs as another user: append what each notebook cell printed (as nbval saw it) to a file.

(It also notes when each cell finished, so the test can say how long each notebook took.)

Loaded with ``-p nbval_outputs`` and ``NBVAL_OUTPUTS=<file>``; one JSON line per cell, so the test that started
the run can read the skipped lines and recorded results that nbval-lax does not compare.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any


def pytest_runtest_teardown(item: Any) -> None:
    """After a notebook cell ran: its notebook, number, source and outputs, as one JSON line."""
    target = os.environ.get("NBVAL_OUTPUTS")
    outputs = getattr(item, "test_outputs", None)
    if not target or outputs is None:
        return
    record = {"notebook": item.path.name, "cell": item.cell_num, "source": item.cell.source,
              "outputs": [dict(output) for output in outputs], "finished": time.monotonic()}
    with open(target, "a", encoding="utf-8") as sink:
        sink.write(json.dumps(record, default=str) + "\n")
