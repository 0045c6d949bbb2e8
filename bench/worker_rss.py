#!/usr/bin/env python3
"""Worker RSS and cold start of the shipped server (pym-shipped), nothing else: bench/run.py's
own runtime-only venv, Server and worker_rss_mib, for this tree or another checkout of it.

    .venv/bin/python bench/worker_rss.py [TREE]   # TREE: a source tree (default: this one)

Three starts; each serves every endpoint for 2 s with wrk, then the worker's VmRSS is read.
Used to compare the validation engines' memory (docs/performance.md, "Validation engine").
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = os.path.abspath(argv[0]) if argv else os.path.dirname(HERE)
    spec = importlib.util.spec_from_file_location("benchrun", os.path.join(root, "bench", "run.py"))
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    run.VBIN = os.path.dirname(sys.executable)  # pip from this venv; competitors not needed
    run.ensure_runtime_venv()
    port = 18000 + os.getpid() % 1000
    rss, cold = [], []
    for _ in range(3):
        srv = run.Server("pym-shipped", port, None)
        cold.append(srv.start())
        try:
            srv.check()
            for endpoint in run.ENDPOINTS:
                run.wrk(srv.port, endpoint, 2, None, 16, srv.proc.pid)
            rss.append(srv.worker_rss_mib())
        finally:
            srv.stop()
    print(
        f"{root}: worker RSS {[round(r, 1) for r in rss]} MiB (median {statistics.median(rss):.1f}),"
        f" cold start median {statistics.median(cold):.3f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
