"""The errors of authentication and authorization (401, 403, 503); never carry a credential.

Declared in :mod:`pymacaron.exceptions`, the one list of the codes pymacaron returns.
"""

from __future__ import annotations

from ..exceptions import (
    AuthInvalidTokenError,
    AuthMissingHeaderError,
    AuthTokenExpiredError,
    AuthUnavailableError,
    CredentialsInvalidError,
    CredentialsMissingError,
    ForbiddenScopeError,
)

__all__ = [
    "AuthMissingHeaderError",
    "AuthInvalidTokenError",
    "AuthTokenExpiredError",
    "CredentialsMissingError",
    "CredentialsInvalidError",
    "ForbiddenScopeError",
    "AuthUnavailableError",
    "rank",
]

_MISSING = (AuthMissingHeaderError, CredentialsMissingError)


def rank(error: Exception) -> int:
    """Which failure of several alternatives is reported: a verified identity lacking a
    scope (403) > an identity provider we could not reach (503) > a credential that was
    given but is wrong (401) > no credential at all (401)."""
    if isinstance(error, ForbiddenScopeError):
        return 3
    if isinstance(error, AuthUnavailableError):
        return 2
    if isinstance(error, _MISSING):
        return 0
    return 1
