"""Exercise checks for lesson 13, ports and networking: read the engine's state, then try the network for real.

Traffic stays on this machine: a container on the learner's network asks for the page, or the host fetches
the port published on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .engine_checks import container_problem, fetch, lint_problem, network_problem
from .grading import CheckResult

__all__ = ["check_shop_network", "check_published_site"]

DEBIAN = "containerlab/debian"
BUSYBOX = "containerlab/busybox"


def check_shop_network(lab: Any, page: str = "api ok") -> CheckResult:
    """Exercise 13.1 (terminal): $LAB-api serves ``page`` on port 8080 on the network $LAB-shop, found by name."""
    hint = ("`$ENGINE network create $LABELS $LAB-shop`, then run $LAB-api detached with `--network $LAB-shop`: "
            "busybox's `httpd -f -p 8080 -h DIR` serves DIR, so write the page to DIR/index.html first (sh -c '...').")
    state = lab.state()
    problem = network_problem(state, "shop")
    if problem:
        return CheckResult(False, problem, hint)
    _, problem = container_problem(state, "api", network="shop")
    if problem:
        return CheckResult(False, problem, hint)
    network = lab.name_for("shop")
    looked_up = lab.run(DEBIAN, ["getent", "hosts", lab.name_for("api")], network=network, echo=False)
    if not looked_up.ok or not looked_up.output.split():
        return CheckResult(False, "A container on $LAB-shop cannot find $LAB-api by name.", hint)
    address = looked_up.output.split()[0]
    # busybox wget fetches by address (its static build cannot look names up): the name was resolved above.
    # `|| exit 1` keeps sh as PID 1 (a PID 1 ignores SIGTERM), so timeout can stop wget.
    answer = lab.run(BUSYBOX, ["sh", "-c", f"timeout 3 wget -qO- http://{address}:8080/ || exit 1"],
                     network=network, echo=False)
    if not answer.ok:
        return CheckResult(False, "$LAB-api is found by name, but nothing answers on its port 8080.", hint)
    if answer.output.strip() != page:
        return CheckResult(False, f"$LAB-api answers {answer.output.strip()[:60]!r}, not {page!r}.", hint)
    return CheckResult(True, "Right: on a network of its own, the engine's DNS server answers container names, "
                             "so $LAB-api is reachable by name from its neighbours, and published nowhere.")


def check_published_site(lab: Any, tag: str, dockerfile: str | Path, page: str = "welcome",
                         port: int = 8000) -> CheckResult:
    """Exercise 13.2 (build it): an image that EXPOSEs ``port`` and serves ``page`` there as a non-root user, run
    as $LAB-site with that port published on 127.0.0.1; fetched from the host for real."""
    hint = (f"Dockerfile: FROM containerlab/busybox, write the page into a directory, `EXPOSE {port}`, `USER 1000`, "
            f"`CMD [\"httpd\", \"-f\", \"-p\", \"{port}\", \"-h\", \"DIR\"]`. Build it as $REPO-site, then "
            f"`$ENGINE run -d --name $LAB-site -p 127.0.0.1::{port} ...` (limits and $LABELS too).")
    path = Path(dockerfile)
    if not path.exists():
        return CheckResult(False, "There is no $WORK/site/Dockerfile yet.", hint)
    problem = lint_problem(path.read_text())
    if problem:
        return CheckResult(False, problem, hint)
    found, problem = container_problem(lab.state(), "site", image=tag, publishes=port)
    if problem:
        return CheckResult(False, problem.replace(tag, "$REPO-site"), hint)
    assert found is not None
    if f"{port}/tcp" not in found.exposed:
        return CheckResult(False, f"The image does not EXPOSE {port}: write it down, for people and for -P.", hint)
    uid = lab.exec("site", ["id", "-u"], echo=False).output.strip()
    if uid in ("", "0"):
        return CheckResult(False, "The web server runs as root: nothing here needs it (USER 1000).", hint)
    (binding,) = found.publishing(port)[:1]
    status, body = fetch(binding.host_port)
    if status != 200 or body.strip() != page:
        return CheckResult(False, f"127.0.0.1:{binding.host_port} answered {status or 'nothing'} "
                                  f"{body.strip()[:40]!r}, not {page!r}.", hint)
    return CheckResult(True, f"Right: $LAB-site runs as uid {uid}, and this machine (only this machine) reaches it on "
                             f"127.0.0.1:{binding.host_port}. EXPOSE documented the port; -p published it.")
