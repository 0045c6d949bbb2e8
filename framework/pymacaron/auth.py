"""JWT authentication: HS256 tokens with audience and issuer verified.

Put ``x-decorate-server: pymacaron.auth.requires_auth`` on an operation (or decorate a
handler) and the handler only runs for a request carrying ``Authorization: Bearer <jwt>``
signed with ``jwt_secret``, for ``jwt_audience``, from ``jwt_issuer``, not expired
(``jwt_leeway`` seconds of clock skew, at most 300). Failures are 401s:
``AUTHORIZATION_HEADER_MISSING``, ``TOKEN_INVALID`` or ``TOKEN_EXPIRED``.
Tokens are never logged nor echoed in an error.
"""

from __future__ import annotations

import functools
import time

from flask import g, has_request_context, request

from .config import get_config
from .exceptions import AuthInvalidTokenError, AuthMissingHeaderError, AuthTokenExpiredError

__all__ = [
    "requires_auth",
    "authenticate_request",
    "generate_token",
    "get_userid",
    "get_user_token",
    "get_token_payload",
    "backend_token",
    "add_auth",
    "MAX_TOKEN_LENGTH",
]

MAX_TOKEN_LENGTH = 8192
MAX_LEEWAY = 300
ALGORITHM = "HS256"


def _jwt():
    """PyJWT, imported when a token is first made or checked: a worker that never sees a
    token (every service has the built-in ``/auth/version``) does not load it (~0.7 MiB,
    14 modules)."""
    import jwt

    return jwt


def _settings():
    conf = get_config()
    secret = conf.jwt_secret
    if not secret:
        raise RuntimeError("pym-config: jwt_secret is not set (list JWT_SECRET in env_secrets)")
    return conf, secret


def generate_token(
    user_id: str,
    data: dict | None = None,
    expire_in: int | None = None,
    issuer: str | None = None,
    iat: int | None = None,
) -> str:
    """A signed token for ``user_id`` (its ``sub``), valid ``expire_in`` seconds.

    ``data`` adds claims; ``expire_in`` defaults to ``jwt_token_timeout``.
    """
    if not user_id:
        raise ValueError("generate_token() needs a user_id")
    if data is not None and not isinstance(data, dict):
        raise TypeError("generate_token(data=...) must be a dict")
    conf, secret = _settings()
    now = int(iat if iat is not None else time.time())
    expire_in = conf.jwt_token_timeout if expire_in is None else int(expire_in)
    payload = dict(data or {})
    payload.update(
        {
            "iss": issuer or conf.jwt_issuer,
            "sub": str(user_id),
            "aud": conf.jwt_audience,
            "iat": now,
            "exp": now + expire_in,
        }
    )
    payload = {k: v for k, v in payload.items() if v is not None}
    return _jwt().encode(payload, secret, algorithm=ALGORITHM, headers={"typ": "JWT"})


def decode_token(token: str) -> dict:
    """Verify a token and return its claims; raises one of the 401 errors."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise AuthInvalidTokenError("token is empty or too long")
    conf, secret = _settings()
    leeway = max(0, min(int(conf.jwt_leeway or 0), MAX_LEEWAY))
    required = ["exp", "sub"]
    if conf.jwt_audience:
        required.append("aud")
    if conf.jwt_issuer:
        required.append("iss")
    jwt = _jwt()
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=conf.jwt_audience,
            issuer=conf.jwt_issuer,
            leeway=leeway,
            options={"require": required, "verify_iat": True, "verify_nbf": True},
        )
    except jwt.ExpiredSignatureError:
        raise AuthTokenExpiredError("token has expired") from None
    except jwt.InvalidAudienceError:
        raise AuthInvalidTokenError("token is for another audience") from None
    except jwt.InvalidIssuerError:
        raise AuthInvalidTokenError("token was issued by an unknown issuer") from None
    except jwt.ImmatureSignatureError:
        raise AuthInvalidTokenError("token is not valid yet (nbf/iat in the future)") from None
    except jwt.MissingRequiredClaimError as e:
        raise AuthInvalidTokenError(f"token lacks the '{e.claim}' claim") from None
    except jwt.InvalidSignatureError:
        raise AuthInvalidTokenError("token signature does not verify") from None
    except jwt.InvalidAlgorithmError:
        raise AuthInvalidTokenError(f"token is not signed with {ALGORITHM}") from None
    except jwt.PyJWTError:
        raise AuthInvalidTokenError("token is malformed") from None
    if not isinstance(payload.get("sub"), str):
        raise AuthInvalidTokenError("token 'sub' claim must be a string")
    return payload


def authenticate_request() -> dict:
    """Check the current request's Authorization header; stores and returns the claims."""
    headers = request.headers.getlist("Authorization")
    if not headers or not headers[0].strip():
        raise AuthMissingHeaderError("there is no Authorization header in the request")
    if len(headers) > 1:
        raise AuthInvalidTokenError("the request has more than one Authorization header")
    parts = headers[0].split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise AuthInvalidTokenError("the Authorization header must be 'Bearer <token>'")
    token = parts[1]
    payload = decode_token(token)
    g.pym_token = token
    g.pym_token_payload = payload
    return payload


def requires_auth(f):
    """Decorator (or ``x-decorate-server``): the handler runs only with a valid token."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        authenticate_request()
        return f(*args, **kwargs)

    wrapper.pym_requires_auth = True
    return wrapper


def get_token_payload() -> dict | None:
    """The verified claims of the current request's token, or None."""
    return g.get("pym_token_payload") if has_request_context() else None


def get_userid() -> str | None:
    """The ``sub`` of the current request's verified token, or None."""
    payload = get_token_payload()
    return payload.get("sub") if payload else None


def get_user_token() -> str | None:
    """The current request's verified token (to forward it), or None."""
    return g.get("pym_token") if has_request_context() else None


def backend_token(
    user_id: str | None = None, data: dict | None = None, expire_in: int = 300
) -> str:
    """A short-lived token for service-to-service calls (``sub`` = the service name)."""
    conf = get_config()
    return generate_token(
        user_id or conf.default_user_id or conf.name, data=data, expire_in=expire_in
    )


def add_auth(target):
    """``x-decorate-request``: send the caller's token (else a backend token) to the callee.

    As in the original, it decorates the function that sends the request
    (``send(url, headers=..., ...)``); given a headers dict instead, it adds the header to
    it and returns it. An ``Authorization`` header the caller set explicitly is kept.
    Without a request token and without ``jwt_secret`` no header is added.
    """
    if isinstance(target, dict):
        return _auth_headers(target)

    @functools.wraps(target)
    def send_with_auth(*args, **kwargs):
        kwargs["headers"] = _auth_headers(dict(kwargs.get("headers") or {}))
        return target(*args, **kwargs)

    return send_with_auth


def _auth_headers(headers: dict) -> dict:
    if any(k.lower() == "authorization" for k in headers):
        return headers
    token = get_user_token()
    if not token:
        try:
            token = backend_token()
        except Exception:  # no pym-config or no jwt_secret: nothing to sign with
            token = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers
