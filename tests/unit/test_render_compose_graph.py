"""The compose graph: deterministic, well-formed, escaped SVG that shows every part of the model,
services on two networks drawn in the overlap of both, and a live status overlay."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from containerlab.compose import ComposeProject, load_compose, load_compose_file
from containerlab.render.compose_graph import STATUSES, compose_graph
from containerlab.render.compose_layout import BOX_WIDTH, layout_compose
from containerlab.render.svg import PALETTE, Diagram

NS = "{http://www.w3.org/2000/svg}"
FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "compose"
LEGEND_ARROWS = 3


def fixture(name: str) -> ComposeProject:
    return load_compose_file(FIXTURES / name / "compose.yaml", environ={})


PROJECTS = {
    "three-tier": lambda: fixture("three-tier"),
    "workspaces": lambda: fixture("workspaces"),
    "shop": lambda: fixture("shop"),
    "platform": lambda: fixture("platform"),
    "minimal": lambda: load_compose("services:\n  only:\n    image: busybox\n", environ={}),
    "network-mode": lambda: load_compose(
        "services:\n  vpn:\n    image: a\n  app:\n    image: b\n    network_mode: 'service:vpn'\n"
        "  tool:\n    image: c\n    network_mode: none\nvolumes:\n  spare: {}\n", environ={}),
}


def root_of(diagram: Diagram) -> ET.Element:
    return ET.fromstring(diagram.svg)


def texts(diagram: Diagram) -> list[str]:
    return [el.text or "" for el in root_of(diagram).iter(f"{NS}text")]


def group(diagram: Diagram, title_start: str) -> ET.Element:
    """The <g> whose tooltip starts with ``title_start``."""
    for element in root_of(diagram).iter(f"{NS}g"):
        title = element.find(f"{NS}title")
        if title is not None and (title.text or "").startswith(title_start):
            return element
    raise AssertionError(f"no group titled {title_start!r}")


def box(diagram: Diagram, service: str) -> tuple[float, float, float, float]:
    """x, y, width, height of a service's box (not its replica shadows)."""
    rects = [r for r in group(diagram, f"service {service};").findall(f"{NS}rect") if r.get("width") == "188"]
    main = min(rects, key=lambda r: float(r.get("x")))
    return tuple(float(main.get(k)) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]


def band(diagram: Diagram, network: str) -> tuple[float, float]:
    """Top and bottom of a network's band."""
    rect = group(diagram, f"network {network}").find(f"{NS}rect")
    top = float(rect.get("y"))
    return top, top + float(rect.get("height"))


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_graph_is_deterministic(name: str) -> None:
    first, second = compose_graph(PROJECTS[name]()), compose_graph(PROJECTS[name]())
    assert first.svg == second.svg
    assert first.summary == second.summary
    status = {service: STATUSES[i % len(STATUSES)] for i, service in enumerate(PROJECTS[name]().services)}
    assert compose_graph(PROJECTS[name](), status).svg == compose_graph(PROJECTS[name](), dict(status)).svg


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_graph_is_well_formed_self_contained_svg(name: str) -> None:
    diagram = compose_graph(PROJECTS[name](), title="graph")
    root = root_of(diagram)
    assert root.tag == f"{NS}svg"
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert root[0].tag == f"{NS}title" and root[0].text == "graph"
    assert "<style" not in diagram.svg and "href" not in diagram.svg
    assert "-0 " not in diagram.svg and '"-0"' not in diagram.svg and "nan" not in diagram.svg


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_graph_stays_inside_its_canvas(name: str) -> None:
    project = PROJECTS[name]()
    root = root_of(compose_graph(project, dict.fromkeys(project.services, "running")))
    width, height = float(root.get("width")), float(root.get("height"))
    for rect in root.iter(f"{NS}rect"):
        x, y = float(rect.get("x")), float(rect.get("y"))
        assert x >= 0 and x + float(rect.get("width")) <= width
        assert y >= 0 and y + float(rect.get("height")) <= height
    for text in root.iter(f"{NS}text"):
        assert 0 <= float(text.get("x")) <= width and 0 <= float(text.get("y")) <= height


def test_every_part_of_the_model_is_drawn() -> None:
    diagram = compose_graph(fixture("shop"))
    shown = texts(diagram)
    for service in fixture("shop").services:
        assert service in shown
    for network in ("edge", "frontend", "backend", "monitoring"):
        assert network in shown
    for volume in ("uploads", "db-data", "queue-data", "search-data", "metrics-data", "backups"):
        assert volume in shown
    for port in ("127.0.0.1:8080→80", "127.0.0.1:8443→443", "127.0.0.1:9000→9000", "127.0.0.1:9090→9090",
                 "0.0.0.0:3000→3000"):
        assert port in shown
    assert "build ./storefront" in shown
    assert "×3" in shown
    assert "internal: no way out" in shown
    assert "external · 1 user" in shown
    assert "also on: monitoring" in shown
    assert "profile debug" in shown
    assert shown.count("healthcheck") == sum(s.has_healthcheck for s in fixture("shop").services.values()) == 4
    assert "…0.0.1:5000/shop/api:1.4.2" in shown  # long image names keep their tail


def test_builds_are_noted() -> None:
    shown = texts(compose_graph(fixture("workspaces")))
    assert {"build ce/Dockerfile", "build factory/Dockerfile", "build frontend/Dockerfile"} <= set(shown)
    assert "…lab/factory-workspace:lab" in shown


def test_dependency_arrows_are_labelled_with_their_condition() -> None:
    project = fixture("shop")
    diagram = compose_graph(project)
    arrows = [p for p in root_of(diagram).iter(f"{NS}path") if p.get("marker-end")]
    assert len(arrows) == len(project.dependency_edges()) + LEGEND_ARROWS
    short = {"service_started": "started", "service_healthy": "healthy",
             "service_completed_successfully": "completed"}
    expected = [short[d.condition] + ("" if d.required else " (optional)")
                for s in project.services.values() for d in s.depends_on]
    labels = [t.text for t in root_of(diagram).iter(f"{NS}text") if t.get("font-size") == "9.5"
              and t.text in set(expected)]
    assert sorted(labels) == sorted(expected)
    assert expected.count("healthy") == 5 and "started (optional)" in expected
    assert group(diagram, "api waits for db (service_healthy)") is not None
    completed = group(diagram, "api waits for migrate (service_completed_successfully)")
    assert completed.findall(f"{NS}path")[-1].get("stroke") == PALETTE.vm.stroke
    optional = group(diagram, "api waits for search (service_started)")
    assert optional.findall(f"{NS}path")[-1].get("stroke-dasharray")


def test_dependents_sit_left_of_what_they_wait_for() -> None:
    layout = layout_compose(fixture("shop"))
    for dependent, dependency in [("proxy", "api"), ("api", "db"), ("worker", "queue"), ("migrate", "db"),
                                  ("dashboards", "metrics")]:
        assert layout.boxes[dependent].x + BOX_WIDTH < layout.boxes[dependency].x


def test_services_sit_in_their_network_and_bridges_in_the_overlap() -> None:
    layout = layout_compose(fixture("shop"))
    bands = {name: (top, bottom) for name, top, bottom, _ in layout.bands if name}
    inside = {"db": "backend", "storefront": "frontend", "dashboards": "monitoring", "log-shipper": "edge"}
    for service, network in inside.items():
        y = layout.boxes[service].y
        top, bottom = bands[network]
        assert top < y and y + layout.box_h < bottom, service
    overlaps = {layout.networks[index]: (top, bottom) for index, top, bottom in layout.overlaps}
    for service, (upper, lower) in {"proxy": ("edge", "frontend"), "api": ("frontend", "backend"),
                                    "metrics": ("backend", "monitoring")}.items():
        y = layout.boxes[service].y
        o_top, o_bottom = overlaps[upper]
        assert layout.networks[layout.networks.index(upper) + 1] == lower
        assert o_top < y and y + layout.box_h < o_bottom, service
        assert bands[lower][0] < y and y + layout.box_h < bands[upper][1], service


def test_the_picture_draws_each_box_where_the_layout_puts_it() -> None:
    project = fixture("shop")
    layout, diagram = layout_compose(project), compose_graph(project)
    for name, placed in layout.boxes.items():
        x, y, width, height = box(diagram, name)
        assert (x, y, width, height) == (placed.x, placed.y, BOX_WIDTH, layout.box_h), name
    for name, top, bottom, _ in layout.bands:
        if name:
            assert band(diagram, name) == (top, bottom), name


def test_volumes_are_cylinders_joined_to_their_users() -> None:
    project = fixture("three-tier")
    diagram = compose_graph(project)
    volume = group(diagram, "volume notes-data")
    assert "mounted by web:/srv/www (ro), worker:/data, store:/data" in volume.find(f"{NS}title").text
    mount_lines = [p for p in root_of(diagram).iter(f"{NS}path")
                   if p.get("stroke") == PALETTE.shared.stroke and p.get("stroke-dasharray")
                   and not p.get("marker-end") and p.get("fill") == "none"]
    assert len(mount_lines) == 3 + 1  # three users, and the legend sample


def test_public_ports_are_flagged() -> None:
    diagram = compose_graph(fixture("shop"))
    tag = group(diagram, "service dashboards;")
    rects = [r for r in tag.findall(f"{NS}rect") if r.get("stroke") == "#dc2626"]
    assert rects and rects[0].get("stroke-dasharray")
    assert "1 published beyond 127.0.0.1" in diagram.summary
    loopback_only = compose_graph(fixture("three-tier"))
    assert "published beyond" not in loopback_only.summary


def test_status_overlay_colours_and_badges() -> None:
    project = fixture("three-tier")
    plain = compose_graph(project)
    live = compose_graph(project, {"web": "running", "store": "healthy", "worker": "exited"})
    assert plain.svg != live.svg
    shown = texts(live)
    assert "● running" in shown and "✓ healthy" in shown and "■ exited" in shown
    assert not any(t.endswith(("running", "healthy", "exited")) and t[0] in "●✓■" for t in texts(plain))
    web = group(live, "service web;")
    assert web.find(f"{NS}title").text.startswith("service web; status running")
    assert any(r.get("stroke") == PALETTE.ok and r.get("stroke-width") == "2.5" for r in web.findall(f"{NS}rect"))
    worker = group(live, "service worker;")
    assert any(r.get("fill") == "#f3f4f6" for r in worker.findall(f"{NS}rect"))
    assert "running / healthy" in shown and "running / healthy" not in texts(plain)
    assert live.summary.endswith("status: web running, worker exited, store healthy.")  # file order


def test_every_status_value_is_drawn_and_bad_ones_are_refused() -> None:
    project = fixture("three-tier")
    for state in STATUSES:
        assert any(t.endswith(state) for t in texts(compose_graph(project, {"store": state})))
    with pytest.raises(ValueError, match="up"):
        compose_graph(project, {"store": "up"})
    assert compose_graph(project, {"ghost": "running"}).svg == compose_graph(project).svg


def test_text_is_escaped() -> None:
    nasty = 'img<&"\'>:1'
    project = load_compose(f"services:\n  web:\n    image: '{nasty.replace(chr(39), chr(39) * 2)}'\n"
                           "    labels: {a: b}\n", environ={})
    diagram = compose_graph(project, title='A <"&"> title')
    assert nasty in texts(diagram)
    assert root_of(diagram)[0].text == 'A <"&"> title'
    assert f"image {nasty}" in group(diagram, "service web;").find(f"{NS}title").text


def test_network_mode_services_and_unused_volumes() -> None:
    diagram = compose_graph(PROJECTS["network-mode"]())
    shown = texts(diagram)
    assert "network_mode" in shown and "no project network:" in shown
    assert "net service:vpn" in shown and "net none" in shown
    assert "local · unused" in shown
    assert group(diagram, "network default") is not None
    assert group(diagram, "services with network_mode") is not None


def test_summary_is_short_and_stable() -> None:
    assert compose_graph(fixture("workspaces")).summary == (
        "Compose project testbed: 3 services (ce, factory, frontend); 1 network (testbed); "
        "2 volumes (tokens, shared-src); 2 dependencies; ports: frontend 127.0.0.1:8443→443.")
    summary = compose_graph(fixture("platform")).summary
    assert summary.startswith("Compose project platform: 30 services (") and "+22 more" in summary
    assert "\n" not in summary


def test_diagram_protocol() -> None:
    diagram = compose_graph(fixture("three-tier"))
    bundle = diagram._repr_mimebundle_()
    assert {"text/plain", "image/svg+xml"} <= set(bundle)
    assert bundle["image/svg+xml"] == diagram.svg
    assert repr(diagram).startswith("<Diagram: Compose project notes: 3 services")


def test_thirty_services_render() -> None:
    project = fixture("platform")
    diagram = compose_graph(project, dict.fromkeys(project.services, "healthy"))
    assert len([t for t in texts(diagram) if t == "✓ healthy"]) == 30
