"""The errors of calling another service; each becomes the uniform JSON error reply.

Declared in :mod:`pymacaron.exceptions`, the one list of the codes pymacaron returns.
"""

from __future__ import annotations

from ..exceptions import (
    DownstreamBadResponseError,
    DownstreamError,
    DownstreamTimeoutError,
    DownstreamUnavailableError,
)

__all__ = [
    "DownstreamUnavailableError",
    "DownstreamTimeoutError",
    "DownstreamBadResponseError",
    "DownstreamError",
]
