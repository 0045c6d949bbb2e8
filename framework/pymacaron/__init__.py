"""pymacaron: spec-first Python microservices.

Write Swagger 2.0 specs in ``apis/`` and plain Python handlers; pymacaron serves them
with request and response validation, typed models, uniform JSON errors and JWT auth.
"""

from __future__ import annotations

from .api import API
from .apipool import ApiPool
from .cli import letsgo
from .config import get_config
from .exceptions import PyMacaronException, add_error, is_error

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
