"""``pym check``, ``pym token``, ``pym run``, ``pym tryme``: the service in this directory.

The development server itself is run/dev.py (``python server.py``); ``pym run`` execs it,
or with ``--workers N`` the image's server (run/serve.py).
"""

from __future__ import annotations

import glob
import os
import sys

from ..exceptions import StartupError
from . import table
from .errors import EXIT_OK, EXIT_USAGE, exit_codes
from .table import Command, arg

__all__ = ["add_commands", "cmd_check", "cmd_token", "cmd_run", "cmd_tryme", "require_server"]

SERVER_DOWN = "pymacaron: cannot start"  # how run and check name a startup error


def require_server(directory: str) -> None:
    if not os.path.isfile(os.path.join(directory, "server.py")):
        raise StartupError(
            f"no server.py in {os.path.abspath(directory)}: run this in a service's directory "
            "or pass --dir (pym new NAME writes one)"
        )


def cmd_check(args) -> int:
    """Load config, specs and handlers without serving; exit 0 when the service would start."""
    from ..app import load_service
    from ..config import read_config_file
    from ..server.docs import ENDPOINT_PREFIX

    require_server(args.dir)
    module = load_service(args.dir, env=args.env, eager=True)
    app = getattr(module, "app", None)
    if app is None:
        raise StartupError("server.py has no module-level 'app'", file="server.py")
    # the operations' routes: not Flask's static files, nor the served specs and docs page
    rules = [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint != "static" and not r.endpoint.startswith(ENDPOINT_PREFIX)
    ]
    # every stage's own file too (pym-config.<stage>.yaml): a broken one fails the build,
    # and a good one is recorded, so no stage's start validates its config again
    for path in sorted(glob.glob(os.path.join(args.dir, "pym-config.*.yaml"))):
        read_config_file(path, deploy=False)
    print(f"ok: {len(rules)} routes")
    return EXIT_OK


def cmd_token(args) -> int:
    """Print a JWT for a user, signed with this service's jwt_secret."""
    from ..auth import generate_token
    from ..config import set_service_dir

    set_service_dir(args.dir)
    print(generate_token(args.user, expire_in=args.expire_in))
    return EXIT_OK


def cmd_tryme(args) -> int:
    """Print curl lines to try a locally served service."""
    from ..auth import generate_token
    from ..config import set_service_dir

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
    return EXIT_OK


def cmd_run(args) -> int:
    """Serve the service: the development server, or with --workers N the image's server."""
    require_server(args.dir)
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
    return EXIT_OK  # pragma: no cover - execve does not return


DIR = arg("--dir", default=".", help="service directory (default: .)")


def add_commands(sub) -> None:
    printed = (EXIT_OK, "printed"), (EXIT_USAGE, "usage or pym-config error")
    commands = (
        Command(
            "check",
            "check that the service in DIR would start (config, specs, handlers)",
            cmd_check,
            (DIR, arg("--env", help="PYM_ENV to check")),
            exit_codes((EXIT_OK, "it would start"), (EXIT_USAGE, "it would not (one line)")),
            defaults={"who": SERVER_DOWN},
        ),
        Command(
            "token",
            "print a JWT for USER signed with the service's jwt_secret",
            cmd_token,
            (
                arg("user"),
                arg(
                    "--expire-in",
                    type=int,
                    default=None,
                    help="seconds (default: jwt_token_timeout)",
                ),
                DIR,
            ),  # fmt: skip
            exit_codes(*printed),
        ),
        Command(
            "run",
            "serve the service: the development server (one process), or with --workers N "
            "the image's server (granian, N processes)",
            cmd_run,
            (
                arg("--port", type=int, default=int(os.environ.get("PORT", 8080))),
                arg("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)"),
                arg("--workers", type=int, default=0, help="N processes, as in the image"),
                arg(
                    "--reload",
                    action="store_true",
                    help="restart when a Python file changes (dev server)",
                ),
                arg("--env", help="PYM_ENV to run as"),
                DIR,
                arg(
                    "--allow-unbound",
                    action="store_true",
                    help="an x-bind-server target that does not import answers 501 (not a "
                    "startup error)",
                ),
            ),  # fmt: skip
            "exit codes: the server's; 2 on a startup error",
            defaults={"who": SERVER_DOWN},
        ),
        Command(
            "tryme",
            "print curl lines for a service served locally",
            cmd_tryme,
            (arg("--port", type=int, default=8080), DIR),
            exit_codes(*printed),
        ),
    )
    table.add(sub, commands)
