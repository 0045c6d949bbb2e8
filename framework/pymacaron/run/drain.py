"""A granian worker's SIGTERM, drained: nothing received is dropped.

granian stops a worker on SIGTERM at once: its event loop ends with requests in flight and
idle keep-alive connections are closed while clients may be writing on them (1–16 requests
per SIGTERM sent and never answered under 16 keep-alive clients). :class:`Drain` takes over
the worker loop's SIGTERM/SIGINT handler:

1. the listening socket stops taking connections (a socket filter drops their handshakes;
   those already queued are accepted and answered): none is accepted and left unanswered;
2. every reply from then on says ``Connection: close``, so each kept-alive connection ends
   after a reply, the client knowing it;
3. once no request is in flight and none has started for ``quiet`` seconds (or after
   ``limit`` seconds), granian's own handler runs: it closes what is left and exits.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import socket
import struct
import time

log = logging.getLogger("pymacaron")

__all__ = ["Drain", "listening_sockets", "refuse_new_connections"]


def listening_sockets(port: int | None = None) -> list[int]:
    """File descriptors of this process's listening TCP sockets (on ``port`` if given)."""
    found = []
    try:
        fds = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        return found
    for fd in fds:
        try:
            s = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        try:
            if (
                s.type == socket.SOCK_STREAM
                and s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
                and (port is None or s.getsockname()[1] == port)
            ):
                found.append(fd)
        except OSError:
            pass
        finally:
            s.close()
    return found


# classic BPF, one instruction: "ret #0" (keep no byte of any packet)
_DROP_ALL = struct.pack("HBBI", 0x06, 0, 0, 0)
_SO_ATTACH_FILTER = getattr(socket, "SO_ATTACH_FILTER", 26)


def refuse_new_connections(fd: int) -> bool:
    """Stop a listening socket taking connections, without closing it under the server's
    accept loop (a shut-down listener makes granian's loop fail and its worker hang): a
    socket filter that drops every packet to it, so no handshake completes; connections
    already queued are still accepted and answered. Shared by every worker of the socket."""
    program = ctypes.create_string_buffer(_DROP_ALL)
    fprog = struct.pack("HL", 1, ctypes.addressof(program))
    s = socket.socket(fileno=os.dup(fd))
    try:
        s.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER, fprog)
        return True
    except OSError as e:
        log.warning("pymacaron: cannot stop the listener taking connections: %s", e)
        return False
    finally:
        s.close()


class Drain:
    """In-flight requests of one worker, and its drained stop (see the module)."""

    def __init__(self, loop, stop_handles: list, quiet: float = 0.3, limit: float = 20.0):
        self.loop = loop
        self.stop_handles = stop_handles
        self.quiet = quiet
        self.limit = limit
        self.draining = False
        self.in_flight = 0
        self.last_start = 0.0

    @classmethod
    def install(cls, loop) -> Drain | None:
        """Take over the SIGTERM/SIGINT handlers granian set on ``loop``; None if absent."""
        handlers = getattr(loop, "_signal_handlers", None)
        if not isinstance(handlers, dict):
            return None
        stops = [handlers.get(sig) for sig in (signal.SIGTERM, signal.SIGINT)]
        if not all(stops):
            return None
        # within granian's kill timeout (GRANIAN_GRACEFUL_TIMEOUT, serve.py), with a margin
        graceful = os.environ.get("GRANIAN_GRACEFUL_TIMEOUT", "").strip()
        cap = max(1.0, float(graceful) - 3) if graceful.isdigit() else 20.0
        limit = float(os.environ.get("PYM_DRAIN_SECONDS") or min(20.0, cap))
        drain = cls(loop, stops, limit=limit)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, drain.begin)
        return drain

    def started(self) -> None:
        self.in_flight += 1
        self.last_start = time.monotonic()

    def finished(self) -> None:
        self.in_flight -= 1

    def begin(self) -> None:
        if self.draining:
            return
        self.draining = True
        port = os.environ.get("PORT")
        for fd in listening_sockets(int(port) if port and port.isdigit() else None):
            refuse_new_connections(fd)
        self.loop.create_task(self._wait())

    async def _wait(self) -> None:
        start = time.monotonic()
        self.last_start = max(self.last_start, start)
        while time.monotonic() - start < self.limit:
            now = time.monotonic()
            if self.in_flight == 0 and now - self.last_start >= self.quiet:
                break
            await asyncio.sleep(0.05)
        handle = self.stop_handles[0]
        handle._run()  # granian's handler: close what is left, stop the worker
