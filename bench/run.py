#!/usr/bin/env python3
"""`make bench`: pymacaron against FastAPI, Falcon, Litestar, bare Flask, connexion 3 and a
raw WSGI callable (the limit), side by side.

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

# the bodies every server must answer (bench/apps/data.py), compared as JSON
sys.path.insert(0, APPS)
from data import NEW_ID, PETS, PETS_BY_ID  # noqa: E402

EXPECTED = {
    "GET /pets/1": PETS_BY_ID[1],
    "POST /pets": {**json.loads(NEW_PET), "id": NEW_ID, "status": "available"},
    "GET /pets?limit=20": PETS[:20],
}
# requests each validating server must refuse with a 4xx and a JSON body
INVALID = {
    "POST /pets (species dragon)": ("POST", "/pets", NEW_PET.replace('"dog"', '"dragon"')),
    "POST /pets (unknown field)": ("POST", "/pets", NEW_PET.replace("{", '{"x": 1, ', 1)),
    "GET /pets?limit=0": ("GET", "/pets?limit=0", None),
    "GET /pets/999": ("GET", "/pets/999", None),
}

PYM_DIR = os.path.join(APPS, "pymacaron")
PYM31_DIR = os.path.join(APPS, "pymacaron_oas31")  # the same petstore as OpenAPI 3.1
# The runtime as the image has it: docker/requirements.lock + the pymacaron wheel, nothing
# else (no dev tools, no competitors), so the worker RSS is the image's.
RVENV = os.path.join(HERE, ".venv-runtime")
RBIN = os.path.join(RVENV, "bin")
RCACHE = os.path.join(RVENV, "pym-cache")  # the image's PYM_CACHE_DIR, filled by `pym check`
RUNTIME_ENV = {
    "PATH": RBIN + os.pathsep + os.environ.get("PATH", ""),
    "PYTHONUNBUFFERED": "1",  # as the image's ENV
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYM_CACHE_DIR": RCACHE,
}
GUNICORN = ["-w", "1", "--log-level", "warning"]
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
# The image's granian settings (pymacaron.serve): 4 blocking threads, backpressure 16.
GRANIAN_THREADS = ["--blocking-threads", "4", "--backpressure", "16"]
UVICORN = ["--no-access-log", "--log-level", "warning"]
# What the image runs, its CMD word for word (docker/Dockerfile): the task supervisor,
# which execs `python -m pymacaron.serve` when with_async is off (the bench service), which
# execs granian's RSGI interface with pymacaron's bridge (run/rsgi.py) and the image's
# settings, the service's pym-config as is (access log on, request + response validation).
SHIPPED = [os.path.join(RBIN, "python"), "-m", "pymacaron.tasks.supervise",
           "python", "-m", "pymacaron.serve"]  # fmt: skip


def _shipped_env(workers: int) -> dict:
    return {**RUNTIME_ENV, "HOST": HOST, "PORT": "{port}", "WEB_CONCURRENCY": str(workers)}


# name -> (argv with {port}, cwd, extra env ({port} too), label)
SERVERS = {
    "pym-shipped": (
        SHIPPED,
        PYM_DIR,
        _shipped_env(1),
        "pymacaron as the image runs it: python -m pymacaron.serve (granian), access log on",
    ),
    "pym-shipped-oas31": (
        SHIPPED,
        PYM31_DIR,
        _shipped_env(1),
        "pym-shipped serving the petstore as OpenAPI 3.1 (bench/apps/pymacaron_oas31)",
    ),
    "fastapi-async": (
        [os.path.join(VBIN, "uvicorn"), *UVICORN, "--host", HOST, "--port", "{port}",
         "fastapi_app:app"],
        APPS,
        {},
        "FastAPI + pydantic 2, async def handlers, uvicorn[standard] (the reference)",
    ),
    "fastapi-async-batch": (
        ["chrt", "-b", "0", os.path.join(VBIN, "uvicorn"), *UVICORN, "--host", HOST,
         "--port", "{port}", "fastapi_app:app"],
        APPS,
        {},
        "fastapi-async under SCHED_BATCH, as pymacaron.serve runs the shipped server (extra)",
    ),
    "fastapi-def": (
        [os.path.join(VBIN, "uvicorn"), *UVICORN, "--host", HOST, "--port", "{port}",
         "fastapi_app:app_def"],
        APPS,
        {},
        "FastAPI, def handlers (anyio threadpool per request), uvicorn[standard]",
    ),
    "flask-granian": (
        # SCHED_BATCH as pymacaron.serve sets it (run/serve.py): the image's settings
        ["chrt", "-b", "0", *GRANIAN, *GRANIAN_THREADS, "--host", HOST, "--port", "{port}",
         "flask_app:app"],
        APPS,
        {},
        "bare Flask, granian WSGI, the image's settings incl. SCHED_BATCH (no validation): the ceiling",
    ),
    "falcon-granian": (
        # granian with the settings flask-granian has (the image's former WSGI settings)
        ["chrt", "-b", "0", *GRANIAN, *GRANIAN_THREADS, "--host", HOST, "--port", "{port}",
         "falcon_app:app"],
        APPS,
        {},
        "Falcon 4 (WSGI), jsonschema both ways as its media validator (validators built "
        "once), orjson, granian WSGI with flask-granian's settings",
    ),
    "litestar-uvicorn": (
        [os.path.join(VBIN, "uvicorn"), *UVICORN, "--host", HOST, "--port", "{port}",
         "litestar_app:app"],
        APPS,
        {},
        "Litestar 2, msgspec structs both ways, async def handlers, uvicorn[standard]",
    ),
    "raw-shipped": (
        # the limit on the shipped server: the same CMD, granian RSGI + pymacaron's bridge
        SHIPPED,
        os.path.join(APPS, "raw"),  # a pym-config only (name), for the bridge's settings
        {**_shipped_env(1), "PYM_WSGI_APP": "raw_app:app"},
        "the limit: a raw WSGI callable (orjson, no framework, no validation) served "
        "exactly as pym-shipped (python -m pymacaron.serve: granian RSGI + the bridge)",
    ),
    "raw-granian": (
        ["chrt", "-b", "0", *GRANIAN, *GRANIAN_THREADS, "--host", HOST, "--port", "{port}",
         "raw_app:app"],
        APPS,
        {},
        "the raw WSGI callable on granian WSGI with falcon-granian's settings",
    ),
    "flask-gunicorn-sync": (
        [os.path.join(VBIN, "gunicorn"), *GUNICORN, "-k", "sync", "-b", f"{HOST}:{{port}}",
         "flask_app:app"],
        APPS,
        {},
        "bare Flask, gunicorn sync (no validation, no access log)",
    ),
    "pym-gunicorn-sync": (
        [os.path.join(RBIN, "gunicorn"), *GUNICORN, "-k", "sync", "-b", f"{HOST}:{{port}}",
         "server:app"],
        PYM_DIR,
        RUNTIME_ENV,
        "pymacaron, gunicorn sync, its access log on (request+response validation)",
    ),
    "connexion-async-uvicorn": (
        [os.path.join(VBIN, "uvicorn"), *UVICORN, "--host", HOST, "--port", "{port}",
         "connexion_app:async_app"],
        APPS,
        {"BENCH_CONNEXION": "async"},
        "connexion 3 AsyncApp, async def handlers, uvicorn[standard]",
    ),
    # -- extra rows (--servers NAME,...) --------------------------------------------
    "pym-shipped-2threads": (
        SHIPPED,
        PYM_DIR,
        {**_shipped_env(1), "GRANIAN_THREADS": "2"},
        "pym-shipped with 2 blocking threads instead of 4 (GRANIAN_THREADS=2)",
    ),
    "pym-shipped-nolog": (
        SHIPPED,
        PYM_DIR,
        {**_shipped_env(1), "PYM_ENV": "nolog"},
        "pym-shipped with the access log off",
    ),
    "pym-shipped-jsonlog": (
        SHIPPED,
        PYM_DIR,
        {**_shipped_env(1), "PYM_ENV": "jsonlog"},
        "pym-shipped with the access log as JSON lines",
    ),
    "pym-gunicorn-sync-nolog": (
        [os.path.join(RBIN, "gunicorn"), *GUNICORN, "-k", "sync", "-b", f"{HOST}:{{port}}",
         "server:app"],
        PYM_DIR,
        {**RUNTIME_ENV, "PYM_ENV": "nolog"},
        "pymacaron, gunicorn sync, access log off",
    ),
    "pym-gunicorn-sync-models": (
        [os.path.join(RBIN, "gunicorn"), *GUNICORN, "-k", "sync", "-b", f"{HOST}:{{port}}",
         "server:app"],
        PYM_DIR,
        {**RUNTIME_ENV, "BENCH_MODELS": "1"},
        "pymacaron, gunicorn sync, handlers build and return Pet models",
    ),
    "pym-granian-wsgi": (
        # pymacaron on granian's WSGI interface with the image's former settings, as the
        # image served it before the RSGI bridge (issue 26): what the bridge costs
        ["chrt", "-b", "0", os.path.join(RBIN, "granian"), *GRANIAN[1:], *GRANIAN_THREADS,
         "--host", HOST, "--port", "{port}", "server:app"],
        PYM_DIR,
        RUNTIME_ENV,
        "pymacaron on granian WSGI (4 blocking threads, backpressure 16, SCHED_BATCH), "
        "the image's server before the RSGI bridge",
    ),
    "falcon-granian-stock": (
        ["chrt", "-b", "0", *GRANIAN, *GRANIAN_THREADS, "--host", HOST, "--port", "{port}",
         "falcon_app:app"],
        APPS,
        {"BENCH_FALCON": "stock"},
        "falcon-granian with Falcon's stock jsonschema.validate decorator (the schema "
        "checked and a validator built per call: ~25 ms)",
    ),
    "connexion-flask-uvicorn": (
        [os.path.join(VBIN, "uvicorn"), *UVICORN, "--host", HOST, "--port", "{port}",
         "connexion_app:flask_app"],
        APPS,
        {"BENCH_CONNEXION": "flask"},
        "connexion 3 FlaskApp, uvicorn",
    ),
}  # fmt: skip
# what a plain `make bench` runs
DEFAULT_SERVERS = [
    "pym-shipped",
    "pym-shipped-oas31",
    "fastapi-async",
    "fastapi-def",
    "flask-granian",
    "flask-gunicorn-sync",
    "pym-gunicorn-sync",
    "connexion-async-uvicorn",
    "falcon-granian",
    "litestar-uvicorn",
    "raw-shipped",
    "raw-granian",
]
# rows that validate nothing: the correctness check sends them no invalid request
NO_VALIDATION = {"raw-shipped", "raw-granian", "flask-granian", "flask-gunicorn-sync"}
SHIPPED_NAME = "pym-shipped"
OAS31_NAME = "pym-shipped-oas31"
UNAVAILABLE: dict[str, str] = {}  # rows the runtime cannot serve: name -> why
FASTAPI = "fastapi-async"
# the ratios reported (numerator / denominator, per endpoint) and the goal for each
PAIRS = [
    ("pym-shipped", "fastapi-async", 1.1),
    ("pym-shipped", "flask-granian", 0.9),
    ("pym-gunicorn-sync", "flask-gunicorn-sync", 0.9),
    ("pym-shipped", "fastapi-def", None),
    ("pym-shipped-oas31", "pym-shipped", 0.95),  # OpenAPI 3.1 as fast as Swagger 2.0
    ("pym-shipped-nolog", "pym-shipped", None),
    ("pym-shipped-2threads", "fastapi-async", None),
    ("fastapi-async-batch", "fastapi-async", None),
    ("connexion-async-uvicorn", "fastapi-async", None),
    ("pym-shipped", "falcon-granian", None),
    ("pym-shipped", "falcon-granian-stock", None),
    ("pym-shipped", "litestar-uvicorn", None),
    ("pym-shipped", "raw-shipped", None),
    ("raw-shipped", "raw-granian", None),
    ("pym-shipped", "pym-granian-wsgi", None),
]
# issue 30's goals, per endpoint, on per-core ratios (median of the per-round ratios)
GOALS_30 = [
    ("pym-shipped", "fastapi-async", 2.0),
    ("pym-shipped", "falcon-granian", 1.0),
    ("pym-shipped", "litestar-uvicorn", 1.0),
    ("pym-shipped", "raw-shipped", 0.5),
]
P99_GOAL_30 = 0.7  # pym-shipped's p99 at 16 connections / FastAPI's
RSS_GOAL_30_MIB = 40
COLD_START_GOAL_30_S = 0.3
COLD_START_GOAL_S = 0.35
RSS_GOAL_MIB = 45  # issue 17: the shipped server (the Swagger 2.0 petstore)
# issue 16: the OpenAPI 3.1 petstore's worker "as today" (<= 50 MiB)
RSS_GOALS_MIB = {"pym-shipped": RSS_GOAL_MIB, "pym-shipped-oas31": 50}
# the load goal: two workers each, both cores, wrk -t2 -c64 -d30s, same run
LOAD_SERVERS = {
    "pym-shipped": (SHIPPED, PYM_DIR, _shipped_env(2)),
    "fastapi-async": (
        [os.path.join(VBIN, "uvicorn"), *UVICORN, "--workers", "2", "--host", HOST,
         "--port", "{port}", "fastapi_app:app"],
        APPS,
        {},
    ),
}  # fmt: skip


# -- environment ---------------------------------------------------------------------
def _digest(*paths: str) -> str:
    h = hashlib.sha256()
    for path in paths:
        files = [path]
        if os.path.isdir(path):
            files = sorted(
                os.path.join(d, f)
                for d, _, names in os.walk(path)
                for f in names
                if not f.endswith((".pyc", ".pyo"))
            )
        for f in files:
            h.update(f.encode())
            with open(f, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()


def _fresh(marker: str, digest: str) -> bool:
    if os.path.exists(marker):
        with open(marker) as f:
            return f.read().strip() == digest
    return False


def ensure_venv() -> None:
    """bench/.venv with bench/requirements.txt and pymacaron (editable), once per change."""
    req = os.path.join(HERE, "requirements.txt")
    digest = _digest(req)
    marker = os.path.join(VENV, ".installed")
    if _fresh(marker, digest):
        return
    print("bench: installing the competitors into bench/.venv ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    pip = [os.path.join(VBIN, "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-r", req, "-e", ROOT], check=True)
    with open(marker, "w") as f:
        f.write(digest)


def ensure_runtime_venv() -> None:
    """bench/.venv-runtime as the image builds /opt/venv: the hash-pinned lock, then the
    pymacaron wheel built from this checkout (rebuilt when framework/ changes), then the
    image's build-time `pym check` (fills PYM_CACHE_DIR)."""
    lock = os.path.join(ROOT, "docker", "requirements.lock")
    pip = [os.path.join(VBIN, "python"), "-m", "pip"]
    target = ["--python", os.path.join(RBIN, "python")]
    lock_marker = os.path.join(RVENV, ".lock-installed")
    if not _fresh(lock_marker, _digest(lock)):
        print("bench: installing docker/requirements.lock into bench/.venv-runtime ...")
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", RVENV], check=True)
        subprocess.run(
            [*pip, *target, "install", "-q", "--no-deps", "--require-hashes",
             "--only-binary=:all:", "-r", lock],
            check=True,
        )  # fmt: skip
        with open(lock_marker, "w") as f:
            f.write(_digest(lock))
    src = _digest(os.path.join(ROOT, "framework"), os.path.join(ROOT, "pyproject.toml"))
    wheel_marker = os.path.join(RVENV, ".wheel-installed")
    if not _fresh(wheel_marker, src):
        print("bench: building the pymacaron wheel into bench/.venv-runtime ...", flush=True)
        with tempfile.TemporaryDirectory() as wheels:
            subprocess.run(
                [*pip, "wheel", "-q", "--no-deps", "-w", wheels, ROOT],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            shutil.rmtree(os.path.join(ROOT, "build"), ignore_errors=True)  # setuptools' leftovers
            whl = [os.path.join(wheels, w) for w in os.listdir(wheels)]
            subprocess.run(
                [*pip, *target, "install", "-q", "--no-deps", "--force-reinstall", *whl],
                check=True,
            )
        shutil.rmtree(RCACHE, ignore_errors=True)
        with open(wheel_marker, "w") as f:
            f.write(src)
    # the image's build step: check the service, record the checks and validators
    for service in (PYM_DIR, PYM31_DIR):
        checked = subprocess.run(
            [os.path.join(RBIN, "pym"), "check", "--dir", service],
            env={**os.environ, **RUNTIME_ENV, "JWT_SECRET": "bench"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if checked.returncode == 0:
            continue
        if service == PYM_DIR:
            raise SystemExit(f"bench: pym check {service} failed:\n{checked.stderr[-2000:]}")
        # a runtime that cannot serve OpenAPI 3.1 yet: the other rows still run
        lines = checked.stderr.strip().splitlines() or ["?"]
        UNAVAILABLE[OAS31_NAME] = lines[-1]


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
    def __init__(self, name: str, port: int, cpu: int | None, spec: tuple | None = None):
        self.name, self.port, self.cpu = name, port, cpu
        argv, self.cwd, env = (spec or SERVERS[name])[:3]
        self.argv = pin([a.replace("{port}", str(port)) for a in argv], cpu)
        self.env = {
            **os.environ,
            "PATH": VBIN + os.pathsep + os.environ.get("PATH", ""),
            "PYTHONPATH": APPS,
            "JWT_SECRET": "bench",
            "PYTHONDONTWRITEBYTECODE": "",
            **{k: v.replace("{port}", str(port)) for k, v in env.items()},
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

    def check(self) -> dict:
        """Every endpoint answers what it should, the same body as every other server (a
        bench of errors would be meaningless); a server that validates refuses an invalid
        body and an out-of-range parameter with a 4xx and a JSON body. Returns the statuses."""
        seen = {}
        for label, (method, path, body, expected) in ENDPOINTS.items():
            status, data = _request(self.port, method, path, body)
            if status != expected:
                raise RuntimeError(f"{self.name}: {label} -> {status} {data[:300]!r}")
            if json.loads(data) != EXPECTED[label]:
                raise RuntimeError(f"{self.name}: {label} answered another body: {data[:300]!r}")
            seen[label] = status
        if self.name in NO_VALIDATION:
            return seen
        for label, (method, path, body) in INVALID.items():
            status, data = _request(self.port, method, path, body)
            try:
                json.loads(data)
            except ValueError:
                status = f"{status} (not JSON: {data[:80]!r})"
            if not isinstance(status, int) or not 400 <= status < 500:
                raise RuntimeError(f"{self.name}: invalid {label} -> {status} {data[:300]!r}")
            seen[f"invalid {label}"] = status
        return seen

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


def wrk(
    port: int, endpoint: str, seconds: int, cpu: int | None, conns: int, pid=None, threads=1
) -> dict:
    method, path, body, _ = ENDPOINTS[endpoint]
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency"]
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
        "errors": (int(bad.group(1)) if bad else 0)
        + (sum(int(n) for n in re.findall(r"\d+", errors.group(1))) if errors else 0),
    }


# -- the run -------------------------------------------------------------------------
def _line(prefix: str, result: dict) -> str:
    flag = ""
    if result["errors"]:
        flag = f"  !! non2xx={result['non2xx']} {result['socket_errors']}"
    return (
        f"{prefix} {result['rps']:9.0f} req/s  p50 {result['p50']:6.2f} ms  "
        f"p99 {result['p99']:6.2f} ms  cpu {result['cpu_us'] or 0:6.0f} us/req{flag}"
    )


def run(args) -> dict:
    cores = cpus()
    server_cpu = cores[0] if len(cores) >= 2 else None
    wrk_cpu = cores[1] if len(cores) >= 2 else None
    names = args.servers.split(",") if args.servers else list(DEFAULT_SERVERS)
    unknown = [n for n in names if n not in SERVERS]
    if unknown:
        raise SystemExit(f"unknown server(s): {', '.join(unknown)} (known: {', '.join(SERVERS)})")
    for n in [n for n in names if n in UNAVAILABLE]:
        print(f"bench: {n} left out: {UNAVAILABLE[n]}", flush=True)
        names.remove(n)
    ports = {n: BASE_PORT + i for i, n in enumerate(SERVERS)}
    samples: dict = {n: {e: [] for e in ENDPOINTS} for n in names}
    starts: dict = {n: [] for n in names}
    rss: dict = {n: [] for n in names}
    checks: dict = {}

    load_start = os.getloadavg()
    for n in names:  # cold starts first
        for _ in range(args.cold_starts):
            srv = Server(n, ports[n], server_cpu)
            starts[n].append(srv.start())
            srv.stop()
        print(f"cold start {n:26s} {statistics.median(starts[n]) * 1000:7.0f} ms", flush=True)

    load_rounds = []
    for rnd in range(args.rounds):
        load_rounds.append(os.getloadavg())
        print(f"round {rnd + 1}: load average {load_rounds[-1]}", flush=True)
        order = names[rnd % len(names) :] + names[: rnd % len(names)]
        for n in order:
            srv = Server(n, ports[n], server_cpu)
            srv.start()
            try:
                seen = srv.check()
                if n not in checks:
                    checks[n] = seen
                    print(f"check {n:26s} " + ", ".join(f"{k} {v}" for k, v in seen.items()))
                wrk(srv.port, "GET /pets/1", args.warmup, wrk_cpu, args.connections)
                for e in ENDPOINTS:
                    result = wrk(
                        srv.port, e, args.duration, wrk_cpu, args.connections, srv.proc.pid
                    )
                    samples[n][e].append(result)
                    print(
                        _line(f"round {rnd + 1}/{args.rounds} {n:24s} {e:18s}", result), flush=True
                    )
                rss[n].append(srv.worker_rss_mib())
            finally:
                srv.stop()

    load = {}
    if args.load_duration:
        # the load goal: both cores, two workers each, the same wrk for both, in turn
        for e in ENDPOINTS:
            for n, spec in LOAD_SERVERS.items():
                srv = Server(n, BASE_PORT + 90, None, spec)
                srv.start()
                try:
                    srv.check()
                    wrk(srv.port, "GET /pets/1", args.warmup, None, args.load_connections)
                    result = wrk(
                        srv.port, e, args.load_duration, None, args.load_connections, threads=2
                    )
                    load.setdefault(n, {})[e] = result
                    print(_line(f"load {n:24s} {e:18s}", result), flush=True)
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
            "load": f"wrk -t2 -c{args.load_connections} -d{args.load_duration}s, 2 workers",
            # other work on the machine during the run (1/5/15-minute load averages)
            "loadavg_start": load_start,
            "loadavg_end": os.getloadavg(),
            "loadavg_rounds": load_rounds,
        },
        "servers": {},
        "load": load,
    }
    for n in names:
        entry = {
            "label": SERVERS[n][3],
            "cold_start_s": statistics.median(starts[n]),
            "rss_mib": max((r for r in rss[n] if r), default=None),
            "endpoints": {},
            "rounds": samples[n],
            "check": checks.get(n, {}),
            "cold_starts_s": starts[n],
        }
        for e in ENDPOINTS:
            runs = samples[n][e]
            entry["endpoints"][e] = {
                k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p99")
            }
            cpu = [r["cpu_us"] for r in runs if r["cpu_us"]]
            entry["endpoints"][e]["cpu_us"] = statistics.median(cpu) if cpu else None
            entry["endpoints"][e]["errors"] = sum(r["errors"] for r in runs)
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
    for pkg in ("flask", "gunicorn", "granian", "fastapi", "pydantic", "uvicorn", "connexion",
                "falcon", "jsonschema", "litestar", "msgspec", "orjson"):  # fmt: skip
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


def ratios(results: dict, num: str, den: str, endpoint: str) -> dict | None:
    """Per-round ratios of ``num`` to ``den`` (same round: the same minute of the machine).

    ``core``: requests per core of server CPU (den's CPU us/req / num's), ``wall``: req/s.
    Returns the median and the range of each over the rounds.
    """
    servers = results["servers"]
    if num not in servers or den not in servers:
        return None
    a, b = servers[num]["rounds"][endpoint], servers[den]["rounds"][endpoint]
    core = [
        y["cpu_us"] / x["cpu_us"] for x, y in zip(a, b, strict=True) if x["cpu_us"] and y["cpu_us"]
    ]
    wall = [x["rps"] / y["rps"] for x, y in zip(a, b, strict=True)]
    p99 = [x["p99"] / y["p99"] for x, y in zip(a, b, strict=True)]

    def stat(values):
        return (statistics.median(values), min(values), max(values)) if values else None

    return {"core": stat(core), "wall": stat(wall), "p99": stat(p99)}


def _fmt(stat) -> str:
    if stat is None:
        return "?"
    med, lo, hi = stat
    return f"{med:.2f} ({lo:.2f}-{hi:.2f})"


def report(results: dict) -> str:
    """Markdown: the measurements, the ratios (median and range of the per-round ratios),
    the goals met or not, and the load run."""
    servers = results["servers"]
    lines = [
        "| server | "
        + " | ".join(f"{e}: req/s, p50/p99 ms, CPU us/req (range)" for e in ENDPOINTS)
        + " | cold start | worker RSS |",
        "|---" * (len(ENDPOINTS) + 3) + "|",
    ]
    for n, s in servers.items():
        cells = []
        for e in ENDPOINTS:
            m = s["endpoints"][e]
            cpu = f"{m['cpu_us']:.0f}" if m.get("cpu_us") else "?"
            each = [r["cpu_us"] for r in s.get("rounds", {}).get(e, []) if r.get("cpu_us")]
            if len(each) > 1:
                cpu += f" ({min(each):.0f}-{max(each):.0f})"
            err = f", {m['errors']} errors" if m.get("errors") else ""
            cells.append(f"{m['rps']:.0f}, {m['p50']:.2f}/{m['p99']:.2f}, {cpu}{err}")
        rss = f"{s['rss_mib']:.0f} MiB" if s["rss_mib"] else "?"
        lines.append(f"| {n} | " + " | ".join(cells) + f" | {s['cold_start_s']:.2f} s | {rss} |")
    lines += [
        "",
        "Ratios, median of the per-round ratios (range): req/s per core of server CPU; "
        "wall req/s; p99 (lower is better):",
        "",
        "| ratio | goal | " + " | ".join(ENDPOINTS) + " |",
        "|---|---" + "|---" * len(ENDPOINTS) + "|",
    ]
    goals = []
    for num, den, goal in PAIRS:
        cells, ok = [], True
        for e in ENDPOINTS:
            r = ratios(results, num, den, e)
            if r is None:
                break
            cells.append(f"{_fmt(r['core'])}; wall {r['wall'][0]:.2f}; p99 {r['p99'][0]:.2f}")
            if goal is not None:
                ok = ok and r["core"] is not None and r["core"][0] >= goal
                if num == SHIPPED_NAME and den == FASTAPI:
                    ok = ok and r["p99"][0] <= 1.0
        if len(cells) != len(ENDPOINTS):
            continue
        want = f">= {goal}" if goal else ""
        if goal and num == SHIPPED_NAME and den == FASTAPI:
            want += ", p99 <= 1"
        lines.append(f"| {num} / {den} | {want} | " + " | ".join(cells) + " |")
        if goal is not None:
            goals.append(f"{'MET' if ok else 'NOT MET'}: {num} / {den} per core {want}")
    for name in (SHIPPED_NAME, OAS31_NAME):
        if name not in servers:
            continue
        s = servers[name]
        cold, rss = s["cold_start_s"], s["rss_mib"]
        goals.append(
            f"{'MET' if cold <= COLD_START_GOAL_S else 'NOT MET'}: {name} cold start "
            f"{cold:.2f} s (<= {COLD_START_GOAL_S} s)"
        )
        if rss:
            goal = RSS_GOALS_MIB[name]
            goals.append(
                f"{'MET' if rss <= goal else 'NOT MET'}: {name} worker RSS "
                f"{rss:.1f} MiB (<= {goal} MiB, runtime-only venv)"
            )
    load = results.get("load") or {}
    if load:
        lines += [
            "",
            f"Load ({results['settings']['load']}, both cores shared with wrk):",
            "",
            "| server | " + " | ".join(f"{e}: req/s, p50/p99 ms, errors" for e in ENDPOINTS) + " |",
            "|---" * (len(ENDPOINTS) + 1) + "|",
        ]
        for n, per in load.items():
            cells = [
                f"{m['rps']:.0f}, {m['p50']:.2f}/{m['p99']:.2f}, {m['errors']}"
                for m in (per[e] for e in ENDPOINTS)
            ]
            lines.append(f"| {n} | " + " | ".join(cells) + " |")
        if SHIPPED_NAME in load and FASTAPI in load:
            a, b = load[SHIPPED_NAME], load[FASTAPI]
            ok = all(a[e]["errors"] == 0 and a[e]["p99"] <= b[e]["p99"] for e in ENDPOINTS)
            goals.append(
                f"{'MET' if ok else 'NOT MET'}: load: 0 errors and p99 <= FastAPI's "
                "("
                + ", ".join(f"{a[e]['p99']:.2f} vs {b[e]['p99']:.2f} ms" for e in ENDPOINTS)
                + ")"
            )
    lines += ["", "Goals:", ""] + [f"- {g}" for g in goals]
    lines += ["", "Goals of issue 30 (per core, median of the per-round ratios):", ""]
    lines += [f"- {g}" for g in goals_30(results)]
    return "\n".join(lines)


def goals_30(results: dict) -> list[str]:
    """Issue 30's goals, each MET or NOT MET with the numbers, and by how much it misses."""
    servers, out = results["servers"], []
    for num, den, goal in GOALS_30:
        if num not in servers or den not in servers:
            continue
        per = {e: ratios(results, num, den, e)["core"] for e in ENDPOINTS}
        worst = min(v[0] for v in per.values() if v) if all(per.values()) else None
        ok = worst is not None and worst >= goal
        out.append(
            f"{'MET' if ok else 'NOT MET'}: {num} / {den} >= {goal}: "
            + ", ".join(f"{e} {_fmt(per[e])}" for e in ENDPOINTS)
            + ("" if ok or worst is None else f" (the lowest {worst / goal - 1:+.0%} of the goal)")
        )
    if SHIPPED_NAME in servers and FASTAPI in servers:
        per = {e: ratios(results, SHIPPED_NAME, FASTAPI, e)["p99"] for e in ENDPOINTS}
        worst = max(v[0] for v in per.values())
        ok = worst <= P99_GOAL_30
        out.append(
            f"{'MET' if ok else 'NOT MET'}: {SHIPPED_NAME} p99 at "
            f"{results['settings'].get('connections', 16)} connections / {FASTAPI}'s "
            f"<= {P99_GOAL_30}: " + ", ".join(f"{e} {_fmt(per[e])}" for e in ENDPOINTS)
        )
    if SHIPPED_NAME in servers:
        s = servers[SHIPPED_NAME]
        if s.get("rss_mib"):
            ok = s["rss_mib"] <= RSS_GOAL_30_MIB
            out.append(
                f"{'MET' if ok else 'NOT MET'}: {SHIPPED_NAME} worker RSS {s['rss_mib']:.1f} MiB "
                f"(<= {RSS_GOAL_30_MIB} MiB)"
            )
        cold = s["cold_start_s"]
        spread = s.get("cold_starts_s") or [cold]
        out.append(
            f"{'MET' if cold <= COLD_START_GOAL_30_S else 'NOT MET'}: {SHIPPED_NAME} cold start "
            f"{cold:.2f} s ({min(spread):.2f}-{max(spread):.2f}; <= {COLD_START_GOAL_30_S} s)"
        )
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="1 round x 2 s, 2 cold starts, 3 s of load"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument(
        "--load-duration", type=int, default=30, help="seconds of the load run (0: skip it)"
    )
    parser.add_argument("--load-connections", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per server")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--cold-starts", type=int, default=5)
    parser.add_argument("--servers", help=f"comma-separated subset of: {', '.join(SERVERS)}")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    # a SIGTERM unwinds like Ctrl-C: the server being measured is stopped on the way out
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.quick:
        args.rounds, args.duration, args.cold_starts, args.warmup = 1, 2, 2, 1
        args.load_duration = min(args.load_duration, 3)
    if not shutil.which("wrk"):
        raise SystemExit(
            "wrk is missing: run `make system-tools` (scripts/setup/system-tools.d/20-wrk)"
        )
    ensure_venv()
    ensure_runtime_venv()
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
    from chart import write_charts  # bench/chart.py: one SVG per endpoint

    for path in write_charts(results, os.path.join(HERE, "charts")):
        print(f"chart: {os.path.relpath(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
