#!/usr/bin/env python3
"""`make bench`: pymacaron against bare Flask, connexion 3 and FastAPI, side by side.

Every server serves bench/petstore.yaml's three endpoints (bench/apps/) with one worker
pinned to CPU 0; wrk runs on CPU 1 over loopback (-t1 -c16). Rounds are interleaved
(round 1: every server, round 2: every server, ...) and medians are reported, so a
slow minute of the machine hits everyone alike. Cold start is exec -> first 200 on /ping.

    python bench/run.py                 # 3 rounds x 10 s per endpoint per server
    python bench/run.py --quick         # 1 round x 3 s (a smoke run)
    python bench/run.py --servers pym-gunicorn-sync,flask-gunicorn-sync --rounds 5

The competitors live in bench/.venv (bench/requirements.txt), created on first run.
Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
APPS = os.path.join(HERE, "apps")
VENV = os.path.join(HERE, ".venv")
VBIN = os.path.join(VENV, "bin")
HOST = "127.0.0.1"
BASE_PORT = 18300

NEW_PET = json.dumps(
    {
        "name": "Fido",
        "species": "dog",
        "price": {"amount": 99.5, "currency": "EUR"},
        "tags": ["friendly", "small"],
    }
)

# name -> (method, path, body, expected status)
ENDPOINTS = {
    "GET /pets/1": ("GET", "/pets/1", None, 200),
    "POST /pets": ("POST", "/pets", NEW_PET, 201),
    "GET /pets?limit=20": ("GET", "/pets?limit=20", None, 200),
}

PYM_DIR = os.path.join(APPS, "pymacaron")
GUNICORN = [os.path.join(VBIN, "gunicorn"), "-w", "1", "--log-level", "warning"]
GRANIAN = [
    os.path.join(VBIN, "granian"),
    "--interface",
    "wsgi",
    "--workers",
    "1",
    "--log-level",
    "warning",
    "--no-ws",
]
# granian's WSGI default is backpressure/2 = 512 Python threads: 16 connections then means
# 16 threads fighting for the GIL. A few threads keep a blocked handler from stalling the
# worker without that contention.
GRANIAN_THREADS = ["--blocking-threads", "4", "--backpressure", "16"]
UVICORN = [
    os.path.join(VBIN, "uvicorn"),
    "--workers",
    "1",
    "--no-access-log",
    "--log-level",
    "warning",
]

# name -> (argv with {port}, cwd, extra env, label)
SERVERS = {
    "flask-gunicorn-sync": (
        [*GUNICORN, "-k", "sync", "-b", f"{HOST}:{{port}}", "flask_app:app"],
        APPS,
        {},
        "bare Flask, gunicorn sync (no validation)",
    ),
    "pym-gunicorn-sync": (
        [*GUNICORN, "-k", "sync", "-b", f"{HOST}:{{port}}", "server:app"],
        PYM_DIR,
        {},
        "pymacaron, gunicorn sync (request+response validation)",
    ),
    "pym-gunicorn-sync-models": (
        [*GUNICORN, "-k", "sync", "-b", f"{HOST}:{{port}}", "server:app"],
        PYM_DIR,
        {"BENCH_MODELS": "1"},
        "pymacaron, gunicorn sync, handlers build and return Pet models",
    ),
    "pym-gunicorn-gthread": (
        [*GUNICORN, "-k", "gthread", "--threads", "4", "-b", f"{HOST}:{{port}}", "server:app"],
        PYM_DIR,
        {},
        "pymacaron, gunicorn gthread x4",
    ),
    "pym-granian": (
        [*GRANIAN, *GRANIAN_THREADS, "--host", HOST, "--port", "{port}", "server:app"],
        PYM_DIR,
        {},
        "pymacaron, granian WSGI, 4 blocking threads (the shipped server)",
    ),
    "pym-granian-bt1": (
        [*GRANIAN, "--blocking-threads", "1", "--host", HOST, "--port", "{port}", "server:app"],
        PYM_DIR,
        {},
        "pymacaron, granian WSGI, 1 blocking thread",
    ),
    "pym-granian-default": (
        [*GRANIAN, "--host", HOST, "--port", "{port}", "server:app"],
        PYM_DIR,
        {},
        "pymacaron, granian WSGI, granian's default threads (backpressure/2)",
    ),
    "pym-granian-accesslog": (
        [*GRANIAN, *GRANIAN_THREADS, "--host", HOST, "--port", "{port}", "server:app"],
        PYM_DIR,
        {"PYM_ENV": "accesslog"},
        "pymacaron, granian WSGI, pymacaron access log on",
    ),
    "flask-granian": (
        [*GRANIAN, *GRANIAN_THREADS, "--host", HOST, "--port", "{port}", "flask_app:app"],
        APPS,
        {},
        "bare Flask, granian WSGI (no validation)",
    ),
    "fastapi-uvicorn": (
        [*UVICORN, "--host", HOST, "--port", "{port}", "fastapi_app:app"],
        APPS,
        {},
        "FastAPI + pydantic 2, uvicorn[standard]",
    ),
    "connexion-flask-uvicorn": (
        [*UVICORN, "--host", HOST, "--port", "{port}", "connexion_app:flask_app"],
        APPS,
        {"BENCH_CONNEXION": "flask"},
        "connexion 3 FlaskApp, uvicorn",
    ),
    "connexion-async-uvicorn": (
        [*UVICORN, "--host", HOST, "--port", "{port}", "connexion_app:async_app"],
        APPS,
        {"BENCH_CONNEXION": "async"},
        "connexion 3 AsyncApp, uvicorn",
    ),
}
# what a plain `make bench` runs (the granian thread variants are there to re-check the choice)
DEFAULT_SERVERS = [
    "flask-gunicorn-sync",
    "pym-gunicorn-sync",
    "pym-gunicorn-sync-models",
    "pym-gunicorn-gthread",
    "pym-granian",
    "pym-granian-accesslog",
    "flask-granian",
    "fastapi-uvicorn",
    "connexion-flask-uvicorn",
    "connexion-async-uvicorn",
]
BASELINE = "flask-gunicorn-sync"
FASTAPI = "fastapi-uvicorn"


# -- environment ---------------------------------------------------------------------
def ensure_venv() -> None:
    """bench/.venv with bench/requirements.txt and pymacaron (editable), once per change."""
    req = os.path.join(HERE, "requirements.txt")
    with open(req, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    marker = os.path.join(VENV, ".installed")
    if os.path.exists(marker):
        with open(marker) as f:
            if f.read().strip() == digest:
                return
    print("bench: installing the competitors into bench/.venv ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    pip = [os.path.join(VBIN, "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-r", req, "-e", ROOT], check=True)
    with open(marker, "w") as f:
        f.write(digest)


def cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def pin(argv: list[str], cpu: int | None) -> list[str]:
    if cpu is None or not shutil.which("taskset"):
        return argv
    return ["taskset", "-c", str(cpu), *argv]


# -- one server ----------------------------------------------------------------------
def _request(port: int, method: str, path: str, body: str | None, timeout: float = 2.0):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body else {}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


class Server:
    def __init__(self, name: str, port: int, cpu: int | None):
        self.name, self.port, self.cpu = name, port, cpu
        argv, self.cwd, env, self.label = SERVERS[name]
        self.argv = pin([a.replace("{port}", str(port)) for a in argv], cpu)
        self.env = {
            **os.environ,
            "PATH": VBIN + os.pathsep + os.environ.get("PATH", ""),
            "PYTHONPATH": APPS,
            "JWT_SECRET": "bench",
            "PYTHONDONTWRITEBYTECODE": "",
            **env,
        }
        self.proc: subprocess.Popen | None = None
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())

    def start(self, timeout: float = 30.0) -> float:
        """Start it; returns the seconds from exec to the first 200 on /ping."""
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                break
            try:
                status, _ = _request(self.port, "GET", "/ping", None, timeout=1.0)
                if status == 200:
                    return time.perf_counter() - t0
            except OSError:
                pass
            time.sleep(0.002)
        self.log.seek(0)
        output = self.log.read().decode(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"{self.name} did not answer /ping:\n{output}")

    def check(self) -> None:
        """Every endpoint answers what it should (a bench of errors would be meaningless)."""
        for label, (method, path, body, expected) in ENDPOINTS.items():
            status, data = _request(self.port, method, path, body)
            if status != expected:
                raise RuntimeError(f"{self.name}: {label} -> {status} {data[:300]!r}")
            if "limit=20" in path and len(json.loads(data)) != 20:
                raise RuntimeError(f"{self.name}: {label} did not return 20 pets")

    def worker_rss_mib(self) -> float | None:
        """RSS of the process that serves (gunicorn/granian worker, uvicorn process)."""
        if self.proc is None:
            return None
        pids = _descendants(self.proc.pid)
        # taskset execs in place, so proc.pid is the server's master/only process
        candidates = [p for p in pids if not _descendants(p)] or [self.proc.pid]
        values = [v for v in (_rss_kib(p) for p in candidates) if v]
        return max(values) / 1024 if values else None

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None
        self.log.close()


def _descendants(pid: int) -> list[int]:
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        return []
    for child in list(out):
        out += _descendants(child)
    return out


def _rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


# -- wrk -----------------------------------------------------------------------------
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * _UNITS[m.group(2)]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, every thread) of a process and its descendants so far."""
    total = 0
    for p in [pid, *_descendants(pid)]:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def wrk(port: int, endpoint: str, seconds: int, cpu: int | None, conns: int, pid=None) -> dict:
    method, path, body, _ = ENDPOINTS[endpoint]
    argv = ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency"]
    script = None
    if method != "GET":
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(
                f'wrk.method = "{method}"\n'
                f"wrk.body = {json.dumps(body)}\n"
                'wrk.headers["Content-Type"] = "application/json"\n'
            )
        script = f
        argv += ["-s", script.name]
    argv.append(f"http://{HOST}:{port}{path}")
    cpu0 = cpu_seconds(pid) if pid else None
    try:
        out = subprocess.run(
            pin(argv, cpu), capture_output=True, text=True, timeout=seconds + 30
        ).stdout
    finally:
        if script:
            os.unlink(script.name)
    cpu_used = cpu_seconds(pid) - cpu0 if pid else None
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        # the server's CPU per request: steadier than req/s on a shared machine
        "cpu_us": cpu_used / requests * 1e6 if cpu_used and requests else None,
        "p50": p50,
        "p99": p99,
        "non2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


# -- the run -------------------------------------------------------------------------
def run(args) -> dict:
    cores = cpus()
    server_cpu = cores[0] if len(cores) >= 2 else None
    wrk_cpu = cores[1] if len(cores) >= 2 else None
    names = args.servers.split(",") if args.servers else list(DEFAULT_SERVERS)
    unknown = [n for n in names if n not in SERVERS]
    if unknown:
        raise SystemExit(f"unknown server(s): {', '.join(unknown)} (known: {', '.join(SERVERS)})")
    ports = {n: BASE_PORT + i for i, n in enumerate(SERVERS)}
    samples: dict = {n: {e: [] for e in ENDPOINTS} for n in names}
    starts: dict = {n: [] for n in names}
    rss: dict = {n: [] for n in names}

    load_start = os.getloadavg()
    for n in names:  # cold starts first: the machine is quiet, caches are warm-ish
        for _ in range(args.cold_starts):
            srv = Server(n, ports[n], server_cpu)
            starts[n].append(srv.start())
            srv.stop()
        print(f"cold start {n:26s} {statistics.median(starts[n]) * 1000:7.0f} ms", flush=True)

    for rnd in range(args.rounds):
        order = names[rnd % len(names) :] + names[: rnd % len(names)]
        for n in order:
            srv = Server(n, ports[n], server_cpu)
            starts[n].append(srv.start())
            try:
                srv.check()
                wrk(srv.port, "GET /pets/1", args.warmup, wrk_cpu, args.connections)
                for e in ENDPOINTS:
                    result = wrk(
                        srv.port, e, args.duration, wrk_cpu, args.connections, srv.proc.pid
                    )
                    samples[n][e].append(result)
                    flag = ""
                    if result["non2xx"] or result["socket_errors"]:
                        flag = f"  !! non2xx={result['non2xx']} {result['socket_errors']}"
                    print(
                        f"round {rnd + 1}/{args.rounds} {n:26s} {e:20s} "
                        f"{result['rps']:9.0f} req/s  p50 {result['p50']:6.2f} ms  "
                        f"p99 {result['p99']:6.2f} ms  cpu {result['cpu_us'] or 0:6.0f} us/req{flag}",
                        flush=True,
                    )
                rss[n].append(srv.worker_rss_mib())
            finally:
                srv.stop()

    results = {
        "command": " ".join([os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]]),
        "machine": machine(),
        "settings": {
            "rounds": args.rounds,
            "duration_s": args.duration,
            "connections": args.connections,
            "server_cpu": server_cpu,
            "wrk_cpu": wrk_cpu,
            # other work on the machine during the run (1/5/15-minute load averages)
            "loadavg_start": load_start,
            "loadavg_end": os.getloadavg(),
        },
        "servers": {},
    }
    for n in names:
        entry = {
            "label": SERVERS[n][3],
            "cold_start_s": statistics.median(starts[n][: args.cold_starts] or starts[n]),
            "rss_mib": max((r for r in rss[n] if r), default=None),
            "endpoints": {},
        }
        for e in ENDPOINTS:
            runs = samples[n][e]
            entry["endpoints"][e] = {
                k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p99")
            }
            cpu = [r["cpu_us"] for r in runs if r["cpu_us"]]
            entry["endpoints"][e]["cpu_us"] = statistics.median(cpu) if cpu else None
            entry["endpoints"][e]["errors"] = sum(r["non2xx"] for r in runs)
        results["servers"][n] = entry
    return results


def machine() -> dict:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    versions = {}
    for pkg in ("flask", "gunicorn", "granian", "fastapi", "pydantic", "uvicorn", "connexion"):
        out = subprocess.run(
            [
                os.path.join(VBIN, "python"),
                "-c",
                f"import importlib.metadata as m; print(m.version('{pkg}'))",
            ],
            capture_output=True,
            text=True,
        )
        versions[pkg] = out.stdout.strip() or "?"
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "versions": versions,
    }


def _per_core(entry: dict) -> float | None:
    cpu = entry.get("cpu_us")
    return 1e6 / cpu if cpu else None


def report(results: dict) -> str:
    """Markdown: the measurements, then ratios to bare Flask (gunicorn sync) and to FastAPI.

    Two ratios per cell: wall-clock req/s with wrk on the other core, and req/s per core
    of server CPU (1e6 / server CPU us per request), which a busy machine disturbs less.
    """
    servers = results["servers"]
    lines = [
        "| server | "
        + " | ".join(f"{e}: req/s, p50/p99 ms, CPU us/req" for e in ENDPOINTS)
        + " | cold start | worker RSS |",
        "|---" * (len(ENDPOINTS) + 3) + "|",
    ]
    for n, s in servers.items():
        cells = []
        for e in ENDPOINTS:
            m = s["endpoints"][e]
            cpu = f"{m['cpu_us']:.0f}" if m.get("cpu_us") else "?"
            cells.append(f"{m['rps']:.0f}, {m['p50']:.2f}/{m['p99']:.2f}, {cpu}")
        rss = f"{s['rss_mib']:.0f} MiB" if s["rss_mib"] else "?"
        lines.append(f"| {n} | " + " | ".join(cells) + f" | {s['cold_start_s']:.2f} s | {rss} |")
    for ref, title in ((BASELINE, "bare Flask on gunicorn sync"), (FASTAPI, "FastAPI/uvicorn")):
        if ref not in servers:
            continue
        lines += [
            "",
            f"Ratios to {title}: req/s per core of server CPU / wall req/s "
            "(p99 ratio in brackets, lower is better):",
            "",
        ]
        lines.append("| server | " + " | ".join(ENDPOINTS) + " |")
        lines.append("|---" * (len(ENDPOINTS) + 1) + "|")
        base = servers[ref]["endpoints"]
        for n, s in servers.items():
            cells = []
            for e in ENDPOINTS:
                m, b = s["endpoints"][e], base[e]
                core = (
                    f"{_per_core(m) / _per_core(b):.2f}" if _per_core(m) and _per_core(b) else "?"
                )
                cells.append(f"{core} / {m['rps'] / b['rps']:.2f} ({m['p99'] / b['p99']:.2f})")
            lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 round x 3 s, 2 cold starts")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per server")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--cold-starts", type=int, default=5)
    parser.add_argument("--servers", help=f"comma-separated subset of: {', '.join(SERVERS)}")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    # a SIGTERM unwinds like Ctrl-C: the server being measured is stopped on the way out
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.quick:
        args.rounds, args.duration, args.cold_starts, args.warmup = 1, 3, 2, 1
    if not shutil.which("wrk"):
        raise SystemExit(
            "wrk is missing: run `make system-tools` (scripts/setup/system-tools.d/20-wrk)"
        )
    ensure_venv()
    results = run(args)
    text = report(results)
    print()
    print(f"command: {results['command']}")
    print(f"machine: {json.dumps(results['machine'])}")
    print()
    print(text)
    out = args.json or os.path.join(HERE, "results", "latest.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(results, f, indent=2)
    print(f"\nresults: {os.path.relpath(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
