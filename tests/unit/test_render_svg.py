"""The SVG builder: escaping, number formatting, text metrics, the Diagram display protocol."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from containerlab.render import PALETTE, Diagram, Svg, esc, num, text_width, truncate, wrap

NS = "{http://www.w3.org/2000/svg}"


def test_esc_escapes_markup_and_quotes() -> None:
    assert esc('a<b>&"c\'') == "a&lt;b&gt;&amp;&quot;c&#39;"
    assert esc(42) == "42"


def test_esc_replaces_characters_xml_forbids() -> None:
    assert esc("bell\x07") == "bell\ufffd"
    ET.fromstring("<t>" + esc("nul\x00 tab\t") + "</t>")


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0, "0"), (-0.0, "0"), (-0.001, "0"), (1.5, "1.5"), (2.0, "2"), (10, "10"),
     (1 / 3, "0.33"), (-12.345678, "-12.35"), (100.10, "100.1")],
)
def test_num_is_fixed_and_has_no_negative_zero(value: float, shown: str) -> None:
    assert num(value) == shown


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), True])
def test_num_rejects_non_numbers(bad: float) -> None:
    with pytest.raises(ValueError):
        num(bad)


def test_text_width_grows_with_text_size_and_weight() -> None:
    assert text_width("", 12) == 0
    assert text_width("iiii", 12) < text_width("MMMM", 12)
    assert text_width("abc", 12) < text_width("abc", 24)
    assert text_width("abc", 12) < text_width("abc", 12, bold=True)
    assert text_width("abc", 10, mono=True) == pytest.approx(3 * 6.1)


def test_truncate_fits_and_keeps_short_text() -> None:
    assert truncate("short", 500, 12) == "short"
    cut = truncate("a rather long label that cannot fit", 80, 12)
    assert cut.endswith("…") and text_width(cut, 12) <= 80


def test_truncate_middle_keeps_both_ends() -> None:
    cut = truncate("clab-01-web-frontend", 70, 12, middle=True)
    assert cut.startswith("cl") and cut.endswith("d") and "…" in cut
    assert text_width(cut, 12) <= 70


def test_wrap_breaks_on_words_within_width() -> None:
    lines = wrap("one two three four five six seven eight nine ten", 80, 12)
    assert len(lines) > 1
    assert " ".join(lines) == "one two three four five six seven eight nine ten"
    assert all(text_width(line, 12) <= 80 for line in lines)
    assert wrap("", 80, 12) == [""]


def _demo() -> str:
    svg = Svg(200, 100, 'Demo <"title">', description="a & b")
    with svg.group(title="tip & trick"):
        svg.rect(10, 10, 50, 20, fill=PALETTE.host.fill, stroke=PALETTE.host.stroke, rx=3, dashed=True)
        svg.text(20, 20, "x < y", bold=True, anchor="middle", middle=True)
        svg.text(20, 60, "rotated", rotate=-90)
    svg.arrow(0, 0, 50, 50, stroke="#ff0000")
    svg.arrow(0, 0, 60, 50, stroke="#ff0000")
    svg.arrow(0, 0, 70, 50, stroke="#0000ff")
    svg.line(0, -0.0, 10, 10, stroke="#000", dashed=True)
    svg.circle(5, 5, 2, fill="#000")
    svg.path("M0 0L1 1", stroke="#000")
    return svg.to_string()


def test_svg_builder_is_well_formed_and_deterministic() -> None:
    out = _demo()
    assert out == _demo()
    root = ET.fromstring(out)
    assert root.tag == f"{NS}svg"
    assert root.get("viewBox") == "0 0 200 100"
    assert (root.get("width"), root.get("height")) == ("200", "100")
    assert root[0].tag == f"{NS}title" and root[0].text == 'Demo <"title">'
    assert root.find(f"{NS}desc").text == "a & b"
    assert "sans-serif" in root.get("font-family")
    assert root.find(f"{NS}g/{NS}title").text == "tip & trick"
    assert '"-0"' not in out


def test_svg_markers_are_one_per_colour_and_sorted() -> None:
    root = ET.fromstring(_demo())
    ids = [m.get("id") for m in root.iter(f"{NS}marker")]
    assert ids == ["clab-arrow-0000ff", "clab-arrow-ff0000"]


def test_svg_has_no_style_element_and_a_background() -> None:
    out = _demo()
    assert "<style" not in out
    root = ET.fromstring(out)
    first_rect = root.find(f"{NS}rect")
    assert first_rect.get("fill") == PALETTE.background


def test_svg_rejects_bad_anchor() -> None:
    with pytest.raises(ValueError):
        Svg(10, 10, "t").text(0, 0, "x", anchor="left")


def test_diagram_mimebundle_has_both_types() -> None:
    d = Diagram("<svg/>", "a summary")
    bundle = d._repr_mimebundle_()
    assert bundle == {"text/plain": "a summary", "image/svg+xml": "<svg/>", "text/html": d.html()}


def test_diagram_mimebundle_honours_include_and_exclude() -> None:
    d = Diagram("<svg/>", "a summary")
    assert d._repr_mimebundle_(include={"text/plain"}) == {"text/plain": "a summary"}
    assert d._repr_mimebundle_(exclude={"text/plain", "text/html"}) == {"image/svg+xml": "<svg/>"}
    assert d._repr_mimebundle_(include=["image/svg+xml"], exclude=["image/svg+xml"]) == {}


def test_diagram_str_repr_svg_and_save(tmp_path) -> None:
    d = Diagram("<svg>é</svg>", "first line\nsecond line")
    assert str(d) == "first line\nsecond line"
    assert repr(d) == "<Diagram: first line>"
    assert d._repr_svg_() == "<svg>é</svg>"
    target = d.save(tmp_path / "d.svg")
    assert target.read_text(encoding="utf-8") == "<svg>é</svg>"
    assert d.save(str(tmp_path / "e.svg")).name == "e.svg"


def test_diagram_is_frozen() -> None:
    d = Diagram("<svg/>", "s")
    with pytest.raises(AttributeError):
        d.summary = "changed"  # type: ignore[misc]


def test_diagram_html_fallback_is_an_image_data_uri() -> None:
    import base64

    d = Diagram(svg="<svg/>", summary='a "summary" <x>')
    html_view = d._repr_mimebundle_()["text/html"]
    assert html_view.startswith('<img src="data:image/svg+xml;base64,')
    assert base64.b64decode(html_view.split("base64,")[1].split('"')[0]) == b"<svg/>"
    assert 'alt="a &quot;summary&quot; &lt;x&gt;"' in html_view
