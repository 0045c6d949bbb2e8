"""Tokens from an identity provider: RS256/ES256/PS256/EdDSA verified through a JWKS served
by a local provider on 127.0.0.1 (discovery, key rotation, rate-limited refetch), the
attack set (401/403/503, never 500), a provider that is down, hangs or sends garbage (503
AUTH_UNAVAILABLE), and the key formats Auth0 and Cognito publish."""

from __future__ import annotations

import os
import sys
import time

import jwt
import pytest
import yaml

from pymacaron.exceptions import StartupError
from pymacaron.security import jwks, tokens
from tests.conftest import TEST_SECRET, build_app, reset_pymacaron

HERE = os.path.dirname(os.path.abspath(__file__))
HANDLERS = os.path.join(HERE, "security_service")
sys.path.insert(0, HANDLERS)
from idp import LocalIdP  # noqa: E402

AUD = "https://api.pets.test"


def spec() -> dict:
    ok = {"200": {"description": "who", "content": {"application/json": {"schema": {}}}}}

    def op(name, security):
        return {
            "get": {
                "operationId": name,
                "x-bind-server": "sechandlers.whoami",
                "security": security,
                "responses": ok,
            }
        }

    return {
        "openapi": "3.1.0",
        "info": {"title": "idp", "version": "1"},
        "paths": {
            "/me": op("me", [{"bearer": []}]),
            "/admin": op("admin", [{"oauth": ["pets:admin"]}]),
            "/search": op("search", [{"key": []}]),
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "oauth": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "https://idp.test/token",
                            "scopes": {"pets:admin": "all"},
                        }
                    },
                },
                "key": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "api_key",
                    "x-pym-apikey-check": "sechandlers.check_key",
                },
            }
        },
    }


def service(tmp_path, idp: LocalIdP, extra: str = "", url: str | None = None) -> str:
    (tmp_path / "apis").mkdir(exist_ok=True)
    (tmp_path / "apis" / "idp.yaml").write_text(yaml.safe_dump(spec(), sort_keys=False))
    config = (
        f"name: idpsvc\njwt_issuer: {idp.issuer}\njwt_audience: {AUD}\n"
        f"jwt_jwks_url: {url or idp.jwks_url}\njwt_jwks_timeout: 1\n" + extra
    )
    if "jwt_jwks_url: none" in extra:
        config = config.replace(f"jwt_jwks_url: {url or idp.jwks_url}\n", "").replace(
            "jwt_jwks_url: none\n", ""
        )
    (tmp_path / "pym-config.yaml").write_text(config)
    (tmp_path / "server.py").write_text(
        f"import sys\nsys.path.insert(0, {HANDLERS!r})\n"
        "from pymacaron import create_app\napp = create_app(__file__)\n"
    )
    return str(tmp_path)


def claims(idp: LocalIdP, **over) -> dict:
    now = int(time.time())
    base = {"iss": idp.issuer, "aud": AUD, "sub": "user-1", "iat": now, "exp": now + 300}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture
def idp():
    provider = LocalIdP()
    provider.add_key("rsa-1", "RS256")
    provider.add_key("ec-1", "ES256")
    yield provider
    provider.stop()


@pytest.fixture(autouse=True)
def _clean():
    tokens._VERIFIERS.clear()  # each test's provider state starts with an empty key cache
    yield
    reset_pymacaron()


def get(app, path, token=None, **headers):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return app.test_client().get(path, headers=headers)


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"])
def test_every_provider_algorithm_verifies(tmp_path, idp, alg):
    idp.add_key("k-" + alg, alg)
    app = build_app(service(tmp_path, idp))
    reply = get(app, "/me", idp.sign(claims(idp), "k-" + alg))
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["user"] == "user-1"


def test_discovery_finds_the_jwks(tmp_path, idp):
    app = build_app(service(tmp_path, idp, "jwt_jwks_url: none\njwt_discovery: true\n"))
    assert get(app, "/me", idp.sign(claims(idp), "ec-1")).status_code == 200
    assert idp.hits["/.well-known/openid-configuration"] == 1 and idp.hits["/jwks"] == 1
    idp.mode = "other-issuer"  # a discovery document naming another issuer is not followed
    tokens._VERIFIERS.clear()
    app = build_app(service(tmp_path, idp, "jwt_jwks_url: none\njwt_discovery: true\n"))
    reply = get(app, "/me", idp.sign(claims(idp), "ec-1"))
    assert reply.status_code == 503 and reply.get_json()["error"] == "AUTH_UNAVAILABLE"


def test_keys_are_cached_and_a_rotation_is_followed(tmp_path, idp, monkeypatch):
    monkeypatch.setattr(jwks, "MIN_REFETCH", 1.0)
    app = build_app(service(tmp_path, idp))
    for _ in range(5):
        assert get(app, "/me", idp.sign(claims(idp), "rsa-1")).status_code == 200
    assert idp.hits["/jwks"] == 1
    time.sleep(1.1)
    idp.rotate("rsa-2")
    new = idp.sign(claims(idp), "rsa-2")
    assert get(app, "/me", new).status_code == 200  # unknown kid: fetched again
    assert idp.hits["/jwks"] == 2
    # the retired key is gone; random kids fetch at most once per MIN_REFETCH
    start = time.monotonic()
    for i in range(20):
        reply = get(app, "/me", idp.sign(claims(idp), "rsa-1", headers={"kid": f"rand-{i}"}))
        assert reply.status_code == 401
    elapsed = time.monotonic() - start
    assert idp.hits["/jwks"] - 2 <= 1 + int(elapsed / jwks.MIN_REFETCH)


def _attacks(idp: LocalIdP, attacker: LocalIdP):
    """(name, token or header value, status, error code)."""
    import base64
    import json

    def b64(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    good = claims(idp)
    hs_confusion = jwt.encode(good, TEST_SECRET, algorithm="HS256", headers={"kid": "rsa-1"})
    try:  # PyJWT refuses a PEM as an HMAC secret: forge it by hand
        import hashlib
        import hmac

        head = b64({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}) + "." + b64(good)
        sig = hmac.new(idp.public_pem("rsa-1"), head.encode(), hashlib.sha256).digest()
        hs_confusion = head + "." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()
    except Exception:
        pass
    none = b64({"alg": "none", "typ": "JWT", "kid": "rsa-1"}) + "." + b64(good) + "."
    attacker.add_key("rsa-1", "RS256")  # the same kid as the real key
    attacker.add_key("evil", "RS256")
    jku = attacker.sign(good, "evil", headers={"jku": attacker.jwks_url})
    x5u = attacker.sign(good, "evil", headers={"x5u": attacker.url + "/cert.pem"})
    return [
        ("alg confusion (RS256 public key as HS256 secret)", hs_confusion, 401, "TOKEN_INVALID"),
        ("alg none", none, 401, "TOKEN_INVALID"),
        ("unknown kid", idp.sign(good, "rsa-1", headers={"kid": "nope"}), 401, "TOKEN_INVALID"),
        (
            "kid path injection",
            idp.sign(good, "rsa-1", headers={"kid": "../../../../dev/null"}),
            401,
            "TOKEN_INVALID",
        ),
        (
            "kid sql injection",
            idp.sign(good, "rsa-1", headers={"kid": "x' OR '1'='1"}),
            401,
            "TOKEN_INVALID",
        ),
        (
            "kid not a string",
            b64({"alg": "RS256", "kid": {"$ne": 1}}) + "." + b64(good) + ".c2ln",
            401,
            "TOKEN_INVALID",
        ),
        ("jku elsewhere", jku, 401, "TOKEN_INVALID"),
        ("x5u elsewhere", x5u, 401, "TOKEN_INVALID"),
        ("another issuer's key, same kid", attacker.sign(good, "rsa-1"), 401, "TOKEN_INVALID"),
        (
            "RS256 token claiming ES256 key",
            idp.sign(good, "rsa-1", headers={"kid": "ec-1"}),
            401,
            "TOKEN_INVALID",
        ),
        (
            "expired",
            idp.sign(claims(idp, exp=int(time.time()) - 60), "rsa-1"),
            401,
            "TOKEN_EXPIRED",
        ),
        (
            "not yet valid",
            idp.sign(claims(idp, nbf=int(time.time()) + 600), "ec-1"),
            401,
            "TOKEN_INVALID",
        ),
        (
            "issued in the future",
            idp.sign(claims(idp, iat=int(time.time()) + 600), "ec-1"),
            401,
            "TOKEN_INVALID",
        ),
        (
            "wrong audience",
            idp.sign(claims(idp, aud="https://other.api"), "rsa-1"),
            401,
            "TOKEN_INVALID",
        ),
        (
            "wrong issuer",
            idp.sign(claims(idp, iss="https://evil.test/"), "rsa-1"),
            401,
            "TOKEN_INVALID",
        ),
        ("no exp", idp.sign(claims(idp, exp=None), "rsa-1"), 401, "TOKEN_INVALID"),
        ("oversized", idp.sign(claims(idp, pad="x" * 9000), "rsa-1"), 401, "TOKEN_INVALID"),
        ("garbage", "a.b.c", 401, "TOKEN_INVALID"),
    ]


def test_the_attack_set_is_refused(tmp_path, idp):
    attacker = LocalIdP()
    try:
        app = build_app(service(tmp_path, idp))
        for name, token, status, code in _attacks(idp, attacker):
            reply = get(app, "/me", token)
            assert (reply.status_code, reply.get_json()["error"]) == (status, code), name
        assert sum(attacker.hits.values()) == 0  # jku/x5u never followed
        scoped = idp.sign(claims(idp, scope="pets:read"), "rsa-1")
        reply = get(app, "/admin", scoped)
        assert reply.status_code == 403 and "'pets:admin'" in reply.get_json()["error_description"]
        ok = idp.sign(claims(idp, scp=["pets:admin"]), "rsa-1")
        assert get(app, "/admin", ok).status_code == 200
    finally:
        attacker.stop()


def test_hs256_and_jwks_together_keep_the_families_apart(tmp_path, idp, monkeypatch):
    """jwt_secret and a JWKS both set: an HS256 token verifies only with the secret."""
    monkeypatch.setenv("JWT_SECRET", TEST_SECRET)
    app = build_app(service(tmp_path, idp, "env_secrets: [JWT_SECRET]\n"))
    attacker = LocalIdP()
    try:
        attacks = {n: (t, s, c) for n, t, s, c in _attacks(idp, attacker)}
    finally:
        attacker.stop()
    token, status, code = attacks["alg confusion (RS256 public key as HS256 secret)"]
    assert get(app, "/me", token).status_code == 401
    hs = jwt.encode(claims(idp), TEST_SECRET, algorithm="HS256")
    assert get(app, "/me", hs).status_code == 200
    assert get(app, "/me", idp.sign(claims(idp), "ec-1")).status_code == 200


@pytest.mark.parametrize("mode", ["down", "garbage", "notjwks", "hang"])
def test_a_failing_provider_is_503_never_valid(tmp_path, idp, mode):
    idp.mode, idp.hang = mode, 5.0
    app = build_app(service(tmp_path, idp))
    start = time.monotonic()
    reply = get(app, "/me", idp.sign(claims(idp), "rsa-1"))
    assert time.monotonic() - start < 4.0  # jwt_jwks_timeout: 1
    assert reply.status_code == 503 and reply.get_json()["error"] == "AUTH_UNAVAILABLE"
    # within MIN_REFETCH, the next request does not wait for the provider again
    start = time.monotonic()
    assert get(app, "/me", idp.sign(claims(idp), "rsa-1")).status_code == 503
    assert time.monotonic() - start < 2.0  # not the provider's 5 s


def test_a_redirect_is_not_followed(tmp_path, idp):
    attacker = LocalIdP()
    attacker.add_key("rsa-1")
    try:
        idp.mode, idp.redirect_to = "redirect", attacker.jwks_url
        app = build_app(service(tmp_path, idp))
        reply = get(app, "/me", attacker.sign(claims(idp), "rsa-1"))
        assert reply.status_code == 503 and sum(attacker.hits.values()) == 0
    finally:
        attacker.stop()


def test_stale_keys_keep_verifying_while_the_provider_is_down(tmp_path, idp, monkeypatch):
    monkeypatch.setattr(jwks, "MIN_REFETCH", 0.0)
    app = build_app(service(tmp_path, idp, "jwt_jwks_ttl: 30\n"))
    assert get(app, "/me", idp.sign(claims(idp), "rsa-1")).status_code == 200
    idp.mode = "down"
    keyset = next(iter(jwks_keysets()))
    keyset.fetched_at -= 60  # past its TTL
    assert get(app, "/me", idp.sign(claims(idp), "rsa-1")).status_code == 200
    # but an unknown kid cannot be looked up: 503, not 401
    reply = get(app, "/me", idp.sign(claims(idp), "rsa-1", headers={"kid": "new"}))
    assert reply.status_code == 503


def jwks_keysets():
    return [v.keys for v in tokens._VERIFIERS.values() if v.keys is not None][-1:]


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            "jwt_jwks_url: none\njwt_discovery: true\njwt_issuer: payments\n",
            "jwt_issuer must be an https:// URL",
        ),
        ("", "jwt_jwks_url must be an https:// URL"),
    ],
)
def test_startup_refuses_unsafe_jwks_settings(tmp_path, idp, extra, message):
    url = "http://idp.example.com/jwks" if not extra else None
    path = service(tmp_path, idp, extra, url=url)
    if extra:
        text = (tmp_path / "pym-config.yaml").read_text()
        (tmp_path / "pym-config.yaml").write_text(text.replace(f"jwt_issuer: {idp.issuer}\n", ""))
    with pytest.raises(StartupError, match=message):
        build_app(path)


def test_startup_refuses_a_jwks_without_audience(tmp_path, idp):
    path = service(tmp_path, idp)
    text = (tmp_path / "pym-config.yaml").read_text()
    (tmp_path / "pym-config.yaml").write_text(text.replace(f"jwt_audience: {AUD}\n", ""))
    with pytest.raises(StartupError, match="needs jwt_issuer and jwt_audience"):
        build_app(path)


# -- the formats Auth0 and Cognito publish (their shapes, served locally) -------------------
def test_auth0_shaped_keys_and_tokens(tmp_path):
    issuer = "https://pets-tenant.eu.auth0.com/"
    auth0 = LocalIdP(issuer=issuer, shape="auth0")
    try:
        auth0.add_key("NjVBRjY5MDlCMUIwNzU4RTA2QzZFMDQ4QzQ2MDAyQjVDNjk1RTM2Qg", "RS256")
        kid = auth0.published[0]
        jwk = auth0.jwks()["keys"][0]
        assert set(jwk) == {"kty", "use", "n", "e", "kid", "x5t", "x5c", "alg"}
        app = build_app(service(tmp_path, auth0))
        now = int(time.time())
        token = auth0.sign(
            {
                "iss": issuer,
                "sub": "auth0|5f7c8ec7c33c6c004bbafe82",
                "aud": [AUD, issuer + "userinfo"],
                "iat": now,
                "exp": now + 86400,
                "azp": "hS8Yk0qbRJxWKx1SHFHdtCN7o8YFQ1VA",
                "scope": "openid profile pets:admin",
                "permissions": ["pets:admin"],
            },
            kid,
        )
        reply = get(app, "/admin", token)
        assert reply.status_code == 200, reply.get_json()
        assert reply.get_json()["user"] == "auth0|5f7c8ec7c33c6c004bbafe82"
    finally:
        auth0.stop()


def test_cognito_shaped_keys_and_tokens(tmp_path):
    issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI"
    client_id = "1example23456789abcdefghij"
    cognito = LocalIdP(issuer=issuer, shape="cognito")
    try:
        cognito.add_key("abcdefghijklmnopqrsexample=", "RS256")
        cognito.add_key("fgHijkLmNopqRstUvwxYzExample=", "RS256")
        kid = cognito.published[1]
        assert set(cognito.jwks()["keys"][0]) == {"alg", "e", "kid", "kty", "n", "use"}
        now = int(time.time())
        access = {  # a Cognito access token: no aud, the app client in client_id
            "sub": "aaaaaaaa-bbbb-cccc-dddd-example",
            "cognito:groups": ["admin"],
            "iss": issuer,
            "version": 2,
            "client_id": client_id,
            "origin_jti": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
            "token_use": "access",
            "scope": "aws.cognito.signin.user.admin openid pets:admin",
            "auth_time": now,
            "exp": now + 3600,
            "iat": now,
            "jti": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
            "username": "my-test-user",
        }
        path = service(tmp_path, cognito, "jwt_audience_claim: client_id\n")
        text = (tmp_path / "pym-config.yaml").read_text()
        (tmp_path / "pym-config.yaml").write_text(text.replace(AUD, client_id))
        app = build_app(path)
        reply = get(app, "/admin", cognito.sign(access, kid))
        assert reply.status_code == 200, reply.get_json()
        other_client = {**access, "client_id": "another-app-client"}
        assert get(app, "/admin", cognito.sign(other_client, kid)).status_code == 401
    finally:
        cognito.stop()


def test_unsafe_jwks_settings_refuse_startup_without_declared_security(tmp_path, idp):
    """requires_auth reads the JWT settings too: a service declaring no scheme is checked."""
    path = service(tmp_path, idp, url="http://idp.example.com/jwks")
    document = spec()
    for item in document["paths"].values():
        item["get"].pop("security")
        item["get"]["x-decorate-server"] = "pymacaron.auth.requires_auth"
    document.pop("components")
    (tmp_path / "apis" / "idp.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(StartupError, match="jwt_jwks_url must be an https:// URL"):
        build_app(path)


def test_constant_time_helpers():
    from pymacaron.security import constant_time_equals, key_in

    assert constant_time_equals("k-1", "k-1") and constant_time_equals(b"k-1", "k-1")
    assert not constant_time_equals("k-1", "k-2") and not constant_time_equals("k-1", "k-10")
    assert not constant_time_equals(None, "k-1") and not constant_time_equals("k-1", None)
    assert key_in("b", ["a", "b", "c"]) and not key_in("d", ["a", "b", "c"])
    assert not key_in("a", [])


def test_requires_auth_accepts_a_provider_token_when_a_jwks_is_configured(tmp_path, idp):
    path = service(tmp_path, idp)
    document = spec()
    for item in document["paths"].values():
        item["get"].pop("security")
        item["get"]["x-decorate-server"] = "pymacaron.auth.requires_auth"
    document.pop("components")
    (tmp_path / "apis" / "idp.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    app = build_app(path)
    assert get(app, "/me").get_json()["error"] == "AUTHORIZATION_HEADER_MISSING"
    assert get(app, "/me", idp.sign(claims(idp), "ec-1")).get_json()["user"] == "user-1"
    assert get(app, "/me", idp.sign(claims(idp, aud="x"), "ec-1")).status_code == 401
