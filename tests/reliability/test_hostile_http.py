"""Hostile HTTP clients against the image's server (``python -m pymacaron.serve``: granian,
2 workers, on 127.0.0.1) serving the example (issue 26, items 1, 2, 4, 7):

- slow bodies and slow headers cannot starve the service (/ping and a normal POST answer);
- a body not received within ``body_read_timeout`` gets 408, the uniform body, a close;
- a chunked body over ``max_body_size`` is a 413, never a body cut at the limit;
- integers in paths are ASCII digits only;
- a missing secret fails once, fast.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO, free_port

from .slowclients import POST_PATH, slowloris
from .support import access_line, json_body, raw_exchange, reply_header, start_image_server

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hostile")]


@pytest.fixture(scope="module")
def image_server():
    server = start_image_server()
    yield server
    server.stop()


def test_slow_bodies_and_headers_do_not_starve_ping_and_post(image_server):
    # 120 + 120 slow connections held 12 s (the 200 + 200 for 60 s Goal is `make chaos`)
    summary = slowloris(image_server.port, bodies=120, headers=120, seconds=12)
    print("slow clients:", json.dumps(summary))
    for kind in ("ping", "post"):
        assert summary[kind]["n"] >= 10, summary
        assert summary[kind]["ok"] == summary[kind]["n"], summary
        assert summary[kind]["p99_ms"] < 1000, summary  # loaded 2-core machine: generous


def test_a_body_not_sent_in_time_is_a_408_with_the_uniform_body_and_a_close(image_server):
    head = (
        f"POST {POST_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 100\r\n\r\n{"
    ).encode()
    reply, seconds = raw_exchange(image_server.port, head, timeout=20)
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    body = json_body(reply)
    assert body["status"] == 408 and body["error"] == "REQUEST_TIMEOUT", body
    assert b"connection: close" in reply.lower()
    assert 4 <= seconds < 15, seconds  # body_read_timeout 5 s, then the server closed
    _assert_request_id_and_access_line(image_server, reply, "POST", 408)


def _assert_request_id_and_access_line(server, reply: bytes, method: str, status: int) -> None:
    """The bridge's own refusals carry X-Request-ID and write one access line (issue 26)."""
    rid = reply_header(reply, "X-Request-ID")
    assert rid and len(rid) == 32, reply[:400]
    assert reply_header(reply, "X-Content-Type-Options") == "nosniff", reply[:400]
    line = access_line(server, rid)
    assert line is not None, server.output()[-2000:]
    assert f"{method} " in line and f" {status} " in line, line


def _chunked(data: bytes, size: int = 65536) -> bytes:
    out = b""
    for i in range(0, len(data), size):
        part = data[i : i + size]
        out += f"{len(part):x}\r\n".encode() + part + b"\r\n"
    return out + b"0\r\n\r\n"


def test_a_chunked_body_over_max_body_size_is_a_413(image_server):
    pet = json.dumps({"home": "house", "animal_id": 1, "garden": True, "notes": None})
    body = pet.encode() + b" " * (1024 * 1024) + b"garbage"
    head = (
        f"POST {POST_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Cookie: adopter=abcd\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode()
    reply, _ = raw_exchange(image_server.port, head + _chunked(body))
    assert reply.startswith(b"HTTP/1.1 413"), reply[:300]
    assert json_body(reply)["error"] == "REQUEST_TOO_LARGE"
    _assert_request_id_and_access_line(image_server, reply, "POST", 413)
    # a declared Content-Length over the limit: refused before any byte of the body
    reply, _ = raw_exchange(
        image_server.port,
        head.replace(b"Transfer-Encoding: chunked", b"Content-Length: 2000000"),
    )
    assert reply.startswith(b"HTTP/1.1 413"), reply[:300]
    assert json_body(reply)["error"] == "REQUEST_TOO_LARGE"
    _assert_request_id_and_access_line(image_server, reply, "POST", 413)
    # within the limit, chunked, the same body is read whole (201)
    reply, _ = raw_exchange(image_server.port, head + _chunked(pet.encode()))
    assert reply.startswith(b"HTTP/1.1 201"), reply[:300]


@pytest.mark.parametrize("raw", ["%D9%A1", "%EF%BC%95", "+1", "%201%20", "1%0A", "1_0"])
def test_integers_in_paths_are_ascii_digits_only(image_server, raw):
    reply, _ = raw_exchange(
        image_server.port,
        f"GET /pets/{raw} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(),
    )
    assert reply.startswith(b"HTTP/1.1 400"), (raw, reply[:300])
    assert json_body(reply)["error"] == "INVALID_PARAMETER"


def test_a_missing_secret_fails_once_fast():
    env = {k: v for k, v in os.environ.items() if k != "JWT_SECRET"}
    # as deployed: a stage never reads the checkout's development secret (.pym/dev-secret)
    env.update(HOST="127.0.0.1", PORT=str(free_port()), WEB_CONCURRENCY="2", PYM_ENV="staging")
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pymacaron.serve"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    seconds = time.monotonic() - t0
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert out.count("JWT_SECRET") == 1, out[-2000:]
    assert "Spawning worker" not in out, out[-2000:]
    # once, not a restart loop (which runs into the 60 s timeout): one start of the service,
    # 2-3 s on a quiet machine, 6 s seen in a suite at load 7
    assert seconds < 15, seconds


@pytest.mark.parametrize(
    "raw", ["1_0", " 1", "1 ", "+1", "\u0661", "\uff15", "1.", ".5", "0x1", "1\n"]
)
def test_numbers_follow_the_json_grammar(raw):
    from pymacaron.spec.parameters import ParamError, _coerce_scalar

    with pytest.raises(ParamError):
        _coerce_scalar(raw, "number")
    assert _coerce_scalar("-1.5e3", "number") == -1500.0 and _coerce_scalar("10", "number") == 10
