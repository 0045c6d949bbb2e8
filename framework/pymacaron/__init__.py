"""pymacaron: spec-first Python microservices.

Write Swagger 2.0 / OpenAPI 3 specs in ``apis/`` and plain Python handlers; pymacaron serves
them with request and response validation, typed models, uniform JSON errors and JWT auth.
A service's server.py::

    from pymacaron import create_app, run

    app = create_app(__file__)

    if __name__ == "__main__":
        run(app)

(or the v1 ``API``/``letsgo``). What a service writes is importable from here; the names
of the heavier parts (tasks, persistence, the client's errors) load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import aliases

aliases.install()

if TYPE_CHECKING:  # to a type checker, `run` is what calling the package calls
    from .run import run
else:
    from . import run  # noqa: E402  (pymacaron.run(app): the package is callable)
from .api import API, letsgo  # noqa: E402
from .apipool import ApiPool, load_clients  # noqa: E402
from .app import create_app  # noqa: E402
from .auth import (  # noqa: E402
    generate_token,
    get_token_payload,
    get_user_token,
    get_userid,
    requires_auth,
)
from .config import get_config  # noqa: E402
from .exceptions import PyMacaronException, StartupError, add_error, is_error  # noqa: E402
from .logs import get_request_id  # noqa: E402
from .server.layers import MiddlewarePosition  # noqa: E402
from .spec.models import PyMacaronModel  # noqa: E402

__version__ = "3.1.0"

if TYPE_CHECKING:  # the lazy names below, as a type checker sees them
    from .client import DownstreamUnavailableError, error_to_exception
    from .persist import PersistConflictError
    from .security import get_scopes, key_in
    from .tasks import asynctask
    from .testing import PyMacaronTestCase

# name -> module, imported when the name is first asked for (PEP 562)
_LAZY = {
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
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pymacaron' has no attribute {name!r}")
