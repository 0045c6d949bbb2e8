"""The one small interface every store implements, and where a model finds its store.

A backend works on plain JSON dicts (the model's ``to_json()``, numbers possibly as
``Decimal``) and owns the item's version attribute (``spec.version_attribute``):

- ``get(spec, key) -> dict | None``: the item with its version attribute, or None;
- ``put(spec, item, expected) -> int``: write it if the stored version is ``expected``
  (``None``: only if no item has this key), return the new version, else raise
  :class:`PersistConflictError`;
- ``delete(spec, key, expected) -> bool``: the same condition; False when nothing was there;
- ``query(spec, value, **options) -> (items, next_token)``, the options those of
  :class:`QueryOptions` (index, sort, limit, token, descending);
- ``ensure_table(spec) -> bool``: create the table if missing (local stores only).

Unreachable stores raise :class:`PersistUnavailableError`. ``x-persist: {backend:
pkg.Class}`` names another implementation (instantiated once per process, no arguments).
"""

from __future__ import annotations

import importlib
import os
import threading
from dataclasses import dataclass

from ..spec.persist import PersistSpec

__all__ = ["Backend", "QueryOptions", "backend_for", "reset_backends"]

SORT_OPERATORS = ("=", "<", "<=", ">", ">=", "between", "begins_with")


@dataclass(frozen=True)
class QueryOptions:
    """How ``Model.query`` pages: the keywords a backend's ``query`` takes, their defaults
    and their check."""

    index: str | None = None  # the x-persist index to query instead of the table's key
    sort: tuple | None = None  # a condition on the sort key, ("op", value...)
    limit: int = 50  # items at most per page, 1 to 1000
    token: str | None = None  # the previous page's next_token
    descending: bool = False

    def __post_init__(self) -> None:
        limit = self.limit
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 1000:
            raise ValueError(f"query(limit=...) expects an integer from 1 to 1000, got {limit!r}")


class Backend:
    """Base class of the stores behind ``x-persist`` (see the module docstring)."""

    def get(self, spec: PersistSpec, key: dict) -> dict | None:
        raise NotImplementedError

    def put(self, spec: PersistSpec, item: dict, expected: int | None) -> int:
        raise NotImplementedError

    def delete(self, spec: PersistSpec, key: dict, expected: int | None) -> bool:
        raise NotImplementedError

    def query(self, spec: PersistSpec, value, **options) -> tuple[list[dict], str | None]:
        """One page of the items whose key (or ``options["index"]``'s) is ``value``; the
        options are :class:`QueryOptions`' fields, as keywords."""
        raise NotImplementedError

    def ensure_table(self, spec: PersistSpec) -> bool:
        return False


_lock = threading.Lock()
_backends: dict[tuple[int, str], Backend] = {}


def backend_for(spec: PersistSpec) -> Backend:
    """The process's backend for a persisted definition (made on first use, per process)."""
    name = spec.backend or "dynamodb"
    cache_key = (os.getpid(), name)
    backend = _backends.get(cache_key)
    if backend is not None:
        return backend
    with _lock:
        backend = _backends.get(cache_key)
        if backend is None:
            if spec.backend is None:
                from .dynamodb import DynamoDBBackend  # boto3: only when a service uses it

                backend = DynamoDBBackend()
            else:
                module, _, attr = spec.backend.rpartition(".")
                cls = getattr(importlib.import_module(module), attr)
                backend = cls()
            _backends[cache_key] = backend
    return backend


def reset_backends() -> None:
    """Forget the backends (a new PYM_DYNAMODB_URL is read on next use; tests)."""
    with _lock:
        _backends.clear()
