"""Spec routes without Flask's URL routing: a precomputed table in front of ``Flask.wsgi_app``.

Per request Flask binds a URL adapter to the environ and walks werkzeug's matcher; for
spec routes the answer is known from the path alone. :class:`SpecDispatch` keeps a table
(built from ``app.url_map``, rebuilt when rules are added) and, when a request's method and
path name exactly one route, runs Flask's own request handling with that match: the same
request context (``flask.request``, ``g``, ``after_this_request``, a lazily bound
``url_adapter`` for ``url_for``), the same ``full_dispatch_request`` (before/after request
hooks, signals, error handlers, teardown). A declared body of at most 1 MiB is read from
the server in one call. A plain JSON reply (a buffered body, a
Content-Length, no Location) is handed to the server without werkzeug re-deriving its headers.

An operation that needs none of Flask's request machinery is served without the request
context at all (fastpath.py says when), its plain JSON reply handed over as a
:class:`~pymacaron.server.replies.BareReply`.

Everything else goes to ``Flask.wsgi_app`` untouched: HEAD and OPTIONS, paths with a
trailing or double slash, non-ASCII paths, paths two routes could match, routes with
converters, defaults, redirects, hosts or subdomains, apps with ``SERVER_NAME`` or host
matching, and any Flask whose request context this module does not know.
"""

from __future__ import annotations

import io
import re
import sys
from typing import Any

from flask import Flask
from flask.ctx import RequestContext
from werkzeug.wrappers import Response

from .. import current
from . import environ as environ_keys
from . import fastpath
from .replies import BareReply

__all__ = ["BODY_KEY", "SpecDispatch", "request_body"]

_VAR = re.compile(r"<(?:([a-zA-Z_][\w]*)(?:\([^)]*\))?:)?([a-zA-Z_][\w]*)>")
_SKIP_METHODS = frozenset({"HEAD", "OPTIONS"})


class _SpecContext(RequestContext):
    """Flask's request context with the URL match given, the URL adapter bound on use."""

    def __init__(self, app: Flask, environ: dict, rule, view_args: dict) -> None:
        self.app = app
        request = app.request_class(environ)
        request.json_module = app.json
        request.url_rule = rule
        request.view_args = view_args
        self.request = request
        self._adapter = None
        self._bound = False  # push() must not match again: the match is given
        self.flashes = None
        self._session = None
        self._after_request_functions = []
        self._cv_tokens = []

    @property
    def url_adapter(self):
        if self._bound and self._adapter is None:
            self._adapter = self.app.create_url_adapter(self.request)
        return self._adapter

    @url_adapter.setter
    def url_adapter(self, value) -> None:
        self._adapter = value

    def push(self) -> None:
        super().push()
        self._bound = True

    def copy(self) -> RequestContext:  # copy_current_request_context: Flask's own context
        return RequestContext(
            self.app, environ=self.request.environ, request=self.request, session=self._session
        )


def _known_context(app: Flask) -> bool:
    """True when Flask's RequestContext holds exactly the state _SpecContext sets."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    try:
        real = set(vars(RequestContext(app, environ)))
    except Exception:
        return False
    return real == {
        "app",
        "request",
        "url_adapter",
        "flashes",
        "_session",
        "_after_request_functions",
        "_cv_tokens",
    }


class _Table:
    """(method, path) -> (rule, view_args) for the routes that need no werkzeug matcher."""

    def __init__(self, app: Flask):
        url_map = app.url_map
        self.enabled = not (
            url_map.host_matching
            or app.subdomain_matching
            or app.config.get("SERVER_NAME")
            or url_map.default_subdomain
        ) and _known_context(app)
        self.static: dict[str, dict[str, object]] = {}
        self.dynamic: dict[int, list[tuple[re.Pattern, dict[str, object]]]] = {}
        self.ambiguous: set[str] = set()
        # id(rule) -> its Operation, for the operations that may skip Flask's context
        # (werkzeug's rules are not hashable; self.opaque keeps no rule, url_map does)
        self.fast: dict[int, Any] = {}
        opaque: list[str] = []
        patterns: dict[str, dict[str, object]] = {}
        for rule in url_map.iter_rules():
            text = rule.rule
            simple = not (
                rule.defaults
                or rule.redirect_to
                or rule.build_only
                or rule.host
                or rule.subdomain
                or getattr(rule, "websocket", False)
                or not text.startswith("/")
                or any(conv not in ("", "default", "string") for conv, _ in _VAR.findall(text))
                or re.search(r"<[^>]*\(", text)  # converter arguments
            )
            if not simple:
                opaque.append(text.split("<", 1)[0])
                continue
            methods = {m: rule for m in (rule.methods or ()) if m not in _SKIP_METHODS}
            patterns.setdefault(text, {}).update(methods)
            view = app.view_functions.get(rule.endpoint)
            if getattr(view, "fast_reason", "") is None:
                self.fast[id(rule)] = view
        for text, methods in patterns.items():
            if "<" not in text:
                self.static[text] = methods
                continue
            regex = "^"
            pos = 0
            for m in _VAR.finditer(text):
                regex += re.escape(text[pos : m.start()]) + f"(?P<{m.group(2)}>[^/]+)"
                pos = m.end()
            regex += re.escape(text[pos:]) + "$"
            self.dynamic.setdefault(text.count("/"), []).append((re.compile(regex), methods))
        # a literal path a dynamic route also matches: werkzeug decides, not this table
        for text in self.static:
            if any(rx.match(text) for rx, _ in self.dynamic.get(text.count("/"), ())):
                self.ambiguous.add(text)
        self.opaque = tuple(p for p in opaque if p)

    def match(self, method: str, path: str):
        """(rule, view_args), or None when Flask should route this request itself."""
        methods = self.static.get(path)
        if methods is not None:
            if path in self.ambiguous:
                return None
            rule = methods.get(method)
            return (rule, {}) if rule is not None else None
        if (
            not path.isascii()
            or (self.opaque and path.startswith(self.opaque))
            or path.endswith("/")
        ):
            return None
        found = None
        for regex, rules in self.dynamic.get(path.count("/"), ()):
            m = regex.match(path)
            if m is not None:
                if found is not None:
                    return None  # two routes match: werkzeug's order decides
                found = (rules, m)
        if found is None:
            return None
        rule = found[0].get(method)
        return (rule, found[1].groupdict()) if rule is not None else None


class SpecDispatch:
    """WSGI: spec routes through a precomputed match, the rest through ``Flask.wsgi_app``."""

    def __init__(self, app: Flask, flask_wsgi_app):
        self.app = app
        self.flask_wsgi_app = flask_wsgi_app
        self._table: _Table | None = None
        self._map = None  # the url_map whose add() tells this dispatch of new rules

    def table(self) -> _Table:
        """The table of the app's rules, rebuilt after a rule is added (``Map.add``, which
        Flask's ``add_url_rule`` calls) or the app's ``url_map`` is replaced."""
        table = self._table
        if table is None or self.app.url_map is not self._map:
            self._watch(self.app.url_map)
            table = self._table = _Table(self.app)
        return table

    def _watch(self, url_map) -> None:
        if self._map is url_map:
            return
        self._map = url_map
        add = url_map.add

        def add_and_forget_the_table(rulefactory):
            self._table = None
            return add(rulefactory)

        url_map.add = add_and_forget_the_table

    def __call__(self, environ, start_response):
        table = self._table
        if table is None or self.app.url_map is not self._map:  # self.table(), inlined
            table = self.table()
        method = environ.get("REQUEST_METHOD", "GET")
        found = (
            table.match(method, environ.get("PATH_INFO") or "/")
            if table.enabled and method not in _SKIP_METHODS
            else None
        )
        if found is None:
            return self.flask_wsgi_app(environ, start_response)
        app = self.app
        length = environ.get("CONTENT_LENGTH")
        if length and length.isdigit():
            _buffer_body(environ, int(length), app.config.get("MAX_CONTENT_LENGTH"))
        rule = found[0]
        op = table.fast.get(id(rule))
        if (
            op is not None
            and op.fast_reason is None
            and app.view_functions.get(rule.endpoint) is op
            and (BODY_KEY in environ or not (length and length != "0"))
            and "HTTP_TRANSFER_ENCODING" not in environ
        ):
            service = app.extensions.get(current.EXTENSION)
            if fastpath.plain_app(app, service, environ):
                response = fastpath.serve(op, service, rule, found[1], environ)
                if response is not None:
                    return _send(response, environ, start_response)
        # Flask.wsgi_app, with the request context given its match
        ctx = _SpecContext(app, environ, found[0], found[1])
        error: BaseException | None = None
        try:
            try:
                ctx.push()
                response = app.full_dispatch_request()
            except Exception as e:
                error = e
                response = app.handle_exception(e)
            except:  # noqa: E722 (as Flask: teardown sees every error)
                error = sys.exc_info()[1]
                raise
            return _send(response, environ, start_response)
        finally:
            if "werkzeug.debug.preserve_context" in environ:
                from flask.globals import _cv_app, _cv_request

                environ["werkzeug.debug.preserve_context"](_cv_app.get())
                environ["werkzeug.debug.preserve_context"](_cv_request.get())
            if error is not None and app.should_ignore_error(error):
                error = None
            ctx.pop(error)


_PREREAD_MAX = 1024 * 1024
BODY_KEY = environ_keys.BODY  # a body read whole by _buffer_body (environ.py)


def request_body(request) -> bytes:
    """The request's body bytes: as :func:`_buffer_body` read them (no werkzeug stream to
    build), else ``request.get_data`` (bounded by ``MAX_CONTENT_LENGTH``: a 413)."""
    environ = request.environ
    data = environ.get(BODY_KEY)
    if data is not None:
        return data
    if "HTTP_TRANSFER_ENCODING" in environ and not environ.get("CONTENT_LENGTH"):
        return _read_chunked(environ, request.max_content_length)
    return request.get_data(cache=False)


def _read_chunked(environ: dict, limit: int | None) -> bytes:
    """A body without Content-Length (chunked), read to its end or to ``limit`` + 1 bytes:
    over the limit is a 413, never a body cut at the limit (werkzeug's LimitedStream)."""
    from werkzeug.exceptions import RequestEntityTooLarge

    stream, chunks, size = environ["wsgi.input"], [], 0
    cap = None if limit is None else limit + 1
    while cap is None or size < cap:
        chunk = stream.read(65536 if cap is None else min(65536, cap - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if limit is not None and size > limit:
        raise RequestEntityTooLarge(f"the request body is larger than {limit} bytes")
    data = b"".join(chunks)
    environ[BODY_KEY] = data
    environ["wsgi.input"] = io.BytesIO(data)
    return data


def _buffer_body(environ: dict, length: int, limit: int | None) -> None:
    """Read a declared body in one call and serve it from memory.

    werkzeug reads ``wsgi.input`` in several calls (the last one to see its end); with
    granian each call crosses into Rust and gives up the GIL, which showed as half of a
    POST in the profile. Only a Content-Length within ``MAX_CONTENT_LENGTH`` (and 1 MiB) is
    read here; larger bodies, chunked ones and 413s stay werkzeug's. A short read leaves a
    short body: werkzeug then reports the disconnect exactly as it would have.
    """
    if not 0 < length <= min(limit or _PREREAD_MAX, _PREREAD_MAX):
        return
    if "HTTP_TRANSFER_ENCODING" in environ:
        return
    stream, chunks, left = environ["wsgi.input"], [], length
    try:
        while left > 0:
            chunk = stream.read(left)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except Exception:  # a broken connection: werkzeug sees a short body
        pass
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    environ["wsgi.input"] = io.BytesIO(data)
    if left == 0:
        environ[BODY_KEY] = data


def _send(response, environ, start_response):
    """A buffered reply as is; anything werkzeug would adjust goes through werkzeug."""
    if type(response) is BareReply:
        start_response(response.status, response.headers())
        return [response.body]
    body = response.response
    if (
        isinstance(response, Response)
        and type(body) is list
        and len(body) == 1
        and type(body[0]) is bytes
        and not response.direct_passthrough
        and not response._on_close
        and response.status_code >= 200
        and response.status_code not in (204, 304)
    ):
        headers = response.headers
        if (
            "Content-Length" in headers
            and "Location" not in headers
            and "Content-Location" not in headers
        ):
            start_response(response.status, headers.to_wsgi_list())
            return body
    return response(environ, start_response)
