"""The test bed's services: a small grid in the spirit of GlideinWMS, in one standard-library module.

    frontend workspace   schedd      holds the users' job queue (HTTP :9618)
                         vofrontend  sees idle jobs and asks the factory for a glidein (a pilot)
    factory workspace    factory     checks the frontend's token, submits pilots to the CE (HTTP :8319)
                         logserver   the factory's logs over HTTP (:8000), like its web monitoring
    ce workspace         gatekeeper  accepts jobs for the site (HTTP :9619)
                         batch       the site's batch system: runs what the gatekeeper accepted

A pilot runs on the CE, asks the schedd for a user job, runs it, and reports the output back.
Every program runs under supervisord; `python3 testbed.py submit ...` is the user's command.
"""

import argparse
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

SCHEDD_PORT, FACTORY_PORT, GATEKEEPER_PORT = 9618, 8319, 9619
TOKEN_FILE = Path(os.environ.get("TESTBED_TOKEN", "/var/lib/tokens/frontend.token"))
STATE = Path(os.environ.get("TESTBED_STATE", "/var/lib/testbed"))
POLL = float(os.environ.get("TESTBED_POLL", "0.5"))


def log(message: str) -> None:
    """One line on stdout, which supervisord writes to the program's log file."""
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def call(url: str, payload: dict | None = None, timeout: float = 5) -> dict:
    """GET (or POST ``payload`` as JSON) and return the JSON answer."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return json.loads(answer.read() or b"{}")


class Api(http.server.ThreadingHTTPServer):
    """A JSON API: ``routes`` maps (method, first path part) to a handler(body, rest) -> (status, reply)."""

    daemon_threads = True

    def __init__(self, port: int, routes: dict) -> None:
        self.routes = routes
        self.lock = threading.Lock()
        super().__init__(("", port), _Handler)


class _Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self, method: str) -> None:
        parts = self.path.strip("/").split("/")
        handler = self.server.routes.get((method, parts[0]))
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}") if length else {}
        if handler is None:
            status, reply = 404, {"error": f"no route {method} /{parts[0]}"}
        else:
            with self.server.lock:
                status, reply = handler(body, parts[1:])
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._answer("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._answer("POST")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log(f"{self.command} {self.path} -> {args[1] if len(args) > 1 else ''}")


# --------------------------------------------------------------------------- frontend


def schedd() -> None:
    """The user job queue: submit, look up, and (for pilots) claim and finish jobs."""
    jobs: dict[str, dict] = {}

    def submit(body: dict, _: list) -> tuple:
        job_id = str(len(jobs) + 1)
        jobs[job_id] = {"id": job_id, "command": body["command"], "state": "idle"}
        log(f"job {job_id} submitted: {body['command']}")
        return 200, jobs[job_id]

    def lookup(_: dict, rest: list) -> tuple:
        if rest and rest[0]:
            return (200, jobs[rest[0]]) if rest[0] in jobs else (404, {"error": "no such job"})
        return 200, {"jobs": list(jobs.values())}

    def claim(body: dict, _: list) -> tuple:
        for job in jobs.values():
            if job["state"] == "idle":
                job.update(state="running", glidein=body["glidein"], host=body["host"])
                log(f"job {job['id']} matched to glidein {body['glidein']} on {body['host']}")
                return 200, job
        return 200, {}

    def finish(body: dict, rest: list) -> tuple:
        jobs[rest[0]].update(state="done", output=body["output"], exit_code=body["exit_code"])
        log(f"job {rest[0]} done, exit code {body['exit_code']}")
        return 200, jobs[rest[0]]

    log(f"schedd listening on port {SCHEDD_PORT}")
    Api(SCHEDD_PORT, {("POST", "submit"): submit, ("GET", "jobs"): lookup, ("POST", "claim"): claim,
                      ("POST", "done"): finish, ("GET", "ping"): lambda *_: (200, {"pong": True})}).serve_forever()


def vofrontend() -> None:
    """Ask the factory for one glidein per idle job that no requested glidein covers yet."""
    factory = os.environ.get("FACTORY_URL", f"http://factory:{FACTORY_PORT}")
    schedd_url = os.environ.get("SCHEDD_URL", f"http://frontend:{SCHEDD_PORT}")
    requested = 0
    log(f"vofrontend watching the schedd, factory at {factory}")
    while True:
        try:
            jobs = call(f"http://127.0.0.1:{SCHEDD_PORT}/jobs")["jobs"]
            waiting = sum(1 for job in jobs if job["state"] == "idle")
            started = sum(1 for job in jobs if job["state"] != "idle")
            if waiting and requested < waiting + started:
                reply = call(f"{factory}/requests", {"count": 1, "schedd": schedd_url,
                                                     "token": TOKEN_FILE.read_text().strip()})
                requested += 1
                log(f"asked the factory for a glidein: {reply['glidein']} submitted to {reply['ce']}")
        except (OSError, KeyError, ValueError) as err:
            log(f"cannot talk to the schedd or the factory yet: {err}")
        time.sleep(POLL)


def submit(command: str, wait: float) -> int:
    """The user's side: submit a job to the local schedd, wait for it, print where it ran and its output."""
    job = call(f"http://127.0.0.1:{SCHEDD_PORT}/submit", {"command": command})
    print(f"submitted job {job['id']}: {command}")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        job = call(f"http://127.0.0.1:{SCHEDD_PORT}/jobs/{job['id']}")
        if job["state"] == "done":
            print(f"job {job['id']} ran in glidein {job['glidein']} on {job['host']}, exit code {job['exit_code']}")
            print(f"its output: {job['output'].strip()}")
            return job["exit_code"]
        time.sleep(POLL / 2)
    print(f"job {job['id']} is still {job['state']} after {wait:g} s")
    return 1


# --------------------------------------------------------------------------- factory


def factory() -> None:
    """Check each request's token, then submit a pilot (a glidein) to the CE's gatekeeper."""
    ce = os.environ.get("CE_URL", f"http://ce:{GATEKEEPER_PORT}")
    glideins: list[dict] = []

    def request(body: dict, _: list) -> tuple:
        if not TOKEN_FILE.exists() or body.get("token") != TOKEN_FILE.read_text().strip():
            log("refused a request with a wrong or missing token")
            return 403, {"error": "bad token"}
        glidein = f"glidein-{len(glideins) + 1}"
        pilot = f"exec python3 /opt/testbed/testbed.py pilot --schedd {body['schedd']} --glidein {glidein}"
        job = call(f"{ce}/jobs", {"script": pilot, "name": glidein})
        glideins.append({"glidein": glidein, "ce_job": job["id"]})
        log(f"{glidein} submitted to {ce} as CE job {job['id']}")
        return 200, {"glidein": glidein, "ce": ce.split("//")[1].split(":")[0]}

    log(f"factory listening on port {FACTORY_PORT}, submitting to {ce}")
    Api(FACTORY_PORT, {("POST", "requests"): request, ("GET", "glideins"): lambda *_: (200, {"glideins": glideins}),
                       ("GET", "ping"): lambda *_: (200, {"pong": True})}).serve_forever()


# --------------------------------------------------------------------------- ce


def gatekeeper() -> None:
    """Accept a job: write its script into the spool directory the batch system reads."""
    spool = STATE / "spool"
    spool.mkdir(parents=True, exist_ok=True)

    def accept(body: dict, _: list) -> tuple:
        job_id = str(len(list(spool.glob("*.sh"))) + 1)
        (spool / f"{job_id}.sh.new").write_text(body["script"] + "\n")
        (spool / f"{job_id}.sh.new").rename(spool / f"{job_id}.sh")
        log(f"accepted CE job {job_id} ({body.get('name', 'unnamed')})")
        return 200, {"id": job_id}

    log(f"gatekeeper listening on port {GATEKEEPER_PORT}")
    Api(GATEKEEPER_PORT, {("POST", "jobs"): accept, ("GET", "ping"): lambda *_: (200, {"pong": True})}).serve_forever()


def batch() -> None:
    """Run every spooled job once, in order, in the background; keep its output next to it."""
    spool = STATE / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    log("batch system polling the spool")
    while True:
        for script in sorted(spool.glob("*.sh"), key=lambda path: int(path.stem.split(".")[0])):
            marker = script.with_suffix(".started")
            if marker.exists():
                continue
            marker.touch()
            output = open(script.with_suffix(".out"), "w")
            subprocess.Popen(["sh", str(script)], stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
            log(f"started CE job {script.stem}")
        time.sleep(POLL)


def pilot(schedd_url: str, glidein: str) -> int:
    """A glidein on a CE worker: claim one user job from the schedd, run it, report back."""
    host = socket.gethostname()
    for _ in range(int(30 / POLL)):
        job = call(f"{schedd_url}/claim", {"glidein": glidein, "host": host})
        if job:
            done = subprocess.run(["sh", "-c", job["command"]], capture_output=True, text=True, timeout=60)
            call(f"{schedd_url}/done/{job['id']}", {"output": done.stdout + done.stderr, "exit_code": done.returncode})
            print(f"{glidein} ran job {job['id']}")
            return 0
        time.sleep(POLL)
    print(f"{glidein} found no job and leaves")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="role", required=True)
    for role in ("schedd", "vofrontend", "factory", "gatekeeper", "batch"):
        sub.add_parser(role)
    submit_parser = sub.add_parser("submit")
    submit_parser.add_argument("command")
    submit_parser.add_argument("--wait", type=float, default=30)
    pilot_parser = sub.add_parser("pilot")
    pilot_parser.add_argument("--schedd", required=True)
    pilot_parser.add_argument("--glidein", required=True)
    ping_parser = sub.add_parser("ping", help="exit 0 once the URL answers (within --wait seconds)")
    ping_parser.add_argument("url")
    ping_parser.add_argument("--wait", type=float, default=0)
    args = parser.parse_args(argv)
    if args.role == "submit":
        return submit(args.command, args.wait)
    if args.role == "pilot":
        return pilot(args.schedd, args.glidein)
    if args.role == "ping":
        deadline = time.monotonic() + args.wait
        while True:
            try:
                call(args.url, timeout=2)
                return 0
            except OSError:
                if time.monotonic() > deadline:
                    return 1
                time.sleep(0.2)
    {"schedd": schedd, "vofrontend": vofrontend, "factory": factory, "gatekeeper": gatekeeper, "batch": batch}[
        args.role]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
