"""Hostile input: each is a 4xx JSON error — never a 500, never a hang."""

import socket

import pytest
import requests

from pymacaron.spec.jsondoc import MAX_DEPTH
from tests.conftest import (
    REPO,
    LiveServer,
    build_app,
    free_port,
    fresh_tables,
    gunicorn_cmd,
    table_prefix,
)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    fresh_tables("hostile")
    return build_app(REPO, serve="petshop").test_client()


@pytest.fixture
def auth(token_for):
    return {"Authorization": f"Bearer {token_for('eve')}"}


def post_raw(client, auth, data: bytes, content_type="application/json"):
    return client.post("/orders", data=data, headers={**auth, "Content-Type": content_type})


def assert_4xx(r, status=400, code="INVALID_PARAMETER", fragment=None):
    assert r.status_code == status, (r.status_code, r.data[:300])
    body = r.get_json()
    assert body["error"] == code and body["status"] == status
    if fragment:
        assert fragment in body["error_description"], body["error_description"]
    return body


DELIVERY = b'"delivery": {"name": "a", "street": "b", "city": "c", "country": "FR"}'


@pytest.mark.parametrize(
    "data,fragment",
    [
        (b'{"items": [', "not valid JSON"),
        (b'{"items": [{"pet_id": NaN}], ' + DELIVERY + b"}", "not valid JSON"),
        (b'{"items": [{"pet_id": Infinity}], ' + DELIVERY + b"}", "not valid JSON"),
        (b'{"items": [{"pet_id": 1e400}], ' + DELIVERY + b"}", "not valid JSON"),
        (
            b'{"items": [{"pet_id": 100000000000000000000000000000}], ' + DELIVERY + b"}",
            "body.items[0].pet_id",
        ),
        (b'{"items": [{"pet_id": -1}], ' + DELIVERY + b"}", "body.items[0].pet_id: must be bigger"),
        (b'{"items": [{"pet_id": 1, "pet_id": 3}], ' + DELIVERY + b"}", "duplicate key 'pet_id'"),
        (b'{"items" : [{"pet_id": 1}], "items" : [], ' + DELIVERY + b"}", "duplicate key 'items'"),
        (b'{"note": "\xff\xfe", "items": [{"pet_id": 1}], ' + DELIVERY + b"}", "not valid JSON"),
        (b"[" * 5000 + b"]" * 5000, "not valid JSON"),
        (
            b'{"note": ' + b"[" * (MAX_DEPTH + 5) + b"]" * (MAX_DEPTH + 5) + b"}",
            f"deeper than {MAX_DEPTH}",
        ),
        (
            b'{"note": '
            + b'{"a": [' * (MAX_DEPTH // 2 + 3)
            + b"1"
            + b"]}" * (MAX_DEPTH // 2 + 3)
            + b"}",
            f"deeper than {MAX_DEPTH}",
        ),
        (b'"just a string"', "body: expected an object"),
        (b"null", "body: expected an object"),
    ],
)
def test_hostile_bodies(client, auth, data, fragment):
    assert_4xx(post_raw(client, auth, data), fragment=fragment)


def test_string_containing_key_markers_is_not_a_duplicate(client, auth):
    data = b'{"items": [{"pet_id": 1}], "note": "a \\"x\\": b, \\"x\\": c", ' + DELIVERY + b"}"
    assert post_raw(client, auth, data).status_code == 201


def test_wrong_content_type(client, auth):
    assert_4xx(
        post_raw(client, auth, b'{"items": []}', "text/plain"),
        status=415,  # not a Content-Type /orders consumes (issue 15: was a 400)
        code="UNSUPPORTED_MEDIA_TYPE",
        fragment="Content-Type",
    )


def test_body_over_the_limit_is_413(client, auth):
    big = b'{"note": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    assert_4xx(post_raw(client, auth, big), 413, "REQUEST_TOO_LARGE")


@pytest.mark.parametrize(
    "path,status",
    [
        ("/pets/..%2F..%2Fetc%2Fpasswd", 404),
        ("/pets/..", 400),
        ("/pets/%2e%2e", 400),
        ("/pets/%FF", 400),
        ("/pets/1%00", 400),
        ("/pets/99999999999999999999999999", 400),
        ("/pets/-0", 400),
        ("/pets?limit=NaN", 400),
        ("/pets?limit=1e3", 400),
        ("/pets?limit=" + "9" * 5000, 400),
        ("/pets?status=" + "a" * 100_000, 400),
        ("/pets?tags=" + ",".join(["a"] * 10_000), 400),
    ],
)
def test_hostile_paths_and_queries(client, path, status):
    r = client.get(path)
    assert r.status_code == status, (path[:80], r.status_code, r.data[:200])
    assert r.get_json()["status"] == status


def test_unknown_query_parameters_accepted_by_default(client):
    assert client.get("/pets?limit=1&whatever=1").status_code == 200


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    port = free_port()
    server = LiveServer(
        gunicorn_cmd(port, workers=1),
        cwd=REPO,
        port=port,
        env={"PYM_DYNAMODB_TABLE_PREFIX": table_prefix("hostile")},
    ).wait()
    yield server
    server.stop()


def raw_http(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_request_line_too_long_is_json_from_gunicorn(live):
    r = requests.get(f"{live.url}/pets", params={"tags": "x" * 20_000}, timeout=10)
    assert r.status_code in (400, 414)
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["status"] == r.status_code


def test_header_too_large_is_json(live):
    r = requests.get(f"{live.url}/ping", headers={"X-Big": "y" * 20_000}, timeout=10)
    assert 400 <= r.status_code < 500
    assert r.json()["status"] == r.status_code


def test_garbage_request_line_is_json(live):
    reply = raw_http(live.port, b"\x16\x03\x01 not http at all\r\n\r\n")
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"application/json" in head and b'"status":400' in body


def test_security_headers_and_no_version_banner(live):
    r = requests.get(f"{live.url}/ping", timeout=10)
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    server = r.headers.get("Server", "")
    assert not any(ch.isdigit() for ch in server), server
