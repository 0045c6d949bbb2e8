"""Real servers on 127.0.0.1: gunicorn serving the example and a foreign v1-style service."""

import os
import sys
import time
import uuid

import pytest
import requests

from tests.conftest import FIXTURES, REPO, LiveServer, free_port, gunicorn_cmd, table_prefix

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def petshop(tmp_path_factory):
    port = free_port()
    server = LiveServer(
        gunicorn_cmd(port, workers=2),
        cwd=REPO,
        port=port,
        env={"PYM_DYNAMODB_TABLE_PREFIX": table_prefix("live"), "PYM_ENV": "staging"},
    ).wait()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def library():
    port = free_port()
    server = LiveServer(
        gunicorn_cmd(port, workers=1), cwd=os.path.join(FIXTURES, "library_service"), port=port
    ).wait()
    yield server
    server.stop()


def token(user="alice"):
    from pymacaron import config
    from pymacaron.auth import generate_token

    config.set_config(config.load_config(REPO))
    try:
        return generate_token(user)
    finally:
        config.set_config(None)


def test_done_means_of_the_runtime_issue(petshop):
    base = petshop.url
    assert requests.get(f"{base}/ping").json() == {}
    version = requests.get(f"{base}/version").json()
    assert version["name"] == "petshop" and version["pym_env"] == "staging"
    assert set(version) == {"name", "version", "container", "pym_env", "apis"}
    r = requests.get(f"{base}/auth/version")
    assert r.status_code == 401 and r.json()["error"] == "AUTHORIZATION_HEADER_MISSING"
    assert uuid.UUID(r.json()["error_id"]).version == 4
    r = requests.get(f"{base}/auth/version", headers={"Authorization": f"Bearer {token()}"})
    assert r.status_code == 200 and r.json()["name"] == "petshop"
    r = requests.get(f"{base}/auth/version", headers={"Authorization": "Bearer garbage"})
    assert r.status_code == 401 and r.json()["error"] == "TOKEN_INVALID"


def test_example_over_http(petshop):
    base = petshop.url
    assert len(requests.get(f"{base}/pets", params={"limit": 3}).json()) == 3
    r = requests.post(
        f"{base}/orders",
        headers={"Authorization": f"Bearer {token('carol')}"},
        json={
            "items": [{"pet_id": 4}],
            "delivery": {"name": "C", "street": "s", "city": "c", "country": "GB"},
        },
    )
    assert r.status_code == 201 and r.json()["customer"] == "carol"
    assert r.headers["Content-Type"] == "application/json"


def test_access_log_has_request_id_and_no_token(petshop):
    secret = token("dave")
    requests.get(
        f"{petshop.url}/auth/version",
        headers={"Authorization": f"Bearer {secret}", "X-Request-ID": "live-rid-1"},
    )
    time.sleep(0.3)
    out = petshop.output()
    line = next(
        line for line in out.splitlines() if "live-rid-1" in line and "/auth/version" in line
    )
    assert "200" in line and "ms" in line
    assert secret not in out and secret.split(".")[2] not in out


def test_foreign_v1_service_from_another_directory(library):
    base = library.url
    r = requests.get(f"{base}/api/v2/books", params={"authorIds": "3,4", "pageSize": 2})
    assert r.status_code == 200 and [b["id"] for b in r.json()["items"]] == ["book-3", "book-4"]
    assert requests.delete(f"{base}/api/v2/books/abc").status_code == 204
    assert requests.get(f"{base}/version").json()["name"] == "library"


def test_unhandled_error_reported_off_path_with_same_error_id(library):
    r = requests.get(f"{library.url}/api/v2/crash")
    body = r.json()
    assert r.status_code == 500 and body["error"] == "UNHANDLED_SERVER_ERROR"
    assert "hunter2" not in r.text
    deadline = time.time() + 5
    while time.time() < deadline and "REPORTED: 500 UNHANDLED_SERVER_ERROR" not in library.output():
        time.sleep(0.1)
    out = library.output()
    assert "REPORTED: 500 UNHANDLED_SERVER_ERROR" in out and body["error_id"] in out
    assert "Traceback (most recent call last)" in out  # in the log, not in the body


def test_development_server(tmp_path):
    port = free_port()
    server = LiveServer(
        [sys.executable, "server.py", "--port", str(port), "--env", "live"],
        cwd=REPO,
        port=port,
        env={"PYM_DYNAMODB_TABLE_PREFIX": table_prefix("live")},
    ).wait()
    try:
        assert requests.get(f"{server.url}/version").json()["pym_env"] == "live"
    finally:
        server.stop()
