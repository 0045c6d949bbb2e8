"""Enforcing an operation's declared security before its parameters and body are read.

:func:`guard_for` reads the operation's requirements (spec.py) at startup and binds a
verifier to every scheme they name -- fail closed: a scheme nothing can verify refuses
startup with one line naming the operation and the scheme, unless pym-config says
``security: off`` (never on live). At request time the :class:`Guard` tries the
alternatives (OR), each scheme of one alternative must pass (AND), and the verified
identity is stored where ``get_userid()`` / ``get_token_payload()`` / ``get_scopes()``
read it.

Verifiers: a bearer JWT (http bearer, a 2.0 apiKey in ``Authorization``, oauth2,
openIdConnect) by the JWT settings (tokens.py); any scheme by a function the user names
(``x-pym-apikey-check`` / ``x-pym-basic-check`` / ``x-pym-bearer-check`` on the scheme, or
pym-config ``security_checks: {scheme: module.function}``), which is given the API key,
(username, password) or bearer token and returns the identity: a dict of claims, a user
id, True (anonymous but allowed) or a false value (refused).
"""

from __future__ import annotations

import base64
import binascii
import logging

from flask import g, has_request_context, request

from ..exceptions import PyMacaronException, StartupError
from ..spec.binding import import_dotted
from ..spec.styles import parse_cookies
from ..spec.yamlfile import display_path
from .errors import (
    AuthInvalidTokenError,
    AuthMissingHeaderError,
    CredentialsInvalidError,
    CredentialsMissingError,
    ForbiddenScopeError,
    rank,
)
from .spec import Scheme, SchemeError, requirements_of, schemes_of
from .tokens import configured, settings_problem, verifier_for

log = logging.getLogger("pymacaron")

__all__ = ["Guard", "current_claims", "guard_for", "scopes_of", "security_off"]

_CHECK_KEYS = {"apikey": "apikey-check", "basic": "basic-check"}
_WARNED: set = set()
MAX_CREDENTIAL = 8192


def security_off(conf) -> bool:
    value = conf.get("security")
    return value is False or value == "off"


def current_claims() -> dict | None:
    """The verified claims of the current request's token (``flask.g``), or None."""
    return g.get("pym_token_payload") if has_request_context() else None


def scopes_of(claims: dict | None) -> frozenset:
    """The scopes a token grants: ``scope`` (space-separated) or ``scp`` (list or string)."""
    if not claims:
        return frozenset()
    out: set = set()
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            out.update(value.split())
        elif isinstance(value, list):
            out.update(v for v in value if isinstance(v, str))
    return frozenset(out)


def _identity(result) -> dict | None:
    """A user function's answer as claims (None: refused)."""
    if result is None or result is False:
        return None
    if result is True:
        return {}
    if isinstance(result, dict):
        return result
    if isinstance(result, str) and result:
        return {"sub": result}
    return None


class _Check:
    """One scheme of one alternative: reads its credential, returns the claims."""

    jwt = False

    def __init__(self, scheme: Scheme, scopes: tuple[str, ...]):
        self.scheme = scheme
        self.scopes = scopes

    def require_scopes(self, claims: dict) -> None:
        if not self.scopes:
            return
        granted = scopes_of(claims)
        for scope in self.scopes:
            if scope not in granted:
                raise ForbiddenScopeError(
                    f"the token does not grant the scope {scope!r} "
                    f"(required by security scheme {self.scheme.name!r})"
                )


def _bearer_token() -> str:
    # WSGI gives one HTTP_AUTHORIZATION (a repeated header arrives joined by ", ": refused)
    header = request.environ.get("HTTP_AUTHORIZATION")
    if not header or not header.strip():
        raise AuthMissingHeaderError("there is no Authorization header in the request")
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise AuthInvalidTokenError("the Authorization header must be 'Bearer <token>'")
    return parts[1]


class _Jwt(_Check):
    jwt = True

    def __init__(self, scheme, scopes, verifier):
        super().__init__(scheme, scopes)
        self.verifier = verifier

    def __call__(self):
        token = _bearer_token()
        if g.get("pym_token") == token:  # the same token, verified by another scheme
            claims = g.pym_token_payload
        else:
            claims = self.verifier.decode(token)
        self.require_scopes(claims)
        return claims, token


class _UserCheck(_Check):
    def __init__(self, scheme, scopes, function):
        super().__init__(scheme, scopes)
        self.function = function

    def credential(self):
        s = self.scheme
        if s.kind == "apikey":
            if s.where == "query":
                value = request.args.get(s.param)
            elif s.where == "cookie":
                values = parse_cookies(request.environ.get("HTTP_COOKIE")).get(s.param)
                value = values[0] if values else None
            else:
                value = request.headers.get(s.param)
            if not value:
                raise CredentialsMissingError(
                    f"the API key is missing ({s.where} {s.param!r}, security scheme {s.name!r})"
                )
            if len(value) > MAX_CREDENTIAL:
                raise CredentialsInvalidError("the API key is too long")
            return (value,)
        if s.kind == "basic":
            header = request.environ.get("HTTP_AUTHORIZATION") or ""
            if not header.strip():
                raise AuthMissingHeaderError("there is no Authorization header in the request")
            parts = header.split()
            if len(parts) != 2 or parts[0].lower() != "basic" or len(parts[1]) > MAX_CREDENTIAL:
                raise CredentialsInvalidError(
                    "the Authorization header must be 'Basic <credentials>'"
                )
            try:
                user, sep, password = (
                    base64.b64decode(parts[1], validate=True).decode().partition(":")
                )
            except (binascii.Error, UnicodeDecodeError):
                raise CredentialsInvalidError(
                    "the Basic credentials are not base64 of user:password"
                ) from None
            if not sep:
                raise CredentialsInvalidError(
                    "the Basic credentials are not base64 of user:password"
                )
            return (user, password)
        return (_bearer_token(),)

    def __call__(self):
        args = self.credential()
        claims = _identity(self.function(*args))
        if claims is None:
            if self.scheme.kind in ("apikey", "basic"):
                raise CredentialsInvalidError(
                    f"the credentials of security scheme {self.scheme.name!r} are not valid"
                )
            raise AuthInvalidTokenError("token is not valid")
        self.require_scopes(claims)
        token = args[0] if self.scheme.kind not in ("apikey", "basic") else None
        return claims, token


class Guard:
    """The security of one operation, called first in the request pipeline."""

    __slots__ = ("alternatives", "optional")

    def __init__(self, alternatives: list[tuple[_Check, ...]], optional: bool):
        self.alternatives = alternatives
        self.optional = optional

    def __call__(self) -> None:
        worst = None
        for checks in self.alternatives:
            try:
                found = [check() for check in checks]
            except PyMacaronException as e:  # a 401/403/503 of ours; else a bug (500)
                if e.status not in (401, 403, 503):
                    raise
                if worst is None or rank(e) > rank(worst):
                    worst = e
                continue
            self._store(found)
            return
        if self.optional and (worst is None or rank(worst) == 0):
            return
        raise worst

    @staticmethod
    def _store(found) -> None:
        claims, token = None, None
        for c, t in found:
            if t is not None and token is None:
                claims, token = c, t
            elif claims is None and c:
                claims = c
        if token is not None:
            g.pym_token = token
        g.pym_token_payload = claims if claims is not None else {}


def _user_function(scheme: Scheme, conf):
    named = (conf.get("security_checks") or {}).get(scheme.name)
    source = "pym-config security_checks"
    if not named:
        named = scheme.x(f"pym-{_CHECK_KEYS.get(scheme.kind, 'bearer-check')}")
        source = f"x-pym-{_CHECK_KEYS.get(scheme.kind, 'bearer-check')}"
    if not named:
        return None, None
    try:
        function = import_dotted(named)
    except Exception as e:
        return None, f"{source} {named!r} does not import: {type(e).__name__}: {e}"
    if not callable(function):
        return None, f"{source} {named!r} is not callable"
    return function, None


def _hint(scheme: Scheme) -> str:
    if scheme.kind in ("bearer", "oauth2", "oidc"):
        return "set jwt_secret or jwt_jwks_url in pym-config (or name a check in security_checks)"
    if scheme.kind == "apikey":
        return "name a function in x-pym-apikey-check or pym-config security_checks"
    if scheme.kind == "basic":
        return "name a function in x-pym-basic-check or pym-config security_checks"
    return "pymacaron cannot verify it: name a function in pym-config security_checks"


def guard_for(op, api, conf) -> Guard | None:
    """The guard of ``op`` (None when it declares no security); raises StartupError when a
    scheme it names has no verifier."""
    where = display_path(api.path)
    if callable(getattr(conf, "get", None)) and configured(conf):
        problem = settings_problem(conf)  # every service: requires_auth reads them too
        if problem:
            raise StartupError(problem, file=conf.path, location="jwt settings")
    document = api.document if api.document is not None else api.spec
    dialect = getattr(api, "dialect", None) or "swagger2"
    try:
        alternatives = requirements_of(op.operation, document, schemes_of(document, dialect))
    except SchemeError as e:
        raise StartupError(str(e), file=where, location=op.label) from None
    if not alternatives:
        return None
    if security_off(conf):
        if conf.pym_env == "live":
            raise StartupError(
                "security: off is for development only; it is refused on live",
                file=conf.path,
                location="key 'security'",
            )
        if api.path not in _WARNED:
            _WARNED.add(api.path)
            log.warning(
                "SECURITY IS OFF (pym-config security: off): %s serves every operation "
                "WITHOUT checking its declared security schemes",
                where,
            )
        return None
    optional = any(not alt for alt in alternatives)
    checks_of = []
    for alternative in alternatives:
        if not alternative:
            continue
        checks = []
        for scheme, scopes in alternative:
            function, problem = _user_function(scheme, conf)
            if problem:
                raise StartupError(
                    f"security scheme {scheme.name!r}: {problem}", file=where, location=op.label
                )
            if function is not None:
                checks.append(_UserCheck(scheme, scopes, function))
                continue
            if scheme.kind in ("bearer", "oauth2", "oidc") and configured(conf):
                checks.append(_Jwt(scheme, scopes, verifier_for(conf)))
                continue
            raise StartupError(
                f"security scheme {scheme.name!r} ({scheme.description}) has no verifier: "
                f"{_hint(scheme)}",
                file=where,
                location=op.label,
            )
        checks_of.append(tuple(checks))
    return Guard(checks_of, optional)
