"""A real server (gunicorn on 127.0.0.1) configured with the local provider's JWKS URL:
RS256 and ES256 tokens accepted, a key rotation followed without restart, every attack
refused with 401/403/503 -- 0 x 500 -- and no token nor API key in its output (access log
and application log)."""

from __future__ import annotations

import time

import pytest
import requests

from tests.conftest import LiveServer, free_port, gunicorn_cmd, reset_pymacaron
from tests.framework.test_security_jwks import LocalIdP, _attacks, claims, service

pytestmark = pytest.mark.slow


def test_a_live_server_with_a_jwks(tmp_path):
    idp, attacker = LocalIdP(), LocalIdP()
    idp.add_key("rsa-1", "RS256")
    idp.add_key("ec-1", "ES256")
    port = free_port()
    server = LiveServer(gunicorn_cmd(port, workers=1), cwd=service(tmp_path, idp), port=port)
    sent: list[str] = []
    statuses: list[int] = []

    def get(path, token=None, **params):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if token:
            sent.append(token)
        reply = requests.get(server.url + path, headers=headers, params=params, timeout=10)
        statuses.append(reply.status_code)
        return reply

    try:
        server.wait()
        rs = idp.sign(claims(idp, scope="pets:admin"), "rsa-1")
        es = idp.sign(claims(idp, sub="user-2"), "ec-1")
        assert get("/me", rs).json()["user"] == "user-1"
        assert get("/me", es).json()["user"] == "user-2"
        assert get("/admin", rs).status_code == 200
        assert get("/admin", es).status_code == 403

        for name, token, status, code in _attacks(idp, attacker):
            reply = get("/me", token)
            if name == "oversized":  # gunicorn's own header limit (8190) may answer first
                assert reply.status_code in (400, 401, 431), name
                continue
            assert (reply.status_code, reply.json()["error"]) == (status, code), name
        assert sum(attacker.hits.values()) == 0

        # an API key in the query string (never logged)
        key = "k-alice-123"
        assert get("/search", api_key=key).json()["user"] == "alice"
        assert get("/search", api_key="k-wrong-0000").status_code == 401

        # a rotation, followed without restart (after the refetch interval)
        time.sleep(5.5)
        idp.rotate("rsa-2")
        assert get("/me", idp.sign(claims(idp), "rsa-2")).status_code == 200
        assert get("/me", rs).status_code == 401  # the retired key

        # the provider goes down: cached keys verify, an unknown one is 503
        idp.mode = "down"
        assert get("/me", idp.sign(claims(idp), "rsa-2")).status_code == 200
        time.sleep(5.5)
        idp.rotate("rsa-3")
        reply = get("/me", idp.sign(claims(idp), "rsa-3"))
        assert reply.status_code == 503 and reply.json()["error"] == "AUTH_UNAVAILABLE"
    finally:
        server.stop()
        idp.stop()
        attacker.stop()
        reset_pymacaron()
    assert 500 not in statuses
    with open(server.log_path, encoding="utf-8", errors="replace") as f:
        output = f.read()
    assert "GET /me 200" in output  # the access log is there...
    # a token, or any of its parts long enough to mean something (header, claims, signature)
    fragments = {p for t in sent for p in [t, *t.split(".")] if len(p) >= 16}
    leaked = [p[:20] for p in fragments if p in output]
    assert not leaked, leaked  # ...without a token
    assert key not in output and "k-wrong-0000" not in output
