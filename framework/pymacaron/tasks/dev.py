"""Development: ``python server.py`` with ``with_async: true`` starts a task worker too.

One command runs everything, as with the original pymacaron-async: the dev server starts
``python -m pymacaron.tasks.worker`` next to itself, says where it expects the broker (and
whether anything answers there), replaces the worker when its watchdog finds the consumer
stalled (tasks/watchdog.py, as the image's supervisor does), and stops it when it stops.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import subprocess
import sys
import threading
from urllib.parse import urlparse

from .settings import redact_url, task_settings, with_async_enabled
from .watchdog import STALL_EXIT, ReplaceBudget

log = logging.getLogger("pymacaron.tasks")

__all__ = ["start_dev_worker", "broker_reachable", "DevWorker"]


def broker_reachable(url: str, timeout: float = 1.0) -> bool | None:
    """True/False for a redis:// broker that does/doesn't accept connections; None if unknown."""
    parsed = urlparse(url)
    if parsed.scheme not in ("redis", "rediss"):
        return None
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=timeout
        ):
            return True
    except OSError:
        return False


def _main_module() -> tuple[str, str]:
    """The directory and module name of the running server script."""
    main = sys.modules.get("__main__")
    path = os.path.abspath(getattr(main, "__file__", None) or "server.py")
    return os.path.dirname(path), os.path.splitext(os.path.basename(path))[0]


def start_dev_worker() -> DevWorker | None:
    """Start the worker next to the dev server when with_async is on (else do nothing)."""
    if not with_async_enabled():
        return None
    s = task_settings()
    where = redact_url(s.broker_url)
    reachable = broker_reachable(s.broker_url)
    if reachable is False:
        port = urlparse(s.broker_url).port or 6379
        log.warning(
            "with_async: true, but no broker answers at %s: start one "
            "(`redis-server --port %d --appendonly yes --appendfsync always`: pym docs tasks) or set broker_url / "
            "PYM_BROKER_URL; until then, requests that enqueue tasks fail with "
            "503 TASK_QUEUE_UNAVAILABLE",
            where,
            port,
        )
    directory, module = _main_module()
    cmd = [
        sys.executable,
        "-m",
        "pymacaron.tasks.worker",
        "--dir",
        directory,
        "--module",
        module,
        "--parent-pid",
        str(os.getpid()),
    ]
    worker = DevWorker(cmd)
    log.info("with_async: task worker started (pid %d): %s", worker.proc.pid, s.describe())
    atexit.register(worker.stop)  # the dev server exits cleanly on SIGTERM too
    return worker


class DevWorker:
    """The dev server's task worker: started now, replaced when it exits stalled
    (:data:`STALL_EXIT`, within a :class:`ReplaceBudget`), stopped by :meth:`stop`."""

    def __init__(self, cmd: list[str], budget: ReplaceBudget | None = None):
        self.cmd = cmd
        self.budget = budget or ReplaceBudget()
        self.stopping = threading.Event()
        self._lock = threading.Lock()  # a replacement and stop() never cross
        self.proc = subprocess.Popen(cmd, env=dict(os.environ))
        self._watch = threading.Thread(target=self._replace_stalled, daemon=True)
        self._watch.start()

    def _replace_stalled(self) -> None:
        while True:
            code = self.proc.wait()
            if self.stopping.is_set() or not self.budget.replace(code):
                if not self.stopping.is_set():
                    log.warning("with_async: the task worker exited with code %s", code)
                return
            with self._lock:
                if self.stopping.is_set():
                    return
                self.proc = subprocess.Popen(self.cmd, env=dict(os.environ))
            log.warning(
                "with_async: the task worker stalled (code %d): replaced (pid %d)",
                STALL_EXIT,
                self.proc.pid,
            )

    def stop(self) -> None:
        with self._lock:
            self.stopping.set()
            proc = self.proc
        if proc.poll() is None:
            proc.terminate()  # warm shutdown: running tasks finish, unacked ones go back
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
