"""pymacaron: spec-first Python microservices.

Write Swagger 2.0 specs in ``apis/`` and plain Python handlers; pymacaron serves them
with request and response validation, typed models, uniform JSON errors and JWT auth.
"""

from __future__ import annotations

from . import aliases

aliases.install()

from .api import API  # noqa: E402
from .apipool import ApiPool  # noqa: E402
from .cli import letsgo  # noqa: E402
from .config import get_config  # noqa: E402
from .exceptions import PyMacaronException, add_error, is_error  # noqa: E402

__version__ = "3.1.0"

__all__ = [
    "API",
    "ApiPool",
    "PyMacaronException",
    "add_error",
    "get_config",
    "is_error",
    "letsgo",
    "load_clients",
]


def load_clients(path: str | None = None, apis: list[str] | None = None) -> None:
    """Load specs to call other services through ``ApiPool.<api>.client`` (no server needed)."""
    from flask import Flask

    API(Flask("pymacaron-clients")).load_clients(path=path, apis=apis)
