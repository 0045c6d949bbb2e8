"""Turning results and errors into Flask replies, and reporting server errors.

Every error reply of a Flask request goes through :func:`error_reply`: the uniform body
(errors.py), the service's ``error_callback`` (to render it in the spec's own error model),
logging (5xx with the traceback, under the error_id) and the ``error_reporter`` (5xx only,
off the request path). The hooks are the serving app's (:func:`current_hooks`): two apps in
one process report to their own reporters.
"""

from __future__ import annotations

import logging
import queue
import threading
import traceback

import orjson
from flask import Response
from werkzeug.exceptions import HTTPException

from .. import current
from ..errors import code_for, error_body
from ..exceptions import PyMacaronException
from ..logs import get_request_id

log = logging.getLogger("pymacaron")

__all__ = [
    "json_reply",
    "error_reply",
    "exception_reply",
    "ErrorHooks",
    "current_hooks",
    "handling",
]

JSON = "application/json"


def json_reply(data, status: int = 200, headers=None) -> Response:
    """A JSON response serialised with orjson."""
    return Response(
        orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS),
        status=status,
        headers=headers,
        mimetype=JSON,
    )


class _Reporter:
    """Calls error_reporter(title, data) on a background thread, never on the request path."""

    def __init__(self):
        self.callback = None
        self._queue: queue.Queue = queue.Queue(maxsize=1000)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def report(self, title: str, data: dict) -> None:
        if self.callback is None:
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="pym-error-reporter", daemon=True
                )
                self._thread.start()
        try:
            self._queue.put_nowait((title, data))
        except queue.Full:
            log.warning("error reporter queue is full: dropped report %r", title)

    def _run(self) -> None:
        while True:
            title, data = self._queue.get()
            try:
                if self.callback is not None:
                    self.callback(title, data)
            except Exception:
                log.exception("error_reporter failed")
            finally:
                self._queue.task_done()

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until queued reports are delivered (tests, shutdown)."""
        done = threading.Event()

        def waiter():
            self._queue.join()
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        done.wait(timeout)


class ErrorHooks:
    """A service's error hooks: ``error_callback(body)`` renders every error reply,
    ``error_reporter(title, data)`` gets every 5xx (on its own thread)."""

    def __init__(self, error_reporter=None, error_callback=None):
        self.error_callback = error_callback
        self.reporter = _Reporter()
        self.reporter.callback = error_reporter

    @property
    def error_reporter(self):
        return self.reporter.callback

    @error_reporter.setter
    def error_reporter(self, callback) -> None:
        self.reporter.callback = callback


ErrorHandling = ErrorHooks  # the name before the app factory

# The hooks outside any pymacaron service (before one is started, or for a bare Flask app).
handling = ErrorHooks()


def current_hooks() -> ErrorHooks:
    """The error hooks of the app serving this request; outside a request the last started
    service's, else :data:`handling`."""
    service = current.serving() or current.last_started()
    return service.hooks if service is not None else handling


def error_reply(
    status: int,
    code: str,
    description: str,
    error_id: str | None = None,
    user_message: str | None = None,
    exc: BaseException | None = None,
    endpoint: str | None = None,
    error_model: dict | None = None,
    errors: list | None = None,
) -> Response:
    """Log (and report a 5xx), then reply with the uniform error body (or, with
    ``error_model`` from errormodel.py, in the operation's own error schema). ``errors``:
    every violation of a request (``[{"loc", "msg", "type"}]``), the first one being the
    ``error_description``."""
    body = error_body(status, code, description, error_id, user_message)
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
            e.status,
            e.code,
            e.message,
            e.error_id,
            e.user_message,
            exc=e if e.status >= 500 else None,
            endpoint=endpoint,
            error_model=error_model,
            errors=getattr(e, "violations", None),
        )
    if isinstance(e, HTTPException):
        status = e.code or 500
        code = code_for(status)
        description = e.description or e.name
        if status == 405 and endpoint is None:
            description = "the method is not allowed on this path"
        if status == 404:
            description = "no such path on this service"
        reply = error_reply(status, code, description, endpoint=endpoint, error_model=error_model)
        if status == 405 and getattr(e, "valid_methods", None):
            reply.headers["Allow"] = ", ".join(e.valid_methods)
        return reply
    return error_reply(
        500,
        "UNHANDLED_SERVER_ERROR",
        f"the server failed to handle the request ({type(e).__name__})",
        exc=e,
        endpoint=endpoint,
        error_model=error_model,
    )
