"""The errors of calling another service; each becomes the uniform JSON error reply."""

from __future__ import annotations

from ..exceptions import add_error

__all__ = [
    "DownstreamUnavailableError",
    "DownstreamTimeoutError",
    "DownstreamBadResponseError",
    "DownstreamError",
]

# The service could not be reached or the connection failed (after the retries allowed).
DownstreamUnavailableError = add_error("DownstreamUnavailableError", "DOWNSTREAM_UNAVAILABLE", 503)
# It did not answer in time.
DownstreamTimeoutError = add_error("DownstreamTimeoutError", "DOWNSTREAM_TIMEOUT", 504)
# Its reply does not match its spec.
DownstreamBadResponseError = add_error("DownstreamBadResponseError", "DOWNSTREAM_BAD_RESPONSE", 502)
# An error status without a pymacaron error body (its own status kept when >= 400).
DownstreamError = add_error("DownstreamError", "DOWNSTREAM_ERROR", 502)
