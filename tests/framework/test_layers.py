"""The WSGI layers: one ordered list (server/layers.py), every reply through all of them."""

from __future__ import annotations

import io
import logging
import os
import shutil
import sys
from types import SimpleNamespace

import pytest

from pymacaron.server import layers
from pymacaron.server.dispatch import SpecDispatch
from pymacaron.server.headers import SECURITY_HEADERS
from pymacaron.server.layers import LAYERS, AccessLog, Cors, RequestId, SecurityHeaders, wrap
from tests.conftest import FIXTURES, build_app

LIBRARY = os.path.join(FIXTURES, "library_service")
ORIGIN = "https://app.example.com"


def chain(wsgi) -> list[type]:
    """The layer classes of an installed app, outermost first."""
    out = []
    while not isinstance(wsgi, SpecDispatch):
        out.append(type(wsgi))
        wsgi = wsgi.app
    return out


def test_the_order_is_written_once():
    assert (RequestId, SecurityHeaders, AccessLog, Cors) == LAYERS


@pytest.fixture(scope="module")
def opened(tmp_path_factory):
    root = tmp_path_factory.mktemp("layers") / "svc"
    shutil.copytree(LIBRARY, root, ignore=shutil.ignore_patterns("__pycache__"))
    with open(root / "pym-config.yaml", "a") as f:
        f.write(f"cors_origins: ['{ORIGIN}']\n")
    return build_app(str(root))


def test_layers_that_are_off_are_not_installed(monkeypatch):
    app = build_app(LIBRARY)  # no cors_origins
    # every wanted layer of LAYERS is what runs (issue 28: no folding)
    assert chain(app.wsgi_app) == [RequestId, SecurityHeaders, AccessLog]
    assert app.wsgi_app.app.headers == SECURITY_HEADERS
    monkeypatch.setenv("PYM_ACCESS_LOG", "0")  # the server writes the access log
    assert chain(build_app(LIBRARY).wsgi_app) == [RequestId, SecurityHeaders]


def test_every_layer_in_order_when_all_are_on(opened):
    assert chain(opened.wsgi_app) == [RequestId, SecurityHeaders, AccessLog, Cors]


def test_the_fold_keeps_replies_the_same():
    """Unfolded (a header layer with no RequestId outside it) replies carry the same headers."""

    def inner(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"x"]

    flask_like = SimpleNamespace(wsgi_app=inner, url_map=None)
    config = SimpleNamespace(access_log=False, cors_origins=None)
    got = {}

    def start_response(status, headers, exc_info=None):
        got["headers"] = headers

    wsgi = wrap(flask_like, config, layers=(SecurityHeaders,))
    assert type(wsgi) is SecurityHeaders
    wsgi.app = inner  # skip SpecDispatch: no Flask app here
    wsgi({"REQUEST_METHOD": "GET", "PATH_INFO": "/"}, start_response)
    assert got["headers"][1:] == list(SECURITY_HEADERS)


def _assert_every_header(r):
    assert r.headers["X-Request-ID"]
    for name, value in SECURITY_HEADERS:
        assert r.headers[name] == value, name


def test_a_cors_refusal_has_the_request_id_security_headers_and_the_error_body(opened):
    r = opened.test_client().options(
        "/api/v2/books",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
            "X-Request-ID": "cors-1",
        },
    )
    assert r.status_code == 403 and r.headers["X-Request-ID"] == "cors-1"
    _assert_every_header(r)
    body = r.get_json()
    assert body["error"] == "CORS_ORIGIN_NOT_ALLOWED" and body["status"] == 403
    assert r.headers["Content-Length"] == str(len(r.data))


def test_errors_and_preflights_carry_every_header(opened):
    client = opened.test_client()
    for r in (
        client.get("/nowhere"),
        client.get("/api/v2/crash"),
        client.get("/api/v2/books?pageSize=0"),
        client.options(
            "/api/v2/books", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
        ),
    ):
        _assert_every_header(r)


def test_the_access_line_has_the_request_id_and_the_status(monkeypatch):
    app = build_app(LIBRARY)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # a handler of its own: lines through logging
    access = logging.getLogger("pymacaron.access")
    access.addHandler(handler)
    try:
        wsgi = wrap(app, SimpleNamespace(access_log="text", cors_origins=None))
        assert wsgi.app.app._writer is None  # RequestId, SecurityHeaders, AccessLog
        env = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/api/v2/books/missing",
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "HTTP_X_REQUEST_ID": "acc-1",
        }
        seen = {}
        wsgi(env, lambda status, headers, exc_info=None: seen.update(status=status))
    finally:
        access.removeHandler(handler)
    assert seen["status"].startswith("404")
    assert "GET /api/v2/books/missing 404" in stream.getvalue()
    assert env[layers.STATUS].startswith("404") and env["pymacaron.request_id"] == "acc-1"
