#!/usr/bin/env python3
"""A/B of two source trees on the shipped server: raw-shipped and pym-shipped (bench/run.py's
servers, the same runtime venv), each started once with tree A's ``framework/`` on
PYTHONPATH and once with tree B's, in interleaved rounds; prints the server's CPU per
request (median of the rounds) and the per-round ratio B/A with its range.

    .venv/bin/python bench/run.py --quick --servers raw-shipped   # once: the runtime venv
    git worktree add /tmp/before COMMIT
    .venv/bin/python bench/ab_trees.py /tmp/before . [ROUNDS] [SERVERS]

Only the framework's Python differs between A and B (the runtime venv's dependencies are
this checkout's lock); use it for a change of the request path, not of dependencies.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ENDPOINTS = ["GET /pets/1", "POST /pets", "GET /pets?limit=20"]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    trees = {"A": os.path.abspath(argv[0]), "B": os.path.abspath(argv[1])}
    rounds = int(argv[2]) if len(argv) > 2 else 5
    names = argv[3].split(",") if len(argv) > 3 else ["raw-shipped", "pym-shipped"]
    spec = importlib.util.spec_from_file_location("benchrun", os.path.join(HERE, "run.py"))
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    run.ensure_runtime_venv()
    cpus = run.cpus()
    server_cpu, wrk_cpu = (cpus[0], cpus[1]) if len(cpus) > 1 else (None, None)
    results: dict = {}
    port = 18500 + os.getpid() % 400
    for r in range(rounds):
        order = [(name, variant) for name in names for variant in ("A", "B")]
        if r % 2:
            order.reverse()
        for name, variant in order:
            command, cwd, env, label = run.SERVERS[name]
            env = {
                **env,
                "PYTHONPATH": os.path.join(trees[variant], "framework") + os.pathsep + run.APPS,
            }
            port += 1
            server = run.Server(name, port, server_cpu, (command, cwd, env, label))
            server.start()
            try:
                server.check()
                for endpoint in ENDPOINTS:
                    run.wrk(server.port, endpoint, 2, wrk_cpu, 16, server.proc.pid)  # warm-up
                    out = run.wrk(server.port, endpoint, 5, wrk_cpu, 16, server.proc.pid)
                    results.setdefault((name, variant, endpoint), []).append(out["cpu_us"])
                    print(
                        f"round {r + 1}/{rounds} {name} {variant} {endpoint}: {out['cpu_us']:.1f} us/req",
                        flush=True,
                    )
            finally:
                server.stop()
    print(f"\nA = {trees['A']}, B = {trees['B']}: server CPU us/req, median of {rounds} rounds")
    for name in names:
        for endpoint in ENDPOINTS:
            a, b = results[(name, "A", endpoint)], results[(name, "B", endpoint)]
            ratio = [y / x for x, y in zip(a, b, strict=True)]
            print(
                f"{name:12} {endpoint:20} A {statistics.median(a):6.1f}  B {statistics.median(b):6.1f}"
                f"  B/A {statistics.median(ratio):.3f} ({min(ratio):.3f}-{max(ratio):.3f})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
