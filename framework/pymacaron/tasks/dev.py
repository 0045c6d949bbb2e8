"""Development: ``python server.py`` with ``with_async: true`` starts a task worker too.

One command runs everything, as with the original pymacaron-async: the dev server starts
``python -m pymacaron.tasks.worker`` next to itself, says where it expects the broker (and
whether anything answers there), and stops the worker when it stops.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import subprocess
import sys
from urllib.parse import urlparse

from .settings import redact_url, task_settings, with_async_enabled

log = logging.getLogger("pymacaron.tasks")

__all__ = ["start_dev_worker", "broker_reachable"]


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


def start_dev_worker() -> subprocess.Popen | None:
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
    proc = subprocess.Popen(cmd, env=dict(os.environ))
    log.info("with_async: task worker started (pid %d): %s", proc.pid, s.describe())

    def stop() -> None:
        if proc.poll() is None:
            proc.terminate()  # warm shutdown: running tasks finish, unacked ones go back
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    atexit.register(stop)  # the dev server exits cleanly on SIGTERM too (cli.run_dev_server)
    return proc
