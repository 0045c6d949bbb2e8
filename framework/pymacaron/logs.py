"""Request ids and logging: every log line carries the id of the request being served.

``X-Request-ID`` is taken from the request when it is a sane token (letters, digits,
``-_.:``, at most 128 characters), else a uuid4 is generated (server/layers.py's
``RequestId`` layer); it is returned in the response's ``X-Request-ID`` header. Headers
(and so tokens) are never logged. The access log is server/layers.py's ``AccessLog``.
"""

from __future__ import annotations

import contextvars
import logging
import random
import re
import sys
from typing import Any

__all__ = ["get_request_id", "set_request_id", "new_request_id", "setup_logging", "RequestIdFilter"]

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "pym_request_id", default=None
)
_VALID_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

LOG_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


_getrandbits = random.getrandbits
_V4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_V4_SET = (0x4000 << 64) | (0x8000 << 48)


def new_request_id() -> str:
    """A uuid4 as 32 hex digits, like ``uuid.uuid4().hex`` but without a UUID object nor a
    getrandom() system call per request (a request id is a label, not a secret: error ids
    and tokens keep using the OS's randomness). ``random`` reseeds itself in forked workers."""
    return (_getrandbits(128) & _V4_CLEAR | _V4_SET).to_bytes(16, "big").hex()


def get_request_id() -> str | None:
    """The id of the request being served (None outside a request)."""
    return _request_id.get()


def set_request_id(value: str | None) -> contextvars.Token[str | None]:
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

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:  # LogRecord's own arguments
        record = previous(*args, **kwargs)
        record.request_id = _request_id.get() or "-"
        return record

    setattr(factory, "_pymacaron", True)  # noqa: B010  (a marker on a function)
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
