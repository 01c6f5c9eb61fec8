"""containerlab: drive real containers from notebooks, and draw what they are made of.

The pure core (kernel/, render/, report, hostinfo) imports only the standard library;
the engine layer (engine/, which imports the docker SDK) loads on first use, so
`import containerlab.kernel` stays light and works without an engine.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .errors import LabError, install_notebook_handler

__version__ = "0.1.0"

__all__ = ["LabError", "Lab", "connect", "doctor", "setup", "clean", "show", "__version__"]

_LAZY = {
    "Lab": ("containerlab.engine.lab", "Lab"),
    "connect": ("containerlab.engine.connect", "connect"),
    "doctor": ("containerlab.engine.doctor", "doctor"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(import_module(module), attribute)
    raise AttributeError(f"module 'containerlab' has no attribute {name!r}")


def setup(force: bool = False, online: bool = False) -> list[Any]:
    """Build the offline lab images that are missing (what `python -m containerlab setup` does)."""
    from .engine.connect import connect as _connect
    from .engine.images import setup_images

    return setup_images(_connect(), force=force, online=online)


def clean(lesson: str | None = None) -> Any:
    """Remove the course's containers, networks and volumes (one lesson, or all)."""
    from .engine.connect import connect as _connect
    from .engine.lab import remove_labelled

    return remove_labelled(_connect(), lesson=lesson)


def show(obj: Any) -> None:
    """Display a diagram or report in a notebook, or print its text elsewhere."""
    try:
        from IPython.display import display
    except ImportError:
        print(obj)
        return
    display(obj)


install_notebook_handler()
