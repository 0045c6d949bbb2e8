"""A bounded load run: wrk against gunicorn (the image's gunicorn.conf.py) serving the example.

64 connections, 2 threads, PYM_LOAD_SECONDS (default 20, at most 30) of GET /pets?limit=20,
GET /pets/1 and POST /orders with a token, in turn. Every reply must be 2xx/3xx, with no
socket error; the figures (req/s, p50, p90, p99) are printed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.conftest import REPO, TEST_SECRET

from .support import start_example

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reliability")]

HERE = os.path.dirname(os.path.abspath(__file__))
SECONDS = min(int(os.environ.get("PYM_LOAD_SECONDS", "20")), 30)
CONNECTIONS = 64
THREADS = 2


def wrk_command(url: str) -> list[str]:
    wrk = shutil.which("wrk")
    assert wrk, "wrk is missing: run scripts/setup/system-tools (installs it)"
    return [
        wrk,
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{SECONDS}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        os.path.join(HERE, "load.lua"),
        url,
    ]


def test_load_example_service(tmp_path):
    petshop, delivery = start_example(tmp_path, workers=2, gunicorn_conf=True)
    try:
        from pymacaron import config
        from pymacaron.auth import generate_token

        conf = config.load_config(REPO, environ={"JWT_SECRET": TEST_SECRET})
        previous = config._current
        config.set_config(conf)
        try:
            token = generate_token("load-tester", expire_in=600)
        finally:
            config.set_config(previous)
        run = subprocess.run(
            wrk_command(petshop.url),
            env={**os.environ, "PYM_TOKEN": token},
            capture_output=True,
            text=True,
            timeout=SECONDS + 30,
        )
        alive = petshop.proc.poll() is None
        log = petshop.output()
    finally:
        petshop.stop()
        delivery.stop()
    print(run.stdout)
    assert run.returncode == 0, run.stderr
    line = next(x for x in run.stdout.splitlines() if x.startswith("PYM_RESULT "))
    result = json.loads(line.split(" ", 1)[1])
    rate = result["requests"] / (result["duration_us"] / 1e6)
    print(
        f"load: {SECONDS}s, {CONNECTIONS} connections, {THREADS} threads: "
        f"{result['requests']} requests, {rate:.0f} req/s, p50 {result['p50_us'] / 1000:.1f} ms, "
        f"p90 {result['p90_us'] / 1000:.1f} ms, p99 {result['p99_us'] / 1000:.1f} ms, "
        f"max {result['max_us'] / 1000:.1f} ms, non-2xx/3xx {result['non_2xx_3xx']}, "
        f"socket errors connect {result['connect']} read {result['read']} "
        f"write {result['write']} timeout {result['timeout']}"
    )
    assert alive, "the server died under load"
    assert result["requests"] > 1000, result
    assert result["non_2xx_3xx"] == 0, (result, log[-3000:])
    errors = {k: result[k] for k in ("connect", "read", "write", "timeout")}
    assert not any(errors.values()), (errors, log[-3000:])
    assert " 500 " not in log and "Traceback" not in log, log[-3000:]
