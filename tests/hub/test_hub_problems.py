"""What goes wrong in a room, and what the attendee and the instructor see: a box that cannot start says why in one
line on the attendee's page (never a spinner forever), idle servers are culled, bad hub settings are refused."""

from __future__ import annotations

import time

import pytest

from containerlab.engine import hub

pytestmark = [pytest.mark.slow]


def _failed_spawn(made, name: str) -> tuple[str, str]:
    """Log in, ask for a server, follow the progress events to the end; (the last event's message, the page)."""
    user = made.login(name)
    started = time.monotonic()
    answer = user.start_server()
    if answer.status_code >= 400:  # it failed within the hub's first seconds: the request itself says why
        assert answer.status_code == 500 and "\n" not in answer.json()["message"], answer.text
    else:
        assert answer.status_code == 202, answer.text
    events = user.progress(timeout=420)
    elapsed = time.monotonic() - started
    assert events and events[-1].get("failed"), events[-3:]
    assert elapsed < 400, "the page would have spun until the hub's own timeout"
    page = user.session.get(made.base + f"hub/spawn-pending/{user.quoted}", timeout=30).text
    return events[-1]["message"], page


def test_a_missing_box_image_is_one_line_on_the_attendees_page(start_test_hub):
    made = start_test_hub("noimage", extra=["--CourseBoxSpawner.image=containerlab/no-such-box"])
    message, page = _failed_spawn(made, "erin")
    assert "\n" not in message and len(message) < 400, message
    assert "containerlab/no-such-box is not on this server" in message and "./lab hub build" in message
    assert "is not on this server" in page
    assert "pulling" not in made.log().lower(), "the hub never pulls"


def test_a_box_whose_engine_fails_says_why(start_test_hub):
    made = start_test_hub("noengine", extra=[
        "--CourseBoxSpawner.environment=CONTAINERLAB_BOX_DOCKERD_ARGS=--storage-driver=no-such-driver"])
    message, page = _failed_spawn(made, "frank")
    assert "\n" not in message and len(message) < 400, message
    assert message.startswith("Spawn failed: The box's Docker engine did not start"), message
    assert "graphdriver" in message  # the nested dockerd's own words
    assert "did not start" in page
    assert hub.hub_objects(made.settings)["containers"] == [], "a failed box is removed"


def test_a_box_whose_server_never_answers_leaves_its_last_lines_in_the_hub_log(start_test_hub):
    """The hub removes a box whose server did not answer in time, and with it the box's log: its last lines are kept
    in the hub's log, where the instructor looks. Here the server listens on another port than the hub polls."""
    made = start_test_hub("noanswer", extra=["--CourseBoxSpawner.environment=JUPYTER_PORT=8899",
                                             "--CourseBoxSpawner.http_timeout=30"])
    _failed_spawn(made, "hank")
    log = made.log()
    assert "never showed up" in log, made.log_tail()
    kept = log.split("stops before its server answered; its last lines:", 1)
    assert len(kept) == 2, made.log_tail()
    assert "[containerlab-box]" in kept[1] or ":8899/" in kept[1], made.log_tail()
    assert hub.hub_objects(made.settings)["containers"] == [], "the box is removed all the same"


def test_idle_servers_are_culled(start_test_hub):
    """jupyterhub-idle-culler stops a server nobody uses; the instructor sees it stopped."""
    made = start_test_hub("cull", idle_timeout=20)
    grace = made.login("gina")
    assert grace.wait_ready().get("ready")
    admin = made.login_admin()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if not admin.api("GET", f"users/{grace.quoted}").json().get("servers"):
            break
        time.sleep(2)
    else:
        pytest.fail("the idle server was not culled within 120 s")
    assert "idle-culler" in made.log() and "Culling server" in made.log()
    assert hub.hub_objects(made.settings)["containers"] == []
