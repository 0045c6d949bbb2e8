"""Response headers every API reply carries, and CORS (closed unless pym-config opens it).

``cors_origins: [https://app.example.com]`` in pym-config lets those browser origins call
the service (``["*"]`` lets any). With no ``cors_origins`` no CORS header is ever sent, so
browsers refuse cross-origin calls: the safe default for an API.
"""

from __future__ import annotations

import orjson

from ..exceptions import error_body

__all__ = ["SECURITY_HEADERS", "CorsMiddleware"]

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


class CorsMiddleware:
    """WSGI middleware answering preflights and tagging replies for allowed origins."""

    def __init__(self, app, origins: list[str]):
        self.app = app
        self.any_origin = "*" in origins
        self.origins = frozenset(o.rstrip("/") for o in origins if o != "*")

    def allowed(self, origin: str) -> bool:
        return self.any_origin or origin in self.origins

    def __call__(self, environ, start_response):
        origin = environ.get("HTTP_ORIGIN")
        if not origin:
            return self.app(environ, start_response)
        allowed = self.allowed(origin)
        preflight = (
            environ.get("REQUEST_METHOD") == "OPTIONS"
            and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
        )
        if preflight:
            return self._preflight(environ, start_response, origin, allowed)
        if not allowed:
            return self.app(environ, start_response)
        cors = [
            ("Access-Control-Allow-Origin", origin),
            ("Vary", "Origin"),
            ("Access-Control-Expose-Headers", "X-Request-ID"),
        ]

        def _start_response(status, headers, exc_info=None):
            headers.extend(cors)
            return start_response(status, headers, exc_info)

        return self.app(environ, _start_response)

    def _preflight(self, environ, start_response, origin: str, allowed: bool):
        if not allowed:
            body = orjson.dumps(
                error_body(
                    403,
                    "CORS_ORIGIN_NOT_ALLOWED",
                    f"origin {origin[:100]!r} may not call this service",
                )
            )
            start_response(
                "403 Forbidden",
                [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(body))),
                    ("Vary", "Origin"),
                ],
            )
            return [body]
        requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "")
        headers = [h.strip() for h in requested.split(",") if h.strip().lower() in ALLOWED_HEADERS]
        start_response(
            "204 No Content",
            [
                ("Access-Control-Allow-Origin", origin),
                ("Access-Control-Allow-Methods", ALLOWED_METHODS),
                ("Access-Control-Allow-Headers", ", ".join(headers) or "Content-Type"),
                ("Access-Control-Max-Age", MAX_AGE),
                ("Vary", "Origin"),
            ],
        )
        return [b""]
