"""CORS: closed by default, opened per origin by pym-config's cors_origins."""

import os
import shutil

import pytest

from tests.conftest import FIXTURES, build_app

LIBRARY = os.path.join(FIXTURES, "library_service")
ORIGIN = "https://app.example.com"


@pytest.fixture(scope="module")
def closed():
    return build_app(LIBRARY).test_client()


@pytest.fixture(scope="module")
def opened(tmp_path_factory, closed):
    # the copy leaves out the `library` package its x-parent names: `closed` (built from
    # the fixture itself) makes it importable, also on an xdist worker that runs only the
    # tests of this fixture
    root = tmp_path_factory.mktemp("cors") / "svc"
    shutil.copytree(LIBRARY, root, ignore=shutil.ignore_patterns("__pycache__", "library"))
    with open(root / "pym-config.yaml", "a") as f:
        f.write(f"cors_origins: ['{ORIGIN}']\n")
    return build_app(str(root)).test_client()


def preflight(client, origin, method="POST", headers="Authorization, Content-Type, X-Evil"):
    return client.options(
        "/api/v2/books",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def test_closed_by_default(closed):
    r = closed.get("/ping", headers={"Origin": ORIGIN})
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers
    assert "Access-Control-Allow-Origin" not in preflight(closed, ORIGIN).headers


def test_allowed_origin_gets_headers(opened):
    r = opened.get("/ping", headers={"Origin": ORIGIN})
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in r.headers["Vary"]
    assert r.headers["X-Request-ID"]


def test_allowed_preflight(opened):
    r = preflight(opened, ORIGIN)
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    allowed = r.headers["Access-Control-Allow-Headers"]
    assert "Authorization" in allowed and "X-Evil" not in allowed


def test_other_origin_refused(opened):
    r = opened.get("/ping", headers={"Origin": "https://evil.example.net"})
    assert "Access-Control-Allow-Origin" not in r.headers
    r = preflight(opened, "https://evil.example.net")
    assert r.status_code == 403 and r.get_json()["error"] == "CORS_ORIGIN_NOT_ALLOWED"


def test_security_headers_everywhere(closed):
    for r in (closed.get("/ping"), closed.get("/nowhere"), closed.get("/api/v2/crash")):
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")
