"""The error hooks of a service: ``error_reporter`` (called off the request path, on a
background thread) and ``error_callback``; :func:`current_hooks` finds the serving app's, so
two apps in one process report to their own reporters. Used by the reply path
(server/replies.py) and by the task worker (tasks/engine.py), hence its own module.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from . import current

log = logging.getLogger("pymacaron")

__all__ = ["ErrorHooks", "current_hooks", "handling"]

# error_reporter(title, data), error_callback(body) -> a Response, a model, a dict or None
ErrorReporter = Callable[[str, dict[str, Any]], object]
ErrorCallback = Callable[[dict[str, Any]], object]


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

    def __init__(
        self,
        error_reporter: ErrorReporter | None = None,
        error_callback: ErrorCallback | None = None,
    ) -> None:
        self.error_callback = error_callback
        self.reporter = _Reporter()
        self.reporter.callback = error_reporter

    @property
    def error_reporter(self):
        return self.reporter.callback

    @error_reporter.setter
    def error_reporter(self, callback) -> None:
        self.reporter.callback = callback


def __getattr__(name: str):
    if name == "ErrorHandling":  # the name before the app factory
        from .aliases import deprecated

        deprecated(f"{__name__}.ErrorHandling", "pymacaron.hooks.ErrorHooks")
        return ErrorHooks
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# The hooks outside any pymacaron service (before one is started, or for a bare Flask app).
handling = ErrorHooks()


def current_hooks() -> ErrorHooks:
    """The error hooks of the app serving this request; outside a request the last started
    service's, else :data:`handling`."""
    service = current.serving() or current.last_started()
    return service.hooks if service is not None else handling
