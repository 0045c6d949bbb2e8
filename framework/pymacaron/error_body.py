"""The error JSON, written in one place: its body, the status -> code table, the raw writers.

Every error a pymacaron process answers has one shape (DESIGN.md)::

    {"status": 400, "error": "INVALID_PARAMETER", "error_description": "...",
     "error_id": "<uuid4>"}          # + "user_message" when set

:func:`error_body` builds it, :data:`CODES` names the error of a bare HTTP status (a
werkzeug 404, a CORS refusal, gunicorn's own 400), :func:`wsgi_error` answers it from a
WSGI layer (CORS, the dispatch) and :func:`http_error` as raw HTTP/1.1 bytes (gunicorn's
own errors, run/gunicorn_hooks.py). Flask replies (server/replies.py) and the client's
downstream errors (client/) build the same body. No Flask here: every package may use it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

import orjson

__all__ = ["CODES", "FIELDS", "code_for", "error_body", "error_json", "wsgi_error", "http_error"]

FIELDS = ("status", "error", "error_description", "error_id", "user_message")

# The error code of a bare HTTP status (DESIGN.md's codes: a 400 is INVALID_PARAMETER).
CODES = {
    400: "INVALID_PARAMETER",
    401: "AUTHORIZATION_HEADER_MISSING",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    408: "REQUEST_TIMEOUT",
    413: "REQUEST_TOO_LARGE",
    414: "URI_TOO_LONG",
    415: "UNSUPPORTED_MEDIA_TYPE",
    417: "EXPECTATION_FAILED",
    429: "TOO_MANY_REQUESTS",
    431: "REQUEST_HEADER_FIELDS_TOO_LARGE",
    500: "UNHANDLED_SERVER_ERROR",
    501: "NOT_IMPLEMENTED",
}

JSON_HEADERS = (("Content-Type", "application/json"),)

# WSGI's start_response and a list of headers (PEP 3333)
StartResponse = Callable[..., Any]
Headers = Iterable[tuple[str, str]]


def code_for(status: int) -> str:
    """The error code of an HTTP status: :data:`CODES`, else ``HTTP_ERROR`` (4xx) or
    ``UNHANDLED_SERVER_ERROR`` (5xx)."""
    code = CODES.get(status)
    if code is None:
        code = "HTTP_ERROR" if status < 500 else "UNHANDLED_SERVER_ERROR"
    return code


def error_body(
    status: int,
    code: str,
    description: str,
    error_id: str | None = None,
    user_message: str | None = None,
) -> dict[str, str | int]:
    """The uniform error body."""
    body: dict[str, str | int] = {
        "status": status,
        "error": code,
        "error_description": description,
        "error_id": error_id or str(uuid.uuid4()),
    }
    if user_message:
        body["user_message"] = user_message
    return body


def error_json(status: int, description: str, code: str | None = None) -> bytes:
    """The error body as JSON bytes (``code`` defaults to the status's)."""
    return orjson.dumps(error_body(status, code or code_for(status), description))


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Error"


def wsgi_error(
    start_response: StartResponse,
    status: int,
    description: str,
    code: str | None = None,
    headers: Headers = (),
) -> list[bytes]:
    """Answer an error from a WSGI layer: start the response, return the body iterable."""
    body = error_json(status, description, code)
    start_response(
        _status_line(status),
        [*JSON_HEADERS, ("Content-Length", str(len(body))), *headers],
    )
    return [body]


def http_error(status: int, reason: str, description: str, headers: Headers = ()) -> bytes:
    """A whole HTTP/1.1 error response (the connection closes after it), for servers that
    write their own errors to the socket (gunicorn, see run/gunicorn_hooks.py)."""
    body = error_json(status, description[:200])
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers)
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode("latin1") + body
