"""Command line: ``python server.py --port 8080 [--debug] [--env E]`` and the ``pym`` tool.

``letsgo(__name__, callback=start)`` is the original's entry point: run as a script it
parses the options and serves with Flask's development server; imported (by gunicorn as
``server:app``) it only builds the app. A startup error prints one line naming the file
and the location (the traceback only with ``--debug``) and exits non-zero.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import traceback

from .exceptions import StartupError

log = logging.getLogger("pymacaron")

__all__ = ["letsgo", "main", "run_dev_server"]

# Set by letsgo() when server.py runs as a script; read by API.start().
standalone: dict = {"run": False, "host": "127.0.0.1", "raise": False}

# gunicorn's exit code for "worker failed to boot": the master stops instead of respawning.
GUNICORN_BOOT_ERROR = 3


def _server_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Serve this pymacaron service (development server)."
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT", 8080)),
        help="port to listen on (default: $PORT or 8080)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument(
        "--debug", action="store_true", help="verbose logs, tracebacks on startup errors"
    )
    parser.add_argument("--env", help="PYM_ENV to run as (reads pym-config.<env>.yaml if present)")
    return parser


def startup_failed(e: StartupError, debug: bool, code: int = 2):
    """Print a startup error the way a user wants to read it, then exit."""
    if debug:
        traceback.print_exc()
    print(f"pymacaron: cannot start: {e}", file=sys.stderr)
    sys.exit(code)


def letsgo(name: str, callback=None):
    """Run ``callback(port, debug)``: as a script it also serves; imported it only builds."""
    if callback is None:
        raise TypeError("letsgo() needs callback=start")
    if name == "__main__":
        args = _server_parser().parse_args()
        if args.env:
            os.environ["PYM_ENV"] = args.env
        standalone.update(run=True, host=args.host)
        try:
            callback(port=args.port, debug=args.debug)
        except StartupError as e:
            startup_failed(e, args.debug)
        return
    debug = os.environ.get("PYM_DEBUG", "").lower() in ("1", "true", "yes")
    try:
        callback(port=int(os.environ.get("PORT", 8080)), debug=debug)
    except StartupError as e:
        if standalone.get("raise"):
            raise
        startup_failed(e, debug, code=GUNICORN_BOOT_ERROR)


def run_dev_server(app, port: int, debug: bool = False) -> None:
    """Flask's threaded development server (gunicorn serves in the image)."""
    host = standalone.get("host", "127.0.0.1")
    log.info("serving on http://%s:%s (development server; the image runs granian)", host, port)
    from .tasks.dev import start_dev_worker

    # SIGTERM (not only Ctrl-C) ends the dev server cleanly: the exit hooks stop what it
    # started (the task worker, dynalite) and flush the access log
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    start_dev_worker()  # with_async: true -> a task worker next to the server
    importlib.import_module("pymacaron.persist.local").start_dev_dynamodb()  # x-persist
    app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)


# -- the pym tool -------------------------------------------------------------------------
def _load_service(directory: str, env: str | None):
    """Import the service's server.py the way gunicorn does (builds, does not serve)."""
    directory = os.path.abspath(directory)
    if env:
        os.environ["PYM_ENV"] = env
    os.environ.setdefault("PYM_SERVICE_DIR", directory)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    standalone["raise"] = True
    try:
        return importlib.import_module("server")
    finally:
        standalone["raise"] = False


def _require_server(directory: str) -> None:
    if not os.path.isfile(os.path.join(directory, "server.py")):
        raise StartupError(
            f"no server.py in {os.path.abspath(directory)}: run this in a service's directory "
            "or pass --dir (pym new NAME writes one)"
        )


def cmd_check(args) -> int:
    """Load config, specs and handlers without serving; exit 0 when the service would start."""
    _require_server(args.dir)
    module = _load_service(args.dir, args.env)
    app = getattr(module, "app", None)
    if app is None:
        raise StartupError("server.py has no module-level 'app'", file="server.py")
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    print(f"ok: {len(rules)} routes")
    return 0


def cmd_token(args) -> int:
    """Print a JWT for a user, signed with this service's jwt_secret."""
    from .auth import generate_token
    from .config import set_service_dir

    set_service_dir(args.dir)
    print(generate_token(args.user, expire_in=args.expire_in))
    return 0


def cmd_tryme(args) -> int:
    """Print curl lines to try a locally served service."""
    from .auth import generate_token
    from .config import set_service_dir

    set_service_dir(args.dir)
    base = f"http://127.0.0.1:{args.port}"
    token = generate_token("demo-user", expire_in=3600)
    print(f"""
Serving on {base} — try:
  curl -s {base}/ping
  curl -s {base}/version
  curl -s {base}/auth/version
  curl -s -H 'Authorization: Bearer {token}' {base}/auth/version
  curl -s -H 'Authorization: Bearer garbage' {base}/auth/version
(token for 'demo-user', valid 1 h: pym token demo-user)
""")
    examples = os.path.join(args.dir, "tryme.txt")
    if os.path.isfile(examples):
        with open(examples) as f:
            print(f.read().replace("{base}", base).replace("{token}", token))
    return 0


def cmd_run(args) -> int:
    """Serve the service: the development server, or with --workers N the image's server."""
    _require_server(args.dir)
    directory = os.path.abspath(args.dir)
    env = dict(os.environ, PYM_SERVICE_DIR=directory)
    if args.env:
        env["PYM_ENV"] = args.env
    if not args.workers:
        argv = [sys.executable, "server.py", "--port", str(args.port), "--host", args.host]
        print(f"pym run: development server, one process, on http://{args.host}:{args.port}")
    else:
        env.update(PORT=str(args.port), HOST=args.host, WEB_CONCURRENCY=str(args.workers))
        env["PYM_ACCESS_LOG"] = env.get("PYM_ACCESS_LOG", "1")
        argv = [sys.executable, "-m", "pymacaron.serve"]
        print(
            f"pym run: the image's server (granian), {args.workers} worker processes, on "
            f"http://{args.host}:{args.port}: module-level state is per process, as in the image"
        )
    sys.stdout.flush()
    os.chdir(directory)
    os.execve(argv[0], argv, env)
    return 0  # pragma: no cover - execve does not return


# Subcommands of the deploy kit (pymacaron[kit]); without it each says what to install.
KIT_COMMANDS = ("new", "synth", "deploy", "image", "pipeline", "lock", "smoke")


def _kit_missing(args) -> int:
    from . import __version__

    print(
        f"pym {args.command}: part of the deploy kit, not installed here: "
        f"pip install 'pymacaron[kit]=={__version__}'",
        file=sys.stderr,
    )
    return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pym", description="pymacaron command line")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "check", help="check that the service in DIR would start (config, specs, handlers)"
    )
    p.add_argument("--dir", default=".", help="service directory (default: .)")
    p.add_argument("--env", help="PYM_ENV to check")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("token", help="print a JWT for USER signed with the service's jwt_secret")
    p.add_argument("user")
    p.add_argument(
        "--expire-in", type=int, default=None, help="seconds (default: jwt_token_timeout)"
    )
    p.add_argument("--dir", default=".", help="service directory (default: .)")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser(
        "run",
        help="serve the service: the development server (one process), or with --workers N "
        "the image's server (granian, N processes)",
        epilog="exit codes: the server's; 2 on a startup error",
    )
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8080)))
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--workers", type=int, default=0, help="N processes, as in the image")
    p.add_argument("--env", help="PYM_ENV to run as")
    p.add_argument("--dir", default=".", help="service directory (default: .)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("tryme", help="print curl lines for a service served locally")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--dir", default=".", help="service directory (default: .)")
    p.set_defaults(func=cmd_tryme)

    _add_plugins(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.func(args) or 0
    except StartupError as e:
        startup_failed(e, args.debug)
    return 2


def _add_plugins(sub) -> None:
    """Subcommands contributed by other modules (acceptance runner, fuzzing, the deploy kit)."""
    for module_name in ("pymacaron.testing.cli", "pymacaron.testing.fuzz", "pymacaron_kit.cli"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            if module_name == "pymacaron_kit.cli":
                for name in KIT_COMMANDS:
                    p = sub.add_parser(name, help="(deploy kit: pip install 'pymacaron[kit]')")
                    p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
                    p.set_defaults(func=_kit_missing)
            continue
        module.add_commands(sub)


if __name__ == "__main__":
    sys.exit(main())
