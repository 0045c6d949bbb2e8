"""Security as the spec declares it, for every Swagger 2.0 / OpenAPI 3.0 / 3.1 shape:
each operation answers 401 without or with wrong credentials, 403 FORBIDDEN_SCOPE when a
verified token lacks a scope, 200 with the right ones; `security: []` opts out, AND within
a requirement object, OR across them; startup refuses a scheme nothing verifies."""

from __future__ import annotations

import base64
import logging
import os

import pytest
import yaml

from pymacaron.exceptions import StartupError
from tests.conftest import TEST_SECRET, build_app, reset_pymacaron

HERE = os.path.dirname(os.path.abspath(__file__))
HANDLERS = os.path.join(HERE, "security_service")
AUD, ISS = "shapes-users", "shapes.test"
CONFIG = f"name: shapes\nenv_secrets: [JWT_SECRET]\njwt_audience: {AUD}\njwt_issuer: {ISS}\n"
WHO = {"type": "object"}

# (path, security) -- None: the document's global security
OPERATIONS = [
    ("/open", []),
    ("/global", None),
    ("/header", [{"key_header": []}]),
    ("/query", [{"key_query": []}]),
    ("/basic", [{"basic": []}]),
    ("/and", [{"jwt": [], "key_header": []}]),
    ("/or", [{"key_header": []}, {"basic": []}]),
    ("/scoped", [{"oauth": ["write:pets"]}]),
    ("/optional", [{}, {"jwt": []}]),
    ("/partner", [{"partner": ["read:pets"]}]),
]
OAS3_ONLY = [
    ("/cookie", [{"key_cookie": []}]),
    ("/oidc", [{"oidc": ["openid", "admin"]}]),
]


def _schemes(dialect: str) -> dict:
    key = {"type": "apiKey", "x-pym-apikey-check": "sechandlers.check_key"}
    schemes = {
        "key_header": {**key, "in": "header", "name": "X-API-Key"},
        "key_query": {**key, "in": "query", "name": "api_key"},
        "partner": {"type": "apiKey", "in": "header", "name": "X-Partner-Key"},
    }
    scopes = {"read:pets": "read", "write:pets": "write"}
    if dialect == "swagger2":
        schemes["jwt"] = {"type": "apiKey", "in": "header", "name": "Authorization"}
        schemes["basic"] = {"type": "basic", "x-pym-basic-check": "sechandlers.check_basic"}
        schemes["oauth"] = {
            "type": "oauth2",
            "flow": "implicit",
            "authorizationUrl": "https://idp.example.com/authorize",
            "scopes": scopes,
        }
        return schemes
    schemes["jwt"] = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    schemes["basic"] = {
        "type": "http",
        "scheme": "basic",
        "x-pym-basic-check": "sechandlers.check_basic",
    }
    schemes["key_cookie"] = {**key, "in": "cookie", "name": "session_key"}
    schemes["oauth"] = {
        "type": "oauth2",
        "flows": {
            "clientCredentials": {"tokenUrl": "https://idp.example.com/token", "scopes": scopes}
        },
    }
    schemes["oidc"] = {
        "type": "openIdConnect",
        "openIdConnectUrl": "https://idp.example.com/.well-known/openid-configuration",
    }
    return schemes


def spec_for(dialect: str, operations=None) -> dict:
    operations = operations or OPERATIONS + ([] if dialect == "swagger2" else OAS3_ONLY)
    paths = {}
    for path, security in operations:
        op = {"operationId": "op" + path.strip("/"), "x-bind-server": "sechandlers.whoami"}
        if dialect == "swagger2":
            op["produces"] = ["application/json"]
            op["responses"] = {"200": {"description": "who", "schema": WHO}}
        else:
            op["responses"] = {
                "200": {"description": "who", "content": {"application/json": {"schema": WHO}}}
            }
        if security is not None:
            op["security"] = security
        paths[path] = {"get": op}
    info = {"title": "shapes", "version": "1.0"}
    if dialect == "swagger2":
        return {
            "swagger": "2.0",
            "info": info,
            "paths": paths,
            "securityDefinitions": _schemes(dialect),
            "security": [{"jwt": []}],
        }
    return {
        "openapi": "3.0.3" if dialect == "oas30" else "3.1.0",
        "info": info,
        "paths": paths,
        "components": {"securitySchemes": _schemes(dialect)},
        "security": [{"jwt": []}],
    }


def make_service(tmp_path, spec: dict, config: str = CONFIG) -> str:
    (tmp_path / "apis").mkdir(exist_ok=True)
    (tmp_path / "apis" / "shapes.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    (tmp_path / "pym-config.yaml").write_text(config)
    return str(tmp_path)


@pytest.fixture(autouse=True)
def _handlers(monkeypatch):
    monkeypatch.syspath_prepend(HANDLERS)
    monkeypatch.setenv("JWT_SECRET", TEST_SECRET)
    yield
    reset_pymacaron()


def token(**claims) -> str:
    import time

    import jwt

    now = int(time.time())
    payload = {"sub": "alice", "aud": AUD, "iss": ISS, "iat": now, "exp": now + 60, **claims}
    return jwt.encode(payload, TEST_SECRET, algorithm="HS256")


def bearer(**claims) -> dict:
    return {"Authorization": f"Bearer {token(**claims)}"}


def basic(user: str, password: str) -> dict:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


KEY = {"X-API-Key": "k-alice-123"}
BAD_KEY = {"X-API-Key": "k-alice-124"}


def _cases(dialect: str):
    """(path, headers, query, cookie, status, error code, user) per shape."""
    cases = [
        ("/open", {}, "", None, 200, None, None),
        ("/global", {}, "", None, 401, "AUTHORIZATION_HEADER_MISSING", None),
        ("/global", {"Authorization": "Bearer not.a.jwt"}, "", None, 401, "TOKEN_INVALID", None),
        ("/global", bearer(aud="other"), "", None, 401, "TOKEN_INVALID", None),
        ("/global", bearer(exp=1), "", None, 401, "TOKEN_EXPIRED", None),
        ("/global", bearer(), "", None, 200, None, "alice"),
        ("/header", {}, "", None, 401, "CREDENTIALS_MISSING", None),
        ("/header", BAD_KEY, "", None, 401, "CREDENTIALS_INVALID", None),
        ("/header", bearer(), "", None, 401, "CREDENTIALS_MISSING", None),
        ("/header", KEY, "", None, 200, None, "alice"),
        ("/query", {}, "", None, 401, "CREDENTIALS_MISSING", None),
        ("/query", {}, "api_key=nope", None, 401, "CREDENTIALS_INVALID", None),
        ("/query", {}, "api_key=k-bob-456", None, 200, None, "bob"),
        ("/basic", {}, "", None, 401, "AUTHORIZATION_HEADER_MISSING", None),
        ("/basic", basic("carol", "wrong"), "", None, 401, "CREDENTIALS_INVALID", None),
        ("/basic", {"Authorization": "Basic %%%"}, "", None, 401, "CREDENTIALS_INVALID", None),
        ("/basic", bearer(), "", None, 401, "CREDENTIALS_INVALID", None),
        ("/basic", basic("carol", "s3cret:colon"), "", None, 200, None, "carol"),
        ("/and", bearer(), "", None, 401, "CREDENTIALS_MISSING", None),
        ("/and", KEY, "", None, 401, "AUTHORIZATION_HEADER_MISSING", None),
        ("/and", {**bearer(sub="dave"), **KEY}, "", None, 200, None, "dave"),
        ("/or", {}, "", None, 401, None, None),
        ("/or", BAD_KEY, "", None, 401, "CREDENTIALS_INVALID", None),
        ("/or", KEY, "", None, 200, None, "alice"),
        ("/or", basic("carol", "s3cret:colon"), "", None, 200, None, "carol"),
        ("/scoped", {}, "", None, 401, "AUTHORIZATION_HEADER_MISSING", None),
        ("/scoped", bearer(scope="read:pets"), "", None, 403, "FORBIDDEN_SCOPE", None),
        ("/scoped", bearer(scp=["write:pets"]), "", None, 200, None, "alice"),
        ("/scoped", bearer(scope="read:pets write:pets"), "", None, 200, None, "alice"),
        ("/optional", {}, "", None, 200, None, None),
        ("/optional", bearer(sub="erin"), "", None, 200, None, "erin"),
        ("/optional", {"Authorization": "Bearer x.y.z"}, "", None, 401, "TOKEN_INVALID", None),
        ("/partner", {"X-Partner-Key": "p-3"}, "", None, 401, "CREDENTIALS_INVALID", None),
        ("/partner", {"X-Partner-Key": "p-2"}, "", None, 200, None, "partner"),
    ]
    if dialect != "swagger2":
        cases += [
            ("/cookie", {}, "", None, 401, "CREDENTIALS_MISSING", None),
            ("/cookie", {}, "", "session_key=k-bob-999", 401, "CREDENTIALS_INVALID", None),
            ("/cookie", {}, "", "session_key=k-bob-456", 200, None, "bob"),
            ("/oidc", bearer(scope="openid"), "", None, 403, "FORBIDDEN_SCOPE", None),
            ("/oidc", bearer(scope="openid admin"), "", None, 200, None, "alice"),
        ]
    return cases


@pytest.mark.parametrize("dialect", ["swagger2", "oas30", "oas31"])
def test_every_shape_answers_401_403_200(tmp_path, dialect):
    config = CONFIG + "security_checks: {partner: sechandlers.check_partner_key}\n"
    app = build_app(make_service(tmp_path, spec_for(dialect), config))
    client = app.test_client()
    failures = []
    for path, headers, query, cookie, status, code, user in _cases(dialect):
        if cookie:  # the test client sends its own cookie jar
            client.set_cookie(*cookie.split("=", 1))
        reply = client.get(path + ("?" + query if query else ""), headers=headers)
        body = reply.get_json()
        got = (reply.status_code, body.get("error") if status != 200 else body.get("user"))
        want = (status, code if status != 200 else user)
        if code is None and status != 200:
            got, want = got[0], want[0]
        if got != want:
            failures.append(f"{path} {sorted(headers)} {query} {cookie}: got {got}, want {want}")
        if cookie:
            client = app.test_client()  # no cookie for the next case
    assert not failures, "\n".join(failures)


def test_the_missing_scope_is_named(tmp_path):
    app = build_app(make_service(tmp_path, spec_for("oas31", OAS3_ONLY)))
    reply = app.test_client().get("/oidc", headers=bearer(scope="openid"))
    assert reply.status_code == 403
    assert "'admin'" in reply.get_json()["error_description"]


def test_identity_and_scopes_whatever_the_scheme(tmp_path):
    app = build_app(
        make_service(
            tmp_path,
            spec_for("oas30"),
            CONFIG + "security_checks: {partner: sechandlers.check_partner_key}\n",
        )
    )
    client = app.test_client()
    jwt_reply = client.get("/scoped", headers=bearer(scope="write:pets")).get_json()
    assert jwt_reply["user"] == "alice" and jwt_reply["scopes"] == ["write:pets"]
    assert "exp" in jwt_reply["keys"]
    partner = client.get("/partner", headers={"X-Partner-Key": "p-1"}).get_json()
    assert partner == {"user": "partner", "scopes": ["read:pets"], "keys": ["scope", "sub"]}


def test_security_is_checked_before_the_body_and_parameters(tmp_path):
    spec = spec_for("oas31", [("/global", None)])
    op = spec["paths"]["/global"]["get"]
    op["parameters"] = [
        {"name": "n", "in": "query", "required": True, "schema": {"type": "integer"}}
    ]
    app = build_app(make_service(tmp_path, spec))
    reply = app.test_client().get("/global?n=notanumber")
    assert reply.status_code == 401  # not 400: an anonymous caller learns nothing of the inputs


@pytest.mark.parametrize(
    "dialect, scheme, expected",
    [
        ("oas31", "jwt", "security scheme 'jwt' (http bearer) has no verifier"),
        ("swagger2", "jwt", "security scheme 'jwt' (apiKey in header 'Authorization'"),
        ("oas30", "partner", "security scheme 'partner' (apiKey in header 'X-Partner-Key')"),
        ("oas31", "oauth", "security scheme 'oauth' (oauth2) has no verifier"),
    ],
)
def test_startup_refuses_a_scheme_without_verifier(
    tmp_path, monkeypatch, dialect, scheme, expected
):
    monkeypatch.delenv("JWT_SECRET")
    spec = spec_for(dialect, [("/x", [{scheme: []}])])
    service = make_service(tmp_path, spec, f"name: shapes\njwt_audience: {AUD}\n")
    with pytest.raises(StartupError) as e:
        build_app(service)
    message = str(e.value)
    assert expected in message and "GET /x" in message and "\n" not in message


def test_startup_refuses_a_check_that_does_not_import(tmp_path):
    spec = spec_for("oas31", [("/header", [{"key_header": []}])])
    spec["components"]["securitySchemes"]["key_header"]["x-pym-apikey-check"] = "sechandlers.nope"
    with pytest.raises(StartupError, match="x-pym-apikey-check 'sechandlers.nope' does not import"):
        build_app(make_service(tmp_path, spec))


def test_security_off_serves_with_a_loud_warning(tmp_path, monkeypatch, caplog):
    monkeypatch.delenv("JWT_SECRET")
    spec = spec_for("oas31", [("/x", [{"partner": []}])])
    service = make_service(tmp_path, spec, "name: shapes\nsecurity: off\n")
    with caplog.at_level(logging.WARNING, logger="pymacaron"):
        app = build_app(service)
    assert app.test_client().get("/x").status_code == 200
    assert any("SECURITY IS OFF" in r.getMessage() for r in caplog.records)


def test_security_off_is_refused_on_live(tmp_path, monkeypatch):
    spec = spec_for("oas31", [("/x", [{"partner": []}])])
    service = make_service(tmp_path, spec, "name: shapes\nsecurity: off\n")
    (tmp_path / "pym-config.live.yaml").write_text("name: shapes\nsecurity: off\n")
    with pytest.raises(StartupError, match="refused on live"):
        build_app(service, env="live")
    monkeypatch.delenv("PYM_ENV")


def test_requires_auth_alone_is_unchanged(tmp_path):
    """A v1 operation: no declared security, x-decorate-server requires_auth."""
    spec = spec_for("swagger2", [("/v1", [])])
    spec.pop("security")
    spec["paths"]["/v1"]["get"]["x-decorate-server"] = "pymacaron.auth.requires_auth"
    app = build_app(make_service(tmp_path, spec))
    client = app.test_client()
    assert client.get("/v1").get_json()["error"] == "AUTHORIZATION_HEADER_MISSING"
    assert client.get("/v1", headers=bearer()).get_json()["user"] == "alice"


@pytest.mark.parametrize("dialect", ["swagger2", "oas31"])
def test_the_served_spec_keeps_its_schemes(tmp_path, dialect):
    """Swagger UI shows Authorize from the served document's schemes; the built-in /ping
    is marked open under a global requirement (it is served without one)."""
    config = CONFIG + "security_checks: {partner: sechandlers.check_partner_key}\n"
    app = build_app(make_service(tmp_path, spec_for(dialect), config))
    doc = app.test_client().get("/openapi.json").get_json()
    schemes = (
        doc["securityDefinitions"]
        if dialect == "swagger2"
        else doc["components"]["securitySchemes"]
    )
    assert {"jwt", "key_header", "basic", "oauth"} <= set(schemes)
    assert doc["security"] == [{"jwt": []}]
    assert doc["paths"]["/scoped"]["get"]["security"] == [{"oauth": ["write:pets"]}]
    assert doc["paths"]["/ping"]["get"]["security"] == []
    assert app.test_client().get("/ping").status_code == 200


def test_calls_to_other_services_carry_the_identity_whatever_the_scheme(tmp_path):
    """A JWT is forwarded as is; an API key or Basic user goes as a backend token in that
    user's name (never the key itself)."""
    spec = spec_for("oas31", [("/jwt", None), ("/key", [{"key_header": []}])])
    for path in ("/jwt", "/key"):
        spec["paths"][path]["get"]["x-bind-server"] = "sechandlers.forwarded"
    app = build_app(make_service(tmp_path, spec))
    client = app.test_client()
    assert client.get("/jwt", headers=bearer(sub="frank")).get_json() == {
        "sub": "frank",
        "same_token": True,
    }
    assert client.get("/key", headers=KEY).get_json() == {"sub": "alice", "same_token": False}


IMPORTS = """
import json, sys
sys.path.insert(0, {handlers!r})
def main():
    from pymacaron import create_app
    app = create_app({service!r})
    loaded = lambda: sorted(m for m in ("jwt", "cryptography", "urllib.request") if m in sys.modules)
    before = loaded()
    status = app.test_client().get("/global").status_code
    print(json.dumps([before, status, loaded()]))
main()
"""


def test_a_secured_service_loads_no_jwt_code_before_a_token_arrives(tmp_path):
    """Workers stay lean: PyJWT (and cryptography, urllib.request) load on the first token."""
    import json
    import subprocess
    import sys

    service = make_service(tmp_path, spec_for("oas30", [("/global", None)]))
    code = IMPORTS.format(handlers=HANDLERS, service=service)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    before, status, after = json.loads(out.strip().splitlines()[-1])
    assert status == 401
    assert before == [] and after == []  # a request without a token needs no JWT code either


def test_two_authorization_headers_are_refused(tmp_path):
    """A server joins a repeated header with ", ": never read as one of the two tokens."""
    app = build_app(make_service(tmp_path, spec_for("oas31", [("/global", None)])))
    good = bearer()["Authorization"]
    reply = app.test_client().get("/global", headers=[("Authorization", good)] * 2)
    assert reply.status_code == 401 and reply.get_json()["error"] == "TOKEN_INVALID"
