"""pymacaron: spec-first Python microservices.

Write Swagger 2.0 specs in ``apis/`` and plain Python handlers; pymacaron serves them
with request and response validation, typed models, uniform JSON errors and JWT auth.
A service's server.py: ``app = create_app(__file__)`` (or the v1 ``API``/``letsgo``).
"""

from __future__ import annotations

from . import aliases

aliases.install()

from .api import API, letsgo  # noqa: E402
from .apipool import ApiPool, load_clients  # noqa: E402
from .app import create_app  # noqa: E402
from .config import get_config  # noqa: E402
from .exceptions import PyMacaronException, add_error, is_error  # noqa: E402

__version__ = "3.1.0"

__all__ = [
    "API",
    "ApiPool",
    "PyMacaronException",
    "add_error",
    "create_app",
    "get_config",
    "is_error",
    "letsgo",
    "load_clients",
]
