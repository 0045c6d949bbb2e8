"""The image's server interface: granian's RSGI in front of the service's WSGI app.

granian's WSGI mode hands a request to one of its few blocking threads before the body has
arrived, and the thread then waits for the body: 16 clients sending a declared body one
byte at a time held every thread and took the service offline. Here each request's body is
read on the worker's event loop first (no thread waits for a client), bounded in size
(``max_body_size``: ``limit + 1`` bytes read, then 413, whatever the framing) and in time
(``body_read_timeout``: 408); only a request whose body is complete takes one of the
``threads`` request threads, which runs the WSGI app and buffers its reply.

The bridge also bounds the request head below the limits of granian's HTTP parser (hyper),
whose own refusals have empty bodies: a request target over ``max_uri`` bytes is a 414, a
head over ``max_header_bytes`` or ``max_headers`` fields a 431 (docs/hostile.md says which
refusals are still hyper's). Every refusal of the bridge (408, 413, 414, 431) goes through
the app's outer layers (request id in, ``X-Request-ID`` out, security headers, one access
line), carries the uniform JSON error body and ``Connection: close``.
``python -m pymacaron.serve`` runs ``granian --interface rsgi --factory`` on :func:`create`.
"""

from __future__ import annotations

import asyncio
import collections
import importlib
import io
import os
import queue
import sys
import threading
from urllib.parse import unquote_to_bytes

from ..error_body import wsgi_error
from ..server.dispatch import BODY_KEY
from ..server.layers import AccessLog, RequestId, SecurityHeaders, access_log_wanted
from .drain import Drain

__all__ = ["WSGIOverRSGI", "create", "MAX_URI", "MAX_HEADER_BYTES", "MAX_HEADERS"]

_CLOSE = (("Connection", "close"),)
REFUSAL = "pymacaron.refusal"  # (status, description) of a request the bridge refuses
_FRAMED = "pymacaron.framing"  # the framing headers of the request (content-length, ...)

# The request head's limits, below hyper's own (a 65,534-byte target, 100 fields, granian's
# 408 KiB buffer), whose refusals have empty bodies. gunicorn's defaults are close (4 KiB
# request line, 100 fields of 8 KiB); an ALB takes 16 KiB of request line, 64 KiB of head.
MAX_URI = 8192
MAX_HEADER_BYTES = 32768
MAX_HEADERS = 64
_PROTOCOLS = {"1.1": "HTTP/1.1", "1": "HTTP/1.0", "1.0": "HTTP/1.0", "2": "HTTP/2"}
_HEADER_NAMES: dict[str, str] = {}  # a header's name -> its environ key ("": not passed)


def _header_name(key: str) -> str:
    """The environ key of a header (remembered for the first 512 names seen)."""
    low = key.lower()
    if low == "content-type":
        name = "CONTENT_TYPE"
    elif low in ("content-length", "transfer-encoding"):
        name = ""
    else:
        name = "HTTP_" + low.upper().replace("-", "_")
    if len(_HEADER_NAMES) < 512:
        _HEADER_NAMES[key] = name
    return name


def _split_address(address: str) -> tuple[str, str]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), port


class _TooLarge(Exception):
    pass


def _refusal_app(environ, start_response):
    status, description = environ[REFUSAL]
    return wsgi_error(start_response, status, description)


class WSGIOverRSGI:
    """An RSGI application running ``wsgi_app`` on ``threads`` threads, bodies read first.

    ``config``: pym-config (its ``access_log``), for the access lines of the bridge's own
    refusals; ``max_uri``, ``max_header_bytes``, ``max_headers``: the head's limits.
    """

    def __init__(
        self,
        wsgi_app,
        threads: int = 4,
        max_body: int | None = 1024 * 1024,
        body_timeout: float = 5.0,
        config=None,
        max_uri: int = MAX_URI,
        max_header_bytes: int = MAX_HEADER_BYTES,
        max_headers: int = MAX_HEADERS,
    ):
        self.wsgi_app = wsgi_app
        self.threads = threads
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.max_uri = max_uri
        self.max_header_bytes = max_header_bytes
        self.max_headers = max_headers
        refuser = _refusal_app
        if access_log_wanted(config):
            refuser = AccessLog(refuser, config, status_recorded=True)
        self.refuser = RequestId(SecurityHeaders(refuser, config), config)
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self._finished: collections.deque = collections.deque()  # replies sent, loop not told
        self._wake_pending = False
        self._servers: dict[str, tuple[str, str]] = {}
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
        environ = self._environ(scope, headers)
        refusal = environ.get(REFUSAL)
        if refusal is not None:
            return self._refuse(proto, environ, *refusal)
        body = b""
        # a body only when the head frames one (a bodiless GET asks granian nothing more)
        length = headers.get("content-length") if _FRAMED in environ else None
        if length not in (None, "0") or "transfer-encoding" in environ.get(_FRAMED, ()):
            limit = self.max_body
            too_large = f"the request body is over {limit} bytes"
            if (
                limit is not None
                and length is not None
                and length.isdigit()
                and int(length) > limit
            ):
                return self._refuse(proto, environ, 413, too_large)
            try:
                async with asyncio.timeout(self.body_timeout):  # no task of its own (wait_for's)
                    body = await self._read(proto, limit, length)
            except _TooLarge:
                return self._refuse(proto, environ, 413, too_large)
            except TimeoutError:
                timeout = f"the request body was not received within {self.body_timeout:g} s"
                return self._refuse(proto, environ, 408, timeout)
            except Exception:  # the client went away: nobody to answer
                return None
            if body:
                environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input"] = io.BytesIO(body)
        environ[BODY_KEY] = body
        done = self.loop.create_future()
        self.queue.put((environ, proto, extra, done))
        await done  # the reply is sent by the request thread; this ends the request
        return None

    async def _read(self, proto, limit: int | None, length: str | None) -> bytes:
        """The whole body: in one read when its length is declared (the caller refused one
        over ``limit``; granian frames the body by it, and the size is checked again after),
        else chunk by chunk up to ``limit``."""
        if length is not None and length.isdigit():
            body = await proto()
            if limit is not None and len(body) > limit:
                raise _TooLarge
            return body
        chunks, size = [], 0
        async for chunk in proto:
            size += len(chunk)
            if limit is not None and size > limit:
                raise _TooLarge
            chunks.append(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _refuse(self, proto, environ: dict, status: int, description: str) -> None:
        """Answer a refusal through the app's outer layers (request id, access line), on the
        event loop (no request thread waits for it), and close the connection."""
        environ[REFUSAL] = (status, description)
        environ.setdefault("wsgi.input", io.BytesIO(b""))
        reply: list = []

        def start_response(status_line, headers, exc_info=None):
            reply[:] = [int(status_line.split(" ", 1)[0]), headers]

        data = b"".join(self.refuser(environ, start_response))
        proto.response_bytes(reply[0], [*reply[1], *_CLOSE], data)

    def _environ(self, scope, headers) -> dict:
        """The WSGI environ of a request, without its body; ``REFUSAL`` set when the head is
        over a limit (414, 431)."""
        environ = self.base.copy()
        server = scope.server
        address = self._servers.get(server)
        if address is None:
            address = _split_address(server)
            if len(self._servers) < 16:
                self._servers[server] = address
        environ["SERVER_NAME"], environ["SERVER_PORT"] = address
        host, _, environ["REMOTE_PORT"] = scope.client.rpartition(":")  # _split_address
        environ["REMOTE_ADDR"] = host.strip("[]")
        path = scope.path
        query = scope.query_string
        environ["REQUEST_METHOD"] = scope.method
        environ["PATH_INFO"] = path if path.isascii() and "%" not in path else _unquote(path)
        environ["QUERY_STRING"] = query
        environ["SERVER_PROTOCOL"] = _PROTOCOLS.get(scope.http_version) or (
            "HTTP/" + scope.http_version
        )
        environ["wsgi.url_scheme"] = scope.scheme
        size = count = 0
        names = _HEADER_NAMES
        for key, value in headers.items():
            count += 1
            size += len(key) + len(value)
            name = names.get(key)
            if name is None:
                name = _header_name(key)
            if not name:  # the body is read whole: its length is what it is
                environ[_FRAMED] = (*environ.get(_FRAMED, ()), key.lower())
                continue
            if name in environ:
                sep = "; " if name == "HTTP_COOKIE" else ", "
                environ[name] = environ[name] + sep + value
            else:
                environ[name] = value
        if len(path) + len(query) + 1 > self.max_uri:
            environ[REFUSAL] = (414, f"the request target is over {self.max_uri} bytes")
        elif size + 4 * count > self.max_header_bytes or count > self.max_headers:
            environ[REFUSAL] = (
                431,
                f"the request head is over {self.max_header_bytes} bytes"
                f" or {self.max_headers} fields",
            )
        return environ

    def _thread(self) -> None:
        """A request thread: run the app for each queued request, send its reply, tell the
        event loop (the reply goes out first: the loop's wake-up is off its path)."""
        get = self.queue.get
        finished = self._finished.append
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
            finished(done)
            if not self._wake_pending:  # one wake-up of the loop for every reply since
                self._wake_pending = True
                self.loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        """On the event loop: end the requests whose replies the threads sent. The flag is
        lowered before the queue is read, so a reply queued meanwhile wakes the loop again."""
        self._wake_pending = False
        finished = self._finished
        while finished:
            done = finished.popleft()
            if not done.done():
                done.set_result(None)

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

    config = get_config()
    timeout = float(config.body_read_timeout)
    return WSGIOverRSGI(
        app,
        threads=int(os.environ.get("GRANIAN_THREADS") or 4),
        max_body=flask_config.get("MAX_CONTENT_LENGTH"),
        body_timeout=timeout,
        config=config,
    )


def _unquote(path: str) -> str:
    """A request path as WSGI's ``PATH_INFO``: percent-decoded bytes as latin-1."""
    return unquote_to_bytes(path).decode("latin-1")
