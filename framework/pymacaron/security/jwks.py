"""An identity provider's signing keys: a JWKS document fetched from the URL the config
names (``jwt_jwks_url``, or the ``jwks_uri`` of ``jwt_issuer``'s OpenID discovery document),
cached ``ttl`` seconds, fetched again on an unknown ``kid`` at most every
:data:`MIN_REFETCH` seconds. Every fetch is bounded (``timeout`` per read and in total,
:data:`MAX_BYTES`), follows no redirect, and a failure is :class:`AuthUnavailableError`
(503): never "valid". Keys come only from there: a token's ``jku``/``x5u``/``x5c`` are
never read.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from .errors import AuthInvalidTokenError, AuthUnavailableError

log = logging.getLogger("pymacaron")

__all__ = ["KeySet", "check_url", "MIN_REFETCH", "MAX_BYTES"]

MIN_REFETCH = 5.0  # seconds between two fetches triggered by unknown kids or failures
MAX_BYTES = 512 * 1024
MAX_KEYS = 64
STALE_GRACE = 24 * 3600  # keys past their TTL still verify while the provider is down
_KTY_OF = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
_CURVE_OF = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}


def check_url(url: str, key: str) -> str | None:
    """Why ``url`` cannot be a key source (https, or http to this machine only), or None."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        return None
    return f"{key} must be an https:// URL (http:// only for 127.0.0.1/localhost), got {url!r}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, "redirects are not followed", headers, fp)


_OPENER = urllib.request.build_opener(_NoRedirect)


def fetch_json(url: str, timeout: float) -> dict:
    """GET ``url`` as a JSON object within ``timeout`` seconds and MAX_BYTES; raises
    ValueError with a one-line reason (no response content in it)."""
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with _OPENER.open(request, timeout=timeout) as reply:
            if reply.status != 200:
                raise ValueError(f"{url} answered {reply.status}")
            chunks, size = [], 0
            while True:
                if time.monotonic() > deadline:
                    raise ValueError(f"{url} took more than {timeout:g}s")
                chunk = reply.read(16384)
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_BYTES:
                    raise ValueError(f"{url} sent more than {MAX_BYTES} bytes")
                chunks.append(chunk)
    except urllib.error.HTTPError as e:
        raise ValueError(f"{url} answered {e.code}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise ValueError(f"{url} is unreachable ({type(reason).__name__})") from None
    try:
        doc = json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"{url} did not send JSON") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{url} did not send a JSON object")
    return doc


def _parse_keys(doc: dict, url: str) -> dict[str | None, dict]:
    keys = doc.get("keys")
    if not isinstance(keys, list) or not keys:
        raise ValueError(f"{url} is not a JWKS document (no 'keys' list)")
    out: dict[str | None, dict] = {}
    for jwk in keys[:MAX_KEYS]:
        if not isinstance(jwk, dict) or jwk.get("kty") not in ("RSA", "EC", "OKP"):
            continue
        if jwk.get("use") not in (None, "sig"):
            continue
        kid = jwk.get("kid")
        if kid is not None and not isinstance(kid, str):
            continue
        out[kid] = jwk
    if not out:
        raise ValueError(f"{url} publishes no signing key (RSA, EC or OKP with use 'sig')")
    return out


class KeySet:
    """The signing keys of one identity provider, shared by the threads of a worker."""

    def __init__(self, url: str | None, issuer: str | None, ttl: float, timeout: float):
        self.url = url  # None: discover it from the issuer
        self.issuer = issuer
        self.ttl = ttl
        self.timeout = timeout
        self.keys: dict[str | None, dict] | None = None
        self.parsed: dict[tuple, object] = {}
        self.fetched_at = 0.0
        self.attempted_at = -MIN_REFETCH
        self.fetches = 0
        self.lock = threading.Lock()

    # -- fetching ----------------------------------------------------------------------
    def _jwks_url(self) -> str:
        if self.url:
            return self.url
        where = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        doc = fetch_json(where, self.timeout)
        if doc.get("issuer") != self.issuer:
            raise ValueError(f"{where} names another issuer than jwt_issuer")
        uri = doc.get("jwks_uri")
        if not isinstance(uri, str) or check_url(uri, "jwks_uri"):
            raise ValueError(f"{where} has no usable https jwks_uri")
        self.url = uri
        return uri

    def _refresh(self) -> None:
        """Fetch the keys (one thread at a time); raises AuthUnavailableError when the
        provider is down and no keys are known (or the refresh was for an unknown kid)."""
        with self.lock:
            if time.monotonic() - self.attempted_at < MIN_REFETCH:
                return  # another thread fetched while this one waited
            self.attempted_at = time.monotonic()
            self.fetches += 1
            try:
                url = self._jwks_url()
                keys = _parse_keys(fetch_json(url, self.timeout), url)
            except ValueError as e:
                log.warning("AUTH_UNAVAILABLE: the identity provider's keys: %s", e)
                raise AuthUnavailableError(
                    "the identity provider's keys cannot be fetched: retry later"
                ) from None
            self.keys = keys
            self.parsed = {}
            self.fetched_at = time.monotonic()

    def key_for(self, kid, alg: str):
        """The public key that verifies a token signed with ``alg`` under ``kid``."""
        now = time.monotonic()
        if self.keys is None or now - self.fetched_at > self.ttl:
            if now - self.attempted_at >= MIN_REFETCH:
                try:
                    self._refresh()
                except AuthUnavailableError:
                    if self.keys is None or now - self.fetched_at > self.ttl + STALE_GRACE:
                        raise
            if self.keys is None:  # the last attempt failed moments ago
                raise AuthUnavailableError(
                    "the identity provider's keys cannot be fetched: retry later"
                )
        jwk = self._find(kid)
        if jwk is None and time.monotonic() - self.attempted_at >= MIN_REFETCH:
            self._refresh()  # a rotation: the provider may publish it now
            jwk = self._find(kid)
        if jwk is None:
            raise AuthInvalidTokenError(
                "token is signed with a key the identity provider does not publish"
            )
        return self._key(jwk, kid, alg)

    def _find(self, kid):
        keys = self.keys or {}
        if kid is None:
            return next(iter(keys.values())) if len(keys) == 1 else None
        return keys.get(kid) if isinstance(kid, str) else None

    def _key(self, jwk: dict, kid, alg: str):
        cached = self.parsed.get((kid, alg))
        if cached is not None:
            return cached
        if jwk.get("alg") not in (None, alg) or jwk.get("kty") != _KTY_OF.get(alg[:2]):
            raise AuthInvalidTokenError(f"token's key is not an {alg} key")
        if alg in _CURVE_OF and jwk.get("crv") != _CURVE_OF[alg]:
            raise AuthInvalidTokenError(f"token's key is not an {alg} key")
        from jwt.algorithms import get_default_algorithms

        try:
            key = get_default_algorithms()[alg].from_jwk(json.dumps(jwk))
        except Exception:  # a malformed published key: the provider's fault, not the token's
            raise AuthInvalidTokenError(
                f"the provider's key for this token is not an {alg} key"
            ) from None
        self.parsed[(kid, alg)] = key
        return key
