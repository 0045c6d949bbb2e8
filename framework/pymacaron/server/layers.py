"""The WSGI layers around the Flask app, in their order, in one place: :data:`LAYERS`.

A request goes through them from the first to the last, then into :class:`SpecDispatch`
(spec routes) or Flask, then ``Operation.__call__`` (the request pipeline)::

    RequestId        X-Request-ID in (or a new one) and out; set before anything logs
    SecurityHeaders  nosniff, DENY, CSP, no-referrer on every reply: errors, CORS refusals
    AccessLog        one line per request, timed around everything below it
    Cors             preflights and Access-Control-* (only with cors_origins in pym-config)
    SpecDispatch     spec routes without werkzeug's URL matching (dispatch.py)

Each layer is a small class ``Layer(app, config)`` with ``wanted(config)`` saying whether
it is installed at all (CORS without ``cors_origins``, the access log when the server
writes one), so a layer that is off costs nothing per request; every wanted layer of
LAYERS is built, in that order, and nothing else (but a user's own middleware). Errors a
layer answers itself are written by error_body.py, as every other error.

When nothing of the user's sits between them, RequestId runs itself, SecurityHeaders and
AccessLog as one layer (:func:`_folded`: one call, one ``start_response`` wrapper, the same
headers in the same order, the same access line); the three objects stay in the chain.

A user's own WSGI middleware goes at a named point (:class:`MiddlewarePosition`), e.g.
``create_app(__file__, middleware=[(MiddlewarePosition.BEFORE_DISPATCH, Gzip)])`` or
``service.add_middleware(Gzip, MiddlewarePosition.OUTERMOST)``: ``factory(wsgi_app)``
returns the wrapped WSGI callable.
"""

from __future__ import annotations

import enum
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..error_body import wsgi_error
from ..logs import _VALID_ID, _request_id, new_request_id
from . import accesslog
from .dispatch import SpecDispatch
from .environ import REQUEST_ID, ROUTE_CSP, STATUS
from .headers import ALLOWED_HEADERS, ALLOWED_METHODS, MAX_AGE, SECURITY_HEADERS

if TYPE_CHECKING:
    from _typeshed import OptExcInfo as ExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask import Flask

    Write = Callable[[bytes], object]
    Headers = list[tuple[str, str]]
    Middleware = Callable[[WSGIApplication], WSGIApplication]

__all__ = [
    "LAYERS",
    "MiddlewarePosition",
    "RequestId",
    "SecurityHeaders",
    "AccessLog",
    "Cors",
    "wrap",
]

access_log = logging.getLogger("pymacaron.access")

CSP = "Content-Security-Policy"


class RequestId:
    """The request id: from a sane ``X-Request-ID`` or new, in the environ, the log context
    (``logs.get_request_id()``) and the reply's ``X-Request-ID``. It records the reply's
    status in ``environ[STATUS]`` (the access log's)."""

    def __init__(self, app: WSGIApplication, config: Any = None) -> None:
        self.app = app

    @staticmethod
    def wanted(config: Any) -> bool:
        return True

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        inner = self.app
        if type(inner) is SecurityHeaders:  # nothing of the user's between them: the fold
            return _folded(inner, environ, start_response)
        rid = environ.get("HTTP_X_REQUEST_ID")
        if not rid or not _VALID_ID.match(rid):
            rid = new_request_id()
        environ[REQUEST_ID] = rid
        token = _request_id.set(rid)

        def _start_response(
            status: str, headers: Headers, exc_info: ExcInfo | None = None
        ) -> Write:
            environ[STATUS] = status
            headers.append(("X-Request-ID", rid))
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, _start_response)
        finally:
            _request_id.reset(token)


class SecurityHeaders:
    """The headers every reply of the app carries (headers.SECURITY_HEADERS: the one
    place they are added; a route's own CSP, ``environ[ROUTE_CSP]``, replaces the strict one).
    Replies written outside the app (gunicorn's and the RSGI front's own errors) add the same
    tuple themselves."""

    def __init__(
        self,
        app: WSGIApplication,
        config: Any = None,
        headers: Iterable[tuple[str, str]] = SECURITY_HEADERS,
    ) -> None:
        self.app = app
        self.headers = tuple(headers)

    @staticmethod
    def wanted(config: Any) -> bool:
        return True

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        extra = self.headers

        def _start_response(
            status: str, headers: Headers, exc_info: ExcInfo | None = None
        ) -> Write:
            csp = environ.get(ROUTE_CSP)
            if csp is None:
                headers.extend(extra)
            else:
                headers.extend((k, csp if k == CSP else v) for k, v in extra)
            return start_response(status, headers, exc_info)

        return self.app(environ, _start_response)


def access_log_wanted(config: Any) -> bool:
    """``access_log`` on in pym-config, and not ``PYM_ACCESS_LOG=0`` (the server writes it:
    the image's gunicorn does)."""
    if not getattr(config, "access_log", True):
        return False
    return os.environ.get("PYM_ACCESS_LOG", "1").lower() not in ("0", "false", "no")


class AccessLog:
    """One access line per request (method, path, status, duration, request id).

    ``access_log: text`` (default) or ``json``; accesslog.py writes the lines, buffered,
    without ``logging``. Setting the ``pymacaron.access`` logger above INFO silences it; a
    handler of its own on that logger makes the lines go through ``logging``.
    """

    def __init__(
        self,
        app: WSGIApplication,
        config: Any = None,
        fmt: str | None = None,
        status_recorded: bool = False,
    ) -> None:
        self.app = app
        # RequestId outside this layer records the status: no start_response wrapper here
        self.status_recorded = status_recorded
        if fmt is None:
            fmt = getattr(config, "access_log", "text")
            fmt = fmt if fmt in accesslog.FORMATS else "text"
        if fmt not in accesslog.FORMATS:
            raise ValueError(f"access_log_format: expected text or json, got {fmt!r}")
        self._line = accesslog.LINE_BUILDERS[fmt]
        self._writer = None
        if not access_log.handlers and _stderr_is_fd2():
            self._writer = accesslog.writer()
            self._writer.install_signal_handlers()

    wanted = staticmethod(access_log_wanted)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start = time.perf_counter()
        if not self.status_recorded:
            inner = start_response

            def _recording(status: str, headers: Headers, exc_info: ExcInfo | None = None) -> Write:
                environ[STATUS] = status
                return inner(status, headers, exc_info)

            start_response = _recording

        try:
            return self.app(environ, start_response)
        finally:
            self.log(environ, start)

    def log(self, environ: WSGIEnvironment, start: float) -> None:
        """The access line of the request of ``environ``, begun at ``start``
        (``time.perf_counter()``): its status as recorded in ``environ[STATUS]``."""
        if access_log.isEnabledFor(logging.INFO):
            ms = (time.perf_counter() - start) * 1000
            path = environ.get("PATH_INFO", "")
            if len(path) > 200 or not path.isprintable():
                path = _safe_path(path)
            status = environ.get(STATUS)
            status = status.split(" ", 1)[0] if status else "-"
            rid = environ.get(REQUEST_ID) or "-"
            if self._writer is not None:
                method: str = environ.get("REQUEST_METHOD")  # type: ignore[assignment]  # PEP 3333: always set
                self._writer.write(self._line(time.time(), rid, method, path, status, ms))
            else:
                access_log.info("%s %s %s %.1fms", environ.get("REQUEST_METHOD"), path, status, ms)


def _folded(
    security: SecurityHeaders, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    """RequestId, ``security`` (the SecurityHeaders layer right inside it) and the AccessLog
    layer right inside that, if there is one, as one layer: what each does, in one call and
    one ``start_response`` wrapper (the status recorded, the security headers then
    ``X-Request-ID`` added, in the order the three separate layers add them). The layer
    objects stay where :func:`wrap` put them (their ``.app`` is read on each request), so
    a user's middleware between two of them ends the fold there."""
    rid = environ.get("HTTP_X_REQUEST_ID")
    if not rid or not _VALID_ID.match(rid):
        rid = new_request_id()
    environ[REQUEST_ID] = rid
    token = _request_id.set(rid)
    extra = security.headers

    def _start_response(status: str, headers: Headers, exc_info: ExcInfo | None = None) -> Write:
        environ[STATUS] = status
        csp = environ.get(ROUTE_CSP)
        if csp is None:
            headers.extend(extra)
        else:
            headers.extend((k, csp if k == CSP else v) for k, v in extra)
        headers.append(("X-Request-ID", rid))
        return start_response(status, headers, exc_info)

    inner = security.app
    try:
        if type(inner) is not AccessLog:
            return inner(environ, _start_response)
        start = time.perf_counter()
        try:
            return inner.app(environ, _start_response)
        finally:
            inner.log(environ, start)
    finally:
        _request_id.reset(token)


class Cors:
    """CORS for the origins of ``cors_origins`` (``["*"]``: any): preflights answered here,
    ``Access-Control-Allow-Origin`` on their replies. Without ``cors_origins`` the layer is
    not installed and no CORS header is ever sent (browsers refuse cross-origin calls)."""

    def __init__(
        self, app: WSGIApplication, config: Any = None, origins: list[str] | None = None
    ) -> None:
        self.app = app
        if origins is None:
            origins = list(getattr(config, "cors_origins", None) or ())
        self.any_origin = "*" in origins
        self.origins = frozenset(o.rstrip("/") for o in origins if o != "*")

    @staticmethod
    def wanted(config: Any) -> bool:
        return bool(getattr(config, "cors_origins", None))

    def allowed(self, origin: str) -> bool:
        return self.any_origin or origin in self.origins

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        if not origin:
            return self.app(environ, start_response)
        allowed = self.allowed(origin)
        if (
            environ.get("REQUEST_METHOD") == "OPTIONS"
            and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
        ):
            return self._preflight(environ, start_response, origin, allowed)
        if not allowed:
            return self.app(environ, start_response)
        cors = [
            ("Access-Control-Allow-Origin", origin),
            ("Vary", "Origin"),
            ("Access-Control-Expose-Headers", "X-Request-ID"),
        ]

        def _start_response(
            status: str, headers: Headers, exc_info: ExcInfo | None = None
        ) -> Write:
            headers.extend(cors)
            return start_response(status, headers, exc_info)

        return self.app(environ, _start_response)

    def _preflight(
        self, environ: WSGIEnvironment, start_response: StartResponse, origin: str, allowed: bool
    ) -> Iterable[bytes]:
        if not allowed:
            return wsgi_error(
                start_response,
                403,
                f"origin {origin[:100]!r} may not call this service",
                code="CORS_ORIGIN_NOT_ALLOWED",
                headers=[("Vary", "Origin")],
            )
        requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "")
        headers = [h.strip() for h in requested.split(",") if h.strip().lower() in ALLOWED_HEADERS]
        start_response(
            "204 No Content",
            [
                ("Access-Control-Allow-Origin", origin),
                ("Access-Control-Allow-Methods", ALLOWED_METHODS),
                ("Access-Control-Allow-Headers", ", ".join(headers) or "Content-Type"),
                ("Access-Control-Max-Age", MAX_AGE),
                ("Vary", "Origin"),
            ],
        )
        return [b""]


# The order, outermost first (see the module docstring).
LAYERS = (RequestId, SecurityHeaders, AccessLog, Cors)


class MiddlewarePosition(enum.Enum):
    """Where a user's own WSGI middleware goes among :data:`LAYERS`."""

    #: outside everything: no request id yet; its own replies carry no security headers
    OUTERMOST = RequestId
    #: inside RequestId and SecurityHeaders (its replies get both), outside the access log
    BEFORE_ACCESS_LOG = AccessLog
    #: timed by the access log, outside CORS (it sees preflights)
    BEFORE_CORS = Cors
    #: innermost: just before the spec routes and Flask (the default)
    BEFORE_DISPATCH = None


def wrap(
    flask_app: Flask,
    config: Any,
    layers: Sequence[type[Any]] = LAYERS,
    middleware: Iterable[tuple[MiddlewarePosition | Any, Middleware]] = (),
) -> WSGIApplication:
    """``flask_app``'s WSGI callable inside SpecDispatch, the wanted ``layers`` and the
    user's ``middleware`` ([(MiddlewarePosition, factory)], in the order given)."""
    wsgi: WSGIApplication = SpecDispatch(flask_app, flask_app.wsgi_app)
    before: dict[Any, list[Middleware]] = {}
    for position, factory in middleware:
        before.setdefault(MiddlewarePosition(position).value, []).append(factory)
    wanted = [layer for layer in layers if layer.wanted(config)]
    status_recorded = RequestId in wanted
    wsgi = _users(wsgi, before.get(None, ()))
    for layer in reversed(layers):
        if layer in wanted:
            kwargs = {"status_recorded": status_recorded} if layer is AccessLog else {}
            wsgi = layer(wsgi, config, **kwargs)
        wsgi = _users(wsgi, before.get(layer, ()))
    return wsgi


def _users(wsgi: WSGIApplication, factories: Sequence[Middleware]) -> WSGIApplication:
    for factory in reversed(factories):  # the first given is the outermost
        wsgi = factory(wsgi)
    return wsgi


def _stderr_is_fd2() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        return False


def _safe_path(path: str) -> str:
    """The path only (never the query string, which may carry secrets), printable, bounded."""
    if len(path) > 200:
        path = path[:200] + "..."
    return (
        path.encode("unicode_escape", "backslashreplace").decode("ascii")
        if not path.isprintable()
        else path
    )
