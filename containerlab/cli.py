"""`python -m containerlab doctor | setup | clean | registry ...`: exit 0 when all is well, 1 when not, 2 on usage."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .errors import LabError

__all__ = ["main"]


def _doctor(args: argparse.Namespace) -> int:
    from .engine.doctor import doctor

    report = doctor()
    print(report.to_json() if args.json else report.to_text())
    return 0 if report.ok else 1


def _setup(args: argparse.Namespace) -> int:
    from .engine.connect import connect
    from .engine.images import BASE_IMAGES, setup_images

    names = tuple(n for n in BASE_IMAGES if not args.only or n.split("/")[-1] in args.only)
    results = setup_images(connect(), names=names, force=args.force, online=args.online)
    print("\n".join(str(r) for r in results))
    return 0 if all(r.present for r in results) else 1


def _clean(args: argparse.Namespace) -> int:
    from .engine.connect import connect
    from .engine.lab import remove_labelled

    report = remove_labelled(connect(), lesson=args.lesson, owner=args.owner, images=args.images)
    print(report)
    return 0


def _pack(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .engine.connect import connect
    from .engine.workshop_pack import build_pack

    target = Path(args.file).resolve()
    manifest = build_pack(connect(), target, wheels=not args.no_wheels, box=not args.no_box)
    print(f"Wrote {target}: {len(manifest.files)} files, {manifest.total_bytes / 1e6:.0f} MB before compression.")
    print(f"On a machine without internet: ./lab unpack {target.name}")
    return 0


def _unpack(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .workshop.pack import unpack

    dest = Path(args.dest).resolve()
    manifest = unpack(Path(args.file), dest)
    print(f"Verified and extracted {len(manifest.files)} files to {dest}.")
    if args.no_load:
        return 0
    try:
        from .engine.connect import connect
        from .engine.workshop_pack import load_images
    except ImportError:
        print("The images load once the course's Python packages are installed: './lab unpack FILE' does both.")
        return 0
    load_images(connect(), dest, manifest)
    print(f"Loaded {', '.join(manifest.images)}: 'python -m containerlab setup' has nothing left to build.")
    return 0


def _box(args: argparse.Namespace) -> int:
    from .engine import box
    from .engine.connect import connect

    engine = connect()
    cli = box.engine_cli(engine)
    name = args.name or f"containerlab-box-{box.default_owner()}"
    if args.action == "build":
        box.build_box(engine)
        return 0
    if args.action in ("stop", "remove"):
        if args.action == "remove":
            removed = box.remove_box(cli, name, volumes=args.volumes)
        else:
            removed = box.stop_box(cli, name)
        print(f"{args.action}: {', '.join(removed) or 'nothing (no such box)'}")
        if args.action == "remove" and not args.volumes:
            print(f"The notebooks stay in the volume {name}-work; '--volumes' removes it too.")
        return 0
    if args.action == "status":
        names = box.find_boxes(cli, owner=None if args.name else box.default_owner())
        print("\n".join(names) or "No course box.")
        return 0 if names else 1
    if not box.box_image_present(cli):
        box.build_box(engine)
    started = box.start_box(cli, name=name, port=args.port, work=args.work)
    status = box.wait_ready(started)
    print(f"Course box {started.name} ({cli}, {started.form} form): engine {status.state}"
          + (f" - {status.message}" if status.message and not status.ready else ""))
    print(f"JupyterLab: {started.url}")
    print(f"Stop it: ./lab box stop --name {name}  |  remove it (notebooks kept): ./lab box remove --name {name}")
    return 0 if status.ready else 1


def _hub_settings(args: argparse.Namespace):
    from .engine.hub import HubError, HubSettings

    settings = HubSettings(name=args.name, ip="0.0.0.0" if args.public else "127.0.0.1", port=args.port,
                           cpus=args.cpus, memory=args.memory, pids=args.pids, idle_timeout=args.idle_timeout,
                           admin=args.admin, spawner=args.spawner, tls_cert=args.tls_cert or "",
                           tls_key=args.tls_key or "", state=args.state or "")
    if args.image:
        settings.image = args.image
    settings.check()
    if args.public and not settings.tls_cert and not args.no_tls:
        raise HubError("--public without TLS would send the room's password in clear over the room's network.",
                       "Give --tls-cert and --tls-key (docs/instructors.md), or --no-tls behind a TLS proxy.")
    return settings


def _hub(args: argparse.Namespace) -> int:
    import os

    from .engine import hub

    settings = _hub_settings(args)
    if args.action == "build":
        print(f"{settings.image}: {hub.build_hub_image(image=settings.image)}")
        return 0
    if args.action == "stop":
        stopped = hub.stop_hub(settings)
        print(f"The hub {settings.name} " + ("stopped." if stopped else "was not running."),
              "The attendees' boxes keep running; './lab hub remove' removes them (their notebooks stay).")
        return 0
    if args.action == "remove":
        removed = hub.remove_hub(settings, volumes=args.volumes)
        print("\n".join(f"removed {kind}: {', '.join(names)}" for kind, names in removed.items() if names)
              or "Nothing of this hub was left.")
        if not args.volumes:
            print("The attendees' notebooks stay in their volumes; 'remove --volumes' removes them too.")
        return 0
    if args.action == "status":
        running = hub.hub_running(settings)
        print(f"hub {settings.name}: {'running at ' + settings.url if running else 'not running'}")
        for kind, names in hub.hub_objects(settings).items():
            if names:
                print(f"  {kind}: {', '.join(names)}")
        return 0 if running else 1
    command = hub.proxy_command()  # fails early, with the npm line, when the proxy is missing
    if settings.spawner == "docker" and not hub.hub_image_present(settings.image):
        hub.build_hub_image(image=settings.image)
    secrets = hub.HubSecrets.load_or_create(settings, args.password)
    print(f"JupyterHub for the room: {settings.url}" + ("  (every address of this machine)" if args.public else ""))
    print(f"  attendees: any name, password {secrets.password}")
    print(f"  instructor: {settings.admin}, password {secrets.admin_password}  (admin page: {settings.url}hub/admin)")
    idle = f"idle servers stop after {settings.idle_timeout} s" if settings.idle_timeout else "no idle culling"
    print(f"  each box: {settings.cpus:g} CPU, {settings.memory} memory, {settings.pids} processes; {idle}")
    print(f"  proxy: {command[0]}; state and log: {settings.state_dir}")
    if args.detach:
        hub.start_hub(settings, extra=args.jupyterhub_args)
        named = "" if args.name == "hub" else f" --name {args.name}"
        print(f"Running in the background. Stop it: ./lab hub stop{named}")
        return 0
    if hub.hub_running(settings):
        raise hub.HubError(f"The hub {settings.name} is already running.", "Stop it first: './lab hub stop'.")
    (settings.state_dir / "hub.pid").write_text(str(os.getpid()))
    os.chdir(settings.state_dir)
    argv = hub.hub_command(args.jupyterhub_args)
    os.execve(argv[0], argv, hub.hub_environment(settings))
    return 1


def _registry(args: argparse.Namespace) -> int:
    from .engine.lab import default_owner
    from .engine.registry import Registry, running_registries, stop_registries

    owner = args.owner or default_owner()
    if args.action == "start":
        registry = Registry(args.port, owner=owner, lesson=args.lesson).start(detach=True)
        print(f"Registry running at {registry.address} (storage {registry.storage}).")
        print(f"Push to it: docker tag IMAGE {registry.address}/NAME:TAG && docker push {registry.address}/NAME:TAG")
        return 0
    if args.action == "stop":
        stopped = stop_registries(owner=owner, port=args.port)
        print(f"Stopped {stopped} registr{'y' if stopped == 1 else 'ies'} of {owner} and removed the storage.")
        return 0
    found = running_registries(owner=None if args.all else owner)
    print("\n".join(str(state) for state in found) or f"No course registry of {owner} is running.")
    return 0 if found else 1


def build_parser() -> argparse.ArgumentParser:
    """The command line, one subcommand per job."""
    parser = argparse.ArgumentParser(prog="python -m containerlab",
                                     description="Set up, check and clean the containerlab course.")
    sub = parser.add_subparsers(dest="command", required=True)
    doctor = sub.add_parser("doctor", help="check that this machine can run the course")
    doctor.add_argument("--json", action="store_true", help="print the report as JSON")
    doctor.set_defaults(func=_doctor)
    setup = sub.add_parser("setup", help="build the offline lab images (skips those that exist)")
    setup.add_argument("--force", action="store_true", help="rebuild images that already exist")
    setup.add_argument("--online", action="store_true", help="pull public equivalents instead of building")
    setup.add_argument("--only", action="append", choices=["busybox", "debian"], help="build only this image")
    setup.set_defaults(func=_setup)
    clean = sub.add_parser("clean", help="remove every container, network and volume the course made")
    clean.add_argument("--lesson", help="only this lesson's resources (e.g. 01-what-is-a-container)")
    clean.add_argument("--owner", help="only this owner's resources (default: every owner)")
    clean.add_argument("--images", action="store_true", help="also remove the course's images")
    clean.set_defaults(func=_clean)
    pack = sub.add_parser("pack", help="write one archive with everything a workshop needs offline")
    pack.add_argument("file", help="the archive to write, e.g. workshop.clab.tgz")
    pack.add_argument("--no-wheels", action="store_true", help="leave out the Python wheels")
    pack.add_argument("--no-box", action="store_true", help="leave out the course box image (built if missing)")
    pack.set_defaults(func=_pack)
    unpack = sub.add_parser("unpack", help="verify a pack, extract it and load its images")
    unpack.add_argument("file", help="the pack made by 'pack'")
    unpack.add_argument("--dest", default=".pack", help="where to extract it (default: .pack)")
    unpack.add_argument("--no-load", action="store_true", help="only verify and extract")
    unpack.set_defaults(func=_unpack)
    box = sub.add_parser("box", help="the course box: the whole course with its own engine in one container")
    box.add_argument("action", nargs="?", default="start", choices=["start", "build", "stop", "remove", "status"])
    box.add_argument("--name", help="the box's container name (default: containerlab-box-OWNER)")
    box.add_argument("--port", type=int, default=8888, help="JupyterLab's port on 127.0.0.1 (default 8888)")
    box.add_argument("--work", help="where your notebooks live: a volume name or a folder (default: NAME-work)")
    box.add_argument("--volumes", action="store_true", help="remove: also the volume with your notebooks")
    box.set_defaults(func=_box)
    hubp = sub.add_parser("hub", help="the workshop server: JupyterHub, every attendee in their own course box")
    hubp.add_argument("action", nargs="?", default="start", choices=["start", "stop", "status", "remove", "build"])
    hubp.add_argument("--name", default="hub", help="which hub (several can run; default: hub)")
    hubp.add_argument("--public", action="store_true", help="listen on every address (a room; needs TLS, see docs)")
    hubp.add_argument("--port", type=int, default=8000, help="the hub's port (default 8000)")
    hubp.add_argument("--tls-cert", help="TLS certificate (PEM) for --public")
    hubp.add_argument("--tls-key", help="its key (PEM)")
    hubp.add_argument("--no-tls", action="store_true", help="--public without TLS (only behind a TLS proxy)")
    hubp.add_argument("--password", help="the room's password (default: generated once and kept)")
    hubp.add_argument("--admin", default="instructor", help="the instructor's user name (default: instructor)")
    hubp.add_argument("--cpus", type=float, default=1.0, help="CPUs per attendee box (default 1)")
    hubp.add_argument("--memory", default="2g", help="memory per attendee box (default 2g)")
    hubp.add_argument("--pids", type=int, default=2048, help="processes per attendee box (default 2048)")
    hubp.add_argument("--idle-timeout", type=int, default=3600, help="stop servers idle this many seconds (0: never)")
    hubp.add_argument("--spawner", choices=["docker", "swarm"], default="docker", help="one machine, or a swarm")
    hubp.add_argument("--image", help="the single-user image (default: the box image + jupyterhub)")
    hubp.add_argument("--state", help="the hub's folder (database, secrets, log)")
    hubp.add_argument("--detach", action="store_true", help="start: run in the background")
    hubp.add_argument("--volumes", action="store_true", help="remove: also the attendees' notebooks and the state")
    hubp.add_argument("jupyterhub_args", nargs="*", help="after --: passed to jupyterhub (override the config)")
    hubp.set_defaults(func=_hub)
    registry = sub.add_parser("registry", help="a local Distribution registry on 127.0.0.1 (start | stop | status)")
    registry.add_argument("action", choices=["start", "stop", "status"])
    registry.add_argument("--port", type=int, help="the port on 127.0.0.1 (default: a free one for you)")
    registry.add_argument("--owner", help="whose registry (default: you)")
    registry.add_argument("--lesson", default="cli", help="the label recorded with it (start only)")
    registry.add_argument("--all", action="store_true", help="status: every owner's registries")
    registry.set_defaults(func=_registry)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; a LabError prints message and hint, never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except LabError as err:
        print(f"error: {err.message}\nhint: {err.hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
