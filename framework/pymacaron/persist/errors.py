"""The errors a persisted model raises; each becomes the uniform JSON error reply."""

from __future__ import annotations

from ..exceptions import add_error, code_to_class

__all__ = [
    "PersistConflictError",
    "PersistUnavailableError",
    "PersistInvalidItemError",
    "PersistValueError",
    "PersistPageTokenError",
]

# save()/delete() of an item that changed since it was loaded (or a new item whose key exists).
PersistConflictError = add_error("PersistConflictError", "PERSIST_CONFLICT", 409)
# The store cannot be reached, is throttling, or the table does not exist: retry later.
PersistUnavailableError = add_error("PersistUnavailableError", "PERSIST_UNAVAILABLE", 503)
# A stored row (or a model being saved) that the definition does not accept: a server bug.
PersistInvalidItemError = add_error("PersistInvalidItemError", "PERSIST_INVALID_ITEM", 500)
# A value the store cannot hold (a number beyond DynamoDB's range, 38+ digits): it comes
# from the client's input (a body's number), so a 400 naming the field -- never a 500.
# A PersistInvalidItemError too, for the handlers that catch that.
PersistValueError = type(
    "PersistValueError",
    (PersistInvalidItemError,),
    {"code": "PERSIST_VALUE_OUT_OF_RANGE", "status": 400, "__module__": __name__},
)
code_to_class[PersistValueError.code] = PersistValueError
# A pagination token that this table did not hand out (a client mistake).
PersistPageTokenError = add_error("PersistPageTokenError", "INVALID_PAGE_TOKEN", 400)
