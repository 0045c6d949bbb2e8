"""Errors a service raises or returns, and the errors that stop it from starting.

Every error a pymacaron service returns has one JSON shape::

    {"status": 401, "error": "TOKEN_INVALID", "error_description": "...",
     "error_id": "<uuid4>", "user_message": "..."}   # user_message only when set

Raise a :class:`PyMacaronException` (or a class made with :func:`add_error`) from a
handler and the framework turns it into that reply.
"""

from __future__ import annotations

import uuid
from typing import Any

from .error_body import error_body

__all__ = [
    "PyMacaronException",
    "StartupError",
    "add_error",
    "is_error",
    "error_body",
    "UnhandledServerError",
    "InternalServerError",
    "InvalidParameterError",
    "ValidationError",
    "AuthMissingHeaderError",
    "AuthTokenExpiredError",
    "AuthInvalidTokenError",
    "BadResponseError",
    "NotFoundError",
    "MethodNotAllowedError",
    "RequestTooLargeError",
]

# code -> exception class, so a downstream error can be re-raised as its own class.
code_to_class: dict[str, type[PyMacaronException]] = {}


class PyMacaronException(Exception):
    """Base class of the errors a handler raises; it becomes a JSON error reply.

    Subclasses set ``code`` (an UPPER_SNAKE identifier) and ``status`` (an HTTP status).
    """

    code = "UNHANDLED_SERVER_ERROR"
    status = 500
    error_id: str | None = None
    user_message: str | None = None
    error_caught: BaseException | None = None

    def __init__(
        self,
        message: str = "",
        *,
        error_id: str | None = None,
        user_message: str | None = None,
        status: int | None = None,
        code: str | None = None,
        caught: BaseException | None = None,
    ):
        super().__init__(message)
        self.message = message or self.code
        self.error_id = error_id or str(uuid.uuid4())
        if user_message is not None:
            self.user_message = user_message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        if caught is not None:
            self.error_caught = caught

    def to_dict(self) -> dict[str, Any]:
        """The error reply's body."""
        return error_body(self.status, self.code, self.message, self.error_id, self.user_message)

    def is_error(self) -> bool:
        return True

    def __str__(self) -> str:
        return self.message


def add_error(name: str, code: str, status: int) -> type[PyMacaronException]:
    """Create (and register) an exception class, as the original pymacaron did.

    ``MyError = add_error("MyError", "MY_ERROR", 400)`` then ``raise MyError("why")``.
    The class is also reachable as ``pymacaron.exceptions.<name>``.
    """
    if not name or not code or not status:
        raise ValueError("add_error() needs a name, a code and a status")
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"add_error({name!r}): status must be an HTTP status code, got {status!r}")
    existing = code_to_class.get(code)
    if existing is not None:
        if existing.__name__ == name and existing.status == status:
            return existing
        raise ValueError(
            f"add_error({name!r}): error code {code!r} is already defined by {existing.__name__}"
        )
    cls = type(name, (PyMacaronException,), {"code": code, "status": status})
    cls.__module__ = __name__
    code_to_class[code] = cls
    globals()[name] = cls
    return cls


def is_error(o: object) -> bool:
    """True for an exception of ours, an Error model or an error reply body."""
    if isinstance(o, PyMacaronException):
        return True
    method = getattr(o, "is_error", None)
    if callable(method):
        try:
            return bool(method())
        except TypeError:
            return False
    if isinstance(o, dict):
        return isinstance(o.get("error"), str) and isinstance(o.get("status"), int)
    return False


class StartupError(Exception):
    """The service cannot start: a broken config, spec or binding.

    ``file`` and ``location`` (a key path, JSON path or ``line N``) say where.
    """

    def __init__(self, message: str, file: str | None = None, location: str | None = None):
        self.file = file
        self.location = location
        self.detail = message
        where = ": ".join(str(p) for p in (file, location) if p)
        super().__init__(f"{where}: {message}" if where else message)


UnhandledServerError = add_error("UnhandledServerError", "UNHANDLED_SERVER_ERROR", 500)
InternalServerError = add_error("InternalServerError", "SERVER_ERROR", 500)
InvalidParameterError = add_error("InvalidParameterError", "INVALID_PARAMETER", 400)
ValidationError = InvalidParameterError
AuthMissingHeaderError = add_error("AuthMissingHeaderError", "AUTHORIZATION_HEADER_MISSING", 401)
AuthTokenExpiredError = add_error("AuthTokenExpiredError", "TOKEN_EXPIRED", 401)
AuthInvalidTokenError = add_error("AuthInvalidTokenError", "TOKEN_INVALID", 401)
BadResponseError = add_error("BadResponseError", "BAD_RESPONSE", 500)
NotFoundError = add_error("NotFoundError", "NOT_FOUND", 404)
MethodNotAllowedError = add_error("MethodNotAllowedError", "METHOD_NOT_ALLOWED", 405)
RequestTooLargeError = add_error("RequestTooLargeError", "REQUEST_TOO_LARGE", 413)

# The errors of the framework's packages are declared here too, so this is the one list of
# the codes pymacaron returns; each package re-exports its own from its ``errors`` module.

# pymacaron.security: authentication and authorization (401, 403, 503).
# No credential of a scheme the operation accepts (API key, basic, cookie...).
CredentialsMissingError = add_error("CredentialsMissingError", "CREDENTIALS_MISSING", 401)
# A credential was given but the scheme's check refused it.
CredentialsInvalidError = add_error("CredentialsInvalidError", "CREDENTIALS_INVALID", 401)
# A verified identity that lacks a scope the operation requires.
ForbiddenScopeError = add_error("ForbiddenScopeError", "FORBIDDEN_SCOPE", 403)
# The identity provider (its JWKS) could not be reached: retry later.
AuthUnavailableError = add_error("AuthUnavailableError", "AUTH_UNAVAILABLE", 503)

# pymacaron.client: calling another service.
# The service could not be reached or the connection failed (after the retries allowed).
DownstreamUnavailableError = add_error("DownstreamUnavailableError", "DOWNSTREAM_UNAVAILABLE", 503)
# It did not answer in time.
DownstreamTimeoutError = add_error("DownstreamTimeoutError", "DOWNSTREAM_TIMEOUT", 504)
# Its reply does not match its spec.
DownstreamBadResponseError = add_error("DownstreamBadResponseError", "DOWNSTREAM_BAD_RESPONSE", 502)
# An error status without a pymacaron error body (its own status kept when >= 400).
DownstreamError = add_error("DownstreamError", "DOWNSTREAM_ERROR", 502)

# pymacaron.persist: the errors a persisted model raises.
# save()/delete() of an item that changed since it was loaded (or a new item whose key exists).
PersistConflictError = add_error("PersistConflictError", "PERSIST_CONFLICT", 409)
# The store cannot be reached, is throttling, or the table does not exist: retry later.
PersistUnavailableError = add_error("PersistUnavailableError", "PERSIST_UNAVAILABLE", 503)
# A stored row (or a model being saved) that the definition does not accept: a server bug.
PersistInvalidItemError = add_error("PersistInvalidItemError", "PERSIST_INVALID_ITEM", 500)
# A pagination token that this table did not hand out (a client mistake).
PersistPageTokenError = add_error("PersistPageTokenError", "INVALID_PAGE_TOKEN", 400)
