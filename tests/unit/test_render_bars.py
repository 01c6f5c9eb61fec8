"""The bar chart: deterministic SVG, log ticks, readable times, bad input refused."""

from __future__ import annotations

import re

import pytest

from containerlab.render.bars import Bar, bar_chart, format_seconds, log_ticks

BARS = [Bar("docker", 0.31, "docker CLI → dockerd → containerd → shim → runc"), Bar("podman", 0.36),
        Bar("runc", 0.024, "runc alone"), Bar("unshare", 0.003, "namespaces only")]


def test_same_input_same_svg():
    first = bar_chart(BARS, title="Start-up")
    assert first.svg == bar_chart(BARS, title="Start-up").svg
    assert first.svg.startswith("<svg") and "<title>Start-up</title>" in first.svg
    assert first.summary == "Start-up: docker 0.31 s, podman 0.36 s, runc 24 ms, unshare 3 ms"


def test_bars_are_proportional_to_log_values():
    svg = bar_chart([Bar("a", 0.001), Bar("b", 0.1)], title="t").svg
    widths = [float(w) for w in re.findall(r'<rect x="[^"]+" y="[^"]+" width="([^"]+)" height="18" rx="3"', svg)]
    # 1 ms sits on the first tick (a 2-unit stub), 100 ms two decades out of two: the full axis.
    assert widths[0] == 2 and widths[1] > 400


def test_ratios_against_the_fastest():
    svg = bar_chart(BARS, title="t").svg
    assert "3 ms  (fastest)" in svg and "24 ms  (8.0× the fastest)" in svg and "(103× the fastest)" in svg


def test_tick_labels_and_note():
    svg = bar_chart(BARS, title="t", note="measured live").svg
    for label in (">1 ms<", ">10 ms<", ">100 ms<", ">1 s<", "measured live"):
        assert label in svg


def test_linear_axis():
    svg = bar_chart([Bar("a", 3.0), Bar("b", 7.0)], title="t", log=False).svg
    assert "linear scale" in svg and ">8 s<" in svg and ">0<" in svg


@pytest.mark.parametrize("seconds, text", [(0.31, "0.31 s"), (0.024, "24 ms"), (0.0031, "3.1 ms"),
                                           (0.00085, "850 µs"), (2.5, "2.5 s"), (12.4, "12 s")])
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


def test_log_ticks_cover_the_values():
    assert log_ticks(0.003, 0.36) == [0.001, 0.01, 0.1, 1.0]
    assert log_ticks(0.02, 0.05) == [0.01, 0.1]


@pytest.mark.parametrize("bars", [[], [Bar("a", 0)], [Bar("a", float("nan"))]])
def test_bad_values_are_refused(bars):
    with pytest.raises(ValueError):
        bar_chart(bars, title="t")


def test_unknown_tone_is_refused():
    with pytest.raises(ValueError, match="palette tone"):
        bar_chart([Bar("a", 1.0, tone="sparkly")], title="t")
