"""The task worker: ``python -m pymacaron.tasks.worker [--dir DIR] [--concurrency N]``.

It builds the service exactly as gunicorn does (imports ``server.py`` from the service
directory: config, specs, models, error reporter), then runs a Celery worker consuming the
service's task queue. ``python server.py`` starts one itself when ``with_async`` is true;
the image's supervisor (``python -m pymacaron.tasks.supervise``) runs one next to gunicorn.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys

log = logging.getLogger("pymacaron.tasks")


def load_service(directory: str, module_name: str = "server"):
    """Import the service's server.py (builds the app, does not serve); returns its app."""
    from ..app import load_service as load

    return getattr(load(directory, module_name), "app", None)


def exit_with_parent(parent_pid: int) -> None:
    """Stop this worker (warm shutdown) when the process that started it is gone."""
    import signal
    import threading
    import time

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(1)
        log.warning("task worker: parent %d is gone, stopping", parent_pid)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="pym-parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pymacaron.tasks.worker",
        description="Run the Celery worker of the pymacaron service in DIR.",
    )
    parser.add_argument(
        "--dir",
        default=os.environ.get("PYM_SERVICE_DIR", "."),
        help="service directory (default: $PYM_SERVICE_DIR or .)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="worker processes (default: worker_concurrency from pym-config)",
    )
    parser.add_argument(
        "--queues", default=None, help="comma-separated queues to consume (default: task_queue)"
    )
    parser.add_argument("--loglevel", default="INFO")
    parser.add_argument("--name", default=None, help="worker node name (default: pym-<pid>@host)")
    parser.add_argument(
        "--module", default="server", help="the service's server module in DIR (default: server)"
    )
    parser.add_argument(
        "--parent-pid",
        type=int,
        default=None,
        help="stop when this process exits (used by the dev server)",
    )
    args = parser.parse_args(argv)

    from ..exceptions import StartupError

    try:
        app = load_service(args.dir, args.module)
    except StartupError as e:
        print(f"pymacaron worker: cannot start: {e}", file=sys.stderr)
        return 2
    from . import set_flask_app
    from .engine import celery_app, settings

    if app is not None:
        set_flask_app(app)
    celery = celery_app()
    s = settings()
    concurrency = args.concurrency or s.concurrency
    queues = args.queues or s.task_queue
    log.info("task worker: %s, concurrency %d", s.describe(), concurrency)
    if args.parent_pid:
        exit_with_parent(args.parent_pid)
    from .engine import outbox, publish

    box = outbox()
    if box is not None:  # tasks a Redis crash took between queue and worker: tasks/outbox.py
        from .outbox import start_reconciler

        start_reconciler(box, publish, interval=min(30.0, max(1.0, s.visibility_timeout / 4)))
    from .watchdog import install as install_watchdog

    install_watchdog(celery, [q.strip() for q in queues.split(",") if q.strip()])
    name = args.name or f"pym-{os.getpid()}@{socket.gethostname()}"
    celery.worker_main(
        [
            "worker",
            f"--loglevel={args.loglevel}",
            f"--concurrency={concurrency}",
            f"--queues={queues}",
            f"--hostname={name}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
