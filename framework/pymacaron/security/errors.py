"""The errors of authentication and authorization (401, 403, 503); never carry a credential."""

from __future__ import annotations

from ..exceptions import (
    AuthInvalidTokenError,
    AuthMissingHeaderError,
    AuthTokenExpiredError,
    add_error,
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

# No credential of a scheme the operation accepts (API key, basic, cookie...).
CredentialsMissingError = add_error("CredentialsMissingError", "CREDENTIALS_MISSING", 401)
# A credential was given but the scheme's check refused it.
CredentialsInvalidError = add_error("CredentialsInvalidError", "CREDENTIALS_INVALID", 401)
# A verified identity that lacks a scope the operation requires.
ForbiddenScopeError = add_error("ForbiddenScopeError", "FORBIDDEN_SCOPE", 403)
# The identity provider (its JWKS) could not be reached: retry later.
AuthUnavailableError = add_error("AuthUnavailableError", "AUTH_UNAVAILABLE", 503)

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
