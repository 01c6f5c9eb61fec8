"""A live usage chart: the pure renderer redrawn in an HTML widget after every cgroup sample.

While sampling runs, the widget shows the chart growing; when it ends, the output is
replaced by the final static SVG, so a saved notebook shows the picture without a kernel.
"""

from __future__ import annotations

from typing import Any

import ipywidgets

from ..kernel.cgroups import CgroupDirs, UsageSample, sample_usage
from ..render.svg import Diagram
from ..render.usage import usage_chart

__all__ = ["LiveUsageChart", "watch_usage"]


class LiveUsageChart:
    """An HTML widget holding :func:`usage_chart` of the samples added so far."""

    def __init__(self, *, memory_limit: int | None = None, cpu_limit: float | None = None,
                 title: str = "cgroup usage") -> None:
        self.memory_limit = memory_limit
        self.cpu_limit = cpu_limit
        self.title = title
        self.samples: list[UsageSample] = []
        self.widget = ipywidgets.HTML(value=self.diagram().svg)

    def diagram(self) -> Diagram:
        """The chart of the samples so far, as a static Diagram."""
        return usage_chart(self.samples, memory_limit=self.memory_limit, cpu_limit=self.cpu_limit,
                           title=self.title)

    def add(self, sample: UsageSample) -> None:
        """Take one more sample and redraw."""
        self.samples.append(sample)
        self.widget.value = self.diagram().svg

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The widget view where a widget manager runs, else the static chart."""
        bundle = dict(self.diagram()._repr_mimebundle_())
        view = self.widget._repr_mimebundle_(include=include, exclude=exclude)
        bundle.update({k: v for k, v in (view or {}).items() if k != "text/plain"})
        return bundle


def watch_usage(dirs: CgroupDirs, *, seconds: float = 3.0, interval: float = 0.1,
                memory_limit: int | None = None, cpu_limit: float | None = None,
                title: str = "cgroup usage") -> list[UsageSample]:
    """Sample a cgroup's memory and CPU use, showing the chart live; leave the final chart displayed."""
    chart = LiveUsageChart(memory_limit=memory_limit, cpu_limit=cpu_limit, title=title)
    handle = _display(chart)
    samples = sample_usage(dirs, seconds=seconds, interval=interval, on_sample=chart.add)
    final = chart.diagram()
    if handle is not None:
        handle.update(final)
    chart.widget.close()
    return samples


def _display(obj: Any) -> Any:
    """Display obj and return a handle to replace it later (None outside IPython)."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    if get_ipython() is None:
        return None
    return display(obj, display_id=True)
