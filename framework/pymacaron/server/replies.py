"""Turning results and errors into Flask replies, and reporting server errors.

Every error reply of a Flask request goes through :func:`error_reply`: the uniform body
(error_body.py), the service's ``error_callback`` (to render it in the spec's own error model),
logging (5xx with the traceback, under the error_id) and the ``error_reporter`` (5xx only,
off the request path). The hooks are the serving app's (:func:`current_hooks`): two apps in
one process report to their own reporters.
"""

from __future__ import annotations

import logging
import traceback

import orjson
from flask import Response
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from ..error_body import code_for, error_body
from ..exceptions import PyMacaronException
from ..hooks import ErrorHooks, current_hooks, handling  # noqa: F401
from ..logs import get_request_id

log = logging.getLogger("pymacaron")

__all__ = [
    "json_reply",
    "BareReply",
    "error_reply",
    "exception_reply",
    "ErrorHooks",
    "current_hooks",
    "handling",  # the hooks live in hooks.py; these names are kept importable from here
]

JSON = "application/json"


def dumps(data) -> bytes:
    """``data`` as JSON bytes (orjson); dict keys that are not strings are written as
    strings. orjson's OPT_NON_STR_KEYS costs ~60 % more on every dict (a list of 20 objects:
    81k against 50k instructions), so it is asked for only when plain ``dumps`` refuses."""
    try:
        return _dumps(data)
    except TypeError:  # orjson.JSONEncodeError: a non-str key (or what orjson refuses anyway)
        return _dumps(data, option=orjson.OPT_NON_STR_KEYS)


_dumps = orjson.dumps


def json_reply(data, status: int = 200, headers=None) -> Response:
    """A JSON response serialised with orjson."""
    return Response(dumps(data), status=status, headers=headers, mimetype=JSON)


class BareReply:
    """A JSON reply as the server takes it, without werkzeug's ``Response`` (the fast path's,
    fastpath.py): the status line and the two headers ``json_reply``'s Response sends, in
    its order, and the body."""

    __slots__ = ("status_code", "status", "body")

    def __init__(self, status_code: int, body: bytes):
        self.status_code = status_code
        status = _STATUS_LINES.get(status_code)
        if status is None:
            status = _status_line(status_code)
        self.status = status
        self.body = body

    def headers(self) -> list[tuple[str, str]]:
        return [("Content-Type", JSON), ("Content-Length", str(len(self.body)))]


def _status_line(status_code: int) -> str:
    """werkzeug's status line: "201 CREATED", "299 UNKNOWN"."""
    name = HTTP_STATUS_CODES.get(status_code)
    return f"{status_code} {name.upper() if name else 'UNKNOWN'}"


# the status lines of the codes werkzeug names, made once (not per reply)
_STATUS_LINES = {code: _status_line(code) for code in HTTP_STATUS_CODES}


def bare_json_reply(data, status: int = 200) -> BareReply:
    """:func:`json_reply` without a ``Response``: the same bytes, status and headers."""
    try:  # dumps() inlined: one call less per reply
        body = _dumps(data)
    except TypeError:
        body = _dumps(data, option=orjson.OPT_NON_STR_KEYS)
    return BareReply(status, body)


def error_reply(
    body: dict[str, str | int],
    exc: BaseException | None = None,
    endpoint: str | None = None,
    error_model: dict | None = None,
    errors: list | None = None,
) -> Response:
    """Log (and report a 5xx), then reply with ``body``, the uniform error body of
    :func:`~pymacaron.error_body.error_body` (or, with ``error_model`` from errormodel.py,
    in the operation's own error schema). ``errors``: every violation of a request
    (``[{"loc", "msg", "type"}]``), the first one being the ``error_description``."""
    status, code, description = int(body["status"]), body["error"], str(body["error_description"])
    if errors:
        body["errors"] = errors
    rid = get_request_id()
    hooks = current_hooks()
    if status >= 500:
        tb = (
            "".join(traceback.format_exception(exc))
            if exc is not None and exc.__traceback__ is not None
            else None
        )
        log.error(
            "%s %s error_id=%s%s: %s%s",
            status,
            code,
            body["error_id"],
            f" in {endpoint}" if endpoint else "",
            description,
            f"\n{tb}" if tb else "",
        )
        hooks.reporter.report(
            f"{status} {code}{f' in {endpoint}' if endpoint else ''}: {description[:200]}",
            {**body, "request_id": rid, "endpoint": endpoint, "traceback": tb},
        )
    else:
        log.info("%s %s error_id=%s: %s", status, code, body["error_id"], description)
    callback = hooks.error_callback
    if callback is not None:
        try:
            rendered = callback(body)
        except Exception:
            log.exception("error_callback failed; replying with the default error body")
            rendered = body
        if isinstance(rendered, Response):
            return rendered
        if rendered is not None:
            body = rendered.to_json() if hasattr(rendered, "to_json") else rendered
    elif error_model:
        from ..spec.errormodel import render

        body = render(error_model, status, body)
    return json_reply(body, status)


def exception_reply(
    e: BaseException, endpoint: str | None = None, error_model: dict | None = None
) -> Response:
    """The reply for any exception raised while serving a request."""
    if isinstance(e, PyMacaronException):
        return error_reply(
            error_body(e.status, e.code, e.message, e.error_id, e.user_message),
            exc=e if e.status >= 500 else None,
            endpoint=endpoint,
            error_model=error_model,
            errors=getattr(e, "violations", None),
        )
    if isinstance(e, HTTPException):
        status = e.code or 500
        description = e.description or e.name
        if status == 405 and endpoint is None:
            description = "the method is not allowed on this path"
        if status == 404:
            description = "no such path on this service"
        body = error_body(status, code_for(status), description)
        reply = error_reply(body, endpoint=endpoint, error_model=error_model)
        if status == 405 and getattr(e, "valid_methods", None):
            reply.headers["Allow"] = ", ".join(e.valid_methods)
        return reply
    description = f"the server failed to handle the request ({type(e).__name__})"
    return error_reply(
        error_body(500, "UNHANDLED_SERVER_ERROR", description),
        exc=e,
        endpoint=endpoint,
        error_model=error_model,
    )


def __getattr__(name: str):
    if name == "ErrorHandling":  # the name before the app factory
        from ..aliases import deprecated

        deprecated(f"{__name__}.ErrorHandling", "pymacaron.hooks.ErrorHooks")
        return ErrorHooks
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
