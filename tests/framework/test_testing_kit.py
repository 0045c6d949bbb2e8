"""pymacaron.testing: the pymacaron-unit assertions (in-process and live) and the pytest plugin."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import unittest

import pytest

from tests.conftest import FIXTURES, REPO, LiveServer, build_app, free_port, fresh_tables

DELIVERY = os.path.join(FIXTURES, "delivery_service")
QUOTE = {"species": "cat", "country": "FR"}


@pytest.fixture(scope="module")
def petshop_case(tmp_path_factory):
    """A PyMacaronTestCase bound to the example service in-process, plus a few plain routes."""
    from flask import jsonify, redirect

    from pymacaron.auth import generate_token
    from pymacaron.testing import PyMacaronTestCase

    fresh_tables("kit")
    app = build_app(REPO, serve="petshop")
    app.add_url_rule("/page", "page", lambda: "<p>hi</p>")
    app.add_url_rule(
        "/plain", "plain", lambda: ("hi", 200, {"Content-Type": "text/plain; charset=utf-8"})
    )
    app.add_url_rule("/go", "go", lambda: redirect("/pets/1"))
    app.add_url_rule("/noop", "noop", lambda: jsonify({}), methods=["POST"])
    return PyMacaronTestCase.bind(app=app, token=generate_token("alice"))


NEW_PET = {"name": "Kiwi", "species": "bird", "price": {"amount": 40, "currency": "EUR"}}


def test_builtin_assertions(petshop_case):
    c = petshop_case
    assert c.assertHasPing() == {}
    assert c.assertHasVersion()["name"] == "petshop"
    assert c.assertHasAuthVersion()["apis"] == ["petshop"]


def test_json_dict_and_error_assertions(petshop_case):
    c = petshop_case
    assert c.assertGetReturnJson("pets/1") == c.assertGetReturnJson("/pets/1", 200)
    assert c.assertGetReturnDict("/pets/1", {"name": "Rex", "species": "dog"})["id"] == 1
    err = c.assertGetReturnError("pets/999", 404, "PET_NOT_FOUND")
    assert err["user_message"] == "This pet is not in our shop." and err["error_id"]
    c.assertPostReturnError("/pets", NEW_PET, 401, "AUTHORIZATION_HEADER_MISSING")
    auth = f"Bearer {c.token}"
    pet = c.assertPostReturnJson("/pets", NEW_PET, 201, auth=auth)
    assert c.assertPostReturnDict("pets", NEW_PET, {"name": "Kiwi"}, 201, auth)["id"] != pet["id"]
    order = {
        "items": [{"pet_id": 1}],
        "delivery": {"name": "A", "street": "B", "city": "C", "country": "FR"},
    }
    assert c.assertCallReturnJson("POST", "orders", order, auth=auth, status=201)["customer"] == (
        "alice"
    )
    c.assertCallReturnError("POST", "/orders", 401, "TOKEN_INVALID", order, "Bearer x.y.z")
    assert c.assertCallReturnDict("GET", "/pets/2", {"name": "Tom"})["species"] == "cat"
    assert c.assertCallReturnOk("GET", "ping") == {}
    assert c.assertGetReturnOk("/ping") == {}
    assert c.assertPostReturnOk("/noop", {"any": 1}) == {}
    # no PUT/DELETE in the example: the methods are honestly refused
    assert c.assertPutReturnJson("/pets/1", {}, 405)["error"] == "METHOD_NOT_ALLOWED"
    assert c.assertDeleteReturnJson("pets/1", 405)["error"] == "METHOD_NOT_ALLOWED"
    assert c.assertCallReturnJson("GET", "/pets/999", allow_error=True)["status"] == 404


def test_html_text_and_redirect_assertions(petshop_case):
    c = petshop_case
    assert c.assertCallReturnHtml("GET", "/page") == "<p>hi</p>"
    assert c.assertCallReturnText("GET", "plain") == "hi"
    assert c.assertCallReturnRedirect("GET", "/go") == "http://localhost/pets/1"
    # pymacaron-unit's positional order: (method, path, data, auth, status, allow_redirects)
    assert c.assertCallReturnRedirect("GET", "/go", None, None, 302, False) == (
        "http://localhost/pets/1"
    )
    assert c.assertCallReturnText("GET", "plain", None, None, 200, True) == "hi"
    with pytest.raises(AssertionError, match="expected status 200, got 302"):
        c.assertCallReturnHtml("GET", "/go", None, None, 200, False)
    with pytest.raises(AssertionError, match="not a redirect"):
        c.assertCallReturnRedirect("GET", "/go", None, None, 200, True)  # followed: the pet
    with pytest.raises(TypeError):  # call's options after the body go by name
        c.call("GET", "/ping", None, "Bearer x")


def test_failures_say_what_and_where(petshop_case):
    c = petshop_case
    with pytest.raises(
        AssertionError,
        match=r"GET http://localhost/pets/999: expected status 200, got 404: .*PET_NOT_FOUND",
    ):
        c.assertGetReturnJson("/pets/999")
    with pytest.raises(AssertionError, match="'Tom'"):
        c.assertGetReturnDict("/pets/1", {"name": "Tom"})
    with pytest.raises(AssertionError):
        c.assertGetReturnOk("/pets/1")  # a pet is not {}
    with pytest.raises(AssertionError, match="expected status 404, got 400"):
        c.assertGetReturnError("/pets/x", 404, "PET_NOT_FOUND")
    with pytest.raises(AssertionError, match="not JSON"):
        c.assertGetReturnJson("/page")
    tokenless = type(c).bind(app=c.app, token="")
    with pytest.raises(AssertionError, match="PYM_JWT_TOKEN"):
        tokenless.assertHasAuthVersion()


def test_target_from_env():
    from pymacaron.testing import load_port_host_token, target_from_env

    assert target_from_env({"PYM_SERVER_HOST": "api.example.com", "PYM_SERVER_PORT": "443"}) == (
        "https://api.example.com",
        None,
    )
    env = {"PYM_SERVER_HOST": "http://127.0.0.1/", "PYM_SERVER_PORT": "8080", "PYM_JWT_TOKEN": "t"}
    assert target_from_env(env) == ("http://127.0.0.1:8080", "t")
    assert target_from_env({"PYM_SERVER_HOST": "https://x.example.com:8443"})[0] == (
        "https://x.example.com:8443"
    )
    assert target_from_env({"PYM_SERVER_HOST": "x.example.com"})[0] == "http://x.example.com"
    with pytest.raises(RuntimeError, match="PYM_SERVER_HOST is not set"):
        target_from_env({})
    with pytest.raises(RuntimeError, match="must be a number"):
        target_from_env({"PYM_SERVER_HOST": "h", "PYM_SERVER_PORT": "http"})
    os.environ.update(PYM_SERVER_HOST="h.example.com", PYM_SERVER_PORT="443")
    try:
        assert load_port_host_token()[:2] == ("h.example.com", 443)
    finally:
        del os.environ["PYM_SERVER_HOST"], os.environ["PYM_SERVER_PORT"]


def test_original_import_paths():
    import pymacaron.test
    import pymacaron.testing
    from pymacaron import API, load_clients
    from pymacaron.apipool import ApiPool
    from pymacaron.exceptions import is_error
    from pymacaron_core.swagger.apipool import ApiPool as CoreApiPool

    assert pymacaron.test.PyMacaronTestCase is pymacaron.testing.PyMacaronTestCase
    assert CoreApiPool is ApiPool
    assert callable(API) and callable(load_clients) and callable(is_error)


@pytest.fixture(scope="module")
def delivery_live():
    port = free_port()
    server = LiveServer([sys.executable, "server.py", "--port", str(port)], DELIVERY, port)
    try:
        yield server.wait()
    finally:
        server.stop()


def delivery_token() -> str:
    from pymacaron import config
    from pymacaron.auth import generate_token

    previous = config._current
    config.set_config(config.load_config(path=os.path.join(DELIVERY, "pym-config.yaml")))
    try:
        return generate_token("tester", expire_in=600)
    finally:
        config.set_config(previous)


def test_live_test_case_runs_under_unittest(delivery_live, monkeypatch):
    from pymacaron.testing import PyMacaronTestCase

    monkeypatch.setenv("PYM_SERVER_HOST", "127.0.0.1")
    monkeypatch.setenv("PYM_SERVER_PORT", str(delivery_live.port))
    monkeypatch.setenv("PYM_JWT_TOKEN", delivery_token())

    class Accept(PyMacaronTestCase):
        def test_builtins(self):
            self.assertHasPing()
            self.assertEqual(self.assertHasVersion()["name"], "delivery")
            self.assertHasAuthVersion()

        def test_quote(self):
            j = self.assertPostReturnJson("v1/quotes", QUOTE, 200, auth=f"Bearer {self.token}")
            self.assertEqual(j["carrier"], "La Poste Animaux")
            self.assertPostReturnError("/v1/quotes", QUOTE, 401, "AUTHORIZATION_HEADER_MISSING")

        def test_wrong_expectation(self):
            self.assertGetReturnJson("/v1/quotes", 200)

    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(Accept).run(result)
    assert result.testsRun == 3
    assert not result.errors, result.errors
    assert [t.id().rsplit(".", 1)[1] for t, _ in result.failures] == ["test_wrong_expectation"]
    assert (
        "GET http://127.0.0.1:%d/v1/quotes: expected status 200, got 405" % (delivery_live.port)
        in result.failures[0][1]
    )


def test_unreachable_host_fails_clearly(monkeypatch):
    from pymacaron.testing import PyMacaronTestCase

    monkeypatch.setenv("PYM_SERVER_HOST", "127.0.0.1")
    monkeypatch.setenv("PYM_SERVER_PORT", str(free_port()))
    monkeypatch.setenv("NO_SSL_CHECK", "1")
    case = PyMacaronTestCase.bind()
    assert case.verify_ssl is False
    with pytest.raises(AssertionError, match="cannot reach the service"):
        case.assertHasPing()


FIXTURE_TESTS = """
import os


def test_in_process(pym_client, pym_auth):
    assert pym_client.app is not None
    pym_client.assertHasPing()
    pym_client.assertHasAuthVersion()
    j = pym_client.assertPostReturnJson("/v1/quotes", {quote}, 200, auth=pym_auth)
    assert j["days"] == 2


def test_live(monkeypatch, request):
    monkeypatch.setenv("PYM_SERVER_HOST", "127.0.0.1")
    monkeypatch.setenv("PYM_SERVER_PORT", "{port}")
    client = request.getfixturevalue("pym_client")
    assert client.app is None and client.base_url == "http://127.0.0.1:{port}"
    client.assertHasVersion()
    client.assertPostReturnError("/v1/quotes", {quote}, 401, "AUTHORIZATION_HEADER_MISSING")


def test_reports_clearly(pym_client):
    pym_client.assertGetReturnJson("/v1/nothing", 200)
"""


def test_pytest_fixtures_in_process_and_live(delivery_live, tmp_path):
    (tmp_path / "test_kit.py").write_text(
        FIXTURE_TESTS.replace("{port}", str(delivery_live.port)).replace("{quote}", repr(QUOTE))
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYM_")}
    env["PYM_SERVICE_DIR"] = DELIVERY
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = r.stdout + r.stderr
    assert "1 failed, 2 passed" in out, out
    assert "GET http://localhost/v1/nothing: expected status 200, got 404" in out, out
    assert r.returncode == 1
    assert textwrap.dedent("test_reports_clearly") in out
