"""One error writer (errors.py): one body, one status -> code table, for every layer."""

from __future__ import annotations

import os
import socket

import orjson

from pymacaron import error_body as errors
from pymacaron import exceptions
from pymacaron.run.gunicorn_hooks import json_write_error
from pymacaron.server.headers import SECURITY_HEADERS
from tests.conftest import FIXTURES, build_app

LIBRARY = os.path.join(FIXTURES, "library_service")


def test_one_table_with_designs_codes():
    assert errors.CODES[400] == "INVALID_PARAMETER"  # DESIGN.md; gunicorn said BAD_REQUEST
    assert errors.CODES[401] == "AUTHORIZATION_HEADER_MISSING"
    assert errors.code_for(500) == errors.code_for(503) == "UNHANDLED_SERVER_ERROR"
    assert errors.code_for(418) == "HTTP_ERROR"
    assert exceptions.error_body is errors.error_body  # the public name stays


def test_gunicorns_own_errors_use_the_table_and_the_security_headers():
    """A malformed request gunicorn answers itself: the same 400 as the app's own."""
    ours, theirs = socket.socketpair()
    try:
        json_write_error(ours, 400, "Bad Request", "Invalid HTTP request line: 'GARBAGE'")
        raw = theirs.recv(65536)
    finally:
        ours.close()
        theirs.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    for name, value in SECURITY_HEADERS:
        assert f"{name}: {value}".encode() in head
    data = orjson.loads(body)
    assert data["error"] == "INVALID_PARAMETER" and data["status"] == 400
    assert f"Content-Length: {len(body)}".encode() in head


def test_the_app_and_gunicorn_agree_on_a_400():
    client = build_app(LIBRARY).test_client()
    app_400 = client.get("/api/v2/books?pageSize=0").get_json()
    raw = errors.http_error(400, "Bad Request", "bad request line")
    server_400 = orjson.loads(raw.partition(b"\r\n\r\n")[2])
    assert app_400["error"] == server_400["error"] == "INVALID_PARAMETER"
    assert set(app_400) == set(server_400) == {"status", "error", "error_description", "error_id"}


def test_wsgi_error_starts_a_complete_json_reply():
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen.update(status=status, headers=dict(headers))

    body = b"".join(errors.wsgi_error(start_response, 413, "too big", headers=[("Vary", "X")]))
    assert seen["status"].startswith("413 ")
    assert seen["headers"]["Content-Type"] == "application/json"
    assert seen["headers"]["Content-Length"] == str(len(body)) and seen["headers"]["Vary"] == "X"
    data = orjson.loads(body)
    assert data["error"] == "REQUEST_TOO_LARGE" and data["error_description"] == "too big"
