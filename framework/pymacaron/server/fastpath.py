"""Spec routes served without Flask's request context (issue 30): the fast path.

For a spec route, Flask's request handling around ``Operation`` is a request context (an
app context, a session, context variables), request signals, before/after-request hooks
and teardown, which the profile put at about half of a request (docs/performance.md).
When none of it can be observed, :class:`~pymacaron.server.dispatch.SpecDispatch` skips it:
it builds a bare ``flask.Request`` (:class:`LeanRequest`) on the environ and runs the operation's pipeline
(:meth:`Operation.serve` with ``fast=True``) with the request given, not looked up.

A request takes the fast path only when all of these hold (else it is Flask's, as before):

- **the operation** (decided once, :func:`flask_use`, ``Operation.fast_reason``): no
  declared security (the guard reads ``flask.request`` and sets ``g``), no form body, no
  ``x-decorate-server`` decorators, and its handler's module uses nothing of Flask's
  context: no ``flask.request`` / ``g`` / ``session`` / ``current_app`` (any werkzeug
  ``LocalProxy``), no ``flask`` module nor function of Flask's or of a Flask extension
  (``url_for``, ``jsonify``, ``after_this_request``...), nothing of pymacaron's that does
  (``pymacaron.auth``, ``pymacaron.tasks``, ``import pymacaron``), followed into the
  service's own modules the handler's module names (a helper module that reads
  ``flask.request`` counts), and no ``PYM_FLASK_CONTEXT = True`` in those modules (the
  way to ask for Flask's path explicitly);
- **the app** (checked on every request, :func:`plain_app`): a ``Flask`` (not a subclass)
  with Flask's request, response and session classes, no ``before_request`` /
  ``after_request`` / ``teardown_request`` / ``teardown_appcontext`` function or URL value
  preprocessor, no receiver of Flask's request and app-context signals, no
  ``error_callback`` (it may read ``flask.request``), no session to load (no
  ``SECRET_KEY``, or no cookie), and not under a debugger or a test client keeping the
  context (``werkzeug.debug.preserve_context``);
- **the request**: its body, if any, already read whole (the RSGI bridge always does; under
  gunicorn, a Content-Length within the limit), so Flask's ``max_content_length`` is never
  needed;
- ``PYM_FAST_PATH`` is not ``0``.

A handler that reaches for Flask's context anyway (through code the scan does not see)
raises werkzeug's "Working outside of request context": the fast path catches it before
any reply, marks the operation (every later request of it takes Flask's path) and logs one
warning. That request itself is served again on Flask's path only when its method is safe
(GET, HEAD, OPTIONS: running the handler a second time changes nothing); a POST, PUT, PATCH
or DELETE is answered 500 instead, its handler never run twice.
"""

from __future__ import annotations

import io
import logging
import os
import site
import sys
import sysconfig
import types
from functools import cached_property

from flask import Flask, Request, Response, signals
from flask.sessions import SecureCookieSessionInterface
from werkzeug.datastructures import EnvironHeaders
from werkzeug.local import LocalProxy

from .. import current
from .environ import BODY

log = logging.getLogger("pymacaron")

__all__ = ["NeedsFlask", "needs_context", "flask_use", "plain_app", "serve", "FAST_PATH_ENV"]

FAST_PATH_ENV = "PYM_FAST_PATH"
MARK = "PYM_FLASK_CONTEXT"  # a module's ``PYM_FLASK_CONTEXT = True``: Flask's path always
# pymacaron's modules that read Flask's context on a handler's behalf
CONTEXT_MODULES = ("pymacaron.auth", "pymacaron.security", "pymacaron.tasks", "pymacaron.server")
_SIGNALS = (
    signals.request_started,
    signals.request_finished,
    signals.request_tearing_down,
    signals.appcontext_pushed,
    signals.appcontext_popped,
    signals.appcontext_tearing_down,
)
_MAX_MODULES = 500  # modules followed from one handler's module
# A handler the scan missed is run again on Flask's path only for these (RFC 9110's safe
# methods: running one twice changes nothing); any other method gets a 500, never a rerun.
SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))


class NeedsFlask(Exception):
    """The handler of ``operation`` used Flask's context on the fast path."""

    def __init__(self, operation):
        super().__init__(operation.label)
        self.operation = operation


def needs_context(error: RuntimeError) -> bool:
    """True for werkzeug's error of a context variable used outside its context."""
    return str(error).startswith("Working outside of")


def enabled() -> bool:
    return os.environ.get(FAST_PATH_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


# -- per operation, once ---------------------------------------------------------------
def flask_use(operation) -> str | None:
    """Why ``operation`` needs Flask's request context (a short reason), or None."""
    if not enabled():
        return f"{FAST_PATH_ENV}=0"
    if operation.guard is not None:
        return "declared security"
    if operation.consumes_form:
        return "a form body"
    target = operation.target
    if operation.handler is not target:
        return "x-decorate-server"
    name = getattr(target, "__module__", None)
    if not isinstance(name, str):
        name = type(target).__module__
    module = sys.modules.get(name)
    if module is None:
        return f"handler module {name!r} not found"
    seen: set[str] = set()
    reason = _scan_module(module, seen, root=True)
    if reason is None:
        reason = _scan_objects(_closure(target), seen)
    return reason


def _closure(func) -> list:
    func = getattr(func, "__func__", func)  # a bound method: its function
    cells = getattr(func, "__closure__", None) or ()
    values = []
    for cell in cells:
        try:
            values.append(cell.cell_contents)
        except ValueError:  # an empty cell
            pass
    values.extend(getattr(func, "__defaults__", None) or ())
    return values


def _library_dirs() -> tuple[str, ...]:
    dirs = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            dirs.add(os.path.realpath(path))
    try:
        dirs.update(os.path.realpath(p) for p in site.getsitepackages())
    except AttributeError:  # a virtualenv's old site.py
        pass
    dirs.add(os.path.realpath(os.path.dirname(os.__file__)))
    return tuple(d.rstrip(os.sep) + os.sep for d in dirs)


_LIBRARIES: tuple[str, ...] | None = None


_OWN_CODE: dict[tuple[str, str | None], bool] = {}


def _own_code(module: types.ModuleType) -> bool:
    """A module of the service itself: not pymacaron, not a library, not the stdlib.
    Remembered per (name, file): each operation's scan asks again for the same modules, and
    the real path cost ~10 % of a 1,100-operation spec's start."""
    name = module.__name__
    path = getattr(module, "__file__", None)
    known = _OWN_CODE.get((name, path))
    if known is None:
        known = _OWN_CODE[(name, path)] = _own_code_uncached(name, path)
    return known


def _own_code_uncached(name: str, path: str | None) -> bool:
    global _LIBRARIES
    if name == "pymacaron" or name.startswith("pymacaron.") or not path:
        return False
    if _LIBRARIES is None:
        _LIBRARIES = _library_dirs()
    return not os.path.realpath(path).startswith(_LIBRARIES)


def _module_reason(name: str) -> str | None:
    if name == "flask" or name.startswith(("flask.", "flask_")):
        return f"uses {name}"
    if name == "pymacaron" or name.startswith(CONTEXT_MODULES):
        return f"uses {name}"
    return None


def _scan_module(module: types.ModuleType, seen: set[str], root: bool = False) -> str | None:
    name = module.__name__
    if name in seen:
        return None
    seen.add(name)
    if not root:
        reason = _module_reason(name)
        if reason is not None or not _own_code(module) or len(seen) > _MAX_MODULES:
            return reason
    if getattr(module, MARK, False) is True:
        return f"{name}.{MARK} = True"
    reason = _scan_objects(list(vars(module).values()), seen)
    return f"{name}: {reason}" if reason is not None and root else reason


def _scan_objects(values: list, seen: set[str]) -> str | None:
    for value in values:
        kind = type(value)
        if issubclass(kind, LocalProxy):
            return "uses a context proxy (flask.request, g, session, current_app...)"
        if kind is types.ModuleType:
            reason = _scan_module(value, seen)
        elif isinstance(value, type):
            reason = _from_module(value.__module__, seen, is_class=True)
        elif kind in (types.FunctionType, types.BuiltinFunctionType, types.MethodType):
            reason = _from_module(getattr(value, "__module__", None), seen)
        else:
            reason = _from_module(kind.__module__, seen)
        if reason is not None:
            return reason
    return None


def _from_module(name, seen: set[str], is_class: bool = False) -> str | None:
    if not isinstance(name, str):
        return None
    if is_class and (name == "flask" or name.startswith("flask.")):
        return None  # Flask's classes (Response, Blueprint...) need no context to exist
    reason = _module_reason(name)
    if reason is not None:
        return reason
    module = sys.modules.get(name)
    if module is None:
        return None
    return _scan_module(module, seen)


# -- per request -----------------------------------------------------------------------
class LeanRequest(Request):
    """``flask.Request`` whose ``server``, ``root_path``, ``path`` (the host parsed, the
    paths decoded), ``headers`` (a werkzeug ``EnvironHeaders``), ``scheme`` and
    ``remote_addr`` (nothing the operation reads on a plain JSON request) are computed when
    first read, by werkzeug itself. Used only when werkzeug's ``Request.__init__`` sets
    exactly the attributes set or computed here (:data:`LEAN`, checked at import), else the
    fast path builds a ``Request``."""

    def __init__(self, environ: dict) -> None:  # noqa: D107 (werkzeug's, minus 6 fields)
        self.environ = environ
        self.shallow = False
        self.method = environ.get("REQUEST_METHOD", "GET").upper()
        self.query_string = environ.get("QUERY_STRING", "").encode("latin1")
        environ["werkzeug.request"] = self

    def _full(self) -> Request:
        return Request(self.environ, populate_request=False)

    @cached_property
    def server(self):  # type: ignore[override]
        return self._full().server

    @cached_property
    def root_path(self) -> str:  # type: ignore[override]
        return self._full().root_path

    @cached_property
    def path(self) -> str:  # type: ignore[override]
        return self._full().path

    @cached_property
    def headers(self) -> EnvironHeaders:  # type: ignore[override]
        return EnvironHeaders(self.environ)

    @cached_property
    def scheme(self) -> str:  # type: ignore[override]
        return self.environ.get("wsgi.url_scheme", "http")

    @cached_property
    def remote_addr(self) -> str | None:  # type: ignore[override]
        return self.environ.get("REMOTE_ADDR")


_EAGER = {"method", "query_string", "environ", "shallow"}
_LAZY = {"server", "root_path", "path", "headers", "scheme", "remote_addr"}


def _lean_request_class() -> type[Request]:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_NAME": "localhost"}
    try:
        known = set(vars(Request(environ, populate_request=False))) == _EAGER | _LAZY
    except Exception:
        known = False
    return LeanRequest if known else Request


LEAN = _lean_request_class()  # the class the fast path builds its requests with


def plain_app(app: Flask, service, environ: dict) -> bool:
    """True when Flask's request handling around a view does nothing observable here.

    Read on every request (a hook or a receiver may be added at any time), in straight
    lines: the common answer (nothing registered) costs attribute reads and truth tests,
    no generator; anything registered goes to :func:`_hooks_used` for the exact answer."""
    if (
        type(app) is not Flask
        or app.request_class is not Request
        or app.response_class is not Response
        or type(app.session_interface) is not SecureCookieSessionInterface
        or "werkzeug.debug.preserve_context" in environ
        or ("HTTP_COOKIE" in environ and app.secret_key)
        or (service is not None and service.hooks.error_callback is not None)
        or app.teardown_appcontext_funcs
    ):
        return False
    if (
        app.before_request_funcs
        or app.after_request_funcs
        or app.teardown_request_funcs
        or app.url_value_preprocessors
        or _S0.receivers
        or _S1.receivers
        or _S2.receivers
        or _S3.receivers
        or _S4.receivers
        or _S5.receivers
    ):
        return not _hooks_used(app)
    return True


_S0, _S1, _S2, _S3, _S4, _S5 = _SIGNALS


def _hooks_used(app: Flask) -> bool:
    """A request hook of ``app`` with a function in it, or a receiver of ``app``'s request
    and app-context signals (an empty list under a blueprint's name is none)."""
    for funcs in (
        app.before_request_funcs,
        app.after_request_funcs,
        app.teardown_request_funcs,
        app.url_value_preprocessors,
    ):
        if funcs and any(funcs.values()):
            return True
    # blinker's receivers_for(app), not .receivers: a receiver of another app is no reason
    return any(signal.receivers and signal.has_receivers_for(app) for signal in _SIGNALS)


def serve(operation, service, rule, view_args: dict, environ: dict):
    """The reply of ``operation`` for this request, without Flask's context; None when the
    handler needs that context (then Flask's path serves the request)."""
    req = LEAN(environ)
    req.url_rule = rule
    req.view_args = view_args
    token = current.SERVING.set(service)
    try:
        return operation.serve(req, view_args, fast=True)
    except NeedsFlask as e:
        operation.fast_reason = "used Flask's context at run time"
        method = environ.get("REQUEST_METHOD", "GET")
        again = method in SAFE_METHODS
        log.warning(
            "%s: its handler used Flask's request context, which the fast path does not "
            "build: served on Flask's path from now on (set PYM_FLASK_CONTEXT = True in the "
            "handler's module to say so at startup); %s",
            operation.label,
            "this request is served again there"
            if again
            else f"this {method} is answered 500, not run a second time",
        )
        if not again:  # its handler may have changed something already: never twice
            from .replies import exception_reply

            return exception_reply(e.__cause__ or e, operation.endpoint, operation.error_model)
        body = environ.get(BODY)
        if body is not None:
            environ["wsgi.input"] = io.BytesIO(body)
        return None
    finally:
        current.SERVING.reset(token)
