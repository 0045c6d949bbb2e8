#!/usr/bin/env python3
"""The image's supervisor running ``python -m pymacaron.serve`` in its own process against
exec'ing it in a new interpreter (the behaviour before session 8), interleaved starts of the
shipped server (bench/run.py's pym-shipped, the runtime-only venv): seconds from exec to the
first 200 on /ping.

    .venv/bin/python bench/serve_ab.py [STARTS]   # default 5 starts of each

The exec'd variant names the interpreter as ``python3`` (the same venv): the supervisor runs
serve in its own process only for its own interpreter's path, so that spelling is exec'd.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    starts = int(argv[0]) if argv else 5
    spec = importlib.util.spec_from_file_location("benchrun", os.path.join(HERE, "run.py"))
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    run.VBIN = os.path.dirname(sys.executable)
    run.ensure_runtime_venv()
    shipped = run.SERVERS["pym-shipped"]
    supervise = [os.path.join(run.RBIN, "python"), "-m", "pymacaron.tasks.supervise"]
    variants = {
        "serve in the supervisor's process": shipped,
        "serve exec'd": (
            [*supervise, os.path.join(run.RBIN, "python3"), "-m", "pymacaron.serve"],
            *shipped[1:],
        ),
    }
    print(f"load average at the start: {os.getloadavg()[0]:.1f}")
    times: dict = {name: [] for name in variants}
    port = 18600 + os.getpid() % 300
    for i in range(starts):
        for name, server in variants.items():
            srv = run.Server("pym-shipped", port + i, None, spec=server)
            try:
                times[name].append(srv.start())
            finally:
                srv.stop()
    for name, values in times.items():
        print(
            f"{name:36} median {statistics.median(values):.3f} s "
            f"({min(values):.3f}-{max(values):.3f})"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
