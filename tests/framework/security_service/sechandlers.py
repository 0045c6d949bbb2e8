"""Handlers and credential checks of the security shape tests (test_security_shapes.py)."""

from pymacaron.auth import get_token_payload, get_userid
from pymacaron.security import constant_time_equals, get_scopes, key_in

KEYS = {"k-alice-123": "alice", "k-bob-456": "bob"}


def whoami(**kwargs):
    payload = get_token_payload() or {}
    return {"user": get_userid(), "scopes": sorted(get_scopes()), "keys": sorted(payload)}


def check_key(key):
    for known, user in KEYS.items():
        if constant_time_equals(key, known):
            return user
    return None


def check_partner_key(key):
    return {"sub": "partner", "scope": "read:pets"} if key_in(key, ["p-1", "p-2"]) else False


def check_basic(user, password):
    return user if user == "carol" and constant_time_equals(password, "s3cret:colon") else None


def forwarded(**kwargs):
    """What a call to another service would carry (add_auth), decoded."""
    import jwt

    from pymacaron.auth import add_auth, get_user_token

    header = add_auth({})["Authorization"]
    token = header.split()[1]
    claims = jwt.decode(token, options={"verify_signature": False})
    return {"sub": claims["sub"], "same_token": token == get_user_token()}
