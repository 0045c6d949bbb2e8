#!/usr/bin/env python3
"""Instructions per request: the in-process cost of the shipped path, repeatable under load.

Wall-clock and CPU time per request move with the machine's load (a shared 2-core machine
gives 4-5x the quiet figures); the number of instructions a request executes does not.
Each target is run in a child process under valgrind's callgrind; for each endpoint the
child serves ``-n`` requests in one measured region (callgrind collects only there:
``--toggle-collect`` on CPython's ``functools_reduce``, the C function of
``functools.reduce``, which runs the loop, and a dump when it returns), after 300
unmeasured requests (validators compiled, caches filled). The loop's own cost (one call
of a Python function per request) is counted, ~100 instructions of 100,000s.

A request is what the RSGI bridge's request thread runs (run/rsgi.py): the environ built
from the request head as ``WSGIOverRSGI._environ`` builds it, the body already read, then
``WSGIOverRSGI._call``: the WSGI app (request id, security headers, the access log written
to a file as under the server, SpecDispatch, the operation) and its reply buffered. What
the event loop and granian do around it is not counted (bench/README.md, "outside the app").

    .venv/bin/python bench/cost.py                     # pym and raw, 3 endpoints, -n 300
    .venv/bin/python bench/cost.py -n 1000 --json FILE  # more requests, results kept
    .venv/bin/python bench/cost.py --cpu                # no valgrind: process_time, 5 runs

``--cpu`` (also used when valgrind is missing) times the same loop with
``time.process_time`` and prints the median of 5 runs in µs: noisy on a loaded machine.
``PYM_FAST_PATH=0`` in the environment measures Flask's full path (server/fastpath.py).
"""

from __future__ import annotations

import argparse
import functools
import gc
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TARGETS = ("pym", "raw")
RUNS = 5  # --cpu: runs per endpoint, the median reported


def _endpoints() -> dict:
    sys.path.insert(0, HERE)
    from run import ENDPOINTS  # noqa: PLC0415

    return ENDPOINTS


# -- the child: one target, every endpoint -------------------------------------------------
def _load(target: str):
    sys.path.insert(0, os.path.join(HERE, "apps"))
    sys.path.insert(0, ROOT + "/framework")
    if target == "raw":
        import raw_app  # noqa: PLC0415

        app = raw_app.app
    else:
        sys.path.insert(0, os.path.join(HERE, "apps", "pymacaron"))
        os.environ.setdefault("JWT_SECRET", "bench")
        cwd = os.getcwd()
        os.chdir(os.path.join(HERE, "apps", "pymacaron"))
        try:
            import server  # noqa: PLC0415 (the bench service, as `server:app`)
        finally:
            os.chdir(cwd)
        app = server.app
    from pymacaron.run.rsgi import WSGIOverRSGI  # noqa: PLC0415
    from pymacaron.server.environ import BODY  # noqa: PLC0415

    return WSGIOverRSGI(app), BODY


class _Scope:
    __slots__ = ("method", "path", "query_string", "server", "client", "http_version", "scheme")

    def __init__(self, method: str, path: str):
        self.method = method
        self.path, _, self.query_string = path.partition("?")
        self.server, self.client = "127.0.0.1:8080", "127.0.0.1:51000"
        self.http_version, self.scheme = "1.1", "http"


def _request(bridge, body_key: str, method: str, path: str, body: str | None):
    """One request as the bridge's request thread serves it: a callable -> (status, data)."""
    data = body.encode() if body else b""
    headers = {"host": "127.0.0.1:8080", "user-agent": "wrk"}
    if data:
        headers["content-length"] = str(len(data))
        headers["content-type"] = "application/json"
    scope = _Scope(method, path)
    environ_of, call = bridge._environ, bridge._call

    def one():
        environ = environ_of(scope, headers)
        if data:
            environ["CONTENT_LENGTH"] = str(len(data))
        environ["wsgi.input"] = io.BytesIO(data)
        environ[body_key] = data
        status, _, out = call(environ)
        return status, out

    return one


def child(target: str, n: int, cpu: bool) -> None:
    # the access log's timer thread would flush every 0.1 s of wall time, and under
    # valgrind that is a number of wake-ups (and GIL hand-offs) that follows the machine's
    # load: only the size flush (every 64 lines), a fixed share of each request, is kept
    os.environ["PYM_ACCESS_LOG_FLUSH_S"] = "3600"
    bridge, body_key = _load(target)
    endpoints = _endpoints()
    # start-up's objects out of the collector's way: a full collection over them landing
    # in one endpoint's measured region or not (it moved with any change of allocations)
    # put ~3k instructions on whichever endpoint came first
    gc.collect()
    gc.freeze()
    sink = tempfile.TemporaryFile()  # noqa: SIM115 (fd 2 until the process ends)
    os.dup2(sink.fileno(), 2)  # the access log writes to fd 2: a file, as under the server
    out = {}
    for name, (method, path, body, expected) in endpoints.items():
        one = _request(bridge, body_key, method, path, body)
        status, data = one()
        if status != expected:
            raise SystemExit(f"cost: {target} {name}: status {status}, expected {expected}")
        for _ in range(300):
            one()
        if cpu:
            runs = []
            for _ in range(RUNS):
                t0 = time.process_time()
                for _ in range(n):
                    one()
                runs.append((time.process_time() - t0) / n * 1e6)
            out[name] = {"us": statistics.median(runs), "runs": runs}
            continue
        # the measured region: functools.reduce's C function calls one() n times
        functools.reduce(lambda acc, _, one=one: (one(), acc)[1], range(n), 0)
        out[name] = {}
    for layer in _layers(bridge.wsgi_app):
        writer = getattr(layer, "_writer", None)
        if writer is not None:
            writer.flush()
    print(json.dumps(out), flush=True)


def _layers(app) -> list:
    out, wsgi = [], getattr(app, "wsgi_app", app)
    while wsgi is not None:
        out.append(wsgi)
        wsgi = getattr(wsgi, "app", None)
    return out


# -- the parent ----------------------------------------------------------------------------
def _callgrind(target: str, n: int, names: list[str]) -> dict:
    """{endpoint: instructions per request} of ``target`` under callgrind."""
    counts = callgrind_regions([os.path.abspath(__file__), "--child", target, "-n", str(n)])
    counts = counts[: len(names)]
    if len(counts) != len(names):
        raise SystemExit(f"cost: {target}: {len(counts)} measured regions for {len(names)}")
    return {name: c / n for name, c in zip(names, counts, strict=True)}


def callgrind_regions(child_argv: list[str]) -> list[int]:
    """The instructions of each measured region (each ``functools.reduce`` call) of
    ``python CHILD_ARGV...`` under callgrind, in order (empty regions left out)."""
    with tempfile.TemporaryDirectory() as tmp:
        outfile = os.path.join(tmp, "cg.out")
        cmd = [
            "valgrind",
            "--tool=callgrind",
            "--collect-atstart=no",
            "--toggle-collect=functools_reduce",
            "--dump-after=functools_reduce",
            f"--callgrind-out-file={outfile}",
            sys.executable,
            *child_argv,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=_child_env())
        if proc.returncode != 0:
            raise SystemExit(
                f"cost: {' '.join(child_argv[1:])} under callgrind failed:\n{proc.stderr[-2000:]}"
            )
        dumps = sorted(
            (f for f in os.listdir(tmp) if f.startswith("cg.out.")),
            key=lambda f: int(f.rsplit(".", 1)[1]),
        )
        counts = [_total(os.path.join(tmp, f)) for f in dumps]
    return [c for c in counts if c > 0]


def _child_env() -> dict:
    """The child's environment: one string-hash seed for every run (set and dict probes,
    hence instructions, otherwise differ from one process to the next)."""
    return {**os.environ, "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "0")}


def _total(path: str) -> int:
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    return 0


def _cpu(target: str, n: int) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", target, "-n", str(n), "--cpu"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"cost: {target} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=300, help="measured requests per endpoint")
    parser.add_argument("--cpu", action="store_true", help="process_time, no valgrind")
    parser.add_argument("--targets", default=",".join(TARGETS), help="pym,raw")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.n, args.cpu)
        return 0
    names = list(_endpoints())
    cpu = args.cpu or shutil.which("valgrind") is None
    if cpu and not args.cpu:
        print("cost: valgrind not found: process_time instead (noisy under load)")
    results: dict = {}
    for target in args.targets.split(","):
        if cpu:
            results[target] = {k: v["us"] for k, v in _cpu(target, args.n).items()}
        else:
            results[target] = _callgrind(target, args.n, names)
    unit = "µs of CPU (median of 5 runs)" if cpu else "instructions"
    fast = os.environ.get("PYM_FAST_PATH", "1")
    print(f"{unit} per request, -n {args.n}, PYM_FAST_PATH={fast}, load {_load_average()}")
    print("| target | " + " | ".join(names) + " |")
    print("|---" + "|---:" * len(names) + "|")
    for target, per in results.items():
        cells = [f"{per[k]:,.1f}" if cpu else f"{per[k]:,.0f}" for k in names]
        print(f"| {target} | " + " | ".join(cells) + " |")
    if "pym" in results and "raw" in results:
        ratios = [f"{results['pym'][k] / results['raw'][k]:.2f}x" for k in names]
        print("| pym / raw | " + " | ".join(ratios) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"unit": unit, "n": args.n, "fast_path": fast, "results": results}, f, indent=1
            )
    return 0


def _load_average() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
