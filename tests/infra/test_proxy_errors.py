"""The platform's nginx, configured as the source bundle configures it, refuses in the
service's error body (infra/proxy.py).

A real nginx (Debian's, scripts/setup/system-tools.d/50-nginx) runs on 127.0.0.1 with a
configuration shaped like the Beanstalk Docker platform's (its files included where the
platform includes them: ``conf.d/*.conf`` in ``http``, ``conf.d/elasticbeanstalk/*.conf`` in
the ``server``), in front of a real pymacaron server as the image runs it (granian and the
RSGI bridge). Raw sockets send what nginx refuses itself; each reply must be the uniform
JSON error body with its id in ``X-Request-ID``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time

import pytest

from pymacaron_kit.proxy import ERROR_PREFIX
from pymacaron_kit.version import source_bundle
from tests.conftest import free_port
from tests.reliability.support import raw_exchange, start_image_server

NGINX = "/usr/sbin/nginx"
MINIMAL = os.path.join(os.path.dirname(__file__), "..", "reliability", "minimal_service")
LIMIT = 4096
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# The platform's nginx.conf, reduced to what matters here (paths in the test's directory).
NGINX_CONF = """
daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 64; }}
http {{
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    access_log {d}/access.log;
    include {d}/conf.d/*.conf;
    upstream docker {{ server 127.0.0.1:{upstream}; keepalive 16; }}
    map $http_upgrade $connection_upgrade {{ default "upgrade"; }}
    server {{
        listen 127.0.0.1:{port} default_server;
        location / {{
            proxy_pass http://docker;
            proxy_http_version 1.1;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
        include {d}/conf.d/elasticbeanstalk/*.conf;
    }}
}}
"""


def _start_nginx(directory: str, upstream: int) -> tuple[subprocess.Popen, int]:
    for rel, content in source_bundle("img:1", https_redirect=False, max_body_size=LIMIT).items():
        if rel.startswith(".platform/nginx/"):
            path = os.path.join(directory, rel.removeprefix(".platform/nginx/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(content)
    port = free_port()
    conf = os.path.join(directory, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(d=directory, upstream=upstream, port=port))
    check = subprocess.run([NGINX, "-t", "-c", conf], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen([NGINX, "-c", conf], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    with open(os.path.join(directory, "error.log")) as f:
        raise RuntimeError(f.read())


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    if not os.path.exists(NGINX):
        pytest.fail("nginx is missing: run scripts/setup/system-tools")
    directory = str(tmp_path_factory.mktemp("nginx"))
    server = start_image_server(MINIMAL, workers=1)
    proc, port = _start_nginx(directory, server.port)
    yield port, server, directory
    proc.terminate()
    proc.wait(10)
    server.stop()
    shutil.rmtree(directory, ignore_errors=True)


def exchange(port: int, raw: bytes) -> tuple[int, dict, bytes]:
    """Send raw bytes, read one reply: (status, headers, body)."""
    reply, _ = raw_exchange(port, raw, timeout=10, one_reply=True)
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def assert_uniform(
    status: int, headers: dict, body: bytes, expected: int, code: str, by_proxy: bool = True
) -> dict:
    assert status == expected, (status, body[:200])
    assert headers["content-type"] == "application/json"
    error = json.loads(body)
    assert error["status"] == expected and error["error"] == code
    assert error["error_description"]
    assert UUID.match(error["error_id"]), error["error_id"]
    if by_proxy:  # the proxy's id is its request id (the service draws a new one for errors)
        assert headers["x-request-id"] == error["error_id"].replace("-", "")
    assert headers["x-content-type-options"] == "nosniff"
    return error


BIG_HEADER = b"X-Big: " + b"a" * 9000 + b"\r\n"

REFUSED = [
    ("bad-content-length", b"POST /items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n",
     400, "INVALID_PARAMETER"),
    ("two-content-lengths",
     b"POST /items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
     400, "INVALID_PARAMETER"),
    ("control-byte-in-target", b"GET /items/\x011 HTTP/1.1\r\nHost: x\r\n\r\n",
     400, "INVALID_PARAMETER"),
    ("obs-fold", b"GET /items/1 HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
     400, "INVALID_PARAMETER"),
    ("space-before-colon", b"GET /items/1 HTTP/1.1\r\nHost: x\r\nX-A : b\r\n\r\n",
     400, "INVALID_PARAMETER"),
    ("bad-request-line", b"GARBAGE\r\n\r\n", 400, "INVALID_PARAMETER"),
    ("no-host", b"GET /items/1 HTTP/1.1\r\n\r\n", 400, "INVALID_PARAMETER"),
    ("transfer-encoding-gzip",
     b"POST /items/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
     501, "NOT_IMPLEMENTED"),
    ("target-over-8k", b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
     414, "URI_TOO_LONG"),
    ("header-over-8k", b"GET /items/1 HTTP/1.1\r\nHost: x\r\n" + BIG_HEADER + b"\r\n",
     431, "REQUEST_HEADER_FIELDS_TOO_LARGE"),
    ("body-over-limit",
     b"POST /items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (LIMIT + 1),
     413, "REQUEST_TOO_LARGE"),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "status", "code"), [r[1:] for r in REFUSED],
                         ids=[r[0] for r in REFUSED])  # fmt: skip
def test_nginx_refusals_carry_the_uniform_body(proxy, raw, status, code):
    port, _, _ = proxy
    assert_uniform(*exchange(port, raw), status, code)


def test_the_body_limit_is_the_services_and_names_it(proxy):
    port, _, _ = proxy
    raw = b"POST /items/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    raw += b"%x\r\n" % (LIMIT + 10) + b"a" * (LIMIT + 10) + b"\r\n0\r\n\r\n"
    error = assert_uniform(*exchange(port, raw), 413, "REQUEST_TOO_LARGE")
    assert str(LIMIT) in error["error_description"]


def test_what_nginx_forwards_the_service_answers_untouched(proxy):
    port, _, _ = proxy
    status, headers, body = exchange(port, b"GET /items/abc HTTP/1.1\r\nHost: x\r\n"
                                           b"Connection: close\r\n\r\n")  # fmt: skip
    error = assert_uniform(status, headers, body, 400, "INVALID_PARAMETER", by_proxy=False)
    assert "item_id" in error["error_description"]  # the service's message, not the proxy's
    status, _, body = exchange(port, b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200


def test_a_control_byte_in_a_header_value_passes_nginx_and_meets_hyper(proxy):
    """The one refusal left bare in the deployed path (docs/hostile.md): nginx forwards a
    header value with a control byte (the ALB does too in its default desync mode: a
    non-compliant, not a severe, request), and granian's parser refuses it before any
    Python runs, with an empty 400. Pinned so that a change on either side is noticed."""
    port, _, _ = proxy
    raw = b"GET /ping HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n"
    status, headers, body = exchange(port, raw)
    assert status == 400 and body == b"" and "x-request-id" not in headers


def test_the_error_pages_cannot_be_requested(proxy):
    port, _, _ = proxy
    raw = f"GET {ERROR_PREFIX}400 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    assert_uniform(*exchange(port, raw), 404, "NOT_FOUND")  # internal locations


def test_a_service_that_does_not_answer_gets_a_uniform_502(tmp_path):
    dead = free_port()  # nothing listens there
    proc, port = _start_nginx(str(tmp_path), dead)
    try:
        raw = b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        error = assert_uniform(*exchange(port, raw), 502, "SERVICE_UNAVAILABLE")
        assert "retry" in error["error_description"]
    finally:
        proc.terminate()
        proc.wait(10)
