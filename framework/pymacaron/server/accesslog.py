"""The access log: one pre-built line per request, buffered, written whole, never lost.

No ``logging`` on the hot path: a request appends one ready line (bytes) to a per-process
queue. The queue is written to stderr (fd 2) when it holds ``MAX_LINES`` lines, every
``INTERVAL`` (0.1) seconds by a small daemon thread (``PYM_ACCESS_LOG_FLUSH_S`` changes it), and when the process ends: at interpreter
exit (``atexit``), when a multiprocessing worker (granian's) returns from its target,
and on a SIGTERM/SIGINT the process would otherwise die of (a handler the server installs
is left alone: gunicorn and granian stop gracefully, and the exits above flush).

Each ``os.write`` carries whole lines and at most ``PIPE_BUF`` (4096) bytes, so lines of
several worker processes sharing one pipe or file never interleave. After a fork the child
starts with an empty queue (the parent writes its own lines).

Two formats, the same fields (method, path, status, duration, request id):

- ``text`` (default), the runtime's log format:
  ``2026-12-01 09:34:13,169 INFO [<request id>] pymacaron.access: GET /pets/1 200 1.2ms``
- ``json`` (``access_log: json`` in pym-config), one JSON object per line, for CloudWatch:
  ``{"time":"2026-12-01T09:34:13.169Z","level":"INFO","logger":"pymacaron.access",
  "request_id":"...","method":"GET","path":"/pets/1","status":200,"ms":1.2}``
"""

from __future__ import annotations

import atexit
import collections
import os
import signal
import sys
import threading
import time

import orjson

__all__ = ["LineWriter", "writer", "FORMATS"]

FORMATS = ("text", "json")
MAX_LINES = 64  # ~6 KiB of typical lines
INTERVAL = 0.1  # seconds a line may wait in the queue ($PYM_ACCESS_LOG_FLUSH_S)
PIPE_BUF = 4096  # writes up to this size to a pipe are atomic (POSIX)


class LineWriter:
    """A buffered, line-atomic writer of access lines to one file descriptor."""

    def __init__(self, fd: int = 2, max_lines: int = MAX_LINES, interval: float | None = None):
        self.fd = fd
        self.max_lines = max_lines
        if interval is None:
            try:
                interval = float(os.environ.get("PYM_ACCESS_LOG_FLUSH_S") or INTERVAL)
            except ValueError:
                interval = INTERVAL
        self.interval = interval
        self._reset()
        os.register_at_fork(after_in_child=self._reset)
        atexit.register(self.flush)
        self._exit_hooks_done = False

    def _reset(self) -> None:
        self._lines: collections.deque[bytes] = collections.deque()
        self._lock = threading.RLock()  # RLock: a signal handler may flush mid-flush
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._exit_hooks_done = False

    # -- the hot path ------------------------------------------------------------------
    def write(self, line: bytes) -> None:
        """Queue one complete line (ending with a newline)."""
        lines = self._lines
        lines.append(line)
        if self._thread is None:
            self._start()
        if len(lines) >= self.max_lines:
            self.flush()

    # -- writing -----------------------------------------------------------------------
    def flush(self) -> None:
        """Write every queued line now (whole lines, at most PIPE_BUF bytes per write); a
        flush under way in another thread (the timer's) is waited for, so that every line
        queued before this call is written when it returns."""
        lines = self._lines
        with self._lock:
            if not lines:
                return
            chunk: list[bytes] = []
            size = 0
            while True:
                try:
                    line = lines.popleft()
                except IndexError:
                    break
                if chunk and size + len(line) > PIPE_BUF:
                    self._write(b"".join(chunk))
                    chunk, size = [], 0
                chunk.append(line)
                size += len(line)
            if chunk:
                self._write(b"".join(chunk))

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.fd, view)
            except InterruptedError:
                continue
            except OSError:
                return  # stderr closed: nowhere to write, and never an error for a request
            view = view[n:]

    # -- the timer and the exits -------------------------------------------------------
    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            thread = threading.Thread(target=self._run, name="pym-accesslog", daemon=True)
            self._thread = thread
            thread.start()
            self._exit_hooks()

    def _run(self) -> None:
        stop = self._stop
        while not stop.wait(self.interval):
            if self._lines:
                self.flush()

    def _exit_hooks(self) -> None:
        """Flush when a multiprocessing worker (granian's, forked: no atexit) ends."""
        if self._exit_hooks_done:
            return
        self._exit_hooks_done = True
        mp = sys.modules.get("multiprocessing")
        if mp is not None and mp.parent_process() is not None:
            from multiprocessing import util

            util.Finalize(None, self.flush, exitpriority=100)

    def install_signal_handlers(self) -> None:
        """Flush before dying of SIGTERM/SIGINT when no one else handles them.

        Only from the main thread and only over the default handler: servers that handle
        these signals (gunicorn, granian) stop gracefully and the exit hooks flush.
        """
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM,):
            try:
                if signal.getsignal(sig) is signal.SIG_DFL:
                    signal.signal(sig, self._on_signal)
            except (ValueError, OSError):  # not the main interpreter, or not allowed
                pass

    def _on_signal(self, signum, frame) -> None:
        self.flush()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


_writer: LineWriter | None = None


def writer() -> LineWriter:
    """The process's access-log writer (to stderr)."""
    global _writer
    if _writer is None:
        _writer = LineWriter()
    return _writer


# -- lines -------------------------------------------------------------------------
class _Clock:
    """A timestamp with milliseconds, its whole second formatted once per second:
    ``pattern`` is strftime's, with ``{}`` where the milliseconds go."""

    __slots__ = ("head", "tail", "convert", "second", "text")

    def __init__(self, pattern: str, convert):
        self.head, self.tail = pattern.split("{}")
        self.convert = convert  # time.localtime or time.gmtime
        self.second = -1
        self.text = ""

    def stamp(self, now: float) -> str:
        second = int(now)
        if second != self.second:
            self.text = time.strftime(self.head, self.convert(second))
            self.second = second
        return self.text + _MILLIS[int((now - second) * 1000)] + self.tail


_MILLIS = tuple(f"{i:03d}" for i in range(1000))  # a timestamp's milliseconds, formatted once
_iso_clock = _Clock("%Y-%m-%dT%H:%M:%S.{}Z", time.gmtime)  # the JSON line's, UTC

# The text line's clock: a _Clock's stamp for "%Y-%m-%d %H:%M:%S,{}" in local time (as
# logging writes it), inlined in text_line (no method call, no slot reads: ~1/3 of the
# line's cost).
_TEXT_SECOND = "%Y-%m-%d %H:%M:%S,"
_text_second: tuple[int, str] = (-1, "")  # (a second, its text): replaced whole, never mutated


def _text_second_of(second: int) -> tuple[int, str]:
    global _text_second
    _text_second = (second, time.strftime(_TEXT_SECOND, time.localtime(second)))
    return _text_second


def text_line(now: float, rid: str, method: str, path: str, status: str, ms: float) -> bytes:
    second = int(now)
    known = _text_second
    if known[0] != second:
        known = _text_second_of(second)
    return (
        f"{known[1]}{_MILLIS[int((now - second) * 1000)]} INFO [{rid}] pymacaron.access: "
        f"{method} {path} {status} {ms:.1f}ms\n"
    ).encode("utf-8", "backslashreplace")


def json_line(now: float, rid: str, method: str, path: str, status: str, ms: float) -> bytes:
    return (
        orjson.dumps(
            {
                "time": _iso_clock.stamp(now),
                "level": "INFO",
                "logger": "pymacaron.access",
                "request_id": rid,
                "method": method,
                "path": path,
                "status": int(status) if status.isdigit() else status,
                "ms": round(ms, 1),
            }
        )
        + b"\n"
    )


LINE_BUILDERS = {"text": text_line, "json": json_line}


def __getattr__(name: str):
    if name == "AccessLog":  # the layer of that name is layers.AccessLog
        from ..aliases import deprecated

        deprecated(f"{__name__}.AccessLog", f"{__name__}.LineWriter")
        return LineWriter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
