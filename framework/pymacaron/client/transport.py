"""Sending: one HTTP session per thread, retries where safe, errors of downstream failures.

A connection that could not be made is retried for any method; a read timeout or a dropped
connection only for the idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS) -- never a
POST or PATCH that may have reached the server. Every failure becomes one of the
``DOWNSTREAM_*`` errors below, with a one-line cause and no query string (it may carry
secrets).
"""

from __future__ import annotations

import importlib
import logging
import random
import threading
import time

from ..exceptions import PyMacaronException, code_to_class
from .errors import (  # noqa: F401 - importable from here, as before
    DownstreamBadResponseError,
    DownstreamError,
    DownstreamTimeoutError,
    DownstreamUnavailableError,
)

log = logging.getLogger("pymacaron.client")

__all__ = [
    "DownstreamBadResponseError",
    "DownstreamError",
    "DownstreamTimeoutError",
    "DownstreamUnavailableError",
    "IDEMPOTENT",
    "error_to_exception",
    "failure_error",
    "failure_kind",
    "failure_reason",
    "safe_url",
    "transport",
]


# Methods a server must treat as idempotent: safe to send again after a read failure.
IDEMPOTENT = frozenset({"get", "head", "put", "delete", "options"})
MAX_BACKOFF = 5.0

# A failure's text -> its one-line cause (first match wins).
_REASONS = (
    ("Connection refused", "connection refused"),
    ("Name or service not known", "unknown host"),
    ("Failed to resolve", "unknown host"),
    ("Temporary failure in name resolution", "unknown host"),
    ("RemoteDisconnected", "connection closed without a response"),
    ("Connection reset", "connection reset"),
    ("Connection aborted", "connection aborted"),
    ("CERTIFICATE_VERIFY_FAILED", "TLS certificate verification failed"),
    ("timed out", "timed out"),
)


class _LazyModule:
    """``requests`` is imported on the first call, not at startup (~130 ms and ~6 MiB a
    worker for services that only serve)."""

    def __init__(self, name: str):
        self._name, self._module = name, None

    def __getattr__(self, attr: str):
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)


requests = _LazyModule("requests")
rex = _LazyModule("requests.exceptions")
_urllib3 = _LazyModule("urllib3.exceptions")
_local = threading.local()


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        _local.session = session
    return session


def failure_kind(e: BaseException) -> str:
    """'connect' (the request never left), 'read' (it may have reached the server) or 'other'."""
    if isinstance(e, rex.ConnectTimeout):
        return "connect"
    if isinstance(e, rex.SSLError):
        return "other"
    if isinstance(e, rex.ConnectionError):
        reason = e.args[0] if e.args else None
        if isinstance(reason, _urllib3.MaxRetryError):
            reason = reason.reason
        if isinstance(reason, _urllib3.NewConnectionError | _urllib3.ConnectTimeoutError):
            return "connect"
        return "read"  # aborted/reset after the request was sent
    if isinstance(e, rex.ReadTimeout | rex.ChunkedEncodingError | rex.ContentDecodingError):
        return "read"
    return "other"


def failure_reason(e: BaseException) -> str:
    """A one-line cause of a failed request, without URLs' query strings or object reprs."""
    if isinstance(e, rex.ConnectTimeout):
        return "connect timeout"
    if isinstance(e, rex.ReadTimeout):
        return "read timeout"
    text = str(e)
    for needle, short in _REASONS:
        if needle in text:
            return short
    return type(e).__name__


def safe_url(url: str) -> str:
    """The URL without query string (it may carry secrets)."""
    return url.split("?", 1)[0]


def transport(method: str, label: str):
    """The innermost ``send(url, **kwargs)``: one request, retried where safe."""

    def send(url, retries=0, retry_backoff=0.2, **kwargs):
        attempt = 0
        while True:
            try:
                return _session().request(method.upper(), url, **kwargs)
            except rex.RequestException as e:
                kind = failure_kind(e)
                safe = kind == "connect" or (kind == "read" and method in IDEMPOTENT)
                e.pym_attempts = attempt + 1
                if not safe or attempt >= retries:
                    raise
                delay = min(MAX_BACKOFF, retry_backoff * (2**attempt))
                delay *= random.uniform(0.8, 1.0)
                attempt += 1
                log.warning(
                    "%s: %s, retry %d/%d in %.2fs",
                    label,
                    failure_reason(e),
                    attempt,
                    retries,
                    delay,
                )
                time.sleep(delay)

    return send


def failure_error(e: BaseException, label: str, method: str, url: str, elapsed: float):
    """The DOWNSTREAM_TIMEOUT / DOWNSTREAM_UNAVAILABLE error of a request that failed."""
    attempts = getattr(e, "pym_attempts", 1)
    what = f"{method.upper()} {safe_url(url)}"
    tried = f"after {attempts} attempt{'s' if attempts > 1 else ''} in {elapsed:.1f}s"
    if isinstance(e, rex.ReadTimeout):
        error = DownstreamTimeoutError(f"{label}: {what}: no reply in time ({tried})")
    elif failure_kind(e) in ("connect", "read"):
        error = DownstreamUnavailableError(f"{label}: {what}: {failure_reason(e)} ({tried})")
    else:
        error = DownstreamUnavailableError(f"{label}: {what}: {failure_reason(e)}")
    log.warning("%s error_id=%s: %s", error.code, error.error_id, error.message)
    return error


def status_error(label: str, method: str, url: str, status: int, content: bytes):
    """The DOWNSTREAM_ERROR of a reply with an error status but no pymacaron error body."""
    snippet = content[:200].decode("utf-8", "replace").replace("\n", " ") if content else ""
    error = DownstreamError(
        f"{label}: {method.upper()} {safe_url(url)} returned {status}"
        + (f": {snippet}" if snippet else ""),
        status=status if status >= 400 else 502,
    )
    log.warning("%s error_id=%s", error.message, error.error_id)
    return error


def bad_response_error(label: str, method: str, url: str, why: str):
    """The DOWNSTREAM_BAD_RESPONSE error of a reply that does not match the spec."""
    error = DownstreamBadResponseError(f"{label}: {method.upper()} {safe_url(url)} {why}")
    log.warning("DOWNSTREAM_BAD_RESPONSE error_id=%s: %s", error.error_id, error.message)
    return error


def error_to_exception(error) -> PyMacaronException:
    """The exception for an Error model: the registered class of its code when there is one.

    It keeps the status, code, description, error_id and user_message, so re-raising a
    downstream error in a handler replies with the same error (and error_id).
    """
    status, code = error.status, error.error
    kwargs = {"error_id": error.get("error_id"), "user_message": error.get("user_message")}
    description = error.get("error_description") or code
    cls = code_to_class.get(code)
    if cls is not None and cls.status == status:
        exc = cls(description, **kwargs)
    else:
        exc = PyMacaronException(description, status=status, code=code, **kwargs)
    exc.error_model = error
    return exc
