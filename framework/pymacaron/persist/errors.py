"""The errors a persisted model raises; each becomes the uniform JSON error reply.

Declared in :mod:`pymacaron.exceptions`, the one list of the codes pymacaron returns
(but for :data:`PersistValueError`, a subclass of one of them).
"""

from __future__ import annotations

from ..exceptions import (
    PersistConflictError,
    PersistInvalidItemError,
    PersistPageTokenError,
    PersistUnavailableError,
    code_to_class,
)

__all__ = [
    "PersistConflictError",
    "PersistUnavailableError",
    "PersistInvalidItemError",
    "PersistValueError",
    "PersistPageTokenError",
]

# A value the store cannot hold (a number beyond DynamoDB's range, 38+ digits): it comes
# from the client's input (a body's number), so a 400 naming the field -- never a 500.
# A PersistInvalidItemError too, for the handlers that catch that.
PersistValueError = type(
    "PersistValueError",
    (PersistInvalidItemError,),
    {"code": "PERSIST_VALUE_OUT_OF_RANGE", "status": 400, "__module__": __name__},
)
code_to_class[PersistValueError.code] = PersistValueError
