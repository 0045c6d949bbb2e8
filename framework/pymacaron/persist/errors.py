"""The errors a persisted model raises; each becomes the uniform JSON error reply."""

from __future__ import annotations

from ..exceptions import add_error

__all__ = [
    "PersistConflictError",
    "PersistUnavailableError",
    "PersistInvalidItemError",
    "PersistPageTokenError",
]

# save()/delete() of an item that changed since it was loaded (or a new item whose key exists).
PersistConflictError = add_error("PersistConflictError", "PERSIST_CONFLICT", 409)
# The store cannot be reached, is throttling, or the table does not exist: retry later.
PersistUnavailableError = add_error("PersistUnavailableError", "PERSIST_UNAVAILABLE", 503)
# A stored row (or a model being saved) that the definition does not accept: a server bug.
PersistInvalidItemError = add_error("PersistInvalidItemError", "PERSIST_INVALID_ITEM", 500)
# A pagination token that this table did not hand out (a client mistake).
PersistPageTokenError = add_error("PersistPageTokenError", "INVALID_PAGE_TOKEN", 400)
