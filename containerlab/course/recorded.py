"""The outputs a stored notebook recorded for a cell, shown where that cell cannot run, marked as recorded. Pure.

The course's notebooks are committed with their outputs, made by `tools/build_notebooks.py` on a real engine,
which also stamps the notebook's metadata with the engine and the date (``RECORDED_KEY``). Where a cell skips
(no engine on Binder, not root, a limit a rootless engine cannot enforce), the lesson shows what that cell
printed there, under a line saying where and when it was recorded: never as if it had run here.

A cell is found by its id (JupyterLab sends ``cellId`` with each execution) or, failing that, by its source
(nbval and nbclient send only the code). A recorded display that a learner saved back into the notebook is
unwrapped to the outputs it carried, so the stamp stays the original one.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["RECORDED_KEY", "Recorded", "find_recorded", "notebook_candidates", "recorded_bundle", "recording_stamp",
           "stamp_words"]

RECORDED_KEY = "containerlab"
# An exercise cell grades the learner's own answer (`check_...(answer)`): its recording is about nobody's answer.
_GRADES_AN_ANSWER = re.compile(r"\bcheck_\w+\(")
MARK = "\N{FISHEYE}"  # ◉, in the fonts browsers and terminals have
# Rich outputs in the order the recorded block prefers them; widgets cannot be replayed, their text stands in.
_RICH = ("image/svg+xml", "text/html", "image/png", "text/plain")


@dataclass(frozen=True)
class Recorded:
    """A cell's recorded outputs (nbformat output dicts) and where and when they were made."""

    outputs: tuple[dict[str, Any], ...]
    engine: str
    date: str

    @property
    def header(self) -> str:
        """The line that says this is a recording."""
        return f"{MARK} Recorded on {self.engine} on {self.date}, not run here:"


def recording_stamp(engine: str, date: str) -> dict[str, dict[str, str]]:
    """The notebook metadata the builder writes: which engine made the stored outputs, and when."""
    return {"recorded": {"engine": engine, "date": date}}


def stamp_words(notebook: Mapping[str, Any]) -> tuple[str, str]:
    """(engine, date) from a notebook's metadata; 'an unknown engine' / 'an unknown date' when absent."""
    stamp = ((notebook.get("metadata") or {}).get(RECORDED_KEY) or {}).get("recorded") or {}
    return str(stamp.get("engine") or "an unknown engine"), str(stamp.get("date") or "an unknown date")


def _source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _find_cell(cells: Sequence[Mapping[str, Any]], cell_id: str | None, code: str | None) -> Mapping[str, Any] | None:
    """The code cell with this id, else the one whose source is this code (ignoring surrounding blank space)."""
    code_cells = [cell for cell in cells if cell.get("cell_type") == "code"]
    if cell_id:
        for cell in code_cells:
            if cell.get("id") == cell_id:
                return cell
    if code is not None:
        wanted = code.strip()
        matches = [cell for cell in code_cells if _source(cell).strip() == wanted]
        if len(matches) == 1:
            return matches[0]
    return None


def _unwrap(outputs: Iterable[Mapping[str, Any]], engine: str, date: str) -> Recorded:
    """The cell's original outputs: a recorded display saved into the notebook gives back what it carried."""
    for output in outputs:
        carried = ((output.get("metadata") or {}).get(RECORDED_KEY) or {}).get("recorded")
        if isinstance(carried, Mapping) and isinstance(carried.get("outputs"), list):
            return Recorded(tuple(carried["outputs"]), str(carried.get("engine", engine)),
                            str(carried.get("date", date)))
    return Recorded(tuple(dict(output) for output in outputs), engine, date)


def find_recorded(notebook: Mapping[str, Any] | str, *, cell_id: str | None = None,
                  code: str | None = None) -> Recorded | None:
    """The recorded outputs of one cell of a stored notebook (its JSON text or parsed dict); None when the cell
    is not there (an edited cell) or recorded nothing."""
    data = json.loads(notebook) if isinstance(notebook, str) else notebook
    cell = _find_cell(data.get("cells") or [], cell_id, code)
    if cell is None or not cell.get("outputs") or _GRADES_AN_ANSWER.search(_source(cell)):
        return None
    engine, date = stamp_words(data)
    recorded = _unwrap(cell["outputs"], engine, date)
    # A cell that skipped where the notebook was recorded has nothing to show but its own "Skipped:" line.
    shown = [output for output in recorded.outputs if not _only_skipped(output)]
    return Recorded(tuple(shown), recorded.engine, recorded.date) if shown else None


def _only_skipped(output: Mapping[str, Any]) -> bool:
    """True for a stream output whose every line is a 'Skipped: ...' line."""
    if output.get("output_type") != "stream":
        return False
    lines = [line for line in _text(output.get("text", "")).splitlines() if line.strip()]
    return all(line.startswith("Skipped:") for line in lines)


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _plain(output: Mapping[str, Any]) -> str:
    """What an output shows as plain text."""
    kind = output.get("output_type")
    if kind == "stream":
        return _text(output.get("text", ""))
    if kind == "error":
        return f"{output.get('ename', 'Error')}: {output.get('evalue', '')}\n"
    data = output.get("data") or {}
    return _text(data.get("text/plain", "")) + "\n" if "text/plain" in data else ""


def _html(output: Mapping[str, Any]) -> str:
    """An output as an HTML fragment: SVG and HTML as they are, PNG inline, everything else as text."""
    kind = output.get("output_type")
    if kind in ("display_data", "execute_result"):
        data = output.get("data") or {}
        for mime in _RICH:
            if mime not in data:
                continue
            value = _text(data[mime])
            if mime in ("image/svg+xml", "text/html"):
                return f"<div>{value}</div>"
            if mime == "image/png":
                return f'<img src="data:image/png;base64,{value.strip()}"/>'
            return f"<pre>{html.escape(value)}</pre>"
        return ""
    return f"<pre>{html.escape(_plain(output))}</pre>"


def recorded_bundle(recorded: Recorded) -> tuple[dict[str, str], dict[str, Any]]:
    """(data, metadata) of one display that shows the recording under its header, in HTML and in plain text.

    The plain text prefixes every recorded line with a bar, so a terminal or a test sees at a glance which
    lines are the recording; the metadata carries the original outputs (for unwrapping) and the stamp.
    """
    body = "".join(_plain(output) for output in recorded.outputs)
    lines = [f"\N{BOX DRAWINGS LIGHT VERTICAL} {line}" for line in body.rstrip("\n").splitlines()]
    plain = "\n".join([recorded.header, *lines])
    parts = "".join(_html(output) for output in recorded.outputs)
    fragment = (f'<div class="containerlab-recorded" style="border-left: 4px solid #9ca3af; padding-left: 8px; '
                f'opacity: 0.85"><div style="font-size: 0.85em; color: #4b5563; font-style: italic">'
                f"{html.escape(recorded.header)}</div>{parts}</div>")
    metadata = {RECORDED_KEY: {"recorded": {"engine": recorded.engine, "date": recorded.date,
                                            "outputs": list(recorded.outputs)}}}
    return {"text/plain": plain, "text/html": fragment}, metadata


def notebook_candidates(lesson: str, *, session: str | None, cwd: Path, course_root: Path) -> list[Path]:
    """Where the stored notebook of a lesson may be: the notebook this kernel serves (JupyterLab's session
    path), the kernel's working directory (nbval, nbclient and JupyterLab start kernels next to the
    notebook), then the course's notebooks/ folder."""
    name = f"{lesson}.ipynb"
    found = []
    if session and Path(session).name == name:
        found.append(Path(session) if Path(session).is_absolute() else cwd / Path(session).name)
    found += [cwd / name, course_root / "notebooks" / name]
    unique: list[Path] = []
    for path in found:
        if path not in unique:
            unique.append(path)
    return unique
