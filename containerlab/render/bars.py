"""A horizontal bar chart of measured times (or any positive values), deterministic for its input.

Lesson 07 draws the start-up time of the same container through each layer of the stack
(docker, podman, runc, unshare). The values span three orders of magnitude, so the default
axis is logarithmic with a tick at every power of ten; each bar says how many times the
smallest value it is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .svg import PALETTE, Diagram, Svg, Tone, truncate

__all__ = ["Bar", "bar_chart", "format_seconds", "log_ticks"]

_WIDTH = 780.0
_MARGIN = 24.0
_LABEL_W = 118.0
_VALUE_W = 150.0
_ROW_H = 50.0
_BAR_H = 18.0
_TOP = 70.0
_AXIS_H = 34.0
_TONES = ("vm", "host", "container", "kernel", "shared", "isolated", "hardware")


@dataclass(frozen=True)
class Bar:
    """One bar: a short label, its value, a line saying what it stands for, a palette tone name."""

    label: str
    value: float
    detail: str = ""
    tone: str = ""


def format_seconds(seconds: float) -> str:
    """0.31 s, 24 ms, 3.1 ms, 850 µs: two significant figures, a unit a person reads easily."""
    if seconds == 0:
        return "0"
    if seconds >= 1:
        return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"
    if seconds >= 0.1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        ms = seconds * 1e3
        return f"{ms:.2g} ms" if ms < 10 else f"{ms:.0f} ms"
    return f"{seconds * 1e6:.0f} µs"


def _tick_label(seconds: float) -> str:
    """A power of ten of seconds as 1 µs, 10 µs, ..., 1 ms, 10 ms, 100 ms, 1 s, 10 s."""
    for unit, size in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= size * 0.999:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0e} s"


def log_ticks(smallest: float, largest: float) -> list[float]:
    """Powers of ten from just below ``smallest`` to just above ``largest``."""
    low = math.floor(math.log10(smallest))
    high = math.ceil(math.log10(largest))
    if high == low:
        high += 1
    return [10.0 ** exponent for exponent in range(low, high + 1)]


def _linear_ticks(largest: float) -> list[float]:
    step = 10 ** math.floor(math.log10(largest))
    for factor in (1, 2, 5, 10):
        if largest / (step * factor) <= 5:
            step *= factor
            break
    count = math.ceil(largest / step - 1e-9)
    return [step * index for index in range(count + 1)]


def _tone(bar: Bar, index: int) -> Tone:
    name = bar.tone or _TONES[index % len(_TONES)]
    tone = getattr(PALETTE, name, None)
    if not isinstance(tone, Tone):
        raise ValueError(f"{name!r} is not a palette tone")
    return tone


def bar_chart(bars: Sequence[Bar], *, title: str, log: bool = True, note: str = "") -> Diagram:
    """A horizontal bar per value, longest on top as given; ``log`` picks a log10 axis."""
    if not bars:
        raise ValueError("bar_chart needs at least one bar")
    if any(not (bar.value > 0 and math.isfinite(bar.value)) for bar in bars):
        raise ValueError("every bar needs a positive, finite value")
    p = PALETTE
    values = [bar.value for bar in bars]
    ticks = log_ticks(min(values), max(values)) if log else _linear_ticks(max(values))
    x0 = _MARGIN + _LABEL_W
    x1 = _WIDTH - _MARGIN - _VALUE_W

    def x(value: float) -> float:
        if log:
            low, high = math.log10(ticks[0]), math.log10(ticks[-1])
            return x0 + (x1 - x0) * (math.log10(value) - low) / (high - low)
        return x0 + (x1 - x0) * value / ticks[-1]

    height = _TOP + _ROW_H * len(bars) + _AXIS_H + (22 if note else 0) + 10
    svg = Svg(_WIDTH, height, title, description="Bar chart: " + ", ".join(
        f"{bar.label} {format_seconds(bar.value)}" for bar in bars))
    svg.text(_MARGIN, 30, truncate(title, _WIDTH - 2 * _MARGIN, 16, bold=True), size=16, bold=True)
    scale = "log scale: each grid line is 10 times the one before it" if log else "linear scale"
    svg.text(_MARGIN, 48, scale, size=11, fill=p.muted)
    bottom = _TOP + _ROW_H * len(bars)
    for tick in ticks:
        tx = x(tick)
        svg.line(tx, _TOP - 6, tx, bottom, stroke=p.border, dashed=tick != ticks[0])
        svg.text(tx, bottom + 16, _tick_label(tick) if log else format_seconds(tick), size=11, fill=p.muted,
                 anchor="middle")
    smallest = min(values)
    for index, bar in enumerate(bars):
        tone = _tone(bar, index)
        top = _TOP + _ROW_H * index
        times = bar.value / smallest
        ratio = "fastest" if math.isclose(times, 1.0) else f"{times:,.0f}× the fastest" if times >= 10 \
            else f"{times:.1f}× the fastest"
        with svg.group(f"{bar.label}: {format_seconds(bar.value)} ({ratio}). {bar.detail}".strip()):
            svg.text(x0 - 10, top + _BAR_H / 2 + 2, truncate(bar.label, _LABEL_W - 12, 13, bold=True),
                     size=13, bold=True, anchor="end", middle=True, fill=tone.ink)
            end = max(x(bar.value), x0 + 2)
            svg.rect(x0, top + 2, end - x0, _BAR_H, fill=tone.fill, stroke=tone.stroke, rx=3)
            svg.text(end + 8, top + _BAR_H / 2 + 2, f"{format_seconds(bar.value)}  ({ratio})", size=12,
                     middle=True, fill=p.ink)
            if bar.detail:
                svg.text(x0, top + _BAR_H + 17, truncate(bar.detail, _WIDTH - _MARGIN - x0, 11), size=11,
                         fill=p.muted)
    svg.line(x0, bottom, x1, bottom, stroke=p.faint)
    if note:
        svg.text(_MARGIN, bottom + _AXIS_H + 12, truncate(note, _WIDTH - 2 * _MARGIN, 11.5), size=11.5,
                 italic=True, fill=p.muted)
    summary = title + ": " + ", ".join(f"{bar.label} {format_seconds(bar.value)}" for bar in bars)
    return Diagram(svg.to_string(), summary)
