"""Requests per second and latency of one path under 16 keep-alive clients (Python threads,
on the same machine): ``python -m tests.reliability.rate PORT [SECONDS] [PATH]``. The figure
behind the RSGI bridge's cost in docs/decisions.md (compare two servers back to back)."""

from __future__ import annotations

import http.client
import sys
import threading
import time


def rate(port: int, seconds: float = 8.0, path: str = "/ping", clients: int = 16) -> str:
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine = []
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            conn.request("GET", path)
            conn.getresponse().read()
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return (
        f"port {port} {path}: {len(latencies) / seconds:.0f} req/s, "
        f"p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms"
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    print(rate(int(args[0]), float(args[1]) if len(args) > 1 else 8.0, *args[2:3]))
