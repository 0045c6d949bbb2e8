"""Keep-alive clients across a SIGTERM: :func:`sigterm_under_keepalive` runs ``clients``
threads that each send ``GET /ping`` requests one after the other on one kept-alive
connection (a new one after a ``Connection: close``), SIGTERMs the server mid-load, and
counts the requests written whole and never answered (the connection closed or reset
before a reply)."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

REQUEST = b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def _read_reply(sock: socket.socket) -> tuple[int, bool] | None:
    """(status, close?) of one reply, None when the connection ended before one."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    fields = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    length = int(fields.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        rest += chunk
    return status, fields.get("connection", "").lower() == "close"


def _client(port: int, stop: threading.Event, counts: dict, lock: threading.Lock) -> None:
    sock = None
    while not stop.is_set():
        if sock is None:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            except OSError:
                return  # the server stopped accepting: nothing more is sent
        try:
            sock.sendall(REQUEST)
        except OSError:
            # not written whole: the server closed before it (never counted as sent)
            sock.close()
            sock = None
            continue
        try:
            reply = _read_reply(sock)
        except OSError:
            reply = None
        with lock:
            counts["sent"] += 1
            if reply is None:
                counts["unanswered"] += 1
            else:
                counts["answered"] += 1
                counts["closes"] += reply[1]
        if reply is None or reply[1]:
            sock.close()
            sock = None
    if sock is not None:
        sock.close()


def sigterm_under_keepalive(
    pid: int, port: int, clients: int = 16, before: float = 1.0, timeout: float = 40.0
) -> dict:
    """Load ``port`` with keep-alive clients, SIGTERM ``pid`` after ``before`` s, wait for
    every client to finish; the counts (sent, answered, unanswered, closes)."""
    counts = {"sent": 0, "answered": 0, "unanswered": 0, "closes": 0}
    lock = threading.Lock()
    stop = threading.Event()
    threads = [
        threading.Thread(target=_client, args=(port, stop, counts, lock), daemon=True)
        for _ in range(clients)
    ]
    for t in threads:
        t.start()
    time.sleep(before)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))
    stop.set()
    for t in threads:
        t.join(5)
    return counts
