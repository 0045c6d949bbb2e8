"""The v1 API, as the original pymacaron's server.py uses it, on top of the app factory::

    app = Flask(__name__)

    def start(port, debug):
        api = API(app, port=port, debug=debug, error_reporter=report)
        api.load_apis(os.path.join(here, "apis"))
        api.start(serve="petshop")

    letsgo(__name__, callback=start)

``API`` puts a :class:`~pymacaron.app.Service` on the given Flask app (the state
``create_app`` keeps); ``letsgo`` runs ``start`` and, run as a script, serves the started
app with the development server (run/dev.py).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable

from flask import Flask

from .aliases import deprecated
from .apipool import load_clients
from .app import Service, current_service, tool_import
from .current import EXTENSION
from .exceptions import StartupError
from .hooks import ErrorCallback, ErrorReporter
from .logs import setup_logging
from .run.dev import GUNICORN_BOOT_ERROR, parse_args, run_dev_server, startup_failed

__all__ = ["API", "letsgo", "IGNORED_ARGS"]

#: the v1 arguments that have no effect here, and what to use instead
IGNORED_ARGS = {
    "host": "the server's --host (pym run --host H, or HOST for the image's server)",
    "port": "the server's --port (pym run --port N, or PORT for the image's server)",
    "formats": "nothing: every format the spec declares is checked (spec/validation/formats.py)",
    "timeout": "pym-config clients: read_timeout / connect_timeout (client/settings.py)",
    "default_user_id": "pym-config default_user_id",
    "ping_hook": "nothing: /ping answers from the built-in API",
    "include_crash_api": "nothing: declare the operation in your own spec",
}


# what v1 answered for an argument not given
V1_DEFAULTS: dict[str, object] = {"host": "localhost", "port": 80, "timeout": 20}


def _ignored(what: str, instead: str) -> None:
    deprecated(f"{what} (ignored)", instead)


class API:
    """Loads specs, binds handlers and serves them on a Flask app (v1)."""

    # the ignored v1 arguments, kept (V1_DEFAULTS when not given)
    host: str
    port: int
    timeout: int
    default_user_id: str | None
    formats: object
    ping_hook: object

    def __init__(
        self,
        app: Flask,
        host: str | None = None,
        port: int | None = None,
        debug: bool = False,
        log_level: int | str | None = None,
        formats: object = None,  # ignored (IGNORED_ARGS)
        timeout: int | None = None,
        error_reporter: ErrorReporter | None = None,
        error_callback: ErrorCallback | None = None,
        default_user_id: str | None = None,
        ping_hook: object = None,  # ignored (IGNORED_ARGS)
    ):
        given = {
            "host": host,
            "port": port,
            "formats": formats,
            "timeout": timeout,
            "default_user_id": default_user_id,
            "ping_hook": ping_hook,
        }
        self.app = app
        self.debug = debug
        for name, value in given.items():  # kept as attributes, as v1 did (its defaults)
            if value is not None:
                _ignored(f"API({name}=...)", IGNORED_ARGS[name])
            setattr(self, name, V1_DEFAULTS.get(name) if value is None else value)
        setup_logging(debug=debug)
        if log_level is not None:
            logging.getLogger().setLevel(log_level)
        self.service: Service = app.extensions.get(EXTENSION) or Service(
            app, app.root_path or os.getcwd()
        )
        self.service.hooks.error_reporter = error_reporter
        self.service.hooks.error_callback = error_callback

    @property
    def loaded(self) -> list[str]:
        return self.service.loaded

    @property
    def apis_dir(self) -> str:
        return os.path.join(self.service.dir, "apis")

    def load_apis(
        self, path: str, ignore: Iterable[str] = (), include_crash_api: object = None
    ) -> API:
        """Load every ``*.yaml`` spec of ``path`` (and the built-in ping API)."""
        if include_crash_api is not None:
            _ignored("API.load_apis(include_crash_api=...)", IGNORED_ARGS["include_crash_api"])
        self.service.load_apis(path, ignore=ignore)
        return self

    def load_clients(self, path: str | None = None, apis: list[str] | None = None) -> API:
        """Load specs only to call them (``ApiPool.<api>.client``), as in the original."""
        load_clients(path=path, apis=apis)
        return self

    def publish_apis(self, path: str = "doc") -> API:
        """Kept for compatibility with the original (specs are not published by default)."""
        _ignored("API.publish_apis()", "the docs page and /openapi.json (server/docs.py)")
        return self

    def start(self, serve: str | list[str] | None = None) -> Flask:
        """Serve the named APIs (all loaded ones when None) plus /ping, /version."""
        return self.service.install_routes(serve)


def letsgo(name: str, callback: Callable[..., object] | None = None) -> None:
    """Run ``callback(port, debug)``: as a script it then serves; imported it only builds."""
    if callback is None:
        raise TypeError("letsgo() needs callback=start")
    if name == "__main__":
        args = parse_args()
        try:
            callback(port=args.port, debug=args.debug)
        except StartupError as e:
            startup_failed(e, args.debug)
        service = current_service()
        if service is not None:
            run_dev_server(service.app, port=args.port, host=args.host, debug=args.debug)
        return
    debug = os.environ.get("PYM_DEBUG", "").lower() in ("1", "true", "yes")
    try:
        callback(port=int(os.environ.get("PORT", 8080)), debug=debug)
    except StartupError as e:
        if tool_import():
            raise
        startup_failed(e, debug, code=GUNICORN_BOOT_ERROR)
