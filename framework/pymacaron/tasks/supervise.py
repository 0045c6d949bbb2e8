"""The image's entrypoint (docker/Dockerfile's CMD): the production server, plus the task
worker when with_async is on.

    python -m pymacaron.tasks.supervise python -m pymacaron.serve

(``pymacaron.serve`` execs granian, or gunicorn with ``PYM_SERVER=gunicorn``: run/serve.py.)

With ``with_async`` off (config or ``PYM_WITH_ASYNC``) it simply ``exec``s the command: the
server is PID 1, as before (``python -m pymacaron.serve`` with this same interpreter is run
in this process, which then execs the server: one interpreter start fewer). With it on, it
is a small supervisor: it starts the server command and ``python -m pymacaron.tasks.worker``,
forwards SIGTERM/SIGINT to both (the server stops gracefully; the worker finishes its
running tasks and returns unacknowledged ones to the queue), and if either exits it stops
the other and exits with that code, so the container is restarted (Beanstalk replaces it)
rather than running half a service.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

STOP_GRACE = 30  # seconds the children get after SIGTERM before SIGKILL


def _log(message: str) -> None:
    print(f"pym-supervise: {message}", file=sys.stderr, flush=True)


def _async_enabled() -> bool:
    from ..config import set_service_dir
    from ..exceptions import StartupError
    from .settings import with_async_enabled

    service_dir = os.environ.get("PYM_SERVICE_DIR") or os.getcwd()
    set_service_dir(service_dir)
    try:
        return with_async_enabled()
    except StartupError as e:
        # The server reports config errors itself, naming the file and the key.
        _log(f"cannot read pym-config ({e}); starting the server only")
        return False


def supervise(server_cmd: list[str], worker_cmd: list[str]) -> int:
    children: dict[str, subprocess.Popen] = {
        "server": subprocess.Popen(server_cmd),
        "worker": subprocess.Popen(worker_cmd),
    }
    for name, proc in children.items():
        _log(f"started {name} (pid {proc.pid}): {' '.join(proc.args)}")
    stopping = {"signal": None}

    def forward(signum, _frame):
        stopping["signal"] = signum
        for proc in children.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM if signum == signal.SIGTERM else signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)

    from .watchdog import STALL_EXIT, ReplaceBudget

    budget = ReplaceBudget()
    code = 0
    exited = None
    while exited is None:
        for name, proc in children.items():
            if proc.poll() is None:
                continue
            if name == "worker" and stopping["signal"] is None and budget.replace(proc.returncode):
                children[name] = subprocess.Popen(worker_cmd)
                _log(f"worker stalled (code {STALL_EXIT}): replaced (pid {children[name].pid})")
                break
            exited, code = name, proc.returncode
            break
        else:
            time.sleep(0.2)
    if stopping["signal"] is None:
        _log(f"{exited} exited with code {code}: stopping the container")
        code = code or 1
    deadline = time.monotonic() + STOP_GRACE
    for proc in children.values():
        if proc.poll() is None:
            proc.terminate()
    for proc in children.values():
        remaining = max(0.1, deadline - time.monotonic())
        try:
            proc.wait(remaining)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return code if stopping["signal"] is None else 0


def _runs_serve_here(argv: list[str]) -> bool:
    """Whether ``argv`` is ``python -m pymacaron.serve`` with this very interpreter (the
    image's CMD): then this process runs it instead of exec'ing a new interpreter that would
    import and read pym-config again (issue 30: cold start). Any other command, or another
    Python (another venv), is exec'd as before."""
    if len(argv) != 3 or argv[1:] != ["-m", "pymacaron.serve"]:
        return False
    exe = argv[0] if os.sep in argv[0] else shutil.which(argv[0])
    return exe is not None and os.path.abspath(exe) == os.path.abspath(sys.executable)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    usage = "usage: python -m pymacaron.tasks.supervise SERVER-COMMAND..."
    if argv and argv[0] in ("-h", "--help"):
        print(f"{usage}\n\n{__doc__.strip()}\n\nexit code: the server's (or the worker's)")
        return 0
    if not argv:
        print(usage, file=sys.stderr)
        return 2
    if not _async_enabled():
        if _runs_serve_here(argv):
            from ..run.serve import main as serve

            serve()  # execs the server: this process stays PID 1, one interpreter fewer
            return 0  # pragma: no cover - serve() execs or exits
        os.execvp(argv[0], argv)
    worker = [
        sys.executable,
        "-m",
        "pymacaron.tasks.worker",
        "--dir",
        os.environ.get("PYM_SERVICE_DIR") or os.getcwd(),
    ]
    return supervise(argv, worker)


if __name__ == "__main__":
    sys.exit(main())
