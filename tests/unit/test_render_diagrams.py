"""The course diagrams: deterministic, well-formed, escaped, labelled with what was passed in."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from containerlab.render import Diagram, checklist, containers_vs_vms, user_kernel_split

NS = "{http://www.w3.org/2000/svg}"
NASTY = 'a<&"b'

BUILDERS: dict[str, Callable[[], Diagram]] = {
    "containers_vs_vms": lambda: containers_vs_vms(),
    "containers_vs_vms_named": lambda: containers_vs_vms(["clab-web", "clab-db"], ["ubuntu"]),
    "user_kernel_split": lambda: user_kernel_split(),
    "user_kernel_split_highlight": lambda: user_kernel_split("namespaces", ["openat", "read"]),
    "checklist": lambda: checklist([("ok", "engine", "docker 24"), ("skip", "gpu", "")], "Lab"),
}


def texts(diagram: Diagram) -> list[str]:
    """Every piece of visible text and tooltip, unescaped by the XML parser."""
    root = ET.fromstring(diagram.svg)
    return [el.text or "" for el in root.iter() if el.tag in (f"{NS}text", f"{NS}title")]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_diagram_is_deterministic(name: str) -> None:
    first, second = BUILDERS[name](), BUILDERS[name]()
    assert first.svg == second.svg
    assert first.summary == second.summary


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_diagram_is_well_formed_self_contained_svg(name: str) -> None:
    diagram = BUILDERS[name]()
    root = ET.fromstring(diagram.svg)
    assert root.tag == f"{NS}svg"
    width, height = float(root.get("width")), float(root.get("height"))
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert width > 0 and height > 0
    assert root[0].tag == f"{NS}title" and root[0].text
    assert "<style" not in diagram.svg and "href" not in diagram.svg
    assert "-0 " not in diagram.svg and '"-0"' not in diagram.svg


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_diagram_stays_inside_its_canvas(name: str) -> None:
    root = ET.fromstring(BUILDERS[name]().svg)
    width, height = float(root.get("width")), float(root.get("height"))
    for rect in root.iter(f"{NS}rect"):
        x, y = float(rect.get("x")), float(rect.get("y"))
        assert x >= 0 and x + float(rect.get("width")) <= width
        assert y >= 0 and y + float(rect.get("height")) <= height
    for text in root.iter(f"{NS}text"):
        assert 0 <= float(text.get("x")) <= width and 0 <= float(text.get("y")) <= height


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_diagram_mimebundle_is_short_and_complete(name: str) -> None:
    diagram = BUILDERS[name]()
    bundle = diagram._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "image/svg+xml", "text/html"}
    assert bundle["image/svg+xml"] == diagram.svg and bundle["text/html"] == diagram.html()
    plain = bundle["text/plain"]
    assert plain == str(diagram) and "<" not in plain
    assert len(plain) < 400 and len(plain.splitlines()) <= 6


def test_containers_vs_vms_shows_the_names_passed_in() -> None:
    d = containers_vs_vms(["clab-web", "clab-db", "cache"], ["ubuntu-vm", "fedora-vm"])
    shown = texts(d)
    for name in ("clab-web", "clab-db", "cache", "ubuntu-vm", "fedora-vm"):
        assert name in shown
        assert name in d.summary
    assert shown.count("guest kernel") == 2
    assert "Host Linux kernel: one, shared" in shown


def test_containers_vs_vms_escapes_labels() -> None:
    d = containers_vs_vms([NASTY], [NASTY], engine=NASTY)
    assert NASTY not in d.svg
    assert "a&lt;&amp;&quot;b" in d.svg
    assert NASTY in texts(d)


def test_containers_vs_vms_summarises_overflow_and_long_names() -> None:
    many = [f"clab-container-number-{i}" for i in range(7)]
    d = containers_vs_vms(many, [])
    shown = texts(d)
    assert "+4 more" in shown
    assert "no virtual machines" in shown
    assert all(name in d.summary for name in many)
    assert any(f"container {many[0]}" in t for t in shown)


def test_containers_vs_vms_with_no_containers() -> None:
    assert "no containers" in texts(containers_vs_vms([], ["vm"]))


def test_user_kernel_split_has_every_layer_of_the_talk() -> None:
    shown = " ".join(texts(user_kernel_split()))
    for word in ("Applications", "System components", "C standard library", "socket()",
                 "System call interface", "Process scheduling", "IPC", "Memory management",
                 "Virtual files", "Namespaces", "cgroups", "Hardware", "USER MODE",
                 "KERNEL MODE", "A container = app + libs"):
        assert word in shown, word


def test_user_kernel_split_shows_given_syscalls() -> None:
    d = user_kernel_split(syscalls=["openat", "clone3", "x<y"])
    shown = texts(d)
    assert {"openat", "clone3", "x<y"} <= set(shown)
    assert "System calls shown: openat, clone3, x<y." in d.summary


def test_user_kernel_split_overflowing_syscalls_are_counted() -> None:
    calls = [f"call_number_{i}" for i in range(20)]
    shown = texts(user_kernel_split(syscalls=calls))
    assert any(t.startswith("+") and t.endswith(" more") for t in shown)
    assert "call_number_0" in shown and "call_number_19" not in shown


def test_user_kernel_split_highlight_changes_the_picture() -> None:
    plain, lit = user_kernel_split(), user_kernel_split("cgroups")
    assert plain.svg != lit.svg
    assert "#db2777" in lit.svg and "#db2777" not in plain.svg
    assert "Highlighted: cgroups." in lit.summary


def test_user_kernel_split_rejects_unknown_layer() -> None:
    with pytest.raises(ValueError, match="namespaces"):
        user_kernel_split("bogus")


def test_checklist_rows_and_summary() -> None:
    items = [("ok", "Python", "3.11"), ("warn", "Engine", "permission denied on the socket"),
             ("fail", "cgroups v2", "not mounted"), ("skip", "GPU", "")]
    d = checklist(items, "Lab check")
    assert d.summary.splitlines() == ["Lab check", "Python: ok", "Engine: warn",
                                      "cgroups v2: fail", "GPU: skip"]
    shown = texts(d)
    for _, label, detail in items:
        assert label in shown
        if detail:
            assert detail in shown
    assert "1 ok  ·  1 warn  ·  1 fail  ·  1 skip" in shown


def test_checklist_wraps_long_details_and_grows() -> None:
    short = checklist([("ok", "a", "b")], "t")
    long = checklist([("ok", "a", "word " * 60)], "t")
    height = lambda d: float(ET.fromstring(d.svg).get("height"))  # noqa: E731
    assert height(long) > height(short)


def test_checklist_escapes_and_rejects_unknown_status() -> None:
    d = checklist([("ok", NASTY, NASTY)], NASTY)
    assert NASTY not in d.svg
    assert texts(d).count(NASTY) >= 3
    with pytest.raises(ValueError, match="maybe"):
        checklist([("maybe", "x", "")], "t")


def test_empty_checklist_renders() -> None:
    d = checklist([], "Nothing yet")
    assert "nothing to check" in texts(d)
    assert d.summary == "Nothing yet"


def test_containers_vs_vms_accepts_any_iterable_of_names() -> None:
    d = containers_vs_vms(iter(["one", "two"]), ("vm",))
    assert "2 container(s) (one, two)" in d.summary
