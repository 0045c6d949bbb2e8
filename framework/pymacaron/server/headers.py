"""The response headers of every reply, and CORS's (the layers that add them: layers.py).

``cors_origins: [https://app.example.com]`` in pym-config lets those browser origins call
the service (``["*"]`` lets any). With no ``cors_origins`` no CORS header is ever sent, so
browsers refuse cross-origin calls: the safe default for an API.
"""

from __future__ import annotations

__all__ = ["SECURITY_HEADERS", "ALLOWED_METHODS", "ALLOWED_HEADERS", "MAX_AGE"]

# Suitable for a JSON API (OWASP REST security cheat sheet): nothing to sniff, frame or load.
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("Referrer-Policy", "no-referrer"),
)

ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"
ALLOWED_HEADERS = {"authorization", "content-type", "x-request-id", "accept"}
MAX_AGE = "600"
