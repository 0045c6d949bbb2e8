"""Security as the spec declares it: schemes and requirements (spec.py), the per-operation
guard (guard.py), JWT verification (tokens.py) with identity providers' keys (jwks.py).
docs/auth.md is the user's guide."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from .errors import AuthUnavailableError, ForbiddenScopeError
from .guard import Guard, current_claims, guard_for, scopes_of

__all__ = [
    "guard_for",
    "Guard",
    "get_scopes",
    "constant_time_equals",
    "key_in",
    "ForbiddenScopeError",
    "AuthUnavailableError",
]


def get_scopes() -> frozenset[str]:
    """The scopes granted to the current request (``scope``/``scp`` of its verified claims)."""
    return scopes_of(current_claims())


def constant_time_equals(given: str | bytes | None, expected: str | bytes | None) -> bool:
    """``given == expected`` in time independent of where they differ (str or bytes)."""
    if isinstance(given, str):
        given = given.encode()
    if isinstance(expected, str):
        expected = expected.encode()
    if not isinstance(given, bytes) or not isinstance(expected, bytes):
        return False
    return hmac.compare_digest(given, expected)


def key_in(given: str | bytes | None, expected_keys: Iterable[str | bytes]) -> bool:
    """True when ``given`` equals one of ``expected_keys``, each compared in constant time
    (all of them are compared, so the time does not tell which one matched)."""
    found = False
    for expected in expected_keys:
        found |= constant_time_equals(given, expected)
    return found
