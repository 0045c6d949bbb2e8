"""Start the production server for ``server:app``: granian (default) or gunicorn.

    python -m pymacaron.serve            # what the image runs (through the task supervisor)

``PYM_SERVER=granian`` (default) runs granian's RSGI interface with pymacaron's bridge to
the WSGI app (run/rsgi.py: a body is read on the event loop, bounded in time and size, before
a request thread runs the app; run/drain.py: a drained SIGTERM; docs/hostile.md);
``PYM_SERVER=gunicorn`` runs gunicorn (the ``gunicorn`` extra; the image has it) with
``$GUNICORN_CONF`` (docker/gunicorn.conf.py in the image). Either replaces this process
(``exec``), so the server is PID 1 and gets SIGTERM directly. pym-config is read here first,
once: a missing secret stops the start with one line, before any worker is forked.

granian settings, each overridable by the environment: ``PORT`` (8080),
``WEB_CONCURRENCY`` (worker processes: one per CPU, at least 2), ``GRANIAN_THREADS`` (4
request threads per worker), ``GRANIAN_BACKPRESSURE`` (1024 connections per worker: granian
counts connections, and a held one costs no thread), ``GRANIAN_HEADER_TIMEOUT_MS`` (5000),
``GRANIAN_GRACEFUL_TIMEOUT`` (25 s before a stopping worker is killed).

The server runs under Linux's ``SCHED_BATCH`` policy (inherited by its workers and their
threads; ``PYM_SCHED_BATCH=0`` keeps the default): a worker is one Rust I/O thread and a few
Python threads handing each request to one another, and under the default policy each wake-up
preempts the thread that runs, ~1.5 involuntary switches per request on one CPU. Batch
scheduling lets a thread run until it blocks: measured 20-30 % less CPU per request and a
p99 at 16 connections below FastAPI's (bench/README.md). It needs no privilege and only
makes the server's wake-ups mildly disfavoured against other processes of the host.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys

from ..environ import env_number

__all__ = [
    "batch_scheduling",
    "check_config",
    "cpu_count",
    "env_int",
    "granian_argv",
    "gunicorn_argv",
    "main",
]

# pymacaron.commands.errors' EXIT_USAGE (run/ does not import the command tree: tests/framework/test_import_layers.py)
EXIT_USAGE = 2
GUNICORN_MISSING = (
    "pymacaron.serve: PYM_SERVER=gunicorn but gunicorn is not installed: "
    "pip install 'pymacaron[gunicorn]' (or unset PYM_SERVER to serve with granian)"
)


def env_int(name: str, default: int) -> int:
    return env_number("pymacaron.serve", name, default, int)


def cpu_count() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def batch_scheduling() -> bool:
    """Put this process (and what it execs and forks) under ``SCHED_BATCH``, unless
    ``PYM_SCHED_BATCH`` says no; True when it is."""
    if os.environ.get("PYM_SCHED_BATCH", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except (AttributeError, OSError):  # not Linux, or refused: the default policy then
        return False
    return True


def granian_argv(app: str = "server:app") -> list[str]:
    """The granian command line from the environment; ``app`` is read by the factory
    (``PYM_WSGI_APP``, see run/rsgi.py)."""
    return [
        "granian", "--interface", "rsgi", "--factory",
        "--host", os.environ.get("HOST", "0.0.0.0"),
        "--port", str(env_int("PORT", 8080)),
        "--workers", str(env_int("WEB_CONCURRENCY", max(2, cpu_count()))),
        "--backpressure", str(env_int("GRANIAN_BACKPRESSURE", 1024)),
        "--http1-header-read-timeout", str(env_int("GRANIAN_HEADER_TIMEOUT_MS", 5000)),
        "--workers-kill-timeout", str(env_int("GRANIAN_GRACEFUL_TIMEOUT", 25)),
        "--respawn-failed-workers",
        "--no-ws",
        "pymacaron.run.rsgi:create",
    ]  # fmt: skip


def check_config() -> None:
    """Read pym-config once in the master, before any worker starts: a missing secret or a
    bad key is one line and exit 2, not a crash in every respawned worker."""
    from ..config import config_path, find_service_dir, load_config
    from ..exceptions import StartupError

    if not os.path.exists(config_path(find_service_dir(), os.environ.get("PYM_ENV") or "dev")):
        return  # a service without pym-config: the app decides
    try:
        load_config()
    except StartupError as e:
        raise SystemExit(f"pymacaron: cannot start: {e}") from None


def gunicorn_argv(app: str = "server:app") -> list[str]:
    """The gunicorn command line (its settings live in $GUNICORN_CONF)."""
    conf = os.environ.get("GUNICORN_CONF", "/etc/gunicorn/gunicorn.conf.py")
    return ["gunicorn", "--config", conf, app]


def main(argv: list[str] | None = None) -> None:
    app = os.environ.get("PYM_WSGI_APP", "server:app")
    server = os.environ.get("PYM_SERVER", "granian").strip().lower()
    check_config()
    if server == "granian":
        os.environ["PYM_WSGI_APP"] = app
        argv = granian_argv(app)
    elif server == "gunicorn":
        # gunicorn is the `gunicorn` extra: said once, in one line, before anything is exec'd
        if importlib.util.find_spec("gunicorn") is None:
            print(GUNICORN_MISSING, file=sys.stderr, flush=True)
            raise SystemExit(EXIT_USAGE)
        argv = gunicorn_argv(app)
    else:
        raise SystemExit(f"pymacaron.serve: PYM_SERVER={server!r}: expected granian or gunicorn")
    # beside this Python first (a venv that is not activated), then on PATH
    beside = os.path.join(os.path.dirname(sys.executable), argv[0])
    exe = beside if os.access(beside, os.X_OK) else shutil.which(argv[0])
    if exe is None:
        raise SystemExit(f"pymacaron.serve: {argv[0]} is not installed")
    batch_scheduling()
    sys.stdout.flush()
    os.execv(exe, argv)


if __name__ == "__main__":
    main()
