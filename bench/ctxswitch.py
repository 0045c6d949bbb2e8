#!/usr/bin/env python3
"""Context switches per request of a bench server: voluntary and involuntary, summed over
every thread of the server and its workers (``/proc/<pid>/task/*/status``) around a 4 s
``wrk -t1 -c16`` run, the server pinned to CPU 0 and wrk to CPU 1 as in bench/run.py.

    .venv/bin/python bench/ctxswitch.py [pym-shipped,fastapi-async,...]
"""

from __future__ import annotations

import glob
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def switches(run, pid: int) -> tuple[int, int]:
    vol = invol = 0
    for p in [pid, *run._descendants(pid)]:
        for status in glob.glob(f"/proc/{p}/task/*/status"):
            try:
                with open(status) as f:
                    for line in f:
                        if line.startswith("voluntary_ctxt_switches"):
                            vol += int(line.split()[1])
                        elif line.startswith("nonvoluntary_ctxt_switches"):
                            invol += int(line.split()[1])
            except OSError:
                pass
    return vol, invol


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    spec = importlib.util.spec_from_file_location("benchrun", os.path.join(HERE, "run.py"))
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    run.ensure_runtime_venv()
    cores = run.cpus()
    server_cpu, wrk_cpu = (cores[0], cores[1]) if len(cores) >= 2 else (None, None)
    for name in (argv[0] if argv else "pym-shipped,fastapi-async").split(","):
        srv = run.Server(name, 18000 + os.getpid() % 1000, server_cpu)
        srv.start()
        try:
            srv.check()
            for endpoint in run.ENDPOINTS:
                run.wrk(srv.port, endpoint, 1, wrk_cpu, 16)
                before = switches(run, srv.proc.pid)
                result = run.wrk(srv.port, endpoint, 4, wrk_cpu, 16, srv.proc.pid)
                after = switches(run, srv.proc.pid)
                n = result["rps"] * 4
                print(
                    f"{name:22s} {endpoint:20s} cpu {result['cpu_us']:4.0f} us/req  "
                    f"voluntary {(after[0] - before[0]) / n:.2f}/req  "
                    f"involuntary {(after[1] - before[1]) / n:.2f}/req  p99 {result['p99']:.2f} ms",
                    flush=True,
                )
        finally:
            srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
