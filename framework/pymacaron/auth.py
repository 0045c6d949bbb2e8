"""JWT authentication: HS256 tokens (and an identity provider's, through its JWKS) with
audience and issuer verified.

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
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, overload

from flask import g, has_request_context, request

from .config import PymConfig, get_config
from .exceptions import (  # noqa: F401  (AuthTokenExpiredError: importable from here, as before)
    AuthInvalidTokenError,
    AuthMissingHeaderError,
    AuthTokenExpiredError,
)

P = ParamSpec("P")
R = TypeVar("R")
Claims = dict[str, Any]  # a verified token's claims (JSON values)
Headers = dict[str, str]

__all__ = [
    "requires_auth",
    "authenticate_request",
    "generate_token",
    "get_userid",
    "get_user_token",
    "get_token_payload",
    "get_scopes",
    "backend_token",
    "add_auth",
    "MAX_TOKEN_LENGTH",
]

MAX_TOKEN_LENGTH = 8192
MAX_LEEWAY = 300
ALGORITHM = "HS256"


def _settings() -> tuple[PymConfig, str]:
    conf = get_config()
    secret: str | None = conf.jwt_secret
    if not secret:
        raise RuntimeError("pym-config: jwt_secret is not set (list JWT_SECRET in env_secrets)")
    return conf, secret


def generate_token(
    user_id: str,
    data: Claims | None = None,
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
    # PyJWT, imported when a token is first made: a worker that never sees a token (every
    # service has the built-in ``/auth/version``) does not load it (~0.7 MiB, 14 modules)
    import jwt

    return jwt.encode(payload, secret, algorithm=ALGORITHM, headers={"typ": "JWT"})


def decode_token(token: str) -> Claims:
    """Verify a token and return its claims; raises one of the 401 errors (503
    ``AUTH_UNAVAILABLE`` when a configured JWKS cannot be fetched).

    HS256 with ``jwt_secret`` as always; with ``jwt_jwks_url`` (or ``jwt_discovery``) the
    identity provider's RS/PS/ES/EdDSA tokens too (security/tokens.py).
    """
    from .security.tokens import configured, verifier_for

    conf = get_config()
    if not configured(conf):
        raise RuntimeError("pym-config: jwt_secret is not set (list JWT_SECRET in env_secrets)")
    claims: Claims = verifier_for(conf).decode(token)
    return claims


def authenticate_request() -> Claims:
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
    if g.get("pym_token") == token:  # already verified by the operation's declared security
        verified: Claims = g.pym_token_payload
        return verified
    payload = decode_token(token)
    g.pym_token = token
    g.pym_token_payload = payload
    return payload


def requires_auth(f: Callable[P, R]) -> Callable[P, R]:
    """Decorator (or ``x-decorate-server``): the handler runs only with a valid token."""

    @functools.wraps(f)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        authenticate_request()
        return f(*args, **kwargs)

    wrapper.__dict__["pym_requires_auth"] = True
    return wrapper


def get_token_payload() -> Claims | None:
    """The verified claims of the current request's token, or None."""
    from .security.guard import current_claims

    return current_claims()


def get_userid() -> str | None:
    """The ``sub`` of the current request's verified token, or None."""
    payload = get_token_payload()
    sub: str | None = payload.get("sub") if payload else None
    return sub


def get_scopes() -> frozenset[str]:
    """The scopes the current request's credentials grant (``scope`` / ``scp`` claims)."""
    from .security.guard import scopes_of

    return scopes_of(get_token_payload())


def get_user_token() -> str | None:
    """The current request's verified token (to forward it), or None."""
    token: str | None = g.get("pym_token") if has_request_context() else None
    return token


def backend_token(
    user_id: str | None = None, data: Claims | None = None, expire_in: int = 300
) -> str:
    """A short-lived token for service-to-service calls (``sub`` = the service name)."""
    conf = get_config()
    return generate_token(
        user_id or conf.default_user_id or conf.name, data=data, expire_in=expire_in
    )


@overload
def add_auth(target: Headers) -> Headers: ...
@overload
def add_auth(target: Callable[..., R]) -> Callable[..., R]: ...
def add_auth(target: Headers | Callable[..., R]) -> Headers | Callable[..., R]:
    """``x-decorate-request``: send the caller's token (else a backend token) to the callee.

    As in the original, it decorates the function that sends the request
    (``send(url, headers=..., ...)``); given a headers dict instead, it adds the header to
    it and returns it. An ``Authorization`` header the caller set explicitly is kept.
    A request authenticated otherwise (API key, Basic) sends a backend token whose ``sub``
    is that user. Without a request token and without ``jwt_secret`` no header is added.
    """
    if isinstance(target, dict):
        return _auth_headers(target)

    send = target

    @functools.wraps(send)
    def send_with_auth(*args: Any, **kwargs: Any) -> R:  # requests' send(url, headers=...)
        kwargs["headers"] = _auth_headers(dict(kwargs.get("headers") or {}))
        return send(*args, **kwargs)

    return send_with_auth


def _auth_headers(headers: Headers) -> Headers:
    if any(k.lower() == "authorization" for k in headers):
        return headers
    token = get_user_token()
    if not token:
        try:  # an API key or Basic user is forwarded as a backend token in their name
            token = backend_token(get_userid())
        except Exception:  # no pym-config or no jwt_secret: nothing to sign with
            token = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers
