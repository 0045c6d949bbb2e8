"""gunicorn integration: errors gunicorn answers itself (a request line or headers too large,
a malformed request) get the uniform JSON error body too, not an HTML page.

Use it as a gunicorn config module (``gunicorn -c python:pymacaron.serving server:app``) or
import ``post_worker_init`` from your own gunicorn.conf.py.
"""

from __future__ import annotations

import orjson

from ..exceptions import error_body
from ..server.headers import SECURITY_HEADERS

__all__ = ["json_write_error", "install_json_errors", "post_worker_init"]

_CODES = {
    400: "BAD_REQUEST",
    403: "FORBIDDEN",
    414: "URI_TOO_LONG",
    417: "EXPECTATION_FAILED",
    431: "REQUEST_HEADER_FIELDS_TOO_LARGE",
    500: "UNHANDLED_SERVER_ERROR",
    501: "NOT_IMPLEMENTED",
}


def json_write_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """Drop-in for gunicorn.util.write_error that writes the uniform JSON error."""
    from gunicorn.util import write_nonblock

    description = (mesg or reason)[:200]
    body = orjson.dumps(error_body(status_int, _CODES.get(status_int, "BAD_REQUEST"), description))
    extra = "".join(f"{k}: {v}\r\n" for k, v in SECURITY_HEADERS)
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    )
    write_nonblock(sock, head.encode("latin1") + body)


def install_json_errors() -> None:
    """Make this gunicorn process answer its own errors in JSON."""
    import gunicorn.util

    gunicorn.util.write_error = json_write_error


def post_worker_init(worker) -> None:  # gunicorn server hook
    install_json_errors()
