"""The ``pym`` command: every subcommand, its options and its exit codes, in this package.

One module per command group, each with ``add_commands(subparsers)`` and its handlers
(``cmd_*``), in the order ``pym --help`` lists them (:data:`GROUPS`):

    service.py   pym check | token | run | tryme       the service in this directory
    docs.py      pym docs [TOPIC]                        the guides shipped in the wheel
    testing.py   pym acceptance | fuzz                   test a running service
    mock.py      pym mock                                serve the specs before handlers
    deploy.py    pym new | synth | deploy | bootstrap | doctor      (deploy kit)
    image.py     pym image build | run | push | promote | scan-gate (deploy kit)
    release.py   pym pipeline local | lock | smoke                  (deploy kit)
    plan.py      pym plan | platform refresh                        (deploy kit)
    operate.py   pym status | logs | rollback | url | open          (deploy kit)
    errors.py    the one error -> exit-code map (EXIT_*, ERRORS)

A handler returns its exit code or raises; :func:`run` looks what it raised up in
``errors.ERRORS`` (one line on stderr, the row's code). The kit's commands
(``needs_kit=True``) import ``pymacaron_kit`` when they run, so a runtime-only install has
the whole tree and each kit command says in one line what to install. The work itself
stays where it is (``pymacaron_kit.deploy``, ``pymacaron.testing.fuzz``...): the handlers
call it.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os

from .errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_NO_ENGINE,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    KitMissing,
    report,
    row_for,
)

__all__ = [
    "main",
    "run",
    "build_parser",
    "GROUPS",
    "EXIT_OK",
    "EXIT_FAILED",
    "EXIT_USAGE",
    "EXIT_NO_ENGINE",
    "EXIT_REFUSED",
    "EXIT_INTERRUPTED",
]

log = logging.getLogger("pymacaron")

# the command groups, in the order pym --help lists their commands
GROUPS = ("service", "docs", "testing", "mock", "deploy", "image", "release", "plan", "operate")


def build_parser() -> argparse.ArgumentParser:
    """The whole ``pym`` tree (the only ArgumentParser of ``pym``: a test checks)."""
    from .. import __version__

    parser = argparse.ArgumentParser(prog="pym", description="pymacaron command line")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--version", action="version", version=f"pym (pymacaron) {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        importlib.import_module(f"{__name__}.{group}").add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """``pym``: parse, run the command, map its error (a startup error ends the process with
    SystemExit, as ``python server.py`` does; every other returns its code)."""
    return run(argv, _stop=True)


def run(argv: list[str] | None = None, _stop: bool = False, **inject) -> int:
    """Run one ``pym`` command and return its exit code, every error through errors.ERRORS.

    ``inject`` sets attributes on the parsed arguments (tests: ``clients=``, ``deploy=``,
    ``opener=``...)."""
    args = build_parser().parse_args(argv)
    for key, value in inject.items():
        setattr(args, key, value)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    # the service loaded by a command (pym check) logs through this handler, not a second
    # one of its own (logs.setup_logging): each line once
    for handler in logging.getLogger().handlers:
        handler._pymacaron_handler = True
    _dev_secret(args)
    sub = getattr(args, "subcommand", None)
    path = f"{args.command} {sub}" if sub else args.command
    who = getattr(args, "who", None) or f"pym {args.command}"
    try:
        if getattr(args, "needs_kit", False):
            _require_kit(args.command)
        return args.func(args) or EXIT_OK
    except BaseException as e:  # noqa: BLE001 - errors.ERRORS decides; the rest re-raised
        row = row_for(e)
        if row is None:
            raise
        code = report(e, row, path=path, who=who, debug=args.debug)
        if row.stops and _stop:
            raise SystemExit(code) from None
        return code


def _require_kit(command: str) -> None:
    try:
        importlib.import_module("pymacaron_kit")
    except ImportError:
        raise KitMissing(command) from None


def _dev_secret(args) -> None:
    """In a service directory, for a development PYM_ENV with no JWT_SECRET exported: make
    sure ``.pym/dev-secret`` exists, so the server and every command agree (devsecret.py)."""
    from ..devsecret import DEV_ENVS, SECRET_NAME, ensure_dev_secret

    directory = getattr(args, "dir", None) or "."
    env = getattr(args, "env", None) or os.environ.get("PYM_ENV") or "dev"
    if os.environ.get(SECRET_NAME) or env not in DEV_ENVS:
        return
    if not os.path.isfile(os.path.join(directory, "pym-config.yaml")):
        return
    if not os.path.isfile(os.path.join(directory, "server.py")):
        return
    try:
        ensure_dev_secret(directory)
    except OSError as e:  # a read-only checkout: the commands say JWT_SECRET is missing
        log.warning("cannot write %s/.pym/dev-secret: %s", directory, e)
