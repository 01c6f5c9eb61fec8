"""`compose up` read down to its milestones: recorded outputs of lesson 09's test bed, Docker Compose v2 (BuildKit)
and podman-compose (Podman's builder), each shortened to one line per image, network, volume and container."""

from pathlib import Path

from containerlab.engine.compose import Milestones

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "compose-up"


def milestones(log: str, project: str) -> list[str]:
    said: list[str] = []
    reader = Milestones(project, progress=said.append)
    for line in (FIXTURES / log).read_text().splitlines():
        reader(line)
    return said


def test_docker_compose_up_in_milestones():
    assert milestones("docker-testbed.log", "clab-root-09-workspaces-testbed") == [
        "image ce built: 4 of 4 steps from the cache", "image factory built: 4 of 4 steps from the cache",
        "image frontend built: 4 of 4 steps from the cache", "network testbed created", "volume tokens created",
        "container ce-1 started", "container ce-1 healthy", "container factory-1 started",
        "container factory-1 healthy", "container frontend-1 started", "container frontend-1 healthy"]


def test_podman_compose_up_in_milestones():
    assert milestones("podman-testbed.log", "clab-lessmrec-09-workspaces-testbed") == [
        "image ce built: 0 of 5 steps from the cache", "container ce-1 started",
        "image factory built: 1 of 5 steps from the cache", "container factory-1 started",
        "image frontend built: 1 of 5 steps from the cache", "container frontend-1 started"]


def test_a_shown_command_passes_and_a_repeated_milestone_is_said_once():
    said: list[str] = []
    reader = Milestones("p", progress=said.append)
    for line in ["$ docker compose up -d", " Container p-web-1  Started", " Container p-web-1  Started",
                 " Container p-web-1  Created", "time=... level=warning msg=noise"]:
        reader(line)
    assert said == ["$ docker compose up -d", "container web-1 started"]
