"""The API object a service's server.py creates, as in the original pymacaron::

app = Flask(__name__)

def start(port, debug):
    api = API(app, port=port, debug=debug, error_reporter=report)
    api.load_apis(os.path.join(here, "apis"))
    api.start(serve="petshop")

letsgo(__name__, callback=start)
"""

from __future__ import annotations

import logging
import os
import re

from flask import Flask
from werkzeug.exceptions import HTTPException

from . import cli
from .apipool import BUILTIN_DIR, Api, ApiPool, load_api, spec_files
from .config import get_config, set_service_dir
from .exceptions import StartupError
from .logs import RequestIdMiddleware, setup_logging
from .persist import prepare_tables
from .server.dispatch import SpecDispatch
from .server.docs import install_docs
from .server.headers import SECURITY_HEADERS, CorsMiddleware
from .server.operation import Operation, flask_rule
from .server.replies import exception_reply, handling
from .spec.yamlfile import display_path

log = logging.getLogger("pymacaron")

__all__ = ["API"]

BUILTIN_API = "ping"


class API:
    """Loads specs, binds handlers and serves them on a Flask app."""

    def __init__(
        self,
        app: Flask,
        host: str = "localhost",
        port: int = 80,
        debug: bool = False,
        log_level=None,
        formats=None,
        timeout: int = 20,
        error_reporter=None,
        error_callback=None,
        default_user_id: str | None = None,
        ping_hook=None,
    ):
        self.app = app
        self.host = host
        self.port = port
        self.debug = debug
        self.timeout = timeout
        self.default_user_id = default_user_id
        self.ping_hook = ping_hook
        setup_logging(debug=debug)
        if log_level is not None:
            logging.getLogger().setLevel(log_level)
        handling.error_reporter = error_reporter
        handling.error_callback = error_callback
        self.apis_dir: str | None = None
        self.loaded: list[str] = []

    # -- loading -----------------------------------------------------------------------
    def load_apis(self, path: str, ignore: list[str] | tuple = (), include_crash_api: bool = False):
        """Load every ``*.yaml`` spec of ``path`` (and the built-in ping API)."""
        path = os.path.abspath(path)
        self.apis_dir = path
        set_service_dir(os.path.dirname(path))
        get_config()  # fail fast on a broken pym-config, before the specs
        self._load_builtin()
        for spec_path in spec_files(path):
            name = os.path.splitext(os.path.basename(spec_path))[0]
            if name in ignore:
                continue
            if name == BUILTIN_API:
                raise StartupError(
                    f"'{BUILTIN_API}' is the name of pymacaron's built-in API: rename the file",
                    file=display_path(spec_path),
                )
            load_api(spec_path)
            self.loaded.append(name)
        return self

    def load_clients(self, path: str | None = None, apis: list[str] | None = None):
        """Load specs only to call them (``ApiPool.<api>.client``), as in the original.

        ``path`` defaults to ``./apis``; ``apis`` names the specs to load (all when None).
        """
        path = os.path.abspath(path or os.path.join(os.getcwd(), "apis"))
        if isinstance(apis, str):
            apis = [apis]
        wanted = set(apis or [])
        for spec_path in spec_files(path):
            name = os.path.splitext(os.path.basename(spec_path))[0]
            if wanted and name not in wanted:
                continue
            if not ApiPool.has(name):
                load_api(spec_path)
        missing = wanted - set(ApiPool.names())
        if missing:
            raise StartupError(
                f"no spec for API(s) {', '.join(sorted(missing))}", file=display_path(path)
            )
        return self

    def _load_builtin(self) -> None:
        if not ApiPool.has(BUILTIN_API):
            load_api(os.path.join(BUILTIN_DIR, "ping.yaml"), name=BUILTIN_API, builtin=True)

    def publish_apis(self, path: str = "doc"):
        """Kept for compatibility with the original (specs are not published by default)."""
        return self

    # -- serving -----------------------------------------------------------------------
    def start(self, serve: str | list[str] | None = None):
        """Serve the named APIs (all loaded ones when None) plus /ping, /version."""
        if isinstance(serve, str):
            serve = [serve]
        names = list(serve) if serve else list(self.loaded)
        for name in names:
            if not ApiPool.has(name):
                raise StartupError(
                    f"api.start(serve={name!r}): no such API was loaded "
                    f"(loaded: {', '.join(self.loaded) or 'none'})"
                )
        self._load_builtin()
        conf = get_config()
        install(self.app, [ApiPool.get(n) for n in names] + [ApiPool.get(BUILTIN_API)], conf)
        ApiPool.served = names
        ApiPool.current_server_name = names[0] if names else None
        ApiPool.current_server_api = ApiPool.get(names[0]) if names else None
        prepare_tables()  # x-persist: missing tables, on a local DynamoDB only
        if cli.standalone.get("run"):
            cli.run_dev_server(self.app, port=self.port, debug=self.debug)
        return self.app


def install(app: Flask, apis: list[Api], conf) -> None:
    """Add one Flask route per operation, the error handlers and the request-id middleware."""
    routes: dict[tuple[str, str], str] = {}
    app.url_map.strict_slashes = False
    for api in apis:
        base = "" if (conf.ignore_base_path or api.builtin) else api.spec.base_path
        declared: dict[str, set[str]] = {}
        for op_spec in api.spec.operations:
            declared.setdefault(op_spec.path, set()).add(op_spec.method)
        # a spec's own HEAD and OPTIONS first: werkzeug adds HEAD to a GET rule and Flask
        # answers OPTIONS itself on the first rule of a path that matches
        ordered = sorted(
            api.spec.operations, key=lambda o: 0 if o.method in ("head", "options") else 1
        )
        for op_spec in ordered:
            if op_spec.x("no-bind-server"):
                continue
            rule, _ = flask_rule(base + op_spec.path)
            key = (op_spec.method, _normal(rule))
            where = f"{display_path(api.spec.path)}: {op_spec.label}"
            if key in routes:
                raise StartupError(
                    f"duplicate route {op_spec.method.upper()} {base}{op_spec.path}: "
                    f"also served by {routes[key]}",
                    file=display_path(api.spec.path),
                    location=op_spec.label,
                )
            routes[key] = where
            operation = Operation(op_spec, api.spec, api.json_definitions, api.models, conf)
            methods = declared[op_spec.path]
            app.add_url_rule(
                rule,
                endpoint=operation.endpoint,
                view_func=operation,
                methods=[op_spec.method.upper()],
                provide_automatic_options=False if "options" in methods else None,
            )
            if op_spec.method == "get" and "head" in methods:
                # the spec's HEAD operation answers HEAD, not this GET rule
                app.url_map._rules_by_endpoint[operation.endpoint][-1].methods.discard("HEAD")
    install_docs(app, apis, conf)  # /openapi.json, /swagger.json, /docs
    app.config["MAX_CONTENT_LENGTH"] = conf.max_body_size
    if not getattr(app, "_pymacaron_installed", False):
        app.register_error_handler(HTTPException, exception_reply)
        app.register_error_handler(Exception, exception_reply)
        wsgi_app = SpecDispatch(app, app.wsgi_app)  # spec routes skip Flask's URL matching
        if conf.cors_origins:
            wsgi_app = CorsMiddleware(wsgi_app, conf.cors_origins)
        # PYM_ACCESS_LOG=0: the server writes the access log (the image's gunicorn does)
        access = conf.access_log and os.environ.get("PYM_ACCESS_LOG", "1").lower() not in (
            "0",
            "false",
            "no",
        )
        fmt = conf.access_log if conf.access_log in ("text", "json") else "text"
        app.wsgi_app = RequestIdMiddleware(
            wsgi_app,
            access_log_enabled=bool(access),
            extra_headers=SECURITY_HEADERS,
            access_log_format=fmt,
        )
        app._pymacaron_installed = True
    log.info(
        "serving %s on %d routes (pym_env=%s)",
        ", ".join(a.name for a in apis),
        len(routes),
        conf.pym_env,
    )


def _normal(rule: str) -> str:
    """Routes that differ only by variable names are the same route."""
    return re.sub(r"<p\d+>", "<>", rule)
