"""A hub attendee or instructor as a browser would be one: log in through the login form, then use the hub's REST
API with a token the user made for themselves (the tests import this module by name)."""

from __future__ import annotations

import json
import time
import urllib.parse
from dataclasses import dataclass, field

import requests


class LoginRefused(Exception):
    """The hub did not accept the name and password."""


@dataclass
class HubUser:
    """One person logged in to the hub: their browser session and an API token."""

    base: str          # http://127.0.0.1:PORT/
    name: str
    session: requests.Session = field(repr=False)
    token: str = field(repr=False, default="")

    @classmethod
    def login(cls, base: str, name: str, password: str) -> HubUser:
        """Log in through /hub/login (the form a browser posts), then ask the hub for a token."""
        session = requests.Session()
        page = session.get(base + "hub/login", timeout=30)
        page.raise_for_status()
        xsrf = session.cookies.get("_xsrf", "")
        answer = session.post(base + "hub/login", data={"username": name, "password": password, "_xsrf": xsrf},
                              allow_redirects=False, timeout=30)
        if answer.status_code != 302 or "jupyterhub-session-id" not in session.cookies:
            raise LoginRefused(f"{name}: HTTP {answer.status_code}")
        xsrf = session.cookies.get("_xsrf", "")  # a new one, tied to the session
        who = session.get(base + "hub/api/user", headers={"X-XSRFToken": xsrf}, timeout=30)
        who.raise_for_status()
        hub_name = who.json()["name"]
        made = session.post(base + f"hub/api/users/{urllib.parse.quote(hub_name)}/tokens",
                            headers={"X-XSRFToken": xsrf}, json={"note": "tests", "expires_in": 7200}, timeout=30)
        made.raise_for_status()
        return cls(base=base, name=hub_name, session=session, token=made.json()["token"])

    @property
    def headers(self) -> dict[str, str]:
        """The API token header."""
        return {"Authorization": f"token {self.token}"}

    def api(self, method: str, path: str, **options) -> requests.Response:
        """A hub REST API call as this user (path after /hub/api/)."""
        return requests.request(method, self.base + "hub/api/" + path, headers=self.headers, timeout=60, **options)

    @property
    def quoted(self) -> str:
        """The user name as it appears in URLs."""
        return urllib.parse.quote(self.name)

    def start_server(self) -> requests.Response:
        """Ask the hub to start this user's server (202 while it starts, 201 when already up)."""
        return self.api("POST", f"users/{self.quoted}/server")

    def progress(self, timeout: float = 600) -> list[dict]:
        """The spawn's progress events, as the spawn page reads them, until it is ready or has failed."""
        events = []
        with requests.get(self.base + f"hub/api/users/{self.quoted}/server/progress", headers=self.headers,
                          stream=True, timeout=timeout) as stream:
            for line in stream.iter_lines(decode_unicode=True):
                if line and line.startswith("data:"):
                    events.append(json.loads(line[5:]))
                    if events[-1].get("ready") or events[-1].get("failed"):
                        break
        return events

    def server_url(self) -> str:
        """The user's Jupyter server through the hub's proxy."""
        return self.base + f"user/{self.quoted}/"

    def server(self, method: str, path: str, **options) -> requests.Response:
        """A Jupyter server REST call through the hub (path after /user/NAME/)."""
        return requests.request(method, self.server_url() + path, headers=self.headers, timeout=60, **options)

    def wait_ready(self, timeout: float = 600) -> dict:
        """Start the server if need be and wait until the hub says it is ready; the last progress event (the event
        stream can end before the spawn does: then the hub's user model says when it is ready)."""
        deadline = time.monotonic() + timeout
        answer = self.start_server()
        if answer.status_code not in (201, 202, 400):
            answer.raise_for_status()
        events = self.progress(timeout)
        while time.monotonic() < deadline and not (events and (events[-1].get("ready") or events[-1].get("failed"))):
            server = self.api("GET", f"users/{self.quoted}").json().get("servers", {}).get("")
            if server and server.get("ready"):
                events.append({"ready": True, "message": "ready (from the user model)"})
            elif not server or not server.get("pending"):
                events.append({"failed": True, "message": f"not starting: {server}"})
            else:
                time.sleep(1)
        while time.monotonic() < deadline and events and events[-1].get("ready"):
            if self.server("GET", "api/status").status_code == 200:
                break
            time.sleep(0.5)
        return events[-1] if events else {}

    def stop_server(self) -> None:
        """Stop this user's server and wait until the hub says it is stopped."""
        self.api("DELETE", f"users/{self.quoted}/server")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if not self.api("GET", f"users/{self.quoted}").json().get("servers"):
                return
            time.sleep(0.5)
        raise TimeoutError(f"{self.name}'s server did not stop")


class RemoteCellError(Exception):
    """A cell raised in the attendee's kernel."""


class KernelSession:
    """A kernel in an attendee's box, driven from here through the hub (the hub-remote kernel spec)."""

    def __init__(self, user: HubUser, kernels_path: str) -> None:
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import KernelManager

        self.user = user
        specs = KernelSpecManager(kernel_dirs=[f"{kernels_path}/kernels"])
        self.manager = KernelManager(kernel_name="hub-remote", kernel_spec_manager=specs)
        self.manager.start_kernel(env={**__import__("os").environ, "REMOTE_KERNEL_URL": user.server_url(),
                                       "REMOTE_KERNEL_TOKEN": user.token})
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)

    def run(self, code: str, timeout: float = 300) -> str:
        """Run ``code`` in the attendee's kernel; what it printed (a raised error raises RemoteCellError)."""
        printed: list[str] = []
        failure: list[str] = []

        def collect(message: dict) -> None:
            kind, content = message["header"]["msg_type"], message["content"]
            if kind == "stream":
                printed.append(content["text"])
            elif kind == "execute_result":
                printed.append(content["data"].get("text/plain", "") + "\n")
            elif kind == "error":
                failure.append(f"{content['ename']}: {content['evalue']}")

        reply = self.client.execute_interactive(code, output_hook=collect, timeout=timeout)
        if failure or reply["content"]["status"] != "ok":
            raise RemoteCellError(f"{self.user.name}: {' '.join(failure) or reply['content']}")
        return "".join(printed)

    def close(self) -> None:
        """Shut the kernel down (the relay deletes it on the attendee's server)."""
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=False)

    def __enter__(self) -> KernelSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
