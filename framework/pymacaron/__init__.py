"""pymacaron: spec-first Python microservices.

Write Swagger 2.0 / OpenAPI 3 specs in ``apis/`` and plain Python handlers; pymacaron serves
them with request and response validation, typed models, uniform JSON errors and JWT auth.
A service's server.py::

    from pymacaron import create_app, run

    app = create_app(__file__)

    if __name__ == "__main__":
        run(app)

(or the v1 ``API``/``letsgo``). What a service writes is importable from here; every name
loads on first use (``import pymacaron`` alone imports no Flask).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import aliases

aliases.install()

__version__ = "3.1.0"

if TYPE_CHECKING:  # the names below, as a type checker sees them (all load on first use)
    from .api import API, letsgo
    from .apipool import ApiPool, load_clients
    from .app import create_app
    from .auth import (
        generate_token,
        get_token_payload,
        get_user_token,
        get_userid,
        requires_auth,
    )
    from .client import DownstreamUnavailableError, error_to_exception
    from .config import get_config
    from .exceptions import PyMacaronException, StartupError, add_error, is_error
    from .logs import get_request_id
    from .persist import PersistConflictError
    from .run import run  # to a type checker, `run` is what calling the package calls
    from .security import get_scopes, key_in
    from .server.layers import MiddlewarePosition
    from .spec.models import PyMacaronModel
    from .tasks import asynctask
    from .testing import PyMacaronTestCase

# name -> module, imported when the name is first asked for (PEP 562): ``import pymacaron``
# costs nothing of Flask, so what runs before a worker serves (the image's supervisor,
# ``python -m pymacaron.serve``, granian's master) does not import the server (issue 30:
# cold start); ``from pymacaron import create_app`` imports what building an app needs.
_LAZY = {
    "API": "pymacaron.api",
    "letsgo": "pymacaron.api",
    "ApiPool": "pymacaron.apipool",
    "load_clients": "pymacaron.apipool",
    "create_app": "pymacaron.app",
    "generate_token": "pymacaron.auth",
    "get_token_payload": "pymacaron.auth",
    "get_user_token": "pymacaron.auth",
    "get_userid": "pymacaron.auth",
    "requires_auth": "pymacaron.auth",
    "get_config": "pymacaron.config",
    "PyMacaronException": "pymacaron.exceptions",
    "StartupError": "pymacaron.exceptions",
    "add_error": "pymacaron.exceptions",
    "is_error": "pymacaron.exceptions",
    "get_request_id": "pymacaron.logs",
    "MiddlewarePosition": "pymacaron.server.layers",
    "PyMacaronModel": "pymacaron.spec.models",
    "asynctask": "pymacaron.tasks",
    "PersistConflictError": "pymacaron.persist",
    "key_in": "pymacaron.security",
    "get_scopes": "pymacaron.security",
    "DownstreamUnavailableError": "pymacaron.client",
    "error_to_exception": "pymacaron.client",
    "PyMacaronTestCase": "pymacaron.testing",
}

__all__ = [
    "API",
    "ApiPool",
    "DownstreamUnavailableError",
    "MiddlewarePosition",
    "PersistConflictError",
    "PyMacaronException",
    "PyMacaronModel",
    "PyMacaronTestCase",
    "StartupError",
    "add_error",
    "asynctask",
    "create_app",
    "error_to_exception",
    "generate_token",
    "get_config",
    "get_request_id",
    "get_scopes",
    "get_token_payload",
    "get_user_token",
    "get_userid",
    "is_error",
    "key_in",
    "letsgo",
    "load_clients",
    "requires_auth",
    "run",
]


def __getattr__(name: str) -> object:
    import importlib

    if name == "run":  # pymacaron.run(app): the package is callable (run/__init__.py)
        return importlib.import_module("pymacaron.run")
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pymacaron' has no attribute {name!r}")
