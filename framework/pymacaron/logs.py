"""Request ids and logging: every log line carries the request id; one access line per request.

``X-Request-ID`` is taken from the request when it is a sane token (letters, digits,
``-_.:``, at most 128 characters), else a uuid4 is generated; it is returned in the
response's ``X-Request-ID`` header. Headers (and so tokens) are never logged.
"""

from __future__ import annotations

import contextvars
import logging
import random
import re
import sys
import time

from .server import accesslog

__all__ = ["get_request_id", "setup_logging", "RequestIdMiddleware", "RequestIdFilter"]

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "pym_request_id", default=None
)
_VALID_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

access_log = logging.getLogger("pymacaron.access")

LOG_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


_getrandbits = random.getrandbits
_V4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_V4_SET = (0x4000 << 64) | (0x8000 << 48)


def new_request_id() -> str:
    """A uuid4 as 32 hex digits, like ``uuid.uuid4().hex`` but without a UUID object nor a
    getrandom() system call per request (a request id is a label, not a secret: error ids
    and tokens keep using the OS's randomness). ``random`` reseeds itself in forked workers."""
    return f"{_getrandbits(128) & _V4_CLEAR | _V4_SET:032x}"


def get_request_id() -> str | None:
    """The id of the request being served (None outside a request)."""
    return _request_id.get()


def set_request_id(value: str | None):
    """Set the request id for this context (used by workers and clients); returns a token."""
    return _request_id.set(value)


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` ('-' outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        return True


def _install_record_factory() -> None:
    """Every LogRecord gets ``request_id``, whatever handler (gunicorn's too) formats it."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_pymacaron", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        record.request_id = _request_id.get() or "-"
        return record

    factory._pymacaron = True
    logging.setLogRecordFactory(factory)


def setup_logging(debug: bool = False, force: bool = False) -> None:
    """Log to stderr with the request id in every line (unless the app set up logging)."""
    _install_record_factory()
    root = logging.getLogger()
    marker = "_pymacaron_handler"
    if any(getattr(h, marker, False) for h in root.handlers) and not force:
        root.setLevel(logging.DEBUG if debug else logging.INFO)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RequestIdFilter())
    setattr(handler, marker, True)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for noisy in ("werkzeug", "urllib3", "bravado_core", "swagger_spec_validator"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class RequestIdMiddleware:
    """WSGI middleware: request id in, request id out, one access-log line per request.

    ``access_log_format``: ``text`` or ``json`` (accesslog.py writes the lines, buffered,
    without ``logging``). Setting the ``pymacaron.access`` logger above INFO silences it; a
    handler of its own on that logger makes the lines go through ``logging`` as before.
    """

    def __init__(
        self, app, access_log_enabled: bool = True, extra_headers=(), access_log_format="text"
    ):
        self.app = app
        self.access_log_enabled = access_log_enabled
        self.extra_headers = tuple(extra_headers)
        if access_log_format not in accesslog.FORMATS:
            raise ValueError(f"access_log_format: expected text or json, got {access_log_format!r}")
        self._line = accesslog.LINE_BUILDERS[access_log_format]
        self._writer = None
        if access_log_enabled and not access_log.handlers and _stderr_is_fd2():
            self._writer = accesslog.writer()
            self._writer.install_signal_handlers()

    def __call__(self, environ, start_response):
        rid = environ.get("HTTP_X_REQUEST_ID")
        if not rid or not _VALID_ID.match(rid):
            rid = new_request_id()
        environ["pymacaron.request_id"] = rid
        token = _request_id.set(rid)
        start = time.perf_counter()
        status_holder = ["-"]
        headers_out = [("X-Request-ID", rid), *self.extra_headers]

        def _start_response(status, headers, exc_info=None):
            status_holder[0] = status.split(" ", 1)[0]
            csp = environ.get("pymacaron.csp")  # a route's own policy (server/docs.py)
            if csp is None:
                headers.extend(headers_out)
            else:
                headers.extend(
                    (k, csp if k == "Content-Security-Policy" else v) for k, v in headers_out
                )
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, _start_response)
        finally:
            if self.access_log_enabled and access_log.isEnabledFor(logging.INFO):
                ms = (time.perf_counter() - start) * 1000
                path = environ.get("PATH_INFO", "")
                if len(path) > 200 or not path.isprintable():
                    path = _safe_path(path)
                if self._writer is not None:
                    self._writer.write(
                        self._line(
                            time.time(),
                            rid,
                            environ.get("REQUEST_METHOD"),
                            path,
                            status_holder[0],
                            ms,
                        )
                    )
                else:
                    access_log.info(
                        "%s %s %s %.1fms", environ.get("REQUEST_METHOD"), path, status_holder[0], ms
                    )
            _request_id.reset(token)


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
