"""`python -m containerlab doctor | setup | clean`: exit 0 when all is well, 1 when not, 2 on usage."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

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
