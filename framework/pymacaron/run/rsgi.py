"""The image's server interface: granian's RSGI in front of the service's WSGI app.

granian's WSGI mode hands a request to one of its few blocking threads before the body has
arrived, and the thread then waits for the body: 16 clients sending a declared body one
byte at a time held every thread and took the service offline. Here each request's body is
read on the worker's event loop first (no thread waits for a client), bounded in size
(``max_body_size``: ``limit + 1`` bytes read, then 413, whatever the framing) and in time
(``body_read_timeout``: 408); only a request whose body is complete takes one of the
``threads`` request threads, which runs the WSGI app and buffers its reply.

Both refusals carry the uniform JSON error body and ``Connection: close``.
``python -m pymacaron.serve`` runs ``granian --interface rsgi --factory`` on :func:`create`.
"""

from __future__ import annotations

import asyncio
import importlib
import io
import os
import queue
import sys
import threading
from urllib.parse import unquote_to_bytes

from ..error_body import JSON_HEADERS, error_json
from ..server.dispatch import BODY_KEY
from ..server.headers import SECURITY_HEADERS
from .drain import Drain

__all__ = ["WSGIOverRSGI", "create"]

_CLOSE = (("Connection", "close"),)


class _TooLarge(Exception):
    pass


class WSGIOverRSGI:
    """An RSGI application running ``wsgi_app`` on ``threads`` threads, bodies read first."""

    def __init__(
        self,
        wsgi_app,
        threads: int = 4,
        max_body: int | None = 1024 * 1024,
        body_timeout: float = 5.0,
    ):
        self.wsgi_app = wsgi_app
        self.threads = threads
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.drain = None
        self.loop = None
        self.workers: list[threading.Thread] = []
        self.base = {
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SCRIPT_NAME": "",
            "SERVER_SOFTWARE": "granian",
            "wsgi.errors": sys.stderr,
            "wsgi.input_terminated": True,
            "wsgi.multiprocess": True,
            "wsgi.multithread": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }

    def __rsgi_init__(self, loop) -> None:
        self.loop = loop
        self.drain = Drain.install(loop)
        self.workers = [
            threading.Thread(target=self._thread, name=f"pym-request-{i}", daemon=True)
            for i in range(self.threads)
        ]
        for thread in self.workers:
            thread.start()

    def __rsgi_del__(self, loop) -> None:
        for _ in self.workers:
            self.queue.put(None)
        for thread in self.workers:
            thread.join(30)

    async def __rsgi__(self, scope, proto) -> None:
        if scope.proto != "http":
            return None
        drain = self.drain
        if drain is None:
            return await self._serve(scope, proto, ())
        drain.started()
        try:
            return await self._serve(scope, proto, _CLOSE if drain.draining else ())
        finally:
            drain.finished()

    async def _serve(self, scope, proto, extra: tuple) -> None:
        headers = scope.headers
        length = headers.get("content-length")
        body = b""
        if length not in (None, "0") or "transfer-encoding" in headers:
            limit = self.max_body
            if (
                limit is not None
                and length is not None
                and length.isdigit()
                and int(length) > limit
            ):
                return self._refuse(proto, 413, f"the request body is over {limit} bytes")
            try:
                body = await asyncio.wait_for(self._read(proto, limit), self.body_timeout)
            except _TooLarge:
                return self._refuse(proto, 413, f"the request body is over {limit} bytes")
            except TimeoutError:
                return self._refuse(
                    proto, 408, f"the request body was not received within {self.body_timeout:g} s"
                )
            except Exception:  # the client went away: nobody to answer
                return None
        done = self.loop.create_future()
        self.queue.put((self._environ(scope, headers, body), proto, extra, done))
        await done  # the reply is sent by the request thread; this ends the request
        return None

    async def _read(self, proto, limit: int | None) -> bytes:
        chunks, size = [], 0
        async for chunk in proto:
            size += len(chunk)
            if limit is not None and size > limit:
                raise _TooLarge
            chunks.append(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    @staticmethod
    def _refuse(proto, status: int, description: str) -> None:
        body = error_json(status, description)
        proto.response_bytes(
            status,
            [*JSON_HEADERS, ("Content-Length", str(len(body))), *SECURITY_HEADERS, *_CLOSE],
            body,
        )

    def _environ(self, scope, headers, body: bytes) -> dict:
        environ = dict(self.base)
        host, _, port = scope.server.rpartition(":")
        client, _, client_port = scope.client.rpartition(":")
        environ.update(
            REQUEST_METHOD=scope.method,
            PATH_INFO=unquote_to_bytes(scope.path).decode("latin-1"),
            QUERY_STRING=scope.query_string,
            SERVER_NAME=host.strip("[]"),
            SERVER_PORT=port,
            REMOTE_ADDR=client.strip("[]"),
            REMOTE_PORT=client_port,
            SERVER_PROTOCOL="HTTP/" + scope.http_version,
        )
        environ["wsgi.url_scheme"] = scope.scheme
        environ["wsgi.input"] = io.BytesIO(body)
        environ[BODY_KEY] = body
        for key, value in headers.items():
            key = key.lower()
            if key == "content-type":
                environ["CONTENT_TYPE"] = value
                continue
            if key in ("content-length", "transfer-encoding"):
                continue  # the body is read whole: its length is what it is
            name = "HTTP_" + key.upper().replace("-", "_")
            if name in environ:
                sep = "; " if name == "HTTP_COOKIE" else ", "
                environ[name] = environ[name] + sep + value
            else:
                environ[name] = value
        if body:
            environ["CONTENT_LENGTH"] = str(len(body))
        return environ

    def _thread(self) -> None:
        """A request thread: run the app for each queued request, send its reply, tell the
        event loop (the reply goes out first: the loop's wake-up is off its path)."""
        get = self.queue.get
        while True:
            job = get()
            if job is None:
                return
            environ, proto, extra, done = job
            try:
                status, headers, data = self._call(environ)
                if extra or (self.drain is not None and self.drain.draining):
                    headers = [*headers, *_CLOSE]
                proto.response_bytes(status, headers, data)
            except BaseException as e:  # noqa: BLE001 (the loop reports it: granian's 500)
                self.loop.call_soon_threadsafe(_fail, done, e)
                continue
            self.loop.call_soon_threadsafe(_succeed, done)

    def _call(self, environ: dict):
        """Run the WSGI app in a request thread: (status, headers, body bytes)."""
        reply: list = []

        def start_response(status, headers, exc_info=None):
            reply[:] = [int(status.split(" ", 1)[0]), headers]
            return _no_write

        result = self.wsgi_app(environ, start_response)
        try:
            if type(result) is list:
                data = result[0] if len(result) == 1 else b"".join(result)
            else:
                data = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return reply[0], reply[1], data


def _succeed(future) -> None:
    if not future.done():
        future.set_result(None)


def _fail(future, error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _no_write(data: bytes) -> None:
    raise RuntimeError("pymacaron: the write() callable of WSGI is not supported")


def create() -> WSGIOverRSGI:
    """granian's factory: the app named by ``PYM_WSGI_APP`` (``server:app``), wrapped."""
    target = os.environ.get("PYM_WSGI_APP", "server:app")
    module, _, name = target.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    app = getattr(importlib.import_module(module), name or "app")
    flask_config = getattr(app, "config", {})
    from ..config import get_config

    timeout = float(get_config().body_read_timeout)
    return WSGIOverRSGI(
        app,
        threads=int(os.environ.get("GRANIAN_THREADS") or 4),
        max_body=flask_config.get("MAX_CONTENT_LENGTH"),
        body_timeout=timeout,
    )
