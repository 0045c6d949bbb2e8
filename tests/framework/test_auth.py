"""JWT: issuing, verifying, and every way a token can be wrong (401 with the right code)."""

import logging
import time

import jwt
import pytest
from flask import Flask

from pymacaron import config
from pymacaron.auth import (
    authenticate_request,
    decode_token,
    generate_token,
    get_user_token,
    get_userid,
    requires_auth,
)
from pymacaron.exceptions import (
    AuthInvalidTokenError,
    AuthMissingHeaderError,
    AuthTokenExpiredError,
    PyMacaronException,
)
from tests.conftest import TEST_SECRET

AUD, ISS = "aud-test", "iss-test"


@pytest.fixture(autouse=True)
def conf(tmp_path):
    path = tmp_path / "pym-config.yaml"
    path.write_text(
        f"name: authsvc\nenv_secrets: [JWT_SECRET]\njwt_audience: {AUD}\n"
        f"jwt_issuer: {ISS}\njwt_leeway: 5\n"
    )
    config.set_config(config.load_config(path=str(path), environ={"JWT_SECRET": TEST_SECRET}))
    yield
    config.set_config(None)


def claims(**over):
    now = int(time.time())
    base = {"sub": "alice", "aud": AUD, "iss": ISS, "iat": now, "exp": now + 60}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload, key=TEST_SECRET, alg="HS256", headers=None):
    return jwt.encode(payload, key, algorithm=alg, headers=headers)


def test_generate_and_decode_round_trip():
    token = generate_token("alice", data={"role": "staff"}, expire_in=60)
    payload = decode_token(token)
    assert payload["sub"] == "alice" and payload["role"] == "staff"
    assert payload["aud"] == AUD and payload["iss"] == ISS
    assert payload["exp"] - payload["iat"] == 60


def _alg_none_token():
    import base64
    import json

    def b64(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}."


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _rs_hs_confusion_token():
    """HS256 signed with a public key as the HMAC secret (the RS/HS confusion attack)."""
    import hashlib
    import hmac
    import json

    public_pem = b"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"
    signing_input = f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}.{_b64(json.dumps(claims()).encode())}"
    sig = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(sig)}"


def _rs256_header_token():
    """A token claiming RS256: only HS256 is accepted."""
    import json

    head = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    return f"{head}.{_b64(json.dumps(claims()).encode())}.{_b64(b'x' * 256)}"


def _tampered():
    token = generate_token("alice")
    head, body, sig = token.split(".")
    import base64
    import json

    payload = json.loads(base64.urlsafe_b64decode(body + "=="))
    payload["sub"] = "mallory"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    return f"{head}.{forged}.{sig}"


@pytest.mark.parametrize(
    "make,error",
    [
        (lambda: _alg_none_token(), AuthInvalidTokenError),
        (
            lambda: sign(claims(), key="wrong-key-wrong-key-wrong-key-wrong-key"),
            AuthInvalidTokenError,
        ),
        (lambda: _rs_hs_confusion_token(), AuthInvalidTokenError),
        (lambda: _rs256_header_token(), AuthInvalidTokenError),
        (lambda: sign(claims(aud="someone-else")), AuthInvalidTokenError),
        (lambda: sign(claims(iss="evil")), AuthInvalidTokenError),
        (lambda: sign(claims(aud=None)), AuthInvalidTokenError),
        (lambda: sign(claims(exp=int(time.time()) - 60)), AuthTokenExpiredError),
        (lambda: sign(claims(nbf=int(time.time()) + 3600)), AuthInvalidTokenError),
        (
            lambda: sign(claims(iat=int(time.time()) + 3600, exp=int(time.time()) + 7200)),
            AuthInvalidTokenError,
        ),
        (lambda: sign(claims(exp=None)), AuthInvalidTokenError),
        (lambda: sign(claims(sub=None)), AuthInvalidTokenError),
        (lambda: _tampered(), AuthInvalidTokenError),
        (lambda: "a" * 10000, AuthInvalidTokenError),
        (lambda: "not.a.jwt", AuthInvalidTokenError),
    ],
)
def test_bad_tokens_are_rejected(make, error):
    with pytest.raises(error):
        decode_token(make())


def test_leeway_is_bounded_and_applied():
    # expired 3 s ago, leeway 5 s: accepted; 30 s ago: expired
    assert decode_token(sign(claims(exp=int(time.time()) - 3)))["sub"] == "alice"
    with pytest.raises(AuthTokenExpiredError):
        decode_token(sign(claims(exp=int(time.time()) - 30)))


def _app():
    app = Flask("auth-test")

    @app.route("/me")
    def me():
        try:
            authenticate_request()
        except PyMacaronException as e:
            return {"error": e.code, "description": e.message}, e.status
        return {"user": get_userid(), "has_token": get_user_token() is not None}

    return app


@pytest.mark.parametrize(
    "headers,code",
    [
        ({}, "AUTHORIZATION_HEADER_MISSING"),
        ({"Authorization": ""}, "AUTHORIZATION_HEADER_MISSING"),
        ({"Authorization": "Token abc"}, "TOKEN_INVALID"),
        ({"Authorization": "Bearer"}, "TOKEN_INVALID"),
        ({"Authorization": "Bearer a b"}, "TOKEN_INVALID"),
    ],
)
def test_header_shapes(headers, code):
    r = _app().test_client().get("/me", headers=headers)
    assert r.status_code == 401 and r.get_json()["error"] == code


def test_token_without_bearer_prefix_is_invalid():
    token = generate_token("alice")
    r = _app().test_client().get("/me", headers={"Authorization": token})
    assert r.get_json()["error"] == "TOKEN_INVALID"


def test_two_authorization_headers_are_invalid():
    token = generate_token("alice")
    r = (
        _app()
        .test_client()
        .get(
            "/me",
            headers=[("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {token}")],
        )
    )
    assert r.get_json()["error"] == "TOKEN_INVALID"


def test_valid_token_gives_identity():
    token = generate_token("alice")
    r = _app().test_client().get("/me", headers={"Authorization": f"Bearer {token}"})
    assert r.get_json() == {"user": "alice", "has_token": True}


def test_token_never_logged_nor_echoed(caplog):
    secret_token = sign(claims(aud="someone-else"))
    with caplog.at_level(logging.DEBUG):
        r = _app().test_client().get("/me", headers={"Authorization": f"Bearer {secret_token}"})
    assert secret_token not in r.get_data(as_text=True)
    signature = secret_token.split(".")[2]
    assert all(signature not in rec.getMessage() for rec in caplog.records)


def test_requires_auth_decorator_marks_and_guards():
    calls = []

    @requires_auth
    def handler():
        calls.append(get_userid())
        return "ok"

    assert handler.pym_requires_auth is True
    app = Flask("deco")
    with app.test_request_context(headers={"Authorization": f"Bearer {generate_token('zoe')}"}):
        assert handler() == "ok"
    with app.test_request_context(), pytest.raises(AuthMissingHeaderError):
        handler()
    assert calls == ["zoe"]
