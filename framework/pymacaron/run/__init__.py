"""Starting a service: the development server (dev.py), the production launch (serve.py:
granian or gunicorn, rsgi.py, drain.py, gunicorn_hooks.py) and ``pym mock`` (mock.py).

``pymacaron.run(app)`` is this package called: a script serves its app explicitly::

    app = create_app(__file__)

    if __name__ == "__main__":
        run(app)  # python server.py --port 8080 [--host H] [--debug]

(The package is callable so that ``pymacaron.run`` is the same object whether or not a
submodule such as ``pymacaron.run.dev`` was imported.)
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["run"]


def run(app: Flask, argv: list[str] | None = None) -> None:
    """Serve ``app`` with the development server, options from ``argv`` (default: the
    script's command line: ``--port``, ``--host``, ``--debug``; ``--env`` must be set
    before the app is built: ``pym run --env E`` or ``PYM_ENV=E python server.py``)."""
    from ..exceptions import StartupError
    from .dev import parse_args, run_dev_server, startup_failed

    args = parse_args(sys.argv[1:] if argv is None else argv)
    service = getattr(app, "extensions", {}).get("pymacaron")
    try:
        if args.env and service is not None and service.config.pym_env != args.env:
            raise StartupError(
                f"--env {args.env}: the app was already built for {service.config.pym_env!r}; "
                f"set it before create_app runs: pym run --env {args.env} "
                f"(or PYM_ENV={args.env} python server.py)"
            )
    except StartupError as e:
        startup_failed(e, args.debug)
    run_dev_server(app, port=args.port, host=args.host, debug=args.debug)


class _RunPackage(types.ModuleType):
    def __call__(self, app: Flask, argv: list[str] | None = None) -> None:
        return run(app, argv)


sys.modules[__name__].__class__ = _RunPackage
