"""A room of four attendees on one hub: log in through the hub, get a course box each, run lessons 00, 02 and 03 in
all four at once through each attendee's Jupyter server, stay apart from each other, keep their work across
restarts, and leave nothing behind. One hub for the module (starting four boxes is the slow part)."""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import leftovers, remote_env
from hub_client import HubUser, KernelSession, LoginRefused

from containerlab.engine import hub

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]
NOTEBOOKS = [ROOT / "notebooks" / name for name in ("00-lab-check.ipynb", "02-namespaces.ipynb", "03-cgroups.ipynb")]
# One attendee's name with characters no container name may carry.
ODD_NAME = "zoë o'brien+lab"
ATTENDEES = ["alice", "bob", "carol", ODD_NAME]
CPUS, MEMORY, PIDS = 1.0, "2g", 2048
RUNNER = r"""
import json, sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
sys.path.insert(0, sys.argv[1])
from course_runs import run_problems
report = {}
for path in map(Path, sys.argv[2:]):
    notebook = nbformat.read(path, as_version=4)
    try:
        NotebookClient(notebook, timeout=600, kernel_name="hub-remote", startup_timeout=180).execute()
        report[path.name] = run_problems(notebook)
    except CellExecutionError as err:
        report[path.name] = [str(err)[-2000:]]
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def room(start_test_hub):
    """A hub with four attendees logged in and their boxes started (at once, as a room does)."""
    made = start_test_hub("room", cpus=CPUS, memory=MEMORY, pids=PIDS)
    users = {name: made.login(name) for name in ATTENDEES}
    with ThreadPoolExecutor(len(users)) as pool:
        ready = dict(zip(users, pool.map(lambda user: user.wait_ready(), users.values())))
    assert all(event.get("ready") for event in ready.values()), f"{ready}\n{made.log_tail()}"
    start_test_hub.seen_boxes[made.settings.prefix].update(made.box_ids().values())
    return made, users


def _kernel_ids(user: HubUser) -> list[str]:
    return [kernel["id"] for kernel in user.server("GET", "api/kernels").json()]


def _box_name(made, user: HubUser) -> str:
    found = subprocess.run(["docker", "ps", "--format", "{{.Names}}", f"--filter=label={hub.LABEL_HUB}="
                            f"{made.settings.prefix}", f"--filter=label={hub.LABEL_HUB_USER}={user.name}"],
                           capture_output=True, text=True).stdout.split()
    assert len(found) == 1, found
    return found[0]


def _inspect(name: str) -> dict:
    return json.loads(subprocess.run(["docker", "inspect", name], capture_output=True, text=True).stdout)[0]


def test_wrong_password_is_refused(room):
    made, _ = room
    with pytest.raises(LoginRefused):
        HubUser.login(made.base, "mallory", "not-the-room-password")
    with pytest.raises(LoginRefused):  # the room's password does not make anyone the instructor
        HubUser.login(made.base, made.settings.admin, made.secrets.password)
    assert made.login_admin().api("GET", "users").status_code == 200


def test_four_attendees_run_lessons_00_02_03_at_once(room, remote_kernels):
    """Every cell of 00, 02 and 03 runs without error, skip or LabError in all four boxes at the same time."""
    _made, users = room
    here = str(ROOT / "tests" / "system")
    runs = {name: subprocess.Popen([sys.executable, "-c", RUNNER, here, *map(str, NOTEBOOKS)],
                                   env=remote_env(user, remote_kernels), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
            for name, user in users.items()}
    problems = {}
    for name, run in runs.items():
        stdout, stderr = run.communicate(timeout=1500)
        lines = stdout.strip().splitlines()
        if run.returncode != 0 or not lines:
            problems[name] = f"runner failed ({run.returncode}): {stderr[-1500:]}"
            continue
        found = {notebook: issues for notebook, issues in json.loads(lines[-1]).items() if issues}
        if found:
            problems[name] = found
    for user in users.values():  # the runner's kernels end with it; the server may still list them
        for kernel in _kernel_ids(user):
            user.server("DELETE", f"api/kernels/{kernel}")
    assert problems == {}


def test_one_attendee_passes_strict_nbval_through_the_hub(room, remote_kernels):
    """Alone on the machine, one attendee's box gives the stored outputs of 00, 02 and 03 (strict nbval, the
    course's sanitize file), run cell by cell through the hub and the attendee's Jupyter server."""
    _, users = room
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "-q",
                           "--nbval", "--nbval-kernel-name=hub-remote", "--nbval-sanitize-with",
                           str(ROOT / "tests" / "sanitize.cfg"), *map(str, NOTEBOOKS)],
                          env=remote_env(users["alice"], remote_kernels), capture_output=True, text=True,
                          timeout=1200, cwd=ROOT)
    for kernel in _kernel_ids(users["alice"]):
        users["alice"].server("DELETE", f"api/kernels/{kernel}")
    assert done.returncode == 0, done.stdout[-4000:]


def test_odd_names_get_safe_container_names(room):
    made, users = room
    user = users[ODD_NAME]
    name = _box_name(made, user)
    assert re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name), name
    assert name.startswith(made.settings.prefix + "-box-") and "'" not in name and " " not in name
    labels = _inspect(name)["Config"]["Labels"]
    assert labels[hub.LABEL_HUB_USER] == ODD_NAME
    assert user.server("GET", "api/status").status_code == 200


def test_each_box_has_the_configured_limits(room):
    """The host's cgroup files of every box hold the hub's limits (cgroup v1 or v2)."""
    made, users = room
    for user in users.values():
        box_id = _inspect(_box_name(made, user))["Id"]
        limits = _cgroup_limits(box_id)
        assert limits == {"memory": 2 * 1024**3, "pids": PIDS, "cpus": CPUS}, (user.name, limits)


def _cgroup_limits(box_id: str) -> dict:
    v2 = Path(f"/sys/fs/cgroup/system.slice/docker-{box_id}.scope")
    if v2.exists():
        quota, period = (v2 / "cpu.max").read_text().split()
        return {"memory": int((v2 / "memory.max").read_text()), "pids": int((v2 / "pids.max").read_text()),
                "cpus": int(quota) / int(period)}
    root = Path("/sys/fs/cgroup")
    quota = int((root / "cpu" / "docker" / box_id / "cpu.cfs_quota_us").read_text())
    period = int((root / "cpu" / "docker" / box_id / "cpu.cfs_period_us").read_text())
    return {"memory": int((root / "memory" / "docker" / box_id / "memory.limit_in_bytes").read_text()),
            "pids": int((root / "pids" / "docker" / box_id / "pids.max").read_text()), "cpus": quota / period}


ENGINE_FACTS = """
import json, subprocess
info = json.loads(subprocess.run(["docker", "info", "--format", "{{json .}}"], capture_output=True, text=True).stdout)
names = subprocess.run(["docker", "ps", "--all", "--format", "{{.Names}}"], capture_output=True,
                       text=True).stdout.split()
print(json.dumps({"id": info["ID"], "containers": names}))
"""
CONNECT = """
import socket
def can_connect(host, port):
    try:
        socket.create_connection((host, port), timeout=3).close()
        return True
    except OSError:
        return False
"""


def test_attendees_cannot_see_or_reach_each_other(room, remote_kernels):
    """A's engine lists none of B's containers, and A can open no TCP connection to B's box nor to the host's
    engine, while A reaches its own server and the hub's API (so the probes can tell)."""
    made, users = room
    alice, bob = users["alice"], users["bob"]
    bob_box = _inspect(_box_name(made, bob))
    bob_ip = next(iter(bob_box["NetworkSettings"]["Networks"].values()))["IPAddress"]
    host_id = json.loads(subprocess.run(["docker", "info", "--format", "{{json .}}"], capture_output=True,
                                        text=True).stdout)["ID"]
    with KernelSession(bob, str(remote_kernels)) as kernel:
        kernel.run("import subprocess; subprocess.run(['docker', 'run', '-d', '--name', 'bobs-secret', "
                   "'containerlab/busybox', 'sleep', '300'], check=True, capture_output=True)")
        bob_facts = json.loads(kernel.run(ENGINE_FACTS))
    assert "bobs-secret" in bob_facts["containers"]
    with KernelSession(alice, str(remote_kernels)) as kernel:
        alice_facts = json.loads(kernel.run(ENGINE_FACTS))
        kernel.run(CONNECT)
        reach = json.loads(kernel.run(
            "import json, os\n"
            f"print(json.dumps({{'bob': can_connect({bob_ip!r}, 8888), 'own': can_connect('127.0.0.1', 8888),"
            f" 'hub_api': can_connect({_hub_ip(made)!r}, {made.secrets.hub_port}),"
            f" 'engine_tcp': [can_connect({_hub_ip(made)!r}, port) for port in (2375, 2376)],"
            " 'host_socket': os.path.realpath('/var/run/docker.sock')}))"))
    assert "bobs-secret" not in alice_facts["containers"]
    assert len({alice_facts["id"], bob_facts["id"], host_id}) == 3, "each box has an engine of its own"
    assert reach["own"] and reach["hub_api"], reach
    assert not reach["bob"], "alice opened a TCP connection to bob's box"
    assert reach["engine_tcp"] == [False, False]
    assert reach["host_socket"].startswith("/run/containerlab-box/"), "the box's socket is its own engine's"


def _hub_ip(made) -> str:
    return subprocess.run(["docker", "network", "inspect", "--format", "{{(index .IPAM.Config 0).Gateway}}",
                           made.settings.network], capture_output=True, text=True).stdout.strip()


HOG = """
import subprocess
# A memory hog with no memory limit of its own: only the box's limit holds it.
hog = subprocess.run(["docker", "run", "--rm", "containerlab/debian", "python3", "-c",
                      "x = []\\nwhile True: x.append(bytearray(64 * 1024 * 1024))"], capture_output=True)
print("hog exit", hog.returncode)
"""
PROBE = "import pathlib; sum(len(p.read_text()) for p in pathlib.Path('/sys/fs/cgroup/memory').glob('memory.*') " \
        "if p.is_file() and p.name.endswith('_in_bytes'))"


def test_lesson_03_and_an_oom_in_one_box_leave_the_others_running(room, remote_kernels):
    """While carol runs lesson 03 (its fork bomb and OOM kill) and a memory hog that only her box's limit stops,
    bob's cells keep answering (latency measured, bounded generously); carol's box survives it all."""
    _made, users = room
    carol = users["carol"]
    here = str(ROOT / "tests" / "system")
    with KernelSession(users["bob"], str(remote_kernels)) as bob, \
            KernelSession(carol, str(remote_kernels)) as carol_kernel:
        quiet = _latencies(bob, seconds=5)
        lesson = subprocess.Popen([sys.executable, "-c", RUNNER, here, str(NOTEBOOKS[2])],
                                  env=remote_env(carol, remote_kernels), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        hog_output: list[str] = []
        hog = threading.Thread(target=lambda: hog_output.append(carol_kernel.run(HOG, timeout=300)))
        hog.start()
        loud = []
        while lesson.poll() is None or hog.is_alive():
            loud += _latencies(bob, seconds=2)
        stdout, stderr = lesson.communicate(timeout=60)
        hog.join()
        assert hog_output and "hog exit 137" in hog_output[0], hog_output
        assert json.loads(stdout.strip().splitlines()[-1]) == {NOTEBOOKS[2].name: []}, stderr[-2000:]
        assert carol_kernel.run("print('still here')").strip() == "still here"
    for kernel in _kernel_ids(carol):
        carol.server("DELETE", f"api/kernels/{kernel}")
    p95_quiet, p95_loud = _p95(quiet), _p95(loud)
    print(f"bob's cell latency p95: quiet {p95_quiet * 1000:.0f} ms, during carol's lesson 03 and OOM "
          f"{p95_loud * 1000:.0f} ms ({len(loud)} cells)")
    assert len(loud) >= 10, "bob's cells stopped answering"
    assert p95_loud < max(2.0, 20 * p95_quiet), (p95_quiet, p95_loud)


def _latencies(kernel: KernelSession, seconds: float) -> list[float]:
    found = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        kernel.run(PROBE, timeout=60)
        found.append(time.monotonic() - started)
    return found


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def test_the_instructor_stops_and_starts_a_box_from_the_admin_page(room, tmp_path):
    """In Chromium: the instructor logs in, sees every attendee's server on /hub/admin, stops carol's and starts
    it again; carol's box goes and comes back, her notebooks volume stays."""
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium; './lab test' does)")
    made, users = room
    carol = users["carol"]
    admin = made.login_admin()
    old_box = made.box_ids()[_box_name(made, carol)]

    def carol_server() -> dict | None:
        return admin.api("GET", f"users/{carol.quoted}").json().get("servers", {}).get("")

    def carol_running() -> bool:
        return bool((carol_server() or {}).get("ready"))

    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(made.base + "hub/login")
            page.fill("#username_input", made.settings.admin)
            page.fill("#password_input", made.secrets.admin_password)
            page.click("#login_submit")
            page.wait_for_url("**/hub/**")
            page.goto(made.base + "hub/admin")
            for name in ATTENDEES:
                page.locator("tr", has_text=name).first.wait_for(timeout=30_000)
            row = page.locator("tr", has_text="carol").first
            row.get_by_role("button", name="Stop Server").click()
            _wait(lambda: carol_server() is None, 120, "carol's server did not stop")
            assert _box_name_or_none(made, carol) is None and not hub.leftover_cgroups(old_box)
            page.reload()
            row = page.locator("tr", has_text="carol").first
            row.get_by_role("button", name="Start Server").click()
            _wait(carol_running, 420, "carol's server did not start again")
            page.screenshot(path=str(tmp_path / "admin.png"))
        finally:
            browser.close()
    assert carol.server("GET", "api/contents/03-cgroups.ipynb").status_code == 200


def _wait(condition, seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(1)
    pytest.fail(message)


def test_work_survives_a_hub_restart_and_a_server_restart(room):
    """An attendee's edited notebook is still there after the hub restarts, and after their server restarts."""
    made, _users = room
    dave = made.login("dave")
    first = dave.wait_ready()
    assert first.get("ready"), f"{first}\n{made.log_tail()}"
    answer = dave.server("GET", "api/contents/00-lab-check.ipynb")
    assert answer.status_code == 200, f"{answer.status_code} {answer.text[:500]}\n{made.log_tail()}"
    original = answer.json()
    assert original["type"] == "notebook"
    notebook = original["content"]
    notebook["cells"][0]["source"] = "# Dave's notes: the lab check, edited\n" + notebook["cells"][0]["source"]
    saved = dave.server("PUT", "api/contents/00-lab-check.ipynb", json={"type": "notebook", "content": notebook})
    assert saved.status_code == 200, saved.text

    def edited() -> bool:
        found = dave.server("GET", "api/contents/00-lab-check.ipynb").json()
        return found["content"]["cells"][0]["source"].startswith("# Dave's notes")

    made.restart()
    assert dave.server("GET", "api/status").status_code == 200, "the box outlives the hub's restart"
    assert edited()
    old_box = made.box_ids()[_box_name(made, dave)]
    dave.stop_server()
    assert _box_name_or_none(made, dave) is None and not hub.leftover_cgroups(old_box)
    ready = dave.wait_ready()
    assert ready.get("ready"), f"{ready}\n{made.log_tail()}"
    assert made.box_ids()[_box_name(made, dave)] != old_box, "a new box"
    assert edited()


def _box_name_or_none(made, user):
    try:
        return _box_name(made, user)
    except AssertionError:
        return None


def test_stopping_the_hub_and_removing_the_servers_leaves_nothing(room, start_test_hub):
    made, _users = room
    ids = list(made.box_ids().values())
    start_test_hub.seen_boxes[made.settings.prefix].update(ids)
    assert len(ids) >= len(ATTENDEES)
    hub.stop_hub(made.settings)
    assert not hub.hub_running(made.settings)
    assert all(_inspect(name)["State"]["Running"] for name in made.box_ids()), "boxes outlive the hub"
    hub.remove_hub(made.settings, volumes=True)
    assert leftovers(made.settings, ids) == []
