"""Clients: ``ApiPool.<api>.client.<name>(...)`` for every operation with ``x-bind-client``.

A call marshals its arguments the way the spec says (the body model as the single positional
argument, path/query/header/form parameters as keyword arguments), sends the request with
the configured timeouts and safe retries, validates the reply and returns a model (or a list
of models). An error -- the other service's error reply, a connection failure, a timeout,
a reply that does not match the spec -- is *returned* as an Error model (``is_error()`` is
true) unless the call (or ``ApiPool.add(name, raise_on_error=True)``) asks to raise it.

Where a client calls, first match wins:

1. ``PYM_CLIENT_<API>_URL`` (``PYM_CLIENT_DELIVERY_URL=http://127.0.0.1:9001``);
2. ``ApiPool.add(name, host=..., port=..., proto=..., **settings)``;
3. pym-config ``clients: {<api>: {host, port, proto, verify_ssl, ...}}``;
4. the spec's ``host``, ``schemes`` and ``basePath``.

Timeouts and retries come from pym-config (``client_connect_timeout``,
``client_read_timeout``, ``client_retries``, ``client_retry_backoff``, or the same keys
per API under ``clients``), overridable per call. Retries only where safe: a connection
that could not be made is retried for any method; a read timeout or a dropped connection
only for GET, HEAD, PUT, DELETE and OPTIONS -- never a POST (or PATCH) that may have
reached the server.

Options every call accepts (unless the operation has a parameter of the same name):
``raise_on_error``, ``timeout`` (seconds, or a (connect, read) pair), ``connect_timeout``,
``read_timeout``, ``retries``, ``request_headers`` (a dict of extra headers),
``content_type`` (OpenAPI 3: which declared media type the body is sent as; by default
JSON when declared, else a form, else multipart -- multipart first when the body holds
files). OpenAPI 3 parameters are written by their style and explode, cookies as one
``Cookie`` header, replies decoded by their media type (client/oas3.py).

``x-decorate-request: pkg.func`` wraps the function that sends the request, as in the
original: ``func(send)`` returns a function called as ``send(url, headers=..., params=...,
data=..., timeout=..., verify=...)`` (requests' signature) that returns the response.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..exceptions import StartupError
from ..spec.nametable import NameTable
from ..spec.yamlfile import display_path
from .operation import OPTIONS, ClientOperation
from .settings import ClientConfigError, base_url, client_settings, env_url_name
from .transport import (
    IDEMPOTENT,
    DownstreamBadResponseError,
    DownstreamError,
    DownstreamTimeoutError,
    DownstreamUnavailableError,
    error_to_exception,
    failure_kind,
    failure_reason,
)

if TYPE_CHECKING:  # ApiPool's Api, as a type only (apipool builds the clients)
    from ..apipool import Api
    from ..spec.models import PyMacaronModel

__all__ = [
    "OPTIONS",
    "IDEMPOTENT",
    "ApiClient",
    "ClientConfigError",
    "ClientOperation",
    "DownstreamBadResponseError",
    "DownstreamError",
    "DownstreamTimeoutError",
    "DownstreamUnavailableError",
    "base_url",
    "build_client",
    "client_settings",
    "env_url_name",
    "error_to_exception",
    "failure_kind",
    "failure_reason",
]


class ApiClient(NameTable[ClientOperation]):
    """``ApiPool.<api>.client``: one callable per ``x-bind-client`` operation."""

    def __init__(self, api: Api, operations: dict[str, ClientOperation]):
        super().__init__(operations)
        self._api = api

    def _missing(self, name: str, known: str) -> str:
        return (
            f"ApiPool.{self._api.name}.client has no {name!r} (x-bind-client names in "
            f"{display_path(self._api.spec.path)}: "
            f"{known or 'none: add x-bind-client to operations'})"
        )

    def __repr__(self) -> str:
        return f"<ApiClient {self._api.name}: {', '.join(sorted(self._items))}>"


def build_client(
    api: Api, fallback_error_model: Callable[[], type[PyMacaronModel]] | None = None
) -> ApiClient:
    """The client of ``api``: a :class:`ClientOperation` per ``x-bind-client`` name.

    ``fallback_error_model()`` returns the Error model used when the API's own ``Error``
    definition lacks pymacaron's error fields (ApiPool passes its built-in one).
    """
    operations: dict[str, ClientOperation] = {}
    for op in api.spec.operations:
        name = op.x("bind-client")
        if not name:
            continue
        if not isinstance(name, str) or not name.isidentifier():
            raise StartupError(
                f"x-bind-client must be a Python identifier, got {name!r}",
                file=display_path(api.spec.path),
                location=op.label,
            )
        if name in operations:
            raise StartupError(
                f"x-bind-client {name!r} is also used by {operations[name].op.label}",
                location=op.label,
            )
        operations[name] = ClientOperation(api, op, name, fallback_error_model)
    return ApiClient(api, operations)
