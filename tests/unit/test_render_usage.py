"""The usage chart: deterministic, well-formed, with axes and dashed limit lines, robust to few samples."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from containerlab.kernel.cgroups import UsageSample
from containerlab.render.svg import PALETTE, Diagram
from containerlab.render.usage import MIB, nice_scale, usage_chart

NS = "{http://www.w3.org/2000/svg}"


def ramp(count: int = 31, interval: float = 0.1) -> list[UsageSample]:
    """Memory climbing 1.5 MiB per sample from 8 MiB; CPU at half a CPU."""
    return [UsageSample(round(i * interval, 3), int((8 + 1.5 * i) * MIB), 50_000 * i) for i in range(count)]


def texts(diagram: Diagram) -> list[str]:
    root = ET.fromstring(diagram.svg)
    return [el.text or "" for el in root.iter() if el.tag in (f"{NS}text", f"{NS}title")]


def dashed_lines(diagram: Diagram) -> list[ET.Element]:
    root = ET.fromstring(diagram.svg)
    return [el for el in root.iter(f"{NS}line") if el.get("stroke-dasharray")]


CASES = {
    "ramp": lambda: usage_chart(ramp(), memory_limit=64 * MIB, cpu_limit=0.5, title="load"),
    "empty": lambda: usage_chart([], memory_limit=64 * MIB, cpu_limit=0.5),
    "one": lambda: usage_chart(ramp(1)),
    "gaps": lambda: usage_chart([*ramp(5), UsageSample(0.5, None, None), UsageSample(0.6, MIB, 400_000),
                                 UsageSample(0.7, MIB, 450_000), UsageSample(0.8, MIB, 500_000)]),
    "unlimited": lambda: usage_chart(ramp(10)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_chart_is_deterministic_and_well_formed(name: str) -> None:
    first, second = CASES[name](), CASES[name]()
    assert first.svg == second.svg and first.summary == second.summary
    root = ET.fromstring(first.svg)
    assert root.tag == f"{NS}svg" and root[0].tag == f"{NS}title" and root[0].text
    width, height = float(root.get("width")), float(root.get("height"))
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    for text in root.iter(f"{NS}text"):
        assert 0 <= float(text.get("x")) <= width and 0 <= float(text.get("y")) <= height
    for rect in root.iter(f"{NS}rect"):
        assert float(rect.get("x")) + float(rect.get("width")) <= width
        assert float(rect.get("y")) + float(rect.get("height")) <= height
    assert "<style" not in first.svg and "NaN" not in first.svg and "inf" not in first.svg


def test_axes_series_and_dashed_limits() -> None:
    chart = CASES["ramp"]()
    shown = texts(chart)
    assert {"0 MiB", "0%", "0 s", "3 s", "seconds since sampling began"} <= set(shown)
    assert "limit 64 MiB" in shown and "quota 50%" in shown
    assert "31 samples of the cgroup files over 3.0 s" in shown
    assert len(dashed_lines(chart)) == 4  # each limit: a line across the plot and its legend key
    limit_y = {line.get("y1") for line in dashed_lines(chart) if line.get("x1") == "84"}
    assert len(limit_y) == 2
    root = ET.fromstring(chart.svg)
    paths = list(root.iter(f"{NS}path"))
    assert len(paths) == 2 and all(p.get("d").count("L") == 30 - (i == 1) for i, p in enumerate(paths))
    assert "memory peak: 53.0 MiB; limit: 64 MiB" in chart.summary
    assert "CPU average: 50%; quota: 50%" in chart.summary


def test_limit_line_sits_at_the_limit_value() -> None:
    chart = usage_chart(ramp(3), memory_limit=64 * MIB, cpu_limit=0.5)
    root = ET.fromstring(chart.svg)
    assert {"0 MiB", "80 MiB"} <= set(texts(chart)) and "100 MiB" not in texts(chart)
    plots = [r for r in root.iter(f"{NS}rect") if r.get("fill") == "#f9fafb"]
    across = [line for line in dashed_lines(chart) if line.get("x1") == "84"]
    # 64 MiB on an axis reaching 80 MiB sits 4/5 up the memory plot; 50% on one reaching 60% sits 5/6 up
    for plot, line, share in zip(plots, across, (64 / 80, 50 / 60)):
        bottom, height = float(plot.get("y")) + float(plot.get("height")), float(plot.get("height"))
        assert float(line.get("y1")) == pytest.approx(bottom - height * share, abs=0.01)


def test_empty_and_single_sample_are_explained_not_crashed() -> None:
    assert texts(CASES["empty"]()).count("no samples yet") == 2
    one = texts(CASES["one"]())
    assert "CPU use needs two samples" in one and "1 sample of the cgroup files over 0.0 s" in one
    assert ET.fromstring(CASES["one"]().svg).find(f".//{NS}circle") is not None
    assert "memory peak: none; limit: 64 MiB" in CASES["empty"]().summary


def test_gaps_split_the_line_and_no_limits_draw_no_dashes() -> None:
    gaps = ET.fromstring(CASES["gaps"]().svg)
    strokes = [path.get("stroke") for path in gaps.iter(f"{NS}path")]
    assert strokes == [PALETTE.host.stroke] * 2 + [PALETTE.container.stroke] * 2  # each line split in two
    assert dashed_lines(CASES["unlimited"]()) == []
    assert "limit: none" in CASES["unlimited"]().summary


def test_title_is_escaped() -> None:
    chart = usage_chart(ramp(3), title='web <"&">')
    assert 'web <"&">' in texts(chart)
    assert "web &lt;&quot;&amp;&quot;&gt;" in chart.svg


@pytest.mark.parametrize("largest, expected", [
    (0, (1, 0.2)), (1, (1, 0.2)), (3.0, (3, 1)), (53.0 * 1.1, (60, 20)), (76.8, (80, 20)),
    (60.0, (60, 20)), (123, (125, 25)), (float("nan"), (1, 0.2)),
])
def test_nice_scale(largest: float, expected: tuple[float, float]) -> None:
    top, step = nice_scale(largest)
    assert (top, step) == pytest.approx(expected)


def test_a_slightly_late_last_sample_does_not_stretch_the_time_axis() -> None:
    late = [*ramp(30), UsageSample(3.004, 50 * MIB, 1_500_000)]
    shown = texts(usage_chart(late))
    assert "3 s" in shown and "4 s" not in shown
    root = ET.fromstring(usage_chart(late).svg)
    assert max(float(c.get("cx")) for c in root.iter(f"{NS}circle")) <= 760 - 28


def test_live_chart_widget_redraws_per_sample_and_offers_the_static_svg() -> None:
    from containerlab.widgets.usage import LiveUsageChart

    live = LiveUsageChart(memory_limit=64 * MIB, cpu_limit=0.5, title="live")
    assert "no samples yet" in live.widget.value
    for sample in ramp(3):
        live.add(sample)
    assert live.widget.value == usage_chart(ramp(3), memory_limit=64 * MIB, cpu_limit=0.5, title="live").svg
    bundle = live._repr_mimebundle_()
    assert bundle["image/svg+xml"] == live.widget.value and "text/html" in bundle
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("live: 3 samples")
    live.widget.close()


def test_watch_usage_outside_a_notebook_just_samples() -> None:
    from containerlab.kernel.cgroups import CgroupDirs
    from containerlab.widgets.usage import watch_usage

    fixture = Path(__file__).resolve().parents[1] / "fixtures/kernel/v2-container/sys/fs/cgroup"
    samples = watch_usage(CgroupDirs("v2", str(fixture)), seconds=0.2, interval=0.1)
    assert [(s.memory_bytes, s.cpu_usage_usec) for s in samples] == [(3719168, 2283751)] * 3
