"""Specs as data: loading and checking, caches, JSON Schema validation and models.

No Flask here and no I/O at request time (like Flask's ``sansio``): ``server/`` and
``client/`` both build on it.
"""

from .load import HTTP_METHODS, ApiSpec, OperationSpec, load_spec

__all__ = ["HTTP_METHODS", "ApiSpec", "OperationSpec", "load_spec"]
