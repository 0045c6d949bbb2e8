"""Verifying a JWT as the config says: HS256 with ``jwt_secret`` and/or the asymmetric
algorithms of an identity provider's JWKS (jwks.py).

The algorithm allow-list comes from the config (``jwt_algorithms``; by default HS256 when
``jwt_secret`` is set, RS256/384/512, PS256, ES256/384 and EdDSA when a JWKS is), never
from the token: an HS* token is checked only against ``jwt_secret``, any other only against
a published key of its own type. ``iss``, ``aud`` (or ``jwt_audience_claim``), ``exp``,
``nbf`` and ``iat`` are checked with ``jwt_leeway`` seconds (at most 300) of clock skew.
"""

from __future__ import annotations

import base64
import binascii
import importlib.util
import json
import threading
import weakref

from .errors import AuthInvalidTokenError, AuthTokenExpiredError, AuthUnavailableError

__all__ = ["Verifier", "verifier_for", "settings_problem", "MAX_TOKEN_LENGTH", "ASYMMETRIC"]

MAX_TOKEN_LENGTH = 8192
MAX_LEEWAY = 300
SYMMETRIC = ("HS256", "HS384", "HS512")
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
DEFAULT_ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")


def _jwt():
    """PyJWT, imported on the first token checked (decisions.md: workers stay lean)."""
    import jwt

    return jwt


def _jwks_configured(conf) -> bool:
    return bool(conf.get("jwt_jwks_url") or conf.get("jwt_discovery"))


def configured(conf) -> bool:
    """True when the config can verify a bearer JWT."""
    return bool(conf.get("jwt_secret")) or _jwks_configured(conf)


def settings_problem(conf) -> str | None:
    """Why the config's JWT settings cannot work (one line), or None."""
    if not _jwks_configured(conf):
        return None
    from .jwks import check_url  # urllib.request: only for a service with a JWKS

    url = conf.get("jwt_jwks_url")
    if url:
        problem = check_url(url, "jwt_jwks_url")
        if problem:
            return problem
    issuer = conf.get("jwt_issuer")
    if conf.get("jwt_discovery") and not issuer:
        return "jwt_discovery needs jwt_issuer (the identity provider's issuer URL)"
    if conf.get("jwt_discovery") and not url:
        problem = check_url(issuer, "jwt_issuer")
        if problem:
            return problem
    if not issuer or not conf.get("jwt_audience"):
        return (
            "a JWKS needs jwt_issuer and jwt_audience: every API of that identity provider "
            "has tokens signed with the same keys"
        )
    if importlib.util.find_spec("cryptography") is None:
        return "verifying JWKS-signed tokens needs the 'cryptography' package (pymacaron[jwks])"
    return None


class Verifier:
    """Checks tokens for one service's settings; holds its JWKS cache."""

    def __init__(self, conf):
        self.secret = conf.get("jwt_secret") or None
        self.audience = conf.get("jwt_audience") or None
        self.audience_claim = conf.get("jwt_audience_claim") or "aud"
        self.issuer = conf.get("jwt_issuer") or None
        self.leeway = max(0, min(int(conf.get("jwt_leeway") or 0), MAX_LEEWAY))
        self.keys = None
        self._hmac_keys: dict = {}
        self.problem = settings_problem(conf)  # startup refuses these (guard.py); never fetch
        if _jwks_configured(conf) and not self.problem:
            from .jwks import KeySet

            self.keys = KeySet(
                conf.get("jwt_jwks_url") or None,
                self.issuer,
                ttl=float(conf.get("jwt_jwks_ttl") or 600),
                timeout=float(conf.get("jwt_jwks_timeout") or 3),
            )
        allowed = conf.get("jwt_algorithms")
        if not allowed:
            allowed = (SYMMETRIC[:1] if self.secret else ()) + (
                DEFAULT_ASYMMETRIC if self.keys else ()
            )
        self.algorithms = tuple(
            a
            for a in allowed
            if (a in SYMMETRIC and self.secret) or (a in ASYMMETRIC and self.keys)
        )

    def decode(self, token: str) -> dict:
        """Verify ``token`` and return its claims; raises a 401 error (503 when the
        identity provider's keys cannot be fetched)."""
        if self.problem:
            raise AuthUnavailableError(f"pym-config: {self.problem}")
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise AuthInvalidTokenError("token is empty or too long")
        jwt = _jwt()
        header = _header(token)
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise AuthInvalidTokenError(f"token is not signed with {' or '.join(self.algorithms)}")
        if alg in SYMMETRIC:
            key = self._hmac_keys.get(alg)
            if key is None:  # prepared once: PyJWT checks an HMAC secret on every use
                k = base64.urlsafe_b64encode(self.secret.encode()).rstrip(b"=").decode()
                key = self._hmac_keys[alg] = jwt.PyJWK({"kty": "oct", "k": k}, alg)
        else:
            kid = header.get("kid")
            if kid is not None and (not isinstance(kid, str) or len(kid) > 256):
                raise AuthInvalidTokenError("token's 'kid' header is not a key id")
            key = self.keys.key_for(kid, alg)
        return self._claims(jwt, token, key, alg)

    def _claims(self, jwt, token: str, key, alg: str) -> dict:
        required = ["exp", "sub"]
        check_aud = self.audience_claim == "aud"
        if self.audience and check_aud:
            required.append("aud")
        if self.issuer:
            required.append("iss")
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self.audience if check_aud else None,
                issuer=self.issuer,
                leeway=self.leeway,
                options={
                    "require": required,
                    "verify_iat": True,
                    "verify_nbf": True,
                    "verify_aud": check_aud,
                },
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
            raise AuthInvalidTokenError(f"token is not signed with {alg}") from None
        except jwt.PyJWTError:
            raise AuthInvalidTokenError("token is malformed") from None
        if not check_aud and self.audience and payload.get(self.audience_claim) != self.audience:
            raise AuthInvalidTokenError("token is for another audience")
        if not isinstance(payload.get("sub"), str):
            raise AuthInvalidTokenError("token 'sub' claim must be a string")
        return payload


def _header(token: str) -> dict:
    """The token's JOSE header, to choose the key (PyJWT checks the whole token after):
    decoding only the first segment, rather than PyJWT's full parse twice per request."""
    head, dot, _ = token.partition(".")
    if not dot or len(head) > 4096:
        raise AuthInvalidTokenError("token is malformed")
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, binascii.Error):
        raise AuthInvalidTokenError("token is malformed") from None
    if not isinstance(header, dict):
        raise AuthInvalidTokenError("token is malformed")
    return header


_VERIFIERS: dict[tuple, Verifier] = {}
_LOCK = threading.Lock()
_KEYS = (
    "jwt_secret",
    "jwt_audience",
    "jwt_audience_claim",
    "jwt_issuer",
    "jwt_leeway",
    "jwt_jwks_url",
    "jwt_discovery",
    "jwt_jwks_ttl",
    "jwt_jwks_timeout",
    "jwt_algorithms",
)


_BY_CONFIG: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def verifier_for(conf) -> Verifier:
    """The verifier of these settings (one per process and settings, so its JWKS cache is
    shared by every operation and thread)."""
    try:
        return _BY_CONFIG[conf]
    except (KeyError, TypeError):
        pass
    key = tuple(str(conf.get(k)) for k in _KEYS)
    with _LOCK:
        verifier = _VERIFIERS.get(key)
        if verifier is None:
            verifier = _VERIFIERS[key] = Verifier(conf)
    try:
        _BY_CONFIG[conf] = verifier
    except TypeError:  # not weak-referenceable (a test's stand-in)
        pass
    return verifier
