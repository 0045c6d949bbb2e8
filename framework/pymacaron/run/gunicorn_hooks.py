"""gunicorn integration: errors gunicorn answers itself (a request line or headers too large,
a malformed request) get the uniform JSON error body too, not an HTML page.

Use it as a gunicorn config module (``gunicorn -c python:pymacaron.run.gunicorn_hooks server:app``) or
import ``post_worker_init`` from your own gunicorn.conf.py. The body and its code come from
error_body.py (a malformed request is a 400 ``INVALID_PARAMETER``, as every other 400).
"""

from __future__ import annotations

from ..error_body import http_error
from ..server.headers import SECURITY_HEADERS

__all__ = ["json_write_error", "install_json_errors", "post_worker_init"]


def json_write_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """Drop-in for gunicorn.util.write_error that writes the uniform JSON error."""
    from gunicorn.util import write_nonblock

    write_nonblock(sock, http_error(status_int, reason, mesg or reason, SECURITY_HEADERS))


def install_json_errors() -> None:
    """Make this gunicorn process answer its own errors in JSON."""
    import gunicorn.util

    gunicorn.util.write_error = json_write_error


def post_worker_init(worker) -> None:  # gunicorn server hook
    install_json_errors()
