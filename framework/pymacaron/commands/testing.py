"""``pym acceptance`` and ``pym fuzz``: test a running (or locally started) service.

The runners are testing/runner.py (acceptance, pytest over testaccept/) and
testing/fuzz.py (schemathesis against the specs); these are their options.
``pym acceptance`` exits with the codes of errors.py: pytest's said in its words
(``errors.FROM_PYTEST``: pytest's usage error is 2, as every usage error of ``pym``).
"""

from __future__ import annotations

import argparse
from dataclasses import fields

from .errors import from_pytest

__all__ = ["add_commands", "cmd_acceptance", "cmd_fuzz", "acceptance_options"]

ACCEPTANCE_HELP = "run the acceptance tests (testaccept/) against a host, a URL or a local server"
ACCEPTANCE_EPILOG = """examples:
  pym acceptance --local                       start the service (and its local_services)
  pym acceptance --host 127.0.0.1 --port 8080  a running service
  pym acceptance --url https://staging.example.com --junit reports/acceptance.xml
exit codes: 0 all passed, 1 a test failed (or none ran), 2 usage (a bad option or pytest
argument; the target is unreachable or does not start), 130 interrupted."""


def acceptance_options(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``pym acceptance`` (on ``p``)."""
    where = p.add_mutually_exclusive_group()
    where.add_argument("--local", action="store_true", help="start the service on a free port")
    where.add_argument("--url", help="the service's root URL (https://staging.example.com)")
    where.add_argument("--host", help="the service's host name or address")
    p.add_argument("--port", type=int, help="with --host (default 80; 443 means https)")
    p.add_argument(
        "--dir",
        dest="directory",
        metavar="DIR",
        default=".",
        help="the service's directory (default: .)",
    )
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
    """Run the acceptance tests; the exit code is the result (a bad testaccept/acceptance.yaml
    raises AcceptanceError: one line, exit 2, from the error map)."""
    from ..testing.runner import AcceptanceError, AcceptanceOptions, run_acceptance

    if args.port is not None and not args.host:
        raise AcceptanceError("--port goes with --host")
    if not (args.local or args.url or args.host):
        raise AcceptanceError("say where to test: --local, --url URL or --host H")
    # one option a field: the dest of each is the field's name
    values = {f.name: getattr(args, f.name) for f in fields(AcceptanceOptions)}
    values["provided"] = [p for item in args.provided for p in item.split(",")]
    return from_pytest(run_acceptance(AcceptanceOptions(**values)))


def cmd_fuzz(args) -> int:
    from ..testing.fuzz import cmd_fuzz as fuzz

    return fuzz(args)


def add_commands(sub) -> None:
    p = sub.add_parser(
        "acceptance",
        help=ACCEPTANCE_HELP,
        description=ACCEPTANCE_HELP,
        epilog=ACCEPTANCE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    acceptance_options(p)

    from ..testing.fuzz import DEFAULT_CHECKS, DEFAULT_PHASES, TOKEN_ENV
    from ..testing.fuzz import __doc__ as about

    p = sub.add_parser(
        "fuzz",
        help="fuzz a running service against its specs (schemathesis): no 5xx, replies conform",
        description=(about or "").split("\n\n")[0],
        epilog="exit codes: 0 no check failed, 1 a check failed, 2 usage (no such spec, the "
        "service does not answer)",
    )
    p.add_argument("--url", help="the service's root URL (default: http://HOST:PORT)")
    p.add_argument("--host", default="127.0.0.1", help="with --port, instead of --url")
    p.add_argument("--port", type=int, default=8080, help="with --host (default: 8080)")
    p.add_argument(
        "--spec",
        action="append",
        default=[],
        help="a spec file to fuzz (repeatable; default: the apis/*.yaml the service serves, "
        "as GET /version lists them, plus the built-in /ping and /version)",
    )
    p.add_argument("--dir", default=".", help="service directory (default: .)")
    p.add_argument("--env", help="PYM_ENV whose pym-config signs the token")
    p.add_argument("--token", help=f"bearer token for authenticated operations (or ${TOKEN_ENV})")
    p.add_argument(
        "--user", default="pym-fuzz", help="user of the generated token (default: pym-fuzz)"
    )
    p.add_argument("--no-auth", action="store_true", help="send no Authorization header")
    p.add_argument(
        "--max-examples", type=int, default=50, help="test cases per operation (default: 50)"
    )
    p.add_argument("--seed", type=int, default=None, help="generation seed (reproducible runs)")
    p.add_argument(
        "--phases",
        default=",".join(DEFAULT_PHASES),
        help=f"schemathesis phases (default: {','.join(DEFAULT_PHASES)})",
    )
    p.add_argument(
        "--checks",
        default=",".join(DEFAULT_CHECKS),
        help="schemathesis checks (default: %(default)s)",
    )
    p.add_argument("--workers", default="1", help="concurrent schemathesis workers (default: 1)")
    p.add_argument("--request-timeout", type=float, default=10.0, help="seconds per request")
    p.add_argument("--junit", help="write a JUnit XML report (all specs in one file)")
    p.add_argument(
        "--no-builtin", action="store_true", help="do not fuzz the built-in /ping, /version"
    )
    p.add_argument("--quiet", action="store_true", help="print only the summary lines")
    p.add_argument(
        "--exclude-path-regex",
        action="append",
        default=[],
        help="skip operations whose path matches (repeatable; testaccept/acceptance.yaml's "
        "fuzz_exclude_paths are added: operations whose downstream a stage lacks)",
    )
    p.set_defaults(func=cmd_fuzz)
