"""``pym acceptance`` (and ``scripts/acceptance``): run testaccept/ against a service."""

from __future__ import annotations

import argparse
import sys

from .runner import AcceptanceError, AcceptanceOptions, run_acceptance

__all__ = ["add_commands", "main", "build_parser"]

HELP = "run the acceptance tests (testaccept/) against a host, a URL or a local server"
EPILOG = """examples:
  pym acceptance --local                       start the service (and its local_services)
  pym acceptance --host 127.0.0.1 --port 8080  a running service
  pym acceptance --url https://staging.example.com --junit reports/acceptance.xml
exit code: pytest's (0 = all passed); 2 when the target is unreachable or does not start."""


def _configure(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    where = p.add_mutually_exclusive_group()
    where.add_argument("--local", action="store_true", help="start the service on a free port")
    where.add_argument("--url", help="the service's root URL (https://staging.example.com)")
    where.add_argument("--host", help="the service's host name or address")
    p.add_argument("--port", type=int, help="with --host (default 80; 443 means https)")
    p.add_argument("--dir", default=".", help="the service's directory (default: .)")
    p.add_argument("--tests", default="testaccept", help="tests directory (default: testaccept)")
    p.add_argument("--junit", metavar="FILE", help="write a JUnit XML report to FILE")
    p.add_argument("--env", help="PYM_ENV of the service (reads pym-config.<env>.yaml)")
    p.add_argument("--token", help="the JWT to test with (default: generated from jwt_secret)")
    p.add_argument(
        "--provided",
        action="append",
        default=[],
        metavar="API",
        help="a downstream API the target really reaches (repeatable; --local adds its own)",
    )
    p.add_argument("--no-ssl-check", action="store_true", help="do not verify certificates")
    p.add_argument(
        "--start-timeout", type=float, default=30.0, help="seconds to wait for /ping (--local)"
    )
    p.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    p.set_defaults(func=cmd_acceptance)
    return p


def cmd_acceptance(args) -> int:
    """Run the acceptance tests; the exit code is the result."""
    if args.port is not None and not args.host:
        print("acceptance: --port goes with --host", file=sys.stderr)
        return 4
    if not (args.local or args.url or args.host):
        print("acceptance: say where to test: --local, --url URL or --host H", file=sys.stderr)
        return 4
    options = AcceptanceOptions(
        directory=args.dir,
        host=args.host,
        port=args.port,
        url=args.url,
        local=args.local,
        tests=args.tests,
        junit=args.junit,
        env=args.env,
        token=args.token,
        provided=[p for item in args.provided for p in item.split(",")],
        no_ssl_check=args.no_ssl_check,
        start_timeout=args.start_timeout,
        pytest_args=args.pytest_args,
    )
    try:
        return run_acceptance(options)
    except AcceptanceError as e:  # a bad testaccept/acceptance.yaml...: one line, no traceback
        print(f"acceptance: {e}", file=sys.stderr)
        return 2


def add_commands(subparsers) -> None:
    """Called by ``pym`` (pymacaron.cli) to add the ``acceptance`` command."""
    _configure(
        subparsers.add_parser(
            "acceptance",
            help=HELP,
            description=HELP,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )


def build_parser() -> argparse.ArgumentParser:
    return _configure(
        argparse.ArgumentParser(
            prog="acceptance",
            description=HELP,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )


def main(argv: list[str] | None = None) -> int:
    """``scripts/acceptance``: the same as ``pym acceptance``."""
    args = build_parser().parse_args(argv)
    return args.func(args)
