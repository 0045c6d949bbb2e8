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

from ..testing.runner import free_port

log = logging.getLogger("pymacaron.persist")

__all__ = ["Dynalite", "find_dynalite", "start_dev_dynamodb"]


def find_dynalite(start: str | None = None) -> str | None:
    """``node_modules/.bin/dynalite`` in ``start`` or a parent directory, else on PATH."""
    here = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(here, "node_modules", ".bin", "dynalite")
        if os.access(candidate, os.X_OK):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            return shutil.which("dynalite")
        here = parent


class Dynalite:
    """One dynalite process on 127.0.0.1 with its own data directory."""

    def __init__(
        self,
        path: str,
        port: int | None = None,
        binary: str | None = None,
        log_file: str | None = None,
    ):
        self.path = os.path.abspath(path)
        self.port = port
        self.binary = binary or find_dynalite()
        self.log_file = log_file
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> Dynalite:
        if not self.binary:
            raise FileNotFoundError(
                "dynalite is not installed: run `npm install` (package.json lists it) "
                "or set PYM_DYNAMODB_URL to a running DynamoDB"
            )
        os.makedirs(self.path, exist_ok=True)
        if self.log_file:  # .pym/ may not exist yet when the data lives elsewhere
            os.makedirs(os.path.dirname(os.path.abspath(self.log_file)), exist_ok=True)
        self.port = self.port or free_port()
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                [
                    self.binary,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--path",
                    self.path,
                    "--createTableMs",
                    "50",
                ],
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
                    f"(port {self.port}, data {self.path})"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dynalite did not answer on port {self.port} within {timeout:.0f} s")

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
        binary=find_dynalite(service_dir),
        log_file=os.path.join(service_dir, ".pym", "dynalite.log"),
    )
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
