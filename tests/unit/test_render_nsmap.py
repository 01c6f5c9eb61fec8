"""The namespace map: deterministic, well-formed, escaped, all eight rows, and the right groups."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from containerlab.kernel.namespaces import NAMESPACE_TYPES, Namespaces, compare_namespaces
from containerlab.render.nsmap import HOSTS, OWN, REFERENCE, SHARED, UNCOMPARED, UNKNOWN, namespace_cells, namespace_map

NS = "{http://www.w3.org/2000/svg}"
HOST = {"pid": 4026531836, "net": 4026531833, "ipc": 4026531839, "mnt": 4026531832,
        "uts": 4026531838, "user": 4026531837, "cgroup": 4026531835, "time": 4026531834}
NASTY = 'a<&"b'


def ns(**changes: int | None) -> Namespaces:
    """Namespaces like the host's, with some types changed."""
    return Namespaces(pid=0, inodes={**HOST, **changes})


def own_five(base: int) -> dict[str, int]:
    return {t: base + i for i, t in enumerate(("pid", "net", "ipc", "mnt", "uts"))}


@pytest.fixture
def lab_like():
    """host; web (default); side (--network=container:web); pidhost (--pid=host); blind (unreadable)."""
    return compare_namespaces({
        "host": ns(),
        "web": ns(**own_five(4026532100)),
        "side": ns(**{**own_five(4026532200), "net": 4026532101}),
        "pidhost": ns(**{**own_five(4026532300), "pid": HOST["pid"]}),
        "blind": Namespaces(pid=0, inodes=dict.fromkeys(NAMESPACE_TYPES)),
    })


def kinds(comparison, name: str) -> dict[str, str]:
    column = comparison.names.index(name)
    return {row[column].ns_type: row[column].kind for row in namespace_cells(comparison)}


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [el.text or "" for el in root.iter() if el.tag in (f"{NS}text", f"{NS}title")]


def test_groups_for_own_shared_with_host_and_shared_with_another_container(lab_like):
    assert set(kinds(lab_like, "host").values()) == {REFERENCE}
    web = kinds(lab_like, "web")
    assert [t for t, k in web.items() if k == OWN] == ["pid", "ipc", "mnt", "uts"]
    assert web["net"] == SHARED
    assert [t for t, k in web.items() if k == HOSTS] == ["user", "cgroup", "time"]
    side = kinds(lab_like, "side")
    assert side["net"] == SHARED and side["pid"] == OWN
    pidhost = kinds(lab_like, "pidhost")
    assert pidhost["pid"] == HOSTS and pidhost["net"] == OWN
    assert set(kinds(lab_like, "blind").values()) == {UNKNOWN}


def test_letters_name_namespaces_within_a_row(lab_like):
    rows = {row[0].ns_type: {cell.name: cell for cell in row} for row in namespace_cells(lab_like)}
    net = rows["net"]
    assert net["web"].letter == net["side"].letter != net["host"].letter
    assert net["web"].partners == ("side",) and net["web"].caption == "with side"
    assert rows["pid"]["pidhost"].letter == rows["pid"]["host"].letter == "A"
    assert rows["pid"]["pidhost"].caption == "host's"
    assert rows["user"]["blind"].letter == "?" and rows["user"]["blind"].caption == "unknown"
    assert len({cell.letter for cell in rows["mnt"].values()}) == 5


def test_unknown_reference_is_not_called_own():
    comparison = compare_namespaces({"host": ns(net=None), "box": ns(net=7, pid=8)})
    cells = {row[0].ns_type: row[1] for row in namespace_cells(comparison)}
    assert cells["net"].kind == UNCOMPARED and cells["net"].caption == "? vs host"
    assert cells["pid"].kind == OWN
    d = namespace_map(comparison)
    assert "? vs host net" in d.summary
    assert any(t.startswith("? vs host: known") for t in texts(d.svg))


def test_three_way_sharing_counts_the_others():
    comparison = compare_namespaces({"host": ns(), "a": ns(net=9), "b": ns(net=9), "c": ns(net=9)})
    net = namespace_cells(comparison)[NAMESPACE_TYPES.index("net")]
    assert net[1].caption == "with b +1"


def test_map_is_deterministic_and_has_all_eight_rows_in_order(lab_like):
    first, second = namespace_map(lab_like), namespace_map(lab_like)
    assert first.svg == second.svg and first.summary == second.summary
    shown = texts(first.svg)
    positions = [shown.index(t) for t in NAMESPACE_TYPES]
    assert positions == sorted(positions)
    assert NAMESPACE_TYPES[:5] == ("pid", "net", "ipc", "mnt", "uts")


def test_map_is_well_formed_and_stays_inside_its_canvas(lab_like):
    d = namespace_map(lab_like, notes={"side": "--network=container:web", "pidhost": "--pid=host"})
    root = ET.fromstring(d.svg)
    assert root.tag == f"{NS}svg" and root[0].tag == f"{NS}title"
    width, height = float(root.get("width")), float(root.get("height"))
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    for rect in root.iter(f"{NS}rect"):
        assert float(rect.get("x")) >= 0 and float(rect.get("x")) + float(rect.get("width")) <= width
        assert float(rect.get("y")) >= 0 and float(rect.get("y")) + float(rect.get("height")) <= height
    for text in root.iter(f"{NS}text"):
        assert 0 <= float(text.get("x")) <= width and 0 <= float(text.get("y")) <= height
    assert "<style" not in d.svg and "href" not in d.svg


def test_map_never_shows_inode_numbers(lab_like):
    d = namespace_map(lab_like)
    for inode in HOST.values():
        assert str(inode) not in d.svg and str(inode) not in d.summary
    assert "4026532" not in d.svg


def test_same_sharing_with_other_inodes_draws_the_same_map(lab_like):
    shifted = compare_namespaces({
        name: Namespaces(pid=0, inodes={t: (i + 17 if i else None) for t, i in n.inodes.items()})
        for name, n in lab_like.namespaces.items()
    })
    assert namespace_map(shifted).svg == namespace_map(lab_like).svg


def test_summary_is_short_stable_and_plain(lab_like):
    d = namespace_map(lab_like, title="Lab")
    lines = d.summary.splitlines()
    assert lines[0] == "Lab: host vs web, side, pidhost, blind"
    assert "web: own pid ipc mnt uts; host's user cgroup time; net with side" in lines
    assert "pidhost: own net ipc mnt uts; host's pid user cgroup time" in lines
    assert "blind: unknown pid net ipc mnt uts user cgroup time" in lines
    assert "<" not in d.summary and len(lines) <= 8


def test_ten_containers_fit_and_summary_is_capped():
    many = {"host": ns(), **{f"c{i}": ns(**own_five(4026533000 + 10 * i)) for i in range(10)}}
    d = namespace_map(compare_namespaces(many))
    assert len(d.summary.splitlines()) == 8 and d.summary.endswith("and 4 more")
    shown = texts(d.svg)
    assert all(f"c{i}" in shown for i in range(10))


def test_names_notes_and_title_are_escaped():
    comparison = compare_namespaces({"host": ns(), NASTY: ns(pid=5)})
    d = namespace_map(comparison, title=NASTY, notes={NASTY: NASTY})
    assert NASTY not in d.svg and "a&lt;&amp;&quot;b" in d.svg
    assert texts(d.svg).count(NASTY) >= 3


def test_long_names_and_notes_are_shortened_not_overflowing():
    long_name = "clab-someone-02-namespaces-a-very-long-container-name"
    d = namespace_map(compare_namespaces({"host": ns(), long_name: ns(pid=5)}),
                      notes={long_name: "--pid=host --uts=host --ipc=host --network=container:web"})
    shown = texts(d.svg)
    assert long_name not in shown and any("…" in t for t in shown)
    assert any(t.startswith(f"{long_name}: --pid=host") for t in shown)  # the tooltip keeps it all


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="nothing to draw"):
        namespace_map(compare_namespaces({}))
    with pytest.raises(ValueError, match="ghost"):
        namespace_map(compare_namespaces({"host": ns()}), notes={"ghost": "x"})


def test_a_single_column_draws(lab_like):
    d = namespace_map(compare_namespaces({"notebook": ns()}))
    assert d.summary == "Namespace map: notebook only"
    assert texts(d.svg).count("A") == 8
