"""The ``pym`` command: ``check``, ``token``, ``run``, ``tryme`` here, the rest from plugins
(the acceptance runner, fuzzing, the deploy kit). A user error prints one line, exit 2.

The development server (``python server.py``) is run/dev.py; ``letsgo`` (v1) is api.py.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from .exceptions import StartupError
from .run.dev import startup_failed

log = logging.getLogger("pymacaron")

__all__ = ["main"]


def __getattr__(name: str):
    # ``from pymacaron.cli import letsgo`` (its home before the app factory): api.letsgo
    if name == "letsgo":
        from .api import letsgo

        return letsgo
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- the pym tool -------------------------------------------------------------------------
def _load_service(directory: str, env: str | None, eager: bool = False):
    """Import the service's server.py the way gunicorn does (builds, does not serve)."""
    from .app import load_service

    return load_service(directory, env=env, eager=eager)


def _require_server(directory: str) -> None:
    if not os.path.isfile(os.path.join(directory, "server.py")):
        raise StartupError(
            f"no server.py in {os.path.abspath(directory)}: run this in a service's directory "
            "or pass --dir (pym new NAME writes one)"
        )


def cmd_check(args) -> int:
    """Load config, specs and handlers without serving; exit 0 when the service would start."""
    _require_server(args.dir)
    module = _load_service(args.dir, args.env, eager=True)
    app = getattr(module, "app", None)
    if app is None:
        raise StartupError("server.py has no module-level 'app'", file="server.py")
    from .server.docs import ENDPOINT_PREFIX

    # the operations' routes: not Flask's static files, nor the served specs and docs page
    rules = [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint != "static" and not r.endpoint.startswith(ENDPOINT_PREFIX)
    ]
    # every stage's own file too (pym-config.<stage>.yaml): a broken one fails the build,
    # and a good one is recorded, so no stage's start validates its config again
    import glob

    from .config import read_config_file

    for path in sorted(glob.glob(os.path.join(args.dir, "pym-config.*.yaml"))):
        read_config_file(path, deploy=False)
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
    if getattr(args, "allow_unbound", False):  # handlers that do not import answer 501
        env["PYM_ALLOW_UNBOUND"] = "1"
    if args.reload and args.workers:
        raise StartupError("--reload is for the development server: drop --workers")
    if args.reload:
        env["PYM_RELOAD"] = "1"
    if not args.workers:
        argv = [sys.executable, "-m", "pymacaron.run.script", "server.py"]
        argv += ["--port", str(args.port), "--host", args.host]
        reload = ", restarted when a file changes" if args.reload else ""
        print(
            f"pym run: development server, one process{reload}, on "
            f"http://{args.host}:{args.port} (docs: http://{args.host}:{args.port}/docs)"
        )
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
    from . import __version__

    parser = argparse.ArgumentParser(prog="pym", description="pymacaron command line")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--version", action="version", version=f"pym (pymacaron) {__version__}")
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
    p.add_argument(
        "--reload", action="store_true", help="restart when a Python file changes (dev server)"
    )
    p.add_argument("--env", help="PYM_ENV to run as")
    p.add_argument("--dir", default=".", help="service directory (default: .)")
    p.add_argument(
        "--allow-unbound",
        action="store_true",
        help="an x-bind-server target that does not import answers 501 (not a startup error)",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("tryme", help="print curl lines for a service served locally")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--dir", default=".", help="service directory (default: .)")
    p.set_defaults(func=cmd_tryme)

    from .guides import add_commands as add_docs_command

    add_docs_command(sub)
    _add_plugins(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    # the service loaded by a command (pym check) logs through this handler, not a second
    # one of its own (logs.setup_logging): each line once
    for handler in logging.getLogger().handlers:
        handler._pymacaron_handler = True
    _dev_secret(args)
    try:
        return args.func(args) or 0
    except StartupError as e:
        # the server commands could not start it; every other one failed at its own task
        server = args.command in ("run", "check")
        startup_failed(
            e, args.debug, prefix="pymacaron: cannot start" if server else f"pym {args.command}"
        )
    return 2


def _dev_secret(args) -> None:
    """In a service directory, for a development PYM_ENV with no JWT_SECRET exported: make
    sure ``.pym/dev-secret`` exists, so the server and every command agree (devsecret.py)."""
    from .devsecret import DEV_ENVS, SECRET_NAME, ensure_dev_secret

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


def _add_plugins(sub) -> None:
    """Subcommands contributed by other modules (acceptance runner, fuzzing, the deploy kit)."""
    plugins = ("pymacaron.testing.cli", "pymacaron.testing.fuzz", "pymacaron.run.mock")
    for module_name in (*plugins, "pymacaron_kit.cli"):
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
