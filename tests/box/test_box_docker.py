"""The course box on Docker: built from this clone with no registry, every notebook strictly validated inside it
against the same stored notebooks, `doctor` inside saying the course runs as on a Linux host as root, and nothing
left on the host once it is removed with its volumes (the module's box fixture checks that at teardown)."""

from __future__ import annotations

import ipaddress
import json
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from box_support import NOTEBOOKS, box_name, leftovers, nbval_in_box

from containerlab.engine import box as boxes

pytestmark = pytest.mark.slow


def test_box_image_is_built_offline_and_keeps_no_wheel(box_image):
    found = subprocess.run(["docker", "run", "--rm", "--network=none", "--entrypoint=sh", box_image, "-c",
                            "find / -xdev -name '*.whl' -not -path '/usr/share/python-wheels/*'; "
                            "ls /opt/containerlab/images; python -m pip --version || true"],
                           capture_output=True, text=True, timeout=120)
    lines = found.stdout.split()
    assert lines[0] == boxes.ENGINE_SEED, found.stdout  # no wheel anywhere; the lab images carried, loaded
    assert "No module named pip" in found.stderr
    history = subprocess.run(["docker", "history", "--no-trunc", "--format", "{{.CreatedBy}}", box_image],
                             capture_output=True, text=True).stdout
    assert "wheels" not in history  # the wheels were only ever in the build stage, never in the image's layers


def test_doctor_inside_the_box_says_it_runs_as_on_a_linux_host(docker_box):
    done = docker_box.exec(["containerlab", "doctor"], timeout=120)
    text = done.stdout.decode()
    assert done.returncode == 0, text
    assert "inside the course box, as root with its own engine" in text
    assert "The course can run on this machine." in text


def test_jupyterlab_is_published_on_loopback_only_and_wants_its_token(docker_box):
    published = subprocess.run(["docker", "port", docker_box.name], capture_output=True, text=True).stdout.split()
    assert published and all(item.startswith("127.0.0.1:") for item in published if ":" in item), published
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{docker_box.port}/api/contents", timeout=10)
    assert refused.value.code == 403
    with urllib.request.urlopen(f"http://127.0.0.1:{docker_box.port}/api/contents?token={docker_box.token}",
                                timeout=10) as answer:
        assert answer.status == 200 and b"00-lab-check.ipynb" in answer.read()


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_passes_strict_nbval_inside_the_box(docker_box, notebook):
    done = nbval_in_box(docker_box, [notebook])
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout.splitlines()[-1]


def test_workshop_pack_carries_the_box_image(box_image, lab_images, tmp_path):
    from containerlab.engine.workshop_pack import build_pack
    from containerlab.workshop.pack import read_manifest

    pack = tmp_path / "workshop.clab.tgz"
    build_pack(lab_images, pack, wheels=False, box=True, progress=lambda line: None)
    manifest = read_manifest(pack)
    assert box_image in manifest.images
    assert f"images/{box_image.replace('/', '_')}.tar" in manifest.files


def _docker(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=300)


def _course_network(name: str, wanted: list[str], labels: dict[str, str]) -> str:
    """A bridge network on the first of ``wanted`` no other network holds; its subnet."""
    for subnet in wanted:
        made = _docker("network", "create", f"--subnet={subnet}", *[f"--label={k}={v}" for k, v in labels.items()],
                       name)
        if made.returncode == 0:
            return subnet
        assert "overlap" in made.stderr, made.stderr
    raise AssertionError(f"every subnet of {wanted} is taken on this engine")


def test_a_box_on_networks_with_the_subnets_its_engine_would_take_still_answers(box_image):
    """A box on a host network that shares a subnet with its nested engine's bridge owns the gateway's address on
    that bridge, so it answers no one: the image's engine seed kept docker0 on 172.18.0.0/16, the first network a
    fresh host engine hands out, and a hub's attendee there waited 120 s for a server that ran (CI, session 5). The
    entrypoint now gives the nested engine a /16 none of the box's networks overlaps: here 172.18.0.0/16 and
    10.213.0.0/16 (the first it would try) are the box's, so it must take another, and answer on both."""
    name = box_name("subnets")
    labels = {boxes.LABEL_BOX: name}
    networks = {f"{name}-a": ["172.18.0.0/16"] + [f"172.{n}.0.0/16" for n in range(19, 32)],
                f"{name}-b": ["10.213.0.0/16"]}
    for network in networks:
        _docker("network", "rm", network)
    boxes.remove_box("docker", name, volumes=True)
    box_id = ""
    try:
        subnets = [_course_network(network, wanted, labels) for network, wanted in networks.items()]
        refused = []
        for form in boxes.FORMS:  # create, connect the second network, start (one --network per run before 25.0)
            argv = boxes.run_argv("docker", form, name=name, image=box_image, port=None, labels=labels)
            created = _docker("create", f"--network={next(iter(networks))}", *argv[3:])
            if created.returncode == 0:
                box_id = created.stdout.strip()
                connected = _docker("network", "connect", list(networks)[1], name)
                assert connected.returncode == 0, connected.stderr
                started = _docker("start", name)
                if started.returncode == 0:
                    break
            refused.append(f"{form}: {(created.stderr or started.stderr).strip()}")
            boxes.remove_box("docker", name, volumes=True)
        else:
            raise AssertionError(f"the engine started the box in no form: {refused}")
        waited = _docker("exec", name, "containerlab-box", "wait", "180")
        assert waited.returncode == 0, waited.stderr
        addresses = json.loads(_docker("exec", name, "ip", "-4", "-json", "addr", "show").stdout)
        nested = [ipaddress.ip_interface(f"{a['local']}/{a['prefixlen']}").network
                  for link in addresses if link["ifname"] == "docker0" for a in link["addr_info"]]
        assert nested and not any(net.overlaps(ipaddress.ip_network(own)) for net in nested for own in subnets), \
            (nested, subnets)
        lesson_network = _docker("exec", name, "docker", "network", "create", "lesson")
        assert lesson_network.returncode == 0, lesson_network.stderr
        made = _docker("exec", name, "docker", "network", "inspect", "lesson", "--format",
                       "{{range .IPAM.Config}}{{.Subnet}}{{end}}").stdout.strip()
        assert not any(ipaddress.ip_network(made).overlaps(ipaddress.ip_network(own)) for own in subnets), made
        ips = [network["IPAddress"] for network in json.loads(_docker("inspect", name).stdout)[0]
               ["NetworkSettings"]["Networks"].values()]
        assert len(ips) == 2, ips
        for ip in ips:  # what the hub does: ask the server at the box's address on the attendee's network
            deadline, answer = time.monotonic() + 90, None
            while answer is None and time.monotonic() < deadline:
                try:
                    with urllib.request.urlopen(f"http://{ip}:8888/api", timeout=5) as response:
                        answer = response.status
                except (urllib.error.URLError, OSError):
                    time.sleep(1)
            assert answer == 200, f"the box at {ip} never answered ({subnets}; its docker0: {nested})"
    finally:
        boxes.remove_box("docker", name, volumes=True)
        for network in networks:
            _docker("network", "rm", network)
    assert leftovers("docker", name, box_id) == []
