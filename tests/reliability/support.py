"""Helpers of tests/reliability: real gunicorn servers of the example and fuzz services."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time

from tests.conftest import (
    FIXTURES,
    REPO,
    TEST_SECRET,
    LiveServer,
    free_port,
    gunicorn_cmd,
    table_prefix,
)

FUZZ_SERVICE = os.path.join(FIXTURES, "fuzz_service")
DELIVERY_SERVICE = os.path.join(FIXTURES, "delivery_service")
BIN = os.path.dirname(sys.executable)


def start_gunicorn(
    service_dir: str,
    workers: int = 2,
    env: dict | None = None,
    extra: list[str] | None = None,
    timeout: float = 30.0,
) -> LiveServer:
    """gunicorn serving ``service_dir``'s server:app on a free 127.0.0.1 port (started, ready)."""
    port = free_port()
    cmd = gunicorn_cmd(port, workers=workers) + list(extra or [])
    server = LiveServer(
        cmd, cwd=service_dir, port=port, env={"JWT_SECRET": TEST_SECRET, **(env or {})}
    )
    try:
        return server.wait(timeout)
    except Exception:
        server.stop()
        raise


GUNICORN_CONF = os.path.join(REPO, "docker", "gunicorn.conf.py")


def start_example(
    tmp_path, workers: int = 2, gunicorn_conf: bool = False
) -> tuple[LiveServer, LiveServer]:
    """The pet shop and the delivery service it calls; (petshop, delivery).

    ``gunicorn_conf``: with the image's settings (gthread workers, keep-alive, preload).
    """
    delivery = start_gunicorn(DELIVERY_SERVICE, workers=1)
    try:
        petshop = start_gunicorn(
            REPO,
            workers=workers,
            extra=["-c", GUNICORN_CONF] if gunicorn_conf else None,
            env={
                "PYM_DYNAMODB_TABLE_PREFIX": table_prefix("rel"),
                "PYM_CLIENT_DELIVERY_URL": delivery.url,
            },
        )
    except Exception:
        delivery.stop()
        raise
    return petshop, delivery


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (gunicorn's workers), from /proc."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def pym(*args: str, cwd: str | None = None, env: dict | None = None, timeout: float = 120):
    """``pym ARGS`` as a user runs it (the installed entry point's module)."""
    return subprocess.run(
        [os.path.join(BIN, "pym"), *args],
        cwd=cwd or REPO,
        env={**os.environ, "JWT_SECRET": TEST_SECRET, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def pym_fuzz(*argv: str) -> tuple[int, str]:
    """``pym fuzz ARGV`` run in this process: the command tree's own parser and function
    (pymacaron.commands), without an interpreter start per spec (schemathesis still runs
    in its own process); (exit code, what it printed)."""
    from pymacaron.commands import run as pym

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = pym(["fuzz", *argv])
    return code, out.getvalue()


def terminate(server: LiveServer, sig: int = signal.SIGTERM) -> None:
    """Signal the server's master process (by PID), the way a deploy does."""
    if server.proc.poll() is None:
        os.kill(server.proc.pid, sig)


def start_image_server(
    service_dir: str = REPO, workers: int = 2, env: dict | None = None, timeout: float = 45.0
) -> LiveServer:
    """``python -m pymacaron.serve`` (granian, as the image and ``pym run --workers N`` run
    it) serving ``service_dir`` on a free 127.0.0.1 port, started and answering /ping."""
    port = free_port()
    server = LiveServer(
        [sys.executable, "-m", "pymacaron.serve"],
        cwd=service_dir,
        port=port,
        env={
            "JWT_SECRET": TEST_SECRET,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WEB_CONCURRENCY": str(workers),
            "PYM_DYNAMODB_TABLE_PREFIX": table_prefix("img"),
            **(env or {}),
        },
    )
    try:
        return server.wait(timeout)
    except Exception:
        server.stop()
        raise


def example_token(user: str = "tester") -> str:
    """A token the example service (the repo's pym-config, TEST_SECRET) accepts."""
    from unittest import mock

    from pymacaron.testing.fuzz import make_token

    with mock.patch.dict(os.environ, {"JWT_SECRET": TEST_SECRET}):
        token = make_token(REPO, user)
    assert token, "the example's pym-config has no jwt_secret"
    return token


def raw_exchange(
    port: int, data: bytes, timeout: float = 15.0, one_reply: bool = False
) -> tuple[bytes, float]:
    """Send ``data`` on a new 127.0.0.1 connection, read until the server closes it (or
    ``timeout`` passes; ``one_reply``: or a reply with its Content-Length is whole);
    (reply, seconds)."""
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            out += chunk
            if one_reply and _whole(out):
                break
    return out, time.monotonic() - t0


def _whole(reply: bytes) -> bool:
    head, sep, body = reply.partition(b"\r\n\r\n")
    length = reply_header(reply, "Content-Length") if sep else None
    return length is not None and len(body) >= int(length)


def json_body(reply: bytes) -> dict:
    """The JSON body of a raw HTTP/1.1 reply."""
    head, _, body = reply.partition(b"\r\n\r\n")
    return json.loads(body)


def reply_header(reply: bytes, name: str) -> str | None:
    """One header of a raw HTTP/1.1 reply (case-insensitive), or None."""
    head = reply.partition(b"\r\n\r\n")[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def access_line(server: LiveServer, request_id: str, timeout: float = 5.0) -> str | None:
    """The access-log line of ``request_id`` in the server's output (lines are flushed every
    0.1 s), or None after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        for line in server.output().splitlines():
            if request_id in line and "pymacaron.access" in line:
                return line
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)
