"""The development server: ``python server.py --port 8080 [--host H] [--debug] [--env E]``.

Flask's threaded server, one process (the image runs granian, see serve.py), with what a
developer's machine needs next to it: the task worker (``with_async: true``) and a local
DynamoDB (``x-persist``). ``create_app`` (app.py) and ``letsgo`` (api.py) call it when
server.py runs as a script; ``pym run`` runs server.py so. Also here: the one-line report
of a startup error (:func:`startup_failed`), shared with the ``pym`` command.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
import time
import traceback

from ..exceptions import StartupError

log = logging.getLogger("pymacaron")

__all__ = ["parse_args", "run_dev_server", "startup_failed", "GUNICORN_BOOT_ERROR"]

SERVED = "pymacaron.served"  # app.extensions key: the development server serves this app

# gunicorn's exit code for "worker failed to boot": the master stops instead of respawning.
GUNICORN_BOOT_ERROR = 3
DRAIN_SECONDS = 20  # the dev server's wait for requests in flight after SIGTERM


def _parser() -> argparse.ArgumentParser:
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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The script's options; ``--env`` is applied (PYM_ENV) before anything reads config."""
    args = _parser().parse_args(argv)
    if args.env:
        os.environ["PYM_ENV"] = args.env
    return args


def startup_failed(
    e: StartupError, debug: bool, code: int = 2, prefix: str = "pymacaron: cannot start"
):
    """Print a startup error the way a user wants to read it, then exit."""
    if debug:
        traceback.print_exc()
    print(f"{prefix}: {e}", file=sys.stderr)
    sys.exit(code)


def run_dev_server(app, port: int, host: str = "127.0.0.1", debug: bool = False) -> None:
    """Flask's threaded development server (granian serves in the image).

    ``PYM_RELOAD=1`` (``pym run --reload``): werkzeug's reloader restarts the server, its task
    worker and dynalite when a Python file of the service changes; the watching parent
    starts none of them."""
    extensions = getattr(app, "extensions", None)
    if isinstance(extensions, dict):  # create_app's hint for a script that never serves
        extensions[SERVED] = True
    reload = os.environ.get("PYM_RELOAD") == "1"
    if reload and not os.environ.get("WERKZEUG_RUN_MAIN"):  # the reloader's watching parent
        app.run(host=host, port=port, debug=False, use_reloader=True, threaded=True)
        return
    log.info("serving on http://%s:%s (development server; the image runs granian)", host, port)
    from werkzeug.serving import make_server

    from ..tasks.dev import start_dev_worker

    if reload:  # the reloader's child: restarted on an edit (no drain, a development aid)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        importlib.import_module("pymacaron.persist.local").start_dev_dynamodb()
        start_dev_worker()
        app.run(host=host, port=port, debug=False, use_reloader=True, threaded=True)
        return
    server = make_server(host, port, app, threaded=True)
    stopping = threading.Event()

    def drain(*_):  # SIGTERM: stop accepting, let the requests received finish
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, drain)
    # x-persist first: the worker inherits PYM_DYNAMODB_URL (a task may store a model)
    importlib.import_module("pymacaron.persist.local").start_dev_dynamodb()
    start_dev_worker()  # with_async: true -> a task worker next to the server
    try:
        server.serve_forever()
    finally:
        server.server_close()
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline and any(
        "process_request" in t.name for t in threading.enumerate()
    ):
        time.sleep(0.05)
    # the exit hooks stop what it started (the task worker, dynalite), flush the access log
    sys.exit(0)
