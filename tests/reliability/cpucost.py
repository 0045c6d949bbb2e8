"""CPU time per request of a server (its process and its children, from /proc) under
``wrk -t2 -c16``: ``python -m tests.reliability.cpucost PORT PID [SECONDS] [PATH]``.

On a shared machine requests/s follow the neighbours' load; the CPU a server spends per
request much less so. Used to compare the RSGI bridge with granian's WSGI mode
(docs/hostile.md); needs ``wrk``."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from pymacaron.tasks.watchdog import _children

TICK = os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(_children(p))
    return found


def _cpu_ticks(pids: list[int]) -> int:
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except OSError:
            pass
    return total


def cpu_per_request(port: int, pid: int, seconds: int = 6, path: str = "/ping") -> str:
    pids = _tree(pid)
    before = _cpu_ticks(pids)
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    after = _cpu_ticks(pids)
    n = int(re.search(r"(\d+) requests in", out).group(1))
    ms = (after - before) * 1000 / TICK / max(n, 1)
    return f"port {port} {path}: {n} requests, {ms:.3f} ms CPU per request"


if __name__ == "__main__":
    a = sys.argv[1:]
    print(cpu_per_request(int(a[0]), int(a[1]), int(a[2]) if len(a) > 2 else 6, *a[3:4]))
