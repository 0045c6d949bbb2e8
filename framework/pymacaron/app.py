"""The app factory: ``create_app(service_dir)`` builds a service's Flask app; the
:class:`Service` on it (``app.extensions["pymacaron"]``) holds all its state.

A service's server.py::

    from pymacaron import create_app, run

    app = create_app(__file__)

    if __name__ == "__main__":
        run(app)  # python server.py --port 8080 / pym run: the development server

``python -m pymacaron.serve`` (granian, gunicorn) imports it and serves ``app``;
``python server.py`` serves it with the development server because it says so (run/).
Config, loaded APIs, served names and error hooks belong to the app, so two apps in one
process keep apart; request-time code finds them through ``flask.current_app``. The
process-wide views of the original API stay: ``ApiPool`` (every loaded API by name) and
``get_config()`` show the last created service.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import importlib
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING

from flask import Flask

from . import current
from .apipool import BUILTIN_DIR, Api, ApiPool, load_api, spec_files
from .config import PymConfig, get_config, load_config, set_config, set_service_dir
from .current import EXTENSION
from .exceptions import StartupError
from .hooks import ErrorCallback, ErrorHooks, ErrorReporter
from .logs import setup_logging
from .persist import prepare_tables
from .server.layers import MiddlewarePosition
from .server.routes import install
from .spec import validation
from .spec.yamlfile import display_path

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

    # a WSGI middleware of the user's: factory(wsgi_app) -> wsgi_app, at a position
    Middleware = Callable[[WSGIApplication], WSGIApplication]

log = logging.getLogger("pymacaron")

__all__ = ["create_app", "Service", "current_service", "load_service"]

BUILTIN_API = "ping"

# True while a tool imports a service (pym check, the task worker, the pytest plugin): a
# startup error then raises to the tool instead of printing one line and exiting.
_tool_import: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "pym_tool_import", default=False
)


class Service:
    """One service on one Flask app: its directory, config, APIs, served names, error hooks."""

    def __init__(
        self,
        app: Flask,
        service_dir: str,
        config: PymConfig | str | None = None,
        *,
        error_reporter: ErrorReporter | None = None,
        error_callback: ErrorCallback | None = None,
    ):
        self.app = app
        self.dir = os.path.abspath(service_dir)
        self.hooks = ErrorHooks(error_reporter, error_callback)
        self.apis: dict[str, Api] = {}
        self.loaded: list[str] = []  # the service's own specs (apis/), in load order
        self.served: list[str] = []
        # [(MiddlewarePosition, factory)]: the user's own WSGI
        self.middleware: list[tuple[MiddlewarePosition, Middleware]] = []
        self._config = config if isinstance(config, PymConfig) else None
        self._config_path = config if isinstance(config, str) else None
        app.extensions[EXTENSION] = self

    @property
    def config(self) -> PymConfig:
        if self._config is None:
            return self.use_config()
        return self._config

    @property
    def loaded_config(self) -> PymConfig | None:
        """The config once read (get_config() in this app's requests), else None."""
        return self._config

    def use_config(self) -> PymConfig:
        """Read (once) this service's pym-config, and make it ``get_config()``'s."""
        set_service_dir(self.dir)
        if self._config is None and self._config_path:
            self._config = load_config(path=self._config_path)
        if self._config is None:
            conf = get_config()
            if os.path.dirname(conf.path) != self.dir:  # $PYM_SERVICE_DIR names another
                conf = load_config(self.dir)
            self._config = conf
        set_config(self._config)
        return self._config

    # -- loading -----------------------------------------------------------------------
    def load_apis(self, path: str | None = None, ignore: Iterable[str] = ()) -> Service:
        """Load every spec of ``path`` (default: the service's apis/) and the built-in one."""
        path = os.path.abspath(path or os.path.join(self.dir, "apis"))
        if self._config is None and self._config_path is None:
            self.dir = os.path.dirname(path)
        config = self.use_config()  # fail fast on a broken pym-config, before the specs
        self._load_builtin()
        strict = validation.STRICT_FORMATS.set(bool(config.get("strict_formats")))
        try:
            self._load_specs(path, ignore)
        finally:
            validation.STRICT_FORMATS.reset(strict)
        return self

    def _load_specs(self, path: str, ignore: Iterable[str]) -> None:
        for spec_path in spec_files(path):
            name = os.path.splitext(os.path.basename(spec_path))[0]
            if name in ignore:
                continue
            if name == BUILTIN_API:
                raise StartupError(
                    f"'{BUILTIN_API}' is the name of pymacaron's built-in API: rename the file",
                    file=display_path(spec_path),
                )
            self.apis[name] = load_api(spec_path)
            self.loaded.append(name)

    def _load_builtin(self) -> None:
        if BUILTIN_API not in self.apis:
            if not ApiPool.has(BUILTIN_API):
                load_api(os.path.join(BUILTIN_DIR, "ping.yaml"), name=BUILTIN_API, builtin=True)
            self.apis[BUILTIN_API] = ApiPool.get(BUILTIN_API)

    def api(self, name: str) -> Api:
        """A loaded API of this service (or, as v1 allowed, one added to ApiPool)."""
        api = self.apis.get(name)
        if api is None and ApiPool.has(name):
            api = self.apis[name] = ApiPool.get(name)
        if api is None:
            raise StartupError(
                f"serve={name!r}: no such API was loaded "
                f"(loaded: {', '.join(self.loaded) or 'none'})"
            )
        return api

    # -- serving -----------------------------------------------------------------------
    def add_middleware(
        self,
        factory: Middleware,
        position: MiddlewarePosition = MiddlewarePosition.BEFORE_DISPATCH,
    ) -> Service:
        """Put ``factory(wsgi_app)`` (a WSGI middleware of your own) at ``position`` among
        the layers (server/layers.py); before the app is served."""
        if getattr(self.app, "_pymacaron_installed", False):
            raise StartupError(
                "add_middleware() after the app is served: pass it to "
                "create_app(..., middleware=[(position, factory)])"
            )
        self.middleware.append((MiddlewarePosition(position), factory))
        return self

    def serve(self, names: str | list[str] | None = None) -> Flask:
        """Deprecated name of :meth:`install_routes` (it never served anything)."""
        from .aliases import deprecated

        deprecated("Service.serve()", "Service.install_routes()")
        return self.install_routes(names)

    def install_routes(self, names: str | list[str] | None = None) -> Flask:
        """Route the named APIs (every loaded one when None) plus /ping and /version."""
        if isinstance(names, str):
            names = [names]
        names = list(names) if names else list(self.loaded)
        apis = [self.api(n) for n in names]
        self._load_builtin()
        install(self.app, apis + [self.apis[BUILTIN_API]], self.config, self.middleware)
        self.served = names
        # the process-wide views: ApiPool's names and the hooks of errors outside a request
        ApiPool.served = names
        ApiPool.current_server_name = names[0] if names else None
        ApiPool.current_server_api = apis[0] if apis else None
        current.set_last_started(self)
        prepare_tables()  # x-persist: missing tables, on a local DynamoDB only
        return self.app


def current_service() -> Service | None:
    """The service of the app serving this request, else the last started one."""
    return current.serving() or current.last_started()


def create_app(
    service_dir: str = ".",
    config: PymConfig | str | None = None,
    *,
    serve: str | list[str] | None = None,
    error_reporter: ErrorReporter | None = None,
    error_callback: ErrorCallback | None = None,
    ignore: Iterable[str] = (),
    debug: bool = False,
    middleware: Iterable[tuple[MiddlewarePosition, Middleware]] = (),
) -> Flask:
    """A ready WSGI app serving the service in ``service_dir`` (or the directory of the
    file given: ``create_app(__file__)``).

    ``config``: a :class:`PymConfig` or a pym-config path (default: the directory's
    pym-config for ``$PYM_ENV``); ``serve``: the APIs to route (default: all of apis/);
    ``error_reporter(title, data)`` gets every 5xx off the request path;
    ``error_callback(body)`` renders every error reply; ``middleware``: your own WSGI
    middleware, ``[(MiddlewarePosition.X, factory)]`` (server/layers.py).

    Wherever it is called it builds and returns the app, nothing else: it reads no
    command line and starts no server (serving a script is explicit: ``pymacaron.run(app)``
    under ``if __name__ == "__main__":``). Raises :class:`StartupError`; one that nobody
    catches is printed as one line and the process exits 2 (``debug``: with the traceback).
    """
    try:
        app = _build(
            service_dir, config, serve, error_reporter, error_callback, ignore, debug, middleware
        )
    except StartupError as e:
        _report_if_uncaught(e, debug)
        raise
    _hint_if_never_served(service_dir, app)
    return app


UNSERVED_HINT = (
    "pymacaron: {script} built the app but nothing served it; to serve it, add\n"
    '    if __name__ == "__main__":\n'
    "        run(app)  # from pymacaron import run\n"
    "(create_app no longer starts a server by itself since 3.2: CHANGELOG.md; `pym run`, "
    "gunicorn and the image serve `app` as they are)"
)


def _hint_if_never_served(service_dir: str, app: Flask) -> None:
    """``python server.py`` of a server.py written for 3.1 (``app = create_app(__file__)``
    and nothing else) used to serve; now it would exit at once, silently. When the file
    given is the script being run, say at exit, if nothing served the app, what to add."""
    script = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if not script or os.path.abspath(service_dir) != script:
        return

    def hint() -> None:
        if not app.extensions.get("pymacaron.served"):  # run/dev.py SERVED
            print(UNSERVED_HINT.format(script=os.path.basename(script)), file=sys.stderr)

    atexit.register(hint)


def _report_if_uncaught(error: StartupError, debug: bool) -> None:
    """If ``error`` reaches the top of the process uncaught (a script's
    ``app = create_app(__file__)``), print it as one line and exit 2 instead of a traceback;
    a caller that catches it sees nothing of this."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if value is not error:
            previous(kind, value, tb)
            return
        if debug:
            previous(kind, value, tb)
        print(f"pymacaron: cannot start: {error}", file=sys.stderr)
        sys.stderr.flush()
        sys.stdout.flush()
        logging.shutdown()
        os._exit(2)

    sys.excepthook = hook


def _build(
    service_dir: str,
    config: PymConfig | str | None,
    serve: str | list[str] | None,
    error_reporter: ErrorReporter | None,
    error_callback: ErrorCallback | None,
    ignore: Iterable[str],
    debug: bool,
    middleware: Iterable[tuple[MiddlewarePosition, Middleware]] = (),
) -> Flask:
    service_dir = os.path.abspath(service_dir)
    if os.path.isfile(service_dir):
        service_dir = os.path.dirname(service_dir)
    setup_logging(debug=debug)
    app = Flask(os.path.basename(service_dir) or "pymacaron", root_path=service_dir)
    service = Service(
        app,
        service_dir,
        config,
        error_reporter=error_reporter,
        error_callback=error_callback,
    )
    if service_dir not in sys.path:
        sys.path.insert(0, service_dir)  # x-bind-server names the service's own modules
    for position, factory in middleware:
        service.add_middleware(factory, position)
    service.load_apis(os.path.join(service_dir, "apis"), ignore=ignore)
    service.install_routes(serve)
    return app


@contextlib.contextmanager
def _tool(eager: bool) -> Iterator[None]:
    tokens = (_tool_import.set(True), validation.EAGER.set(eager))
    try:
        yield
    finally:
        validation.EAGER.reset(tokens[1])
        _tool_import.reset(tokens[0])


def load_service(
    directory: str, module: str = "server", env: str | None = None, eager: bool = False
) -> ModuleType:
    """Import a service's server.py as gunicorn does (it builds, it does not serve), for a
    tool: startup errors raise, and with ``eager`` every validator compiles now (``pym
    check`` fills the validator cache so). Returns the module."""
    directory = os.path.abspath(directory)
    if env:
        os.environ["PYM_ENV"] = env
    os.environ.setdefault("PYM_SERVICE_DIR", directory)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    with _tool(eager), validation.proving() if eager else contextlib.nullcontext():
        return importlib.import_module(module)


def tool_import() -> bool:
    """True while :func:`load_service` imports a service (startup errors raise)."""
    return _tool_import.get()
