#!/usr/bin/env python3
"""In-process cost per request: the WSGI app called directly, no server, no sockets.

CPU time (process_time) per request for bare Flask and pymacaron on the bench endpoints.
Steadier than wrk on a busy machine; use it to work on the hot path, and `--profile` to see
where the time goes (cProfile, sorted by own time).

    .venv/bin/python bench/micro.py [-n 20000] [--profile pym:POST]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
APPS = os.path.join(HERE, "apps")
sys.path.insert(0, APPS)
sys.path.insert(0, os.path.join(APPS, "pymacaron"))
# this tree's pymacaron, found before bench/apps/pymacaron (a directory of that name)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "framework"))
os.environ.setdefault("JWT_SECRET", "bench")

from run import ENDPOINTS, NEW_PET  # noqa: E402

_BODY = NEW_PET.encode()


def environ(method: str, path: str, body: str | None) -> dict:
    path, _, query = path.partition("?")
    env = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8080",
        "HTTP_USER_AGENT": "micro",
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if body:
        env["CONTENT_TYPE"] = "application/json"
        env["CONTENT_LENGTH"] = str(len(_BODY))
    return env


def call(app, method, path, body):
    env = environ(method, path, body)
    env["wsgi.input"] = io.BytesIO(_BODY if body else b"")
    status = []

    def start_response(s, headers, exc_info=None):
        status.append(s)

    out = b"".join(app(env, start_response))
    return status[0], out


def load_apps() -> dict:
    cwd = os.getcwd()
    os.chdir(os.path.join(APPS, "pymacaron"))
    try:
        import server  # the pymacaron bench service
    finally:
        os.chdir(cwd)
    import flask_app

    return {"flask": flask_app.app, "pym": server.app}


def measure(app, endpoint: str, n: int) -> float:
    method, path, body, expected = ENDPOINTS[endpoint]
    status, out = call(app, method, path, body)
    assert status.startswith(str(expected)), (endpoint, status, out[:300])
    for _ in range(200):
        call(app, method, path, body)
    t0 = time.process_time()
    for _ in range(n):
        call(app, method, path, body)
    return (time.process_time() - t0) / n * 1e6


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=5000)
    parser.add_argument("--profile", help="app:ENDPOINT-prefix, e.g. pym:POST or pym:GET /pets?")
    args = parser.parse_args()
    apps = load_apps()
    if args.profile:
        name, _, prefix = args.profile.partition(":")
        endpoint = next(e for e in ENDPOINTS if e.startswith(prefix))
        prof = cProfile.Profile()
        prof.enable()
        measure(apps[name], endpoint, args.n)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        return 0
    for endpoint in ENDPOINTS:
        costs = {
            name: min(measure(app, endpoint, args.n) for _ in range(3))
            for name, app in apps.items()
        }
        base = costs["flask"]
        print(
            f"{endpoint:20s} "
            + "  ".join(f"{k} {v:6.1f} us" for k, v in costs.items())
            + f"  pym/flask cost {costs['pym'] / base:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
