"""A cgroup's memory and CPU use over time: two line charts with the limits drawn dashed.

Pure: samples in (see :class:`containerlab.kernel.cgroups.UsageSample`), a deterministic
SVG out, so a live widget can redraw it after every sample and a notebook can store the
final picture.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

from ..kernel.cgroups import UsageSample, average_cpus, cpu_rates
from .svg import PALETTE, Diagram, Svg, num, text_width, truncate

__all__ = ["usage_chart", "nice_scale"]

MIB = 2**20
_WIDTH = 760.0
_LEFT = 84.0
_RIGHT = 28.0
_PLOT_H = 140.0
_MEMORY_TOP = 82.0
_CPU_TOP = 286.0
_HEIGHT = 480.0
_GRID = "#e5e7eb"
_PLOT_FILL = "#f9fafb"

Point = tuple[float, float]


def nice_scale(largest: float, most_ticks: int = 5) -> tuple[float, float]:
    """(axis maximum, tick step) for values from 0 to ``largest``: steps of 1, 2, 2.5 or 5 times 10^k."""
    if not math.isfinite(largest) or largest <= 0:
        largest = 1.0
    magnitude = 10 ** math.floor(math.log10(largest / most_ticks))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if largest / step <= most_ticks:
            break
    top = math.ceil(largest / step - 1e-9) * step
    return top, step


def _ticks(top: float, step: float) -> list[float]:
    """0, step, 2·step ... up to top (rounded so labels never show float noise)."""
    count = round(top / step)
    return [round(i * step, 10) for i in range(count + 1)]


def _label(value: float, unit: str) -> str:
    return f"{value:g}{unit}"


def _segments(points: Sequence[Point | None]) -> list[list[Point]]:
    """Runs of consecutive points, split where a reading is missing."""
    runs: list[list[Point]] = [[]]
    for point in points:
        if point is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(point)
    return [run for run in runs if run]


class _Panel:
    """One chart: a plot area with a value axis on the left, sharing the time axis."""

    def __init__(self, svg: Svg, top: float, t_max: float, y_max: float) -> None:
        self.svg = svg
        self.top = top
        self.x0, self.x1 = _LEFT, _WIDTH - _RIGHT
        self.t_max, self.y_max = t_max, y_max

    def x(self, seconds: float) -> float:
        return self.x0 + (self.x1 - self.x0) * min(max(seconds, 0.0), self.t_max) / self.t_max

    def y(self, value: float) -> float:
        return self.top + _PLOT_H - _PLOT_H * min(max(value, 0.0), self.y_max) / self.y_max

    def frame(self, heading: str, y_step: float, unit: str, time_ticks: list[float]) -> None:
        p = PALETTE
        svg = self.svg
        svg.text(self.x0, self.top - 12, truncate(heading, (self.x1 - self.x0) * 0.7, 13, bold=True), size=13,
                 bold=True)
        svg.rect(self.x0, self.top, self.x1 - self.x0, _PLOT_H, fill=_PLOT_FILL, stroke=p.border)
        for value in _ticks(self.y_max, y_step):
            y = self.y(value)
            if value > 0:
                svg.line(self.x0, y, self.x1, y, stroke=_GRID)
            svg.text(self.x0 - 8, y, _label(value, unit), size=11, fill=p.muted, anchor="end", middle=True)
        for seconds in time_ticks[1:]:
            x = self.x(seconds)
            svg.line(x, self.top, x, self.top + _PLOT_H, stroke=_GRID)
        svg.line(self.x0, self.top + _PLOT_H, self.x1, self.top + _PLOT_H, stroke=p.faint)
        svg.line(self.x0, self.top, self.x0, self.top + _PLOT_H, stroke=p.faint)

    def limit(self, value: float, label: str, tooltip: str) -> None:
        p = PALETTE
        y = self.y(value)
        legend_y = self.top - 12
        key_x = self.x1 - text_width(label, 11.5, bold=True) - 8
        with self.svg.group(tooltip):
            self.svg.line(self.x0, y, self.x1, y, stroke=p.fail, width=1.5, dashed=True)
            self.svg.line(key_x - 26, legend_y - 4, key_x - 2, legend_y - 4, stroke=p.fail, width=1.5,
                          dashed=True)
            self.svg.text(self.x1, legend_y, label, size=11.5, bold=True, fill=p.fail, anchor="end")

    def series(self, points: Sequence[Point | None], colour: str, tooltip: str) -> None:
        runs = _segments(points)
        with self.svg.group(tooltip):
            for run in runs:
                if len(run) == 1:
                    self.svg.circle(self.x(run[0][0]), self.y(run[0][1]), 3, fill=colour)
                    continue
                d = "M" + "L".join(f"{num(self.x(t))} {num(self.y(v))}" for t, v in run)
                self.svg.path(d, stroke=colour, width=2)
            if runs and len(runs[-1]) > 1:
                t, v = runs[-1][-1]
                self.svg.circle(self.x(t), self.y(v), 3, fill=colour)

    def note(self, text: str) -> None:
        self.svg.text((self.x0 + self.x1) / 2, self.top + _PLOT_H / 2, text, size=12, italic=True,
                      fill=PALETTE.muted, anchor="middle", middle=True)


def _cpu_points(samples: Sequence[UsageSample]) -> list[Point | None]:
    """% of one CPU between each pair of consecutive samples; None where a reading is missing."""
    points: list[Point | None] = []
    for pair in itertools.pairwise(samples):
        rate = cpu_rates(pair)
        points.append((rate[0][0], rate[0][1] * 100) if rate else None)
    return points


def _reach(values: Sequence[float], limit: float | None, floor: float) -> float:
    """How far an axis must reach: above every value and the limit, with some headroom."""
    return max([floor, *(value * 1.1 for value in values), *([limit * 1.2] if limit else [])])


def _describe(value: float | None, fmt: Callable[[float], str]) -> str:
    return "none" if value is None else fmt(value)


def usage_chart(samples: Sequence[UsageSample], *, memory_limit: int | None = None,
                cpu_limit: float | None = None, title: str = "cgroup usage") -> Diagram:
    """Memory in use (MiB) and CPU in use (% of one CPU) against time, limits dashed in red.

    ``memory_limit`` is in bytes, ``cpu_limit`` in CPUs (0.5 = half of one CPU); None draws no
    limit line. CPU use is the growth of the cumulative counter between consecutive samples.
    """
    p = PALETTE
    samples = list(samples)
    memory = [None if s.memory_bytes is None else (s.seconds, s.memory_bytes / MIB) for s in samples]
    memory_values = [point[1] for point in memory if point is not None]
    rates = _cpu_points(samples)
    span = samples[-1].seconds - samples[0].seconds if samples else 0.0
    # a sample a few ms late must not stretch the axis to the next whole step; it is drawn at the edge
    t_max, t_step = nice_scale(max([1.0, *(round(s.seconds, 1) for s in samples)]), 6)
    time_ticks = _ticks(t_max, t_step)
    limit_mib = memory_limit / MIB if memory_limit else None
    quota_pct = cpu_limit * 100 if cpu_limit else None

    svg = Svg(_WIDTH, _HEIGHT, f"{title}: memory and CPU use over time",
              description="Two line charts sharing a time axis; dashed red lines are the cgroup's limits.")
    svg.text(24, 32, truncate(title, _WIDTH - 48, 16, bold=True), size=16, bold=True)
    counted = f"{len(samples)} sample{'' if len(samples) == 1 else 's'}"
    svg.text(24, 52, truncate(f"{counted} of the cgroup files over {span:.1f} s", _WIDTH - 48, 12),
             size=12, fill=p.muted)

    mem_top, mem_step = nice_scale(_reach(memory_values, limit_mib, floor=1.0))
    peak = max(memory_values) if memory_values else None
    memory_panel = _Panel(svg, _MEMORY_TOP, t_max, mem_top)
    heading = "memory in use" + ("" if peak is None else f": peak {peak:.1f} MiB")
    memory_panel.frame(heading, mem_step, " MiB", time_ticks)
    if limit_mib:
        memory_panel.limit(limit_mib, f"limit {limit_mib:g} MiB", f"memory limit: {limit_mib:g} MiB")
    if memory_values:
        memory_panel.series(memory, p.host.stroke, "memory in use (MiB)")
    else:
        memory_panel.note("no samples yet" if not samples else "no memory readings")

    rate_values = [point[1] for point in rates if point is not None]
    cpu_top, cpu_step = nice_scale(_reach(rate_values, quota_pct, floor=10.0))
    average = average_cpus(samples)
    cpu_panel = _Panel(svg, _CPU_TOP, t_max, cpu_top)
    heading = "CPU in use, % of one CPU" + ("" if average is None else f": average {average * 100:.0f}%")
    cpu_panel.frame(heading, cpu_step, "%", time_ticks)
    if quota_pct:
        cpu_panel.limit(quota_pct, f"quota {quota_pct:g}%", f"CPU quota: {quota_pct:g}% of one CPU")
    if rate_values:
        cpu_panel.series(rates, p.container.stroke, "CPU in use (% of one CPU)")
    else:
        cpu_panel.note("no samples yet" if not samples else "CPU use needs two samples")

    axis_y = _CPU_TOP + _PLOT_H
    for seconds in time_ticks:
        svg.text(cpu_panel.x(seconds), axis_y + 18, _label(seconds, " s"), size=11, fill=p.muted,
                 anchor="middle")
    svg.text((cpu_panel.x0 + cpu_panel.x1) / 2, axis_y + 40, "seconds since sampling began", size=12,
             fill=p.muted, anchor="middle")

    summary = "\n".join([
        f"{title}: {counted} over {span:.1f} s",
        f"memory peak: {_describe(peak, lambda v: f'{v:.1f} MiB')}; "
        f"limit: {_describe(limit_mib, lambda v: f'{v:g} MiB')}",
        f"CPU average: {_describe(average, lambda v: f'{v * 100:.0f}%')}; "
        f"quota: {_describe(quota_pct, lambda v: f'{v:g}%')}",
    ])
    return Diagram(svg.to_string(), summary)
